//! Noun compounds, decided with lindera's word boundaries inside one run of kanji/katakana:
//! - diseases grow over modifiers (急性, 慢性, 誤嚥性, 2型, 急性期) and over a following
//!   disease word (慢性心不全 + 急性増悪), but never over an anatomical location, which the
//!   annotation convention splits off (右下葉 + 肺炎, 虫垂 + 腫大);
//! - findings (上昇, 低下, 減弱 …) take the non-anatomical nouns before them
//!   (脂肪織濃度上昇, 食欲低下, ST上昇);
//! - unknown compounds ending in a disease head (症, 炎, 癌, 不全, 障害, 梗塞, 骨折 …) or a
//!   procedure head (術, 療法, 留置, 挿管, 郭清 …) become entities;
//! - laterality joins the anatomy after it (右 + 下肺野), adjacent anatomy joins (頸部 + リンパ節).

use std::cell::OnceCell;
use std::collections::HashSet;
use std::sync::LazyLock;

use crate::nlp::candidate::{rank, Candidate};
use crate::nlp::segment::{MedicalSegmenter, Word, WordClass};
use crate::nlp::EntityType;

/// Words that end a disease compound (the compound's head).
const DISEASE_HEADS: &[&str] = &[
    "症候群",
    "不全",
    "障害",
    "梗塞",
    "出血",
    "骨折",
    "狭窄",
    "潰瘍",
    "結石",
    "感染",
    "閉塞",
    "腫瘍",
    "疾患",
    "塞栓",
    "症",
    "炎",
    "癌",
    "がん",
    "腫",
    "病",
    "瘤",
    "肉腫",
];

/// Findings that take the non-anatomical nouns before them.
const FINDING_HEADS: &[&str] = &[
    "上昇", "低下", "減弱", "増加", "減少", "漏出", "亢進", "消失", "増強", "変化", "異常", "延長",
    "短縮", "貯留", "形成", "陰影",
];

/// Words that end a procedure compound.
const PROCEDURE_HEADS: &[&str] = &[
    "術",
    "療法",
    "留置",
    "挿入",
    "挿管",
    "郭清",
    "麻酔",
    "吸引",
    "洗浄",
    "訓練",
    "透析",
    "ドレナージ",
    "リハビリテーション",
    "リハビリ",
    "穿刺",
    "造設",
    "吻合",
    "固定",
    "生検",
    "照射",
];

/// Modifiers a disease compound may start with.
const DISEASE_MODIFIERS: &[&str] = &[
    "急性",
    "慢性",
    "亜急性",
    "急性期",
    "慢性期",
    "亜急性期",
    "陳旧性",
    "多発",
    "多発性",
    "再発",
    "再発性",
    "重症",
    "原発性",
    "続発性",
    "転移性",
    "難治性",
    "進行",
    "末期",
    "早期",
    "初発",
    "反復性",
    "遷延性",
    "特発性",
    "本態性",
    "二次性",
    "家族性",
    "先天性",
    "感染性",
    "術後",
    "微細",
    "壁在",
    "晩期",
    "遠隔",
    "非",
    "再",
    "急",
];

/// Words that never belong to a compound (time, degree, record words).
const STOP_WORDS: &[&str] = &[
    "本日",
    "今回",
    "前回",
    "同日",
    "当日",
    "翌日",
    "昨日",
    "入院",
    "退院",
    "外来",
    "当院",
    "他院",
    "前医",
    "既往",
    "既往歴",
    "主訴",
    "診断",
    "病名",
    "精査",
    "加療",
    "治療",
    "経過",
    "軽度",
    "中等度",
    "高度",
    "著明",
    "明らか",
    "少量",
    "多量",
    "一部",
    "全体",
    "疑い",
    "疑",
    "所見",
    "評価",
    "目的",
    "予定",
    "実施",
    "施行",
    "開始",
    "継続",
    "中止",
    "後",
    "中",
    "時",
    "部",
    "側",
    "大",
    "小",
    "的",
    "等",
    "様",
    "型",
    "性",
    "期",
    "右",
    "左",
    "両",
    "両側",
    "回",
    "日",
    "週",
    "錠",
    "中等",
    "軽",
    "重",
    "無",
    "周囲",
    "発症",
    "現症",
    "合併症",
    "既往症",
    "背景",
    "基礎",
];

