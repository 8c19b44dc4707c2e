//! The study report: reads the metrics DB, measures each signed document, and summarizes per
//! arm and document type (n, median and mean active time, % edited, retained share, flags),
//! the reduction of assisted vs manual with a bootstrap CI, and per clinician. Ids in the
//! report are pseudonyms; no patient identifier is ever in the DB to begin with.

use crate::metrics::event::{EventKind, SignStats};
use crate::metrics::measures::{measure_documents, DocumentMeasures, StoredEvent};
use crate::metrics::pseudonym::PseudonymKey;
use crate::metrics::schema::{self, DbError};
use crate::metrics::stats::{self, ConfidenceInterval};
use crate::metrics::study::Arm;
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// Label of the summary rows over all document types.
pub const ALL_DOC_TYPES: &str = "all";

#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Only documents recorded under this study (`None`: every document).
    pub study: Option<String>,
    /// Only documents signed on or after this day (UTC).
    pub since: Option<NaiveDate>,
    pub idle_threshold_secs: f64,
    pub bootstrap_resamples: usize,
    pub bootstrap_seed: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            study: None,
            since: None,
            idle_threshold_secs: 30.0,
            bootstrap_resamples: 2000,
            bootstrap_seed: 20_240_601,
        }
    }
}

impl ReportOptions {
    /// Options for the Metrics tab or `karte report`: the configured idle threshold, and the
    /// given study (or every document).
    pub fn from_config(metrics: &crate::metrics::MetricsConfig, study: Option<&str>) -> Self {
        Self {
            study: study.map(str::to_string),
            idle_threshold_secs: metrics.idle_threshold_secs,
            ..Self::default()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("nothing to report: no signed document {what}\n  widen the range (--since, --study) or sign documents first")]
    Empty { what: String },
}

/// One signed document, de-identified.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentRow {
    /// Pseudonymous document id (keyed hash of chart hash, type, version, study).
    pub document: String,
    /// Pseudonymous clinician id (keyed hash of the OS user who signed).
    pub clinician: String,
    pub study: Option<String>,
    pub arm: Option<Arm>,
    pub doc_type: String,
    pub version: u32,
    pub sessions: usize,
    pub signed_at: DateTime<Utc>,
    pub wall_secs: f64,
    pub active_secs: f64,
    pub reading_secs: f64,
    pub editing_secs: f64,
    pub waiting_secs: f64,
    pub keystrokes: u64,
    pub chars_inserted: u64,
    pub chars_deleted: u64,
    pub chars_pasted: u64,
    pub edited_share: Option<f64>,
    pub retained_share: Option<f64>,
    pub flags_raised: u64,
    pub flags_fixed: u64,
    pub flags_acknowledged: u64,
}

/// Summary of one arm for one document type (or all types).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    pub arm: Option<Arm>,
    pub doc_type: String,
    pub n: usize,
    pub median_active_secs: f64,
    pub mean_active_secs: f64,
    pub median_waiting_secs: f64,
    /// Mean "% edited" over documents with an AI draft (0..1).
    pub mean_edited_share: Option<f64>,
    pub mean_retained_share: Option<f64>,
    pub flags_raised_per_document: f64,
    pub flags_fixed_per_document: f64,
    pub flags_acknowledged_per_document: f64,
}

