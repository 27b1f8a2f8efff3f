//! What an operation did, and where the database stands.

use std::time::Duration;

use migrate_core::Direction;

/// One revision run by an upgrade or downgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReport {
    /// The revision id.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// How long its batch took, as seen by the client.
    pub duration: Duration,
}

/// What an upgrade, downgrade or stamp did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Up or down.
    pub direction: Direction,
    /// The revisions run (or, for a stamp, recorded or forgotten), in order.
    pub steps: Vec<StepReport>,
}

impl Report {
    pub(crate) fn nothing(direction: Direction) -> Self {
        Report {
            direction,
            steps: Vec::new(),
        }
    }

    /// Whether nothing was done.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The ids run, in order.
    pub fn revisions(&self) -> Vec<&str> {
        self.steps.iter().map(|s| s.revision.as_str()).collect()
    }
}

/// One line: what was run (`upgraded 2 revisions: a1b2 (create users),
/// c3d4 (add email)`), or `nothing to upgrade`, for an application's log.
impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = match self.direction {
            Direction::Upgrade => "upgrade",
            Direction::Downgrade => "downgrade",
        };
        if self.steps.is_empty() {
            return write!(f, "nothing to {verb}");
        }
        let count = self.steps.len();
        write!(
            f,
            "{verb}d {count} revision{}: ",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if step.message.is_empty() {
                write!(f, "{}", step.revision)?;
            } else {
                write!(f, "{} ({})", step.revision, step.message)?;
            }
        }
        Ok(())
    }
}

/// The state of one revision against a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionState {
    /// Applied, with the checksum of this build's file.
    Applied,
    /// Not applied.
    Pending,
    /// Applied, but the file changed since.
    Drifted,
    /// Started on an earlier run and did not finish.
    HalfApplied,
}

/// One embedded revision and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionStatus {
    /// The revision id.
    pub revision: String,
    /// Its message.
    pub message: String,
    /// Its file.
    pub file: String,
    /// Its state in the database.
    pub state: RevisionState,
}

/// Every embedded revision's state, plus what the database has that this
/// build does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The embedded revisions, in topological order.
    pub revisions: Vec<RevisionStatus>,
    /// Revisions in the history table this build does not contain.
    pub unknown: Vec<String>,
    /// Those of `unknown` whose row was left pending by a run that did not
    /// finish: recorded, but not applied.
    pub unknown_half_applied: Vec<String>,
}

impl Status {
    /// Revisions in a given state.
    pub fn in_state(&self, state: RevisionState) -> Vec<&str> {
        self.revisions
            .iter()
            .filter(|r| r.state == state)
            .map(|r| r.revision.as_str())
            .collect()
    }

    /// The revisions recorded as applied, in topological order: drifted
    /// ones included (they ran; their file changed since), half-applied
    /// ones not.
    pub fn applied(&self) -> Vec<&str> {
        self.revisions
            .iter()
            .filter(|r| matches!(r.state, RevisionState::Applied | RevisionState::Drifted))
            .map(|r| r.revision.as_str())
            .collect()
    }

    /// Whether the database is exactly at this build's heads, with no drift.
    pub fn is_up_to_date(&self) -> bool {
        self.unknown.is_empty()
            && self
                .revisions
                .iter()
                .all(|r| r.state == RevisionState::Applied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(states: &[(&str, RevisionState)]) -> Status {
        Status {
            revisions: states
                .iter()
                .map(|&(revision, state)| RevisionStatus {
                    revision: revision.to_string(),
                    message: String::new(),
                    file: format!("migrations/{revision}_x.sql"),
                    state,
                })
                .collect(),
            unknown: Vec::new(),
            unknown_half_applied: Vec::new(),
        }
    }

    #[test]
    fn report_displays_what_ran_on_one_line() {
        let step = |revision: &str, message: &str| StepReport {
            revision: revision.to_string(),
            message: message.to_string(),
            duration: Duration::ZERO,
        };
        let report = Report {
            direction: Direction::Upgrade,
            steps: vec![step("a1b2", "create users"), step("c3d4", "")],
        };
        assert_eq!(
            report.to_string(),
            "upgraded 2 revisions: a1b2 (create users), c3d4"
        );
        let report = Report {
            direction: Direction::Downgrade,
            steps: vec![step("a1b2", "create users")],
        };
        assert_eq!(
            report.to_string(),
            "downgraded 1 revision: a1b2 (create users)"
        );
        assert_eq!(
            Report::nothing(Direction::Upgrade).to_string(),
            "nothing to upgrade"
        );
    }

    #[test]
    fn applied_counts_drifted_but_not_half_applied_or_pending() {
        let status = status(&[
            ("a", RevisionState::Applied),
            ("b", RevisionState::Drifted),
            ("c", RevisionState::HalfApplied),
            ("d", RevisionState::Pending),
        ]);
        assert_eq!(status.applied(), ["a", "b"]);
        assert!(!status.is_up_to_date());
    }
}