/// Words stripped from the end of a run before looking for a head (喀痰吸引実施, 脳梗塞発症).
const TRAILING_RECORD_WORDS: &[&str] = &[
    "実施", "施行", "開始", "継続", "予定", "中止", "終了", "後", "中", "済", "時", "前", "発症",
];

/// Record words that look like disease words (they end in 症, 疾患 …) but name no finding:
/// 「発症」, 「現症」, 「既往」, 「背景疾患」, 「合併症」 on their own are never a disease entity.
pub const NON_FINDINGS: &[&str] = &[
    "発症",
    "新規発症",
    "初発症状",
    "現症",
    "既往",
    "既往症",
    "既往歴",
    "背景疾患",
    "基礎疾患",
    "併存疾患",
    "併存症",
    "合併症",
    "原疾患",
    "疾患",
    "主病名",
    "病名",
    "症状",
    "病状",
    "病歴",
    "病態",
    "症例",
    "重症度",
    "発症時",
    "術後合併症",
    "既往疾患",
    "対象疾患",
    "関連疾患",
    "周術期合併症",
];

/// Whether a disease candidate's surface names no finding ([`NON_FINDINGS`]).
pub fn is_non_finding(surface: &str) -> bool {
    NON_FINDINGS.contains(&surface)
}

/// One-character suffixes that make the word before them a modifier: 化膿 + 性, B + 型, III + 度.
const MODIFIER_SUFFIXES: &[&str] = &["性", "型", "度"];

/// One-character disease suffixes that make a site into a disease word.
const SITE_SUFFIXES: [char; 4] = ['痛', '炎', '症', '癌'];

/// A type or grade code written before 型 / 度: 1, 2, A, B, C, II, III, IV.
fn is_type_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 4
        && (s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 2
            || s.bytes().all(|b| b.is_ascii_uppercase()))
}

/// Laterality that joins the anatomy after it.
const LATERALITY: &[&str] = &["左右", "両側", "右側", "左側", "右", "左", "両"];

/// The last characters of every head above (a quick test before comparing whole heads).
static HEAD_LAST_CHARS: LazyLock<HashSet<char>> = LazyLock::new(|| {
    DISEASE_HEADS
        .iter()
        .chain(FINDING_HEADS)
        .chain(PROCEDURE_HEADS)
        .filter_map(|h| h.chars().next_back())
        .collect()
});

/// Longest run (in chars) worth segmenting; longer runs are left to the lexicon.
const MAX_RUN_CHARS: usize = 40;

fn is_run_char(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3006 | 0x30A1..=0x30FA | 0x30FC | 0x3400..=0x4DBF | 0x4E00..=0x9FFF)
        || c.is_ascii_alphanumeric()
}

/// The run of compound characters around byte span `start..end`.
fn run_around(text: &str, start: usize, end: usize) -> (usize, usize) {
    let mut run_start = start;
    for (i, c) in text[..start].char_indices().rev().take(MAX_RUN_CHARS) {
        if !is_run_char(c) {
            break;
        }
        run_start = i;
    }
    let mut run_end = end;
    for c in text[end..].chars().take(MAX_RUN_CHARS) {
        if !is_run_char(c) {
            break;
        }
        run_end += c.len_utf8();
    }
    (run_start, run_end)
}

/// Spans of one type, sorted by start, for overlap queries.
struct SpanSet(Vec<(usize, usize)>);

impl SpanSet {
    fn of(candidates: &[Candidate], kind: EntityType) -> SpanSet {
        let mut spans: Vec<(usize, usize)> = candidates
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| (c.start, c.end))
            .collect();
        spans.sort_unstable();
        SpanSet(spans)
    }

    fn overlaps(&self, start: usize, end: usize) -> bool {
        let after = self.0.partition_point(|&(s, _)| s < end);
        self.0[..after]
            .iter()
            .rev()
            .take(8)
            .any(|&(_, e)| e > start)
    }
}

