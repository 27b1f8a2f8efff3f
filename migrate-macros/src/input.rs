//! The macro's input: the migrations directory as a string literal (or
//! nothing for the `migrations` of the crate's `migrate.toml`), then
//! optionally `lint = "<dialect>"`.

use std::path::{Path, PathBuf};

use migrate_core::Dialect;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token};

/// The parsed invocation.
pub struct Input {
    /// The literal, for error spans and messages; `None` for
    /// `embed_migrations!()`.
    pub literal: Option<LitStr>,
    /// `lint = "postgres"`: the dialect to lint for, overriding
    /// migrate.toml's `dialect`; with the literal, for error spans.
    pub lint: Option<(Dialect, LitStr)>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut parsed = Input {
            literal: None,
            lint: None,
        };
        if input.is_empty() {
            return Ok(parsed);
        }
        if !input.peek(LitStr) && !starts_lint(input) {
            // syn's own "expected string literal" does not say why a constant
            // or a `concat!` will not do.
            return Err(input.error(
                "expected the migrations directory as a string literal, e.g. \
                 `embed_migrations!(\"migrations\")`: the macro reads the directory while the \
                 crate compiles, before any constant or macro in it has a value",
            ));
        }
        if input.peek(LitStr) {
            parsed.literal = Some(input.parse()?);
            if input.is_empty() {
                return Ok(parsed);
            }
            input.parse::<Token![,]>().map_err(|_| {
                input.error(
                    "expected only the migrations directory, as one string literal, \
                     then optionally `, lint = \"postgres\"`",
                )
            })?;
            if input.is_empty() {
                return Ok(parsed);
            }
        }
        parsed.lint = Some(parse_lint(input)?);
        let _ = input.parse::<Option<Token![,]>>()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected input after `lint = \"...\"`: the directory comes first, \
                 `embed_migrations!(\"migrations\", lint = \"postgres\")`",
            ));
        }
        Ok(parsed)
    }
}

/// Whether the input starts `lint =` (an identifier alone, such as a
/// constant's name, is a directory not written as a literal).
fn starts_lint(input: ParseStream<'_>) -> bool {
    let fork = input.fork();
    fork.parse::<Ident>().is_ok_and(|key| key == "lint") && fork.peek(Token![=])
}

/// `lint = "postgres"`.
fn parse_lint(input: ParseStream<'_>) -> syn::Result<(Dialect, LitStr)> {
    let expected = "expected `lint = \"postgres\"` (or \"mysql\", \"sqlite\"), the only argument \
                    besides the directory: the dialect whose lint rules run at compile time";
    let key: Ident = input.parse().map_err(|_| input.error(expected))?;
    if key != "lint" {
        return Err(syn::Error::new(key.span(), expected));
    }
    input
        .parse::<Token![=]>()
        .map_err(|_| input.error(expected))?;
    let value: LitStr = input.parse().map_err(|_| input.error(expected))?;
    match Dialect::from_name(&value.value()) {
        Some(dialect) => Ok((dialect, value)),
        None => Err(syn::Error::new(
            value.span(),
            Dialect::unknown_name_message(&value.value()),
        )),
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
