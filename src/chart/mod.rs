//! Charts: the model, loaders (JSON, text, FHIR R4 Bundle), encoding detection,
//! control-character sanitizing, the queue (a directory of charts, or an SS-MIX2 storage).

pub mod addressee;
pub mod encoding;
pub mod error;
pub mod fhir;
pub mod json;
pub mod load;
pub mod model;
pub mod queue;
pub mod sanitize;
pub mod ssmix2;
pub mod text;

pub use error::ChartError;
pub use load::{load, load_bytes, MAX_CHART_BYTES};
pub use model::*;
pub use queue::{watch, Queue, QueueEntry, QueueError};
