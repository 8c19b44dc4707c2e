//! Names and codes that are not clinical facts: ICD-10 codes (K80.0, J13, E11.9), clinical
//! departments (消化器外科, 循環器内科, 糖尿病・内分泌内科) and wards (4西, 5東病棟, 3北,
//! SCU→8東). The pipeline can read parts of them as entities ("K80.0" as the test K with the
//! value 80.0, 「糖尿病」 inside 糖尿病内科); the guard ignores every entity and number inside
//! such a span, so a correct factual section is never flagged for them.

use crate::nlp::rules::compile;
use regex::Regex;
use std::sync::OnceLock;

/// Specialties that come before 科 / 内科 / 外科 in a department's name.
const SPECIALTIES: &str = "消化器|循環器|呼吸器|脳神経|神経|腎臓|整形|形成|心臓血管|心臓|血管|\
血液|内分泌|代謝|糖尿病|精神|心療|小児|産婦人|婦人|産|皮膚|眼|耳鼻咽喉|耳鼻|泌尿器|放射線|\
麻酔|救命救急|救急|総合診療|総合|一般|感染症|腫瘍|リウマチ|膠原病|乳腺|歯科口腔|口腔|歯|肝臓|\
肝胆膵|緩和ケア|老年|リハビリテーション|病理|胸部|甲状腺|脳|新生児|周産期|透析|頭頸部|肛門|\
大腸|胃腸|移植|アレルギー|血液浄化";

/// Kinds of ward named before 病棟.
const WARD_KINDS: &str =
    "一般|急性期|回復期リハビリテーション|回復期リハ|回復期|地域包括ケア|療養|\
精神科|緩和ケア|小児|産科|婦人科|開放|閉鎖|結核|感染症|救命救急|NICU|GCU|MFICU|ICU|HCU|CCU|SCU|\
PICU";

struct Patterns {
    icd: Regex,
    department: Regex,
    ward: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| Patterns {
        icd: compile(r"[A-ZＡ-Ｚ][0-9０-９]{2}(?:[.．][0-9０-９]{1,4})?"),
        department: compile(&format!(
            r"(?:(?:{SPECIALTIES})(?:[・･/](?:{SPECIALTIES}))*(?:内|外)?科|内科|外科)"
        )),
        ward: compile(&format!(
            r"(?:[0-9０-９]{{1,2}}階)?(?:[0-9０-９]{{1,2}}[東西南北]|[東西南北][0-9０-９]{{1,2}}階?)(?:病棟)?|(?:[0-9０-９]{{1,2}}階|{WARD_KINDS})病棟|(?:{WARD_KINDS})(?:→|⇒)"
        )),
    })
}

fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '０'..='９')
}

/// Character spans (start, end) of ICD-10 codes, department and ward names in `text`.
/// `chart_codes`: the chart's own ICD-10 codes (always read as codes).
pub fn code_spans(text: &str, chart_codes: &[String]) -> Vec<(usize, usize)> {
    let p = patterns();
    let char_at: Vec<usize> = {
        // byte offset → char offset
        let mut map = vec![0; text.len() + 1];
        let mut n = 0;
        for (b, c) in text.char_indices() {
            for slot in map.iter_mut().skip(b).take(c.len_utf8()) {
                *slot = n;
            }
            n += 1;
        }
        map[text.len()] = n;
        map
    };
    let mut spans = Vec::new();
    for m in p.icd.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        if before.is_some_and(is_code_char) || after.is_some_and(is_code_char) {
            continue;
        }
        if after.is_some_and(|c| matches!(c, '℃' | '°' | '度' | '/' | '／' | '.' | '．')) {
            continue;
        }
        let code: String = m
            .as_str()
            .chars()
            .map(|c| match c {
                'Ａ'..='Ｚ' | '０'..='９' | '．' => {
                    char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
                }
                _ => c,
            })
            .collect();
        let known = chart_codes
            .iter()
            .any(|k| k.trim().eq_ignore_ascii_case(&code));
        let bracketed = before.is_some_and(|c| matches!(c, '(' | '（' | '[' | '［' | '【'));
        let lead: String = text[..m.start()]
            .chars()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let labelled = lead.contains("ICD") || lead.contains("ＩＣＤ") || lead.contains("コード");
        // A decimal code (K80.0) is a code unless its letter is a vital sign's (T38.5,
        // P88.0, R20.0 as temperature, pulse, respiration).
        let decimal = code.contains('.') && !code.starts_with(['T', 'P', 'R']);
        if known || bracketed || labelled || decimal {
            spans.push((char_at[m.start()], char_at[m.end()]));
        }
    }
    for m in p.department.find_iter(text) {
        if text[m.end()..].starts_with('的') {
            continue; // 外科的治療
        }
        spans.push((char_at[m.start()], char_at[m.end()]));
    }
    for m in p.ward.find_iter(text) {
        spans.push((char_at[m.start()], char_at[m.end()]));
    }
    spans.sort_unstable();
    spans
}

/// Does [start, end) overlap one of `spans`?
pub fn overlaps(spans: &[(usize, usize)], start: usize, end: usize) -> bool {
    spans
        .iter()
        .any(|&(s, e)| start < e && s < end.max(start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, known: &[&str]) -> Vec<String> {
        let known: Vec<String> = known.iter().map(|s| s.to_string()).collect();
        let chars: Vec<char> = text.chars().collect();
        code_spans(text, &known)
            .into_iter()
            .map(|(s, e)| chars[s..e].iter().collect())
            .collect()
    }

    #[test]
    fn icd_codes_in_brackets_with_decimals_or_known() {
        assert_eq!(texts("主病名: 胆嚢結石症 (K80.0)", &[]), ["K80.0"]);
        assert_eq!(texts("肺炎球菌性肺炎 (J13)", &[]), ["J13"]);
        assert_eq!(texts("E11.9 と I63.5", &[]), ["E11.9", "I63.5"]);
        assert_eq!(texts("病名 J13 で入院", &["J13"]), ["J13"]);
        assert_eq!(texts("ICD-10: C18.7", &[]), ["C18.7"]);
        // Vital signs and potassium are values, not codes.
        assert!(texts("T38.5 P88 R20、K4.2、K 80", &[]).is_empty());
        assert!(texts("T38.5℃", &[]).is_empty());
    }

    #[test]
    fn departments_and_wards() {
        assert_eq!(
            texts("消化器外科より循環器内科へ", &[]),
            ["消化器外科", "循環器内科"]
        );
        assert_eq!(texts("糖尿病・内分泌内科", &[]), ["糖尿病・内分泌内科"]);
        assert_eq!(
            texts("脳神経外科、小児科、眼科", &[]),
            ["脳神経外科", "小児科", "眼科"]
        );
        assert_eq!(
            texts("4西、5東病棟、3階病棟", &[]),
            ["4西", "5東病棟", "3階病棟"]
        );
        assert_eq!(texts("SCU→8東", &[]), ["SCU→", "8東"]);
        assert!(texts("外科的治療", &[]).is_empty());
    }

    #[test]
    fn overlap_is_strict() {
        assert!(overlaps(&[(2, 5)], 4, 6));
        assert!(!overlaps(&[(2, 5)], 5, 6));
        assert!(overlaps(&[(2, 5)], 3, 3));
    }
}
