//! Stage 5: certainty of each disease/finding, ConText-style. Japanese puts most cues after
//! the term (肺炎なし, 肺炎疑い, 肺炎は否定的), so the scope of a cue runs backwards from it to
//! the previous terminator (a positive cue like あり/認め, 。, a line break); a few cues come
//! before the term (家族歴, 父, r/o). A list joined by ・ or 、 before one cue shares it.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::candidate::Candidate;
use super::{Certainty, EntityType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Negative,
    Suspicious,
    General,
    /// Ends the scope without changing certainty: あり, 認め, が、, 著変なし …
    Terminator,
}

const NEGATIVE_AFTER: &[&str] = &[
    "なし",
    "無し",
    "ナシ",
    "認めず",
    "認めない",
    "認めなかった",
    "認められない",
    "認められず",
    "認められなかった",
    "みられない",
    "見られない",
    "みられず",
    "見られず",
    "みとめず",
    "否定的",
    "否定された",
    "否定され",
    "否定",
    "陰性",
    "(-)",
    "ではない",
    "ではなく",
    "なく",
    "なかった",
    "(ー)",
    "除外された",
    "除外できた",
    "除外済み",
    // "Unlikely" reads as a negation in ConText (but 可能性は低い stays a possibility).
    "考えにくい",
    "はない",
    "はなく",
    "認めていない",
    "認めていません",
    "認めません",
    "みとめない",
    // 「〜を示唆する所見はない」 negates, although 示唆 alone is a possibility.
    "示唆する所見はない",
    "示唆する所見はなく",
    "示唆する所見なし",
    "示唆する所見は認めない",
    "示唆する集積はない",
    "示唆する集積なし",
    "示唆する所見を認めない",
];
const SUSPICIOUS_AFTER: &[&str] = &[
    "疑い",
    "疑う",
    "疑われ",
    "疑わ",
    "疑",
    "可能性",
    "否定できない",
    "否定できず",
    "否定し得ない",
    "否定しえない",
    "否定はできない",
    "否定出来ない",
    "示唆",
    "?",
    "鑑別",
    "r/o",
    "疑診",
    "懸念",
    "除外",
];
const GENERAL_AFTER: &[&str] = &[
    "リスク",
    "際は",
    "際には",
    "場合は",
    "場合には",
    "予防",
    "について説明",
    "に注意",
    "時の",
    "時は",
    "時には",
    "の際",
    // Hypotheticals: instructions for what may happen.
    "あれば",
    "出現したら",
    "出現時",
    "した場合",
    "の場合",
];

/// Cues that make a whole sentence general: explanations, instructions, risks.
const SENTENCE_GENERAL: &[&str] = &["説明", "指導", "リスク", "予防", "注意喚起"];
/// How far the sentence-level cues are looked for (bytes; ~130 Japanese chars).
const SENTENCE_BYTES: usize = 400;
const TERMINATORS_AFTER: &[&str] = &[
    "あり",
    "有り",
    "あった",
    "認め、",
    "認め,",
    "認めた",
    "認める",
    "認めて",
    "認めます",
    "認められる",
    "認められた",
    "が、",
    "しかし",
    "ただし",
    "ので",
    "ため",
    "にて",
    // Pseudo-cues: look like negations but say "unchanged".
    "著変なし",
    "著変を認めず",
    "著変は認めない",
    "著変なく",
    "変化なし",
    "増悪なし",
    "問題なし",
    "特記事項なし",
    "変わりなし",
];

const GENERAL_BEFORE: &[&str] = &[
    "家族歴",
    "家族内",
    "家族",
    "父",
    "母",
    "兄",
    "姉",
    "弟",
    "妹",
    "祖父",
    "祖母",
    "叔父",
    "叔母",
    "伯父",
    "伯母",
    "息子",
    "娘",
    "同居者",
    "一般に",
    "一般的に",
];
const SUSPICIOUS_BEFORE: &[&str] = &["r/o", "R/O", "s/o", "S/O", "疑い:", "疑:"];

