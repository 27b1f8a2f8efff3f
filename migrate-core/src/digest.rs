//! One SHA-256 over a history table's `(revision, checksum, state)` rows:
//! what `embed_migrations!` precomputes at compile time for "every
//! revision applied", and what the runtime stores beside the table so
//! that a no-op boot compares 32 bytes instead of reading every row.

use sha2::{Digest, Sha256};

use crate::dialect::STATE_APPLIED;
use crate::revision::Revision;

/// The digest of a set of history rows, in any order. Each field goes in
/// with its length, so that no text in a hand-edited row can make two
/// different tables hash alike; checksums go in lowercase and without the
/// padding a `CHAR(64)` column may add, as the full read compares them.
pub fn history_digest<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> [u8; 32] {
    let mut rows: Vec<(&str, &str, &str)> = rows.into_iter().collect();
    rows.sort_unstable();
    let mut hasher = Sha256::new();
    hasher.update((rows.len() as u64).to_le_bytes());
    for (revision, checksum, state) in rows {
        let checksum = checksum.trim_end().to_ascii_lowercase();
        for field in [revision, checksum.as_str(), state] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
    }
    hasher.finalize().into()
}

/// The digest of the history in which every one of `revisions` is applied
/// and nothing else is recorded.
pub fn applied_digest(revisions: &[Revision]) -> [u8; 32] {
    let checksums: Vec<String> = revisions.iter().map(Revision::checksum_hex).collect();
    history_digest(
        revisions
            .iter()
            .zip(&checksums)
            .map(|(r, checksum)| (r.id.as_ref(), checksum.as_str(), STATE_APPLIED)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_padding_and_case_of_checksums_do_not_matter() {
        let a = "a".repeat(64);
        let padded = format!("{}  ", "A".repeat(64));
        assert_eq!(
            history_digest([("1", a.as_str(), "applied"), ("2", a.as_str(), "applied")]),
            history_digest([
                ("2", padded.as_str(), "applied"),
                ("1", a.as_str(), "applied")
            ]),
        );
    }

    #[test]
    fn every_field_and_every_row_counts() {
        let base = history_digest([("1", "aa", "applied"), ("2", "bb", "applied")]);
        for other in [
            history_digest([("1", "aa", "applied")]),
            history_digest([("1", "aa", "applied"), ("2", "bc", "applied")]),
            history_digest([("1", "aa", "applied"), ("2", "bb", "pending")]),
            history_digest([("1", "aa", "applied"), ("3", "bb", "applied")]),
            history_digest([
                ("1", "aa", "applied"),
                ("2", "bb", "applied"),
                ("3", "cc", "applied"),
            ]),
            // The same bytes split differently between fields.
            history_digest([("1", "aa", "applied"), ("2b", "b", "applied")]),
        ] {
            assert_ne!(base, other);
        }
    }
}
