//! Stage 3: the curated medical lexicon (the TSV files beside this file, compiled in),
//! matched with one Aho-Corasick automaton over the normalized text. Every (overlapping) hit
//! is reported; the pipeline keeps the longest, so 右腎盂腎炎 yields 腎盂腎炎 and not the
//! leftmost 右腎.
//!
//! File format: `#` comment lines (sources of knowledge), then `surface<TAB>normalized`
//! per line. The file name gives the entity type.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::normalize::normalize_str;
use super::{EntityType, NlpError};

/// The lexicon files shipped in the binary, in priority order: when one surface is listed
/// in two files, the earlier file's type wins.
pub const BUILTIN_FILES: [(EntityType, &str, &str); 5] = [
    (
        EntityType::Disease,
        "disease.tsv",
        include_str!("disease.tsv"),
    ),
    (
        EntityType::Medication,
        "medication.tsv",
        include_str!("medication.tsv"),
    ),
    (EntityType::Test, "test.tsv", include_str!("test.tsv")),
    (
        EntityType::Procedure,
        "procedure.tsv",
        include_str!("procedure.tsv"),
    ),
    (
        EntityType::Anatomy,
        "anatomy.tsv",
        include_str!("anatomy.tsv"),
    ),
];

/// One lexicon entry: its (normalized) surface, type and preferred form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexiconEntry {
    pub surface: String,
    pub kind: EntityType,
    pub normalized: String,
}

/// A lexicon hit in the normalized text (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LexiconMatch {
    pub start: usize,
    pub end: usize,
    pub entry: usize,
}

pub struct Lexicon {
    entries: Vec<LexiconEntry>,
    automaton: AhoCorasick,
    /// ASCII-lowercased normalized surface → entry (for exact lookups).
    by_surface: HashMap<String, usize>,
}

impl Lexicon {
    /// The lexicon compiled into karte.
    pub fn builtin() -> Result<Lexicon, NlpError> {
        Lexicon::from_sources(&BUILTIN_FILES)
    }

