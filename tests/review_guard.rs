//! The provenance guard over the demo charts, with the real lindera dictionary and lexicon:
//! faithful drafts built from chart facts must be (almost) all supported, and drafts with
//! one injected error of a known kind must get that error flagged.
//!
//! Targets (issue 5): ≥ 95 % of injected errors detected, ≤ 5 % false flags on faithful
//! drafts. The figures are printed (`cargo test --test review_guard -- --nocapture`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Source};
use karte::nlp::{Certainty, EntityType, Pipeline};
use karte::paths::AppPaths;
use karte::review::facts::{
    facts_of, same_value, sentence_spans, value_key, DateValue, Fact, Side,
};
use karte::review::{ChartIndex, ProvenanceGuard, Verdict};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ErrorKind {
    ChangedDose,
    SwappedDrug,
    InventedDiagnosis,
    NegationFlipped,
    WrongDate,
    WrongLaterality,
}

struct Mutation {
    kind: ErrorKind,
    section: String,
    text: String,
    /// Character span of the wrong fact in the mutated section text.
    target: (usize, usize),
    label: String,
}

fn pipeline() -> Arc<Pipeline> {
    let dir = AppPaths::discover().unwrap().ipadic_dir();
    Arc::new(
        Pipeline::load(&dir)
            .unwrap_or_else(|e| panic!("the IPADIC dictionary must be built (karte setup): {e}")),
    )
}

fn fixture_charts() -> Vec<(String, Chart)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| karte::chart::load::is_chart_file(p))
        .collect();
    paths.sort();
    let charts: Vec<(String, Chart)> = paths
        .iter()
        .map(|p| {
            let chart = karte::chart::load(p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), chart)
        })
        .collect();
    assert!(
        charts.len() >= 10,
        "expected the demo fixtures, found {}",
        charts.len()
    );
    charts
}

fn jp_date(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A draft that only says what the chart says: its records, and sentences copied from notes.
fn faithful_draft(chart: &Chart, pipeline: &Pipeline) -> Vec<(String, String)> {
    let mut sections = Vec::new();
    let e = &chart.encounter;
    let mut stay = Vec::new();
    if let Some(a) = e.admission_date {
        stay.push(format!("入院日：{}", jp_date(a)));
    }
    if let Some(d) = e.discharge_date {
        stay.push(format!("退院日：{}", jp_date(d)));
    }
    sections.push(("stay".to_string(), stay.join("\n")));
    let diagnoses: Vec<String> = chart.diagnoses.iter().map(|d| d.name.clone()).collect();
    sections.push(("diagnoses".into(), diagnoses.join("\n")));
    let any_discharge = chart.prescriptions.iter().any(|p| p.discharge);
    let meds: Vec<String> = chart
        .prescriptions
        .iter()
        .filter(|p| p.discharge || !any_discharge)
        .map(|p| format!("{} {}{} {}", p.drug, p.dose, p.unit, p.frequency))
        .collect();
    sections.push(("discharge_medications".into(), meds.join("\n")));
    let allergies: Vec<String> = chart
        .allergies
        .iter()
        .map(|a| format!("{}（{}）", a.substance, a.reaction))
        .collect();
    sections.push(("allergies".into(), allergies.join("\n")));
    let labs: Vec<String> = chart
        .labs
        .iter()
        .take(12)
        .map(|l| format!("{} {}{}", l.item, l.value, l.unit))
        .collect();
    sections.push(("lab_results".into(), labs.join("\n")));
    // The same facts reworded, as a model would write them.
    let mut summary = Vec::new();
    if let (Some(a), Some(d)) = (e.admission_date, e.discharge_date) {
        use chrono::Datelike;
        summary.push(format!(
            "{}月{}日に入院し、{}月{}日に退院した。",
            a.month(),
            a.day(),
            d.month(),
            d.day()
        ));
    }
    for d in chart
        .diagnoses
        .iter()
        .filter(|d| d.status == karte::chart::DiagnosisStatus::Active)
    {
        summary.push(format!("{}に対して加療を行った。", d.name));
    }
    for l in chart.labs.iter().rev().take(6) {
        summary.push(format!("{}は{}{}であった。", l.item, l.value, l.unit));
    }
    for p in chart.prescriptions.iter().filter(|p| p.discharge).take(6) {
        summary.push(format!(
            "{}を{}{}、{}で継続する。",
            p.drug, p.dose, p.unit, p.frequency
        ));
    }
    for a in &chart.allergies {
        summary.push(format!(
            "{}で{}の既往があり、使用を避ける。",
            a.substance, a.reaction
        ));
    }
    // Generic names for brands, full-width digits: the same facts in other spellings.
    for p in chart.prescriptions.iter().filter(|p| p.discharge).take(4) {
        let generic = pipeline
            .extract(&p.drug)
            .into_iter()
            .find(|e| e.kind == EntityType::Medication)
            .map(|e| e.normalized);
        if let Some(generic) = generic {
            summary.push(format!("退院後も{generic}（{}）を継続。", p.frequency));
        }
    }
    let full_width = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
                '.' => '．',
                _ => c,
            })
            .collect()
    };
    for l in chart.labs.iter().take(4) {
        summary.push(format!("{} {}", l.item, full_width(&l.value)));
    }
    // Other wordings: suspected and resolved problems, run-together doses, slash dates.
    for d in &chart.diagnoses {
        match d.status {
            karte::chart::DiagnosisStatus::Suspected => summary.push(format!("{}の疑い。", d.name)),
            karte::chart::DiagnosisStatus::Resolved => {
                summary.push(format!("{}は改善した。", d.name))
            }
            karte::chart::DiagnosisStatus::Active => {}
        }
    }
    for p in chart.prescriptions.iter().take(3) {
        summary.push(format!(
            "{}{}{}{}を処方。",
            p.drug, p.dose, p.unit, p.frequency
        ));
    }
    for l in chart.labs.iter().skip(4).take(3) {
        summary.push(format!("採血で{}は{}{}であった。", l.item, l.value, l.unit));
    }
    if let Some(d) = e.discharge_date {
        use chrono::Datelike;
        summary.push(format!("{}/{} 自宅退院。", d.month(), d.day()));
    }
    sections.push(("summary".into(), summary.join("\n")));
    // Up to three fact-rich sentences from every note, copied verbatim.
    let mut course = Vec::new();
    for note in chart.notes_by_date() {
        let chars: Vec<char> = note.text.chars().collect();
        let mut taken = 0;
        for (s, e) in sentence_spans(&note.text) {
            let sentence: String = chars[s..e].iter().collect::<String>().trim().to_string();
            let sentence = sentence.trim_end_matches('\n').to_string();
            if sentence.chars().count() > 120 || sentence.is_empty() {
                continue;
            }
            let facts = pipeline.extract(&sentence);
            if facts.len() >= 2 && taken < 3 {
                course.push(sentence);
                taken += 1;
            }
        }
    }
    sections.push(("hospital_course".into(), course.join("\n")));
    sections
}

