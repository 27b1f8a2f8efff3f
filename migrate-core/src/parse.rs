//! The migration file format: a header of `-- key: value` lines, then a
//! `-- migrate:up` section and an optional `-- migrate:down` section.

use crate::checksum::checksum;
use crate::error::LoadError;
use crate::revision::{Revision, Text};
use crate::suggest::closest;

/// Every header key the format knows.
pub const HEADER_KEYS: &[&str] = &[
    "revision",
    "revises",
    "message",
    "created",
    "transaction",
    "branch_labels",
    "depends_on",
];

const SECTION_PREFIX: &str = "-- migrate:";

/// `-- migrate:allow <rule>, ...` is the lint's opt-out, not a section: it
/// stays a comment of the header or section it is in, for `migrate-lint`
/// to read.
const ALLOW_WORD: &str = "allow";

/// Whether what follows `-- migrate:` is a lint opt-out.
pub fn is_lint_allow(after_prefix: &str) -> bool {
    after_prefix.split_whitespace().next() == Some(ALLOW_WORD)
}

/// The longest `message:` accepted, in bytes. Every backend's history table
/// must hold it (MySQL's `TEXT` stops at 65,535 bytes); 1,024 is ample for
/// the one-line summary `migrate history` shows.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// A NUL byte, or a carriage return that does not end a line, with the line
/// it is on. NUL ends SQLite's reading of a statement (it can loop forever
/// on what follows); a lone CR would hide line breaks from the parser, which
/// would read the whole file as one header line.
fn control_character_error(file: &str, text: &str) -> Option<LoadError> {
    let bytes = text.as_bytes();
    // The common case, without the byte-by-byte scan (see `find_crlf`).
    if !bytes.contains(&0) && !bytes.contains(&b'\r') {
        return None;
    }
    let at = bytes
        .iter()
        .enumerate()
        .position(|(i, &b)| b == 0 || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))?;
    let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
    let file = file.to_string();
    Some(if bytes[at] == 0 {
        LoadError::NulByte { file, line }
    } else {
        LoadError::LoneCarriageReturn { file, line }
    })
}

/// Parses one migration file. `file` is the path shown in messages; its last
/// component is the file name, which must contain the revision id.
/// Every problem in the file is reported, not only the first.
pub fn parse_migration(file: &str, bytes: &[u8]) -> Result<Revision, Vec<LoadError>> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let line = 1 + bytes[..err.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        vec![LoadError::NotUtf8 {
            file: file.to_string(),
            line,
        }]
    })?;
    // Windows editors often save UTF-8 with a byte order mark: it is not
    // content, and left in it would make line 1 read as SQL.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(error) = control_character_error(file, text) {
        return Err(vec![error]);
    }
    let mut parser = Parser::new(file);
    for (index, raw) in text.split('\n').enumerate() {
        parser.line(index + 1, raw.strip_suffix('\r').unwrap_or(raw));
    }
    parser.finish(checksum(bytes))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    Up,
    Down,
}

struct Parser<'f> {
    file: &'f str,
    errors: Vec<LoadError>,
    section: Section,
    /// `(key, value, line)` in file order.
    header: Vec<(String, String, usize)>,
    up: Option<(usize, String)>,
    down: Option<(usize, String)>,
}

impl<'f> Parser<'f> {
    fn new(file: &'f str) -> Self {
        Parser {
            file,
            errors: Vec::new(),
            section: Section::Header,
            header: Vec::new(),
            up: None,
            down: None,
        }
    }

    fn line(&mut self, number: usize, line: &str) {
        if let Some(name) = line.trim_end().strip_prefix(SECTION_PREFIX) {
            if !is_lint_allow(name) {
                self.start_section(number, name.trim());
                return;
            }
        } else if let Some(name) =
            near_miss_marker(line).filter(|name| !name.starts_with(ALLOW_WORD))
        {
            // Taken as a comment, it would put the down SQL into the up
            // section: a revert run on every upgrade.
            self.errors.push(LoadError::MalformedSectionMarker {
                file: self.file.to_string(),
                line: number,
                written: line.trim().to_string(),
                expected: format!("{SECTION_PREFIX}{name}"),
            });
            return;
        }
        match self.section {
            Section::Header => self.header_line(number, line),
            Section::Up => push_line(&mut self.up, line),
            Section::Down => push_line(&mut self.down, line),
        }
    }

