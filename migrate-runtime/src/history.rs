//! The history table's rows, and checking them against the embedded
//! revisions before anything runs.

use std::collections::HashMap;

use migrate_core::checksum::hex_matches;
use migrate_core::dialect::{STATE_PENDING, STATE_REVERTING};
use migrate_core::{Revision, RevisionGraph, RevisionSet};

use crate::error::Error;

/// One row of the history table, as read on every run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The revision id.
    pub revision: String,
    /// The checksum recorded when it was applied (64 hex digits).
    pub checksum: String,
    /// `applied`, or `pending` for a revision that did not finish.
    pub state: String,
}

/// The history, checked: what is applied, and what does not match.
#[derive(Debug, Default)]
pub struct CheckedHistory {
    /// Embedded indices of applied rows (pending ones excluded).
    pub applied: Vec<usize>,
    /// Recorded ids this build does not know.
    pub unknown: Vec<String>,
    /// Those of `unknown` whose row is `pending` or `reverting`: not
    /// applied, but left by a run that did not finish.
    pub unknown_half_applied: Vec<String>,
    /// Embedded indices whose checksum differs, with the recorded checksum.
    pub drifted: Vec<(usize, String)>,
    /// Embedded indices left `pending` or `reverting` by an earlier run.
    pub half_applied: Vec<usize>,
    /// Those of `half_applied` that were being downgraded.
    pub reverting: Vec<usize>,
}

impl CheckedHistory {
    /// Compares the rows with the embedded revisions.
    pub fn new(revisions: &[Revision], rows: &[HistoryRow]) -> Self {
        let by_id: HashMap<&str, usize> = revisions
            .iter()
            .enumerate()
            .map(|(index, r)| (r.id.as_ref(), index))
            .collect();
        let mut checked = CheckedHistory::default();
        for row in rows {
            let Some(&index) = by_id.get(row.revision.as_str()) else {
                checked.unknown.push(row.revision.clone());
                if row.state == STATE_PENDING || row.state == STATE_REVERTING {
                    checked.unknown_half_applied.push(row.revision.clone());
                }
                continue;
            };
            if row.state == STATE_PENDING || row.state == STATE_REVERTING {
                checked.half_applied.push(index);
                if row.state == STATE_REVERTING {
                    checked.reverting.push(index);
                }
                continue;
            }
            if !hex_matches(&row.checksum, &revisions[index].checksum) {
                checked.drifted.push((index, row.checksum.clone()));
            }
            checked.applied.push(index);
        }
        checked
    }

    /// The first problem that must stop a run, if any: unknown revisions
    /// (unless ignored), drift, then half-applied revisions. For a read
    /// under the lock.
    pub fn refusal(&self, revisions: &[Revision], ignore_unknown: bool) -> Option<Error> {
        self.refusal_unlocked(revisions, ignore_unknown)
            .or_else(|| self.half_applied_refusal(revisions))
    }

    /// The problems a read without the lock can already call fatal: unknown
    /// revisions and drift. Not a pending row: another run may be applying
    /// that revision right now (MySQL commits the row with the revision's
    /// first DDL, and `transaction: false` revisions commit it first), so
    /// only the read under the lock can tell it was left behind.
    pub fn refusal_unlocked(&self, revisions: &[Revision], ignore_unknown: bool) -> Option<Error> {
        if let Some(refusal) = self.unknown_refusal(ignore_unknown) {
            return Some(refusal);
        }
        if let Some((index, applied)) = self.drifted.first() {
            let revision = &revisions[*index];
            return Some(Error::ChecksumMismatch {
                revision: revision.id.to_string(),
                file: revision.file.to_string(),
                applied: applied.clone(),
                embedded: revision.checksum_hex(),
            });
        }
        None
    }

    /// The refusal of applied revisions this build does not know, unless
    /// they are to be ignored.
    pub fn unknown_refusal(&self, ignore_unknown: bool) -> Option<Error> {
        (!self.unknown.is_empty() && !ignore_unknown).then(|| Error::UnknownRevisions {
            revisions: self.unknown.clone(),
        })
    }

    fn half_applied_refusal(&self, revisions: &[Revision]) -> Option<Error> {
        self.half_applied.first().map(|&index| {
            let revision = &revisions[index];
            Error::HalfApplied {
                revision: revision.id.to_string(),
                file: revision.file.to_string(),
                before: self.stamp_target_without(revisions, revision),
                reverting: self.reverting.contains(&index),
            }
        })
    }

    /// A stamp target that forgets `pending` and nothing else. Stamping an
    /// applied revision that no other applied one requires changes no row
    /// but clears the pending ones, whereas stamping the parent would also
    /// forget a sibling branch built on it (and `<merge>-1` does not even
    /// resolve). The parent when it qualifies, as a user would expect.
    fn stamp_target_without(&self, revisions: &[Revision], pending: &Revision) -> String {
        let applied = || self.applied.iter().map(|&index| &revisions[index]);
        let required = |id: &str| applied().any(|r| r.requirements().any(|req| req == id));
        let tops: Vec<&str> = applied()
            .map(|r| r.id.as_ref())
            .filter(|id| !required(id))
            .collect();
        let parent = pending.parents.iter().find(|p| tops.contains(&p.as_ref()));
        match (parent, tops.first()) {
            (Some(parent), _) => parent.to_string(),
            (None, Some(top)) => top.to_string(),
            (None, None) => "base".to_string(),
        }
    }

    /// Whether every embedded revision is applied: the no-op boot's test,
    /// made without building the graph.
    pub fn everything_applied(&self, revisions: &[Revision]) -> bool {
        self.applied.len() == revisions.len()
    }

    /// The applied set over a graph of the same revisions, as recorded:
    /// for reporting, and for a stamp, which repairs a history with gaps.
    pub fn applied_as_recorded(&self, graph: &RevisionGraph<'_>) -> RevisionSet {
        let mut set = graph.empty_set();
        for &index in &self.applied {
            set.insert(index);
        }
        set
    }

    /// The applied set over a graph of the same revisions, checked to be
    /// closed under requirements.
    pub fn applied_set(&self, graph: &RevisionGraph<'_>) -> Result<RevisionSet, Error> {
        let set = self.applied_as_recorded(graph);
        if let Some(&(node, missing)) = graph.missing_requirements(&set).first() {
            return Err(Error::InconsistentHistory {
                revision: graph.revision(node).id.to_string(),
                missing: graph.revision(missing).id.to_string(),
            });
        }
        Ok(set)
    }
}
