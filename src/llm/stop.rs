//! Stop strings: text is held back while it could still be the start of a stop string,
//! so a stop string is never shown, not even in part.

#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What to show now, and whether a stop string was reached.
#[derive(Debug, PartialEq, Eq)]
pub struct StopCheck {
    pub emit: String,
    pub stopped: bool,
}

impl StopMatcher {
    pub fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> StopCheck {
        self.held.push_str(text);
        let first_stop = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min();
        if let Some(at) = first_stop {
            let emit = self.held[..at].to_string();
            self.held.clear();
            return StopCheck {
                emit,
                stopped: true,
            };
        }
        let keep = self.longest_partial_stop_suffix();
        let cut = self.held.len() - keep;
        let emit = self.held[..cut].to_string();
        self.held.drain(..cut);
        StopCheck {
            emit,
            stopped: false,
        }
    }

    /// The text held back at the end of generation (it was not a stop string after all).
    pub fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length in bytes of the longest suffix of `held` that begins some stop string.
    fn longest_partial_stop_suffix(&self) -> usize {
        let mut best = 0;
        for (start, _) in self.held.char_indices() {
            let suffix = &self.held[start..];
            if self.stops.iter().any(|s| s.starts_with(suffix)) {
                best = best.max(suffix.len());
                break; // the earliest start gives the longest suffix
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_string_split_over_pieces_is_never_shown() {
        let mut m = StopMatcher::new(&["\n【".to_string()]);
        let mut shown = String::new();
        let mut stopped = false;
        for piece in ["経過", "良好。", "\n", "【", "今後"] {
            let c = m.push(piece);
            shown += &c.emit;
            if c.stopped {
                stopped = true;
                break;
            }
        }
        assert!(stopped);
        assert_eq!(shown, "経過良好。");
    }

    #[test]
    fn held_text_that_was_not_a_stop_is_released() {
        let mut m = StopMatcher::new(&["\n【".to_string(), String::new()]);
        assert_eq!(m.push("a\n").emit, "a");
        assert_eq!(m.push("b").emit, "\nb");
        assert_eq!(m.push("c\n").emit, "c");
        assert_eq!(m.flush(), "\n");
    }
}