/// Proposes compound candidates from the lexicon/rule candidates found so far.
pub fn find(
    text: &str,
    found: &[Candidate],
    segmenter: &MedicalSegmenter,
    out: &mut Vec<Candidate>,
) {
    let anatomy = SpanSet::of(found, EntityType::Anatomy);
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for candidate in found {
        if matches!(
            candidate.kind,
            EntityType::Disease | EntityType::Procedure | EntityType::Anatomy
        ) {
            runs.push(run_around(text, candidate.start, candidate.end));
        }
    }
    find_head_runs(text, &mut runs);
    runs.sort_unstable();
    runs.dedup();
    let mut by_start: Vec<&Candidate> = found.iter().collect();
    by_start.sort_by_key(|c| c.start);

    let mut last_end = 0;
    for (run_start, run_end) in runs {
        if run_start < last_end {
            continue;
        }
        last_end = run_end;
        let run = &text[run_start..run_end];
        let first = by_start.partition_point(|c| c.start < run_start);
        let in_run: Vec<&Candidate> = by_start[first..]
            .iter()
            .copied()
            .take_while(|c| c.start < run_end)
            .filter(|c| c.end <= run_end)
            .collect();
        let whole_run_known = in_run
            .iter()
            .any(|c| c.start == run_start && c.end == run_end);
        if whole_run_known || run.chars().count() < 2 {
            continue;
        }
        let compound = RunContext {
            text,
            run_start,
            run_end,
            segmenter,
            words: OnceCell::new(),
            anatomy: &anatomy,
        };
        compound.grow_diseases(&in_run, out);
        compound.head_compounds(run_start, run_end, &in_run, out);
        let before = out.len();
        grow_anatomy(text, &in_run, out);
        // Site + 炎 made a disease (直腸炎): it takes modifiers too (放射線性直腸炎).
        let grown: Vec<Candidate> = out[before..]
            .iter()
            .filter(|c| c.kind == EntityType::Disease && c.start > run_start)
            .filter_map(|c| {
                let start = compound.modifiers_before(c.start);
                (start < c.start).then(|| Candidate::new(c.kind, start, c.end, rank::COMPOUND))
            })
            .collect();
        out.extend(grown);
    }
    imaging_regions(text, found, out);
    specimen_tests(text, found, out);
    sided_procedures(text, found, out);
}

/// Runs that end in a disease or procedure head (found without any lexicon hit).
fn find_head_runs(text: &str, runs: &mut Vec<(usize, usize)>) {
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !is_run_char(c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        let mut length = 1;
        while let Some(&(i, n)) = chars.peek() {
            if !is_run_char(n) {
                break;
            }
            end = i + n.len_utf8();
            length += 1;
            chars.next();
        }
        if !(2..=MAX_RUN_CHARS).contains(&length) {
            continue;
        }
        let run = strip_trailing_record_words(&text[start..end]);
        // Cheap filter first: most runs end in no head's last character.
        let last = run.chars().next_back().unwrap_or(' ');
        if !HEAD_LAST_CHARS.contains(&last) {
            continue;
        }
        if DISEASE_HEADS
            .iter()
            .chain(PROCEDURE_HEADS)
            .chain(FINDING_HEADS)
            .any(|h| run.ends_with(h) && run.len() > h.len())
        {
            runs.push((start, end));
        }
    }
}

fn strip_trailing_record_words(run: &str) -> &str {
    let mut run = run;
    for _ in 0..2 {
        match TRAILING_RECORD_WORDS
            .iter()
            .find(|w| run.ends_with(*w) && run.len() > w.len())
        {
            Some(w) => run = &run[..run.len() - w.len()],
            None => break,
        }
    }
    run
}

struct RunContext<'a> {
    text: &'a str,
    run_start: usize,
    run_end: usize,
    segmenter: &'a MedicalSegmenter,
    /// lindera's words of the run, segmented only when a decision needs them.
    words: OnceCell<Vec<Word>>,
    anatomy: &'a SpanSet,
}

