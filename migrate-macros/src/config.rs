//! The crate's `migrate.toml`, read with migrate-core's reader (the CLI's).

use std::path::{Path, PathBuf};

use migrate_core::{parse_config, ProjectConfig, CONFIG_FILE};

/// What the expansion takes from migrate.toml.
pub struct Settings {
    /// The settings; all unset where there is no file.
    pub config: ProjectConfig,
    /// The file, tracked so that editing it rebuilds the crate.
    pub file: Option<PathBuf>,
    /// Its text (empty where there is none), for messages naming a line.
    #[cfg_attr(not(feature = "lint"), allow(dead_code))]
    pub text: String,
}

/// `<crate>/migrate.toml` if there is one; an error reads
/// `migrate.toml:<line>: <problem>`.
pub fn read(base: &Path) -> Result<Settings, String> {
    let path = base.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Settings {
                config: ProjectConfig::default(),
                file: None,
                text: String::new(),
            })
        }
        Err(err) => return Err(format!("cannot read {CONFIG_FILE}: {err}")),
    };
    let config = parse_config(CONFIG_FILE, &text)
        .map_err(|message| format!("{message}; the CLI reads the same file, so fix it there"))?;
    Ok(Settings {
        config,
        file: Some(path),
        text,
    })
}