fn replace_chars(text: &str, start: usize, end: usize, with: &str) -> (String, (usize, usize)) {
    let chars: Vec<char> = text.chars().collect();
    let mut out: String = chars[..start].iter().collect();
    out.push_str(with);
    out.extend(&chars[end..]);
    (out, (start, start + with.chars().count()))
}

fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

/// Replaces the last number in `s` using `f`.
fn replace_last_number(s: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let re = regex::Regex::new(r"[0-9]+(\.[0-9]+)?").unwrap();
    let m = re.find_iter(s).last()?;
    let new = f(m.as_str())?;
    Some(format!("{}{}{}", &s[..m.start()], new, &s[m.end()..]))
}

fn replace_first_number(s: &str, f: impl Fn(&str) -> Option<String>) -> Option<String> {
    let re = regex::Regex::new(r"[0-9]+(\.[0-9]+)?").unwrap();
    let m = re.find(s)?;
    let new = f(m.as_str())?;
    Some(format!("{}{}{}", &s[..m.start()], new, &s[m.end()..]))
}

fn normalized_of(pipeline: &Pipeline, text: &str, kind: EntityType) -> Option<String> {
    pipeline
        .extract(text)
        .into_iter()
        .find(|e| e.kind == kind && e.text == text)
        .map(|e| e.normalized)
}

const OTHER_DRUGS: &[&str] = &[
    "ワルファリン",
    "メトホルミン",
    "プレドニゾロン",
    "フロセミド",
    "アトルバスタチン",
    "ランソプラゾール",
    "クロピドグレル",
    "レボフロキサシン",
    "カルバマゼピン",
    "アロプリノール",
];
const OTHER_DISEASES: &[&str] = &[
    "心房細動",
    "関節リウマチ",
    "パーキンソン病",
    "甲状腺機能低下症",
    "気管支喘息",
    "痛風",
    "緑内障",
];

