//! What is on screen: the `App` and everything it holds. Changed only by `update`.

pub mod app;
pub mod chart_summary;
pub mod document_edit;
pub mod document_state;
pub mod draft_view;
pub mod model_status;
pub mod review;
pub mod study_arms;
