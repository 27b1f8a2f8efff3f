//! From a loaded directory to tokens: the `Runner` constant, or the errors.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use migrate_core::{LoadError, MigrationDir, ProjectConfig, Revision, TransactionModeSetting};

use crate::config::{self, Settings};
use crate::input::{self, Input};
use crate::lint;

/// Reads the crate's migrate.toml, loads, validates and generates.
pub fn expand(input: &Input) -> TokenStream {
    let base = input::manifest_dir();
    let settings = match config::read(&base) {
        Ok(settings) => settings,
        Err(message) => return compile_errors(at(input, vec![message])),
    };
    let shown = input.shown_as(settings.config.migrations.as_deref());
    let dir = input::resolved(&base, &shown);
    match migrate_core::load_dir(&dir, &shown) {
        Ok(loaded) => match lint::check(&loaded, &settings, input) {
            Ok(warnings) => runner(&loaded, &settings, warnings),
            Err(errors) => compile_errors(errors),
        },
        Err(errors) => {
            let messages = errors
                .iter()
                .map(|error| {
                    let mut message = error.to_string();
                    if let LoadError::DirectoryUnreadable { .. } = error {
                        // The usual cause is a path written relative to the
                        // workspace root or the shell's directory: show
                        // where the macro looked.
                        message.push_str(&format!(
                            " (a relative path starts at the directory of the crate's Cargo.toml: \
                             the macro looked in `{}`)",
                            dir.display()
                        ));
                    }
                    message
                })
                .collect();
            compile_errors(at(input, messages))
        }
    }
}

/// The messages as errors at the literal's span.
fn at(input: &Input, messages: Vec<String>) -> Vec<syn::Error> {
    messages
        .into_iter()
        .map(|message| syn::Error::new(input.span(), message))
        .collect()
}

/// One `compile_error!` per problem, inside an expression so that the
/// invocation still type-checks as a `Runner`.
fn compile_errors(errors: Vec<syn::Error>) -> TokenStream {
    let messages = errors.iter().map(syn::Error::to_compile_error);
    quote! {
        {
            #(#messages)*
            ::migrate_runtime::Runner::from_static(&[])
        }
    }
}

