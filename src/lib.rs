//! karte: review and sign LLM-drafted Japanese referral letters and discharge summaries.
//!
//! Domain modules (`chart`, `nlp`, `llm`, `draft`, `review`, `store`, `metrics`, `export`)
//! know nothing of the terminal; `tui` is the only front end. See ../shared/DESIGN.md.

pub mod chart;
pub mod cli;
pub mod config;
pub mod draft;
pub mod editor;
pub mod export;
pub mod fault;
pub mod llm;
pub mod metrics;
pub mod nlp;
pub mod paths;
pub mod review;
pub mod setup;
pub mod store;
pub mod tui;
