//! Stage 1: fold full-width/half-width and NFKC variants into one canonical form
//! (ＣＲＰ → CRP, １２．５ → 12.5, ㎎ → mg, ｶﾞｽ → ガス, 〜 → ~), keeping a map from every
//! normalized character back to the original characters it came from.
//!
//! Most characters map one-to-one (full-width → half-width keeps the character count), so
//! the map only records the few clusters whose length changed (㎎ → "mg", ｶﾞ → ガ).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// A normalized copy of a text plus the way back to the original's character offsets.
#[derive(Debug, Clone, Default)]
pub struct NormalizedText {
    text: String,
    /// Clusters whose normalized length differs from the original, sorted by position.
    shifts: Vec<LengthShift>,
    /// Number of characters of `text` before byte `k * BLOCK` (for byte → char lookups).
    chars_before_block: Vec<usize>,
    /// Byte offset in the original of every `ORIGINAL_STRIDE`-th character.
    original_byte_checkpoints: Vec<usize>,
    original_char_len: usize,
    normalized_char_len: usize,
}

/// One original cluster (e.g. ｶﾞ, ㎎) whose normalized form has another length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LengthShift {
    normalized_start: usize,
    normalized_len: usize,
    original_start: usize,
    original_len: usize,
}

const BLOCK: usize = 256;
const ORIGINAL_STRIDE: usize = 16;

impl NormalizedText {
    pub fn new(original: &str) -> Self {
        let mut out = NormalizedText {
            text: String::with_capacity(original.len()),
            ..Default::default()
        };
        let mut original_index = 0usize;
        let mut normalized_index = 0usize;
        let mut cluster = String::new();
        let mut chars = original.char_indices().peekable();
        while let Some((byte, c)) = chars.next() {
            if original_index.is_multiple_of(ORIGINAL_STRIDE) {
                out.original_byte_checkpoints.push(byte);
            }
            let next_is_mark = chars.peek().is_some_and(|&(_, n)| is_attached_mark(n));
            if !next_is_mark {
                if let Some(folded) = fold_single(c) {
                    out.text.push(folded);
                    original_index += 1;
                    normalized_index += 1;
                    continue;
                }
            }
            // Slow path: the character with its combining marks, through NFKC.
            cluster.clear();
            cluster.push(c);
            let mut original_len = 1;
            while let Some(&(mark_byte, mark)) = chars.peek() {
                if !is_attached_mark(mark) {
                    break;
                }
                if (original_index + original_len).is_multiple_of(ORIGINAL_STRIDE) {
                    out.original_byte_checkpoints.push(mark_byte);
                }
                cluster.push(mark);
                original_len += 1;
                chars.next();
            }
            let before = out.text.len();
            let mut normalized_len = 0;
            for n in cluster.nfkc() {
                out.text.push(fold_after_nfkc(n));
                normalized_len += 1;
            }
            if normalized_len == 0 {
                // NFKC never empties a cluster; keep the original if it ever did.
                out.text.truncate(before);
                out.text.push_str(&cluster);
                normalized_len = original_len;
            }
            if normalized_len != original_len {
                out.shifts.push(LengthShift {
                    normalized_start: normalized_index,
                    normalized_len,
                    original_start: original_index,
                    original_len,
                });
            }
            original_index += original_len;
            normalized_index += normalized_len;
        }
        out.original_char_len = original_index;
        out.normalized_char_len = normalized_index;
        out.chars_before_block = count_chars_per_block(&out.text);
        out
    }

