//! Accuracy of the pipeline on an annotated gold set (the JSONL format of
//! `fixtures/gold/README.md`): precision / recall / F1 per entity type by exact span and by
//! overlap, exact-span F1 of positive diseases, and the confusion of certainty values on
//! exactly matched diseases. Used by `karte bench extract-accuracy` and the accuracy tests.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Certainty, Entity, EntityType, Pipeline};

/// A gold file that cannot be read or is not in the gold format; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum GoldError {
    #[error("{path}: {source} (give the path of a gold JSONL file)")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}, line {line}: {detail} (each line must be one passage as described in \
         fixtures/gold/README.md)"
    )]
    Format {
        path: PathBuf,
        line: usize,
        detail: String,
    },
}

/// One annotated passage.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldPassage {
    pub id: String,
    #[serde(default)]
    pub kind: String,
    pub text: String,
    pub entities: Vec<GoldEntity>,
}

/// One gold span; offsets are character offsets into the passage text.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldEntity {
    #[serde(rename = "type")]
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub certainty: Option<String>,
}

/// Reads a gold JSONL file and checks every span against its passage text.
pub fn load_gold(path: &Path) -> Result<Vec<GoldPassage>, GoldError> {
    let content = std::fs::read_to_string(path).map_err(|source| GoldError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut passages = Vec::new();
    for (i, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let format = |detail: String| GoldError::Format {
            path: path.to_path_buf(),
            line: i + 1,
            detail,
        };
        let passage: GoldPassage =
            serde_json::from_str(line).map_err(|err| format(err.to_string()))?;
        let chars: Vec<char> = passage.text.chars().collect();
        for entity in &passage.entities {
            if EntityType::parse(&entity.kind).is_none() {
                return Err(format(format!("unknown entity type {:?}", entity.kind)));
            }
            if entity.start >= entity.end || entity.end > chars.len() {
                return Err(format(format!(
                    "span {}..{} is outside the text of {}",
                    entity.start, entity.end, passage.id
                )));
            }
            let slice: String = chars[entity.start..entity.end].iter().collect();
            if slice != entity.text {
                return Err(format(format!(
                    "span {}..{} of {} is {slice:?}, not {:?}",
                    entity.start, entity.end, passage.id, entity.text
                )));
            }
            if let Some(c) = &entity.certainty {
                if Certainty::parse(c).is_none() {
                    return Err(format(format!("unknown certainty {c:?}")));
                }
            }
        }
        passages.push(passage);
    }
    if passages.is_empty() {
        return Err(GoldError::Format {
            path: path.to_path_buf(),
            line: 0,
            detail: "no passage in the file".to_string(),
        });
    }
    Ok(passages)
}

/// Counts of one entity type (or of positive diseases).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub gold: usize,
    pub predicted: usize,
    /// Gold spans predicted with exactly the same span and type.
    pub exact: usize,
    /// Gold spans that some prediction of the type overlaps.
    pub overlap_gold: usize,
    /// Predictions that overlap some gold span of the type.
    pub overlap_predicted: usize,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

impl Counts {
    pub fn precision(&self) -> f64 {
        ratio(self.exact, self.predicted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.exact, self.gold)
    }
    pub fn f1(&self) -> f64 {
        f1(self.precision(), self.recall())
    }
    pub fn overlap_precision(&self) -> f64 {
        ratio(self.overlap_predicted, self.predicted)
    }
    pub fn overlap_recall(&self) -> f64 {
        ratio(self.overlap_gold, self.gold)
    }
    pub fn overlap_f1(&self) -> f64 {
        f1(self.overlap_precision(), self.overlap_recall())
    }

    fn add(&mut self, other: &Counts) {
        self.gold += other.gold;
        self.predicted += other.predicted;
        self.exact += other.exact;
        self.overlap_gold += other.overlap_gold;
        self.overlap_predicted += other.overlap_predicted;
    }

    fn count(&mut self, gold: &[(usize, usize)], predicted: &[(usize, usize)]) {
        let overlaps = |a: &(usize, usize), b: &(usize, usize)| a.0 < b.1 && b.0 < a.1;
        self.gold += gold.len();
        self.predicted += predicted.len();
        self.exact += gold.iter().filter(|g| predicted.contains(g)).count();
        self.overlap_gold += gold
            .iter()
            .filter(|g| predicted.iter().any(|p| overlaps(g, p)))
            .count();
        self.overlap_predicted += predicted
            .iter()
            .filter(|p| gold.iter().any(|g| overlaps(g, p)))
            .count();
    }
}

const CERTAINTIES: [Certainty; 4] = [
    Certainty::Positive,
    Certainty::Negative,
    Certainty::Suspicious,
    Certainty::General,
];

fn certainty_index(c: Certainty) -> usize {
    CERTAINTIES.iter().position(|x| *x == c).unwrap_or(0)
}

/// One disagreement with the gold set, for tuning (`--errors`).
#[derive(Debug, Clone)]
pub struct Disagreement {
    pub passage: String,
    pub kind: EntityType,
    /// "missed", "spurious" or "certainty".
    pub what: &'static str,
    pub text: String,
    pub detail: String,
}

/// The scores of one gold set.
#[derive(Debug, Clone, Default)]
pub struct Accuracy {
    pub passages: usize,
    pub per_type: BTreeMap<EntityType, Counts>,
    /// Diseases whose gold certainty is positive against diseases predicted positive.
    pub positive_disease: Counts,
    /// `[gold][predicted]` over exactly matched diseases (positive, negative, suspicious, general).
    pub certainty_confusion: [[usize; 4]; 4],
    pub disagreements: Vec<Disagreement>,
}

impl Accuracy {
    pub fn counts(&self, kind: EntityType) -> Counts {
        self.per_type.get(&kind).copied().unwrap_or_default()
    }

    pub fn micro(&self) -> Counts {
        let mut total = Counts::default();
        for c in self.per_type.values() {
            total.add(c);
        }
        total
    }

    /// Share of exactly matched gold diseases whose certainty is right.
    pub fn certainty_accuracy(&self) -> f64 {
        let total: usize = self.certainty_confusion.iter().flatten().sum();
        let right: usize = (0..4).map(|i| self.certainty_confusion[i][i]).sum();
        ratio(right, total)
    }

    /// The table printed by `karte bench extract-accuracy` and the accuracy tests.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<17} {:>5} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}",
            "type", "gold", "pred", "P", "R", "F1", "P~", "R~", "F1~"
        );
        let mut row = |name: &str, c: &Counts| {
            let _ = writeln!(
                out,
                "{name:<17} {:>5} {:>5} | {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3}",
                c.gold,
                c.predicted,
                c.precision(),
                c.recall(),
                c.f1(),
                c.overlap_precision(),
                c.overlap_recall(),
                c.overlap_f1()
            );
        };
        for kind in EntityType::ALL {
            row(kind.as_str(), &self.counts(kind));
        }
        row("disease positive", &self.positive_disease);
        row("all (micro)", &self.micro());
        let _ = writeln!(
            out,
            "(P/R/F1: exact span and type; ~: overlapping span of the same type)"
        );
        let total: usize = self.certainty_confusion.iter().flatten().sum();
        let right: usize = (0..4).map(|i| self.certainty_confusion[i][i]).sum();
        let _ = writeln!(
            out,
            "certainty accuracy on exactly matched diseases: {right}/{total} = {:.3}",
            self.certainty_accuracy()
        );
        let _ = writeln!(out, "certainty confusion on exactly matched diseases:");
        let _ = writeln!(
            out,
            "  {:<12} {:>10} {:>10} {:>10} {:>10}",
            "gold \\ pred", "positive", "negative", "suspicious", "general"
        );
        for (i, c) in CERTAINTIES.iter().enumerate() {
            let cells = &self.certainty_confusion[i];
            let _ = writeln!(
                out,
                "  {:<12} {:>10} {:>10} {:>10} {:>10}",
                c.as_str(),
                cells[0],
                cells[1],
                cells[2],
                cells[3]
            );
        }
        out
    }
}

