//! The compile-time lint: migrate-lint's rules (the ones `migrate check
//! --lint` runs) over the embedded revisions, for the dialect of the
//! macro's `lint = "..."` or of migrate.toml's `dialect`. An error finding
//! (certain to fail) is a compile error; a warning finding is a compiler
//! warning. Stable Rust gives a proc macro no way to emit a warning, so
//! each one is the use of a `#[deprecated]` constant whose note is the
//! finding: rustc prints it as a warning at the macro's input, and
//! `#[allow(deprecated)]` or `-D warnings` treat it as users expect.
//!
//! A statement the SQL parser cannot read ("not checked") gives nothing
//! here: there is no opt-out for it, so a warning would stay forever and
//! break every `-D warnings` build. `migrate check --lint` lists them.

use proc_macro2::TokenStream;

use migrate_core::MigrationDir;

use crate::config::Settings;
use crate::input::Input;

/// The warnings to put in the expansion, or the compile errors; nothing
/// when no dialect is named.
#[cfg(feature = "lint")]
pub fn check(
    dir: &MigrationDir,
    settings: &Settings,
    input: &Input,
) -> Result<TokenStream, Vec<syn::Error>> {
    use migrate_core::config::key_line;
    use migrate_lint::{lint_revision, parse_allow_list, Severity};

    // The macro's argument wins: it is the more specific choice.
    let named = input.lint.as_ref().map(|(dialect, _)| *dialect);
    let Some(dialect) = named.or(settings.config.dialect()) else {
        return Ok(TokenStream::new());
    };
    let span = input.span();
    let error = |message: String| syn::Error::new(span, message);
    let allow = settings
        .config
        .lint
        .as_ref()
        .map_or(&[][..], |lint| &lint.allow);
    let project_allow = parse_allow_list(allow).map_err(|message| {
        let at = key_line(&settings.text, "allow").map_or(String::new(), |line| format!(":{line}"));
        vec![error(format!(
            "{}{at}: [lint] allow: {message}",
            migrate_core::CONFIG_FILE
        ))]
    })?;

    let mut errors = Vec::new();
    let mut warnings = TokenStream::new();
    for (revision, path) in dir.revisions.iter().zip(&dir.files) {
        let source = match std::fs::read_to_string(path) {
            Ok(source) => source,
            Err(err) => {
                errors.push(error(format!("cannot read {}: {err}", revision.file)));
                continue;
            }
        };
        match lint_revision(revision, &source, dialect, &project_allow) {
            Ok(report) => {
                for finding in &report.findings {
                    match finding.severity() {
                        // Certain to fail: the rule's explanation says how
                        // to fix it, not how to silence it.
                        Severity::Error => errors.push(error(finding.to_string())),
                        Severity::Warning => warnings.extend(warning(
                            &format!(
                                "{finding} (if it is intended, write `-- migrate:allow {}` on \
                                 the line above the statement)",
                                finding.rule.id()
                            ),
                            span,
                        )),
                    }
                }
            }
            Err(mistakes) => errors.extend(mistakes.iter().map(|m| error(m.to_string()))),
        }
    }
    if errors.is_empty() {
        Ok(warnings)
    } else {
        Err(errors)
    }
}

/// Without the `lint` feature there is no SQL parser: `lint = "..."`
/// asked for the lint explicitly, so it is an error; migrate.toml's
/// `dialect` is also the CLI's setting, so it alone does not break the
/// build.
#[cfg(not(feature = "lint"))]
pub fn check(
    _dir: &MigrationDir,
    _settings: &Settings,
    input: &Input,
) -> Result<TokenStream, Vec<syn::Error>> {
    match &input.lint {
        Some((_, literal)) => Err(vec![syn::Error::new(
            literal.span(),
            "`lint = \"...\"` needs the `lint` feature of migrate-runtime, which compiles the \
             SQL parser into the build: `migrate-runtime = { version = \"0.1\", features = \
             [\"lint\"] }` in Cargo.toml",
        )]),
        None => Ok(TokenStream::new()),
    }
}

/// A compiler warning reading `note`, at `span`: the use of a deprecated
/// constant, in an anonymous constant of its own.
#[cfg(feature = "lint")]
fn warning(note: &str, span: proc_macro2::Span) -> TokenStream {
    quote::quote_spanned! {span=>
        const _: () = {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const migration_lint: () = ();
            migration_lint
        };
    }
}
