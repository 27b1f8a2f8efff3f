//! The declared schema of a project (`schema.sql`) against the schema its
//! migrations produce: both read back from a database's own catalog, the
//! difference between the two catalogs, and the DDL (up and down) that
//! turns one into the other, per dialect.
//!
//! Used by `migrate revision --autogenerate`, `migrate check --schema` and
//! `migrate schema dump`. The runtime and the macro never compile it.

pub mod declared;
pub mod describe;
pub mod diff;
pub mod error;
pub mod introspect;
pub mod model;
pub mod renames;
pub mod render;
pub mod scratch;

pub use declared::{parse_declared, DeclaredSchema, DeclaredStatement};
pub use diff::{diff, SchemaDiff, TableDiff};
pub use error::SchemaError;
pub use model::Schema;
pub use renames::Renames;
pub use render::{create_all, plan, section_text, Migration, Step};
