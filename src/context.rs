//! What every front end needs, resolved once: paths, config, queue directory, model file.
//! Precedence: an override (a command-line flag), then the config file, then the built-in
//! default.

use crate::config::Config;
use crate::paths::AppPaths;
use anyhow::Context as _;
use std::path::PathBuf;

/// File name of the default model inside the models dir (see models/).
pub const DEFAULT_MODEL_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// What the user chose for this run (the CLI's global flags); `None` = not given.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub queue: Option<PathBuf>,
    pub model: Option<PathBuf>,
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Context {
    pub paths: AppPaths,
    pub config: Config,
    pub config_path: PathBuf,
    pub queue_dir: PathBuf,
    pub model_path: PathBuf,
}

impl Context {
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Self> {
        let paths = AppPaths::discover().context("cannot find the user's directories")?;
        let config_path = overrides
            .config
            .clone()
            .unwrap_or_else(|| paths.config_file());
        let config = Config::load(&config_path)?;
        crate::chart::ssmix2::configure(config.ssmix2.clone());
        let queue_dir = overrides
            .queue
            .clone()
            .or_else(|| config.queue_dir.clone())
            .unwrap_or_else(demo_queue_dir);
        let model_path = overrides
            .model
            .clone()
            .or_else(|| config.model.clone())
            .unwrap_or_else(|| paths.models_dir().join(DEFAULT_MODEL_FILE));
        Ok(Self {
            paths,
            config,
            config_path,
            queue_dir,
            model_path,
        })
    }
}

/// The demo queue that ships with the source tree (karte is built where it runs).
pub fn demo_queue_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}
