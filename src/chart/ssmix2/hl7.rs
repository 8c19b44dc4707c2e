//! HL7 v2 messages as SS-MIX2 writes them, parsed from text that is already decoded.
//!
//! The file must be decoded (ISO-2022-JP → UTF-8) *before* it is split: the JIS byte pairs
//! of many kanji contain the delimiter bytes `| ^ ~ \ &` (see `decode`). The grammar left
//! after decoding is small: segments end with CR, LF or CR+LF; `MSH-1`/`MSH-2` declare the
//! delimiters; fields, repetitions, components and sub-components are split in that order,
//! and the escapes `\F\ \S\ \T\ \R\ \E\` are undone in the leaves. A small parser of our own
//! (rather than an HL7 crate) because the crates either take bytes (wrong before decoding),
//! are AGPL, or call themselves experimental; see the reference sheet, §5.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use encoding_rs::{ISO_2022_JP, SHIFT_JIS};
use std::borrow::Cow;

/// How a file was decoded, and what was odd about it (for the skipped-and-why list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// A problem worth telling IT about; the text is still the best reading of the bytes.
    pub warning: Option<String>,
    /// The file ends inside a kanji (JIS X 0208) run: it was cut off, and its last
    /// segment is incomplete.
    pub truncated: bool,
}

/// Decodes a storage file: ISO-2022-JP as the standard says; UTF-8 and Shift_JIS (CP932)
/// as some real storages write; invalid bytes become U+FFFD with a warning.
pub fn decode(bytes: &[u8]) -> Decoded {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let has_high = bytes.iter().any(|&b| b >= 0x80);
    let has_esc = bytes.contains(&0x1B);
    if has_high && !has_esc {
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Decoded {
                text: text.to_owned(),
                warning: None,
                truncated: false,
            };
        }
        if let Some(text) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
            return Decoded {
                text: text.into_owned(),
                warning: Some(
                    "encoded as Shift_JIS (CP932), not ISO-2022-JP as SS-MIX2 requires".into(),
                ),
                truncated: false,
            };
        }
    }
    let (text, had_errors) = ISO_2022_JP.decode_without_bom_handling(bytes);
    let warning = if had_errors {
        Some("invalid ISO-2022-JP bytes (shown as \u{FFFD}); the rest of the file was read".into())
    } else if bytes.windows(3).any(|w| w == b"\x1B(J") {
        Some("switches to JIS-Roman (ESC ( J), which SS-MIX2 does not allow".into())
    } else {
        None
    };
    Decoded {
        text: text.into_owned(),
        warning,
        truncated: ends_in_jis_mode(bytes),
    }
}

/// Whether the last ISO-2022-JP escape switches to a two-byte set and nothing returns to
/// ASCII after it (a well-formed message always ends in ASCII: the segment terminator).
fn ends_in_jis_mode(bytes: &[u8]) -> bool {
    let Some(last) = bytes.iter().rposition(|&b| b == 0x1B) else {
        return false;
    };
    bytes.get(last + 1) == Some(&b'$')
}

/// The delimiters declared by MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

/// One segment: its name and its raw fields (`fields[0]` is the name; for MSH, `fields[1]`
/// is the field separator itself so that field numbers match the standard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    fields: Vec<String>,
    delims: Delimiters,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub segments: Vec<Segment>,
    pub delims: Delimiters,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The text does not start with an MSH segment.
    NoMsh,
    /// MSH is too short to declare its delimiters.
    BadMsh,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::NoMsh => "not an HL7 v2 message (it does not start with an MSH segment)",
            ParseError::BadMsh => "the MSH segment is too short to declare the HL7 delimiters",
        })
    }
}

