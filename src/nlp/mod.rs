//! Clinical NLP pipeline: normalize → segment (lindera) → lexicon → rules → context → structure.
//!
//! Each stage is a file and is tested alone; [`Pipeline`] runs them in order. Offsets in every
//! [`Entity`] are character offsets into the ORIGINAL text.

pub mod candidate;
pub mod context;
pub mod dictionary;
mod entity;
mod error;
pub mod lexicon;
pub mod normalize;
mod pipeline;
pub mod rules;
pub mod segment;
pub mod structure;

pub use entity::{Certainty, Entity, EntityType};
pub use error::NlpError;
pub use pipeline::Pipeline;
pub use structure::StructuredChart;