    /// The normalized text (what the later stages search).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn original_char_len(&self) -> usize {
        self.original_char_len
    }

    pub fn normalized_char_len(&self) -> usize {
        self.normalized_char_len
    }

    /// Character index in the normalized text of byte offset `byte` (a char boundary).
    pub fn char_at_byte(&self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        let block = byte / BLOCK;
        let base = self.chars_before_block.get(block).copied().unwrap_or(0);
        let from = block * BLOCK;
        base + self.text.as_bytes()[from..byte]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
    }

    /// Maps a normalized byte span to the original character span (start, end exclusive).
    /// The result always covers whole original clusters, so it is on character boundaries.
    pub fn original_span_of_bytes(&self, start_byte: usize, end_byte: usize) -> (usize, usize) {
        let start = self.char_at_byte(start_byte);
        let end = self.char_at_byte(end_byte);
        self.original_span(start, end)
    }

    /// Maps a normalized character span to the original character span.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if end <= start {
            let at = self
                .original_range_of(start.min(self.normalized_char_len))
                .0;
            let at = if start >= self.normalized_char_len {
                self.original_char_len
            } else {
                at
            };
            return (at, at);
        }
        let (original_start, _) = self.original_range_of(start);
        let (_, original_end) = self.original_range_of(end - 1);
        (original_start, original_end.max(original_start))
    }

    /// The original characters that normalized character `index` came from.
    fn original_range_of(&self, index: usize) -> (usize, usize) {
        if index >= self.normalized_char_len {
            return (self.original_char_len, self.original_char_len);
        }
        let found = self.shifts.partition_point(|s| s.normalized_start <= index);
        let Some(shift) = found.checked_sub(1).map(|k| self.shifts[k]) else {
            return (index, index + 1);
        };
        if index < shift.normalized_start + shift.normalized_len {
            return (
                shift.original_start,
                shift.original_start + shift.original_len,
            );
        }
        let after = shift.original_start
            + shift.original_len
            + (index - shift.normalized_start - shift.normalized_len);
        (after, after + 1)
    }

    /// Byte offset in `original` of character index `char_index` (clamped to the end).
    /// `original` must be the text this was built from.
    pub fn original_byte_of_char(&self, original: &str, char_index: usize) -> usize {
        if char_index >= self.original_char_len {
            return original.len();
        }
        let checkpoint = char_index / ORIGINAL_STRIDE;
        let base = self
            .original_byte_checkpoints
            .get(checkpoint)
            .copied()
            .unwrap_or(0)
            .min(original.len());
        let skip = char_index - checkpoint * ORIGINAL_STRIDE;
        original
            .get(base..)
            .and_then(|rest| rest.char_indices().nth(skip))
            .map(|(offset, _)| base + offset)
            .unwrap_or(original.len())
    }

    /// The slice of `original` between two original character offsets.
    pub fn original_slice<'a>(&self, original: &'a str, start: usize, end: usize) -> &'a str {
        let from = self.original_byte_of_char(original, start);
        let to = self.original_byte_of_char(original, end.max(start));
        original.get(from..to).unwrap_or("")
    }
}

/// Normalizes a short string the same way (for lexicon entries and lookups).
pub fn normalize_str(s: &str) -> String {
    NormalizedText::new(s).text
}

fn count_chars_per_block(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() / BLOCK + 1);
    let mut chars = 0usize;
    for block in bytes.chunks(BLOCK) {
        out.push(chars);
        chars += block.iter().filter(|&&b| (b & 0xC0) != 0x80).count();
    }
    out.push(chars);
    out
}

/// Marks that join the previous character: combining marks and half-width (semi-)voiced marks.
fn is_attached_mark(c: char) -> bool {
    match c as u32 {
        0x3099 | 0x309A | 0xFF9E | 0xFF9F => true,
        // ASCII/Latin-1, kana, CJK and half/full-width forms have no other combining marks:
        // skip the table lookup for the characters charts are made of.
        0..=0x2FF | 0x3040..=0x30FF | 0x3400..=0x9FFF | 0xFF00..=0xFFEF => false,
        _ => is_combining_mark(c),
    }
}

