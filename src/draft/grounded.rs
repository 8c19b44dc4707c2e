//! `grounded` mode: the model rewrites only a section's evidence, and every sentence it
//! finishes is checked before it reaches the draft. A sentence with a number the evidence
//! does not have, a fact the provenance guard finds unsupported or contradicted, or text of
//! the template's format example is replaced by the evidence sentence it came from (the most
//! similar one not used yet), and the replacement is marked. Sentences that pass keep a link
//! to the evidence they rewrite.

use std::ops::Range;
use std::sync::Arc;

use crate::chart::{Chart, Source};
use crate::llm::{ChatMessage, ChatRole, Prompt};
use crate::nlp::Pipeline;
use crate::review::{check_draft, ChartIndex};

use super::course::similar;
use super::evidence::{dedup_key, SectionEvidence};
use super::template::{DocumentTemplate, SectionTemplate};

/// The prompt for one section: its evidence and what to write, nothing else of the chart.
pub fn prompt(
    template: &DocumentTemplate,
    section: &SectionTemplate,
    evidence: &SectionEvidence,
    chat: bool,
) -> Prompt {
    let lines = evidence.prompt_lines();
    if chat {
        Prompt::Chat(vec![
            ChatMessage {
                role: ChatRole::System,
                content: "あなたは医師の文書作成を補助する。与えられたカルテの記載だけを使って書き、記載にない事実・数値・日付は書かない。".into(),
            },
            ChatMessage {
                role: ChatRole::User,
                content: format!(
                    "{}の「{}」を書いてください。{}\n\nカルテの記載:\n{}",
                    template.title, section.title, section.instruction, lines
                ),
            },
        ])
    } else {
        Prompt::Text(format!(
            "カルテの記載:\n{lines}\n上の記載だけを使い、{}の「{}」を書く。{}\n【{}】\n",
            template.title, section.title, section.instruction, section.title
        ))
    }
}

/// Tokens the model may write for a section: about its evidence's length, within the
/// template's bound.
pub fn max_tokens(section: &SectionTemplate, evidence_tokens: usize) -> usize {
    (evidence_tokens + evidence_tokens / 4 + 16).min(section.max_tokens.max(16))
}

/// Why a sentence did not reach the draft as the model wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A number the evidence does not contain.
    Number(String),
    /// The provenance guard flagged a fact (its explanation).
    Guard(String),
    /// Text of the template's format example.
    Example,
    /// Nothing to say, or said already (a small model repeating itself): dropped.
    Empty,
}

/// Checks sentences of one chart.
pub struct SentenceJudge {
    guard: Option<(Arc<Pipeline>, Arc<ChartIndex>)>,
    example_keys: Vec<String>,
}

impl SentenceJudge {
    /// `pipeline`: the NLP pipeline (lindera dictionary) for the guard; without it only
    /// numbers and the format example are checked.
    pub fn new(chart: &Chart, pipeline: Option<Arc<Pipeline>>, example: &str) -> Self {
        let guard = pipeline.map(|p| {
            let index = Arc::new(ChartIndex::build(&p, chart));
            (p, index)
        });
        let example_keys = super::evidence::example_sentences(example);
        Self {
            guard,
            example_keys,
        }
    }

    pub fn has_guard(&self) -> bool {
        self.guard.is_some()
    }

    /// `None` when the sentence may stay.
    pub fn judge(
        &self,
        sentence: &str,
        evidence: &SectionEvidence,
        kept: &[String],
    ) -> Option<Rejection> {
        self.judge_with_numbers(sentence, &evidence_numbers(evidence), kept)
    }

    /// `judge`, with the evidence's numbers already read (`GroundedText` reads them once).
    fn judge_with_numbers(
        &self,
        sentence: &str,
        evidence_numbers: &[String],
        kept: &[String],
    ) -> Option<Rejection> {
        let key = dedup_key(sentence);
        if key.chars().filter(|c| c.is_alphabetic()).count() < 2 {
            return Some(Rejection::Empty);
        }
        if kept.iter().any(|k| k == &key || similar(k, &key)) {
            return Some(Rejection::Empty);
        }
        if self
            .example_keys
            .iter()
            .any(|e| e.chars().count() >= 4 && (key.contains(e.as_str()) || e.contains(&key)))
        {
            return Some(Rejection::Example);
        }
        if let Some(n) = number_not_in(sentence, evidence_numbers) {
            return Some(Rejection::Number(n));
        }
        if let Some((pipeline, index)) = &self.guard {
            let report = check_draft(
                Arc::clone(pipeline),
                Arc::clone(index),
                &[("grounded".to_string(), sentence.to_string())],
            );
            let flagged = report.flagged().next().map(|item| item.explanation());
            if let Some(explanation) = flagged {
                return Some(Rejection::Guard(explanation));
            }
        }
        None
    }
}

