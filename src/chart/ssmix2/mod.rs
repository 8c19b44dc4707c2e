//! SS-MIX2 標準化ストレージ as a chart source: the storage tree (`storage`), HL7 v2 after
//! ISO-2022-JP decoding (`hl7`), messages to chart records (`mapping`), clinical notes from
//! a notes directory or the extended storage (`notes`), and per patient the encounters
//! (one chart each: an inpatient stay ADT-22 → ADT-52, or an outpatient visit).
//!
//! A queue or path written `ssmix2:ROOT` names a storage root.

pub mod hl7;
pub mod mapping;
pub mod notes;
pub mod storage;

use super::{Chart, ChartError, Encounter, LabResult, Note, Patient, Prescription};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
pub use storage::Skipped;

/// The prefix that marks a queue (`--queue`, `queue_dir`) as an SS-MIX2 storage root.
pub const SCHEME: &str = "ssmix2:";

/// `ssmix2:/srv/ssmix2/root` → `/srv/ssmix2/root`; `None` for an ordinary directory.
pub fn storage_root(queue: &Path) -> Option<PathBuf> {
    queue
        .to_str()
        .and_then(|s| s.strip_prefix(SCHEME))
        .map(PathBuf::from)
}

/// `[ssmix2]` in the config: where clinical notes come from (the standardized storage has
/// none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Ssmix2Config {
    /// A directory with one folder per patient id holding notes (`*.txt`, karte JSON).
    pub notes_dir: Option<PathBuf>,
    /// The extended storage root (拡張ストレージ), whose text documents become notes.
    pub extended_root: Option<PathBuf>,
}

static CONFIG: OnceLock<Ssmix2Config> = OnceLock::new();

/// Sets the `[ssmix2]` options once for this process (done when the config is read).
pub fn configure(config: Ssmix2Config) {
    let _ = CONFIG.set(config);
}

fn config() -> Ssmix2Config {
    CONFIG.get().cloned().unwrap_or_default()
}

/// One encounter of a patient: an inpatient stay or an outpatient visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub inpatient: bool,
    pub start: NaiveDate,
    /// Discharge date; `None` while still admitted (and for outpatient visits: same day).
    pub end: Option<NaiveDate>,
    pub ward: String,
    pub department: String,
    pub attending: String,
}

impl Visit {
    fn contains(&self, date: NaiveDate) -> bool {
        if self.inpatient {
            date >= self.start && self.end.is_none_or(|end| date <= end)
        } else {
            date == self.start
        }
    }
}

/// Everything read for one patient, before it is cut into encounters.
#[derive(Debug, Clone, Default)]
pub struct PatientRecord {
    pub patient: Patient,
    pub visits: Vec<Visit>,
    pub diagnoses: Vec<super::Diagnosis>,
    /// With the 診療日 of the order (which decides the encounter it belongs to).
    pub prescriptions: Vec<(Option<NaiveDate>, Prescription)>,
    pub labs: Vec<(Option<NaiveDate>, LabResult)>,
    pub allergies: Vec<super::Allergy>,
    pub notes: Vec<Note>,
    pub skipped: Vec<Skipped>,
}

