//! Clinical notes for SS-MIX2 patients. The standardized storage has none; they come from
//! a notes directory (`NOTES_DIR/PATIENT_ID/*.txt | *.json`) and from the extended
//! storage's text documents (`EXT_ROOT/xxx/yyy/PID/DATE/文書種別/CONTENT_FOLDER/*`).
//!
//! A `.txt` note is dated by its file name (`YYYYMMDD[HHMM]_kind.txt`, e.g.
//! `202601141530_入院時記録.txt`), else by its modification time; a `.json` file is a karte
//! chart (its notes are taken) or a JSON list of notes.

use super::storage::{self, Skipped};
use super::Ssmix2Config;
use crate::chart::{encoding, sanitize, Chart, Note};
use chrono::{NaiveDate, NaiveDateTime};
use std::path::Path;

/// Larger note files are skipped (a note is never that big).
const MAX_NOTE_BYTES: u64 = 2 * 1024 * 1024;

pub fn read_notes(pid: &str, config: &Ssmix2Config, skipped: &mut Vec<Skipped>) -> Vec<Note> {
    let mut notes = Vec::new();
    if let Some(dir) = &config.notes_dir {
        let patient = dir.join(pid);
        if patient.is_dir() {
            read_notes_dir(&patient, &mut notes, skipped);
        }
    }
    if let Some(root) = &config.extended_root {
        let patient = storage::patient_dir(root, pid);
        if patient.is_dir() {
            read_extended(&patient, &mut notes, skipped);
        }
    }
    // Ids unique within the patient.
    let mut seen = std::collections::HashSet::new();
    for (i, note) in notes.iter_mut().enumerate() {
        if !seen.insert(note.id.clone()) {
            note.id = format!("{}-{}", note.id, i + 1);
            seen.insert(note.id.clone());
        }
    }
    notes.sort_by_key(|n| n.datetime);
    notes
}

fn read_notes_dir(dir: &Path, notes: &mut Vec<Note>, skipped: &mut Vec<Skipped>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        skipped.push(Skipped {
            file: dir.to_path_buf(),
            reason: "cannot read the notes folder".into(),
        });
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("txt") => {
                if let Some(text) = read_text(&path, skipped) {
                    let stem = stem(&path);
                    let (datetime, kind) = dated_name(&stem);
                    let Some(datetime) = datetime.or_else(|| modified(&path)) else {
                        continue;
                    };
                    notes.push(Note {
                        id: format!("note-{stem}"),
                        datetime,
                        author_role: String::new(),
                        author: String::new(),
                        kind,
                        text,
                    });
                }
            }
            Some("json") => {
                if let Some(text) = read_text(&path, skipped) {
                    match notes_from_json(&text) {
                        Ok(found) => notes.extend(found),
                        Err(problem) => skipped.push(Skipped {
                            file: path,
                            reason: format!("not a karte chart or a list of notes: {problem}"),
                        }),
                    }
                }
            }
            _ => {}
        }
    }
}

fn notes_from_json(text: &str) -> Result<Vec<Note>, String> {
    if let Ok(chart) = serde_json::from_str::<Chart>(text) {
        return Ok(chart.notes);
    }
    serde_json::from_str::<Vec<Note>>(text).map_err(|e| format!("line {}: {e}", e.line()))
}

