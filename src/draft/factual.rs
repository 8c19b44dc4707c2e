//! Factual sections: the chart's structured records copied verbatim, each line carrying
//! the record it came from (char ranges of the value, end exclusive). Nothing here passes
//! through the model.

use std::ops::Range;

use crate::chart::{Chart, DiagnosisStatus, LabFlag, Prescription, Source};

use super::template::FactSource;

/// Most lab lines in a section; the rest is counted in a final line, never silently cut.
const MAX_LAB_LINES: usize = 40;
const NOTHING_RECORDED: &str = "記録なし";

#[derive(Debug, Default)]
struct FactWriter {
    text: String,
    chars: usize,
    provenance: Vec<(Range<usize>, Source)>,
}

impl FactWriter {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.chars += s.chars().count();
    }

    fn new_line(&mut self) {
        if !self.text.is_empty() {
            self.push("\n");
        }
    }

    /// `label: value`, the value's range pointing at `source`.
    fn labeled(&mut self, label: &str, value: &str, source: Source) {
        if value.trim().is_empty() {
            return;
        }
        self.new_line();
        self.push(label);
        self.push(": ");
        self.value(value, Some(source));
    }

    /// A whole line from one record.
    fn line(&mut self, value: &str, source: Option<Source>) {
        self.new_line();
        self.value(value, source);
    }

    fn value(&mut self, value: &str, source: Option<Source>) {
        let start = self.chars;
        self.push(value);
        if let Some(source) = source {
            self.provenance.push((start..self.chars, source));
        }
    }

    fn finish(mut self) -> (String, Vec<(Range<usize>, Source)>) {
        if self.text.is_empty() {
            self.line(NOTHING_RECORDED, None);
        }
        (self.text, self.provenance)
    }
}

/// The text and provenance of a factual section filled from `source`.
pub fn fill(chart: &Chart, source: FactSource) -> (String, Vec<(Range<usize>, Source)>) {
    let mut w = FactWriter::default();
    match source {
        FactSource::ReferralTarget => referral_target(chart, &mut w),
        FactSource::Patient => patient(chart, &mut w),
        FactSource::Admission => admission(chart, &mut w),
        FactSource::Diagnoses => {
            for d in main_first(chart) {
                w.line(&diagnosis_text(d), Some(diagnosis_source(d)));
            }
        }
        FactSource::MainAndSubDiagnoses => {
            for d in main_first(chart) {
                let label = if d.main { "主病名" } else { "副病名" };
                w.labeled(label, &diagnosis_text(d), diagnosis_source(d));
            }
        }
        FactSource::CurrentPrescriptions => prescriptions(
            chart
                .prescriptions
                .iter()
                .filter(|p| p.end.is_none() || p.discharge),
            &mut w,
        ),
        FactSource::DischargePrescriptions => {
            prescriptions(chart.prescriptions.iter().filter(|p| p.discharge), &mut w)
        }
        FactSource::Allergies => {
            for a in &chart.allergies {
                let mut text = a.substance.clone();
                if !a.reaction.is_empty() {
                    text.push_str(&format!(": {}", a.reaction));
                }
                if !a.severity.is_empty() {
                    text.push_str(&format!("（{}）", a.severity));
                }
                w.line(&text, Some(Source::Allergy { id: a.id.clone() }));
            }
        }
        FactSource::Labs => labs(chart, &mut w),
    }
    w.finish()
}

fn referral_target(chart: &Chart, w: &mut FactWriter) {
    // The chart model has no Source variant for the referral target; the lines are copied
    // verbatim but carry no provenance.
    match chart.referral.as_ref().filter(|r| !r.is_empty()) {
        Some(r) => {
            // Labelled lines, so the letter and the FHIR 紹介先 can read the edited text back.
            for line in r.section_text().lines() {
                w.line(line, None);
            }
        }
        None => w.line("（宛先の記録なし：記入してください）", None),
    }
}

fn patient(chart: &Chart, w: &mut FactWriter) {
    let p = &chart.patient;
    w.labeled("患者ID", &p.id, Source::Patient);
    let name = if p.kana.is_empty() {
        p.name.clone()
    } else {
        format!("{}（{}）", p.name, p.kana)
    };
    w.labeled("氏名", &name, Source::Patient);
    w.labeled("性別", p.sex.japanese(), Source::Patient);
    if let Some(birth) = p.birth_date {
        let on = chart
            .encounter
            .admission_date
            .or(chart.encounter.discharge_date);
        let age = on
            .and_then(|d| chart.age_on(d))
            .map(|a| format!("（{a}歳）"))
            .unwrap_or_default();
        w.labeled(
            "生年月日",
            &format!("{}{age}", birth.format("%Y-%m-%d")),
            Source::Patient,
        );
    }
}

fn admission(chart: &Chart, w: &mut FactWriter) {
    let e = &chart.encounter;
    let date = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    w.labeled("入院日", &date(e.admission_date), Source::Encounter);
    w.labeled("退院日", &date(e.discharge_date), Source::Encounter);
    w.labeled("診療科", &e.department, Source::Encounter);
    w.labeled("病棟", &e.ward, Source::Encounter);
    w.labeled("主治医", &e.attending, Source::Encounter);
}

fn main_first(chart: &Chart) -> Vec<&crate::chart::Diagnosis> {
    let mut diagnoses: Vec<_> = chart.diagnoses.iter().collect();
    diagnoses.sort_by_key(|d| !d.main); // stable: chart order within each group
    diagnoses
}