/// The first number of `text` that `evidence_numbers` (from `numbers_in`) lacks.
fn number_not_in(text: &str, evidence_numbers: &[String]) -> Option<String> {
    numbers_in(text)
        .into_iter()
        .find(|n| !evidence_numbers.contains(n))
}

/// The numbers of all evidence items (the only numbers a grounded sentence may carry).
fn evidence_numbers(evidence: &SectionEvidence) -> Vec<String> {
    evidence
        .items
        .iter()
        .flat_map(|i| numbers_in(&i.text))
        .collect()
}

/// The numbers of a text, normalized (full-width digits, thousands separators, 38.0 = 38).
pub fn numbers_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '．' => '.',
            '，' => ',',
            _ => c,
        })
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut s = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next_digit = chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
            if c.is_ascii_digit() || (c == '.' && next_digit) {
                s.push(c);
            } else if c == ',' && next_digit && chars.get(i + 4).is_none_or(|d| !d.is_ascii_digit())
            {
                // 1,500: a thousands separator
            } else {
                break;
            }
            i += 1;
        }
        if s.contains('.') {
            let t = s.trim_end_matches('0').trim_end_matches('.').to_string();
            s = if t.is_empty() { "0".into() } else { t };
        }
        out.push(s);
    }
    out
}

/// A grounded section being assembled sentence by sentence.
#[derive(Debug, Default)]
pub struct GroundedText {
    pub text: String,
    len: usize,
    /// Copied evidence (the replacements): supported by construction.
    pub provenance: Vec<(Range<usize>, Source)>,
    /// Model sentences that passed, linked to the evidence they rewrite.
    pub aligned: Vec<(Range<usize>, Source)>,
    /// Sentences replaced by their evidence (shown with a mark).
    pub fallbacks: Vec<Range<usize>>,
    used: Vec<bool>,
    /// The numbers of the evidence, read once per section (every sentence is checked
    /// against them, and every streamed piece of an unfinished one).
    evidence_numbers: Vec<String>,
    kept: Vec<String>,
    pub rejected: usize,
    /// Finished sentences in a row that added nothing (repeats, or rejected with no
    /// evidence left to put in their place).
    idle_sentences: usize,
}

/// Sentences in a row that add nothing before the model is stopped: a small model that
/// has said what its evidence holds goes on repeating itself until `max_tokens`, and every
/// one of those tokens is time the clinician waits for text that never reaches the draft.
const IDLE_SENTENCES_BEFORE_STOP: usize = 2;

impl GroundedText {
    pub fn new(evidence: &SectionEvidence) -> Self {
        Self {
            used: vec![false; evidence.items.len()],
            evidence_numbers: evidence_numbers(evidence),
            ..Self::default()
        }
    }

    /// Whether the sentence the model has not finished already holds a number its evidence
    /// lacks: it will be rejected however it ends, so the model can be stopped at once (a
    /// small model's run-on lists of values are where most of its wasted time goes). A number
    /// still being written (digits at the very end) is not judged yet.
    pub fn unfinished_is_doomed(&self, pending: &str) -> bool {
        let settled = pending.trim_end_matches(|c: char| {
            c.is_ascii_digit() || ('０'..='９').contains(&c) || matches!(c, '.' | '．' | ',' | '，')
        });
        number_not_in(settled, &self.evidence_numbers).is_some()
    }

    /// Takes one finished sentence of the model.
    pub fn push_sentence(
        &mut self,
        sentence: &str,
        evidence: &SectionEvidence,
        judge: &SentenceJudge,
    ) {
        let sentence = sentence
            .trim()
            .trim_start_matches(['・', '-', '*', '●'])
            .trim();
        if sentence.is_empty() {
            return;
        }
        let before = self.len;
        self.judge_sentence(sentence, evidence, judge);
        if self.len == before {
            self.idle_sentences += 1;
        } else {
            self.idle_sentences = 0;
        }
    }

