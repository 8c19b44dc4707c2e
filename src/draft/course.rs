//! 入院後経過 as a condensed, dated course, composed from the chart and linked to it:
//! the physician's own course summary (a 退院時記録's 経過) when there is one, then dated lines
//! for procedures (手術記録 / 処置記録: 術式), treatments started / changed / stopped (the
//! prescription rows), events from the progress notes' assessments, and the trajectory of
//! each abnormal test (first → worst → last). The chart's own day counting (POD, 入院N日目,
//! 第N病日) is kept beside the date. Every piece carries its source; only joining words
//! (開始, →, the date) are karte's own, and dates come from the records themselves.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::OnceLock;

use chrono::{NaiveDate, NaiveDateTime};
use regex::Regex;

use crate::chart::{Chart, LabFlag, LabResult, Note, Prescription, Source};
use crate::nlp::sectionizer;

use super::evidence::{dedup_key, ends_sentence, SectionEvidence, SectionedChart, NO_RECORD};
use super::template::SectionTemplate;

/// A piece of composed text with the record it came from (`None`: karte's joining words).
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub source: Option<Source>,
}

impl Piece {
    fn quoted(text: impl Into<String>, source: Source) -> Self {
        Self {
            text: text.into(),
            source: Some(source),
        }
    }
    fn joint(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            source: None,
        }
    }
}

/// One line of the course: when, how important (lower first when the budget is short).
#[derive(Debug, Clone, PartialEq)]
struct CourseLine {
    when: NaiveDateTime,
    priority: u8,
    /// What the line is about (a drug, a procedure, a test): not repeated when the lead
    /// summary already names it.
    topic: String,
    pieces: Vec<Piece>,
}

impl CourseLine {
    fn chars(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| p.text.chars().count())
            .sum::<usize>()
            + 1
    }
}

/// Words of an assessment sentence that make it an event worth a line.
const EVENT_WORDS: [&str; 17] = [
    "出現",
    "発症",
    "合併",
    "増悪",
    "再燃",
    "転倒",
    "せん妄",
    "中止",
    "変更",
    "再開",
    "悪化",
    "穿孔",
    "再出血",
    "抜去",
    "離床",
    "開始",
    "施行",
];

/// The composed course and its provenance (char ranges of the text).
pub fn compose(
    chart: &Chart,
    sectioned: &SectionedChart,
    section: &SectionTemplate,
    lead: &SectionEvidence,
) -> (String, Vec<(Range<usize>, Source)>) {
    let budget = section.evidence_chars.max(80);
    let mut out = Composer::default();
    // The physician's own summary (or the template's lead evidence) first.
    let mut lead_keys: Vec<String> = Vec::new();
    for (i, item) in lead.items.iter().enumerate() {
        if out.len + item.text.chars().count() > budget * 3 / 5 && i > 0 {
            break;
        }
        if i > 0 {
            out.push(&Piece::joint(if ends_sentence(&lead.items[i - 1].text) {
                ""
            } else {
                "。"
            }));
        }
        out.push(&Piece::quoted(item.text.clone(), item.source()));
        lead_keys.push(dedup_key(&item.text));
    }
    let lead_text: String = lead_keys.concat();
    let mut lines = Vec::new();
    lines.extend(procedure_lines(sectioned));
    lines.extend(treatment_lines(chart));
    if lead.is_empty() {
        lines.extend(event_lines(sectioned));
    }
    lines.extend(lab_lines(chart));
    // What the lead already says is not said again.
    lines.retain(|l| {
        let topic = dedup_key(&l.topic);
        topic.is_empty() || !lead_text.contains(&topic)
    });
    dedup_lines(&mut lines);
    // Within the budget, the most important lines; then written in date order.
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by_key(|&i| (lines[i].priority, lines[i].when));
    let mut used = out.len;
    let mut keep = vec![false; lines.len()];
    for i in order {
        let n = lines[i].chars();
        if used + n <= budget || used == 0 {
            used += n;
            keep[i] = true;
        }
    }
    let mut chosen: Vec<&CourseLine> = lines
        .iter()
        .zip(keep)
        .filter_map(|(l, k)| k.then_some(l))
        .collect();
    chosen.sort_by_key(|l| (l.when, l.priority));
    for line in chosen {
        if out.len > 0 {
            out.push(&Piece::joint("\n"));
        }
        for piece in &line.pieces {
            out.push(piece);
        }
    }
    if out.len == 0 {
        return (NO_RECORD.to_string(), Vec::new());
    }
    (out.text, out.provenance)
}