fn diagnosis_text(d: &crate::chart::Diagnosis) -> String {
    let mut text = d.name.clone();
    if let Some(code) = d.icd10.as_deref().filter(|c| !c.is_empty()) {
        text.push_str(&format!(" ({code})"));
    }
    match d.status {
        DiagnosisStatus::Active => {}
        DiagnosisStatus::Suspected => text.push_str("（疑い）"),
        DiagnosisStatus::Resolved => text.push_str("（治癒）"),
    }
    text
}

fn diagnosis_source(d: &crate::chart::Diagnosis) -> Source {
    Source::Diagnosis { id: d.id.clone() }
}

fn prescriptions<'a>(list: impl Iterator<Item = &'a Prescription>, w: &mut FactWriter) {
    for p in list {
        let mut parts = vec![p.drug.clone()];
        if !p.dose.is_empty() {
            parts.push(format!("{}{}", p.dose, p.unit));
        }
        if !p.route.is_empty() {
            parts.push(p.route.clone());
        }
        if !p.frequency.is_empty() {
            parts.push(p.frequency.clone());
        }
        if let Some(days) = p.days {
            parts.push(format!("{days}日分"));
        }
        w.line(
            &parts.join(" "),
            Some(Source::Prescription { id: p.id.clone() }),
        );
    }
}

fn labs(chart: &Chart, w: &mut FactWriter) {
    let mut labs: Vec<_> = chart.labs.iter().collect();
    labs.sort_by_key(|l| l.datetime);
    // Flagged results, and the latest result of items never flagged.
    let flagged_items: std::collections::HashSet<&str> = labs
        .iter()
        .filter(|l| l.flag.is_some())
        .map(|l| l.item.as_str())
        .collect();
    let shown: Vec<_> = labs
        .iter()
        .enumerate()
        .filter(|(i, l)| {
            l.flag.is_some()
                || (!flagged_items.contains(l.item.as_str())
                    && !labs[i + 1..].iter().any(|later| later.item == l.item))
        })
        .map(|(_, l)| *l)
        .collect();
    for l in shown.iter().take(MAX_LAB_LINES) {
        let flag = match l.flag {
            Some(LabFlag::H) => "（H）",
            Some(LabFlag::L) => "（L）",
            None => "",
        };
        let unit = if l.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", l.unit)
        };
        w.line(
            &format!(
                "{} {} {}{unit}{flag}",
                l.datetime.format("%Y-%m-%d"),
                l.item,
                l.value
            ),
            Some(Source::Lab { id: l.id.clone() }),
        );
    }
    if shown.len() > MAX_LAB_LINES {
        w.line(
            &format!("（他{}件はカルテを参照）", shown.len() - MAX_LAB_LINES),
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        serde_json::from_str(
            r#"{"id":"C1","patient":{"id":"P1","name":"山田 太郎","kana":"ヤマダ タロウ","sex":"male","birth_date":"1950-04-01"},
            "encounter":{"department":"内科","admission_date":"2026-10-01","discharge_date":"2026-10-10"},
            "diagnoses":[{"id":"d2","name":"高血圧症"},{"id":"d1","name":"肺炎","icd10":"J18.9","main":true}],
            "prescriptions":[{"id":"rx1","drug":"アムロジピン錠5mg","dose":"1","unit":"錠","route":"内服","frequency":"1日1回朝食後","days":14,"discharge":true},
                             {"id":"rx2","drug":"セフトリアキソン","dose":"2","unit":"g","route":"点滴","end":"2026-10-05"}],
            "allergies":[{"id":"a1","substance":"ペニシリン","reaction":"蕁麻疹","severity":"中等度"}],
            "labs":[{"id":"l1","datetime":"2026-10-01","item":"CRP","value":"15.2","unit":"mg/dL","flag":"H"},
                    {"id":"l2","datetime":"2026-10-01","item":"Hb","value":"13.1","unit":"g/dL"},
                    {"id":"l3","datetime":"2026-10-08","item":"Hb","value":"12.9","unit":"g/dL"}]}"#,
        )
        .unwrap()
    }

    fn ranged(text: &str, range: &Range<usize>) -> String {
        text.chars().skip(range.start).take(range.len()).collect()
    }

    #[test]
    fn every_value_points_at_its_record() {
        let c = chart();
        let (text, prov) = fill(&c, FactSource::MainAndSubDiagnoses);
        assert_eq!(text, "主病名: 肺炎 (J18.9)\n副病名: 高血圧症");
        assert_eq!(ranged(&text, &prov[0].0), "肺炎 (J18.9)");
        assert_eq!(prov[0].1, Source::Diagnosis { id: "d1".into() });

        let (text, prov) = fill(&c, FactSource::DischargePrescriptions);
        assert_eq!(text, "アムロジピン錠5mg 1錠 内服 1日1回朝食後 14日分");
        assert_eq!(prov[0].1, Source::Prescription { id: "rx1".into() });

        let (text, _) = fill(&c, FactSource::Patient);
        assert!(text.contains("山田 太郎（ヤマダ タロウ）"));
        assert!(text.contains("1950-04-01（76歳）"));

        let (text, prov) = fill(&c, FactSource::Labs);
        assert_eq!(
            text,
            "2026-10-01 CRP 15.2 mg/dL（H）\n2026-10-08 Hb 12.9 g/dL"
        );
        assert_eq!(prov.len(), 2);
        assert_eq!(ranged(&text, &prov[1].0), "2026-10-08 Hb 12.9 g/dL");
    }

    #[test]
    fn empty_records_say_so_without_provenance() {
        let mut c = chart();
        c.allergies.clear();
        let (text, prov) = fill(&c, FactSource::Allergies);
        assert_eq!(text, NOTHING_RECORDED);
        assert!(prov.is_empty());
        let (text, _) = fill(&c, FactSource::ReferralTarget);
        assert!(text.contains("宛先の記録なし"));
    }
}