impl RunContext<'_> {
    fn words(&self) -> &[Word] {
        self.words.get_or_init(|| {
            self.segmenter
                .segment(&self.text[self.run_start..self.run_end])
                .into_iter()
                .map(|w| Word {
                    start: w.start + self.run_start,
                    end: w.end + self.run_start,
                    class: w.class,
                })
                .collect()
        })
    }

    fn surface(&self, word: &Word) -> &str {
        &self.text[word.start..word.end]
    }

    fn is_anatomy(&self, word: &Word) -> bool {
        self.anatomy.overlaps(word.start, word.end)
    }

    fn is_stop(&self, word: &Word) -> bool {
        let surface = self.surface(word);
        STOP_WORDS.contains(&surface)
            || matches!(word.class, WordClass::NonCompoundNoun | WordClass::Other)
            // Amounts and units (1日4回投与, 1g投与) are not part of a name.
            || surface.chars().all(|c| c.is_ascii_digit() || c == '.')
            || (surface.is_ascii() && surface.chars().any(|c| c.is_ascii_lowercase()))
    }

    fn is_modifier(&self, word: &Word) -> bool {
        let s = self.surface(word);
        DISEASE_MODIFIERS.contains(&s)
            || (s.chars().count() >= 2
                && (s.ends_with('性') || s.ends_with('型') || s.ends_with("期"))
                && !self.is_anatomy(word))
            || (s.chars().all(|c| c.is_ascii_digit()) && s.len() <= 2)
    }

    fn word_ending_at(&self, byte: usize) -> Option<usize> {
        self.words().iter().position(|w| w.end == byte)
    }

    /// Extends lexicon diseases over modifiers before and disease words after them.
    fn grow_diseases(&self, in_run: &[&Candidate], out: &mut Vec<Candidate>) {
        for disease in in_run.iter().filter(|c| c.kind == EntityType::Disease) {
            let mut start = disease.start;
            let mut end = disease.end;
            // Right: a disease word directly after (急性増悪, 穿孔); at most two joins.
            for _ in 0..2 {
                let next = in_run
                    .iter()
                    .find(|c| c.kind == EntityType::Disease && c.start == end && c.end > c.start);
                match next {
                    Some(next) => end = next.end,
                    None => break,
                }
            }
            // Left: modifiers (急性, 誤嚥性, 2型). Nothing to take at the run's start or
            // right after another entity (an anatomical site is split off, not joined).
            let is_finding = FINDING_HEADS
                .iter()
                .any(|h| self.text[start..end].ends_with(h));
            let blocked = start == self.run_start || in_run.iter().any(|c| c.end == start);
            while let Some(i) = (!blocked).then(|| self.word_ending_at(start)).flatten() {
                let word = &self.words()[i];
                if let Some(modifier_start) = self.suffixed_modifier_start(i) {
                    start = modifier_start;
                    continue;
                }
                let takes = if is_finding {
                    !self.is_anatomy(word)
                        && !self.is_stop(word)
                        && !LATERALITY.contains(&self.surface(word))
                } else {
                    self.is_modifier(word) || self.digit_type_prefix(i)
                };
                if !takes {
                    break;
                }
                start = word.start;
            }
            // Laterality written before a disease belongs to it (右変形性膝関節症).
            if let Some(side) = LATERALITY.iter().find(|l| self.text[..start].ends_with(*l)) {
                let side_start = start - side.len();
                let glued = self.text[..side_start]
                    .chars()
                    .next_back()
                    .is_some_and(is_run_char);
                if !glued {
                    start = side_start;
                }
            }
            if (start, end) != (disease.start, disease.end) {
                out.push(Candidate::new(
                    EntityType::Disease,
                    start,
                    end,
                    rank::COMPOUND,
                ));
            }
        }
    }

    /// Where the modifiers (急性, 放射線性, 2型) written right before `start` begin.
    fn modifiers_before(&self, mut start: usize) -> usize {
        while let Some(i) = self.word_ending_at(start) {
            if let Some(modifier_start) = self.suffixed_modifier_start(i) {
                start = modifier_start;
                continue;
            }
            let word = &self.words()[i];
            if !(self.is_modifier(word) || self.digit_type_prefix(i)) {
                break;
            }
            start = word.start;
        }
        start
    }

    /// "2" before "型": lindera splits 2型 into a number and a suffix.
    fn digit_type_prefix(&self, i: usize) -> bool {
        let word = &self.words()[i];
        self.surface(word) == "型"
            || (is_type_code(self.surface(word))
                && self
                    .words()
                    .get(i + 1)
                    .is_some_and(|next| self.surface(next).starts_with(['型', '度'])))
    }

    /// Where a modifier made of a word and a suffix starts, when word `i` is that suffix
    /// (性, 型, 度) glued to the word before it: 化膿 + 性, 閉塞 + 性, B + 型, II + 型, III + 度.
    /// Anatomy (肝 + 性 is rare, 右 + 側 is not a suffix here) and record words never qualify.
    fn suffixed_modifier_start(&self, i: usize) -> Option<usize> {
        let words = self.words();
        let suffix = self.surface(&words[i]);
        let (stem_start, stem) = if MODIFIER_SUFFIXES.contains(&suffix) {
            let stem = words.get(i.checked_sub(1)?)?;
            if stem.end != words[i].start {
                return None;
            }
            (stem.start, stem)
        } else {
            // lindera sometimes keeps the suffix on the stem (III度, 出血性).
            let (head, last) =
                suffix.split_at(suffix.len() - suffix.chars().next_back()?.len_utf8());
            if !MODIFIER_SUFFIXES.contains(&last) || head.is_empty() {
                return None;
            }
            if !is_type_code(head) {
                return None;
            }
            return Some(words[i].start);
        };
        let stem_text = self.surface(stem);
        let takes = if is_type_code(stem_text) {
            // 2型, B型, III度; a degree only after a roman numeral or one digit (not 38度).
            suffix != "度"
                || stem_text.chars().count() == 1
                || stem_text.bytes().all(|b| b.is_ascii_uppercase())
        } else {
            suffix == "性"
                && stem_text.chars().count() >= 2
                && !self.is_anatomy(stem)
                && !self.is_stop(stem)
                && !LATERALITY.contains(&stem_text)
                && stem_text.chars().all(|c| !c.is_ascii())
        };
        takes.then_some(stem_start)
    }

    /// Compounds ending in a disease, finding or procedure head that the lexicon lacks.
    fn head_compounds(
        &self,
        run_start: usize,
        run_end: usize,
        in_run: &[&Candidate],
        out: &mut Vec<Candidate>,
    ) {
        let stripped = strip_trailing_record_words(&self.text[run_start..run_end]);
        let end = run_start + stripped.len();
        let covered = |s: usize, e: usize| in_run.iter().any(|c| c.start <= s && c.end >= e);
        if covered(run_start, end) {
            return;
        }
        let ending = &self.text[run_start..end];
        let is_finding = FINDING_HEADS.iter().any(|h| ending.ends_with(*h))
            && !DISEASE_HEADS.iter().any(|h| ending.ends_with(*h));
        let is_disease_word = |word: &Word| {
            in_run.iter().any(|c| {
                c.kind == EntityType::Disease && (c.start, c.end) == (word.start, word.end)
            })
        };
        let (kind, head) = if let Some(h) = PROCEDURE_HEADS.iter().find(|h| ending.ends_with(*h)) {
            (EntityType::Procedure, *h)
        } else if let Some(h) = DISEASE_HEADS.iter().find(|h| ending.ends_with(*h)) {
            (EntityType::Disease, *h)
        } else if let Some(h) = FINDING_HEADS.iter().find(|h| ending.ends_with(*h)) {
            (EntityType::Disease, *h)
        } else {
            return;
        };
        let Some(last) = self.word_ending_at(end) else {
            return;
        };
        let mut start = self.words()[last].start;
        let mut taken = 0;
        for word in self.words()[..=last].iter().rev().skip(1) {
            if word.end != start {
                break;
            }
            let joins = match kind {
                // Procedures keep their site: 腹腔鏡下胆嚢摘出術, 経鼻胃管挿入.
                EntityType::Procedure => !self.is_stop(word) || self.surface(word) == "下",
                // 腹痛 + 増強: a finding head after a disease says how it went, it makes no
                // new finding.
                _ if is_finding && is_disease_word(word) => false,
                _ => !self.is_anatomy(word) && !self.is_stop(word),
            };
            if !joins {
                break;
            }
            start = word.start;
            taken += 1;
        }
        // The head alone (投与, 症) is not a compound.
        let head_start = end - head.len();
        if taken == 0 && start >= head_start {
            return;
        }
        if covered(start, end) {
            return;
        }
        out.push(Candidate::new(kind, start, end, rank::COMPOUND));
    }
}