    /// The model was stopped before it had rewritten its evidence: the items it did not
    /// reach go in as they are (copied, marked like any replacement), unless the section
    /// already says the same; nothing of the evidence is lost to the early stop.
    pub fn fill_from_evidence(&mut self, evidence: &SectionEvidence) {
        for (i, item) in evidence.items.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let key = dedup_key(&item.text);
            if key.is_empty() || self.kept.iter().any(|k| k == &key || similar(k, &key)) {
                continue;
            }
            self.used[i] = true;
            let n = item.text.chars().count();
            let range = self.len..self.len + n;
            self.provenance.push((range.clone(), item.source()));
            self.fallbacks.push(range);
            self.kept.push(key);
            self.append(&item.text.clone());
        }
    }

    /// Whether more of the model's text cannot change the section: every evidence item is
    /// in it already (rewritten or copied), or the last sentences added nothing.
    pub fn is_complete(&self) -> bool {
        (!self.used.is_empty() && self.used.iter().all(|u| *u))
            || self.idle_sentences >= IDLE_SENTENCES_BEFORE_STOP
    }

    fn judge_sentence(
        &mut self,
        sentence: &str,
        evidence: &SectionEvidence,
        judge: &SentenceJudge,
    ) {
        let best = self.closest(sentence, evidence);
        match judge.judge_with_numbers(sentence, &self.evidence_numbers, &self.kept) {
            None => {
                let n = sentence.chars().count();
                if let Some(i) = best {
                    self.aligned
                        .push((self.len..self.len + n, evidence.items[i].source()));
                    self.used[i] = true;
                }
                self.kept.push(dedup_key(sentence));
                self.append(sentence);
            }
            Some(Rejection::Empty) => {}
            Some(_) => {
                self.rejected += 1;
                let pick = best.or_else(|| self.used.iter().position(|u| !u));
                if let Some(i) = pick {
                    let item = &evidence.items[i];
                    self.used[i] = true;
                    let n = item.text.chars().count();
                    let range = self.len..self.len + n;
                    self.provenance.push((range.clone(), item.source()));
                    self.fallbacks.push(range);
                    self.kept.push(dedup_key(&item.text));
                    self.append(&item.text.clone());
                }
            }
        }
    }

    fn append(&mut self, sentence: &str) {
        if !self.text.is_empty() && !super::evidence::ends_sentence(&self.text) {
            self.text.push('。');
            self.len += 1;
            // Ranges pushed for this sentence start after the separator.
            for list in [&mut self.aligned, &mut self.provenance] {
                if let Some((r, _)) = list.last_mut() {
                    if r.start == self.len - 1 {
                        *r = r.start + 1..r.end + 1;
                    }
                }
            }
            if let Some(r) = self.fallbacks.last_mut() {
                if r.start == self.len - 1 {
                    *r = r.start + 1..r.end + 1;
                }
            }
        }
        self.text.push_str(sentence);
        self.len += sentence.chars().count();
    }

    /// The unused evidence item most like `sentence` (character bigrams), if any is.
    fn closest(&self, sentence: &str, evidence: &SectionEvidence) -> Option<usize> {
        let key = dedup_key(sentence);
        evidence
            .items
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[*i])
            .map(|(i, item)| (i, overlap(&key, &dedup_key(&item.text))))
            .filter(|(_, score)| *score > 0.2)
            .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))
            .map(|(i, _)| i)
    }
}

/// Share of `a`'s character bigrams found in `b`.
fn overlap(a: &str, b: &str) -> f64 {
    let ca: Vec<char> = a.chars().collect();
    let cb: Vec<char> = b.chars().collect();
    let gb: std::collections::HashSet<(char, char)> = cb.windows(2).map(|w| (w[0], w[1])).collect();
    let ga: Vec<(char, char)> = ca.windows(2).map(|w| (w[0], w[1])).collect();
    if ga.is_empty() {
        return 0.0;
    }
    ga.iter().filter(|g| gb.contains(g)).count() as f64 / ga.len() as f64
}

