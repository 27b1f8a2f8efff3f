//! The differences between two catalogs: what must change to turn `from`
//! (the schema the migrations produce) into `to` (the declared one).

use crate::model::{Check, Column, EnumType, ForeignKey, Index, Key, Schema, Table};
use crate::renames::Renames;

/// Everything that differs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    /// Enum types only `to` has.
    pub enums_created: Vec<EnumType>,
    /// Enum types only `from` has.
    pub enums_dropped: Vec<EnumType>,
    /// Enum types whose labels differ.
    pub enums_changed: Vec<EnumChange>,
    /// Tables only `to` has.
    pub tables_created: Vec<Table>,
    /// Tables only `from` has.
    pub tables_dropped: Vec<Table>,
    /// Declared table renames that apply: `(old, new)`.
    pub tables_renamed: Vec<(String, String)>,
    /// Tables both have (under their new name) that differ.
    pub tables_changed: Vec<TableDiff>,
}

impl SchemaDiff {
    /// Whether the two schemas are the same.
    pub fn is_empty(&self) -> bool {
        self.enums_created.is_empty()
            && self.enums_dropped.is_empty()
            && self.enums_changed.is_empty()
            && self.tables_created.is_empty()
            && self.tables_dropped.is_empty()
            && self.tables_renamed.is_empty()
            && self.tables_changed.is_empty()
    }
}

/// An enum type whose labels differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumChange {
    /// As it is.
    pub from: EnumType,
    /// As declared.
    pub to: EnumType,
    /// The existing columns of that type: `(table, column, default)`, by
    /// their new names (a type that loses a label is rebuilt, and they are
    /// converted).
    pub columns: Vec<(String, String, Option<String>)>,
}

/// Added, dropped and renamed items of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes<T> {
    /// Only in `to`.
    pub added: Vec<T>,
    /// Only in `from`.
    pub dropped: Vec<T>,
    /// The same definition under another name: `(from, to)`.
    pub renamed: Vec<(T, T)>,
}

impl<T> Default for Changes<T> {
    fn default() -> Self {
        Changes {
            added: Vec::new(),
            dropped: Vec::new(),
            renamed: Vec::new(),
        }
    }
}

impl<T> Changes<T> {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.dropped.is_empty() && self.renamed.is_empty()
    }
}

/// A column both tables have, changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnChange {
    /// As it is.
    pub from: Column,
    /// As declared.
    pub to: Column,
}

impl ColumnChange {
    /// The type differs.
    pub fn type_changed(&self) -> bool {
        self.from.data_type != self.to.data_type
    }
    /// NULL was allowed and is not.
    pub fn not_null_added(&self) -> bool {
        self.from.nullable && !self.to.nullable
    }
    /// Nullability differs.
    pub fn nullability_changed(&self) -> bool {
        self.from.nullable != self.to.nullable
    }
    /// The default differs.
    pub fn default_changed(&self) -> bool {
        self.from.default != self.to.default
    }
    /// Identity, serial or auto-increment differs.
    pub fn identity_changed(&self) -> bool {
        self.from.identity != self.to.identity
    }
    /// MySQL's `ON UPDATE` differs.
    pub fn on_update_changed(&self) -> bool {
        self.from.on_update != self.to.on_update
    }
    /// The comment differs.
    pub fn comment_changed(&self) -> bool {
        self.from.comment != self.to.comment
    }
}

/// One table, changed. `from` is the table as it is, with the declared
/// renames applied, so that its names are `to`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDiff {
    /// The table as it is (renames applied).
    pub from: Table,
    /// The table as declared.
    pub to: Table,
    /// Declared column renames that apply: `(old, new)`.
    pub columns_renamed: Vec<(String, String)>,
    /// Columns only `to` has, in `to`'s order.
    pub columns_added: Vec<Column>,
    /// Columns only `from` has.
    pub columns_dropped: Vec<Column>,
    /// Columns that differ.
    pub columns_changed: Vec<ColumnChange>,
    /// `(from, to)` when the primary key differs.
    pub primary_key: Option<(Option<Key>, Option<Key>)>,
    /// UNIQUE constraints.
    pub uniques: Changes<Key>,
    /// CHECK constraints.
    pub checks: Changes<Check>,
    /// FOREIGN KEY constraints.
    pub foreign_keys: Changes<ForeignKey>,
    /// Indexes.
    pub indexes: Changes<Index>,
}