#[derive(Default)]
struct Composer {
    text: String,
    len: usize,
    provenance: Vec<(Range<usize>, Source)>,
}

impl Composer {
    fn push(&mut self, piece: &Piece) {
        let n = piece.text.chars().count();
        if let Some(source) = &piece.source {
            self.provenance
                .push((self.len..self.len + n, source.clone()));
        }
        self.text.push_str(&piece.text);
        self.len += n;
    }
}

fn md(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}/{}", date.month(), date.day())
}

/// The date of a note as a piece that points at the note.
fn note_date(note: &Note) -> Piece {
    Piece::quoted(
        md(note.datetime.date()),
        Source::Note {
            id: note.id.clone(),
            start: 0,
            end: 0,
        },
    )
}

/// The chart's own day count in the note's first line (POD3, 術後3日目, 入院5日目, 第4病日).
fn day_count(note: &Note) -> Option<Piece> {
    static DAY: OnceLock<Option<Regex>> = OnceLock::new();
    let re = DAY
        .get_or_init(|| {
            Regex::new(r"(POD\s?[0-9０-９]+|術後[0-9０-９]+日目|入院[0-9０-９]+日目|第[0-9０-９]+病日|day\s?[0-9]+)").ok()
        })
        .as_ref()?;
    let first_line = note.text.lines().next()?;
    let m = re.find(first_line)?;
    let start = first_line[..m.start()].chars().count();
    let end = start + m.as_str().chars().count();
    Some(Piece::quoted(
        m.as_str(),
        Source::Note {
            id: note.id.clone(),
            start,
            end,
        },
    ))
}

fn dated_head(note: &Note) -> Vec<Piece> {
    let mut head = vec![note_date(note)];
    if let Some(day) = day_count(note) {
        head.push(Piece::joint("（"));
        head.push(day);
        head.push(Piece::joint("）"));
    }
    head.push(Piece::joint(" "));
    head
}

fn sentence_piece(note: &Note, range: Range<usize>) -> Piece {
    let text: String = note
        .text
        .chars()
        .skip(range.start)
        .take(range.len())
        .collect();
    Piece::quoted(
        text,
        Source::Note {
            id: note.id.clone(),
            start: range.start,
            end: range.end,
        },
    )
}

/// 術式 of each 手術記録 / 処置記録 (or its first sentence), with the date.
fn procedure_lines(sectioned: &SectionedChart) -> Vec<CourseLine> {
    let mut lines = Vec::new();
    for (note, segments) in &sectioned.notes {
        if !(note.kind.contains("手術") || note.kind.contains("処置")) {
            continue;
        }
        let segment = segments
            .iter()
            .find(|s| s.label == "op_procedure")
            .or_else(|| segments.iter().find(|s| s.label != "op_operators"));
        let Some(segment) = segment else { continue };
        let Some(first) = sectionizer::sentences(&note.text, segment.body())
            .into_iter()
            .next()
        else {
            continue;
        };
        let mut pieces = dated_head(note);
        let procedure = sentence_piece(note, first);
        let topic: String = procedure.text.chars().take(8).collect();
        pieces.push(procedure);
        // The key finding, when the record has one.
        if let Some(findings) = segments.iter().find(|s| s.label == "op_findings") {
            if let Some(f) = sectionizer::sentences(&note.text, findings.body())
                .into_iter()
                .next()
            {
                let piece = sentence_piece(note, f);
                if piece.text.chars().count() <= 60 {
                    pieces.push(Piece::joint("。所見: "));
                    pieces.push(piece);
                }
            }
        }
        lines.push(CourseLine {
            when: note.datetime,
            priority: 0,
            topic,
            pieces,
        });
    }
    lines
}

