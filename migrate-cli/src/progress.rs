//! Live progress during `upgrade` and `downgrade`: one line per revision as
//! it finishes.
//!
//! `Runner::upgrade` returns its report only at the end, but it emits a
//! `tracing` event (fields `revision` and `elapsed_ms`) after each revision;
//! a small subscriber turns those events into lines while the run goes on.
//! The report stays the source of truth: whatever the events did not show
//! is printed from it afterwards, so progress can never be lost, only late.

use std::fmt;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Called with a revision id and its elapsed milliseconds.
type OnStep = Box<dyn Fn(&str, u64) + Send + Sync>;

/// A `tracing` subscriber that sees only the runtime's events.
pub struct Progress {
    on_step: OnStep,
    seen: Mutex<Vec<(String, u64)>>,
    warnings: Mutex<Vec<String>>,
}

impl Progress {
    /// A subscriber calling `on_step` for each revision run.
    pub fn new(on_step: impl Fn(&str, u64) + Send + Sync + 'static) -> Self {
        Progress {
            on_step: Box::new(on_step),
            seen: Mutex::new(Vec::new()),
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// The revisions already shown.
    pub fn seen(&self) -> Vec<String> {
        self.finished().into_iter().map(|(id, _)| id).collect()
    }

    /// The revisions the run finished, with their elapsed milliseconds, in
    /// order (committed or not: see the caller's `commit_at_end`).
    pub fn finished(&self) -> Vec<(String, u64)> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The runtime's warnings (a lock that could not be released...).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

#[derive(Default)]
struct Fields {
    revision: Option<String>,
    elapsed_ms: Option<u64>,
    text: Vec<String>,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "elapsed_ms" {
            self.elapsed_ms = Some(value);
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "elapsed_ms" {
            self.elapsed_ms = u64::try_from(value).ok();
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "revision" => self.revision = Some(text.trim_matches('"').to_string()),
            "message" => self.text.push(text),
            name => self.text.push(format!("{name}={text}")),
        }
    }
}

impl Subscriber for Progress {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("migrate_runtime") && *metadata.level() <= Level::INFO
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if *event.metadata().level() <= Level::WARN {
            if let Ok(mut warnings) = self.warnings.lock() {
                warnings.push(fields.text.join(" "));
            }
            return;
        }
        if let (Some(revision), Some(ms)) = (fields.revision, fields.elapsed_ms) {
            (self.on_step)(&revision, ms);
            if let Ok(mut seen) = self.seen.lock() {
                seen.push((revision, ms));
            }
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}
