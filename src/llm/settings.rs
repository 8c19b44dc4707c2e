//! The `[llm]` section of the config file: engine and sampling overrides. Every field is
//! optional; what is not set comes from the model manifest (`models/*.toml`) or the engine
//! defaults.

use serde::{Deserialize, Serialize};

use super::manifest::SamplingDefaults;
use super::request::Sampling;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Worker threads for llama.cpp (default: all cores but one, so the UI stays responsive).
    pub threads: Option<usize>,
    /// Context window in tokens (default: the manifest's `context.length`).
    pub context_length: Option<u32>,
    /// Tokens decoded per llama.cpp batch at most (default 512).
    pub batch_size: Option<u32>,
    /// llama.cpp flash attention (default off: with it on, llama.cpp picks kernels by batch
    /// size, so a regeneration that reuses the cached prefix may differ in the last bits).
    pub flash_attention: Option<bool>,
    /// llama.cpp's AMX / repacked weight buffers (default off: the AMX kernels crash on
    /// CPUs or VMs that report AMX without enabling it).
    pub weight_repack: Option<bool>,
    pub temperature: Option<f32>,
    pub top_k: Option<i32>,
    pub top_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub repeat_last_n: Option<i32>,
}

impl LlmSettings {
    /// The manifest's sampling defaults with this config's overrides applied.
    pub fn sampling(&self, defaults: &SamplingDefaults) -> Sampling {
        Sampling {
            temperature: self.temperature.unwrap_or(defaults.temperature),
            top_k: self.top_k.unwrap_or(defaults.top_k),
            top_p: self.top_p.unwrap_or(defaults.top_p),
            repeat_penalty: self.repeat_penalty.unwrap_or(defaults.repeat_penalty),
            repeat_last_n: self.repeat_last_n.unwrap_or(defaults.repeat_last_n),
        }
    }
}

/// All cores but one (at least one): the TUI thread keeps a core for keystrokes.
pub fn default_thread_count() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::manifest::ModelManifest;

    #[test]
    fn overrides_replace_only_what_they_set() {
        let manifest = ModelManifest::default_model();
        let settings: LlmSettings = toml::from_str("temperature = 0.2\ntop_k = 5").unwrap();
        let s = settings.sampling(&manifest.sampling);
        assert_eq!(s.temperature, 0.2);
        assert_eq!(s.top_k, 5);
        assert_eq!(s.top_p, manifest.sampling.top_p);
        assert!(toml::from_str::<LlmSettings>("temprature = 1.0").is_err());
        assert!(default_thread_count() >= 1);
    }
}