/// The drug's name without its strength (「アムロジピン錠5mg」 → 「アムロジピン錠」).
fn drug_base(drug: &str) -> String {
    drug.chars()
        .take_while(|c| !c.is_ascii_digit() && !('０'..='９').contains(c) && *c != ' ')
        .collect()
}

fn regimen(p: &Prescription) -> String {
    let mut s = p.drug.clone();
    // 「アセリオ静注液1000mg」 already says its 1000mg.
    let strength = format!("{}{}", p.dose, p.unit);
    if !p.dose.is_empty() && !p.drug.contains(&strength) {
        s.push(' ');
        s.push_str(&p.dose);
        s.push_str(&p.unit);
    }
    if !p.frequency.is_empty() {
        s.push(' ');
        s.push_str(&p.frequency);
    }
    if !p.route.is_empty() && !p.frequency.contains(p.route.as_str()) {
        s.push_str(&format!("（{}）", p.route));
    }
    s
}

/// Treatments begun in hospital: started, changed (a new row of the same drug), stopped.
fn treatment_lines(chart: &Chart) -> Vec<CourseLine> {
    let admission = chart.encounter.admission_date;
    let mut by_drug: BTreeMap<String, Vec<&Prescription>> = BTreeMap::new();
    for p in &chart.prescriptions {
        let began_here = match (p.start, admission) {
            (Some(start), Some(adm)) => start >= adm,
            _ => !p.discharge,
        };
        if began_here || !p.discharge {
            by_drug.entry(drug_base(&p.drug)).or_default().push(p);
        }
    }
    let mut lines = Vec::new();
    for rows in by_drug.values_mut() {
        rows.sort_by_key(|p| p.start);
        for (i, p) in rows.iter().enumerate() {
            let Some(start) = p.start.or(admission) else {
                continue;
            };
            let source = Source::Prescription { id: p.id.clone() };
            let mut pieces = vec![
                Piece::quoted(md(start), source.clone()),
                Piece::joint(" "),
                Piece::quoted(regimen(p), source.clone()),
                Piece::joint(if i == 0 { " 開始" } else { " に変更" }),
            ];
            if let (Some(end), false) = (p.end, p.discharge) {
                pieces.push(Piece::joint("（"));
                pieces.push(Piece::quoted(md(end), source.clone()));
                pieces.push(Piece::joint(" まで）"));
            }
            lines.push(CourseLine {
                when: start.and_hms_opt(0, 0, 0).unwrap_or_default(),
                priority: if i == 0 { 1 } else { 2 },
                topic: drug_base(&p.drug),
                pieces,
            });
        }
    }
    lines
}

/// Sentences of progress-note assessments that report an event (発症, 中止, 転倒 …).
fn event_lines(sectioned: &SectionedChart) -> Vec<CourseLine> {
    let mut lines = Vec::new();
    for (note, segments) in &sectioned.notes {
        if note.kind.contains("入院時") || note.kind.contains("退院時") {
            continue;
        }
        for segment in segments.iter().filter(|s| {
            matches!(
                s.label.as_str(),
                "assessment" | "problem" | "course" | "plan"
            )
        }) {
            for range in sectionizer::sentences(&note.text, segment.body()) {
                let piece = sentence_piece(note, range);
                if piece.text.chars().count() > 80
                    || !EVENT_WORDS.iter().any(|w| piece.text.contains(w))
                {
                    continue;
                }
                let mut pieces = dated_head(note);
                pieces.push(piece);
                lines.push(CourseLine {
                    when: note.datetime,
                    priority: 3,
                    topic: String::new(),
                    pieces,
                });
            }
        }
    }
    lines
}

