//! Export of signed documents: plain text, JP-CLINS FHIR R4 document Bundle, PDF letter,
//! OSC 52 clipboard. `format` is the one way every front end renders and writes an export.

pub mod fhir;
pub mod format;
pub mod hospital;
pub mod osc52;
pub mod pdf;
pub mod sections;
pub mod text;

pub use fhir::{document_bundle, ClinsError, ClinsExport, MissingData};
pub use format::{
    exports_dir, file_name, render, write, write_into_exports, Format, Notice, RenderError,
    Rendered, WriteError,
};
pub use hospital::{Hospital, HospitalConfig, HospitalError};
pub use osc52::{osc52_for_terminal, osc52_sequence, osc52_tmux_sequence, Osc52Error};
pub use text::document_text;