fn mutations(
    chart: &Chart,
    pipeline: &Pipeline,
    index: &ChartIndex,
    draft: &[(String, String)],
) -> Vec<Mutation> {
    let mut out = Vec::new();
    // At most two errors of a kind per section, so that every section (records, reworded
    // summary, sentences copied from notes) gets its share.
    let per_kind_limit = 2;
    let mut count: BTreeMap<(ErrorKind, String), usize> = BTreeMap::new();
    let mut push = |m: Mutation, out: &mut Vec<Mutation>| {
        let n = count.entry((m.kind, m.section.clone())).or_insert(0);
        if *n < per_kind_limit {
            *n += 1;
            out.push(m);
        }
    };
    let substitute_drug = OTHER_DRUGS
        .iter()
        .find(|d| {
            normalized_of(pipeline, d, EntityType::Medication)
                .is_some_and(|n| index.mentions_of(EntityType::Medication, &n).is_empty())
        })
        .copied();
    let invented = OTHER_DISEASES
        .iter()
        .filter(|d| {
            normalized_of(pipeline, d, EntityType::Disease)
                .is_some_and(|n| index.mentions_of(EntityType::Disease, &n).is_empty())
        })
        .copied()
        .collect::<Vec<_>>();

    for (key, text) in draft {
        let facts: Vec<Fact> = facts_of(text, &pipeline.extract(text));
        for fact in &facts {
            let e = &fact.entity;
            let after: String = text.chars().skip(e.end).take(2).collect();
            match e.kind {
                EntityType::Dose => {
                    let (Some(head), Some(value)) = (&fact.head, &fact.value) else {
                        continue;
                    };
                    let chart_values = index.values_of(EntityType::Dose, head);
                    if !chart_values.iter().any(|v| same_value(&v.value, value)) {
                        continue;
                    }
                    if !e.text.starts_with(|c: char| c.is_ascii_digit()) {
                        continue;
                    }
                    // "1日3回" → "1日4回"; an amount doubles: "50mg" → "100mg".
                    let schedule = e.text.contains('回');
                    let changed = if schedule {
                        replace_last_number(&e.text, |n| {
                            Some((n.parse::<u32>().ok()? + 1).to_string())
                        })
                    } else {
                        replace_first_number(&e.text, |n| {
                            let x: f64 = n.parse().ok()?;
                            let y = x * 2.0;
                            Some(if n.contains('.') {
                                format!("{y}")
                            } else {
                                format!("{}", y as i64)
                            })
                        })
                    };
                    let Some(new) = changed else { continue };
                    let new_value = value_key(EntityType::Dose, &new);
                    if chart_values
                        .iter()
                        .any(|v| same_value(&v.value, &new_value))
                    {
                        continue;
                    }
                    let (t, target) = replace_chars(text, e.start, e.end, &new);
                    push(
                        Mutation {
                            kind: ErrorKind::ChangedDose,
                            section: key.clone(),
                            text: t,
                            target,
                            label: format!("{} → {new}", e.text),
                        },
                        &mut out,
                    );
                }
                EntityType::Medication => {
                    let Some(drug) = substitute_drug else {
                        continue;
                    };
                    let (t, target) = replace_chars(text, e.start, e.end, drug);
                    push(
                        Mutation {
                            kind: ErrorKind::SwappedDrug,
                            section: key.clone(),
                            text: t,
                            target,
                            label: format!("{} → {drug}", e.text),
                        },
                        &mut out,
                    );
                }
                EntityType::Disease => {
                    let chart: Vec<Certainty> = index
                        .mentions_of(EntityType::Disease, &fact.key)
                        .iter()
                        .filter_map(|m| m.certainty)
                        .collect();
                    let flip = match e.certainty {
                        Some(Certainty::Negative) if after == "なし" => {
                            if chart.contains(&Certainty::Positive)
                                || chart.contains(&Certainty::Suspicious)
                            {
                                continue;
                            }
                            Some((e.end, e.end + 2, "あり"))
                        }
                        Some(Certainty::Positive)
                            if !chart.contains(&Certainty::Negative) && !chart.is_empty() =>
                        {
                            if after == "あり" {
                                Some((e.end, e.end + 2, "なし"))
                            } else if after.starts_with(['。', '、', '\n']) || after.is_empty() {
                                Some((e.end, e.end, "なし"))
                            } else {
                                None
                            }
                        }
                        _ => None,
                    };
                    if let Some((s, en, with)) = flip {
                        let (t, _) = replace_chars(text, s, en, with);
                        push(
                            Mutation {
                                kind: ErrorKind::NegationFlipped,
                                section: key.clone(),
                                text: t,
                                target: (e.start, e.end),
                                label: format!("{}{after} → {}{with}", e.text, e.text),
                            },
                            &mut out,
                        );
                    }
                }
                EntityType::Date => {
                    let Some(date) = &fact.date else { continue };
                    if date.day.is_none() {
                        continue;
                    }
                    let Some(new) = replace_last_number(&e.text, |d| {
                        let day: u32 = d.parse().ok()?;
                        Some(if day > 25 { day - 3 } else { day + 3 }.to_string())
                    }) else {
                        continue;
                    };
                    let (t, target) = replace_chars(text, e.start, e.end, &new);
                    push(
                        Mutation {
                            kind: ErrorKind::WrongDate,
                            section: key.clone(),
                            text: t,
                            target,
                            label: format!("{} → {new}", e.text),
                        },
                        &mut out,
                    );
                }
                EntityType::Anatomy => {
                    let Some(side) = fact.side else { continue };
                    let (from, to, other) = match side {
                        Side::Right => ('右', '左', Side::Left),
                        Side::Left => ('左', '右', Side::Right),
                        Side::Both => continue,
                    };
                    if index.sides_of(&fact.key).contains(&Some(other)) || !e.text.starts_with(from)
                    {
                        continue;
                    }
                    let new: String = std::iter::once(to).chain(e.text.chars().skip(1)).collect();
                    let (t, target) = replace_chars(text, e.start, e.end, &new);
                    push(
                        Mutation {
                            kind: ErrorKind::WrongLaterality,
                            section: key.clone(),
                            text: t,
                            target,
                            label: format!("{} → {new}", e.text),
                        },
                        &mut out,
                    );
                }
                _ => {}
            }
        }
    }
    // Invented diagnoses: one in the diagnosis list, one in the narrative.
    for (i, disease) in invented.iter().take(2).enumerate() {
        let key = if i == 0 {
            "diagnoses"
        } else {
            "hospital_course"
        };
        let Some((_, text)) = draft.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let prefix = if text.is_empty() {
            String::new()
        } else {
            format!("{text}\n")
        };
        let line = if i == 0 {
            disease.to_string()
        } else {
            format!("{disease}の既往あり。")
        };
        let start = prefix.chars().count();
        let target = (start, start + disease.chars().count());
        push(
            Mutation {
                kind: ErrorKind::InventedDiagnosis,
                section: key.into(),
                text: format!("{prefix}{line}"),
                target,
                label: disease.to_string(),
            },
            &mut out,
        );
    }
    let _ = chart;
    out
}