/// How far a cue may be from the term (bytes of normalized text; ~40 Japanese chars).
const SCOPE_BYTES: usize = 120;
/// After the first cue, a second one this close overrides it (疑いは否定的, 可能性も否定できず).
const OVERRIDE_GAP_BYTES: usize = 12;

struct CueSet {
    automaton: AhoCorasick,
    kinds: Vec<Cue>,
}

impl CueSet {
    fn new(groups: &[(&[&str], Cue)]) -> CueSet {
        let mut patterns = Vec::new();
        let mut kinds = Vec::new();
        for (words, cue) in groups {
            for word in *words {
                patterns.push(*word);
                kinds.push(*cue);
            }
        }
        let automaton = match AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
        {
            Ok(automaton) => automaton,
            // The cue lists are constants; the unit tests build them.
            Err(err) => panic!("invalid cue list: {err}"),
        };
        CueSet { automaton, kinds }
    }
}

static AFTER: LazyLock<CueSet> = LazyLock::new(|| {
    CueSet::new(&[
        (NEGATIVE_AFTER, Cue::Negative),
        (SUSPICIOUS_AFTER, Cue::Suspicious),
        (GENERAL_AFTER, Cue::General),
        (TERMINATORS_AFTER, Cue::Terminator),
    ])
});

static SENTENCE_GENERAL_CUES: LazyLock<AhoCorasick> = LazyLock::new(|| {
    match AhoCorasick::new(SENTENCE_GENERAL) {
        Ok(automaton) => automaton,
        // A constant list; the unit tests build it.
        Err(err) => panic!("invalid cue list: {err}"),
    }
});

static BEFORE: LazyLock<CueSet> = LazyLock::new(|| {
    CueSet::new(&[
        (GENERAL_BEFORE, Cue::General),
        (SUSPICIOUS_BEFORE, Cue::Suspicious),
    ])
});

/// 標準リスク, 高リスク群: a risk group names the patient's category, not a risk explained.
fn is_risk_group(text: &str, cue_start: usize) -> bool {
    text[cue_start..].starts_with("リスク")
        && ["標準", "高", "低", "中間"]
            .iter()
            .any(|w| text[..cue_start].ends_with(w))
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '。' | '\n' | '\r' | '!')
}

/// Certainty of every disease among `entities` (sorted, non-overlapping); `None` for others.
pub fn assign(text: &str, entities: &[Candidate]) -> Vec<Option<Certainty>> {
    if !entities.iter().any(|e| e.kind == EntityType::Disease) {
        return vec![None; entities.len()];
    }
    let general = GeneralSentences::new(text);
    entities
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (e.kind == EntityType::Disease).then(|| certainty_of(text, entities, i, &general))
        })
        .collect()
}

/// Where sentences end and where sentence-level general cues stand, found in one pass each
/// so that every disease is checked by binary search, not by rescanning its sentence.
struct GeneralSentences {
    sentence_ends: Vec<usize>,
    cues: Vec<usize>,
}

impl GeneralSentences {
    fn new(text: &str) -> Self {
        let sentence_ends = text
            .match_indices(|c: char| is_sentence_end(c) || c == '#')
            .map(|(i, _)| i)
            .collect();
        let cues = SENTENCE_GENERAL_CUES
            .find_iter(text)
            .filter(|m| !is_risk_group(text, m.start()))
            .map(|m| m.end())
            .collect();
        GeneralSentences {
            sentence_ends,
            cues,
        }
    }

    /// Explanations, instructions and risks (「〜のリスクについて説明」, 「〜について指導」)
    /// make every term of their sentence general.
    fn after(&self, from: usize) -> bool {
        let next_end = self.sentence_ends.partition_point(|&e| e < from);
        let limit = self
            .sentence_ends
            .get(next_end)
            .copied()
            .unwrap_or(usize::MAX)
            .min(from + SENTENCE_BYTES);
        let first_cue = self.cues.partition_point(|&c| c <= from);
        self.cues
            .get(first_cue)
            .is_some_and(|&cue_end| cue_end <= limit)
    }
}

