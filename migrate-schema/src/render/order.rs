//! Dependency order: a table after the tables its foreign keys reference.

use crate::model::{ForeignKey, Table};

/// `tables` in an order where each comes after the ones it references
/// among them, and the foreign keys that cannot be created with their
/// table because they close a cycle: `(table, key)`, to add afterwards.
pub fn creation_order(tables: &[Table]) -> (Vec<&Table>, Vec<(&Table, &ForeignKey)>) {
    let mut left: Vec<&Table> = tables.iter().collect();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let mut placed: Vec<&Table> = Vec::new();
    let mut deferred = Vec::new();
    while !left.is_empty() {
        let pending = |name: &str, left: &[&Table]| left.iter().any(|t| t.name == name);
        let ready = left.iter().position(|table| {
            table
                .referenced_tables()
                .iter()
                .all(|name| !pending(name, &left))
        });
        // A cycle: take the first table, its keys into pending tables wait.
        let at = ready.unwrap_or(0);
        let table = left.remove(at);
        if ready.is_none() {
            for fk in &table.foreign_keys {
                if fk.ref_table != table.name && pending(&fk.ref_table, &left) {
                    deferred.push((table, fk));
                }
            }
        }
        placed.push(table);
    }
    (placed, deferred)
}

/// `tables` in an order where each goes before the ones it references.
pub fn drop_order(tables: &[Table]) -> Vec<&Table> {
    let (mut order, _) = creation_order(tables);
    order.reverse();
    order
}
