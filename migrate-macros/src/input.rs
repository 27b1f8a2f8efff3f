//! The macro's input: one string literal, the migrations directory.

use std::path::PathBuf;

use syn::parse::{Parse, ParseStream};
use syn::LitStr;

/// The parsed invocation.
pub struct Input {
    /// The literal, for error spans and messages.
    pub literal: LitStr,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(input.error(
                "expected the migrations directory, e.g. `embed_migrations!(\"migrations\")`",
            ));
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
        Ok(Input { literal })
    }
}

impl Input {
    /// The directory as the user wrote it, for messages.
    pub fn shown_as(&self) -> String {
        self.literal.value()
    }

    /// The directory on disk: relative paths are taken from the crate's
    /// manifest directory. `MIGRATE_MANIFEST_DIR_OVERRIDE` replaces it for
    /// the compile-fail tests, whose generated crate lives under `target/`.
    pub fn resolved(&self) -> PathBuf {
        let base = std::env::var_os("MIGRATE_MANIFEST_DIR_OVERRIDE")
            .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR"))
            .map(PathBuf::from)
            .unwrap_or_default();
        base.join(self.literal.value())
    }
}