fn certainty_of(
    text: &str,
    entities: &[Candidate],
    index: usize,
    general: &GeneralSentences,
) -> Certainty {
    let entity = &entities[index];
    if let Some(cue) = cue_before(text, entity.start) {
        return match cue {
            Cue::General => Certainty::General,
            Cue::Suspicious => Certainty::Suspicious,
            _ => Certainty::Positive,
        };
    }
    match cue_after(text, entities, index) {
        Some(Cue::Negative) => Certainty::Negative,
        Some(Cue::Suspicious) => Certainty::Suspicious,
        Some(Cue::General) => Certainty::General,
        Some(Cue::Terminator) | None if general.after(entity.end) => Certainty::General,
        Some(Cue::Terminator) | None => Certainty::Positive,
    }
}

/// The text from `from` to the end of its clause group (sentence, line, problem-list item),
/// at most `limit` bytes long.
fn forward_window(text: &str, from: usize, limit: usize) -> &str {
    let rest = &text[from..];
    let mut end = 0;
    for (i, c) in rest.char_indices() {
        if i >= limit || is_sentence_end(c) || c == '#' {
            break;
        }
        end = i + c.len_utf8();
    }
    &rest[..end]
}

fn backward_window(text: &str, to: usize) -> &str {
    let before = &text[..to];
    let mut start = to;
    for (i, c) in before.char_indices().rev() {
        if to - i > SCOPE_BYTES || is_sentence_end(c) {
            break;
        }
        start = i;
    }
    &text[start..to]
}

/// Content characters: a cue after them belongs to them, not to an earlier term.
fn is_content(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c as u32, 0x30A1..=0x30FA | 0x30FC | 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
}

/// Whether a cue starting at byte `upto` of `window` still reaches the term before the
/// window: only other terms joined by list separators (・ 、 と や), particles and
/// non-disease entities may stand between; an opening bracket, or new content after a
/// comma, starts another clause.
fn cue_reaches(window: &str, others: &[(usize, usize, EntityType)], upto: usize) -> bool {
    let mut after_comma = false;
    let mut content_since_term = false;
    let mut at = 0;
    while at < upto {
        if let Some(&(_, end, kind)) = others.iter().find(|(s, e, _)| *s == at && *e <= upto) {
            if kind == EntityType::Disease {
                if content_since_term {
                    return false;
                }
                content_since_term = false;
            }
            at = end;
            continue;
        }
        let Some(c) = window[at..].chars().next() else {
            break;
        };
        match c {
            '(' | '[' | '【' | '「' | '#' => return false,
            '、' | ',' => after_comma = true,
            _ if is_content(c) => {
                if after_comma {
                    return false;
                }
                content_since_term = true;
            }
            _ => {}
        }
        at += c.len_utf8();
    }
    true
}

fn cue_after(text: &str, entities: &[Candidate], index: usize) -> Option<Cue> {
    let from = entities[index].end;
    let window = forward_window(text, from, SCOPE_BYTES);
    let others: Vec<(usize, usize, EntityType)> = entities[index + 1..]
        .iter()
        .take_while(|e| e.start < from + window.len())
        .map(|e| (e.start - from, (e.end - from).min(window.len()), e.kind))
        .collect();
    // Cue-like words inside other entities (a test value 陰性, the term 陰性T波) are not cues.
    let inside_other =
        |start: usize, end: usize| others.iter().any(|&(s, e, _)| s <= start && e >= end);
    let mut cues = AFTER
        .automaton
        .find_iter(window)
        .filter(|m| !inside_other(m.start(), m.end()))
        .filter(|m| !is_risk_group(text, from + m.start()))
        .map(|m| (m.start(), m.end(), AFTER.kinds[m.pattern().as_usize()]));
    let (first_start, first_end, first) = cues.next()?;
    if !cue_reaches(window, &others, first_start) {
        return None;
    }
    if first == Cue::Terminator {
        return Some(first);
    }
    if let Some((next_start, _, next)) = cues.next() {
        let gap = &window[first_end..next_start];
        // Another term between the cues has its own cue (無気肺？気胸なし).
        let term_between = others
            .iter()
            .any(|&(s, e, _)| s >= first_end && e <= next_start);
        if next != Cue::Terminator
            && gap.len() <= OVERRIDE_GAP_BYTES
            && !gap.contains('、')
            && !term_between
        {
            return Some(next);
        }
    }
    Some(first)
}

