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
    /// Tokens per prompt decode call (default 64): the engine is busy at most one chunk
    /// after a cancel (the cancel itself is acknowledged at once). 0: whole batches.
    pub prompt_chunk_tokens: Option<usize>,
    pub temperature: Option<f32>,
    pub top_k: Option<i32>,
    pub top_p: Option<f32>,
    pub repeat_penalty: Option<f32>,
    pub repeat_last_n: Option<i32>,
    /// An OpenAI-compatible inference server (llama-server, vLLM, SGLang) that serves the
    /// drafts instead of the embedded llama.cpp, e.g. `"http://127.0.0.1:8081"`. Unset: the
    /// embedded engine with the local GGUF file.
    pub server: Option<String>,
    /// The model name sent to the server (default: the first model the server lists).
    pub model: Option<String>,
    /// File holding the server's API key (sent as `Authorization: Bearer`); must be mode
    /// 0600 or stricter. The key is never logged.
    pub api_key_file: Option<std::path::PathBuf>,
    /// PEM file of the CA(s) that signed an `https://` server's certificate (a hospital CA);
    /// added to the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Seconds to wait for the TCP/TLS connection (default 5).
    pub connect_timeout_s: Option<f64>,
    /// Seconds from sending a request to its first token (default 120: prompt processing).
    pub first_token_timeout_s: Option<f64>,
    /// Seconds the stream may stay silent between two tokens (default 30).
    pub idle_timeout_s: Option<f64>,
    /// Allow `http://` to a host that is not loopback (default false: prompts carry patient
    /// data; use `https://`).
    pub allow_insecure_http: Option<bool>,
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