/// Words that continue a site: 右中大脳動脈 + 領域, 右乳房 + U領域, 右肺上葉 + S2, 両肺 + 上葉,
/// 虫垂 + 根部. Returns their length in bytes at the start of `rest` (0 if none).
fn site_extension(rest: &str) -> usize {
    for word in ["領域", "根部", "基部", "上葉", "中葉", "下葉"] {
        if rest.starts_with(word) {
            return word.len();
        }
    }
    let bytes = rest.as_bytes();
    let letter_area =
        bytes.first().is_some_and(|b| b.is_ascii_uppercase()) && rest[1..].starts_with("領域");
    if letter_area {
        return 1 + "領域".len();
    }
    // A lung segment: S1, S10, S1+2.
    if bytes.first() == Some(&b'S') {
        let digits = |from: usize| {
            bytes[from..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count()
        };
        let mut len = 1 + digits(1);
        if len == 1 || len > 3 {
            return 0;
        }
        if bytes.get(len) == Some(&b'+') && digits(len + 1) > 0 {
            len += 1 + digits(len + 1);
        }
        if !bytes.get(len).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return len;
        }
    }
    0
}

/// Imaging words a body region may precede as one test (骨盤部 + MRI, 胸部 + HRCT).
const IMAGING: &[&str] = &[
    "CT",
    "HRCT",
    "MRI",
    "MRA",
    "X線",
    "単純CT",
    "造影CT",
    "単純MRI",
    "造影MRI",
    "エコー",
    "超音波",
    "PET",
    "PET-CT",
    "PET/CT",
    "単純X線",
];

