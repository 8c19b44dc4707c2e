//! Prompts for narrative sections, built within the context window and counted with the
//! model's own tokenizer.
//!
//! Every section of one draft shares the same prefix (instructions, a format example, the
//! chart's notes) and differs only in its last line (the section header), so the engine
//! decodes the chart once and reuses it for every other section and every regeneration.
//! Because the prefix is shared, notes are chosen once per document: by relevance to the
//! document's narrative sections (their keywords and note kinds) and by recency. Notes that
//! do not fit are reported in a `Truncation`, never dropped silently.

use crate::chart::{Chart, Note};
use crate::llm::{ChatMessage, ChatRole, LlmError, Prompt, Tokenizer};

use super::model::{SectionKind, Truncation};
use super::template::{DocumentTemplate, SectionTemplate};

/// Tokens kept free beyond the computed need (BOS, tokenization seams between notes).
const SAFETY_TOKENS: usize = 32;

/// Generation stops at a section header (the base model likes to start the next one, or
/// to restate one first) or a run of blank lines.
pub const SECTION_STOPS: [&str; 3] = ["【", "\n■", "\n\n\n"];

/// An instruct model often opens its answer with the section's heading: only a header on
/// a later line ends the section (the opening one is removed by [`without_heading`]).
pub const CHAT_SECTION_STOPS: [&str; 3] = ["\n【", "\n■", "\n\n\n"];

pub fn section_stops(chat: bool) -> &'static [&'static str] {
    if chat {
        &CHAT_SECTION_STOPS
    } else {
        &SECTION_STOPS
    }
}

/// `text` without an opening line that only restates the section's title (【紹介目的】,
/// ■紹介目的, **紹介目的**, 紹介目的：).
pub fn without_heading<'a>(text: &'a str, title: &str) -> &'a str {
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let bare = first
        .trim()
        .trim_matches(|c: char| "【】■#*:：[] 　".contains(c));
    if !bare.is_empty() && bare == title {
        rest.trim_start()
    } else {
        text
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PromptPlan {
    /// The shared chart context: everything before the section header.
    pub prefix: String,
    pub included_notes: Vec<String>,
    pub truncation: Option<Truncation>,
    /// Chat template (instruct model) or plain completion (base model).
    pub chat: bool,
}

impl PromptPlan {
    /// Chooses the notes that fit in `n_ctx` tokens next to the longest section request.
    pub fn build(
        chart: &Chart,
        template: &DocumentTemplate,
        tokenizer: &Tokenizer,
        n_ctx: u32,
        chat: bool,
        max_tokens_override: Option<usize>,
    ) -> Result<Self, LlmError> {
        let head = header(chart, template, chat);
        let tail = notes_footer(template);
        let longest_section = template
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Narrative)
            .map(|s| {
                tokenizer.count(&section_suffix(template, s, chat))
                    + max_tokens_override.unwrap_or(s.max_tokens)
            })
            .max()
            .unwrap_or(0);
        let fixed =
            tokenizer.count(&head) + tokenizer.count(&tail) + longest_section + SAFETY_TOKENS;
        let n_ctx_tokens = n_ctx as usize;
        if fixed >= n_ctx_tokens {
            return Err(LlmError::ContextTooSmall {
                n_ctx,
                needed: fixed + 1,
            });
        }
        let budget = n_ctx_tokens - fixed;

        let notes = chart.notes_by_date();
        let blocks: Vec<(usize, String, usize)> = notes
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let block = note_block(n);
                let tokens = tokenizer.count(&block);
                (i, block, tokens)
            })
            .collect();
        let priority = priority_order(&notes, template);
        let mut chosen = vec![false; notes.len()];
        let mut used = 0usize;
        for i in priority {
            let tokens = blocks[i].2;
            if used + tokens <= budget {
                used += tokens;
                chosen[i] = true;
            }
        }
        let mut prefix = head;
        let mut included = Vec::new();
        let mut omitted = Vec::new();
        let mut omitted_tokens = 0;
        for (i, block, tokens) in &blocks {
            if chosen[*i] {
                prefix.push_str(block);
                included.push(notes[*i].id.clone());
            } else {
                omitted.push(notes[*i].id.clone());
                omitted_tokens += tokens;
            }
        }
        prefix.push_str(&tail);
        let truncation = if omitted.is_empty() {
            None
        } else {
            Some(Truncation {
                omitted_notes: omitted,
                included_notes: included.len(),
                omitted_tokens,
                budget_tokens: budget,
            })
        };
        Ok(Self {
            prefix,
            included_notes: included,
            truncation,
            chat,
        })
    }

    /// The full prompt for one narrative section: the shared prefix, then its header.
    pub fn section_prompt(&self, template: &DocumentTemplate, section: &SectionTemplate) -> Prompt {
        let suffix = section_suffix(template, section, self.chat);
        if self.chat {
            Prompt::Chat(vec![ChatMessage {
                role: ChatRole::User,
                content: format!("{}{}", self.prefix, suffix),
            }])
        } else {
            Prompt::Text(format!("{}{}", self.prefix, suffix))
        }
    }
}

