//! The engine handle: starts the worker thread (which loads the model in the background),
//! queues requests, hands out cancel tokens, and offers a blocking call for the CLI.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use super::error::LlmError;
use super::events::{
    event_channel, EngineEvent, EventReceiver, EventSender, FinishReason, ModelInfo, RequestId,
    Timing,
};
use super::manifest::ModelManifest;
use super::request::{GenerateRequest, RequestControl};
use super::server::{self, ServerSettings};
use super::settings::{default_thread_count, LlmSettings};
use super::tokenizer::Tokenizer;
use super::worker;

#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub model_path: PathBuf,
    /// Context window in tokens.
    pub n_ctx: u32,
    pub n_threads: usize,
    /// Largest number of tokens per llama.cpp decode call.
    pub n_batch: u32,
    pub flash_attention: bool,
    /// Let llama.cpp move weights into its "extra" CPU buffers (Intel AMX tiles, repacked
    /// layouts). Off by default: with `target-cpu=native` ggml compiles its AMX kernels,
    /// and on machines whose hypervisor does not enable AMX state they fault (SIGSEGV in
    /// `ldtilecfg`), killing the process. For this model the plain kernels cost little.
    pub weight_repack: bool,
    /// Tokens per prompt decode call (a fixed grid, see the worker): after a cancel the
    /// engine is free again within one chunk. 0: whole batches of `n_batch`.
    pub prompt_chunk_tokens: usize,
    /// An OpenAI-compatible server serves the requests instead of llama.cpp in this
    /// process (`[llm] server`); `model_path` is then only used to count tokens when the
    /// server cannot, and `n_ctx` when the server does not tell its context.
    pub server: Option<ServerSettings>,
}

impl EngineConfig {
    /// Defaults from the default model's manifest, all cores but one.
    pub fn new(model_path: PathBuf) -> Self {
        Self::from_settings(
            model_path,
            &LlmSettings::default(),
            &ModelManifest::default_model(),
        )
    }

    pub fn from_settings(
        model_path: PathBuf,
        settings: &LlmSettings,
        manifest: &ModelManifest,
    ) -> Self {
        Self {
            model_path,
            n_ctx: settings.context_length.unwrap_or(manifest.context.length),
            n_threads: settings.threads.unwrap_or_else(default_thread_count).max(1),
            n_batch: settings.batch_size.unwrap_or(512).clamp(32, 8192),
            flash_attention: settings.flash_attention.unwrap_or(false),
            weight_repack: settings.weight_repack.unwrap_or(false),
            prompt_chunk_tokens: settings.prompt_chunk_tokens.unwrap_or(64),
            server: ServerSettings::from_settings(settings),
        }
    }
}

/// Where the model stands; shared between the handle and the worker.
#[derive(Debug, Clone)]
pub(crate) enum LoadState {
    Loading,
    Loaded(ModelInfo, Tokenizer),
    Failed(LlmError),
    Stopped,
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<LoadState>,
    pub(crate) changed: Condvar,
    pub(crate) shutdown: AtomicBool,
}

impl Shared {
    pub(crate) fn set_state(&self, state: LoadState) {
        if let Ok(mut s) = self.state.lock() {
            *s = state;
        }
        self.changed.notify_all();
    }
}

pub(crate) struct Job {
    pub(crate) request: GenerateRequest,
    pub(crate) control: Arc<RequestControl>,
}

/// A queued or running generation.
#[derive(Clone)]
pub struct RequestHandle {
    pub id: RequestId,
    control: Arc<RequestControl>,
}

impl RequestHandle {
    /// Ends the request's event stream at once (`Finished { Cancelled }`); the worker stops
    /// at its next decode step. Cancelling a finished request does nothing.
    pub fn cancel(&self) {
        self.control.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.control.is_cancelled()
    }
}

impl std::fmt::Debug for RequestHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestHandle")
            .field("id", &self.id)
            .finish()
    }
}

/// The result of a blocking generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub text: String,
    pub reason: FinishReason,
    pub timing: Option<Timing>,
}

/// One llama.cpp model and context on one worker thread. Dropping the engine stops the
/// worker (a running generation ends at its next decode step).
pub struct Engine {
    jobs: Option<mpsc::Sender<Job>>,
    events: EventSender,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    worker: Option<JoinHandle<()>>,
}