fn source_label(s: &Source) -> String {
    match s {
        Source::Note { id, start, end } => format!("note {id} [{start}..{end}]"),
        other => format!("{other:?}"),
    }
}

#[test]
fn guard_detects_injected_errors_with_few_false_flags() {
    let pipeline = pipeline();
    let mut faithful_items = 0usize;
    let mut false_flags = 0usize;
    let mut flagged_drafts = 0usize;
    let mut per_kind: BTreeMap<ErrorKind, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut index_ms: Vec<f64> = Vec::new();
    let charts = fixture_charts();
    for (name, chart) in &charts {
        let started = std::time::Instant::now();
        let index = Arc::new(ChartIndex::build(&pipeline, chart));
        index_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let draft = faithful_draft(chart, &pipeline);
        let mut guard = ProvenanceGuard::new(Arc::clone(&pipeline), Arc::clone(&index));
        guard.update_all(draft.iter().map(|(k, t)| (k.as_str(), t.as_str())));
        let report = guard.report();
        faithful_items += report.items.len();
        let flagged: Vec<_> = report.flagged().collect();
        false_flags += flagged.len();
        if !flagged.is_empty() {
            flagged_drafts += 1;
        }
        for item in &flagged {
            println!(
                "  false flag in {name}/{}: {:?} {:?} ({}) {:?}",
                item.section, item.kind, item.text, item.normalized, item.reason
            );
        }
        // Supported items point at chart records the reviewer can jump to.
        for item in report
            .items
            .iter()
            .filter(|i| i.verdict == Verdict::Supported)
        {
            assert!(
                !item.sources.is_empty(),
                "supported item without a source: {item:?}"
            );
            if let Some(Source::Note { id, start, end }) = item.sources.first() {
                let note = chart.note(id).expect("source note exists");
                assert!(
                    start < end && *end <= note.text.chars().count(),
                    "{}",
                    source_label(&item.sources[0])
                );
            }
        }

        for m in mutations(chart, &pipeline, &index, &draft) {
            let original = draft
                .iter()
                .find(|(k, _)| *k == m.section)
                .map(|(_, t)| t.clone())
                .unwrap();
            guard.update_section(&m.section, &m.text);
            let mutated = guard.report();
            let hit = mutated
                .flagged()
                .any(|i| i.section == m.section && i.start < m.target.1 && m.target.0 < i.end);
            let entry = per_kind.entry(m.kind).or_insert((0, 0));
            entry.1 += 1;
            if hit {
                entry.0 += 1;
            } else {
                let around = char_slice(
                    &m.text,
                    m.target.0.saturating_sub(12),
                    (m.target.1 + 12).min(m.text.chars().count()),
                );
                misses.push(format!("{name}: {:?} {} in …{around}…", m.kind, m.label));
            }
            guard.update_section(&m.section, &original);
        }
        assert_eq!(
            guard.report(),
            report,
            "restoring the text must restore the report"
        );
    }

    let injected: usize = per_kind.values().map(|(_, n)| n).sum();
    let detected: usize = per_kind.values().map(|(d, _)| d).sum();
    println!("\nprovenance guard over {} demo charts", charts.len());
    println!(
        "{:<20} {:>9} {:>9} {:>7}",
        "injected error", "injected", "detected", "rate"
    );
    for (kind, (d, n)) in &per_kind {
        println!(
            "{:<20} {:>9} {:>9} {:>6.1}%",
            format!("{kind:?}"),
            n,
            d,
            100.0 * *d as f64 / *n as f64
        );
    }
    let detection_rate = detected as f64 / injected as f64;
    let false_flag_rate = false_flags as f64 / faithful_items as f64;
    println!(
        "{:<20} {:>9} {:>9} {:>6.1}%",
        "all",
        injected,
        detected,
        100.0 * detection_rate
    );
    println!(
        "faithful drafts: {} entities checked, {} flagged = {:.2}% false flags ({} of {} drafts with any flag)",
        faithful_items,
        false_flags,
        100.0 * false_flag_rate,
        flagged_drafts,
        charts.len()
    );
    println!(
        "chart index build: {:.1} ms mean, {:.1} ms max per chart (dev profile, deps optimized)",
        index_ms.iter().sum::<f64>() / index_ms.len() as f64,
        index_ms.iter().cloned().fold(0.0, f64::max)
    );
    for miss in &misses {
        println!("  missed: {miss}");
    }
    for kind in [
        ErrorKind::ChangedDose,
        ErrorKind::SwappedDrug,
        ErrorKind::InventedDiagnosis,
        ErrorKind::NegationFlipped,
        ErrorKind::WrongDate,
        ErrorKind::WrongLaterality,
    ] {
        assert!(
            per_kind.get(&kind).is_some_and(|(_, n)| *n > 0),
            "no {kind:?} errors could be injected"
        );
    }
    assert!(
        injected >= 100,
        "too few injected errors to measure: {injected}"
    );
    assert!(
        detection_rate >= 0.95,
        "detected only {:.1}% of injected errors",
        100.0 * detection_rate
    );
    assert!(
        false_flag_rate <= 0.05,
        "{:.2}% false flags on faithful drafts",
        100.0 * false_flag_rate
    );
    let _ = DateValue::parse("2026-01-01");
}

