//! What can go wrong in the engine, each with the file, the problem and what to do.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("model file {path} does not exist\n  run `karte setup` to install the default model, or set `model` in the config / pass --model")]
    ModelMissing { path: PathBuf },

    #[error("cannot read model file {path}: {message}\n  check the file's permissions")]
    ModelUnreadable { path: PathBuf, message: String },

    #[error("model file {path} is not a GGUF model ({detail})\n  point karte at a .gguf file (`karte setup` installs the default one)")]
    NotGguf { path: PathBuf, detail: String },

    #[error("model file {path} is truncated: {detail}\n  the download or copy was cut short; delete the file and run `karte setup` again")]
    TruncatedGguf { path: PathBuf, detail: String },

    #[error("model file {path} is corrupt: {detail}\n  delete the file and run `karte setup` again, or use another model")]
    CorruptGguf { path: PathBuf, detail: String },

    #[error("llama.cpp could not load model {path} ({detail})\n  the file may be for an architecture this llama.cpp does not know; try the default model")]
    LoadFailed { path: PathBuf, detail: String },

    #[error("llama.cpp could not create a context of {n_ctx} tokens for {path}\n  lower `context_length` in the [llm] config section")]
    ContextFailed { path: PathBuf, n_ctx: u32 },

    #[error("the model is not loaded yet")]
    NotLoaded,

    #[error("the engine has stopped (its worker thread ended)")]
    EngineStopped,

    #[error("the prompt has {prompt_tokens} tokens but the context holds {n_ctx}\n  shorten the prompt or raise `context_length` in the [llm] config section")]
    PromptTooLong { prompt_tokens: usize, n_ctx: u32 },

    #[error("the context of {n_ctx} tokens is too small for the document template: it needs at least {needed}\n  raise `context_length` in the [llm] config section")]
    ContextTooSmall { n_ctx: u32, needed: usize },

    #[error("the prompt is empty")]
    EmptyPrompt,

    #[error("the model has no chat template, but a chat prompt was given")]
    NoChatTemplate,

    #[error("the model's chat template could not be applied: {detail}")]
    ChatTemplate { detail: String },

    #[error("llama.cpp failed to decode: {detail}")]
    Decode { detail: String },

    // The server engine (`[llm] server`). These are shown to clinicians in the TUI, so they
    // are Japanese; URLs and config keys stay verbatim. They never contain the API key.
    #[error("推論サーバーの設定に問題があります: {detail}")]
    ServerConfig { detail: String },

    #[error("推論サーバー {server} に接続できません ({detail})\n  サーバーが起動しているか、[llm] server の URL を確認してください。ここまでの下書きは残っています")]
    ServerUnreachable { server: String, detail: String },

    #[error("推論サーバー {server} が API キーを拒否しました (HTTP {status})\n  [llm] api_key_file のキーがサーバーの --api-key と同じか確認してください")]
    ServerAuth { server: String, status: u16 },

    #[error("推論サーバー {server} にモデル {model} がありません (HTTP 404)\n  [llm] model をサーバーが提供するモデル名にしてください{available}")]
    ServerModelNotFound {
        server: String,
        model: String,
        /// "（提供中: a, b）" or empty.
        available: String,
    },

    #[error("推論サーバー {server} が混み合っています (HTTP {status}、{attempts} 回待って再試行しました)\n  しばらくしてからもう一度生成してください。ここまでの下書きは残っています")]
    ServerBusy {
        server: String,
        status: u16,
        attempts: u32,
    },

    #[error("推論サーバー {server} との接続が生成の途中で切れました ({detail})\n  サーバーが停止または再起動した可能性があります。ここまでの下書きは残っています。サーバーを確認してもう一度生成してください")]
    ServerStreamCut { server: String, detail: String },

    #[error("推論サーバー {server} から解釈できない応答が届きました ({detail})\n  [llm] server が OpenAI 互換 API (llama-server, vLLM, SGLang) を指しているか確認してください")]
    ServerMalformed { server: String, detail: String },

    #[error("推論サーバー {server} が {seconds:.0} 秒以内に最初の文字を返しませんでした\n  サーバーの負荷を確認するか、[llm] first_token_timeout_s を延ばしてください。ここまでの下書きは残っています")]
    ServerNoFirstToken { server: String, seconds: f64 },

    #[error("推論サーバー {server} が生成の途中で {seconds:.0} 秒応答しません\n  サーバーの負荷を確認するか、[llm] idle_timeout_s を延ばしてください。ここまでの下書きは残っています")]
    ServerIdle { server: String, seconds: f64 },

    #[error("推論サーバー {server} がエラーを返しました (HTTP {status}: {detail})\n  サーバーのログを確認してください")]
    ServerHttp {
        server: String,
        status: u16,
        detail: String,
    },
}
