//! "Did you mean" suggestions for misspelt keys and revision ids.

/// The candidate closest to `given` by edit distance, if it is close enough
/// to be a plausible typo.
pub fn closest<'c>(given: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (given.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&given.to_lowercase(), candidate), candidate))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, candidate)| candidate)
}

/// Every candidate that is a plausible typo of `given`, or that shares a
/// prefix of at least four characters with it, best first, at most five.
pub fn similar<'c>(given: &str, candidates: impl IntoIterator<Item = &'c str>) -> Vec<String> {
    let limit = (given.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let distance = edit_distance(given, candidate);
            let shared = common_prefix(given, candidate);
            (distance <= limit || shared >= 4).then_some((distance, candidate))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, candidate)| candidate.to_string())
        .collect()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_key_a_typo_was_meant_to_be() {
        let keys = ["revision", "revises", "message"];
        assert_eq!(closest("revison", keys), Some("revision"));
        assert_eq!(closest("Message", keys), Some("message"));
        assert_eq!(closest("author", keys), None);
    }

    #[test]
    fn similar_ids_share_a_prefix_or_are_a_typo_away() {
        let ids = ["3f2a9c1b7d4e", "3f2a9c000000", "a1b2c3d4e5f6"];
        assert_eq!(
            similar("3f2a9c1b7d4f", ids),
            vec!["3f2a9c1b7d4e", "3f2a9c000000"]
        );
        assert!(similar("zzzz", ids).is_empty());
    }

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