/// Reads one patient folder (`ROOT/xxx/yyy/PID`). Only a folder that cannot be listed, or
/// has no readable ADT-00 and no other data, is an error; every other problem is a
/// `skipped` entry and the patient loads with what could be read.
pub fn read_patient(dir: &Path) -> Result<PatientRecord, ChartError> {
    let folder_pid = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !dir.is_dir() {
        return Err(ChartError::new(
            dir,
            "not an SS-MIX2 patient folder",
            "SS-MIX2 の患者フォルダではありません",
            "標準化ストレージの ROOT/xxx/yyy/患者ID のフォルダを指定してください",
        ));
    }
    let mut record = PatientRecord {
        patient: Patient {
            id: folder_pid.clone(),
            ..Patient::default()
        },
        ..PatientRecord::default()
    };
    let mut skipped = Vec::new();
    let files = storage::current_files(dir, &mut skipped);
    let mut admissions = Vec::new();
    let mut discharges = Vec::new();
    let mut transfers = Vec::new();
    let mut outpatient = Vec::new();
    let mut data_dates: Vec<(NaiveDate, String)> = Vec::new();
    let mut departments: HashMap<String, String> = HashMap::new();
    let mut newest_diagnoses: Option<(String, Vec<super::Diagnosis>)> = None;
    let mut allergy_lists: Vec<(String, Vec<super::Allergy>)> = Vec::new();
    for file in &files {
        let kind = file.name.kind.as_str();
        if !KNOWN_KINDS.contains(&kind) {
            skipped.push(Skipped {
                file: file.path.clone(),
                reason: format!("unknown data type {kind}; not read"),
            });
            continue;
        }
        if !READ_KINDS.contains(&kind) {
            skipped.push(Skipped {
                file: file.path.clone(),
                reason: format!("data type {kind} is not used for charts"),
            });
            continue;
        }
        let Some(msg) = storage::read_message(&file.path, &mut skipped) else {
            continue;
        };
        if let Some(pid) = mapping::patient_id(&msg) {
            if pid != folder_pid {
                skipped.push(Skipped {
                    file: file.path.clone(),
                    reason: format!(
                        "PID-3 says patient {pid} but the file is in the folder of {folder_pid}; not read, so no other patient's data mixes in"
                    ),
                });
                continue;
            }
        }
        let missing = |segment: &str, skipped: &mut Vec<Skipped>| {
            skipped.push(Skipped {
                file: file.path.clone(),
                reason: format!(
                    "no {segment} segment (missing or truncated); nothing read from it"
                ),
            });
        };
        let prefix = format!(
            "{}-{}-",
            file.name
                .date
                .map_or("x".into(), |d| d.format("%Y%m%d").to_string()),
            file.name.order_no
        );
        match kind {
            "ADT-00" => match msg.segment("PID") {
                Some(pid) => {
                    let patient = mapping::patient(pid, &folder_pid);
                    record.patient = patient;
                    allergy_lists.push((
                        file.name.occurred.clone(),
                        mapping::allergies(&msg, "adt00-"),
                    ));
                }
                None => missing("PID", &mut skipped),
            },
            "ADT-12" | "ADT-22" | "ADT-42" | "ADT-52" => {
                if msg.segment("PV1").is_none() && msg.segment("EVN").is_none() {
                    missing("PV1", &mut skipped);
                    continue;
                }
                let mut event = mapping::adt_event(&msg, kind);
                if event.cancel {
                    continue;
                }
                if event.when.is_none() {
                    event.when = file.name.date.and_then(|d| d.and_hms_opt(0, 0, 0));
                }
                if event.department.is_empty() && file.name.department != "-" {
                    event.department = file.name.department.clone();
                }
                let Some(when) = event.when else {
                    skipped.push(Skipped {
                        file: file.path.clone(),
                        reason: "no date (PV1-44/45, EVN-6 or the folder's 診療日); not read"
                            .into(),
                    });
                    continue;
                };
                let list = match kind {
                    "ADT-12" => &mut outpatient,
                    "ADT-22" => &mut admissions,
                    "ADT-42" => &mut transfers,
                    _ => &mut discharges,
                };
                list.push((when, event));
            }
            "PPR-01" => {
                if msg.segment("PRB").is_none() {
                    missing("PRB", &mut skipped);
                    continue;
                }
                let newer = newest_diagnoses
                    .as_ref()
                    .is_none_or(|(occurred, _)| file.name.occurred > *occurred);
                if newer {
                    newest_diagnoses =
                        Some((file.name.occurred.clone(), mapping::diagnoses(&msg, "dx-")));
                }
            }
            "OMP-01" | "OMP-02" => {
                if msg.segment("RXE").is_none() {
                    missing("RXE", &mut skipped);
                    continue;
                }
                for orc in msg.all("ORC") {
                    let (code, name) = (orc.component(17, 1), orc.component(17, 2));
                    if !code.is_empty() && !name.is_empty() {
                        departments.insert(code, name);
                    }
                }
                let injection = kind == "OMP-02";
                let prefix = format!("{}{prefix}", if injection { "inj-" } else { "rx-" });
                let date = file
                    .name
                    .date
                    .or_else(|| msg.segment("ORC").and_then(|o| hl7::date(&o.value(9))));
                if let Some(d) = date {
                    data_dates.push((d, file.name.department.clone()));
                }
                for rx in mapping::prescriptions(&msg, &prefix, injection) {
                    record.prescriptions.push((date, rx));
                }
            }
            "OML-11" => {
                if msg.segment("OBX").is_none() {
                    missing("OBX", &mut skipped);
                    continue;
                }
                if let Some(d) = file.name.date {
                    data_dates.push((d, file.name.department.clone()));
                }
                for lab in mapping::labs(&msg, &format!("lab-{prefix}"), file.name.date) {
                    let date = file.name.date.or(Some(lab.datetime.date()));
                    record.labs.push((date, lab));
                }
            }
            "ADT-61" => {
                if msg.segment("IAM").is_none() && msg.segment("AL1").is_none() {
                    missing("IAM", &mut skipped);
                    continue;
                }
                allergy_lists.push((file.name.occurred.clone(), mapping::allergies(&msg, "al-")));
            }
            _ => {}
        }
    }
    record.diagnoses = newest_diagnoses.map(|(_, d)| d).unwrap_or_default();
    // ADT-61 and ADT-00's AL1 may list the same substance: keep the first.
    allergy_lists.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, list) in allergy_lists {
        for allergy in list {
            if !record
                .allergies
                .iter()
                .any(|a| a.substance == allergy.substance)
            {
                let mut allergy = allergy;
                if record.allergies.iter().any(|a| a.id == allergy.id) {
                    allergy.id = format!("{}-{}", allergy.id, record.allergies.len() + 1);
                }
                record.allergies.push(allergy);
            }
        }
    }
    record.visits = visits(
        admissions,
        discharges,
        transfers,
        outpatient,
        data_dates,
        &departments,
    );
    let cfg = config();
    record.notes = notes::read_notes(&folder_pid, &cfg, &mut skipped);
    record.skipped = skipped;
    Ok(record)
}