/// Extended storage: the text of each content folder's documents (plain text, or the
/// `<text>` of an HL7 CDA document).
fn read_extended(patient: &Path, notes: &mut Vec<Note>, skipped: &mut Vec<Skipped>) {
    let Ok(dates) = std::fs::read_dir(patient) else {
        return;
    };
    for date_dir in dates.filter_map(Result::ok).map(|e| e.path()) {
        let Ok(kinds) = std::fs::read_dir(&date_dir) else {
            continue;
        };
        for kind_dir in kinds.filter_map(Result::ok).map(|e| e.path()) {
            // `[local]^local name^[sys]^std code^std name^std sys`
            let kind_name = kind_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parts: Vec<&str> = kind_name.split('^').collect();
            let kind = [parts.get(4), parts.get(1)]
                .into_iter()
                .flatten()
                .find(|p| !p.trim().is_empty())
                .map(|p| p.trim().to_owned())
                .unwrap_or_default();
            let Ok(contents) = std::fs::read_dir(&kind_dir) else {
                continue;
            };
            for content in contents.filter_map(Result::ok).map(|e| e.path()) {
                if !content.is_dir() {
                    continue;
                }
                let folder = stem(&content);
                // Content folders carry the condition flag like storage files.
                let fields: Vec<&str> = folder.split('_').collect();
                if fields.last().is_some_and(|f| *f != "1") {
                    continue;
                }
                let occurred = fields
                    .len()
                    .checked_sub(3)
                    .and_then(|i| fields.get(i))
                    .and_then(|t| super::hl7::timestamp(t));
                let Ok(docs) = std::fs::read_dir(&content) else {
                    continue;
                };
                let mut docs: Vec<_> = docs.filter_map(Result::ok).map(|e| e.path()).collect();
                docs.sort();
                for doc in docs {
                    let ext = doc
                        .extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase);
                    let text = match ext.as_deref() {
                        Some("txt") => read_text(&doc, skipped),
                        Some("xml") => read_text(&doc, skipped).map(|x| cda_text(&x)),
                        _ => None,
                    };
                    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
                        continue;
                    };
                    let Some(datetime) = occurred.or_else(|| modified(&doc)) else {
                        continue;
                    };
                    notes.push(Note {
                        id: format!("ext-{folder}-{}", stem(&doc)),
                        datetime,
                        author_role: String::new(),
                        author: String::new(),
                        kind: kind.clone(),
                        text,
                    });
                }
            }
        }
    }
}

/// The narrative of a CDA document: the content of its `<text>` elements, tags removed.
fn cda_text(xml: &str) -> String {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<text") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let body = &after[open_end + 1..];
        let Some(close) = body.find("</text>") else {
            break;
        };
        out.push(strip_tags(&body[..close]));
        rest = &body[close + 7..];
    }
    out.join("\n").trim().to_owned()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn read_text(path: &Path, skipped: &mut Vec<Skipped>) -> Option<String> {
    let skip = |reason: String, skipped: &mut Vec<Skipped>| {
        skipped.push(Skipped {
            file: path.to_path_buf(),
            reason,
        });
    };
    let meta = std::fs::metadata(path).ok()?;
    if meta.len() > MAX_NOTE_BYTES {
        skip("larger than 2 MB; not read as a note".into(), skipped);
        return None;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            skip(format!("cannot read the file ({e})"), skipped);
            return None;
        }
    };
    let text = if bytes.contains(&0x1B) {
        super::hl7::decode(&bytes).text
    } else {
        match encoding::decode(&bytes) {
            Ok((t, _)) => t,
            Err(_) => {
                skip(
                    "not text in UTF-8, Shift_JIS, EUC-JP or ISO-2022-JP".into(),
                    skipped,
                );
                return None;
            }
        }
    };
    if sanitize::find_control(&text).is_some() {
        skip(
            "contains terminal control sequences; refused so it cannot alter the screen".into(),
            skipped,
        );
        return None;
    }
    Some(text)
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `202601141530_入院時記録` → (2026-01-14 15:30, 入院時記録).
fn dated_name(stem: &str) -> (Option<NaiveDateTime>, String) {
    let (head, kind) = stem.split_once('_').unwrap_or((stem, ""));
    let datetime = match head.len() {
        8 => NaiveDate::parse_from_str(head, "%Y%m%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0)),
        12 => NaiveDateTime::parse_from_str(head, "%Y%m%d%H%M").ok(),
        _ => None,
    };
    let kind = if datetime.is_some() { kind } else { "" };
    (datetime, kind.to_owned())
}

fn modified(path: &Path) -> Option<NaiveDateTime> {
    let modified = std::fs::metadata(path).ok()?.modified().ok()?;
    let utc: chrono::DateTime<chrono::Utc> = modified.into();
    Some((utc + chrono::Duration::hours(9)).naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_file_names_and_cda() {
        let (t, k) = dated_name("202601141530_入院時記録");
        assert_eq!(t.unwrap().to_string(), "2026-01-14 15:30:00");
        assert_eq!(k, "入院時記録");
        assert_eq!(dated_name("memo").0, None);
        let xml = "<ClinicalDocument><section><title>x</title><text><paragraph>主訴：発熱 &amp; 咳</paragraph></text></section></ClinicalDocument>";
        assert_eq!(cda_text(xml), "主訴：発熱 & 咳");
    }
}