/// Assisted vs manual for one document type (or all types).
#[derive(Debug, Clone, PartialEq)]
pub struct Reduction {
    pub doc_type: String,
    pub n_manual: usize,
    pub n_assisted: usize,
    /// `1 - mean(assisted) / mean(manual)` of active time: the headline figure.
    pub of_means: f64,
    /// Seeded BCa bootstrap 95 % CI of `of_means` (`None` below two documents per arm).
    pub ci: Option<ConfidenceInterval>,
    /// `1 - median(assisted) / median(manual)`, for robustness.
    pub of_medians: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClinicianSummary {
    pub clinician: String,
    pub n_manual: usize,
    pub n_assisted: usize,
    pub n_other: usize,
    pub median_manual_secs: Option<f64>,
    pub median_assisted_secs: Option<f64>,
    pub reduction_of_means: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub options: ReportOptions,
    /// Signed documents in range, ordered by sign time.
    pub documents: Vec<DocumentRow>,
    /// Documents in range still unsigned (not in the measures).
    pub unsigned_documents: usize,
    pub groups: Vec<GroupSummary>,
    pub reductions: Vec<Reduction>,
    pub clinicians: Vec<ClinicianSummary>,
}

/// What the DB says about one document row.
#[derive(Debug, Clone)]
struct DocumentInfoRow {
    document_id: String,
    doc_type: String,
    version: u32,
    study: String,
    arm: String,
}

/// Reads the DB at `db_path` and builds the report.
pub fn load_report(
    db_path: &Path,
    options: &ReportOptions,
    key: &PseudonymKey,
) -> Result<Report, ReportError> {
    load_report_from(&[db_path], options, key)
}

/// Builds one report over several DBs (each clinician keeps a DB in their own data dir; a
/// study collects them). Row ids are renumbered so the DBs never mix.
pub fn load_report_from(
    db_paths: &[&Path],
    options: &ReportOptions,
    key: &PseudonymKey,
) -> Result<Report, ReportError> {
    let mut documents = HashMap::new();
    let mut clinicians = HashMap::new();
    let mut events = Vec::new();
    let mut offset = 0i64;
    for db_path in db_paths {
        let connection = schema::open_for_reading(db_path)?;
        let classify = |e| DbError::classify(db_path, e);
        let db_documents = read_documents(&connection).map_err(classify)?;
        let db_clinicians = read_sessions(&connection).map_err(classify)?;
        let mut db_events = read_events(&connection).map_err(classify)?;
        let largest_id = db_documents
            .keys()
            .chain(db_clinicians.keys())
            .copied()
            .max()
            .unwrap_or(0);
        documents.extend(db_documents.into_iter().map(|(id, row)| (id + offset, row)));
        clinicians.extend(
            db_clinicians
                .into_iter()
                .map(|(id, name)| (id + offset, name)),
        );
        for event in &mut db_events {
            event.session += offset;
            event.document = event.document.map(|id| id + offset);
        }
        events.append(&mut db_events);
        offset += largest_id.max(0) + 1;
    }
    let threshold_us = (options.idle_threshold_secs.max(0.0) * 1e6).round() as i64;
    let measures = measure_documents(&events, threshold_us);
    build_report(&measures, &documents, &clinicians, options, key)
}

fn read_documents(connection: &Connection) -> rusqlite::Result<HashMap<i64, DocumentInfoRow>> {
    let mut statement = connection
        .prepare("SELECT id, document_id, doc_type, version, study, arm FROM documents")?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            DocumentInfoRow {
                document_id: row.get(1)?,
                doc_type: row.get(2)?,
                version: row.get(3)?,
                study: row.get(4)?,
                arm: row.get(5)?,
            },
        ))
    })?;
    rows.collect()
}

