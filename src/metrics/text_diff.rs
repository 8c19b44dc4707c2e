//! How much of the AI draft survived into the signed text, at character level.
//! Only the resulting numbers are recorded; the texts never leave the caller.

use crate::metrics::event::SignStats;

impl SignStats {
    /// Compares the AI draft with the signed text (`ai_draft = None`: written by hand).
    /// Cost is O(len_ai × len_signed) time and O(len_signed) memory; call it off the UI
    /// thread for very long documents.
    pub fn from_texts(ai_draft: Option<&str>, signed: &str) -> Self {
        let signed_chars: Vec<char> = signed.chars().collect();
        let signed_len = saturating_u32(signed_chars.len());
        let Some(ai_draft) = ai_draft else {
            return Self {
                ai_draft_chars: None,
                signed_chars: signed_len,
                edit_distance: None,
                retained_chars: None,
            };
        };
        let ai_chars: Vec<char> = ai_draft.chars().collect();
        Self {
            ai_draft_chars: Some(saturating_u32(ai_chars.len())),
            signed_chars: signed_len,
            edit_distance: Some(saturating_u32(levenshtein(&ai_chars, &signed_chars))),
            retained_chars: Some(saturating_u32(longest_common_subsequence(
                &ai_chars,
                &signed_chars,
            ))),
        }
    }

    /// "% edited": edit distance over the longer of the two texts (0 = signed as drafted).
    pub fn edited_share(&self) -> Option<f64> {
        let distance = self.edit_distance?;
        let longer = self.ai_draft_chars?.max(self.signed_chars);
        Some(if longer == 0 {
            0.0
        } else {
            f64::from(distance) / f64::from(longer)
        })
    }

    /// Share of the signed text that was kept from the AI draft.
    pub fn retained_share(&self) -> Option<f64> {
        let retained = self.retained_chars?;
        Some(if self.signed_chars == 0 {
            0.0
        } else {
            f64::from(retained) / f64::from(self.signed_chars)
        })
    }
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Levenshtein distance (insert, delete, substitute: cost 1 each), two rows.
pub fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Length of the longest common subsequence, two rows.
pub fn longest_common_subsequence(a: &[char], b: &[char]) -> usize {
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for ca in a {
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = if ca == cb {
                previous[j] + 1
            } else {
                previous[j + 1].max(current[j])
            };
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn distances_on_japanese_text() {
        assert_eq!(levenshtein(&chars("高血圧症"), &chars("高血圧症")), 0);
        assert_eq!(levenshtein(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(levenshtein(&chars("発熱あり"), &chars("発熱なし")), 2);
        assert_eq!(
            longest_common_subsequence(&chars("発熱あり"), &chars("発熱なし")),
            2
        );
        assert_eq!(levenshtein(&chars(""), &chars("abc")), 3);
    }

    #[test]
    fn sign_stats_shares() {
        let stats = SignStats::from_texts(
            Some("退院後は外来で経過観察"),
            "退院後は外来で経過観察とする",
        );
        assert_eq!(stats.ai_draft_chars, Some(11));
        assert_eq!(stats.signed_chars, 14);
        assert_eq!(stats.edit_distance, Some(3));
        assert_eq!(stats.retained_chars, Some(11));
        assert!((stats.edited_share().unwrap() - 3.0 / 14.0).abs() < 1e-12);
        assert!((stats.retained_share().unwrap() - 11.0 / 14.0).abs() < 1e-12);
        let manual = SignStats::from_texts(None, "手書き");
        assert_eq!(manual.edited_share(), None);
        assert_eq!(manual.signed_chars, 3);
    }
}