fn header(chart: &Chart, template: &DocumentTemplate, chat: bool) -> String {
    let mut head = format!(
        "以下は患者の診療記録と、その記録だけに基づいて書かれた{}である。記録にない事実は書かない。\n\n",
        template.title
    );
    if !chat && !template.example.trim().is_empty() {
        head.push_str(&format!("書式の例:\n{}\n\n", template.example.trim()));
    }
    head.push_str(&format!("■診療記録（{}）\n", chart.encounter.department));
    head
}

fn notes_footer(template: &DocumentTemplate) -> String {
    format!("\n■{}\n", template.title)
}

fn note_block(note: &Note) -> String {
    format!(
        "[{} {} {}]\n{}\n\n",
        note.datetime.format("%Y-%m-%d %H:%M"),
        note.kind,
        note.author_role,
        note.text.trim_end()
    )
}

/// What follows the shared prefix for one section.
pub fn section_suffix(
    template: &DocumentTemplate,
    section: &SectionTemplate,
    chat: bool,
) -> String {
    if chat {
        format!(
            "上の記録だけに基づいて、{}の「{}」の本文だけを書いてください。{}",
            template.title, section.title, section.instruction
        )
    } else {
        format!("【{}】\n", section.title)
    }
}

/// Note indices (into the date-sorted list) from most to least worth keeping: relevance to
/// the document's narrative sections first, then recency.
fn priority_order(notes: &[&Note], template: &DocumentTemplate) -> Vec<usize> {
    let narrative: Vec<&SectionTemplate> = template
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Narrative)
        .collect();
    let relevance: Vec<f64> = notes
        .iter()
        .map(|n| {
            narrative
                .iter()
                .map(|s| {
                    let kind = if s.note_kinds.contains(&n.kind) {
                        2.0
                    } else {
                        0.0
                    };
                    let hits = s
                        .keywords
                        .iter()
                        .filter(|k| n.text.contains(k.as_str()))
                        .count() as f64;
                    kind + hits
                })
                .sum::<f64>()
        })
        .collect();
    let max_relevance = relevance.iter().cloned().fold(0.0, f64::max).max(1.0);
    let last = notes.len().saturating_sub(1).max(1) as f64;
    let mut order: Vec<usize> = (0..notes.len()).collect();
    // Relevance weighs twice recency: an old admission note still outranks a recent chore.
    let score = |i: usize| 2.0 * relevance[i] / max_relevance + i as f64 / last;
    order.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(b.cmp(&a)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::model::DocumentKind;

    #[test]
    fn relevant_and_recent_notes_come_first() {
        let chart: Chart = serde_json::from_str(
            r#"{"id":"C","patient":{"id":"P","name":"N"},"notes":[
              {"id":"old-admission","datetime":"2026-01-01","kind":"入院時記録","text":"主訴：発熱。現病歴：3日前に発症し来院。既往歴：なし"},
              {"id":"old-misc","datetime":"2026-01-02","kind":"その他","text":"書類受領"},
              {"id":"recent-misc","datetime":"2026-01-09","kind":"その他","text":"面会あり"}]}"#,
        )
        .unwrap();
        let notes = chart.notes_by_date();
        let order = priority_order(&notes, &DocumentTemplate::builtin(DocumentKind::Discharge));
        let ids: Vec<&str> = order.iter().map(|&i| notes[i].id.as_str()).collect();
        assert_eq!(ids, ["old-admission", "recent-misc", "old-misc"]);
    }

    #[test]
    fn an_opening_heading_is_removed_only_when_it_is_the_title() {
        for text in [
            "【紹介目的】\n精査加療のお願い",
            "■紹介目的\n精査加療のお願い",
            "**紹介目的**\n\n精査加療のお願い",
            "紹介目的：\n精査加療のお願い",
            "\n紹介目的\n精査加療のお願い",
        ] {
            assert_eq!(
                without_heading(text, "紹介目的"),
                "精査加療のお願い",
                "{text:?}"
            );
        }
        assert_eq!(
            without_heading("紹介目的は精査です", "紹介目的"),
            "紹介目的は精査です"
        );
        assert_eq!(
            without_heading("【傷病名】\n肺炎", "紹介目的"),
            "【傷病名】\n肺炎"
        );
        assert_eq!(without_heading("", "紹介目的"), "");
    }
}
