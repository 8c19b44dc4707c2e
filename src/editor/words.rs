//! Word boundaries for Japanese text. Japanese has no spaces, so a "word" for cursor jumps
//! is a run of one script: kanji, hiragana, katakana, latin letters/digits, or punctuation.
//! (Morphological segmentation would be finer, but jumps must be instant and predictable.)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharClass {
    Space,
    Kanji,
    Hiragana,
    Katakana,
    Alphanumeric,
    Punctuation,
}

pub fn class_of(c: char) -> CharClass {
    match c {
        c if c.is_whitespace() => CharClass::Space,
        '\u{3040}'..='\u{309F}' => CharClass::Hiragana,
        '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}' | '\u{31F0}'..='\u{31FF}' => {
            CharClass::Katakana
        }
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '々' | '〆' => CharClass::Kanji,
        c if c.is_alphanumeric() => CharClass::Alphanumeric,
        _ => CharClass::Punctuation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(class_of('肺'), CharClass::Kanji);
        assert_eq!(class_of('の'), CharClass::Hiragana);
        assert_eq!(class_of('ロ'), CharClass::Katakana);
        assert_eq!(class_of('ｶ'), CharClass::Katakana);
        assert_eq!(class_of('Ｃ'), CharClass::Alphanumeric);
        assert_eq!(class_of('5'), CharClass::Alphanumeric);
        assert_eq!(class_of('、'), CharClass::Punctuation);
        assert_eq!(class_of('　'), CharClass::Space);
    }
}