/// 骨盤部MRI, 胸部HRCT: a region ending in 部 right before an imaging test is part of it
/// (the annotation convention keeps an imaging test's body region).
fn imaging_regions(text: &str, found: &[Candidate], out: &mut Vec<Candidate>) {
    for test in found.iter().filter(|c| c.kind == EntityType::Test) {
        if !IMAGING.contains(&&text[test.start..test.end]) || !text[..test.start].ends_with('部') {
            continue;
        }
        let mut start = test.start;
        for (i, c) in text[..test.start].char_indices().rev().take(6) {
            if !matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF) {
                break;
            }
            start = i;
        }
        if test.start - start >= "頭部".len() {
            out.push(Candidate::new(
                EntityType::Test,
                start,
                test.end,
                rank::COMPOUND,
            ));
        }
    }
}

/// Specimens a test may be named after (胸水 + 細胞診, 喀痰 + 抗酸菌塗抹, 尿 + 培養).
const SPECIMENS: &[&str] = &[
    "胸水",
    "腹水",
    "喀痰",
    "髄液",
    "胆汁",
    "心嚢液",
    "関節液",
    "胃液",
    "膿",
    "便",
    "尿",
    "痰",
];
/// Tests done on a specimen.
const SPECIMEN_TESTS: &[&str] = &[
    "細胞診",
    "培養",
    "塗抹",
    "抗酸菌塗抹",
    "抗酸菌培養",
    "細菌培養",
    "グラム染色",
    "鏡検",
    "沈渣",
    "定性",
    "検査",
];

