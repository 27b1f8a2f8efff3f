//! Renames, as `schema.sql` declares them: never guessed from a drop and an
//! add that look alike, since a wrong guess moves data into the wrong column.

/// The declared renames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Renames {
    /// `(old, new)` table names.
    pub tables: Vec<(String, String)>,
    /// `(table, old, new)` column names; `table` is the table's new name.
    pub columns: Vec<(String, String, String)>,
}

impl Renames {
    /// The renames that undo these (for a down section).
    pub fn inverted(&self) -> Renames {
        Renames {
            tables: self
                .tables
                .iter()
                .map(|(old, new)| (new.clone(), old.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(table, old, new)| {
                    let old_table = self
                        .tables
                        .iter()
                        .find(|(_, renamed)| renamed == table)
                        .map_or(table.clone(), |(was, _)| was.clone());
                    (old_table, new.clone(), old.clone())
                })
                .collect(),
        }
    }
}
