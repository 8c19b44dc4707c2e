//! The provenance guard: every entity in a draft checked against the chart.
//!
//! - supported: the chart says it (same normalized form, compatible certainty); the item
//!   lists the source records / note spans to jump to;
//! - unsupported: not found anywhere in the chart (a possible hallucination);
//! - contradicted: found with another value (dose, lab value, date, side 右/左) or the
//!   opposite certainty;
//! - omitted: active problems, discharge prescriptions and allergies the draft leaves out.
//!
//! Bare numbers (counts, durations, scores) must appear in the chart too; ICD-10 codes,
//! department and ward names are not facts. Spans a section copied from the chart (its
//! provenance) are supported by construction.
//!
//! `ChartIndex::build` reads the chart once; `ProvenanceGuard::update_section` re-checks
//! only changed sentences; `GuardReport::can_sign` is the signing rule.

pub mod chart_index;
pub mod check;
pub mod codes;
pub mod draft_file;
pub mod facts;
pub mod guard;
pub mod numbers;
pub mod provenance;
pub mod report;

pub use chart_index::{ChartIndex, ExpectedKind};
pub use check::{Check, Reason, Verdict};
pub use facts::Side;
pub use guard::{
    check_draft, check_draft_with_provenance, GuardWork, Provenance, ProvenanceGuard, SectionSpans,
    SectionWithSpans,
};
pub use provenance::provenance_after_edit;
pub use report::{GuardCounts, GuardItem, GuardReport, ItemKind, OmittedFact};
