//! The differences in words, one line each, for `migrate check --schema`.

use crate::diff::SchemaDiff;

/// One line per difference, from the migrations' schema to the declared one.
pub fn describe(diff: &SchemaDiff) -> Vec<String> {
    let mut lines = Vec::new();
    for e in &diff.enums_created {
        lines.push(format!(
            "type {} is declared but not created by the migrations",
            e.name
        ));
    }
    for e in &diff.enums_dropped {
        lines.push(format!(
            "type {} is created by the migrations but not declared",
            e.name
        ));
    }
    for change in &diff.enums_changed {
        lines.push(format!(
            "type {} has labels ({}), declared ({})",
            change.to.name,
            change.from.values.join(", "),
            change.to.values.join(", ")
        ));
    }
    for (old, new) in &diff.tables_renamed {
        lines.push(format!("table {old} is declared renamed to {new}"));
    }
    for t in &diff.tables_created {
        lines.push(format!(
            "table {} is declared but not created by the migrations",
            t.name
        ));
    }
    for t in &diff.tables_dropped {
        lines.push(format!(
            "table {} is created by the migrations but not declared",
            t.name
        ));
    }
    for t in &diff.tables_changed {
        let name = t.name();
        for (old, new) in &t.columns_renamed {
            lines.push(format!("column {name}.{old} is declared renamed to {new}"));
        }
        for c in &t.columns_added {
            lines.push(format!("column {name}.{} is declared but missing", c.name));
        }
        for c in &t.columns_dropped {
            lines.push(format!(
                "column {name}.{} exists but is not declared",
                c.name
            ));
        }
        for c in &t.columns_changed {
            let show = |col: &crate::model::Column| {
                format!(
                    "{}{}{}{}{}{}",
                    col.data_type,
                    if col.nullable { "" } else { " NOT NULL" },
                    col.default
                        .as_ref()
                        .map(|d| format!(" DEFAULT {d}"))
                        .unwrap_or_default(),
                    col.on_update
                        .as_ref()
                        .map(|u| format!(" ON UPDATE {u}"))
                        .unwrap_or_default(),
                    col.identity.map(|i| format!(" {i:?}")).unwrap_or_default(),
                    col.comment
                        .as_ref()
                        .map(|c| format!(" COMMENT '{}'", c.replace('\'', "''")))
                        .unwrap_or_default()
                )
            };
            lines.push(format!(
                "column {name}.{} is {}, declared {}",
                c.to.name,
                show(&c.from),
                show(&c.to)
            ));
        }
        if let Some((from, to)) = &t.primary_key {
            let show = |k: &Option<crate::model::Key>| {
                k.as_ref().map_or("none".to_string(), |k| {
                    format!("({})", k.columns.join(", "))
                })
            };
            lines.push(format!(
                "table {name} has primary key {}, declared {}",
                show(from),
                show(to)
            ));
        }
        let kinds: [(&str, Vec<String>, Vec<String>); 4] = [
            (
                "unique constraint",
                t.uniques
                    .added
                    .iter()
                    .map(|k| format!("({})", k.columns.join(", ")))
                    .collect(),
                t.uniques
                    .dropped
                    .iter()
                    .map(|k| format!("({})", k.columns.join(", ")))
                    .collect(),
            ),
            (
                "check",
                t.checks
                    .added
                    .iter()
                    .map(|c| c.expression.clone())
                    .collect(),
                t.checks
                    .dropped
                    .iter()
                    .map(|c| c.expression.clone())
                    .collect(),
            ),
            (
                "foreign key",
                t.foreign_keys
                    .added
                    .iter()
                    .map(|k| format!("({}) -> {}", k.columns.join(", "), k.ref_table))
                    .collect(),
                t.foreign_keys
                    .dropped
                    .iter()
                    .map(|k| format!("({}) -> {}", k.columns.join(", "), k.ref_table))
                    .collect(),
            ),
            (
                "index",
                t.indexes
                    .added
                    .iter()
                    .map(|i| format!("{} {}", i.name, i.definition))
                    .collect(),
                t.indexes
                    .dropped
                    .iter()
                    .map(|i| format!("{} {}", i.name, i.definition))
                    .collect(),
            ),
        ];
        for (kind, added, dropped) in kinds {
            for item in added {
                lines.push(format!("{kind} {item} on {name} is declared but missing"));
            }
            for item in dropped {
                lines.push(format!(
                    "{kind} {item} on {name} exists but is not declared"
                ));
            }
        }
        for (from, to) in &t.indexes.renamed {
            lines.push(format!(
                "index {} on {name} is declared as {}",
                from.name, to.name
            ));
        }
        for (from, to) in &t.uniques.renamed {
            lines.push(format!(
                "unique constraint {} on {name} is declared as {}",
                from.name.as_deref().unwrap_or("?"),
                to.name.as_deref().unwrap_or("?")
            ));
        }
        for (from, to) in &t.foreign_keys.renamed {
            lines.push(format!(
                "foreign key {} on {name} is declared as {}",
                from.name.as_deref().unwrap_or("?"),
                to.name.as_deref().unwrap_or("?")
            ));
        }
        for (from, to) in &t.checks.renamed {
            lines.push(format!(
                "check {} on {name} is declared as {}",
                from.name.as_deref().unwrap_or("?"),
                to.name.as_deref().unwrap_or("?")
            ));
        }
    }
    lines
}
