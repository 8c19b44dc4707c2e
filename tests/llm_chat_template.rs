//! A hospital's instruct GGUF carries a chat template in its metadata: karte detects it,
//! formats prompts with it (BOS once), and drafts narrative sections as chat answers. The
//! model here is the real default model with Gemma 3's own chat template written into a
//! copy of its metadata (the released base GGUF has none), so llama.cpp runs exactly the
//! path an instruct model takes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use karte::draft::{run_blocking, DocumentKind, DocumentTemplate, DraftEvent, DraftRequest};
use karte::llm::gguf_check::check_gguf;
use karte::llm::{
    event_channel, ChatMessage, ChatRole, Engine, EngineConfig, EngineEvent, GenerateRequest,
    LlmError, ModelManifest, Prompt,
};

/// Gemma 3's chat template as its instruct GGUFs ship it (shortened: no system turn).
const GEMMA3_TEMPLATE: &str = "{{ bos_token }}{% for message in messages %}\
{% if message['role'] == 'assistant' %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}\
<start_of_turn>{{ role }}\n{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}\
{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}";

const GGUF_STRING: u32 = 8;

fn model_path() -> PathBuf {
    karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf")
}

fn gguf_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A copy of `source` with one more metadata entry, `tokenizer.chat_template`; the tensor
/// infos and data are copied unchanged, the data realigned after the longer header.
fn with_chat_template(source: &Path, target: &Path, template: &str) {
    let summary = check_gguf(source).expect("the default model is a valid GGUF");
    assert!(summary.chat_template.is_none(), "the base model has none");
    let layout = summary.layout;
    let mut input = File::open(source).unwrap();
    let mut head = vec![0u8; layout.tensor_infos_end as usize];
    input.read_exact(&mut head).unwrap();

    let mut out = Vec::with_capacity(head.len() + template.len() + 64);
    // magic, version, tensor count; then the metadata count, one more.
    out.extend_from_slice(&head[..16]);
    out.extend_from_slice(&(layout.metadata_count + 1).to_le_bytes());
    out.extend_from_slice(&head[24..layout.metadata_end as usize]);
    gguf_string(&mut out, "tokenizer.chat_template");
    out.extend_from_slice(&GGUF_STRING.to_le_bytes());
    gguf_string(&mut out, template);
    out.extend_from_slice(&head[layout.metadata_end as usize..]);
    let aligned = (out.len() as u64).div_ceil(layout.alignment) * layout.alignment;
    out.resize(aligned as usize, 0);

    let mut file = File::create(target).unwrap();
    file.write_all(&out).unwrap();
    input.seek(SeekFrom::Start(layout.data_start)).unwrap();
    std::io::copy(&mut input, &mut file).unwrap();
}

fn start(path: &Path) -> Arc<Engine> {
    let mut config = EngineConfig::new(path.to_path_buf());
    config.n_ctx = 4096;
    let (engine, _events) = Engine::start(config);
    engine.wait_loaded().expect("the model loads");
    Arc::new(engine)
}

/// Prompt tokens and text of a short generation.
fn generate(engine: &Engine, prompt: Prompt) -> Result<(usize, String), LlmError> {
    let mut request =
        GenerateRequest::new(prompt, ModelManifest::default_model().sampling_defaults());
    request.max_tokens = 16;
    request.seed = 7;
    let (sink, mut events) = event_channel();
    engine.submit(request, sink);
    let mut text = String::new();
    let mut prompt_tokens = None;
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Token { text: piece, .. } => text.push_str(&piece),
            EngineEvent::Timing { timing, .. } => prompt_tokens = Some(timing.prompt_tokens),
            EngineEvent::Error { error, .. } => return Err(error),
            EngineEvent::Finished { .. } => break,
            _ => {}
        }
    }
    Ok((prompt_tokens.expect("a timing event"), text))
}

fn chat(content: &str) -> Prompt {
    Prompt::Chat(vec![ChatMessage {
        role: ChatRole::User,
        content: content.into(),
    }])
}

#[test]
fn a_model_with_a_chat_template_gets_chat_prompts_and_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let instruct = dir.path().join("gemma-3-270m-with-template.gguf");
    with_chat_template(&model_path(), &instruct, GEMMA3_TEMPLATE);
    assert_eq!(
        check_gguf(&instruct).unwrap().chat_template.as_deref(),
        Some(GEMMA3_TEMPLATE),
        "the copy is a valid GGUF with the template"
    );

    let base = start(&model_path());
    let engine = start(&instruct);
    assert!(engine.model_info().unwrap().has_chat_template);
    assert!(!base.model_info().unwrap().has_chat_template);

    // A chat prompt on a model without a template is a clear error, not a guess.
    assert_eq!(
        generate(&base, chat("こんにちは")).unwrap_err(),
        LlmError::NoChatTemplate
    );

    // With the template: the turn markers are added as special tokens (one each) around
    // the message, BOS once. The plain prompt is BOS + the text.
    let question = "肺炎で入院した患者の経過を一文で書いてください。";
    let (plain_tokens, _) = generate(&engine, Prompt::Text(question.into())).unwrap();
    let (chat_tokens, answer) = generate(&engine, chat(question)).unwrap();
    // <start_of_turn> user \n … <end_of_turn> \n <start_of_turn> model \n: 8 tokens; 7
    // would mean the chat prompt lost its BOS, 9 that it got two.
    assert_eq!(
        chat_tokens - plain_tokens,
        8,
        "turn markers and exactly one BOS: {chat_tokens} vs {plain_tokens}"
    );
    assert!(!answer.contains('\u{FFFD}'), "{answer:?}");
    assert!(
        !answer.contains("<start_of_turn>"),
        "the answer is the model's turn only: {answer:?}"
    );

    // A referral drafted on it: narrative sections come from chat prompts (no format
    // example, the section asked for by name), stream, and carry no restated heading.
    let chart = serde_json::from_str(include_str!("draft_chart.json")).unwrap();
    let mut request = DraftRequest::new(
        chart,
        DocumentTemplate::builtin(DocumentKind::Referral),
        ModelManifest::default_model().sampling_defaults(),
    );
    request.seed = 3;
    request.max_tokens = Some(24);
    request.mode = karte::draft::DraftMode::Free;
    let mut streamed = 0;
    let draft = run_blocking(Arc::clone(&engine), request, |event| {
        if let DraftEvent::Token { .. } = event {
            streamed += 1;
        }
    })
    .expect("the draft finishes");
    assert!(streamed > 0, "narrative sections stream");
    let narrative: Vec<_> = draft
        .sections
        .iter()
        .filter(|s| s.kind == karte::draft::SectionKind::Narrative)
        .collect();
    assert!(!narrative.is_empty());
    for section in narrative {
        let timing = section
            .timing
            .as_ref()
            .expect("generated sections are timed");
        assert!(timing.prompt_tokens > 0);
        assert!(!section.text.contains('\u{FFFD}'), "{:?}", section.text);
        assert!(
            !section.text.starts_with(&format!("【{}】", section.title)),
            "{:?}",
            section.text
        );
    }
}