fn cue_before(text: &str, to: usize) -> Option<Cue> {
    let window = backward_window(text, to);
    BEFORE
        .automaton
        .find_iter(window)
        .map(|m| BEFORE.kinds[m.pattern().as_usize()])
        .last()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlp::candidate::rank;

    /// Marks every occurrence of the given disease words and returns their certainties.
    fn certainties(text: &str, diseases: &[&str]) -> Vec<(String, Certainty)> {
        let mut entities: Vec<Candidate> = diseases
            .iter()
            .flat_map(|d| {
                text.match_indices(d).map(|(i, s)| {
                    Candidate::new(EntityType::Disease, i, i + s.len(), rank::LEXICON)
                })
            })
            .collect();
        entities.sort_by_key(|e| e.start);
        assign(text, &entities)
            .into_iter()
            .zip(&entities)
            .map(|(c, e)| (text[e.start..e.end].to_string(), c.unwrap()))
            .collect()
    }

    fn of(text: &str, diseases: &[&str]) -> Vec<Certainty> {
        certainties(text, diseases)
            .into_iter()
            .map(|(_, c)| c)
            .collect()
    }

    use Certainty::*;

    #[test]
    fn negation_and_its_scope() {
        assert_eq!(
            of("発熱なし、喀痰あり。", &["発熱", "喀痰"]),
            [Negative, Positive]
        );
        assert_eq!(
            of("悪寒・戦慄なし。", &["悪寒", "戦慄"]),
            [Negative, Negative]
        );
        assert_eq!(of("明らかな麻痺は認めない。", &["麻痺"]), [Negative]);
        assert_eq!(
            of("肝転移・腹膜播種は認めなかった。", &["肝転移", "腹膜播種"]),
            [Negative, Negative]
        );
        assert_eq!(of("心雑音(-)。", &["心雑音"]), [Negative]);
        assert_eq!(of("穿孔は否定的。", &["穿孔"]), [Negative]);
        assert_eq!(of("肺塞栓は考えにくい。", &["肺塞栓"]), [Negative]);
        assert_eq!(
            of("結節影、前回と比較して著変なし。", &["結節影"]),
            [Positive]
        );
        assert_eq!(of("腫瘍は漿膜面まで達していない。", &["腫瘍"]), [Positive]);
    }

    #[test]
    fn suspicion() {
        assert_eq!(
            of("浸潤影を認め、肺炎を疑う。", &["浸潤影", "肺炎"]),
            [Positive, Suspicious]
        );
        assert_eq!(
            of("溶連菌感染症の可能性あり。", &["溶連菌感染症"]),
            [Suspicious]
        );
        assert_eq!(of("ACSの可能性も否定できず、", &["ACS"]), [Suspicious]);
        assert_eq!(of("肺炎の疑いは否定的。", &["肺炎"]), [Negative]);
        assert_eq!(of("r/o 肺塞栓", &["肺塞栓"]), [Suspicious]);
    }

    #[test]
    fn general_statements() {
        assert_eq!(
            of("家族歴:父 肺癌、母 脳梗塞。", &["肺癌", "脳梗塞"]),
            [General, General]
        );
        assert_eq!(
            of(
                "術後せん妄と肺塞栓のリスクについて説明",
                &["せん妄", "肺塞栓"]
            ),
            [General, General]
        );
        assert_eq!(of("既往歴:高血圧。", &["高血圧"]), [Positive]);
        assert_eq!(of("発熱があれば頓用。", &["発熱"]), [General]);
        assert_eq!(of("胸痛出現時は連絡。", &["胸痛"]), [General]);
    }
}