/// Splits streamed text into finished sentences: returns the sentences completed so far
/// and leaves the unfinished rest in `pending`.
pub fn take_sentences(pending: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let cut = pending
            .char_indices()
            .find(|(_, c)| matches!(c, '。' | '！' | '？' | '\n'))
            .map(|(i, c)| i + c.len_utf8());
        let Some(cut) = cut else { break };
        let sentence: String = pending[..cut].trim_end_matches('\n').to_string();
        pending.replace_range(..cut, "");
        if !sentence.trim().is_empty() {
            out.push(sentence);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::evidence::EvidenceItem;

    #[test]
    fn numbers_are_normalized() {
        assert_eq!(
            numbers_in("BT 38.0℃、WBC 13,900、ＣＲＰ９．８"),
            ["38", "13900", "9.8"]
        );
        assert_eq!(numbers_in("7日間で3回"), ["7", "3"]);
        assert!(numbers_in("発熱なし").is_empty());
    }

    fn evidence(texts: &[&str]) -> SectionEvidence {
        let datetime = chrono::NaiveDate::from_ymd_opt(2026, 4, 1)
            .and_then(|d| d.and_hms_opt(9, 0, 0))
            .unwrap_or_default();
        SectionEvidence {
            items: texts
                .iter()
                .enumerate()
                .map(|(i, t)| EvidenceItem {
                    note_id: format!("n{i}"),
                    note_kind: "退院時記録".into(),
                    datetime,
                    label: "経過".into(),
                    start: 0,
                    end: t.chars().count(),
                    text: t.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn an_unfinished_sentence_is_doomed_only_by_a_settled_number_the_evidence_lacks() {
        let ev = evidence(&["BT 39.4℃、HR 156。", "心嚢液なし。"]);
        // Still being written: 3, 39, 39. may become 39.4.
        let text = GroundedText::new(&ev);
        for pending in ["BT 3", "BT 39", "BT 39.", "ＢＴ ３９．"] {
            assert!(!text.unfinished_is_doomed(pending), "{pending}");
        }
        assert!(!text.unfinished_is_doomed("BT 39.4℃、HR 15"));
        assert!(!text.unfinished_is_doomed("BT 39.4℃、HR 156、"));
        // 47.6 is settled (a unit follows) and not in the evidence.
        assert!(text.unfinished_is_doomed("BT 47.6℃"));
        assert!(text.unfinished_is_doomed("入院歴 10年"));
    }

    #[test]
    fn an_early_stop_fills_in_the_evidence_the_model_did_not_reach() {
        let ev = evidence(&["発熱は第3病日に解熱した。", "心嚢液なし。", "歩行は自立。"]);
        let judge = SentenceJudge {
            guard: None,
            example_keys: Vec::new(),
        };
        let mut text = GroundedText::new(&ev);
        text.push_sentence("発熱は第3病日に解熱した。", &ev, &judge);
        assert!(!text.is_complete());
        text.fill_from_evidence(&ev);
        assert!(text.is_complete());
        assert!(text.text.contains("心嚢液なし。"), "{}", text.text);
        assert!(text.text.contains("歩行は自立。"), "{}", text.text);
        // The rewritten sentence is not repeated; the copies are marked and sourced.
        assert_eq!(text.text.matches("解熱").count(), 1, "{}", text.text);
        assert_eq!(text.fallbacks.len(), 2);
        assert_eq!(text.provenance.len(), 2);
        let chars: Vec<char> = text.text.chars().collect();
        for range in &text.fallbacks {
            let copied: String = chars[range.clone()].iter().collect();
            assert!(ev.items.iter().any(|i| i.text == copied), "{copied}");
        }
    }

    #[test]
    fn sentences_that_add_nothing_complete_a_section() {
        let ev = evidence(&["心嚢液なし。", "歩行は自立。"]);
        let judge = SentenceJudge {
            guard: None,
            example_keys: Vec::new(),
        };
        let mut text = GroundedText::new(&ev);
        text.push_sentence("心嚢液なし。", &ev, &judge);
        text.push_sentence("心嚢液なし。", &ev, &judge);
        assert!(!text.is_complete(), "one repeat is not yet enough");
        text.push_sentence("心嚢液なし。", &ev, &judge);
        assert!(text.is_complete(), "two repeats in a row stop the model");
    }

    #[test]
    fn sentences_are_taken_as_they_finish() {
        let mut pending = "発熱あり。咳".to_string();
        assert_eq!(take_sentences(&mut pending), ["発熱あり。"]);
        assert_eq!(pending, "咳");
        pending.push_str("嗽あり\n");
        assert_eq!(take_sentences(&mut pending), ["咳嗽あり"]);
        assert!(pending.is_empty());
    }
}
