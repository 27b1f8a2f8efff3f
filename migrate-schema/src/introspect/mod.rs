//! Reading a schema back from a database's own catalog, one module per
//! database.

pub mod mysql;
pub mod postgres;
pub mod sqlite;
pub mod text;