/// Data types of the 1.2g table (and OML-12, seen in real storages).
const KNOWN_KINDS: &[&str] = &[
    "ADT-00", "ADT-01", "ADT-12", "ADT-21", "ADT-22", "ADT-31", "ADT-32", "ADT-41", "ADT-42",
    "ADT-51", "ADT-52", "ADT-61", "PPR-01", "OMD", "OMP-01", "OMP-11", "OMP-02", "OMP-12",
    "OML-01", "OML-11", "OML-12", "OMG-01", "OMG-11", "OMG-02", "OMG-12", "OMG-03", "OMG-13",
];

const READ_KINDS: &[&str] = &[
    "ADT-00", "ADT-12", "ADT-22", "ADT-42", "ADT-52", "ADT-61", "PPR-01", "OMP-01", "OMP-02",
    "OML-11",
];

type Events = Vec<(chrono::NaiveDateTime, mapping::AdtEvent)>;

fn visits(
    mut admissions: Events,
    mut discharges: Events,
    mut transfers: Events,
    outpatient: Events,
    data_dates: Vec<(NaiveDate, String)>,
    departments: &HashMap<String, String>,
) -> Vec<Visit> {
    admissions.sort_by_key(|e| e.0);
    discharges.sort_by_key(|e| e.0);
    transfers.sort_by_key(|e| e.0);
    let department = |code: &str| {
        departments
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_owned())
    };
    let mut out: Vec<Visit> = Vec::new();
    for (i, (start, adm)) in admissions.iter().enumerate() {
        let next = admissions.get(i + 1).map(|a| a.0);
        let discharge = discharges
            .iter()
            .find(|(t, _)| t >= start && next.is_none_or(|n| *t < n));
        let end = discharge.map(|d| d.0);
        let mut wards = vec![adm.location.clone()];
        for (t, tr) in &transfers {
            if t >= start && end.is_none_or(|e| *t <= e) && !tr.location.is_empty() {
                wards.push(tr.location.clone());
            }
        }
        wards.retain(|w| !w.is_empty());
        wards.dedup();
        let last = discharge.map(|d| &d.1);
        let pick = |f: fn(&mapping::AdtEvent) -> &String| {
            last.map(f)
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| f(adm))
                .clone()
        };
        out.push(Visit {
            inpatient: true,
            start: start.date(),
            end: end.map(|e| e.date()),
            ward: wards.join("→"),
            department: department(&pick(|e| &e.department)),
            attending: pick(|e| &e.attending),
        });
    }
    let stays = out.clone();
    let in_stay = |d: NaiveDate| stays.iter().any(|s| s.contains(d));
    let mut days: Vec<(NaiveDate, String, String)> = outpatient
        .iter()
        .map(|(t, e)| (t.date(), e.department.clone(), e.attending.clone()))
        .collect();
    for (d, dept) in data_dates {
        if !days.iter().any(|(day, _, _)| *day == d) {
            days.push((
                d,
                if dept == "-" { String::new() } else { dept },
                String::new(),
            ));
        }
    }
    days.sort();
    days.dedup_by(|a, b| a.0 == b.0);
    for (d, dept, attending) in days {
        if in_stay(d) {
            continue;
        }
        out.push(Visit {
            inpatient: false,
            start: d,
            end: None,
            ward: String::new(),
            department: department(&dept),
            attending,
        });
    }
    out.sort_by_key(|v| v.start);
    out
}

/// The charts of a patient, one per encounter, each with the records of its dates
/// (diagnoses and allergies belong to every encounter). A patient without encounters gives
/// one chart with everything.
pub fn charts(record: &PatientRecord) -> Vec<Chart> {
    let pid = &record.patient.id;
    if record.visits.is_empty() {
        return vec![chart(record, pid.clone(), Encounter::default(), |_| true)];
    }
    record
        .visits
        .iter()
        .map(|v| {
            let id = format!(
                "{pid}-{}{}",
                if v.inpatient { "I" } else { "O" },
                v.start.format("%Y%m%d")
            );
            let encounter = Encounter {
                department: v.department.clone(),
                ward: v.ward.clone(),
                attending: v.attending.clone(),
                admission_date: Some(v.start),
                discharge_date: if v.inpatient { v.end } else { Some(v.start) },
            };
            chart(record, id, encounter, |d| v.contains(d))
        })
        .collect()
}

