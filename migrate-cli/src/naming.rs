//! Naming new revisions: fresh ids, slugs, the file name template and the
//! `created:` timestamp.
//!
//! Dates are formatted here by hand rather than with `chrono` or `time`:
//! the CLI needs six specifiers of one calendar in UTC (UTC so that date
//! prefixes sort the same for a team spread over time zones), which is a
//! page of arithmetic, not a dependency with its own time-zone database.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// The file name template: `<rev>` (required), `<slug>`, and the date
/// specifiers `%Y %m %d %H %M %S` (`%%` for a `%`), without `.sql`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTemplate {
    template: String,
}

/// The default template: `<rev>_<slug>`, as in DESIGN.md.
pub const DEFAULT_TEMPLATE: &str = "<rev>_<slug>";

impl FileTemplate {
    /// Checks the template's syntax; whether the names it makes carry the
    /// id as the loader requires is checked by parsing a sample file (see
    /// `config.rs`), so that rule lives only in migrate-core.
    pub fn new(template: &str) -> Result<Self, String> {
        let template = template.strip_suffix(".sql").unwrap_or(template);
        if !template.contains("<rev>") {
            return Err(format!(
                "file_template `{template}` has no `<rev>`: every file name must carry its revision id"
            ));
        }
        if template.contains(['/', '\\']) {
            return Err(format!(
                "file_template `{template}` contains a path separator: files are read from the migrations directory only, not from subdirectories"
            ));
        }
        let mut chars = template.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | '%') => {}
                    other => {
                        return Err(format!(
                            "file_template `{template}`: unknown specifier `%{}`; the specifiers are %Y %m %d %H %M %S (UTC) and %% for a `%`",
                            other.map(String::from).unwrap_or_default()
                        ))
                    }
                }
            }
        }
        Ok(FileTemplate {
            template: template.to_string(),
        })
    }

    /// The template as configured.
    pub fn as_str(&self) -> &str {
        &self.template
    }

    /// The file name (with `.sql`) for a revision made at `now`.
    pub fn render(&self, rev: &str, slug: &str, now: &Utc) -> String {
        let dated = now.format(&self.template);
        let name = dated.replace("<rev>", rev).replace("<slug>", slug);
        // An empty slug must not leave `abc_.sql` or `__` behind.
        let name = collapse_underscores(&name);
        format!("{}.sql", name.trim_matches('_'))
    }
}

fn collapse_underscores(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c == '_' && out.ends_with('_')) {
            out.push(c);
        }
    }
    out
}

/// A message turned into a file-name slug: lowercase ASCII letters and
/// digits joined by `_`, at most 40 characters (as Alembic truncates).
pub fn slug(message: &str) -> String {
    let mut slug = String::new();
    for c in message.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let mut slug: String = slug.chars().take(40).collect();
    while slug.ends_with('_') {
        slug.pop();
    }
    slug
}

/// A fresh revision id: 12 hex digits, from the standard library's
/// randomly seeded SipHash keys mixed with the clock and the process id (no
/// need for a random-number crate: ids must only be unlikely to collide,
/// and collisions with existing ids are checked by the caller).
pub fn fresh_id(salt: u64) -> String {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(salt);
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// A moment in UTC, broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Utc {
    /// Now, or `SOURCE_DATE_EPOCH` when set (the reproducible-builds
    /// convention: it makes generated files, and tests, deterministic).
    pub fn now() -> Self {
        let seconds = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|value| value.trim().parse::<i64>().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or_default()
            });
        Utc::from_unix(seconds)
    }

    /// Seconds since 1970-01-01T00:00:00Z, broken down.
    pub fn from_unix(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        let of_day = seconds.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: of_day / 3600,
            minute: of_day / 60 % 60,
            second: of_day % 60,
        }
    }

    /// Expands `%Y %m %d %H %M %S %%`; anything else is copied.
    pub fn format(&self, pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len() + 8);
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('Y') => out.push_str(&format!("{:04}", self.year)),
                Some('m') => out.push_str(&format!("{:02}", self.month)),
                Some('d') => out.push_str(&format!("{:02}", self.day)),
                Some('H') => out.push_str(&format!("{:02}", self.hour)),
                Some('M') => out.push_str(&format!("{:02}", self.minute)),
                Some('S') => out.push_str(&format!("{:02}", self.second)),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }

    /// The `-- created:` value: `2026-11-24 10:00:00`.
    pub fn created(&self) -> String {
        self.format("%Y-%m-%d %H:%M:%S")
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to the
/// proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(Utc::from_unix(0).created(), "1970-01-01 00:00:00");
        // 2026-11-24T10:00:00Z
        assert_eq!(
            Utc::from_unix(1_795_514_400).created(),
            "2026-11-24 10:00:00"
        );
        // A leap day and the last second of a year.
        assert_eq!(Utc::from_unix(951_782_400).created(), "2000-02-29 00:00:00");
        assert_eq!(
            Utc::from_unix(1_704_067_199).created(),
            "2023-12-31 23:59:59"
        );
        assert_eq!(Utc::from_unix(-1).created(), "1969-12-31 23:59:59");
    }

    #[test]
    fn templates_render_and_reject_what_cannot_work() {
        let now = Utc::from_unix(1_795_514_400);
        let plain = FileTemplate::new(DEFAULT_TEMPLATE).unwrap();
        assert_eq!(
            plain.render("abc123", "add_phone", &now),
            "abc123_add_phone.sql"
        );
        assert_eq!(plain.render("abc123", "", &now), "abc123.sql");
        let dated = FileTemplate::new("%Y%m%d_%H%M_<rev>_<slug>").unwrap();
        assert_eq!(
            dated.render("abc123", "add_phone", &now),
            "20261124_1000_abc123_add_phone.sql"
        );
        assert!(FileTemplate::new("%Y_<slug>").is_err());
        assert!(FileTemplate::new("%q_<rev>").is_err());
        assert!(FileTemplate::new("sub/<rev>").is_err());
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_underscores() {
        assert_eq!(
            slug("Add phone field to users table"),
            "add_phone_field_to_users_table"
        );
        assert_eq!(slug("  -- weird: 'chars' --  "), "weird_chars");
        assert_eq!(slug("Ünïcode only"), "n_code_only");
        assert!(slug(&"x".repeat(100)).len() <= 40);
    }

    #[test]
    fn fresh_ids_are_twelve_hex_digits_and_differ() {
        let a = fresh_id(1);
        let b = fresh_id(2);
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