/// 胸水細胞診, 喀痰抗酸菌塗抹: a specimen right before a test on it is part of the test's name
/// (not a finding: 胸水 there is what was sent, not what was seen).
fn specimen_tests(text: &str, found: &[Candidate], out: &mut Vec<Candidate>) {
    for test in found.iter().filter(|c| c.kind == EntityType::Test) {
        if !SPECIMEN_TESTS.contains(&&text[test.start..test.end]) {
            continue;
        }
        let Some(specimen) = SPECIMENS.iter().find(|s| text[..test.start].ends_with(*s)) else {
            continue;
        };
        out.push(Candidate::new(
            EntityType::Test,
            test.start - specimen.len(),
            test.end,
            rank::COMPOUND,
        ));
    }
}

/// 右人工膝関節全置換術, 両側付属器摘出術: laterality written before a procedure is part of it.
fn sided_procedures(text: &str, found: &[Candidate], out: &mut Vec<Candidate>) {
    let mut sided = Vec::new();
    for procedure in found
        .iter()
        .chain(out.iter())
        .filter(|c| c.kind == EntityType::Procedure)
    {
        let Some(side) = LATERALITY
            .iter()
            .find(|l| text[..procedure.start].ends_with(*l))
        else {
            continue;
        };
        let start = procedure.start - side.len();
        let glued = text[..start].chars().next_back().is_some_and(is_run_char);
        if !glued {
            sided.push(Candidate::new(
                EntityType::Procedure,
                start,
                procedure.end,
                rank::COMPOUND,
            ));
        }
    }
    out.extend(sided);
}

/// 右 + 下肺野, 頸部 + リンパ節: laterality and adjacent anatomy join.
fn grow_anatomy(text: &str, in_run: &[&Candidate], out: &mut Vec<Candidate>) {
    let mut anatomy: Vec<&Candidate> = in_run
        .iter()
        .copied()
        .filter(|c| c.kind == EntityType::Anatomy)
        .collect();
    anatomy.sort_by_key(|c| c.start);
    let mut i = 0;
    while i < anatomy.len() {
        let mut start = anatomy[i].start;
        let mut end = anatomy[i].end;
        let mut j = i + 1;
        while j < anatomy.len() && anatomy[j].start == end {
            end = anatomy[j].end;
            j += 1;
        }
        if let Some(side) = LATERALITY.iter().find(|l| text[..start].ends_with(*l)) {
            start -= side.len();
        }
        // 大腿 + 部: the region word belongs to the site.
        if text[end..].starts_with('部') {
            end += '部'.len_utf8();
        }
        end += site_extension(&text[end..]);
        if (start, end) != (anatomy[i].start, anatomy[i].end) {
            out.push(Candidate::new(
                EntityType::Anatomy,
                start,
                end,
                rank::COMPOUND,
            ));
        }
        // Site + 痛/炎/症/癌 is one disease word: 右膝痛, 胆嚢炎, 膝関節症, 肺癌.
        if let Some(suffix) = text[end..]
            .chars()
            .next()
            .filter(|c| SITE_SUFFIXES.contains(c))
        {
            let disease_end = end + suffix.len_utf8();
            let continues = text[disease_end..].chars().next().is_some_and(is_run_char);
            if !continues {
                out.push(Candidate::new(
                    EntityType::Disease,
                    start,
                    disease_end,
                    rank::COMPOUND,
                ));
            }
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_trailing_words() {
        let text = "本日、喀痰吸引実施。";
        let start = text.find("喀").unwrap();
        assert_eq!(
            &text[run_around(text, start, start + 3).0..run_around(text, start, start + 3).1],
            "喀痰吸引実施"
        );
        assert_eq!(strip_trailing_record_words("喀痰吸引実施"), "喀痰吸引");
        let mut runs = Vec::new();
        find_head_runs("腹腔鏡下胆嚢摘出術の方針。症", &mut runs);
        assert_eq!(runs.len(), 1);
    }
}