/// The fast path: characters whose normalized form is one known character.
/// `None` sends the character through NFKC.
fn fold_single(c: char) -> Option<char> {
    let code = c as u32;
    match code {
        0x00..=0x7F => Some(c),
        // Full-width ASCII → ASCII (NFKC does the same).
        0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0).map(fold_after_nfkc),
        0x3000 => Some(' '),
        0x301C => Some('~'),
        0x3001..=0x301B | 0x301D..=0x303F => Some(c),
        // Hiragana, katakana (not the spacing voiced marks, which NFKC splits), CJK.
        0x3041..=0x3096 | 0x309D..=0x309F | 0x30A0..=0x30FF => Some(c),
        0x309B | 0x309C => Some(c),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF => Some(c),
        0x2010..=0x2013 | 0x2212 => Some('-'),
        0x00B5 => Some('μ'),
        0x00D7 | 0x00F7 | 0x2190..=0x21FF | 0x2014 | 0x2015 | 0x25A0..=0x25FF => Some(c),
        _ => None,
    }
}

/// Folds applied to NFKC's output: dashes and minus signs to '-', wave dashes to '~'.
fn fold_after_nfkc(c: char) -> char {
    match c {
        '\u{2010}'..='\u{2013}' | '\u{2212}' => '-',
        '\u{301C}' | '\u{FF5E}' => '~',
        '\u{00B5}' => 'μ',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_round_trip(original: &str) {
        let n = NormalizedText::new(original);
        let total = n.normalized_char_len();
        for s in 0..=total {
            for e in s..=total {
                let (os, oe) = n.original_span(s, e);
                assert!(os <= oe && oe <= n.original_char_len());
                let slice = n.original_slice(original, os, oe);
                assert_eq!(slice.chars().count(), oe - os);
            }
        }
    }

    #[test]
    fn folds_full_width_and_units() {
        assert_eq!(normalize_str("ＣＲＰ　１２．５㎎／ｄＬ"), "CRP 12.5mg/dL");
        assert_eq!(normalize_str("ｶﾞｽﾄﾛ"), "ガストロ");
        assert_eq!(normalize_str("5〜10mg、２−３回"), "5~10mg、2-3回");
        assert_eq!(normalize_str("㍻30年"), "平成30年");
        assert_eq!(normalize_str("37.5℃"), "37.5°C");
        assert_eq!(normalize_str("1μg 2µg"), "1μg 2μg");
    }

    #[test]
    fn offsets_map_back_to_original_characters() {
        let original = "Ｘ㎎ｶﾞＹ";
        let n = NormalizedText::new(original);
        assert_eq!(n.as_str(), "XmgガY");
        // "mg" → "㎎"
        assert_eq!(n.original_span(1, 3), (1, 2));
        assert_eq!(n.original_slice(original, 1, 2), "㎎");
        // "ガ" → "ｶﾞ"
        assert_eq!(n.original_span(3, 4), (2, 4));
        assert_eq!(n.original_slice(original, 2, 4), "ｶﾞ");
        // "Y" after both shifts
        assert_eq!(n.original_span(4, 5), (4, 5));
        // half of "mg" still covers the whole ㎎
        assert_eq!(n.original_span(1, 2), (1, 2));
    }

    #[test]
    fn byte_to_char_lookup_crosses_blocks() {
        let original = "あ".repeat(300) + "CRP";
        let n = NormalizedText::new(&original);
        let byte = n.as_str().find("CRP").unwrap();
        assert_eq!(n.char_at_byte(byte), 300);
        assert_eq!(n.original_span_of_bytes(byte, byte + 3), (300, 303));
        assert_eq!(n.original_slice(&original, 300, 303), "CRP");
    }

    #[test]
    fn spans_stay_on_char_boundaries_for_odd_input() {
        check_round_trip("");
        check_round_trip("ﾞｶﾞﾞ㎏😀\u{0}\t\ne\u{301}①");
        check_round_trip("ｱｲｳｴｵｶﾞｷﾞｸﾞﾊﾟ");
        let n = NormalizedText::new("😀x");
        assert_eq!(n.original_slice("😀x", 1, 2), "x");
    }
}
