//! The standardized storage on disk: `ROOT/pid[0:3]/pid[3:6]/pid/診療日|-/データ種別/file`,
//! file names `患者ID_診療日_データ種別_オーダNo_発生日時_診療科_フラグ`. Only the current
//! file of each (診療日, データ種別, オーダNo) is read: flag `1`; `2` is superseded history and
//! `0` a deletion (a tombstone that hides the whole group).

use super::hl7;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file that was not read (or read only in part), and why; shown by `karte chart` and
/// logged (names only, never content).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub file: PathBuf,
    pub reason: String,
}

/// The parts of a storage file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub patient_id: String,
    /// 診療日; `None` for the date-less folder `-`.
    pub date: Option<NaiveDate>,
    pub kind: String,
    pub order_no: String,
    /// 発生日時 as written (17 digits); compared as text, which orders them in time.
    pub occurred: String,
    pub department: String,
    pub flag: char,
}

impl FileName {
    pub fn parse(name: &str) -> Option<FileName> {
        let parts: Vec<&str> = name.split('_').collect();
        let n = parts.len();
        if n < 7 {
            return None;
        }
        let flag = parts[n - 1];
        let flag = match flag {
            "0" | "1" | "2" => flag.chars().next()?,
            _ => return None,
        };
        let date = match parts[1] {
            "-" => None,
            d => Some(NaiveDate::parse_from_str(d, "%Y%m%d").ok()?),
        };
        Some(FileName {
            patient_id: parts[0].to_owned(),
            date,
            kind: parts[2].to_owned(),
            order_no: parts[3..n - 3].join("_"),
            occurred: parts[n - 3].to_owned(),
            department: parts[n - 2].to_owned(),
            flag,
        })
    }
}

/// One current file of a patient.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub path: PathBuf,
    pub name: FileName,
}

/// The folder of patient `pid` under `root`.
pub fn patient_dir(root: &Path, pid: &str) -> PathBuf {
    let head: String = pid.chars().take(3).collect();
    let mid: String = pid.chars().skip(3).take(3).collect();
    root.join(head).join(mid).join(pid)
}

/// Lists patient ids under `root` in order, reading only the three levels of folders.
/// Unreadable folders are skipped (and reported).
pub fn list_patients(root: &Path, skipped: &mut Vec<Skipped>) -> std::io::Result<Vec<String>> {
    let mut ids = Vec::new();
    for head in sorted_dirs(root)? {
        let Ok(mids) = sorted_dirs(&head).map_err(|e| skip_dir(&head, &e, skipped)) else {
            continue;
        };
        for mid in mids {
            let Ok(patients) = sorted_dirs(&mid).map_err(|e| skip_dir(&mid, &e, skipped)) else {
                continue;
            };
            for patient in patients {
                if let Some(name) = patient.file_name().and_then(|n| n.to_str()) {
                    ids.push(name.to_owned());
                }
            }
        }
    }
    Ok(ids)
}

fn skip_dir(dir: &Path, e: &std::io::Error, skipped: &mut Vec<Skipped>) {
    skipped.push(Skipped {
        file: dir.to_path_buf(),
        reason: format!("cannot read the folder ({e})"),
    });
}

