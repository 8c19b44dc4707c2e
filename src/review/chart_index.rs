//! What the chart says, indexed once per chart: every entity of every note and of the
//! structured records (prescriptions, labs, diagnoses, allergies, encounter dates), with
//! its certainty, values, sides, dates and source. Draft facts are looked up here.

use super::facts::{facts_of, DateValue, Fact, Side};
use super::numbers::all_numbers;
use crate::chart::{Chart, DiagnosisStatus, Source};
use crate::nlp::{Certainty, EntityType, Pipeline};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq)]
pub struct ChartMention {
    pub certainty: Option<Certainty>,
    /// A disease's side (its own laterality or that of the site written before it).
    pub side: Option<Side>,
    pub source: Source,
    /// Mentioned as an allergy (an allergy record, or a sentence about a reaction).
    pub allergy_context: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChartValue {
    /// Comparable form (see `facts::value_key`).
    pub value: String,
    /// As written.
    pub text: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChartDate {
    pub date: DateValue,
    /// Entities and event words around it (empty: a bare record date).
    pub context: Vec<String>,
    pub source: Source,
}

/// What a finished draft should mention (the omission check).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedKind {
    ActiveProblem,
    DischargeMedication,
    Allergy,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedFact {
    pub kind: ExpectedKind,
    /// As the chart names it (shown to the reviewer).
    pub label: String,
    /// Normalized forms any one of which counts as mentioned.
    pub keys: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Default)]
pub struct ChartIndex {
    pub(crate) mentions: HashMap<(EntityType, String), Vec<ChartMention>>,
    /// Anatomy (without side) → the sides it is mentioned with.
    pub(crate) sides: HashMap<String, Vec<(Option<Side>, Source)>>,
    /// (dose | test_value, head) → values.
    pub(crate) values: HashMap<(EntityType, String), Vec<ChartValue>>,
    /// Values of each kind, whatever their head.
    pub(crate) all_values: HashMap<EntityType, Vec<ChartValue>>,
    pub(crate) dates: Vec<ChartDate>,
    pub(crate) expected: Vec<ExpectedFact>,
    /// Every number written in the chart (comparable form, see `numbers::number_key`) →
    /// where: note spans and records.
    pub(crate) numbers: HashMap<String, Vec<(Option<&'static str>, Source)>>,
    /// The chart's ICD-10 codes (always read as codes in a draft).
    pub(crate) icd_codes: Vec<String>,
    /// Entities indexed (for reporting).
    pub entity_count: usize,
}

impl ChartIndex {
    /// Reads the whole chart once (a few ms per note); do it off the UI thread.
    pub fn build(pipeline: &Pipeline, chart: &Chart) -> ChartIndex {
        let mut index = ChartIndex::default();
        index.index_numbers(chart);
        index.icd_codes = chart
            .diagnoses
            .iter()
            .filter_map(|d| d.icd10.clone())
            .filter(|c| !c.trim().is_empty())
            .collect();
        for note in &chart.notes {
            let entities = pipeline.extract(&note.text);
            let facts = facts_of(&note.text, &entities);
            index.add_facts(
                &facts,
                |fact| Source::Note {
                    id: note.id.clone(),
                    start: fact.entity.start,
                    end: fact.entity.end,
                },
                None,
            );
            index.dates.push(ChartDate {
                date: DateValue::from_date(note.datetime.date()),
                context: Vec::new(),
                source: Source::Note {
                    id: note.id.clone(),
                    start: 0,
                    end: 0,
                },
            });
        }
        for p in &chart.prescriptions {
            let mut line = format!(
                "{} {}{} {} {}",
                p.drug, p.dose, p.unit, p.route, p.frequency
            );
            if let Some(days) = p.days {
                line.push_str(&format!(" {days}日分"));
            }
            let source = Source::Prescription { id: p.id.clone() };
            let facts = facts_of(&line, &pipeline.extract(&line));
            // The drug name alone too: the pipeline may read it differently in the line.
            let named = facts_of(&p.drug, &pipeline.extract(&p.drug));
            let mut drugs = keys_of(&facts, &[EntityType::Medication]);
            drugs.extend(keys_of(&named, &[EntityType::Medication]));
            drugs.sort();
            drugs.dedup();
            let medications = named
                .iter()
                .chain(&facts)
                .filter(|f| f.entity.kind == EntityType::Medication);
            index.add_facts(
                &medications.cloned().collect::<Vec<_>>(),
                |_| source.clone(),
                None,
            );
            // A prescription is about one drug: every dose in it belongs to each of its names
            // (not to "軟膏" in "ヒルドイドソフト軟膏").
            let mut doses: Vec<Fact> = Vec::new();
            for fact in facts.iter().filter(|f| f.entity.kind == EntityType::Dose) {
                for drug in &drugs {
                    let mut dose = fact.clone();
                    dose.head = Some(drug.clone());
                    doses.push(dose);
                }
            }
            let rest: Vec<Fact> = facts
                .iter()
                .filter(|f| !matches!(f.entity.kind, EntityType::Medication | EntityType::Dose))
                .cloned()
                .collect();
            index.add_facts(&doses, |_| source.clone(), None);
            index.add_facts(&rest, |_| source.clone(), None);
            for (date, word) in [(p.start, "開始"), (p.end, "終了")] {
                if let Some(date) = date {
                    let mut context = drugs.clone();
                    context.push(word.to_string());
                    index.dates.push(ChartDate {
                        date: DateValue::from_date(date),
                        context,
                        source: source.clone(),
                    });
                }
            }
            let continues = p.discharge
                || (!chart.prescriptions.iter().any(|q| q.discharge) && p.end.is_none());
            if continues {
                index.expected.push(ExpectedFact {
                    kind: ExpectedKind::DischargeMedication,
                    label: p.drug.clone(),
                    keys: drugs,
                    source,
                });
            }
        }
        for lab in &chart.labs {
            let line = format!("{} {}{}", lab.item, lab.value, lab.unit);
            let source = Source::Lab { id: lab.id.clone() };
            let facts = facts_of(&line, &pipeline.extract(&line));
            index.add_facts(&facts, |_| source.clone(), None);
            index.dates.push(ChartDate {
                date: DateValue::from_date(lab.datetime.date()),
                context: keys_of(&facts, &[EntityType::Test]),
                source,
            });
        }
        for d in &chart.diagnoses {
            let source = Source::Diagnosis { id: d.id.clone() };
            let certainty = match d.status {
                DiagnosisStatus::Active | DiagnosisStatus::Resolved => Certainty::Positive,
                DiagnosisStatus::Suspected => Certainty::Suspicious,
            };
            let facts = facts_of(&d.name, &pipeline.extract(&d.name));
            index.add_facts(&facts, |_| source.clone(), Some(certainty));
            if d.status == DiagnosisStatus::Active {
                index.expected.push(ExpectedFact {
                    kind: ExpectedKind::ActiveProblem,
                    label: d.name.clone(),
                    keys: keys_of(&facts, &[EntityType::Disease]),
                    source,
                });
            }
        }
        for a in &chart.allergies {
            let source = Source::Allergy { id: a.id.clone() };
            let line = format!("{} {}", a.substance, a.reaction);
            let facts = facts_of(&line, &pipeline.extract(&line));
            index.add_facts_as(&facts, |_| source.clone(), None, true);
            let substance = facts_of(&a.substance, &pipeline.extract(&a.substance));
            index.expected.push(ExpectedFact {
                kind: ExpectedKind::Allergy,
                label: a.substance.clone(),
                keys: keys_of(&substance, &EntityType::ALL),
                source,
            });
        }
        let encounter = &chart.encounter;
        for (date, word) in [
            (encounter.admission_date, "入院"),
            (encounter.discharge_date, "退院"),
        ] {
            if let Some(date) = date {
                index.dates.push(ChartDate {
                    date: DateValue::from_date(date),
                    context: vec![word.to_string()],
                    source: Source::Encounter,
                });
            }
        }
        if let Some(birth) = chart.patient.birth_date {
            index.dates.push(ChartDate {
                date: DateValue::from_date(birth),
                context: Vec::new(),
                source: Source::Patient,
            });
        }
        index
    }