impl TableDiff {
    /// The table's (new) name.
    pub fn name(&self) -> &str {
        &self.to.name
    }

    fn is_empty(&self) -> bool {
        self.columns_renamed.is_empty()
            && self.columns_added.is_empty()
            && self.columns_dropped.is_empty()
            && self.columns_changed.is_empty()
            && self.primary_key.is_none()
            && self.uniques.is_empty()
            && self.checks.is_empty()
            && self.foreign_keys.is_empty()
            && self.indexes.is_empty()
    }

    /// The name a column had before the declared renames.
    pub fn old_column_name<'a>(&'a self, new: &'a str) -> &'a str {
        self.columns_renamed
            .iter()
            .find(|(_, renamed)| renamed == new)
            .map_or(new, |(old, _)| old.as_str())
    }
}

/// What turns `from` into `to`, with the declared renames.
pub fn diff(from: &Schema, to: &Schema, renames: &Renames) -> SchemaDiff {
    let (from, tables_renamed, column_renames) = apply_renames(from, to, renames);
    let mut out = SchemaDiff {
        tables_renamed,
        ..SchemaDiff::default()
    };
    for declared in &to.enums {
        match from.enum_type(&declared.name) {
            None => out.enums_created.push(declared.clone()),
            Some(existing) if existing.values != declared.values => {
                let quoted = format!("\"{}\"", declared.name);
                let columns = from
                    .tables
                    .iter()
                    .filter(|t| to.table(&t.name).is_some())
                    .flat_map(|t| {
                        t.columns
                            .iter()
                            .filter(|c| c.data_type == declared.name || c.data_type == quoted)
                            .map(|c| (t.name.clone(), c.name.clone(), c.default.clone()))
                    })
                    .collect();
                out.enums_changed.push(EnumChange {
                    from: existing.clone(),
                    to: declared.clone(),
                    columns,
                })
            }
            Some(_) => {}
        }
    }
    out.enums_dropped = from
        .enums
        .iter()
        .filter(|e| to.enum_type(&e.name).is_none())
        .cloned()
        .collect();
    for declared in &to.tables {
        match from.table(&declared.name) {
            None => out.tables_created.push(declared.clone()),
            Some(existing) => {
                let renamed: Vec<(String, String)> = column_renames
                    .iter()
                    .filter(|(table, _, _)| *table == declared.name)
                    .map(|(_, old, new)| (old.clone(), new.clone()))
                    .collect();
                let table = diff_table(existing, declared, renamed);
                if !table.is_empty() {
                    out.tables_changed.push(table);
                }
            }
        }
    }
    out.tables_dropped = from
        .tables
        .iter()
        .filter(|t| to.table(&t.name).is_none())
        .cloned()
        .collect();
    out
}

type ColumnRenames = Vec<(String, String, String)>;