fn read_sessions(connection: &Connection) -> rusqlite::Result<HashMap<i64, String>> {
    let mut statement = connection.prepare("SELECT id, clinician FROM sessions")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

fn read_events(connection: &Connection) -> rusqlite::Result<Vec<StoredEvent>> {
    let mut sign_statement = connection.prepare(
        "SELECT event, ai_draft_chars, signed_chars, edit_distance, retained_chars FROM sign_stats",
    )?;
    let signs: HashMap<i64, SignStats> = sign_statement
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                SignStats {
                    ai_draft_chars: row.get(1)?,
                    signed_chars: row.get(2)?,
                    edit_distance: row.get(3)?,
                    retained_chars: row.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut statement = connection
        .prepare("SELECT id, session, document, kind, count, mono_us, wall_ms FROM events")?;
    let mut rows = statement.query([])?;
    let mut events = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let code: i64 = row.get(3)?;
        let count: i64 = row.get(4)?;
        let count = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
        // Codes from a newer karte are skipped rather than misread.
        let Some(kind) = EventKind::from_code(code, count, signs.get(&id).copied()) else {
            continue;
        };
        events.push(StoredEvent {
            session: row.get(1)?,
            document: row.get(2)?,
            kind,
            mono_us: row.get(5)?,
            wall_ms: row.get(6)?,
        });
    }
    Ok(events)
}

fn build_report(
    measures: &HashMap<i64, DocumentMeasures>,
    documents: &HashMap<i64, DocumentInfoRow>,
    clinicians: &HashMap<i64, String>,
    options: &ReportOptions,
    key: &PseudonymKey,
) -> Result<Report, ReportError> {
    let since_ms = options
        .since
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|start| start.and_utc().timestamp_millis());
    let mut rows = Vec::new();
    let mut unsigned_documents = 0;
    for (row_id, measured) in measures {
        let Some(info) = documents.get(row_id) else {
            continue;
        };
        if let Some(study) = &options.study {
            if &info.study != study {
                continue;
            }
        }
        let (Some(signed_ms), Some(session)) = (measured.signed_wall_ms, measured.signing_session)
        else {
            unsigned_documents += 1;
            continue;
        };
        if since_ms.is_some_and(|since| signed_ms < since) {
            continue;
        }
        let clinician = clinicians.get(&session).map(String::as_str).unwrap_or("");
        let sign = measured.sign.unwrap_or_default();
        rows.push(DocumentRow {
            document: key.pseudonym("d-", &format!("{}\u{0}{}", info.document_id, info.study)),
            clinician: key.pseudonym("c-", clinician),
            study: (!info.study.is_empty()).then(|| info.study.clone()),
            arm: Arm::parse(&info.arm),
            doc_type: info.doc_type.clone(),
            version: info.version,
            sessions: measured.sessions.len(),
            signed_at: DateTime::from_timestamp_millis(signed_ms).unwrap_or_default(),
            wall_secs: measured.wall_secs().unwrap_or(0.0),
            active_secs: measured.active_us as f64 / 1e6,
            reading_secs: measured.reading_us as f64 / 1e6,
            editing_secs: measured.editing_us as f64 / 1e6,
            waiting_secs: measured.waiting_us as f64 / 1e6,
            keystrokes: measured.keystrokes,
            chars_inserted: measured.chars_inserted,
            chars_deleted: measured.chars_deleted,
            chars_pasted: measured.chars_pasted,
            edited_share: sign.edited_share(),
            retained_share: sign.retained_share(),
            flags_raised: measured.flags_raised,
            flags_fixed: measured.flags_fixed,
            flags_acknowledged: measured.flags_acknowledged,
        });
    }
    if rows.is_empty() {
        let mut what = String::new();
        if let Some(study) = &options.study {
            what.push_str(&format!("in study {study:?} "));
        }
        match options.since {
            Some(day) => what.push_str(&format!("signed since {day}")),
            None => what.push_str("in the metrics DB"),
        }
        return Err(ReportError::Empty {
            what: what.trim().to_string(),
        });
    }
    rows.sort_by(|a, b| {
        a.signed_at
            .cmp(&b.signed_at)
            .then(a.document.cmp(&b.document))
    });
    Ok(Report {
        groups: summarize_groups(&rows),
        reductions: summarize_reductions(&rows, options),
        clinicians: summarize_clinicians(&rows),
        options: options.clone(),
        documents: rows,
        unsigned_documents,
    })
}

fn doc_types(rows: &[DocumentRow]) -> Vec<String> {
    let types: BTreeSet<&str> = rows.iter().map(|r| r.doc_type.as_str()).collect();
    let mut list: Vec<String> = types.into_iter().map(str::to_string).collect();
    list.push(ALL_DOC_TYPES.to_string());
    list
}

fn in_type<'a>(
    rows: &'a [DocumentRow],
    doc_type: &'a str,
) -> impl Iterator<Item = &'a DocumentRow> {
    rows.iter()
        .filter(move |r| doc_type == ALL_DOC_TYPES || r.doc_type == doc_type)
}

