//! One draft fact against the chart index: supported, unsupported or contradicted, and why.

use super::chart_index::{ChartIndex, ChartValue};
use super::facts::{certainty_conflict, same_value, Fact, Side, ENCOUNTER_WORDS};
use crate::chart::Source;
use crate::nlp::{Certainty, EntityType};
use serde::Serialize;

/// At most this many sources are listed per finding (the reviewer jumps to the first).
const MAX_SOURCES: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    /// Not found anywhere in the chart: a possible hallucination.
    Unsupported,
    /// Found, but with another value, side, date or the opposite certainty.
    Contradicted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    Found,
    NotInChart,
    /// The head (medication / test) is in the chart but never with any value of this kind.
    NoValueInChart {
        head: String,
    },
    DifferentValue {
        head: String,
        chart_values: Vec<String>,
    },
    OppositeCertainty {
        draft: Certainty,
        chart: Vec<Certainty>,
    },
    OtherSide {
        draft: Side,
        chart: Vec<Side>,
    },
    DifferentDate {
        chart_dates: Vec<String>,
    },
    /// A drug the chart knows only as an allergy, written as if given.
    ChartAllergy,
    /// Inside a span the draft copied from the chart (a section's provenance): supported
    /// by construction, the span's record is the evidence.
    CopiedFromChart,
    /// A number (count, duration, score) the chart never writes.
    NumberNotInChart {
        number: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub verdict: Verdict,
    pub reason: Reason,
    /// Supported: where the chart says it. Contradicted: what the chart says instead.
    pub sources: Vec<Source>,
}

impl Check {
    pub(crate) fn copied(source: Source) -> Self {
        Self {
            verdict: Verdict::Supported,
            reason: Reason::CopiedFromChart,
            sources: vec![source],
        }
    }
    pub(crate) fn number_not_in_chart(number: &str) -> Self {
        Self::unsupported(Reason::NumberNotInChart {
            number: number.to_string(),
        })
    }
    fn supported(sources: impl IntoIterator<Item = Source>) -> Self {
        Self {
            verdict: Verdict::Supported,
            reason: Reason::Found,
            sources: dedup_sources(sources),
        }
    }
    fn unsupported(reason: Reason) -> Self {
        Self {
            verdict: Verdict::Unsupported,
            reason,
            sources: Vec::new(),
        }
    }
    fn contradicted(reason: Reason, sources: impl IntoIterator<Item = Source>) -> Self {
        Self {
            verdict: Verdict::Contradicted,
            reason,
            sources: dedup_sources(sources),
        }
    }
}

fn dedup_sources(sources: impl IntoIterator<Item = Source>) -> Vec<Source> {
    let mut out: Vec<Source> = Vec::new();
    for s in sources {
        if !out.contains(&s) {
            out.push(s);
            if out.len() == MAX_SOURCES {
                break;
            }
        }
    }
    out
}

