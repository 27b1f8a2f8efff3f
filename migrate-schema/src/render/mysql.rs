//! MySQL and MariaDB.

use crate::diff::SchemaDiff;
use crate::error::SchemaError;
use crate::render::Step;

pub fn render(_diff: &SchemaDiff) -> Result<Vec<Step>, SchemaError> {
    Err(SchemaError::new(
        "generating MySQL statements is not supported yet",
    ))
}