/// Parses a decoded message. Leading MLLP `0x0B`, trailing `0x1C`, blank lines and stray
/// spaces around segments are tolerated.
pub fn parse(text: &str) -> Result<Message, ParseError> {
    let text = text.trim_start_matches(['\u{0B}', '\u{FEFF}', ' ', '\r', '\n']);
    let mut lines = text
        .split(['\r', '\n'])
        .map(|l| l.trim_matches(['\u{0B}', '\u{1C}']))
        .filter(|l| !l.trim().is_empty());
    let msh = lines.next().ok_or(ParseError::NoMsh)?;
    if !msh.starts_with("MSH") {
        return Err(ParseError::NoMsh);
    }
    let mut chars = msh.chars().skip(3);
    let field = chars.next().ok_or(ParseError::BadMsh)?;
    let encoding: Vec<char> = chars.take_while(|&c| c != field).collect();
    if encoding.len() < 2 || field.is_alphanumeric() {
        return Err(ParseError::BadMsh);
    }
    let default = Delimiters::default();
    let delims = Delimiters {
        field,
        component: encoding[0],
        repetition: encoding[1],
        escape: encoding.get(2).copied().unwrap_or(default.escape),
        subcomponent: encoding.get(3).copied().unwrap_or(default.subcomponent),
    };
    let mut segments = Vec::new();
    for line in std::iter::once(msh).chain(lines) {
        let mut fields: Vec<String> = line.split(field).map(str::to_owned).collect();
        let name = fields[0].trim().to_owned();
        if name == "MSH" {
            fields.insert(1, field.to_string());
        }
        segments.push(Segment {
            name,
            fields,
            delims,
        });
    }
    Ok(Message { segments, delims })
}

impl Message {
    pub fn segment(&self, name: &str) -> Option<&Segment> {
        self.segments.iter().find(|s| s.name == name)
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Segment> + 'a {
        self.segments.iter().filter(move |s| s.name == name)
    }

    /// MSH-9 as `TYPE^EVENT`, e.g. `ADT^A08` (full-width `Ｏ` written by some vendors is
    /// read as `O`).
    pub fn message_type(&self) -> String {
        let Some(msh) = self.segment("MSH") else {
            return String::new();
        };
        let kind = format!("{}^{}", msh.component(9, 1), msh.component(9, 2));
        kind.replace('Ｏ', "O")
    }
}

impl Segment {
    /// Field `n` (1-based, as the standard numbers them), raw (not unescaped).
    pub fn raw(&self, n: usize) -> &str {
        if self.name == "MSH" && n == 2 {
            // MSH-2 is the encoding characters themselves, never split.
            return self.fields.get(2).map_or("", String::as_str);
        }
        self.fields.get(n).map_or("", String::as_str)
    }

    /// The repetitions of field `n`, raw.
    pub fn repetitions(&self, n: usize) -> Vec<&str> {
        let raw = self.raw(n);
        if raw.is_empty() {
            return Vec::new();
        }
        raw.split(self.delims.repetition).collect()
    }

    /// Field `n` as one value (first repetition, first component), unescaped and trimmed;
    /// HL7's explicit null `""` reads as empty.
    pub fn value(&self, n: usize) -> String {
        self.component(n, 1)
    }

    /// Component `c` (1-based) of the first repetition of field `n`, unescaped and trimmed.
    pub fn component(&self, n: usize, c: usize) -> String {
        let first = self.repetitions(n).first().copied().unwrap_or("");
        component_of(first, c, &self.delims)
    }

    /// Sub-component `s` of component `c` of the first repetition of field `n`.
    pub fn subcomponent(&self, n: usize, c: usize, s: usize) -> String {
        if c == 0 || s == 0 {
            return String::new();
        }
        let first = self.repetitions(n).first().copied().unwrap_or("");
        let raw = first.split(self.delims.component).nth(c - 1).unwrap_or("");
        leaf(
            raw.split(self.delims.subcomponent).nth(s - 1).unwrap_or(""),
            &self.delims,
        )
    }

    pub fn delims(&self) -> &Delimiters {
        &self.delims
    }