/// `from` with the declared renames that apply (the old name exists, the
/// new one does not, and `to` has the new one), and those renames.
fn apply_renames(
    from: &Schema,
    to: &Schema,
    renames: &Renames,
) -> (Schema, Vec<(String, String)>, ColumnRenames) {
    let mut schema = from.clone();
    let mut tables = Vec::new();
    for (old, new) in &renames.tables {
        if schema.table(old).is_some() && schema.table(new).is_none() && to.table(new).is_some() {
            tables.push((old.clone(), new.clone()));
            for table in &mut schema.tables {
                if table.name == *old {
                    table.name = new.clone();
                }
                for fk in &mut table.foreign_keys {
                    if fk.ref_table == *old {
                        fk.ref_table = new.clone();
                    }
                }
            }
        }
    }
    let mut columns = Vec::new();
    for (table_name, old, new) in &renames.columns {
        let Some(declared) = to.table(table_name) else {
            continue;
        };
        let applies = schema
            .table(table_name)
            .is_some_and(|t| t.column(old).is_some() && t.column(new).is_none())
            && declared.column(new).is_some();
        if !applies {
            continue;
        }
        columns.push((table_name.clone(), old.clone(), new.clone()));
        let rename = |names: &mut Vec<String>| {
            for name in names.iter_mut() {
                if name == old {
                    *name = new.clone();
                }
            }
        };
        for table in &mut schema.tables {
            if table.name == *table_name {
                for column in &mut table.columns {
                    if column.name == *old {
                        column.name = new.clone();
                    }
                }
                if let Some(pk) = &mut table.primary_key {
                    rename(&mut pk.columns);
                }
                for key in &mut table.uniques {
                    rename(&mut key.columns);
                }
                for fk in &mut table.foreign_keys {
                    rename(&mut fk.columns);
                }
            }
            for fk in &mut table.foreign_keys {
                if fk.ref_table == *table_name {
                    rename(&mut fk.ref_columns);
                }
            }
        }
    }
    schema.tables.sort_by(|a, b| a.name.cmp(&b.name));
    (schema, tables, columns)
}

fn diff_table(from: &Table, to: &Table, columns_renamed: Vec<(String, String)>) -> TableDiff {
    let mut columns_added = Vec::new();
    let mut columns_changed = Vec::new();
    for column in &to.columns {
        match from.column(&column.name) {
            None => columns_added.push(column.clone()),
            Some(existing) if existing != column => columns_changed.push(ColumnChange {
                from: existing.clone(),
                to: column.clone(),
            }),
            Some(_) => {}
        }
    }
    let columns_dropped = from
        .columns
        .iter()
        .filter(|c| to.column(&c.name).is_none())
        .cloned()
        .collect();
    let primary_key = (from.primary_key != to.primary_key)
        .then(|| (from.primary_key.clone(), to.primary_key.clone()));
    TableDiff {
        from: from.clone(),
        to: to.clone(),
        columns_renamed,
        columns_added,
        columns_dropped,
        columns_changed,
        primary_key,
        uniques: match_items(
            &from.uniques,
            &to.uniques,
            |k| k.name.as_deref(),
            |a, b| a.columns == b.columns,
        ),
        checks: match_items(
            &from.checks,
            &to.checks,
            |c| c.name.as_deref(),
            |a, b| a.expression == b.expression,
        ),
        foreign_keys: match_items(
            &from.foreign_keys,
            &to.foreign_keys,
            |k| k.name.as_deref(),
            ForeignKey::same_definition,
        ),
        indexes: match_items(
            &from.indexes,
            &to.indexes,
            |i| Some(i.name.as_str()),
            Index::same_definition,
        ),
    }
}

/// Pairs items by name and definition: the same both → unchanged; the same
/// definition under another name → renamed; the rest dropped or added (a
/// changed definition under one name is a drop and an add).
fn match_items<T: Clone>(
    from: &[T],
    to: &[T],
    name: impl Fn(&T) -> Option<&str>,
    same: impl Fn(&T, &T) -> bool,
) -> Changes<T> {
    let mut from_left: Vec<&T> = Vec::new();
    let mut to_left: Vec<&T> = to.iter().collect();
    for item in from {
        match to_left
            .iter()
            .position(|other| name(item) == name(other) && same(item, other))
        {
            Some(at) => {
                to_left.remove(at);
            }
            None => from_left.push(item),
        }
    }
    let mut changes = Changes::default();
    for item in from_left {
        let renamed = to_left
            .iter()
            .position(|other| same(item, other) && name(item).is_some() && name(other).is_some());
        match renamed {
            Some(at) => changes
                .renamed
                .push((item.clone(), to_left.remove(at).clone())),
            None => changes.dropped.push(item.clone()),
        }
    }
    changes.added = to_left.into_iter().cloned().collect();
    changes
}