fn sorted_dirs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The current files of one patient folder, by data type, plus what was passed over.
pub fn current_files(patient_dir: &Path, skipped: &mut Vec<Skipped>) -> Vec<StoredFile> {
    let folder_pid = patient_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut groups: BTreeMap<(Option<NaiveDate>, String, String), Vec<StoredFile>> =
        BTreeMap::new();
    let dates = sorted_dirs(patient_dir).unwrap_or_else(|e| {
        skip_dir(patient_dir, &e, skipped);
        Vec::new()
    });
    for date_dir in dates {
        let Ok(kinds) = sorted_dirs(&date_dir).map_err(|e| skip_dir(&date_dir, &e, skipped)) else {
            continue;
        };
        for kind_dir in kinds {
            let Ok(entries) = std::fs::read_dir(&kind_dir) else {
                skipped.push(Skipped {
                    file: kind_dir.clone(),
                    reason: "cannot read the folder".into(),
                });
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if !entry.file_type().is_ok_and(|t| t.is_file()) {
                    continue; // extended storage content folders are read by `notes`
                }
                let Some(name) = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(FileName::parse)
                else {
                    skipped.push(Skipped {
                        file: path,
                        reason: "the file name is not 患者ID_診療日_データ種別_オーダNo_発生日時_診療科_フラグ".into(),
                    });
                    continue;
                };
                if name.patient_id != folder_pid {
                    skipped.push(Skipped {
                        file: path,
                        reason: format!(
                            "the file name's patient id {} differs from its folder {folder_pid}; not read, so no other patient's data mixes in",
                            name.patient_id
                        ),
                    });
                    continue;
                }
                let key = (name.date, name.kind.clone(), name.order_no.clone());
                groups
                    .entry(key)
                    .or_default()
                    .push(StoredFile { path, name });
            }
        }
    }
    let mut current = Vec::new();
    for (_, mut files) in groups {
        files.sort_by(|a, b| a.name.occurred.cmp(&b.name.occurred));
        let newest_current = files.iter().rposition(|f| f.name.flag == '1');
        let newest_deletion = files.iter().rposition(|f| f.name.flag == '0');
        let deleted = match (newest_current, newest_deletion) {
            (None, _) => true,
            (Some(c), Some(d)) => d > c,
            (Some(_), None) => false,
        };
        for (i, file) in files.into_iter().enumerate() {
            let keep = !deleted && Some(i) == newest_current;
            if keep {
                current.push(file);
                continue;
            }
            let reason = match file.name.flag {
                '0' => "deleted (condition flag 0)".to_owned(),
                '2' => "superseded history (condition flag 2)".to_owned(),
                _ if deleted => "deleted by a newer condition-flag-0 file".to_owned(),
                _ => "replaced by a newer current file of the same order".to_owned(),
            };
            skipped.push(Skipped {
                file: file.path,
                reason,
            });
        }
    }
    current
}

/// Reads and decodes one file: the parsed message, or why it could not be read. Decoding
/// problems that still leave a readable message are pushed to `skipped` as warnings.
pub fn read_message(path: &Path, skipped: &mut Vec<Skipped>) -> Option<hl7::Message> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            skipped.push(Skipped {
                file: path.to_path_buf(),
                reason: format!("cannot read the file ({e})"),
            });
            return None;
        }
    };
    if bytes.contains(&0) {
        skipped.push(Skipped {
            file: path.to_path_buf(),
            reason: "binary file (NUL bytes), not an HL7 message".into(),
        });
        return None;
    }
    let decoded = hl7::decode(&bytes);
    match hl7::parse(&decoded.text) {
        Ok(mut message) => {
            if decoded.truncated {
                message.segments.pop();
                skipped.push(Skipped {
                    file: path.to_path_buf(),
                    reason:
                        "truncated (it ends inside a kanji sequence); its last segment was not read"
                            .into(),
                });
            }
            if let Some(warning) = decoded.warning {
                skipped.push(Skipped {
                    file: path.to_path_buf(),
                    reason: format!("read in part: {warning}"),
                });
            }
            Some(message)
        }
        Err(e) => {
            skipped.push(Skipped {
                file: path.to_path_buf(),
                reason: e.to_string(),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let f = FileName::parse("9999013_20110701_OMP-01_000000011000185_20110701224603984_01_1")
            .unwrap();
        assert_eq!(f.patient_id, "9999013");
        assert_eq!(f.date, NaiveDate::from_ymd_opt(2011, 7, 1));
        assert_eq!(f.kind, "OMP-01");
        assert_eq!(f.order_no, "000000011000185");
        assert_eq!(f.department, "01");
        assert_eq!(f.flag, '1');
        let f = FileName::parse("9999013_-_ADT-00_999999999999999_20111220224447339_-_2").unwrap();
        assert_eq!((f.date, f.flag), (None, '2'));
        assert!(FileName::parse("README.txt").is_none());
        assert!(FileName::parse("1_2_3_4_5_6_7").is_none());
        assert!(FileName::parse("1_20111301_3_4_5_6_1").is_none());
    }

    #[test]
    fn patient_folders() {
        assert_eq!(
            patient_dir(Path::new("/r"), "9999013"),
            Path::new("/r/999/901/9999013")
        );
    }
}
