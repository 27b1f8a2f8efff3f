//! Everything the CLI prints: aligned tables, colour (only on a terminal,
//! never with NO_COLOR), `--quiet`, JSON, and the `error:` / `hint:` lines.

use std::io::{ErrorKind, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::args::ColorChoice;
use crate::error::CliError;

/// An ANSI style, applied only when colour is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paint(&'static str);

impl Paint {
    /// No style.
    pub const PLAIN: Paint = Paint("");
    /// Bold.
    pub const BOLD: Paint = Paint("1");
    /// Dim, for secondary text.
    pub const DIM: Paint = Paint("2");
    /// Green: applied, success.
    pub const GREEN: Paint = Paint("32");
    /// Yellow: pending, warnings.
    pub const YELLOW: Paint = Paint("33");
    /// Red: drift, errors.
    pub const RED: Paint = Paint("31");
    /// Cyan: revision ids.
    pub const CYAN: Paint = Paint("36");
    /// Bold red, for `error:`.
    pub const BOLD_RED: Paint = Paint("1;31");
    /// Bold yellow, for `warning:`.
    pub const BOLD_YELLOW: Paint = Paint("1;33");
    /// Bold green, for markers like `(head)`.
    pub const BOLD_GREEN: Paint = Paint("1;32");
}

/// Where output goes and how it looks.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    color: bool,
    err_color: bool,
    quiet: bool,
}

impl Output {
    /// Decides colour once: `--color`, then NO_COLOR and TERM=dumb, then
    /// whether each stream is a terminal.
    pub fn new(choice: ColorChoice, quiet: bool) -> Self {
        let wanted = |is_terminal: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                // https://no-color.org: any non-empty value turns colour off.
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
                is_terminal && !no_color && !dumb
            }
        };
        Output {
            color: wanted(std::io::stdout().is_terminal()),
            err_color: wanted(std::io::stderr().is_terminal()),
            quiet,
        }
    }

    /// Whether `--quiet` was given.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// `text` in a style, for stdout.
    pub fn paint(&self, paint: Paint, text: &str) -> String {
        paint_if(self.color, paint, text)
    }

    /// A line of data: printed even with `--quiet`.
    pub fn data(&self, line: &str) {
        write_stdout(&format!("{line}\n"));
    }

    /// A line about what happened: not printed with `--quiet`.
    pub fn info(&self, line: &str) {
        if !self.quiet {
            self.data(line);
        }
    }

    /// Lines of data.
    pub fn data_lines(&self, lines: &[String]) {
        let mut text = String::new();
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        write_stdout(&text);
    }

    /// Text as it is (an SQL script), on stdout.
    pub fn raw(&self, text: &str) {
        write_stdout(text);
    }

    /// Advice on stderr (`hint: ...`), so that stdout stays data; not
    /// printed with `--quiet`.
    pub fn hint(&self, text: &str) {
        if !self.quiet {
            write_stderr(&format!(
                "{}: {text}\n",
                paint_if(self.err_color, Paint::DIM, "hint")
            ));
        }
    }

    /// A warning on stderr; printed even with `--quiet`.
    pub fn warning(&self, text: &str) {
        write_stderr(&format!(
            "{}: {text}\n",
            paint_if(self.err_color, Paint::BOLD_YELLOW, "warning")
        ));
    }

    /// A statement of a generated revision that a reviewer must look at,
    /// on stderr; printed even with `--quiet`.
    pub fn review(&self, text: &str) {
        write_stderr(&format!(
            "{}: {text}\n",
            paint_if(self.err_color, Paint::BOLD_YELLOW, "review")
        ));
    }

    /// Pretty JSON on stdout.
    pub fn json(&self, value: &impl Serialize) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)?;
        self.data(&text);
        Ok(())
    }

    /// Prints an error's lines on stderr.
    pub fn error(&self, err: &CliError) {
        let mut stderr = std::io::stderr().lock();
        for line in &err.errors {
            let _ = writeln!(
                stderr,
                "{}: {line}",
                paint_if(self.err_color, Paint::BOLD_RED, "error")
            );
        }
        for line in &err.quote {
            let _ = writeln!(stderr, "{line}");
        }
        for hint in &err.hints {
            let _ = writeln!(
                stderr,
                "{}: {hint}",
                paint_if(self.err_color, Paint::DIM, "hint")
            );
        }
    }
}