fn chart(
    record: &PatientRecord,
    id: String,
    encounter: Encounter,
    within: impl Fn(NaiveDate) -> bool,
) -> Chart {
    let dated = |d: &Option<NaiveDate>| d.is_none_or(&within);
    let mut labs: Vec<LabResult> = record
        .labs
        .iter()
        .filter(|(d, _)| dated(d))
        .map(|(_, l)| l.clone())
        .collect();
    labs.sort_by_key(|l| l.datetime);
    Chart {
        id,
        patient: record.patient.clone(),
        encounter,
        notes: record
            .notes
            .iter()
            .filter(|n| within(n.datetime.date()))
            .cloned()
            .collect(),
        labs,
        prescriptions: record
            .prescriptions
            .iter()
            .filter(|(d, _)| dated(d))
            .map(|(_, p)| p.clone())
            .collect(),
        allergies: record.allergies.clone(),
        diagnoses: record.diagnoses.clone(),
        referral: None,
    }
}

/// Whether `dir` looks like an SS-MIX2 patient folder (`-` or 8-digit date folders holding
/// data-type folders).
pub fn is_patient_dir(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        (name == "-" || (name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit())))
            && e.file_type().is_ok_and(|t| t.is_dir())
    })
}

/// What a path holds as charts: an SS-MIX2 patient folder (one chart per encounter, with
/// what was skipped), or one chart file of any other format (JSON, FHIR, text).
pub fn load_any(path: &Path) -> Result<(Vec<Chart>, Vec<Skipped>), ChartError> {
    let path = storage_root(path).unwrap_or_else(|| path.to_path_buf());
    if path.is_dir() {
        if !is_patient_dir(&path) {
            return Err(ChartError::new(
                &path,
                "a folder that is not an SS-MIX2 patient folder (no `-` or YYYYMMDD folders in it)",
                "SS-MIX2 の患者フォルダではありません (`-` や YYYYMMDD のフォルダがありません)",
                "カルテのファイル、または標準化ストレージの ROOT/xxx/yyy/患者ID のフォルダを指定してください",
            ));
        }
        let record = read_patient(&path)?;
        return Ok((charts(&record), record.skipped));
    }
    super::load(&path).map(|chart| (vec![chart], Vec::new()))
}

/// The chart with id `id` (`PID-I20260114`, `PID-O20260401`, or a bare `PID`) in the
/// storage at `root`; `None` when that patient has no such encounter.
pub fn find_chart(root: &Path, id: &str) -> Result<Option<Chart>, ChartError> {
    let pid = match id.rsplit_once('-') {
        Some((pid, tail))
            if tail.len() == 9
                && tail.starts_with(['I', 'O'])
                && tail[1..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            pid
        }
        _ => id,
    };
    let dir = storage::patient_dir(root, pid);
    if !dir.is_dir() {
        return Ok(None);
    }
    let record = read_patient(&dir)?;
    Ok(charts(&record).into_iter().find(|c| c.id == id))
}

/// A stamp of a patient's folders (the patient, date and data-type folders, and the notes
/// folder): it changes when a file is added, renamed (flag 1 → 2 / 0) or removed.
pub fn patient_stamp(dir: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut add = |path: &Path| {
        if let Ok(modified) = std::fs::metadata(path).and_then(|m| m.modified()) {
            path.hash(&mut hasher);
            modified.hash(&mut hasher);
        }
    };
    add(dir);
    for date in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let date = date.path();
        add(&date);
        for kind in std::fs::read_dir(&date).into_iter().flatten().flatten() {
            add(&kind.path());
        }
    }
    if let (Some(notes), Some(pid)) = (config().notes_dir, dir.file_name()) {
        add(&notes.join(pid));
    }
    hasher.finish()
}

/// Logs what was skipped (file names and reasons only; never content).
pub fn log_skipped(skipped: &[Skipped]) {
    for s in skipped {
        let file = s.file.file_name().map(|n| n.to_string_lossy().into_owned());
        tracing::warn!(file = ?file, "ss-mix2: {}", s.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_names_a_root() {
        assert_eq!(
            storage_root(Path::new("ssmix2:/srv/ssmix2/root")),
            Some(PathBuf::from("/srv/ssmix2/root"))
        );
        assert_eq!(storage_root(Path::new("/srv/queue")), None);
    }
}
