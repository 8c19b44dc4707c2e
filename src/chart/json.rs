//! The project's own chart JSON schema (documented in the README). Validation beyond
//! serde: ids present and unique, so provenance can point at records unambiguously.

use super::Chart;
use std::collections::HashSet;

pub const SUMMARY: &str = "karte のカルテ JSON として読めません";
pub const HINT: &str =
    "README.md の「Chart files」にあるカルテの形式に合わせてファイルを直してください";

pub fn from_json(text: &str) -> Result<Chart, String> {
    let chart: Chart = serde_json::from_str(text).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            format!(
                "invalid JSON at line {}, column {}: {e}",
                e.line(),
                e.column()
            )
        } else {
            format!("not a karte chart (line {}): {e}", e.line())
        }
    })?;
    validate(&chart)?;
    Ok(chart)
}

fn validate(chart: &Chart) -> Result<(), String> {
    if chart.id.trim().is_empty() {
        return Err("the chart has an empty \"id\"".into());
    }
    let groups: [(&str, Vec<&str>); 5] = [
        ("notes", chart.notes.iter().map(|r| r.id.as_str()).collect()),
        ("labs", chart.labs.iter().map(|r| r.id.as_str()).collect()),
        (
            "prescriptions",
            chart.prescriptions.iter().map(|r| r.id.as_str()).collect(),
        ),
        (
            "allergies",
            chart.allergies.iter().map(|r| r.id.as_str()).collect(),
        ),
        (
            "diagnoses",
            chart.diagnoses.iter().map(|r| r.id.as_str()).collect(),
        ),
    ];
    for (group, ids) in groups {
        let mut seen = HashSet::new();
        for id in ids {
            if id.trim().is_empty() {
                return Err(format!("a record in \"{group}\" has an empty \"id\""));
            }
            if !seen.insert(id) {
                return Err(format!("\"{group}\" has the id \"{id}\" twice"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"id":"C1","patient":{"id":"P1","name":"架空 花子"},
        "notes":[{"id":"n1","datetime":"2026-10-01T09:00","text":"発熱なし"}]}"#;

    #[test]
    fn minimal_chart_loads_with_defaults() {
        let chart = from_json(MINIMAL).unwrap();
        assert_eq!(chart.patient.name, "架空 花子");
        assert!(chart.labs.is_empty());
        assert_eq!(chart.notes[0].text, "発熱なし");
    }

    #[test]
    fn errors_say_where_and_what() {
        assert!(from_json("{\"id\": ")
            .unwrap_err()
            .contains("invalid JSON at line 1"));
        let err = from_json(r#"{"id":"C1"}"#).unwrap_err();
        assert!(err.contains("patient"), "{err}");
        let dup = MINIMAL.replace(
            r#"[{"id":"n1""#,
            r#"[{"id":"n1","datetime":"2026-10-01","text":"x"},{"id":"n1""#,
        );
        assert!(from_json(&dup).unwrap_err().contains("\"n1\" twice"));
        let bad_date = MINIMAL.replace("2026-10-01T09:00", "R8.10.1");
        assert!(from_json(&bad_date).unwrap_err().contains("R8.10.1"));
    }
}
