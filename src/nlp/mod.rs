//! Clinical NLP pipeline: normalize → segment (lindera) → lexicon → rules → context → structure.
//!
//! Each stage is a file and is tested alone; [`Pipeline`] runs them in order:
//!
//! | stage | file | does |
//! | --- | --- | --- |
//! | 1 normalize | `normalize.rs` | NFKC, full/half-width, ㎎ → mg, with a map back to original chars |
//! | 2 segment | `segment.rs`, `dictionary.rs` | lindera + IPADIC (mmap) + medical user dictionary |
//! | 3 lexicon | `lexicon/` | curated TSVs, one Aho-Corasick automaton, leftmost-longest |
//! | 4 rules | `rules/` | doses, lab values, vitals, dates, drug stems, noun compounds |
//! | 5 context | `context.rs` | certainty of diseases (ConText-style cues and scope) |
//! | 6 structure | `structure.rs` | per chart: problems, medications, labs, allergies, procedures, timeline |
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = karte::paths::AppPaths::discover()?.ipadic_dir();
//! let pipeline = std::sync::Arc::new(karte::nlp::Pipeline::load(&dir)?); // once per process
//! for entity in pipeline.extract("発熱なし。CRP 12.5mg/dL") {
//!     println!("{} {}..{} {:?}", entity.kind, entity.start, entity.end, entity.certainty);
//! }
//! # Ok(()) }
//! ```
//!
//! Offsets in every [`Entity`] are character offsets into the ORIGINAL text (end exclusive),
//! and `entity.text` is exactly that slice.

pub mod accuracy;
pub mod candidate;
pub mod context;
pub mod dictionary;
mod entity;
mod error;
pub mod lexicon;
pub mod normalize;
mod pipeline;
pub mod rules;
pub mod sectionizer;
pub mod segment;
pub mod structure;

pub use entity::{Certainty, Entity, EntityType};
pub use error::NlpError;
pub use pipeline::Pipeline;
pub use structure::StructuredChart;
