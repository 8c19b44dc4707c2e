//! Clinical NLP pipeline: normalize → segment (lindera) → lexicon → rules → context → structure.
//!
//! Each stage is a file and is tested alone; [`Pipeline`] runs them in order. Offsets in every
//! [`Entity`] are character offsets into the ORIGINAL text.

pub mod dictionary;
mod entity;
mod error;
pub mod lexicon;
pub mod normalize;
pub mod segment;

pub use entity::{Certainty, Entity, EntityType};
pub use error::NlpError;
