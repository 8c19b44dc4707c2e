//! Text encodings of chart files. Japanese EHR exports are often CP932 (Shift_JIS) or
//! EUC-JP; the decoded text is what all offsets refer to.

use encoding_rs::{Encoding, EUC_JP, SHIFT_JIS, UTF_8};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// Shift_JIS as Windows writes it (CP932, with NEC/IBM extensions).
    Cp932,
    EucJp,
}

impl TextEncoding {
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Cp932 => "Shift_JIS (CP932)",
            TextEncoding::EucJp => "EUC-JP",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// NUL bytes: an image, a PDF, a database… not text.
    Binary,
    /// No candidate encoding decodes the bytes without errors.
    Undecodable,
}

/// Decodes `bytes`, detecting UTF-8 (with or without BOM), CP932 or EUC-JP.
pub fn decode(bytes: &[u8]) -> Result<(String, TextEncoding), DecodeError> {
    if bytes.contains(&0) {
        return Err(DecodeError::Binary);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_owned(), TextEncoding::Utf8));
    }
    let candidates = [
        (SHIFT_JIS, TextEncoding::Cp932),
        (EUC_JP, TextEncoding::EucJp),
    ];
    candidates
        .iter()
        .filter_map(|&(enc, which)| decode_strict(enc, bytes).map(|t| (t, which)))
        .max_by_key(|(text, _)| japanese_score(text))
        .ok_or(DecodeError::Undecodable)
}

fn decode_strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    debug_assert!(encoding != UTF_8);
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|cow| cow.into_owned())
}

/// Both legacy encodings often decode the same bytes without error; the right one yields
/// common Japanese (hiragana, katakana, CJK ideographs, full-width forms), the wrong one
/// yields half-width katakana soup and rare symbols.
fn japanese_score(text: &str) -> i64 {
    text.chars()
        .map(|c| match c as u32 {
            0x3040..=0x309F => 3,  // hiragana
            0x30A0..=0x30FF => 2,  // katakana
            0x4E00..=0x9FFF => 2,  // CJK unified ideographs
            0x3000..=0x303F => 2,  // CJK punctuation
            0xFF01..=0xFF5E => 1,  // full-width ASCII forms
            0xFF61..=0xFF9F => -2, // half-width katakana: rare in real text
            0x20..=0x7E | 0x0A | 0x0D | 0x09 => 0,
            _ => -1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        "入院時記録：発熱と咳嗽あり。ＣＲＰ １２．５ mg/dL、胸部X線で右下肺野に浸潤影。";

    #[test]
    fn detects_each_encoding() {
        for (enc, which) in [
            (SHIFT_JIS, TextEncoding::Cp932),
            (EUC_JP, TextEncoding::EucJp),
        ] {
            let (bytes, _, bad) = enc.encode(SAMPLE);
            assert!(!bad);
            assert_eq!(decode(&bytes).unwrap(), (SAMPLE.to_owned(), which));
        }
        assert_eq!(
            decode(SAMPLE.as_bytes()).unwrap(),
            (SAMPLE.to_owned(), TextEncoding::Utf8)
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(decode(&bom).unwrap().0, SAMPLE);
    }

    #[test]
    fn cp932_extensions_decode() {
        // ① and ㎎ exist in CP932 (NEC extensions) but not in plain Shift_JIS.
        let text = "①アムロジピン５㎎";
        let (bytes, _, bad) = SHIFT_JIS.encode(text);
        assert!(!bad);
        assert_eq!(decode(&bytes).unwrap().0, text);
    }

    #[test]
    fn binary_and_garbage_are_refused() {
        assert_eq!(decode(b"\x89PNG\r\n\x1a\n\0\0"), Err(DecodeError::Binary));
        assert_eq!(
            decode(&[0x82, 0xFF, 0xFE, 0x81]),
            Err(DecodeError::Undecodable)
        );
    }
}