fn distinct<T: PartialEq + Clone>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Classifies one draft fact; `None` for facts that carry nothing to check (an unparsable date).
pub fn check_fact(index: &ChartIndex, fact: &Fact) -> Option<Check> {
    let kind = fact.entity.kind;
    match kind {
        EntityType::Disease | EntityType::Medication | EntityType::Test | EntityType::Procedure => {
            let Some(mentions) = index.mentions.get(&(kind, fact.key.clone())) else {
                if kind == EntityType::Medication {
                    let like = index.medication_keys_like(&[&fact.key, &fact.entity.text]);
                    let sources: Vec<Source> = like
                        .iter()
                        .flat_map(|k| index.mentions_of(EntityType::Medication, k))
                        .map(|m| m.source.clone())
                        .collect();
                    if !sources.is_empty() {
                        return Some(Check::supported(sources));
                    }
                }
                return Some(Check::unsupported(Reason::NotInChart));
            };
            if kind == EntityType::Disease {
                if let Some(side) = fact.side {
                    let chart_sides: Vec<Side> = distinct(mentions.iter().filter_map(|m| m.side));
                    if !chart_sides.is_empty() && !chart_sides.contains(&side) {
                        return Some(Check::contradicted(
                            Reason::OtherSide {
                                draft: side,
                                chart: chart_sides,
                            },
                            mentions
                                .iter()
                                .filter(|m| m.side.is_some())
                                .map(|m| m.source.clone()),
                        ));
                    }
                }
                let chart: Vec<Certainty> = distinct(mentions.iter().filter_map(|m| m.certainty));
                if certainty_conflict(fact.entity.certainty, &chart) {
                    let draft = fact.entity.certainty.unwrap_or(Certainty::Positive);
                    return Some(Check::contradicted(
                        Reason::OppositeCertainty { draft, chart },
                        mentions.iter().map(|m| m.source.clone()),
                    ));
                }
                // Sources that agree with the draft first.
                let agreeing = mentions
                    .iter()
                    .filter(|m| m.certainty == fact.entity.certainty)
                    .chain(mentions.iter())
                    .map(|m| m.source.clone());
                return Some(Check::supported(agreeing));
            }
            if kind == EntityType::Medication
                && !fact.allergy_context
                && mentions.iter().all(|m| m.allergy_context)
            {
                return Some(Check::contradicted(
                    Reason::ChartAllergy,
                    mentions.iter().map(|m| m.source.clone()),
                ));
            }
            Some(Check::supported(mentions.iter().map(|m| m.source.clone())))
        }
        EntityType::Anatomy => {
            let Some(sided) = index.sides.get(&fact.key) else {
                return Some(Check::unsupported(Reason::NotInChart));
            };
            let Some(side) = fact.side else {
                return Some(Check::supported(sided.iter().map(|(_, s)| s.clone())));
            };
            let same: Vec<Source> = sided
                .iter()
                .filter(|(s, _)| *s == Some(side))
                .map(|(_, src)| src.clone())
                .collect();
            if !same.is_empty() {
                return Some(Check::supported(same));
            }
            let chart_sides: Vec<Side> = distinct(sided.iter().filter_map(|(s, _)| *s));
            if chart_sides.is_empty() {
                return Some(Check::supported(sided.iter().map(|(_, s)| s.clone())));
            }
            Some(Check::contradicted(
                Reason::OtherSide {
                    draft: side,
                    chart: chart_sides,
                },
                sided
                    .iter()
                    .filter(|(s, _)| s.is_some())
                    .map(|(_, s)| s.clone()),
            ))
        }
        EntityType::Dose | EntityType::TestValue => {
            let value = fact.value.as_deref().unwrap_or_default();
            let Some(head) = &fact.head else {
                let found: Vec<Source> = index
                    .all_values
                    .get(&kind)
                    .into_iter()
                    .flatten()
                    .filter(|v| same_value(&v.value, value))
                    .map(|v| v.source.clone())
                    .collect();
                return Some(if found.is_empty() {
                    Check::unsupported(Reason::NotInChart)
                } else {
                    Check::supported(found)
                });
            };
            let mut values: Vec<&ChartValue> = index.values_of(kind, head).iter().collect();
            if values.is_empty() && kind == EntityType::Dose {
                let head_text = fact.head_text.as_deref().unwrap_or(head);
                for like in index.medication_keys_like(&[head, head_text]) {
                    values.extend(index.values_of(kind, &like));
                }
            }
            if values.is_empty() {
                return Some(Check::unsupported(Reason::NoValueInChart {
                    head: head.clone(),
                }));
            }
            let matching: Vec<Source> = values
                .iter()
                .filter(|v| same_value(&v.value, value))
                .map(|v| v.source.clone())
                .collect();
            if !matching.is_empty() {
                return Some(Check::supported(matching));
            }
            Some(Check::contradicted(
                Reason::DifferentValue {
                    head: head.clone(),
                    chart_values: distinct(values.iter().map(|v| v.text.clone())),
                },
                values.iter().map(|v| v.source.clone()),
            ))
        }
        EntityType::Date => {
            let date = fact.date.as_ref()?;
            // 入院 / 退院 in the date's own clause: the encounter record (admission and
            // discharge dates, since "入院期間：A〜B" names both) is the authority.
            let about_stay = fact
                .date_clause_words
                .iter()
                .any(|w| ENCOUNTER_WORDS.contains(&w.as_str()));
            let encounter: Vec<_> = if about_stay {
                index
                    .dates
                    .iter()
                    .filter(|d| d.source == Source::Encounter)
                    .collect()
            } else {
                Vec::new()
            };
            let related: Vec<_> = if encounter.is_empty() {
                index
                    .dates
                    .iter()
                    .filter(|d| d.context.iter().any(|c| fact.date_context.contains(c)))
                    .collect()
            } else {
                encounter
            };
            let compatible = |d: &&super::chart_index::ChartDate| d.date.compatible(date);
            if related.is_empty() {
                let found: Vec<Source> = index
                    .dates
                    .iter()
                    .filter(compatible)
                    .map(|d| d.source.clone())
                    .collect();
                return Some(if found.is_empty() {
                    Check::unsupported(Reason::NotInChart)
                } else {
                    Check::supported(found)
                });
            }
            let found: Vec<Source> = related
                .iter()
                .copied()
                .filter(compatible)
                .map(|d| d.source.clone())
                .collect();
            if !found.is_empty() {
                return Some(Check::supported(found));
            }
            let mut chart_dates = distinct(related.iter().map(|d| d.date.clone()));
            chart_dates.sort();
            Some(Check::contradicted(
                Reason::DifferentDate {
                    chart_dates: chart_dates.iter().map(|d| d.display()).collect(),
                },
                related.iter().map(|d| d.source.clone()),
            ))
        }
    }
}