fn summarize_groups(rows: &[DocumentRow]) -> Vec<GroupSummary> {
    let mut groups = Vec::new();
    for doc_type in doc_types(rows) {
        for arm in [None, Some(Arm::Manual), Some(Arm::Assisted)] {
            let members: Vec<&DocumentRow> =
                in_type(rows, &doc_type).filter(|r| r.arm == arm).collect();
            if members.is_empty() {
                continue;
            }
            let active: Vec<f64> = members.iter().map(|r| r.active_secs).collect();
            let waiting: Vec<f64> = members.iter().map(|r| r.waiting_secs).collect();
            let edited: Vec<f64> = members.iter().filter_map(|r| r.edited_share).collect();
            let retained: Vec<f64> = members.iter().filter_map(|r| r.retained_share).collect();
            let n = members.len() as f64;
            let per_document =
                |f: fn(&DocumentRow) -> u64| members.iter().map(|r| f(r)).sum::<u64>() as f64 / n;
            groups.push(GroupSummary {
                arm,
                doc_type: doc_type.clone(),
                n: members.len(),
                median_active_secs: stats::median(&active).unwrap_or(0.0),
                mean_active_secs: stats::mean(&active).unwrap_or(0.0),
                median_waiting_secs: stats::median(&waiting).unwrap_or(0.0),
                mean_edited_share: stats::mean(&edited),
                mean_retained_share: stats::mean(&retained),
                flags_raised_per_document: per_document(|r| r.flags_raised),
                flags_fixed_per_document: per_document(|r| r.flags_fixed),
                flags_acknowledged_per_document: per_document(|r| r.flags_acknowledged),
            });
        }
    }
    groups
}

fn active_by_arm<'a>(rows: impl Iterator<Item = &'a DocumentRow>) -> (Vec<f64>, Vec<f64>) {
    let (mut manual, mut assisted) = (Vec::new(), Vec::new());
    for row in rows {
        match row.arm {
            Some(Arm::Manual) => manual.push(row.active_secs),
            Some(Arm::Assisted) => assisted.push(row.active_secs),
            None => {}
        }
    }
    (manual, assisted)
}

fn summarize_reductions(rows: &[DocumentRow], options: &ReportOptions) -> Vec<Reduction> {
    let mut reductions = Vec::new();
    for (index, doc_type) in doc_types(rows).into_iter().enumerate() {
        let (manual, assisted) = active_by_arm(in_type(rows, &doc_type));
        let (Some(of_means), Some(of_medians)) = (
            stats::reduction_of_means(&manual, &assisted),
            stats::reduction_of_medians(&manual, &assisted),
        ) else {
            continue;
        };
        reductions.push(Reduction {
            ci: stats::bootstrap_reduction_ci(
                &manual,
                &assisted,
                options.bootstrap_resamples,
                options.bootstrap_seed.wrapping_add(index as u64),
            ),
            doc_type,
            n_manual: manual.len(),
            n_assisted: assisted.len(),
            of_means,
            of_medians,
        });
    }
    reductions
}

fn summarize_clinicians(rows: &[DocumentRow]) -> Vec<ClinicianSummary> {
    let mut by_clinician: BTreeMap<&str, Vec<&DocumentRow>> = BTreeMap::new();
    for row in rows {
        by_clinician
            .entry(row.clinician.as_str())
            .or_default()
            .push(row);
    }
    by_clinician
        .into_iter()
        .map(|(clinician, members)| {
            let (manual, assisted) = active_by_arm(members.iter().copied());
            ClinicianSummary {
                clinician: clinician.to_string(),
                n_manual: manual.len(),
                n_assisted: assisted.len(),
                n_other: members.len() - manual.len() - assisted.len(),
                median_manual_secs: stats::median(&manual),
                median_assisted_secs: stats::median(&assisted),
                reduction_of_means: stats::reduction_of_means(&manual, &assisted),
            }
        })
        .collect()
}

impl Report {
    /// The group of `arm` and `doc_type` (`ALL_DOC_TYPES` for all), if it has documents.
    pub fn group(&self, arm: Option<Arm>, doc_type: &str) -> Option<&GroupSummary> {
        self.groups
            .iter()
            .find(|g| g.arm == arm && g.doc_type == doc_type)
    }

    pub fn reduction(&self, doc_type: &str) -> Option<&Reduction> {
        self.reductions.iter().find(|r| r.doc_type == doc_type)
    }
}
