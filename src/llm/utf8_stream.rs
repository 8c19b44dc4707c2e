//! Turns the byte pieces llama.cpp gives per token into text without ever splitting a
//! character: a Japanese character often spans two tokens, so incomplete sequences wait
//! for the next piece; bytes that can never be valid UTF-8 are dropped and counted.

#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
    dropped_bytes: usize,
}

impl Utf8Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` and returns the text that is now complete (possibly empty).
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(text) => {
                    out.push_str(text);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // The prefix is valid by the error's own account.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        Some(bad) => {
                            self.dropped_bytes += bad;
                            self.pending.drain(..valid + bad);
                        }
                        None => {
                            // An incomplete character at the end: keep it for the next piece.
                            self.pending.drain(..valid);
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// Ends the stream: an incomplete character left over is dropped (and counted).
    pub fn finish(&mut self) {
        self.dropped_bytes += self.pending.len();
        self.pending.clear();
    }

    /// Invalid bytes dropped so far.
    pub fn dropped_bytes(&self) -> usize {
        self.dropped_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_pieces_comes_out_whole() {
        let bytes = "退院時サマリー".as_bytes();
        for split in 0..bytes.len() {
            let mut s = Utf8Stream::new();
            let mut out = s.push(&bytes[..split]);
            out += &s.push(&bytes[split..]);
            assert_eq!(out, "退院時サマリー");
            assert_eq!(s.dropped_bytes(), 0);
        }
        // One byte at a time: every emitted piece is whole characters.
        let mut s = Utf8Stream::new();
        let mut all = String::new();
        for b in bytes {
            let piece = s.push(&[*b]);
            assert!(!piece.contains('\u{FFFD}'));
            all += &piece;
        }
        assert_eq!(all, "退院時サマリー");
    }

    #[test]
    fn invalid_bytes_are_dropped_and_counted_never_shown() {
        let mut s = Utf8Stream::new();
        let out = s.push(b"a\xff\xfeb\xe3\x81");
        assert_eq!(out, "ab");
        assert_eq!(s.dropped_bytes(), 2);
        // A lead byte followed by a non-continuation byte: the lead is dropped.
        let out = s.push(b"c");
        assert_eq!(out, "c");
        assert_eq!(s.dropped_bytes(), 4);
        s.push(b"\xe3");
        s.finish();
        assert_eq!(s.dropped_bytes(), 5);
    }
}