    fn start_section(&mut self, number: usize, name: &str) {
        let (section, slot) = match name {
            "up" => (Section::Up, &mut self.up),
            "down" => (Section::Down, &mut self.down),
            _ => {
                self.errors.push(LoadError::UnknownSection {
                    file: self.file.to_string(),
                    line: number,
                    name: name.to_string(),
                });
                return;
            }
        };
        if let Some((first_line, _)) = slot {
            self.errors.push(LoadError::DuplicateSection {
                file: self.file.to_string(),
                line: number,
                name: name.to_string(),
                first_line: *first_line,
            });
        } else {
            *slot = Some((number, String::new()));
        }
        self.section = section;
    }

    fn header_line(&mut self, number: usize, line: &str) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            self.errors.push(LoadError::ContentBeforeSection {
                file: self.file.to_string(),
                line: number,
            });
            return;
        };
        if comment
            .trim_start()
            .strip_prefix("migrate:")
            .is_some_and(is_lint_allow)
        {
            return;
        }
        // `-- key: value` with a one-word key is a candidate header entry
        // (`Header::check` keeps known keys and near misses of them); any
        // other comment is free text.
        if let Some((key, value)) = comment.split_once(':') {
            let key = key.trim();
            if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                self.header
                    .push((key.to_string(), value.trim().to_string(), number));
            }
        }
    }

    fn finish(mut self, checksum: [u8; 32]) -> Result<Revision, Vec<LoadError>> {
        let header = Header::check(&self.header, self.file, &mut self.errors);
        if self.up.is_none() {
            self.errors.push(LoadError::MissingUpSection {
                file: self.file.to_string(),
            });
        }
        if let Some(id) = &header.id {
            if !file_name_has_id(self.file, id) {
                self.errors.push(LoadError::FileNameMismatch {
                    file: self.file.to_string(),
                    id: id.clone(),
                });
            }
        }
        match (header.id, self.up) {
            (Some(id), Some((up_marker, up))) if self.errors.is_empty() => Ok(Revision {
                id: id.into(),
                parents: header.revises.into(),
                depends_on: header.depends_on.into(),
                branch_labels: header.branch_labels.into(),
                message: header.message.unwrap_or_default().into(),
                created: header.created.map(Text::from),
                up_line: first_sql_line(up_marker, &up),
                down_line: self
                    .down
                    .as_ref()
                    .map_or(0, |(marker, sql)| first_sql_line(*marker, sql)),
                up_sql: up.trim().to_string().into(),
                down_sql: self.down.map(|(_, sql)| sql.trim().to_string().into()),
                transactional: header.transactional,
                checksum,
                file: self.file.to_string().into(),
            }),
            _ => Err(self.errors),
        }
    }
}

/// A line that means to be a section marker but is not written as one
/// (`--migrate:down`, `-- Migrate: down`, an indented marker): the name it
/// gives, lowercased.
fn near_miss_marker(line: &str) -> Option<String> {
    // Only a line whose first visible character is `-` can be one: every
    // other line (most of the SQL) skips the copy below, which is most of
    // what parsing a file costs the macro (it runs unoptimised).
    if !line.trim_start().starts_with('-') {
        return None;
    }
    let compact: String = line
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    compact.strip_prefix("--migrate:").map(str::to_string)
}

/// The file line of a section's first character once trimmed: the line
/// after its marker, plus the blank lines the trim drops.
fn first_sql_line(marker_line: usize, sql: &str) -> usize {
    let leading = sql.len() - sql.trim_start().len();
    marker_line + 1 + sql[..leading].matches('\n').count()
}

fn push_line(section: &mut Option<(usize, String)>, line: &str) {
    if let Some((_, sql)) = section {
        sql.push_str(line);
        sql.push('\n');
    }
}

/// The header's values, checked.
struct Header {
    id: Option<String>,
    revises: Vec<Text>,
    depends_on: Vec<Text>,
    branch_labels: Vec<Text>,
    message: Option<String>,
    created: Option<String>,
    transactional: bool,
}

