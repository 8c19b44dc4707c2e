//! Copy to the clinician's own clipboard through the terminal: the OSC 52 escape sequence.
//! It works over SSH in terminals that allow it. The TUI sends it on an explicit key only.

use base64::Engine as _;

/// Terminals commonly refuse larger payloads (xterm's default limit is about 100 kB).
pub const MAX_OSC52_BASE64_BYTES: usize = 100_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Osc52Error {
    #[error("the text is too long to copy through the terminal ({encoded} bytes encoded, at most {max}); export it to a file instead")]
    TooLong { encoded: usize, max: usize },
}

/// `ESC ] 52 ; c ; <base64> BEL` — the clipboard ("c") gets `text`.
pub fn osc52_sequence(text: &str) -> Result<String, Osc52Error> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    if encoded.len() > MAX_OSC52_BASE64_BYTES {
        return Err(Osc52Error::TooLong {
            encoded: encoded.len(),
            max: MAX_OSC52_BASE64_BYTES,
        });
    }
    Ok(format!("\x1b]52;c;{encoded}\x07"))
}

/// The same sequence wrapped for tmux's passthrough (`ESC P tmux; … ESC \`), with every
/// ESC inside doubled, so that tmux hands it to the outer terminal.
pub fn osc52_tmux_sequence(text: &str) -> Result<String, Osc52Error> {
    let inner = osc52_sequence(text)?;
    Ok(format!(
        "\x1bPtmux;{}\x1b\\",
        inner.replace('\x1b', "\x1b\x1b")
    ))
}

/// The sequence to write for the current environment (`$TMUX` set: wrapped for tmux).
pub fn osc52_for_terminal(text: &str) -> Result<String, Osc52Error> {
    if std::env::var_os("TMUX").is_some_and(|v| !v.is_empty()) {
        osc52_tmux_sequence(text)
    } else {
        osc52_sequence(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_sequence_carries_utf8_base64() {
        let seq = osc52_sequence("退院時サマリー").unwrap();
        assert!(seq.starts_with("\x1b]52;c;") && seq.ends_with('\x07'));
        let payload = &seq["\x1b]52;c;".len()..seq.len() - 1];
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), "退院時サマリー");
    }

    #[test]
    fn tmux_passthrough_doubles_escapes() {
        let seq = osc52_tmux_sequence("abc").unwrap();
        assert_eq!(seq, "\x1bPtmux;\x1b\x1b]52;c;YWJj\x07\x1b\\");
    }

    #[test]
    fn too_long_text_is_refused() {
        let long = "あ".repeat(40_000);
        assert!(matches!(
            osc52_sequence(&long),
            Err(Osc52Error::TooLong { .. })
        ));
    }
}
