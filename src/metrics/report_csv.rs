//! The de-identified CSV: one row per signed document, pseudonymous ids only.

use crate::metrics::report::Report;

const HEADER: &[&str] = &[
    "document",
    "clinician",
    "study",
    "arm",
    "doc_type",
    "version",
    "sessions",
    "signed_at_utc",
    "wall_s",
    "active_s",
    "reading_s",
    "editing_s",
    "waiting_s",
    "keystrokes",
    "chars_inserted",
    "chars_deleted",
    "chars_pasted",
    "edited_share",
    "retained_share",
    "flags_raised",
    "flags_fixed",
    "flags_acknowledged",
];

/// Quotes a field when it holds a separator, a quote or a line break (RFC 4180).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn optional(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.4}"))
}

impl Report {
    pub fn to_csv(&self) -> String {
        let mut out = HEADER.join(",");
        out.push('\n');
        for row in &self.documents {
            let cells = [
                field(&row.document),
                field(&row.clinician),
                field(row.study.as_deref().unwrap_or("")),
                row.arm.map_or("none", |a| a.name()).to_string(),
                field(&row.doc_type),
                row.version.to_string(),
                row.sessions.to_string(),
                row.signed_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                format!("{:.3}", row.wall_secs),
                format!("{:.3}", row.active_secs),
                format!("{:.3}", row.reading_secs),
                format!("{:.3}", row.editing_secs),
                format!("{:.3}", row.waiting_secs),
                row.keystrokes.to_string(),
                row.chars_inserted.to_string(),
                row.chars_deleted.to_string(),
                row.chars_pasted.to_string(),
                optional(row.edited_share),
                optional(row.retained_share),
                row.flags_raised.to_string(),
                row.flags_fixed.to_string(),
                row.flags_acknowledged.to_string(),
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("referral_letter"), "referral_letter");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