    /// Every number of the notes and records, with its source. Record dates count as
    /// written 「2026年3月2日」 (a year, a month, a day), as do the dates of the notes.
    fn index_numbers(&mut self, chart: &Chart) {
        for note in &chart.notes {
            let date = japanese_date(note.datetime.date());
            let time = note.datetime.format("%H:%M").to_string();
            for n in all_numbers(&format!("{date} {time}")) {
                let source = Source::Note {
                    id: note.id.clone(),
                    start: 0,
                    end: 0,
                };
                self.numbers
                    .entry(n.key)
                    .or_default()
                    .push((n.family, source));
            }
            for n in all_numbers(&note.text) {
                let source = Source::Note {
                    id: note.id.clone(),
                    start: n.start,
                    end: n.end,
                };
                self.numbers
                    .entry(n.key)
                    .or_default()
                    .push((n.family, source));
            }
        }
        let mut records: Vec<(String, Source)> = Vec::new();
        let p = &chart.patient;
        let mut patient = format!("{} {} {}", p.id, p.name, p.kana);
        if let Some(birth) = p.birth_date {
            patient.push_str(&format!(" {}", japanese_date(birth)));
            let e = &chart.encounter;
            for on in [e.admission_date, e.discharge_date].into_iter().flatten() {
                if let Some(age) = chart.age_on(on) {
                    patient.push_str(&format!(" {age}歳"));
                }
            }
        }
        records.push((patient, Source::Patient));
        let e = &chart.encounter;
        let mut encounter = format!("{} {} {}", e.department, e.ward, e.attending);
        for date in [e.admission_date, e.discharge_date].into_iter().flatten() {
            encounter.push_str(&format!(" {}", japanese_date(date)));
        }
        if let (Some(a), Some(d)) = (e.admission_date, e.discharge_date) {
            // The length of stay, counted both ways (nights, and days including both ends).
            let nights = (d - a).num_days();
            encounter.push_str(&format!(" {nights}泊 {}日間", nights + 1));
        }
        records.push((encounter, Source::Encounter));
        if let Some(r) = &chart.referral {
            let line = format!("{} {} {}", r.facility, r.department, r.doctor);
            records.push((line, Source::Encounter));
        }
        for p in &chart.prescriptions {
            let mut line = format!(
                "{} {}{} {} {}",
                p.drug, p.dose, p.unit, p.route, p.frequency
            );
            if let Some(days) = p.days {
                line.push_str(&format!(" {days}日分"));
            }
            for date in [p.start, p.end].into_iter().flatten() {
                line.push_str(&format!(" {}", japanese_date(date)));
            }
            records.push((line, Source::Prescription { id: p.id.clone() }));
        }
        for l in &chart.labs {
            let line = format!(
                "{} {} {} {} {} {}",
                japanese_date(l.datetime.date()),
                l.datetime.format("%H:%M"),
                l.item,
                l.value,
                l.unit,
                l.reference_range
            );
            records.push((line, Source::Lab { id: l.id.clone() }));
        }
        for d in &chart.diagnoses {
            let line = format!("{} {}", d.name, d.icd10.as_deref().unwrap_or_default());
            records.push((line, Source::Diagnosis { id: d.id.clone() }));
        }
        for a in &chart.allergies {
            let line = format!("{} {} {}", a.substance, a.reaction, a.severity);
            records.push((line, Source::Allergy { id: a.id.clone() }));
        }
        for (line, source) in records {
            for n in all_numbers(&line) {
                let found = self.numbers.entry(n.key).or_default();
                let entry = (n.family, source.clone());
                if !found.contains(&entry) {
                    found.push(entry);
                }
            }
        }
    }

