//! The macro's input: the migrations directory as a string literal, or
//! nothing for the `migrations` of the crate's `migrate.toml`.

use std::path::{Path, PathBuf};

use syn::parse::{Parse, ParseStream};
use syn::LitStr;

/// The parsed invocation.
pub struct Input {
    /// The literal, for error spans and messages; `None` for
    /// `embed_migrations!()`.
    pub literal: Option<LitStr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Ok(Input { literal: None });
        }
        if !input.peek(LitStr) {
            // syn's own "expected string literal" does not say why a constant
            // or a `concat!` will not do.
            return Err(input.error(
                "expected the migrations directory as a string literal, e.g. \
                 `embed_migrations!(\"migrations\")`: the macro reads the directory while the \
                 crate compiles, before any constant or macro in it has a value",
            ));
        }
        let literal: LitStr = input.parse()?;
        if !input.is_empty() {
            return Err(
                input.error("expected only the migrations directory, as one string literal")
            );
        }
        Ok(Input {
            literal: Some(literal),
        })
    }
}

impl Input {
    /// Where errors point: the literal, or the whole invocation.
    pub fn span(&self) -> proc_macro2::Span {
        self.literal
            .as_ref()
            .map_or_else(proc_macro2::Span::call_site, LitStr::span)
    }

    /// The directory as the user wrote it (in the macro or in
    /// migrate.toml), for messages.
    pub fn shown_as(&self, configured: Option<&str>) -> String {
        match &self.literal {
            Some(literal) => literal.value(),
            None => configured.unwrap_or("migrations").to_string(),
        }
    }
}

/// The crate's directory: relative paths are taken from it.
/// `MIGRATE_MANIFEST_DIR_OVERRIDE` replaces it for the compile-fail tests,
/// whose generated crate lives under `target/`.
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("MIGRATE_MANIFEST_DIR_OVERRIDE")
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A directory as written, resolved from the crate's directory.
pub fn resolved(base: &Path, shown: &str) -> PathBuf {
    base.join(shown)
}
