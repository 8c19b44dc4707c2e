//! A plain-text file is one note of an otherwise unknown chart (e.g. a pasted memo).

use super::{Chart, Encounter, Note, Patient};
use chrono::NaiveDateTime;

pub fn from_plain_text(stem: &str, text: &str, written: Option<NaiveDateTime>) -> Chart {
    let datetime = written.unwrap_or_default();
    Chart {
        id: stem.to_owned(),
        patient: Patient {
            id: stem.to_owned(),
            name: format!("（{stem}）"),
            ..Patient::default()
        },
        encounter: Encounter::default(),
        notes: vec![Note {
            id: "n1".into(),
            datetime,
            author_role: String::new(),
            author: String::new(),
            kind: "テキスト".into(),
            text: text.to_owned(),
        }],
        labs: Vec::new(),
        prescriptions: Vec::new(),
        allergies: Vec::new(),
        diagnoses: Vec::new(),
        referral: None,
    }
}
