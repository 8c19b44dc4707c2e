//! Export of signed documents: plain text, FHIR R4 document Bundle, OSC 52 clipboard.
//! [`format`]: the one `Format`, `render` and writer both front ends use.

pub mod fhir;
pub mod format;
pub mod osc52;
pub mod sections;
pub mod text;

pub use fhir::document_bundle;
pub use format::{exports_dir, file_name, render, write, Format};
pub use osc52::{osc52_for_terminal, osc52_sequence, osc52_tmux_sequence, Osc52Error};
pub use text::document_text;