/// CI found this with the update-loop property test: a section the guard saw after the
/// others (the preamble, filled in after the remarks) was reported after them, so the
/// report a clinician reads changed order with the editing history. Both ways of
/// updating keep the sections in the order given, as a fresh guard would.
#[test]
fn the_report_keeps_the_given_section_order_whatever_came_first() {
    let pipeline = pipeline();
    let (_, chart) = fixture_charts().remove(0);
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    let sections = [("preamble", "CRP 18.6"), ("remarks", "CRP 18.6")];
    let no_provenance: &karte::review::guard::Provenance = &[];

    let mut edited = ProvenanceGuard::new(Arc::clone(&pipeline), Arc::clone(&index));
    edited.update_all_with_provenance([("remarks", "CRP 18.6", no_provenance)]);
    edited.update_all_with_provenance(sections.iter().map(|(k, t)| (*k, *t, no_provenance)));
    let mut plain = ProvenanceGuard::new(Arc::clone(&pipeline), Arc::clone(&index));
    plain.update_section("remarks", "CRP 18.6");
    plain.update_all(sections.iter().copied());
    let mut fresh = ProvenanceGuard::new(Arc::clone(&pipeline), index);
    fresh.update_all(sections.iter().copied());

    let order = |g: &ProvenanceGuard| -> Vec<String> {
        g.report().items.iter().map(|i| i.section.clone()).collect()
    };
    assert!(!fresh.report().items.is_empty(), "CRP 18.6 is checked");
    assert_eq!(order(&fresh)[0], "preamble");
    assert_eq!(edited.report(), fresh.report());
    assert_eq!(plain.report(), fresh.report());
}
