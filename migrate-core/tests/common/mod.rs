//! Helpers shared by the integration tests: building revisions without
//! files, temporary directories, and a small deterministic PRNG.
#![allow(dead_code)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_core::{Revision, RevisionGraph, RevisionSet, Text};

/// A reversible root revision named `<id>` in `migrations/<id>_test.sql`.
pub fn rev(id: &str) -> Revision {
    Revision {
        id: id.to_string().into(),
        parents: Cow::Owned(Vec::new()),
        depends_on: Cow::Owned(Vec::new()),
        branch_labels: Cow::Owned(Vec::new()),
        message: Text::Borrowed(""),
        created: None,
        up_sql: format!("CREATE TABLE t_{id} (x int);").into(),
        down_sql: Some(format!("DROP TABLE t_{id};").into()),
        up_line: 2,
        down_line: 4,
        transactional: true,
        checksum: [0; 32],
        file: format!("migrations/{id}_test.sql").into(),
    }
}

fn texts(items: &[&str]) -> Cow<'static, [Text]> {
    Cow::Owned(items.iter().map(|s| Text::from(s.to_string())).collect())
}

/// Builder-style modifiers for [`rev`].
pub trait RevExt {
    /// Sets `revises`.
    fn revises(self, parents: &[&str]) -> Revision;
    /// Sets `depends_on`.
    fn depends_on(self, deps: &[&str]) -> Revision;
    /// Sets `branch_labels`.
    fn labels(self, labels: &[&str]) -> Revision;
    /// Removes the down section.
    fn irreversible(self) -> Revision;
}

impl RevExt for Revision {
    fn revises(mut self, parents: &[&str]) -> Revision {
        self.parents = texts(parents);
        self
    }
    fn depends_on(mut self, deps: &[&str]) -> Revision {
        self.depends_on = texts(deps);
        self
    }
    fn labels(mut self, labels: &[&str]) -> Revision {
        self.branch_labels = texts(labels);
        self
    }
    fn irreversible(mut self) -> Revision {
        self.down_sql = None;
        self
    }
}

/// A linear chain `ids[0] <- ids[1] <- ...`.
pub fn chain(ids: &[&str]) -> Vec<Revision> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let r = rev(id);
            if i == 0 {
                r
            } else {
                r.revises(&[ids[i - 1]])
            }
        })
        .collect()
}

/// Builds a graph that must validate.
pub fn graph(revisions: &[Revision]) -> RevisionGraph<'_> {
    match RevisionGraph::new(revisions) {
        Ok(graph) => graph,
        Err(errors) => panic!("graph should validate, got: {errors:#?}"),
    }
}

/// The errors of a graph that must not validate.
pub fn graph_errors(revisions: &[Revision]) -> Vec<migrate_core::LoadError> {
    match RevisionGraph::new(revisions) {
        Ok(_) => panic!("graph should not validate"),
        Err(errors) => errors,
    }
}

/// The set of these ids (which must all exist).
pub fn set(graph: &RevisionGraph<'_>, ids: &[&str]) -> RevisionSet {
    let (set, unknown) = graph.set_of(ids.iter().copied());
    assert!(unknown.is_empty(), "unknown ids in test: {unknown:?}");
    set
}

/// The ids of a set, in topological order.
pub fn ids_of(graph: &RevisionGraph<'_>, set: &RevisionSet) -> Vec<String> {
    graph
        .nodes_in(set)
        .into_iter()
        .map(|n| graph.revision(n).id.to_string())
        .collect()
}

/// The ids of some revisions.
pub fn ids(revisions: &[&Revision]) -> Vec<String> {
    revisions.iter().map(|r| r.id.to_string()).collect()
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty, uniquely named directory.
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "migrate-core-test-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let path = std::env::temp_dir().join(unique);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file (creating parent directories).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent");
        }
        std::fs::write(&path, contents).expect("write file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: small, deterministic, good enough for generating cases.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; zero is remapped).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// Shuffles a slice (Fisher-Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}