    /// The chart's ICD-10 codes.
    pub fn icd_codes(&self) -> &[String] {
        &self.icd_codes
    }

    /// Where the chart writes this number (comparable form); empty when it never does.
    pub fn number_sources(&self, key: &str) -> Vec<Source> {
        self.number_sources_counting(key, None)
    }

    /// Where the chart writes this number counting the same thing (`family`: see
    /// `NumberSpan::family`; 「7日間」 is found as 「7日目」 or 「7日分」, not as 「7回」 or a
    /// bare 7). A bare number (`None`) is found with any counter or none.
    pub fn number_sources_counting(&self, key: &str, family: Option<&str>) -> Vec<Source> {
        self.numbers
            .get(key)
            .into_iter()
            .flatten()
            .filter(|(f, _)| family.is_none() || *f == family)
            .map(|(_, source)| source.clone())
            .collect()
    }

    fn add_facts(
        &mut self,
        facts: &[Fact],
        source_of: impl Fn(&Fact) -> Source,
        certainty_override: Option<Certainty>,
    ) {
        self.add_facts_as(facts, source_of, certainty_override, false);
    }

    fn add_facts_as(
        &mut self,
        facts: &[Fact],
        source_of: impl Fn(&Fact) -> Source,
        certainty_override: Option<Certainty>,
        allergy_record: bool,
    ) {
        for fact in facts {
            self.entity_count += 1;
            let source = source_of(fact);
            let kind = fact.entity.kind;
            match kind {
                EntityType::Dose | EntityType::TestValue => {
                    let value = ChartValue {
                        value: fact.value.clone().unwrap_or_default(),
                        text: fact.entity.text.clone(),
                        source,
                    };
                    if let Some(head) = &fact.head {
                        self.values
                            .entry((kind, head.clone()))
                            .or_default()
                            .push(value.clone());
                    }
                    self.all_values.entry(kind).or_default().push(value);
                }
                EntityType::Date => {
                    if let Some(date) = &fact.date {
                        self.dates.push(ChartDate {
                            date: date.clone(),
                            context: fact.date_context.clone(),
                            source,
                        });
                    }
                }
                EntityType::Anatomy => {
                    self.sides
                        .entry(fact.key.clone())
                        .or_default()
                        .push((fact.side, source));
                }
                _ => {
                    let certainty = match kind {
                        EntityType::Disease => certainty_override.or(fact.entity.certainty),
                        _ => None,
                    };
                    self.mentions
                        .entry((kind, fact.key.clone()))
                        .or_default()
                        .push(ChartMention {
                            certainty,
                            side: fact.side,
                            source,
                            allergy_context: allergy_record || fact.allergy_context,
                        });
                }
            }
        }
    }

