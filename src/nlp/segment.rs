//! Stage 2: morphological segmentation with lindera + IPADIC + a medical user dictionary
//! generated from the lexicon at load time (so 腎盂腎炎, 蜂窩織炎 stay one token).
//!
//! The pipeline calls it only where word boundaries decide something (the extent of a
//! noun compound ending in a disease head), not over whole documents: lexicon and rules
//! work on the normalized text directly, which keeps extraction faster than MeCab.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::Cursor;

use lindera::dictionary::{Dictionary, DictionaryBuilder, Lattice, Metadata, UserDictionary};
use lindera::mode::Mode;
use lindera::segmenter::Segmenter;

use super::dictionary::IPADIC_NOUN_GENERAL_CONTEXT_ID;
use super::lexicon::Lexicon;
use super::NlpError;

/// The part-of-speech classes the rules care about (IPADIC's first two levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordClass {
    /// A lexicon term from the medical user dictionary.
    Medical,
    /// 名詞 (一般, サ変接続, 固有名詞, 形容動詞語幹 …): may be part of a compound.
    Noun,
    /// 名詞,接尾: 性, 型, 様 …
    NounSuffix,
    /// 接頭詞: 急, 再, 非 …
    Prefix,
    /// 名詞,副詞可能 / 数 / 代名詞 / 非自立 (本日, 今回, 3, これ, こと): never inside a
    /// disease compound.
    NonCompoundNoun,
    /// Unknown words (lindera's UNK): usually katakana or Latin names.
    Unknown,
    Other,
}

/// One token; `start`/`end` are byte offsets into the segmented string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub class: WordClass,
}

pub struct MedicalSegmenter {
    segmenter: Segmenter,
}

/// Cost of a medical user-dictionary word: low enough to win over IPADIC's split of it.
const MEDICAL_WORD_COST: i16 = -2000;
/// Part of speech marker of medical user-dictionary words (IPADIC's second level).
const MEDICAL_POS: &str = "医療";

thread_local! {
    // Reused across calls on one thread: the lattice is the segmenter's big allocation.
    static LATTICE: RefCell<Lattice> = RefCell::new(Lattice::default());
}

impl MedicalSegmenter {
    /// Wraps the IPADIC dictionary and compiles the lexicon into a user dictionary.
    pub fn new(dictionary: Dictionary, lexicon: &Lexicon) -> Result<Self, NlpError> {
        let user_dictionary = medical_user_dictionary(&dictionary, lexicon)?;
        let segmenter = Segmenter::new(Mode::Normal, dictionary, user_dictionary);
        Ok(MedicalSegmenter { segmenter })
    }

    /// Segments `text` (expected: one short normalized span, e.g. a run of kanji).
    /// Segmentation errors (none are expected on valid UTF-8) yield no words.
    pub fn segment(&self, text: &str) -> Vec<Word> {
        if text.is_empty() {
            return Vec::new();
        }
        LATTICE.with(|lattice| {
            let mut lattice = lattice.borrow_mut();
            let Ok(mut tokens) = self
                .segmenter
                .segment_with_lattice(Cow::Borrowed(text), &mut lattice)
            else {
                return Vec::new();
            };
            tokens
                .iter_mut()
                .map(|token| {
                    let unknown = token.word_id.is_unknown();
                    let class = if unknown {
                        WordClass::Unknown
                    } else {
                        let details = token.details();
                        classify(details.first().copied(), details.get(1).copied())
                    };
                    Word {
                        start: token.byte_start,
                        end: token.byte_end,
                        class,
                    }
                })
                .collect()
        })
    }
}

fn classify(major: Option<&str>, detail: Option<&str>) -> WordClass {
    match (major, detail) {
        (_, Some(MEDICAL_POS)) => WordClass::Medical,
        (Some("名詞"), Some("接尾")) => WordClass::NounSuffix,
        (Some("名詞"), Some("副詞可能" | "数" | "代名詞" | "非自立")) => {
            WordClass::NonCompoundNoun
        }
        (Some("名詞"), _) => WordClass::Noun,
        (Some("接頭詞"), _) => WordClass::Prefix,
        _ => WordClass::Other,
    }
}

/// Builds the user dictionary (IPADIC's 13-column format) from the lexicon's surfaces;
/// `None` when the lexicon has no Japanese surface.
fn medical_user_dictionary(
    dictionary: &Dictionary,
    lexicon: &Lexicon,
) -> Result<Option<UserDictionary>, NlpError> {
    let mut csv = String::with_capacity(lexicon.len() * 64);
    let id = IPADIC_NOUN_GENERAL_CONTEXT_ID;
    for entry in lexicon.entries() {
        let surface = entry.surface.as_str();
        // Latin abbreviations are matched by the lexicon directly; IPADIC words with CSV
        // metacharacters or spaces are not worth quoting.
        if surface.is_ascii()
            || surface
                .chars()
                .any(|c| c == ',' || c == '"' || c.is_whitespace())
        {
            continue;
        }
        let kind = entry.kind.as_str();
        csv.push_str(&format!(
            "{surface},{id},{id},{MEDICAL_WORD_COST},名詞,{MEDICAL_POS},{kind},*,*,*,{surface},*,*\n"
        ));
    }
    if csv.is_empty() {
        return Ok(None);
    }
    DictionaryBuilder::new(Metadata::clone(&dictionary.metadata))
        .build_user_dict_from_reader(Cursor::new(csv.into_bytes()))
        .map(Some)
        .map_err(|err| NlpError::UserDictionary {
            detail: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nlp::EntityType;

    fn segmenter(lexicon: &Lexicon) -> MedicalSegmenter {
        let dir = crate::paths::AppPaths::discover().unwrap().ipadic_dir();
        let dictionary = crate::nlp::dictionary::load_ipadic(&dir).unwrap();
        MedicalSegmenter::new(dictionary, lexicon).unwrap()
    }

    fn surfaces<'a>(text: &'a str, words: &[Word]) -> Vec<(&'a str, WordClass)> {
        words
            .iter()
            .map(|w| (&text[w.start..w.end], w.class))
            .collect()
    }

    #[test]
    fn lexicon_terms_are_single_medical_words() {
        let lexicon =
            Lexicon::from_sources(&[(EntityType::Disease, "disease.tsv", "腎盂腎炎\t腎盂腎炎\n")])
                .unwrap();
        let text = "急性腎盂腎炎";
        let words = segmenter(&lexicon).segment(text);
        let found = surfaces(text, &words);
        assert_eq!(
            found.last(),
            Some(&("腎盂腎炎", WordClass::Medical)),
            "{found:?}"
        );
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn ipadic_classes_for_compound_decisions() {
        let lexicon = Lexicon::from_sources(&[]).unwrap();
        let text = "本日肺炎";
        let words = segmenter(&lexicon).segment(text);
        assert_eq!(
            surfaces(text, &words),
            [
                ("本日", WordClass::NonCompoundNoun),
                ("肺炎", WordClass::Noun)
            ]
        );
        assert!(segmenter(&lexicon).segment("").is_empty());
    }
}
