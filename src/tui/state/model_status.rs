//! What the screen knows about the language model: missing, loading, ready or failed.
//! Fed by the engine's load events (see `workers`), shown in the draft pane.

use crate::llm::{EngineEvent, LlmError};
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum ModelState {
    /// The file is not there (run `karte setup`).
    Missing,
    /// The file is there; nothing has started loading it.
    NotLoaded,
    /// Loading, 0.0 to 1.0.
    Loading {
        progress: f32,
    },
    Ready {
        name: String,
    },
    Failed {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelStatus {
    pub file_name: String,
    pub state: ModelState,
}

impl ModelStatus {
    /// From the model path alone (before any engine reports).
    pub fn probe(path: &Path) -> Self {
        Self {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
            state: if path.is_file() {
                ModelState::NotLoaded
            } else {
                ModelState::Missing
            },
        }
    }

    /// The engine and model serving the drafts, for the status bar (once ready).
    pub fn engine_chip(&self) -> Option<String> {
        match &self.state {
            ModelState::Ready { name } => Some(name.clone()),
            _ => None,
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.state, ModelState::Ready { .. })
    }

    /// A short phrase for the draft pane and status bar.
    pub fn describe(&self) -> String {
        match &self.state {
            ModelState::Missing => format!(
                "モデル {} が見つかりません — karte setup を実行してください",
                self.file_name
            ),
            ModelState::NotLoaded => format!("モデル {} 未読込", self.file_name),
            ModelState::Loading { progress } => {
                format!("モデル読込中… {:.0}%", (progress.clamp(0.0, 1.0) * 100.0))
            }
            ModelState::Ready { name } => format!("モデル準備完了 ({name})"),
            ModelState::Failed { message } => format!("モデルを読み込めません: {message}"),
        }
    }
}

impl ModelState {
    /// The state an engine load event means; `None` for request events (tokens etc.).
    pub fn from_engine_event(event: &EngineEvent) -> Option<Self> {
        Some(match event {
            EngineEvent::Loading { progress } => ModelState::Loading {
                progress: *progress,
            },
            // Which engine serves the drafts, then the model.
            EngineEvent::Loaded(info) => ModelState::Ready {
                name: match &info.server {
                    Some(server) => format!("サーバー {server}・{}", info.name),
                    None => format!("内蔵 llama.cpp・{}", info.name),
                },
            },
            EngineEvent::LoadFailed(LlmError::ModelMissing { .. }) => ModelState::Missing,
            EngineEvent::LoadFailed(error) => ModelState::Failed {
                message: error.to_string(),
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_events_map_to_states() {
        let loading = ModelState::from_engine_event(&EngineEvent::Loading { progress: 0.5 });
        assert_eq!(loading, Some(ModelState::Loading { progress: 0.5 }));
        let missing = EngineEvent::LoadFailed(LlmError::ModelMissing {
            path: "/x.gguf".into(),
        });
        assert_eq!(
            ModelState::from_engine_event(&missing),
            Some(ModelState::Missing)
        );
        let token = EngineEvent::Token {
            id: crate::llm::RequestId(1),
            text: "a".into(),
        };
        assert_eq!(ModelState::from_engine_event(&token), None);
        let status = ModelStatus {
            file_name: "m.gguf".into(),
            state: ModelState::Loading { progress: 0.42 },
        };
        assert!(status.describe().contains("42%"));
    }

    #[test]
    fn probe_tells_missing_from_present() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        assert_eq!(ModelStatus::probe(&path).state, ModelState::Missing);
        std::fs::write(&path, b"GGUF").unwrap();
        assert_eq!(ModelStatus::probe(&path).state, ModelState::NotLoaded);
    }
}