    /// How many fields the segment has (for MSH, counting MSH-1).
    pub fn len(&self) -> usize {
        self.fields.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Component `c` (1-based) of a raw repetition, unescaped and trimmed; sub-components of a
/// component are joined back as they were (`3^TAB&錠&MR9P` → component 2 is `TAB&錠&MR9P`).
pub fn component_of(raw: &str, c: usize, d: &Delimiters) -> String {
    if c == 0 {
        return String::new();
    }
    leaf(raw.split(d.component).nth(c - 1).unwrap_or(""), d)
}

/// A leaf value: escapes undone, spaces trimmed, `""` (explicit null) as empty, control
/// characters removed.
fn leaf(raw: &str, d: &Delimiters) -> String {
    let raw = raw.trim();
    if raw == "\"\"" {
        return String::new();
    }
    let value = unescape(raw, d);
    // Control characters (a stray BEL or C1 byte) never reach a chart; `\.br\` stays a newline.
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return value
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect::<String>()
            .trim()
            .to_owned();
    }
    value.trim().to_owned()
}

/// Undoes the HL7 escapes `\F\ \S\ \T\ \R\ \E\` (and `\X..\` hex, `\.br\` as a newline);
/// formatting escapes (`\H\`, `\N\`) are dropped; anything else is kept as written.
pub fn unescape<'a>(raw: &'a str, d: &Delimiters) -> Cow<'a, str> {
    if !raw.contains(d.escape) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(d.escape) {
        out.push_str(&rest[..start]);
        let after = &rest[start + d.escape.len_utf8()..];
        let Some(end) = after.find(d.escape) else {
            // A lone escape character: keep it as text.
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        let seq = &after[..end];
        match seq {
            "F" => out.push(d.field),
            "S" => out.push(d.component),
            "T" => out.push(d.subcomponent),
            "R" => out.push(d.repetition),
            "E" => out.push(d.escape),
            "H" | "N" => {}
            ".br" => out.push('\n'),
            _ if seq.starts_with('X') && seq.len() % 2 == 1 => {
                let bytes: Option<Vec<u8>> = (1..seq.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(seq.get(i..i + 2)?, 16).ok())
                    .collect();
                match bytes.and_then(|b| String::from_utf8(b).ok()) {
                    Some(s) => out.push_str(&s),
                    None => {
                        out.push(d.escape);
                        out.push_str(seq);
                        out.push(d.escape);
                    }
                }
            }
            _ => {
                out.push(d.escape);
                out.push_str(seq);
                out.push(d.escape);
            }
        }
        rest = &after[end + d.escape.len_utf8()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Escapes a value so it can be written in a field (the inverse of [`unescape`]).
pub fn escape(value: &str, d: &Delimiters) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        let code = if c == d.escape {
            Some('E')
        } else if c == d.field {
            Some('F')
        } else if c == d.component {
            Some('S')
        } else if c == d.subcomponent {
            Some('T')
        } else if c == d.repetition {
            Some('R')
        } else {
            None
        };
        match code {
            Some(code) => {
                out.push(d.escape);
                out.push(code);
                out.push(d.escape);
            }
            None => out.push(c),
        }
    }
    out
}

/// An HL7 timestamp: `YYYY[MM[DD[HH[MM[SS[.f…]]]]]]`, the 17-digit `YYYYMMDDHHMMSSfff`, an
/// optional zone (ignored: storages are local time), and hours 24–47 (some systems write
/// 25:30 for 01:30 the next day). Spaces are ignored.
pub fn timestamp(s: &str) -> Option<NaiveDateTime> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let s = s.split(['+', '-']).next().unwrap_or("");
    let (digits, _fraction) = s.split_once('.').unwrap_or((s, ""));
    if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |from: usize, len: usize, default: u32| -> Option<u32> {
        match digits.get(from..from + len) {
            Some(part) => part.parse().ok(),
            None if digits.len() <= from => Some(default),
            None => None,
        }
    };
    let year = i32::try_from(num(0, 4, 0)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(4, 2, 1)?, num(6, 2, 1)?)?;
    let (hour, minute, second) = (num(8, 2, 0)?, num(10, 2, 0)?, num(12, 2, 0)?);
    if hour > 47 {
        return None;
    }
    let time = NaiveTime::from_hms_opt(hour % 24, minute, second)?;
    Some(date.and_time(time) + Duration::days(i64::from(hour / 24)))
}