    pub fn expected(&self) -> &[ExpectedFact] {
        &self.expected
    }

    /// Mentions of a disease / medication / test / procedure (by normalized form).
    pub fn mentions_of(&self, kind: EntityType, key: &str) -> &[ChartMention] {
        self.mentions
            .get(&(kind, key.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Doses of a medication, or values of a test (by the head's normalized form).
    pub fn values_of(&self, kind: EntityType, head: &str) -> &[ChartValue] {
        self.values
            .get(&(kind, head.to_string()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Sides an anatomical site (without its side) is mentioned with.
    pub fn sides_of(&self, site: &str) -> Vec<Option<Side>> {
        self.sides
            .get(site)
            .map(|v| v.iter().map(|(s, _)| *s).collect())
            .unwrap_or_default()
    }

    pub fn dates(&self) -> &[ChartDate] {
        &self.dates
    }

    /// Medication names in the chart that one of `names` is a prefix of, or that are a
    /// prefix of one of them ("メプチン" / "メプチンエアー"): the pipeline does not always
    /// normalize brand suffixes alike. The shorter name must have three characters or more.
    pub fn medication_keys_like(&self, names: &[&str]) -> Vec<String> {
        let related = |a: &str, b: &str| {
            let (short, long) = if a.chars().count() <= b.chars().count() {
                (a, b)
            } else {
                (b, a)
            };
            short.chars().count() >= 3 && long.starts_with(short)
        };
        let mut keys: Vec<String> = self
            .mentions
            .keys()
            .filter(|(kind, _)| *kind == EntityType::Medication)
            .filter(|(_, key)| names.iter().any(|n| related(n, key)))
            .map(|(_, key)| key.clone())
            .collect();
        keys.sort();
        keys
    }
}

/// 「2026年3月2日」: its numbers read as a year, a month and a day.
fn japanese_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

fn keys_of(facts: &[Fact], kinds: &[EntityType]) -> Vec<String> {
    let mut keys: Vec<String> = facts
        .iter()
        .filter(|f| kinds.contains(&f.entity.kind))
        .map(|f| f.key.clone())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
