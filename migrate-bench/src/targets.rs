//! The targets in one table at the end of a run: each measured
//! figure beside its limit, and whether this run met it. The sections
//! record their figures here as they print their own tables.

use std::fmt::Write as _;
use std::sync::Mutex;

/// One target, on one database or history length.
struct Target {
    what: String,
    database: String,
    measured: String,
    limit: &'static str,
    /// `None`: a figure without a limit (memory), or no measurement.
    met: Option<bool>,
}

static TARGETS: Mutex<Vec<Target>> = Mutex::new(Vec::new());

fn targets() -> std::sync::MutexGuard<'static, Vec<Target>> {
    TARGETS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn record(what: String, database: &str, measured: String, limit: &'static str, met: Option<bool>) {
    targets().push(Target {
        what,
        database: database.to_string(),
        measured,
        limit,
        met,
    });
}

/// A ratio against its upper bound.
pub fn ratio(what: String, database: &str, ratio: f64, at_most: f64, limit: &'static str) {
    record(
        what,
        database,
        format!("{ratio:.2}x"),
        limit,
        Some(ratio <= at_most),
    );
}

/// A ratio that could not be taken (the floor lost in the client's noise).
pub fn unmeasured(what: String, database: &str, why: &str, limit: &'static str) {
    record(what, database, why.to_string(), limit, None);
}

/// A figure reported without a limit.
pub fn figure(what: String, database: &str, measured: String) {
    record(what, database, measured, "(reported)", None);
}

/// Ours against sqlx's, lower is better: met when ours is at most theirs.
pub fn against_sqlx(what: String, ours_s: f64, sqlx_s: f64) {
    record(
        what,
        "sqlite",
        format!("{ours_s:.2} s (sqlx {sqlx_s:.2} s)"),
        "≤ sqlx",
        Some(ours_s <= sqlx_s),
    );
}

/// A count against its exact expected value.
pub fn count(what: String, database: &str, measured: usize, expected: usize) {
    let limit = if expected == 1 { "= 1" } else { "(expected)" };
    record(
        what,
        database,
        measured.to_string(),
        limit,
        Some(measured == expected),
    );
}

/// The lines the rebuild bench wrote (`REBUILD_TARGETS`):
/// `<what>\t<ours s>\t<sqlx s>`.
pub fn read_rebuild(text: &str) {
    for line in text.lines() {
        let mut fields = line.split('\t');
        let (Some(what), Some(ours), Some(sqlx)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if let (Ok(ours), Ok(sqlx)) = (ours.parse(), sqlx.parse()) {
            against_sqlx(what.to_string(), ours, sqlx);
        }
    }
}

/// The table of every target recorded so far.
pub fn print() {
    let mut out = String::from(
        "\n## Targets\n\n| target | database | measured | limit | met |\n|---|---|---|---|---|\n",
    );
    for t in targets().iter() {
        let met = match t.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {met} |",
            t.what, t.database, t.measured, t.limit
        );
    }
    print!("{out}");
}