/// The date part of an HL7 timestamp.
pub fn date(s: &str) -> Option<NaiveDate> {
    timestamp(s).map(|t| t.date())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn msh_fields_are_numbered_as_the_standard_numbers_them() {
        let m = parse("\u{0B}MSH|^~\\&|HIS123|SEND|GW|RCV|20111220224447.3399||ADT^A08^ADT_A01|123|P|2.5||||||~ISO IR87||ISO 2022-1994\rPID|||9999013^^^^PI\r\u{1C}").unwrap();
        let msh = m.segment("MSH").unwrap();
        assert_eq!(msh.raw(1), "|");
        assert_eq!(msh.raw(2), "^~\\&");
        assert_eq!(msh.value(3), "HIS123");
        assert_eq!(m.message_type(), "ADT^A08");
        assert_eq!(msh.repetitions(18), vec!["", "ISO IR87"]);
        assert_eq!(m.segment("PID").unwrap().value(3), "9999013");
    }

    #[test]
    fn escapes_and_explicit_nulls() {
        let d = Delimiters::default();
        assert_eq!(
            unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f", &d),
            "a|b^c&d~e\\f"
        );
        assert_eq!(unescape("\\X41\\B", &d), "AB");
        assert_eq!(unescape("trailing\\", &d), "trailing\\");
        assert_eq!(unescape("\\Zfoo\\", &d), "\\Zfoo\\");
        let m = parse("MSH|^~\\&|a\rRXE||\"\"|x\\S\\y^ z ").unwrap();
        let rxe = m.segment("RXE").unwrap();
        assert_eq!(rxe.value(2), "");
        assert_eq!(rxe.component(3, 1), "x^y");
        assert_eq!(rxe.component(3, 2), "z");
    }

    #[test]
    fn timestamps_of_every_shape() {
        let t = |s: &str| timestamp(s).map(|t| t.to_string());
        assert_eq!(t("20111220224447339").unwrap(), "2011-12-20 22:44:47");
        assert_eq!(t("20111220224447.3399").unwrap(), "2011-12-20 22:44:47");
        assert_eq!(t("201112201200").unwrap(), "2011-12-20 12:00:00");
        assert_eq!(t("20111220").unwrap(), "2011-12-20 00:00:00");
        assert_eq!(t("199601").unwrap(), "1996-01-01 00:00:00");
        assert_eq!(t("201112202530").unwrap(), "2011-12-21 01:30:00");
        assert_eq!(t("20111220120000+0900").unwrap(), "2011-12-20 12:00:00");
        assert_eq!(t(" 2011 1220 ").unwrap(), "2011-12-20 00:00:00");
        assert!(t("20111320").is_none());
        assert!(t("201112204800").is_none());
        assert!(t("abc").is_none());
        assert!(t("").is_none());
    }

    #[test]
    fn iso_2022_jp_is_decoded_before_splitting() {
        // 本 = 4B5C (contains `\`), 京 = 357E (`~`), 剤 = 3A5E (`^`), ウ = 2526 (`&`).
        let (bytes, _, _) = ISO_2022_JP.encode("MSH|^~\\&|x\rPID|||1||本京^剤ウ\r");
        assert!(bytes.contains(&b'~'));
        let decoded = decode(&bytes);
        assert_eq!(decoded.warning, None);
        let m = parse(&decoded.text).unwrap();
        let pid = m.segment("PID").unwrap();
        assert_eq!(pid.component(5, 1), "本京");
        assert_eq!(pid.component(5, 2), "剤ウ");
    }

    #[test]
    fn other_encodings_are_read_with_a_warning() {
        let (sjis, _, _) = SHIFT_JIS.encode("MSH|^~\\&|x\rPID|||1||患者^太郎\r");
        let decoded = decode(&sjis);
        assert!(decoded.text.contains("患者"));
        assert!(decoded.warning.unwrap().contains("Shift_JIS"));
        let utf8 = decode("MSH|^~\\&|x\rPID|||1||患者".as_bytes());
        assert!(utf8.text.contains("患者") && utf8.warning.is_none());
        let broken = decode(b"MSH|^~\\&|x\rPID|||1||\x1b$B4\xff\x1b(B");
        assert!(broken.warning.unwrap().contains("invalid ISO-2022-JP"));
        assert!(!broken.truncated);
        let (cut, _, _) = ISO_2022_JP.encode("MSH|^~\\&|x\rPID|||1||患者");
        assert!(decode(&cut[..cut.len() - 3]).truncated);
    }

    #[test]
    fn not_hl7_is_an_error_not_a_panic() {
        assert_eq!(parse("").unwrap_err(), ParseError::NoMsh);
        assert_eq!(parse("hello"), Err(ParseError::NoMsh));
        assert_eq!(parse("MSH"), Err(ParseError::BadMsh));
        assert_eq!(parse("MSH|"), Err(ParseError::BadMsh));
    }

    fn value() -> impl Strategy<Value = String> {
        // Delimiters, escapes, kanji whose JIS bytes hold delimiters, spaces inside.
        proptest::collection::vec(
            prop_oneof![
                Just("|"),
                Just("^"),
                Just("~"),
                Just("\\"),
                Just("&"),
                Just("本"),
                Just("京"),
                Just("剤"),
                Just("ウ"),
                Just("a"),
                Just("1"),
                Just(" x"),
                Just("\\F\\"),
            ],
            0..12,
        )
        .prop_map(|parts| parts.concat().trim().to_owned())
    }

    proptest! {
        #[test]
        fn escape_then_unescape_is_identity(s in value()) {
            let d = Delimiters::default();
            let escaped = escape(&s, &d);
            prop_assert_eq!(unescape(&escaped, &d), s.as_str());
        }

        #[test]
        fn written_fields_read_back_whatever_the_line_ends(
            values in proptest::collection::vec(value(), 1..6),
            ending in prop_oneof![Just("\r"), Just("\n"), Just("\r\n")],
            iso in any::<bool>(),
        ) {
            let d = Delimiters::default();
            let fields: Vec<String> = values.iter().map(|v| escape(v, &d)).collect();
            let text = format!("MSH|^~\\&|x{ending}ZZZ|{}{ending}PID|1{ending}", fields.join("|"));
            let text = if iso {
                let (bytes, _, _) = ISO_2022_JP.encode(&text);
                decode(&bytes).text
            } else {
                text
            };
            let m = parse(&text).unwrap();
            prop_assert_eq!(m.segments.len(), 3);
            let z = m.segment("ZZZ").unwrap();
            for (i, v) in values.iter().enumerate() {
                prop_assert_eq!(&z.value(i + 1), v);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,200}") {
            if let Ok(m) = parse(&s) {
                for seg in &m.segments {
                    for n in 0..seg.len() + 2 {
                        let _ = seg.component(n, 1);
                        let _ = seg.subcomponent(n, 2, 2);
                    }
                }
                let _ = m.message_type();
            }
            let _ = timestamp(&s);
            let _ = decode(s.as_bytes());
        }

        #[test]
        fn arbitrary_bytes_decode_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let decoded = decode(&bytes);
            let _ = parse(&decoded.text);
        }

        #[test]
        fn valid_timestamps_round_trip(
            y in 1900i32..2100, mo in 1u32..13, d in 1u32..29, h in 0u32..24, mi in 0u32..60, s in 0u32..60, ms in 0u32..1000
        ) {
            let text = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}{ms:03}");
            let t = timestamp(&text).unwrap();
            prop_assert_eq!(t.format("%Y%m%d%H%M%S").to_string(), &text[..14]);
        }
    }
}
