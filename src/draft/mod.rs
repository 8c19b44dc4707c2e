//! Drafting documents from a chart: templates are data (TOML, built-ins embedded,
//! overridable in `<config dir>/templates/`); factual sections are filled from the chart's
//! structured records with provenance; narrative sections are written evidence first: the
//! sentences of the chart that support each one are chosen by the template's rules
//! (`evidence.rs`, on the note sectionizer's segments; `course.rs` for the dated hospital
//! course), then quoted (`evidence` mode), rewritten by the model sentence by sentence under
//! the guard (`grounded.rs`), or written by the model from the whole chart (`free`, with the
//! prompt built within the context window in `prompt.rs`).

pub mod course;
pub mod error;
pub mod evidence;
pub mod factual;
pub mod grounded;
pub mod mode;
pub mod model;
pub mod prompt;
pub mod quality;
pub mod session;
pub mod template;

pub use error::DraftError;
pub use evidence::{EvidenceItem, EvidenceRule, SectionEvidence, SectionedChart, NO_RECORD};
pub use mode::DraftMode;
pub use model::{DocumentKind, Draft, DraftSection, Origin, SectionKind, Truncation};
pub use prompt::PromptPlan;
pub use session::{run_blocking, DraftEvent, DraftRequest, DraftSession, SectionOutline};
pub use template::{Composer, DocumentTemplate, DocumentTemplates, FactSource, SectionTemplate};