/// Set once stdout is found closed (`migrate ... | head -1`): what follows
/// is not written, and the command carries on to its end, so that a closed
/// pipe never stops an upgrade half-way.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// A failure to write stdout other than a closed pipe (a full disk): the
/// output is incomplete, which must not read as success.
static STDOUT_FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes to stdout without ever panicking (`println!` panics on a closed
/// pipe). A reader that went away is the reader's business: the rest of
/// the output is dropped quietly. Any other failure is kept for
/// [`stdout_failure`].
fn write_stdout(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(err) = result {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
        if err.kind() != ErrorKind::BrokenPipe {
            if let Ok(mut failure) = STDOUT_FAILURE.lock() {
                failure.get_or_insert_with(|| crate::error::io_reason(&err));
            }
        }
    }
}

/// Writes to stderr, ignoring failures: there is nowhere left to report them.
fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Why stdout could not be written, when that was not a closed pipe.
pub fn stdout_failure() -> Option<String> {
    STDOUT_FAILURE
        .lock()
        .ok()
        .and_then(|failure| failure.clone())
}

fn paint_if(on: bool, paint: Paint, text: &str) -> String {
    if on && !paint.0.is_empty() && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", paint.0)
    } else {
        text.to_string()
    }
}

/// One cell of a table.
#[derive(Debug, Clone)]
pub struct Cell {
    text: String,
    paint: Paint,
    /// Text with its own colour codes (several styles in one cell); `text`
    /// is then its plain form, used for the width.
    painted: Option<String>,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            paint: Paint::PLAIN,
            painted: None,
        }
    }

    /// A styled cell.
    pub fn styled(text: impl Into<String>, paint: Paint) -> Self {
        Cell {
            text: text.into(),
            paint,
            painted: None,
        }
    }

    /// A cell coloured beforehand: `plain` measures, `painted` is shown.
    pub fn painted(plain: impl Into<String>, painted: impl Into<String>) -> Self {
        Cell {
            text: plain.into(),
            paint: Paint::PLAIN,
            painted: Some(painted.into()),
        }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::plain(text)
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::plain(text)
    }
}

/// Rows of cells printed with aligned columns: widths are measured on the
/// text, before colour codes are added, so colour never breaks alignment.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<Cell>>,
    indent: usize,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Table::default()
    }

    /// Indents every row.
    pub fn indent(mut self, spaces: usize) -> Self {
        self.indent = spaces;
        self
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The width of each column.
    pub fn widths(&self) -> Vec<usize> {
        let mut widths = Vec::new();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                let width = cell.text.chars().count();
                if widths.len() <= column {
                    widths.push(width);
                } else {
                    widths[column] = widths[column].max(width);
                }
            }
        }
        widths
    }

    /// The lines, two spaces between columns, no trailing spaces.
    pub fn render(&self, out: &Output) -> Vec<String> {
        let widths = self.widths();
        self.rows
            .iter()
            .map(|row| render_row(row, &widths, self.indent, out))
            .collect()
    }
}

/// One row aligned to given widths (also used to print progress lines one
/// at a time in the columns of a table planned beforehand).
pub fn render_row(row: &[Cell], widths: &[usize], indent: usize, out: &Output) -> String {
    let mut line = " ".repeat(indent);
    // Trailing empty cells would only add trailing spaces.
    let last = row
        .iter()
        .rposition(|cell| !cell.text.is_empty())
        .unwrap_or(0);
    let mut first = true;
    for (column, cell) in row.iter().enumerate().take(last + 1) {
        let width = widths.get(column).copied().unwrap_or(0);
        // A column empty on every row takes no room at all.
        if width == 0 && cell.text.is_empty() {
            continue;
        }
        if !first {
            line.push_str("  ");
        }
        first = false;
        match &cell.painted {
            Some(painted) => line.push_str(painted),
            None => line.push_str(&out.paint(cell.paint, &cell.text)),
        }
        if column < last {
            let pad = width.saturating_sub(cell.text.chars().count());
            line.push_str(&" ".repeat(pad));
        }
    }
    line
}

/// A duration as people read it: `12 ms`, `3.4 s`, `2 min 5 s`.
pub fn duration(elapsed: std::time::Duration) -> String {
    let ms = elapsed.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", elapsed.as_secs_f64())
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// "1 revision", "3 revisions".
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