fn numeric(value: &str) -> Option<f64> {
    let v: String = value
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '．' => '.',
            _ => c,
        })
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    v.parse().ok()
}

/// First → worst → last of every test with an abnormal value.
fn lab_lines(chart: &Chart) -> Vec<CourseLine> {
    let mut by_item: BTreeMap<&str, Vec<&LabResult>> = BTreeMap::new();
    for l in &chart.labs {
        by_item.entry(l.item.as_str()).or_default().push(l);
    }
    let mut lines = Vec::new();
    for (item, mut rows) in by_item {
        let Some(flag) = rows.iter().find_map(|r| r.flag) else {
            continue;
        };
        rows.sort_by_key(|r| r.datetime);
        let worst = rows
            .iter()
            .filter(|r| r.flag.is_some())
            .filter_map(|r| numeric(&r.value).map(|v| (v, *r)))
            .max_by(|a, b| {
                let ord = a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal);
                if flag == LabFlag::L {
                    ord.reverse()
                } else {
                    ord
                }
            })
            .map(|(_, r)| r);
        let mut picked: Vec<&LabResult> = vec![rows[0]];
        for r in worst.into_iter().chain(rows.last().copied()) {
            if !picked.iter().any(|p| p.id == r.id) {
                picked.push(r);
            }
        }
        picked.sort_by_key(|r| r.datetime);
        let mut pieces = vec![Piece::joint(format!("{item} "))];
        for (i, r) in picked.iter().enumerate() {
            let source = Source::Lab { id: r.id.clone() };
            if i > 0 {
                pieces.push(Piece::joint("→"));
            }
            pieces.push(Piece::quoted(r.value.clone(), source.clone()));
            pieces.push(Piece::joint("（"));
            pieces.push(Piece::quoted(md(r.datetime.date()), source));
            pieces.push(Piece::joint("）"));
        }
        if let Some(unit) = picked
            .first()
            .map(|r| r.unit.as_str())
            .filter(|u| !u.is_empty())
        {
            pieces.push(Piece::quoted(
                unit.to_string(),
                Source::Lab {
                    id: picked[0].id.clone(),
                },
            ));
        }
        // The item's name is the lab record's, too.
        pieces[0] = Piece::quoted(
            item.to_string(),
            Source::Lab {
                id: rows[0].id.clone(),
            },
        );
        pieces.insert(1, Piece::joint(" "));
        lines.push(CourseLine {
            when: picked.last().map(|r| r.datetime).unwrap_or_default(),
            priority: 4,
            topic: item.to_string(),
            pieces,
        });
    }
    // Labs read as one trajectory each, after the dated events.
    for l in &mut lines {
        l.when = NaiveDateTime::MAX;
    }
    lines
}

/// Lines that say the same thing on different days: only the first is kept.
fn dedup_lines(lines: &mut Vec<CourseLine>) {
    let mut seen: Vec<String> = Vec::new();
    lines.sort_by_key(|l| l.when);
    lines.retain(|l| {
        let key = dedup_key(
            &l.pieces
                .iter()
                .skip(1)
                .map(|p| p.text.as_str())
                .collect::<String>(),
        );
        if seen.iter().any(|s| similar(s, &key)) {
            return false;
        }
        seen.push(key);
        true
    });
}

/// Character-bigram overlap (Dice) above 0.8.
pub(crate) fn similar(a: &str, b: &str) -> bool {
    let grams = |s: &str| {
        let c: Vec<char> = s.chars().collect();
        c.windows(2).map(|w| (w[0], w[1])).collect::<Vec<_>>()
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return a == b;
    }
    let mut pool = gb.clone();
    let mut common = 0;
    for g in &ga {
        if let Some(i) = pool.iter().position(|x| x == g) {
            pool.swap_remove(i);
            common += 1;
        }
    }
    2.0 * common as f64 / (ga.len() + gb.len()) as f64 > 0.8
}