/// Runs the pipeline over every passage and scores it against the gold spans.
pub fn evaluate(pipeline: &Pipeline, passages: &[GoldPassage]) -> Accuracy {
    let mut accuracy = Accuracy {
        passages: passages.len(),
        ..Accuracy::default()
    };
    for passage in passages {
        let predicted = pipeline.extract(&passage.text);
        score_passage(&mut accuracy, passage, &predicted);
    }
    accuracy
}

fn score_passage(accuracy: &mut Accuracy, passage: &GoldPassage, predicted: &[Entity]) {
    for kind in EntityType::ALL {
        let gold: Vec<&GoldEntity> = passage
            .entities
            .iter()
            .filter(|g| g.kind == kind.as_str())
            .collect();
        let pred: Vec<&Entity> = predicted.iter().filter(|e| e.kind == kind).collect();
        let gold_spans: Vec<(usize, usize)> = gold.iter().map(|g| (g.start, g.end)).collect();
        let pred_spans: Vec<(usize, usize)> = pred.iter().map(|p| (p.start, p.end)).collect();
        accuracy
            .per_type
            .entry(kind)
            .or_default()
            .count(&gold_spans, &pred_spans);
        for g in &gold {
            match pred.iter().find(|p| (p.start, p.end) == (g.start, g.end)) {
                None => {
                    let near: Vec<&str> = predicted
                        .iter()
                        .filter(|p| g.start < p.end && p.start < g.end)
                        .map(|p| p.text.as_str())
                        .collect();
                    accuracy.disagreements.push(Disagreement {
                        passage: passage.id.clone(),
                        kind,
                        what: "missed",
                        text: g.text.clone(),
                        detail: format!("near {near:?}"),
                    });
                }
                Some(p) if kind == EntityType::Disease => {
                    let gold_certainty = g
                        .certainty
                        .as_deref()
                        .and_then(Certainty::parse)
                        .unwrap_or(Certainty::Positive);
                    let got = p.certainty.unwrap_or(Certainty::Positive);
                    accuracy.certainty_confusion[certainty_index(gold_certainty)]
                        [certainty_index(got)] += 1;
                    if got != gold_certainty {
                        accuracy.disagreements.push(Disagreement {
                            passage: passage.id.clone(),
                            kind,
                            what: "certainty",
                            text: g.text.clone(),
                            detail: format!(
                                "gold {} got {}",
                                gold_certainty.as_str(),
                                got.as_str()
                            ),
                        });
                    }
                }
                Some(_) => {}
            }
        }
        for p in &pred {
            if !gold.iter().any(|g| (g.start, g.end) == (p.start, p.end)) {
                let near: Vec<&str> = gold
                    .iter()
                    .filter(|g| g.start < p.end && p.start < g.end)
                    .map(|g| g.text.as_str())
                    .collect();
                accuracy.disagreements.push(Disagreement {
                    passage: passage.id.clone(),
                    kind,
                    what: "spurious",
                    text: p.text.clone(),
                    detail: format!("gold near {near:?}"),
                });
            }
        }
    }
    let positive_gold: Vec<(usize, usize)> = passage
        .entities
        .iter()
        .filter(|g| {
            g.kind == EntityType::Disease.as_str()
                && g.certainty.as_deref().unwrap_or("positive") == "positive"
        })
        .map(|g| (g.start, g.end))
        .collect();
    let positive_predicted: Vec<(usize, usize)> = predicted
        .iter()
        .filter(|p| {
            p.kind == EntityType::Disease
                && p.certainty.unwrap_or(Certainty::Positive) == Certainty::Positive
        })
        .map(|p| (p.start, p.end))
        .collect();
    accuracy
        .positive_disease
        .count(&positive_gold, &positive_predicted);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(kind: EntityType, start: usize, end: usize, certainty: Option<Certainty>) -> Entity {
        Entity {
            kind,
            text: String::new(),
            start,
            end,
            normalized: String::new(),
            certainty,
        }
    }

    #[test]
    fn exact_overlap_and_certainty_are_counted_apart() {
        let passage: GoldPassage = serde_json::from_str(
            r#"{"id":"t","text":"発熱なし、右膝痛あり","entities":[
            {"type":"disease","start":0,"end":2,"text":"発熱","certainty":"negative"},
            {"type":"disease","start":5,"end":8,"text":"右膝痛","certainty":"positive"}]}"#,
        )
        .unwrap();
        let predicted = vec![
            entity(EntityType::Disease, 0, 2, Some(Certainty::Positive)),
            entity(EntityType::Disease, 6, 8, Some(Certainty::Positive)),
            entity(EntityType::Anatomy, 5, 6, None),
        ];
        let mut accuracy = Accuracy::default();
        score_passage(&mut accuracy, &passage, &predicted);
        let disease = accuracy.counts(EntityType::Disease);
        assert_eq!((disease.gold, disease.predicted, disease.exact), (2, 2, 1));
        assert_eq!((disease.overlap_gold, disease.overlap_predicted), (2, 2));
        assert_eq!(accuracy.counts(EntityType::Anatomy).predicted, 1);
        // 発熱 matched by span but predicted positive: a certainty error, and no positive match.
        assert_eq!(accuracy.certainty_confusion[1][0], 1);
        assert_eq!(accuracy.certainty_accuracy(), 0.0);
        let positive = accuracy.positive_disease;
        assert_eq!(
            (positive.gold, positive.predicted, positive.exact),
            (1, 2, 0)
        );
        assert!(accuracy.render().contains("disease positive"));
    }

    #[test]
    fn bad_gold_files_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gold.jsonl");
        std::fs::write(
            &path,
            "{\"id\":\"a\",\"text\":\"肺炎\",\"entities\":[]}\n{\"id\":\"b\",\"text\":\"肺炎\",\
             \"entities\":[{\"type\":\"disease\",\"start\":0,\"end\":1,\"text\":\"肺炎\"}]}\n",
        )
        .unwrap();
        let err = load_gold(&path).unwrap_err().to_string();
        assert!(err.contains("gold.jsonl, line 2"), "{err}");
        let missing = load_gold(&dir.path().join("none.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("none.jsonl"), "{missing}");
    }
}
