//! From a loaded directory to tokens: the `Runner` constant, or the errors.

use proc_macro2::TokenStream;
use quote::quote;

use migrate_core::{LoadError, MigrationDir, Revision};

use crate::input::Input;

/// Loads, validates and generates.
pub fn expand(input: &Input) -> TokenStream {
    match migrate_core::load_dir(&input.resolved(), &input.shown_as()) {
        Ok(dir) => runner(&dir),
        Err(errors) => compile_errors(input, &errors),
    }
}

/// One `compile_error!` per problem, all at the literal's span, inside an
/// expression so that the invocation still type-checks as a `Runner`.
fn compile_errors(input: &Input, errors: &[LoadError]) -> TokenStream {
    let messages = errors.iter().map(|error| {
        let mut message = error.to_string();
        if let LoadError::DirectoryUnreadable { .. } = error {
            // The usual cause is a path written relative to the workspace
            // root or the shell's directory: show where the macro looked.
            message.push_str(&format!(
                " (a relative path starts at the directory of the crate's Cargo.toml: \
                 the macro looked in `{}`)",
                input.resolved().display()
            ));
        }
        syn::Error::new(input.literal.span(), message).to_compile_error()
    });
    quote! {
        {
            #(#messages)*
            ::migrate_runtime::Runner::from_static(&[])
        }
    }
}

fn runner(dir: &MigrationDir) -> TokenStream {
    // `include_bytes!` of every file makes Cargo rebuild when one changes.
    let tracked = dir.files.iter().map(|path| {
        let path = path.to_string_lossy();
        quote! { const _: &[u8] = include_bytes!(#path); }
    });
    let count = dir.revisions.len();
    let revisions = dir.revisions.iter().map(revision);
    quote! {
        {
            #(#tracked)*
            static REVISIONS: [::migrate_runtime::__private::Revision; #count] = [#(#revisions),*];
            ::migrate_runtime::Runner::from_static(&REVISIONS)
        }
    }
}

fn revision(revision: &Revision) -> TokenStream {
    let id = revision.id.as_ref();
    let parents = list(&revision.parents);
    let depends_on = list(&revision.depends_on);
    let branch_labels = list(&revision.branch_labels);
    let message = revision.message.as_ref();
    let created = optional(revision.created.as_deref());
    let up_sql = revision.up_sql.as_ref();
    let down_sql = optional(revision.down_sql.as_deref());
    let transactional = revision.transactional;
    let checksum = revision.checksum;
    let file = revision.file.as_ref();
    quote! {
        ::migrate_runtime::__private::Revision {
            id: ::migrate_runtime::__private::Cow::Borrowed(#id),
            parents: #parents,
            depends_on: #depends_on,
            branch_labels: #branch_labels,
            message: ::migrate_runtime::__private::Cow::Borrowed(#message),
            created: #created,
            up_sql: ::migrate_runtime::__private::Cow::Borrowed(#up_sql),
            down_sql: #down_sql,
            transactional: #transactional,
            checksum: [#(#checksum),*],
            file: ::migrate_runtime::__private::Cow::Borrowed(#file),
        }
    }
}

fn list(items: &[migrate_core::Text]) -> TokenStream {
    let items = items.iter().map(|item| item.as_ref());
    quote! {
        ::migrate_runtime::__private::Cow::Borrowed(&[
            #(::migrate_runtime::__private::Cow::Borrowed(#items)),*
        ])
    }
}

fn optional(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => {
            quote! { ::core::option::Option::Some(::migrate_runtime::__private::Cow::Borrowed(#text)) }
        }
        None => quote! { ::core::option::Option::None },
    }
}
