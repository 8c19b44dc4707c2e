//! karte: review and sign LLM-drafted Japanese referral letters and discharge summaries.
//!
//! Domain modules (`chart`, `nlp`, `llm`, `draft`, `review`, `editor`, `store`, `metrics`,
//! `export`, and `context`/`paths`/`config`) know nothing of the terminal or the command
//! line; the front ends are `tui` (the review screen) and `cli` (subcommands, `setup`
//! included). `tests/architecture.rs` enforces it. See DESIGN.md.

pub mod chart;
pub mod cli;
pub mod config;
pub mod context;
pub mod draft;
pub mod editor;
pub mod export;
pub mod fault;
pub mod llm;
pub mod metrics;
pub mod nlp;
pub mod paths;
pub mod review;
pub mod store;
pub mod tui;