impl Header {
    fn check(entries: &[(String, String, usize)], file: &str, errors: &mut Vec<LoadError>) -> Self {
        let mut header = Header {
            id: None,
            revises: Vec::new(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            message: None,
            created: None,
            transactional: true,
        };
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for (key, value, line) in entries {
            let line = *line;
            if !HEADER_KEYS.contains(&key.as_str()) {
                // A key an edit or two from a real one is a typo that would
                // otherwise silently drop a setting (`revison:`, `mesage:`);
                // anything else (`-- TODO: review`, `-- Note: slow`) is a
                // comment that happens to contain a colon.
                if let Some(meant) = closest(key, HEADER_KEYS.iter().copied()) {
                    errors.push(LoadError::UnknownKey {
                        file: file.to_string(),
                        line,
                        key: key.clone(),
                        suggestion: Some(meant.to_string()),
                    });
                }
                continue;
            }
            if let Some(&(_, first_line)) = seen.iter().find(|(k, _)| k == key) {
                errors.push(LoadError::DuplicateKey {
                    file: file.to_string(),
                    line,
                    key: key.clone(),
                    first_line,
                });
                continue;
            }
            seen.push((key, line));
            let invalid = |expected: &str| LoadError::InvalidValue {
                file: file.to_string(),
                line,
                key: key.clone(),
                value: value.clone(),
                expected: expected.to_string(),
            };
            match key.as_str() {
                "revision" if is_revision_id(value) => header.id = Some(value.clone()),
                "revision" => errors.push(invalid(REVISION_ID_RULE)),
                "revises" => match id_list(value, ListOf::Revisions) {
                    Ok(ids) => header.revises = ids,
                    Err(why) => errors.push(invalid(&why)),
                },
                "depends_on" => match id_list(value, ListOf::Revisions) {
                    Ok(ids) => header.depends_on = ids,
                    Err(why) => errors.push(invalid(&why)),
                },
                "branch_labels" => match id_list(value, ListOf::Labels) {
                    Ok(labels) if !labels.is_empty() => header.branch_labels = labels,
                    Ok(_) => errors.push(invalid("expected one or more labels, comma-separated")),
                    Err(why) => errors.push(invalid(&why)),
                },
                "message" if value.len() > MAX_MESSAGE_BYTES => {
                    errors.push(LoadError::MessageTooLong {
                        file: file.to_string(),
                        line,
                        length: value.len(),
                        limit: MAX_MESSAGE_BYTES,
                    })
                }
                "message" => header.message = Some(value.clone()),
                "created" => header.created = Some(value.clone()),
                "transaction" => match value.as_str() {
                    "true" => header.transactional = true,
                    "false" => header.transactional = false,
                    _ => errors.push(invalid("expected `true` or `false`")),
                },
                _ => unreachable!("every key of HEADER_KEYS is matched"),
            }
        }
        let has_revision_line = entries.iter().any(|(key, _, _)| key == "revision");
        if !has_revision_line {
            errors.push(LoadError::MissingRevision {
                file: file.to_string(),
            });
        }
        header
    }
}

const REVISION_ID_RULE: &str = "a revision id is 1 to 64 ASCII letters and digits, other than \
     `head`, `heads`, `base` and `current` (the CLI makes 12 hex digits)";

/// Words the target grammar owns: no revision or label may be called so.
const RESERVED: &[&str] = &["head", "heads", "base", "current"];

/// Revision ids are letters and digits only, so that they never collide with
/// the target grammar (`+N`, `-N`, `@`, `:`) or the file name's `_`; at most
/// 64 of them, the history table's column.
pub fn is_revision_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text.chars().all(|c| c.is_ascii_alphanumeric())
        && !RESERVED.contains(&text)
}

/// Branch labels are letters, digits and `_`, starting with a letter (no
/// `-`, which the target grammar reads as `<label>-N`).
pub fn is_label(text: &str) -> bool {
    !RESERVED.contains(&text)
        && text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What a list holds: revision ids or branch labels.
#[derive(Clone, Copy)]
enum ListOf {
    Revisions,
    Labels,
}

fn id_list(value: &str, kind: ListOf) -> Result<Vec<Text>, String> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    let mut items: Vec<Text> = Vec::new();
    for item in value.split(',').map(str::trim) {
        let valid = match kind {
            ListOf::Revisions => is_revision_id(item),
            ListOf::Labels => is_label(item),
        };
        if !valid {
            return Err(match kind {
                _ if item.is_empty() => "an empty entry in the comma-separated list".to_string(),
                ListOf::Revisions => format!("`{item}` is not a revision id; {REVISION_ID_RULE}"),
                ListOf::Labels => format!(
                    "`{item}` is not a label: labels are letters, digits and `_`, starting with a letter, other than `head`, `heads`, `base` and `current`"
                ),
            });
        }
        if items.iter().any(|seen| seen == item) {
            return Err(format!("`{item}` is listed twice"));
        }
        items.push(item.to_string().into());
    }
    Ok(items)
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The file name must carry the id as one of its `_`-separated parts:
/// `<rev>_<slug>.sql`, or with a date prefix `20261124_1000_<rev>_<slug>.sql`.
fn file_name_has_id(path: &str, id: &str) -> bool {
    let name = file_name(path);
    let stem = name.strip_suffix(".sql").unwrap_or(name);
    stem.split('_').any(|part| part == id)
}
