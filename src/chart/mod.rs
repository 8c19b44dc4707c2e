//! Charts: the model, loaders (JSON, text, FHIR R4 Bundle), encoding detection,
//! control-character sanitizing, and the queue (a directory of charts).

pub mod model;

pub use model::*;