/// The runner's expression; `warnings` (the lint's, see [`lint`]) are
/// items placed in it.
fn runner(dir: &MigrationDir, settings: &Settings, warnings: TokenStream) -> TokenStream {
    // `include_bytes!` of every file makes Cargo rebuild when one changes
    // (migrate.toml too). One item for all of them: a thousand items cost
    // rustc more.
    let paths = dir
        .files
        .iter()
        .chain(&settings.file)
        .map(|path| path.to_string_lossy());
    let file_count = dir.files.len() + usize::from(settings.file.is_some());
    let tracked = quote! {
        const _: [&[u8]; #file_count] = [#(include_bytes!(#paths)),*];
    };
    if dir.revisions.is_empty() {
        let make_empty = constructor(&settings.config, quote! { &[] });
        return quote! {
            {
                #tracked
                #warnings
                #make_empty
            }
        };
    }
    let mut lists = Lists::default();
    let revisions: Vec<TokenStream> = dir
        .revisions
        .iter()
        .map(|r| revision(r, &mut lists))
        .collect();
    let count = revisions.len();
    let list_items = lists.items;
    let make = constructor(&settings.config, quote! { &REVISIONS });
    // Hashed here, once per build, rather than at every boot: a no-op boot
    // compares it with the digest stored beside the history table.
    let digest =
        proc_macro2::Literal::byte_string(&migrate_core::digest::applied_digest(&dir.revisions));
    // The shape of this expansion is chosen for compile time (see the
    // expand bench in benches/): the table is one big static initialiser,
    // and rustc's type checking of it grows faster than linearly with the
    // number of generic constructor calls (`Cow::Borrowed`), temporaries
    // and `&[...]` borrows in it. So each revision is one call of a
    // non-generic `const fn` on a struct of plain `&str`s, and every
    // non-empty list is a `const` item of its own. Compared with one
    // `Revision { .. }` expression per revision, a `cargo check` after
    // editing one of 1,000 migrations went from 1.5 s to 0.6 s, and of
    // 5,000 from 10.8 s to 3.0 s.
    quote! {
        {
            use ::migrate_runtime::__private::{Cow, Revision};

            #tracked
            #warnings

            const EMPTY: &[Cow<'static, str>] = &[];
            #list_items

            const fn optional(present: bool, text: &'static str)
                -> ::core::option::Option<Cow<'static, str>>
            {
                if present {
                    ::core::option::Option::Some(Cow::Borrowed(text))
                } else {
                    ::core::option::Option::None
                }
            }

            // Plain fields, so that building one costs rustc no inference;
            // a struct rather than fifteen arguments keeps clippy quiet in
            // the user's crate. The optional texts are a flag and a `&str`,
            // not `Option<&str>`: each `Option::Some(..)` in the table cost
            // rustc about 35 KB of memory (25,000 files: 2.4 GB -> 1.5 GB).
            struct Entry {
                id: &'static str,
                parents: &'static [Cow<'static, str>],
                depends_on: &'static [Cow<'static, str>],
                branch_labels: &'static [Cow<'static, str>],
                message: &'static str,
                has_created: bool,
                created: &'static str,
                up_sql: &'static str,
                has_down_sql: bool,
                down_sql: &'static str,
                up_line: usize,
                down_line: usize,
                transactional: bool,
                checksum: [u8; 32],
                file: &'static str,
            }

            const fn revision(entry: Entry) -> Revision {
                Revision {
                    id: Cow::Borrowed(entry.id),
                    parents: Cow::Borrowed(entry.parents),
                    depends_on: Cow::Borrowed(entry.depends_on),
                    branch_labels: Cow::Borrowed(entry.branch_labels),
                    message: Cow::Borrowed(entry.message),
                    created: optional(entry.has_created, entry.created),
                    up_sql: Cow::Borrowed(entry.up_sql),
                    down_sql: optional(entry.has_down_sql, entry.down_sql),
                    up_line: entry.up_line,
                    down_line: entry.down_line,
                    transactional: entry.transactional,
                    checksum: entry.checksum,
                    file: Cow::Borrowed(entry.file),
                }
            }

            static REVISIONS: [Revision; #count] = [#(#revisions),*];
            #make.with_applied_digest(*#digest)
        }
    }
}

/// The call that makes the runner: with migrate.toml's settings where it
/// sets any, so that the application and the CLI agree.
fn constructor(config: &ProjectConfig, revisions: TokenStream) -> TokenStream {
    let runner = configured(config, revisions);
    match config.io_timeout {
        Some(seconds) => quote! {
            #runner.with_io_timeout(::core::time::Duration::from_secs(#seconds))
        },
        None => runner,
    }
}

fn configured(config: &ProjectConfig, revisions: TokenStream) -> TokenStream {
    if config.history_table.is_none()
        && config.lock_timeout.is_none()
        && config.transaction_mode.is_none()
    {
        return quote! { ::migrate_runtime::Runner::from_static(#revisions) };
    }
    let table = config
        .history_table
        .as_deref()
        .unwrap_or(migrate_core::config::DEFAULT_HISTORY_TABLE);
    let timeout = config
        .lock_timeout
        .unwrap_or(migrate_core::config::DEFAULT_LOCK_TIMEOUT_SECS);
    let mode = match config.transaction_mode {
        Some(TransactionModeSetting::Single) => quote! { Single },
        Some(TransactionModeSetting::PerRevision) | None => quote! { PerRevision },
    };
    quote! {
        ::migrate_runtime::Runner::from_static_configured(
            #revisions,
            #table,
            ::core::time::Duration::from_secs(#timeout),
            ::migrate_runtime::TransactionMode::#mode,
        )
    }
}

/// The `const` items holding the non-empty id and label lists.
#[derive(Default)]
struct Lists {
    items: TokenStream,
    count: usize,
}

impl Lists {
    /// The name of a `&[Cow<str>]` constant holding `items`.
    fn add(&mut self, items: &[migrate_core::Text]) -> TokenStream {
        if items.is_empty() {
            return quote! { EMPTY };
        }
        let name = format_ident!("LIST_{}", self.count);
        self.count += 1;
        let items = items.iter().map(|item| item.as_ref());
        self.items.extend(quote! {
            const #name: &[Cow<'static, str>] = &[#(Cow::Borrowed(#items)),*];
        });
        quote! { #name }
    }
}

fn revision(revision: &Revision, lists: &mut Lists) -> TokenStream {
    let id = revision.id.as_ref();
    let parents = lists.add(&revision.parents);
    let depends_on = lists.add(&revision.depends_on);
    let branch_labels = lists.add(&revision.branch_labels);
    let message = revision.message.as_ref();
    let has_created = revision.created.is_some();
    let created = revision.created.as_deref().unwrap_or_default();
    let up_sql = revision.up_sql.as_ref();
    let has_down_sql = revision.down_sql.is_some();
    let down_sql = revision.down_sql.as_deref().unwrap_or_default();
    let up_line = proc_macro2::Literal::usize_unsuffixed(revision.up_line);
    let down_line = proc_macro2::Literal::usize_unsuffixed(revision.down_line);
    let transactional = revision.transactional;
    let checksum = proc_macro2::Literal::byte_string(&revision.checksum);
    let file = revision.file.as_ref();
    quote! {
        revision(Entry {
            id: #id,
            parents: #parents,
            depends_on: #depends_on,
            branch_labels: #branch_labels,
            message: #message,
            has_created: #has_created,
            created: #created,
            up_sql: #up_sql,
            has_down_sql: #has_down_sql,
            down_sql: #down_sql,
            up_line: #up_line,
            down_line: #down_line,
            transactional: #transactional,
            checksum: *#checksum,
            file: #file,
        })
    }
}
