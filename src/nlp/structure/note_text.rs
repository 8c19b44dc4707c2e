//! Character-indexed access to a note's text.

/// Character-indexed access to a note's text, built once per note (no quadratic scans).
pub(super) struct NoteText<'a> {
    text: &'a str,
    byte_of_char: Vec<usize>,
}

impl<'a> NoteText<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut byte_of_char: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        byte_of_char.push(text.len());
        NoteText { text, byte_of_char }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.byte_of_char
            .get(char_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    fn char_of_byte(&self, byte: usize) -> usize {
        self.byte_of_char.partition_point(|&b| b < byte)
    }

    /// The text from character `char_index` on.
    pub(super) fn from(&self, char_index: usize) -> &'a str {
        &self.text[self.byte(char_index)..]
    }

    /// Character bounds of the line holding character `at` (without the line break).
    pub(super) fn line_bounds(&self, at: usize) -> (usize, usize) {
        let byte = self.byte(at);
        let start = self.text[..byte].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let end = self.text[byte..]
            .find('\n')
            .map(|i| byte + i)
            .unwrap_or(self.text.len());
        (self.char_of_byte(start), self.char_of_byte(end))
    }

    pub(super) fn line(&self, at: usize) -> &'a str {
        let (start, end) = self.line_bounds(at);
        &self.text[self.byte(start)..self.byte(end)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_found_by_character_offset() {
        let text = NoteText::new("一行目\nアレルギー:ロキソニン\n三行目");
        assert_eq!(text.line(8), "アレルギー:ロキソニン");
        assert_eq!(text.line_bounds(8), (4, 15));
        assert_eq!(text.line(0), "一行目");
        assert_eq!(text.line(3), "一行目");
        assert_eq!(text.from(17), "行目");
        assert_eq!(text.from(99), "");
    }
}