impl Engine {
    /// Starts the worker and returns at once; the model loads in the background and the
    /// returned channel reports `Loading`, then `Loaded` or `LoadFailed`.
    pub fn start(config: EngineConfig) -> (Engine, EventReceiver) {
        let (events, receiver) = event_channel();
        let (jobs, job_receiver) = mpsc::channel::<Job>();
        let shared = Arc::new(Shared {
            state: Mutex::new(LoadState::Loading),
            changed: Condvar::new(),
            shutdown: AtomicBool::new(false),
        });
        let worker_shared = Arc::clone(&shared);
        let worker_events = events.clone();
        let spawned = std::thread::Builder::new()
            .name("karte-llm".into())
            .spawn(move || {
                match config.server.clone() {
                    Some(settings) => server::run(
                        config,
                        settings,
                        job_receiver,
                        worker_events,
                        Arc::clone(&worker_shared),
                    ),
                    None => worker::run(
                        config,
                        job_receiver,
                        worker_events,
                        Arc::clone(&worker_shared),
                    ),
                }
                // A load failure stays visible; anything else becomes Stopped. (The guard
                // must be dropped before `set_state` locks again.)
                let failed = matches!(
                    worker_shared.state.lock().as_deref(),
                    Ok(LoadState::Failed(_))
                );
                if !failed {
                    worker_shared.set_state(LoadState::Stopped);
                }
            });
        let worker = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                let error = LlmError::LoadFailed {
                    path: PathBuf::new(),
                    detail: format!("cannot start the engine thread: {e}"),
                };
                shared.set_state(LoadState::Failed(error.clone()));
                let _ = events.send(EngineEvent::LoadFailed(error));
                None
            }
        };
        let engine = Engine {
            jobs: Some(jobs),
            events,
            shared,
            next_id: AtomicU64::new(1),
            worker,
        };
        (engine, receiver)
    }

    /// A sender into the channel returned by `start` (to route request events there).
    pub fn event_sender(&self) -> EventSender {
        self.events.clone()
    }

    /// Queues a generation; its events go to `sink`. The embedded engine runs requests one
    /// after another; a server engine sends them at once (the server batches them).
    pub fn submit(&self, request: GenerateRequest, sink: EventSender) -> RequestHandle {
        let id = RequestId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let control = RequestControl::new(id, sink);
        let job = Job {
            request,
            control: Arc::clone(&control),
        };
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job).is_ok());
        if sent != Some(true) {
            let error = match self.load_state() {
                LoadState::Failed(e) => e,
                _ => LlmError::EngineStopped,
            };
            control.finish(EngineEvent::Error { id, error });
        }
        RequestHandle { id, control }
    }

    pub(crate) fn load_state(&self) -> LoadState {
        match self.shared.state.lock() {
            Ok(s) => s.clone(),
            Err(_) => LoadState::Stopped,
        }
    }

    /// The model's info once loaded.
    pub fn model_info(&self) -> Option<ModelInfo> {
        match self.load_state() {
            LoadState::Loaded(info, _) => Some(info),
            _ => None,
        }
    }

    /// The model's tokenizer once loaded.
    pub fn tokenizer(&self) -> Option<Tokenizer> {
        match self.load_state() {
            LoadState::Loaded(_, tokenizer) => Some(tokenizer),
            _ => None,
        }
    }

    /// Blocks until the model is loaded or failed to load.
    pub fn wait_loaded(&self) -> Result<ModelInfo, LlmError> {
        let mut state = self
            .shared
            .state
            .lock()
            .map_err(|_| LlmError::EngineStopped)?;
        loop {
            match &*state {
                LoadState::Loading => {
                    state = self
                        .shared
                        .changed
                        .wait(state)
                        .map_err(|_| LlmError::EngineStopped)?;
                }
                LoadState::Loaded(info, _) => return Ok(info.clone()),
                LoadState::Failed(e) => return Err(e.clone()),
                LoadState::Stopped => return Err(LlmError::EngineStopped),
            }
        }
    }

    /// Runs `request` and blocks until it finishes, passing each piece of text to `on_text`.
    /// Must not be called from inside an async runtime.
    pub fn generate(
        &self,
        request: GenerateRequest,
        mut on_text: impl FnMut(&str),
    ) -> Result<Generation, LlmError> {
        let (sink, mut receiver) = event_channel();
        let handle = self.submit(request, sink);
        let mut text = String::new();
        let mut timing = None;
        while let Some(event) = receiver.blocking_recv() {
            match event {
                EngineEvent::Token { id, text: piece } if id == handle.id => {
                    on_text(&piece);
                    text.push_str(&piece);
                }
                EngineEvent::Timing { id, timing: t } if id == handle.id => timing = Some(t),
                EngineEvent::Finished { id, reason } if id == handle.id => {
                    return Ok(Generation {
                        text,
                        reason,
                        timing,
                    })
                }
                EngineEvent::Error { id, error } if id == handle.id => return Err(error),
                _ => {}
            }
        }
        Err(LlmError::EngineStopped)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        // Closing the job channel wakes the worker if it is idle.
        self.jobs.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
