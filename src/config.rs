//! The user's config file (TOML in the XDG config dir). Every field has a default, so an
//! empty or missing file is valid; a malformed one is reported with its path and line.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory of charts shown in the queue (default: the demo queue).
    pub queue_dir: Option<PathBuf>,
    /// GGUF model file (default: the model installed by `karte setup`).
    pub model: Option<PathBuf>,
    /// Theme name (a file in themes/ or the config dir's themes/) .
    pub theme: Option<String>,
    /// The clinician's name as it appears on signed documents (default: the OS user).
    pub clinician_name: Option<String>,
    /// Key bindings: command name → keys, e.g. `[keys]` `quit = "ctrl-q"` (see the TUI's help).
    pub keys: std::collections::BTreeMap<String, String>,
    /// Shared directory of chart locks (default: `<queue_dir>/.karte-locks`).
    pub lock_dir: Option<PathBuf>,
    /// `[metrics]`: idle threshold, buffer size (see `metrics::MetricsConfig`).
    #[serde(default)]
    pub metrics: crate::metrics::MetricsConfig,
    /// `[study]`: a time study (name, arms, unit, seed); none by default.
    #[serde(default)]
    pub study: Option<crate::metrics::StudyConfig>,
    /// `[llm]`: engine threads, context length, sampling overrides.
    #[serde(default)]
    pub llm: crate::llm::LlmSettings,
    /// `[ssmix2]`: notes directory and extended storage for an `ssmix2:ROOT` queue.
    #[serde(default)]
    pub ssmix2: crate::chart::ssmix2::Ssmix2Config,
    /// `[hospital]`: the issuing hospital (name, 医療機関コード, address, phone, departments),
    /// used by the printed letter and the JP-CLINS Bundle.
    #[serde(default)]
    pub hospital: crate::export::HospitalConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}\n  fix the file or move it away to use the defaults")]
    Parse { path: PathBuf, message: String },
}

impl Config {
    /// Loads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        Self::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let config: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        config.hospital.check_format().map_err(|e| e.to_string())?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_default_and_unknown_keys_are_errors() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
        let c = Config::parse("theme = \"light\"\nqueue_dir = \"/tmp/q\"").unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert!(Config::parse("thme = \"light\"")
            .unwrap_err()
            .contains("thme"));
    }

    #[test]
    fn missing_file_is_default_and_bad_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert_eq!(Config::load(&path).unwrap(), Config::default());
        std::fs::write(&path, "theme = ").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml"), "{err}");
        std::fs::write(&path, "[hospital]\ncode = \"12345\"\n").unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("config.toml") && err.contains("12345"),
            "{err}"
        );
    }
}
