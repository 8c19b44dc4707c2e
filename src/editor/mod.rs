//! A pure text-editing core (like helix-core): a buffer with a grapheme-aware cursor,
//! selection, an in-app clipboard and undo/redo. No terminal here; the TUI draws it with
//! [`layout`] and feeds it keys. Every edit reports what it was, for the metrics.

mod buffer;
mod history;
pub mod layout;
mod words;

pub use buffer::{EditKind, EditOutcome, Editor, Motion};