    /// Parses lexicon files given as (type, file name, contents), in priority order.
    pub fn from_sources(sources: &[(EntityType, &'static str, &str)]) -> Result<Lexicon, NlpError> {
        let mut entries: Vec<LexiconEntry> = Vec::new();
        let mut by_surface: HashMap<String, usize> = HashMap::new();
        for &(kind, file, contents) in sources {
            for (number, line) in contents.lines().enumerate() {
                let line = line.trim_end_matches('\r');
                if line.trim().is_empty() || line.starts_with('#') {
                    continue;
                }
                let mut columns = line.split('\t');
                let surface = columns.next().unwrap_or("").trim();
                let preferred = columns.next().map(str::trim).unwrap_or("");
                if surface.is_empty() {
                    return Err(NlpError::Lexicon {
                        file,
                        line: number + 1,
                        detail: "empty surface (expected `surface<TAB>normalized`)".into(),
                    });
                }
                let surface = normalize_str(surface);
                // Case matters: HT (高血圧症) and Ht (ヘマトクリット) are different entries.
                let key = surface.clone();
                if by_surface.contains_key(&key) {
                    continue;
                }
                let normalized = if preferred.is_empty() {
                    surface.clone()
                } else {
                    preferred.to_string()
                };
                by_surface.insert(key, entries.len());
                entries.push(LexiconEntry {
                    surface,
                    kind,
                    normalized,
                });
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(entries.iter().map(|e| e.surface.as_str()))
            .map_err(|err| NlpError::Lexicon {
                file: "(all)",
                line: 0,
                detail: err.to_string(),
            })?;
        Ok(Lexicon {
            entries,
            automaton,
            by_surface,
        })
    }

    pub fn entries(&self) -> &[LexiconEntry] {
        &self.entries
    }

    pub fn entry(&self, index: usize) -> &LexiconEntry {
        &self.entries[index]
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry whose surface is exactly `normalized_surface` (case-sensitive).
    pub fn lookup(&self, normalized_surface: &str) -> Option<&LexiconEntry> {
        self.by_surface
            .get(normalized_surface)
            .map(|&i| &self.entries[i])
    }

    /// All case-sensitive hits in `text` (normalized) that no other hit contains, overlapping
    /// ones included, sorted by start. Latin-script entries
    /// must stand alone ("AS" not inside "GAS", "Hb" not inside "HbA1c") and katakana
    /// entries must not cut a katakana word ("ランダ" not inside "オランダ").
    pub fn find_all(&self, text: &str) -> Vec<LexiconMatch> {
        let bytes = text.as_bytes();
        let mut hits: Vec<LexiconMatch> = self
            .automaton
            .find_overlapping_iter(text)
            .filter(|m| {
                let starts_latin = bytes[m.start()].is_ascii_alphanumeric();
                let ends_latin = bytes[m.end() - 1].is_ascii_alphanumeric();
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                // "dL" of "g/dL" is a unit, not the abbreviation DL.
                let after_unit_slash = before == Some(b'/')
                    && m.start() >= 2
                    && bytes[m.start() - 2].is_ascii_alphanumeric();
                let before_ok =
                    !starts_latin || !before.is_some_and(is_word_byte) && !after_unit_slash;
                // A test name may touch its value (TP5.2g/dL), a word may not (HbA1c).
                let ends_letter = bytes[m.end() - 1].is_ascii_alphabetic();
                let touches_value = self.entries[m.pattern().as_usize()].kind == EntityType::Test
                    && ends_letter
                    && after.is_some_and(|b| b.is_ascii_digit());
                let after_ok = !ends_latin || !after.is_some_and(is_word_byte) || touches_value;
                before_ok && after_ok && !cuts_katakana_word(text, m.start(), m.end())
            })
            .map(|m| LexiconMatch {
                start: m.start(),
                end: m.end(),
                entry: m.pattern().as_usize(),
            })
            .collect();
        keep_maximal(&mut hits);
        hits
    }
}

/// Drops hits contained in another hit (肺炎 inside 肺炎球菌性肺炎) when that container overlaps
/// no other hit, so it is sure to win. Inside a contested container the nested hits stay:
/// in 「頸部リンパ節腫脹」 the anatomy 頸部リンパ節 beats リンパ節腫脹, and 腫脹 must remain.
/// Leaves the hits sorted by start.
fn keep_maximal(hits: &mut Vec<LexiconMatch>) {
    hits.sort_unstable_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    // Hits that no other hit contains, in order (their starts and ends both increase).
    let mut maximal: Vec<usize> = Vec::new();
    let mut reach = 0;
    for (i, hit) in hits.iter().enumerate() {
        if hit.end > reach {
            maximal.push(i);
            reach = hit.end;
        }
    }
    let mut contested = vec![false; hits.len()];
    for (k, &i) in maximal.iter().enumerate() {
        let overlaps_previous = k > 0 && hits[maximal[k - 1]].end > hits[i].start;
        let overlaps_next = maximal
            .get(k + 1)
            .is_some_and(|&next| hits[next].start < hits[i].end);
        contested[i] = overlaps_previous || overlaps_next;
    }
    let mut keep = vec![false; hits.len()];
    let mut container = None;
    let mut next_maximal = maximal.iter().peekable();
    for (i, kept) in keep.iter_mut().enumerate() {
        if next_maximal.peek() == Some(&&i) {
            next_maximal.next();
            *kept = true;
            container = Some(i);
        } else {
            *kept = container.is_some_and(|c| contested[c]);
        }
    }
    let mut flags = keep.into_iter();
    hits.retain(|_| flags.next().unwrap_or(true));
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー')
}

/// Salt and form words that may follow a drug name inside one katakana word
/// (ロキソプロフェンナトリウム).
const SALT_WORDS: [&str; 6] = [
    "ナトリウム",
    "カリウム",
    "カルシウム",
    "マグネシウム",
    "ベシル",
    "メシル",
];

/// Whether the match `start..end` starts or ends inside a longer katakana word.
fn cuts_katakana_word(text: &str, start: usize, end: usize) -> bool {
    let matched = &text[start..end];
    let first_inside = matched.chars().next().is_some_and(is_katakana)
        && text[..start].chars().next_back().is_some_and(is_katakana);
    let rest = &text[end..];
    let last_inside = matched.chars().next_back().is_some_and(is_katakana)
        && rest.chars().next().is_some_and(is_katakana)
        && !SALT_WORDS.iter().any(|salt| rest.starts_with(salt));
    first_inside || last_inside
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISEASE: &str = "# test entries\n肺炎\t肺炎\n高血圧症\t高血圧\nAS\t大動脈弁狭窄症\n";
    const MEDICATION: &str = "ノルバスク\tアムロジピン\nアムロジピン\tアムロジピン\n";
    const TEST: &str = "CRP\tCRP\nＨｂ\tヘモグロビン\n";

    fn lexicon() -> Lexicon {
        Lexicon::from_sources(&[
            (EntityType::Disease, "disease.tsv", DISEASE),
            (EntityType::Medication, "medication.tsv", MEDICATION),
            (EntityType::Test, "test.tsv", TEST),
        ])
        .unwrap()
    }

    #[test]
    fn matches_longest_and_maps_brand_to_generic() {
        let lex = lexicon();
        let text = "高血圧症にノルバスク内服中。CRP高値、Hb低下。crp";
        let found: Vec<(&str, EntityType, &str)> = lex
            .find_all(text)
            .into_iter()
            .map(|m| {
                let e = lex.entry(m.entry);
                (&text[m.start..m.end], e.kind, e.normalized.as_str())
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("高血圧症", EntityType::Disease, "高血圧"),
                ("ノルバスク", EntityType::Medication, "アムロジピン"),
                ("CRP", EntityType::Test, "CRP"),
                ("Hb", EntityType::Test, "ヘモグロビン"),
            ]
        );
    }

    #[test]
    fn longest_hits_survive_overlaps() {
        let lex = Lexicon::from_sources(&[
            (
                EntityType::Disease,
                "disease.tsv",
                "腎盂腎炎\t腎盂腎炎\n腎炎\t腎炎\n",
            ),
            (
                EntityType::Anatomy,
                "anatomy.tsv",
                "右腎\t右腎\n腎盂\t腎盂\n",
            ),
        ])
        .unwrap();
        let text = "右腎盂腎炎";
        let found: Vec<&str> = lex
            .find_all(text)
            .iter()
            .map(|m| &text[m.start..m.end])
            .collect();
        // 右腎 overlaps 腎盂腎炎 (the pipeline keeps the longer); inside a contested hit the
        // nested ones stay.
        assert_eq!(found, ["右腎", "腎盂腎炎", "腎盂", "腎炎"]);
        let text = "左腎盂腎炎";
        let found: Vec<&str> = lex
            .find_all(text)
            .iter()
            .map(|m| &text[m.start..m.end])
            .collect();
        assert_eq!(found, ["腎盂腎炎"]);
    }

    #[test]
    fn katakana_entries_do_not_cut_katakana_words() {
        let lex = lexicon();
        assert!(lex.find_all("ノルバスクス").is_empty());
        assert!(lex.find_all("オノルバスク").is_empty());
        assert_eq!(lex.find_all("アムロジピンベシル酸塩").len(), 1);
    }

    #[test]
    fn latin_entries_need_word_boundaries() {
        let lex = lexicon();
        assert!(lex.find_all("GASTRIC").is_empty());
        assert_eq!(lex.find_all("心エコーでAS。").len(), 1);
    }

    #[test]
    fn builtin_lexicon_parses() {
        let lex = Lexicon::builtin().unwrap();
        assert!(!lex.is_empty());
    }

    #[test]
    fn empty_surface_is_reported_with_file_and_line() {
        let err = Lexicon::from_sources(&[(EntityType::Disease, "disease.tsv", "肺炎\n\t肺炎\n")])
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("disease.tsv, line 2"), "{err}");
    }
}
