//! From HL7 messages to chart records, field by field as the reference sheet lists them
//! (`shared/reference/ss-mix2.md` §3): ADT-00 → patient, ADT-12/22/42/52 → encounters,
//! PPR-01 → diagnoses, OMP-01/02 → prescriptions, OML-11 → labs, ADT-61 (and ADT-00's AL1)
//! → allergies. Codes are kept on the records.

use super::hl7::{self, component_of, Message, Segment};
use crate::chart::{
    Allergy, Code, Diagnosis, DiagnosisStatus, LabFlag, LabResult, Patient, Prescription, Sex,
};
use chrono::{NaiveDate, NaiveDateTime};

/// Patient from ADT-00's PID: kanji and kana name, sex, birth date (address and phone are
/// never read).
pub fn patient(pid: &Segment, folder_pid: &str) -> Patient {
    let d = pid.delims();
    let mut name = String::new();
    let mut kana = String::new();
    for (i, rep) in pid.repetitions(5).iter().enumerate() {
        let full = person_name(component_of(rep, 1, d), component_of(rep, 2, d));
        let representation = component_of(rep, 8, d);
        let is_kana = representation == "P" || (representation.is_empty() && i == 1);
        if is_kana && kana.is_empty() {
            kana = full;
        } else if !is_kana && name.is_empty() {
            name = full;
        }
    }
    Patient {
        id: folder_pid.to_owned(),
        name,
        kana,
        sex: match pid.value(8).as_str() {
            "M" => Sex::Male,
            "F" => Sex::Female,
            "O" | "A" | "N" => Sex::Other,
            _ => Sex::Unknown,
        },
        birth_date: hl7::date(&pid.value(7)),
    }
}

fn person_name(family: String, given: String) -> String {
    match (family.is_empty(), given.is_empty()) {
        (false, false) => format!("{family} {given}"),
        (false, true) => family,
        _ => given,
    }
}

/// PID-3's first id (`9999013^^^^PI` or bare `9999013`).
pub fn patient_id(msg: &Message) -> Option<String> {
    let pid = msg.segment("PID")?;
    Some(pid.value(3)).filter(|id| !id.is_empty())
}

/// What an ADT message says about a stay or a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtEvent {
    pub when: Option<NaiveDateTime>,
    /// PV1-3.1 (病棟 for inpatients, 診療科 for outpatients).
    pub location: String,
    /// PV1-10 (診療科 code; a name when written `code^name`).
    pub department: String,
    pub attending: String,
    /// A cancel message (ADT^A11, A12, A13).
    pub cancel: bool,
}

/// An ADT-12/22/42/52 message as an event; `when` comes from the field the storage uses
/// for that message (PV1-44 admission, PV1-45 discharge, EVN-6 transfer), else EVN-2.
pub fn adt_event(msg: &Message, kind: &str) -> AdtEvent {
    let pv1 = msg.segment("PV1");
    let evn = msg.segment("EVN");
    let field = |seg: Option<&Segment>, n: usize| seg.map(|s| s.value(n)).unwrap_or_default();
    let primary = match kind {
        "ADT-52" => field(pv1, 45),
        "ADT-42" => field(evn, 6),
        _ => field(pv1, 44),
    };
    let when = hl7::timestamp(&primary)
        .or_else(|| hl7::timestamp(&field(evn, 6)))
        .or_else(|| hl7::timestamp(&field(evn, 2)));
    let attending = pv1
        .map(|p| person_name(p.component(7, 2), p.component(7, 3)))
        .unwrap_or_default();
    let department = pv1
        .map(|p| {
            let name = p.component(10, 2);
            if name.is_empty() {
                p.component(10, 1)
            } else {
                name
            }
        })
        .unwrap_or_default();
    let event = msg.message_type();
    AdtEvent {
        when,
        location: pv1.map(|p| p.component(3, 1)).unwrap_or_default(),
        department,
        attending,
        cancel: matches!(
            event.as_str(),
            "ADT^A11" | "ADT^A12" | "ADT^A13" | "ADT^A27"
        ),
    }
}

/// A code from a CWE/CE component triple (code, text, system), looking for the system in
/// component 3 or, for the alternate code, 6.
fn codes_of(seg: &Segment, n: usize) -> Vec<Code> {
    let mut codes = Vec::new();
    for (code, system) in [(1, 3), (4, 6)] {
        let code = seg.component(n, code);
        let system = seg.component(n, system);
        if !code.is_empty() {
            codes.push(Code { system, code });
        }
    }
    codes
}

/// The text of a coded element (component 2), else its code.
fn text_of(seg: &Segment, n: usize) -> String {
    let text = seg.component(n, 2);
    if text.is_empty() {
        let alternate = seg.component(n, 5);
        if alternate.is_empty() {
            seg.component(n, 1)
        } else {
            alternate
        }
    } else {
        text
    }
}

/// Diagnoses from PPR-01 (PRB, with its ZPR): the newest file holds the whole list.
pub fn diagnoses(msg: &Message, id_prefix: &str) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for (i, prb) in msg.all("PRB").enumerate() {
        if prb.value(1) == "DE" {
            continue; // entered in error
        }
        let name = {
            let text = prb.value(17);
            if text.is_empty() {
                text_of(prb, 3)
            } else {
                text
            }
        };
        if name.is_empty() {
            continue;
        }
        let icd10 = Some(prb.component(10, 1))
            .filter(|c| !c.is_empty())
            .map(|c| dotted_icd10(&c));
        let mut codes = codes_of(prb, 3);
        codes.retain(|c| c.system != "I10");
        if icd10.is_some() {
            codes.push(Code {
                system: "I10".into(),
                code: prb.component(10, 1).replace('.', ""),
            });
        }
        let outcome_code = prb.component(14, 1);
        let resolved_on = hl7::date(&prb.value(9));
        let status = if prb.value(13) == "1" {
            DiagnosisStatus::Suspected
        } else if resolved_on.is_some()
            || matches!(
                outcome_code.as_str(),
                "F" | "D" | "R" | "S" | "1" | "2" | "3"
            )
        {
            DiagnosisStatus::Resolved
        } else {
            DiagnosisStatus::Active
        };
        let instance = prb.value(4);
        out.push(Diagnosis {
            id: if instance.is_empty() {
                format!("{id_prefix}{}", i + 1)
            } else {
                format!("{id_prefix}{instance}")
            },
            name,
            icd10,
            main: prb.component(18, 1) == "1",
            status,
            start: hl7::date(&prb.value(16)).or_else(|| hl7::date(&prb.value(7))),
            end: hl7::date(&prb.value(15)).or(resolved_on),
            outcome: text_of(prb, 14),
            codes,
        });
    }
    out
}

/// `K297` → `K29.7` (SS-MIX2 writes ICD-10 without the dot; karte charts use it).
fn dotted_icd10(code: &str) -> String {
    let code = code.trim();
    if code.contains('.') || code.chars().count() <= 3 {
        code.to_owned()
    } else {
        let head: String = code.chars().take(3).collect();
        let tail: String = code.chars().skip(3).collect();
        format!("{head}.{tail}")
    }
}

/// Prescriptions (OMP-01) or injections (OMP-02): one record per RXE (per RXC for an
/// injection's drugs), with its TQ1 and RXR. `order_date` is the 診療日 of the file.
pub fn prescriptions(msg: &Message, id_prefix: &str, injection: bool) -> Vec<Prescription> {
    let mut out = Vec::new();
    let mut groups: Vec<Vec<&Segment>> = Vec::new();
    for seg in &msg.segments {
        match seg.name.as_str() {
            "ORC" => groups.push(vec![seg]),
            "RXE" | "TQ1" | "RXR" | "RXC" => match groups.last_mut() {
                Some(group) => group.push(seg),
                None => groups.push(vec![seg]),
            },
            _ => {}
        }
    }
    for (g, group) in groups.iter().enumerate() {
        let find = |name: &str| group.iter().copied().find(|s| s.name == name);
        let Some(rxe) = find("RXE") else { continue };
        if find("ORC").is_some_and(|orc| matches!(orc.value(1).as_str(), "CA" | "DC")) {
            continue; // cancelled
        }
        let tq1 = find("TQ1");
        let rxr = find("RXR");
        let frequency = tq1.map(frequency_text).unwrap_or_default();
        let days = tq1
            .and_then(|t| t.component(6, 1).parse::<f64>().ok())
            .filter(|d| *d >= 0.0 && *d < 100_000.0)
            .map(|d| d as u32);
        let start = tq1.and_then(|t| hl7::date(&t.value(7)));
        let end = tq1.and_then(|t| hl7::date(&t.value(8)));
        let route = rxr.map(route_text).unwrap_or_default();
        let discharge = rxe.repetitions(21).iter().any(|rep| {
            let d = rxe.delims();
            component_of(rep, 2, d).contains("退院") || component_of(rep, 1, d) == "DHP"
        });
        let mut yj = codes_of(rxe, 31);
        let base = Prescription {
            id: String::new(),
            drug: String::new(),
            dose: String::new(),
            unit: String::new(),
            route,
            frequency,
            days,
            start,
            end,
            discharge,
            codes: Vec::new(),
        };
        let mut ordered: Vec<&Segment> =
            group.iter().copied().filter(|s| s.name == "RXC").collect();
        if injection && !ordered.is_empty() {
            // Base solution (B) first, then additives (A), as ordered.
            ordered.sort_by_key(|c| c.value(1) != "B");
            for (k, rxc) in ordered.iter().enumerate() {
                out.push(Prescription {
                    id: format!("{id_prefix}{}-{}", g + 1, k + 1),
                    drug: text_of(rxc, 2),
                    dose: rxc.value(3),
                    unit: unit_text(rxc, 4),
                    codes: codes_of(rxc, 2),
                    ..base.clone()
                });
            }
        } else {
            let mut codes = codes_of(rxe, 2);
            codes.append(&mut yj);
            out.push(Prescription {
                id: format!("{id_prefix}{}", g + 1),
                drug: text_of(rxe, 2),
                dose: rxe.value(3),
                unit: unit_text(rxe, 5),
                codes,
                ..base
            });
        }
    }
    out.retain(|p| !p.drug.is_empty());
    out
}

fn unit_text(seg: &Segment, n: usize) -> String {
    let text = seg.component(n, 2);
    if text.is_empty() {
        seg.component(n, 1)
    } else {
        text
    }
}

/// TQ1-3's text: `code&text&JAMISDP01` (sub-components), else `code^text`, else TQ1-11.
fn frequency_text(tq1: &Segment) -> String {
    let sub = tq1.subcomponent(3, 1, 2);
    if !sub.is_empty() {
        return sub;
    }
    let text = tq1.component(3, 2);
    if !text.is_empty() {
        return text;
    }
    let free = tq1.value(11);
    if !free.is_empty() {
        return free;
    }
    tq1.component(3, 1)
}

/// RXR-1's text, else the HL7 0162 code in Japanese.
fn route_text(rxr: &Segment) -> String {
    let text = rxr.component(1, 2);
    if !text.is_empty() {
        return text;
    }
    let code = rxr.component(1, 1);
    match code.as_str() {
        "PO" => "内服".into(),
        "IV" => "静注".into(),
        "IM" => "筋注".into(),
        "SC" => "皮下注".into(),
        "AP" | "TP" => "外用".into(),
        "IH" => "吸入".into(),
        "PR" => "直腸内".into(),
        _ => code,
    }
}

/// Lab results from OML-11 (OUL^R22): one per OBX; the time is OBX-14, else the OBR-7 /
/// SPM-17 collection time, else the file's 診療日.
pub fn labs(msg: &Message, id_prefix: &str, file_date: Option<NaiveDate>) -> Vec<LabResult> {
    let mut out = Vec::new();
    let mut collected: Option<NaiveDateTime> = None;
    let file_time = file_date.and_then(|d| d.and_hms_opt(0, 0, 0));
    for (i, seg) in msg.segments.iter().enumerate() {
        match seg.name.as_str() {
            "SPM" => collected = hl7::timestamp(&seg.value(17)).or(collected),
            "OBR" => collected = hl7::timestamp(&seg.value(7)).or(collected),
            "OBX" => {
                if matches!(seg.value(11).as_str(), "D" | "X") {
                    continue; // deleted / not obtained
                }
                let item = text_of(seg, 3);
                let value = lab_value(seg);
                let Some(datetime) = hl7::timestamp(&seg.value(14)).or(collected).or(file_time)
                else {
                    continue;
                };
                if item.is_empty() {
                    continue;
                }
                let flag = match seg.value(8).as_str() {
                    "H" | "HH" | ">" => Some(LabFlag::H),
                    "L" | "LL" | "<" => Some(LabFlag::L),
                    _ => None,
                };
                out.push(LabResult {
                    id: format!("{id_prefix}{}", i + 1),
                    datetime,
                    item,
                    value,
                    unit: unit_text(seg, 6),
                    reference_range: seg.value(7),
                    flag,
                    codes: codes_of(seg, 3),
                });
            }
            _ => {}
        }
    }
    out
}

/// OBX-5 by its type: SN `<^0.5` → `<0.5`; CWE/CE → the text; anything else as written.
fn lab_value(obx: &Segment) -> String {
    match obx.value(2).as_str() {
        "SN" => (1..=4).map(|c| obx.component(5, c)).collect::<String>(),
        "CWE" | "CE" => text_of(obx, 5),
        _ => {
            // ST/TX/NM may legitimately contain `^` that was escaped; repetitions join.
            let d = obx.delims();
            obx.repetitions(5)
                .iter()
                .map(|rep| {
                    let parts: Vec<String> = (1..=rep.split(d.component).count())
                        .map(|c| component_of(rep, c, d))
                        .filter(|p| !p.is_empty())
                        .collect();
                    parts.join(" ")
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

/// Allergies from ADT-61's IAM segments (action `D` = deleted is skipped) and ADT-00's AL1.
pub fn allergies(msg: &Message, id_prefix: &str) -> Vec<Allergy> {
    let mut out = Vec::new();
    for (i, iam) in msg.all("IAM").enumerate() {
        if iam.component(6, 1) == "D" {
            continue;
        }
        out.push(Allergy {
            id: format!("{id_prefix}{}", i + 1),
            substance: text_of(iam, 3),
            reaction: iam
                .repetitions(5)
                .iter()
                .map(|r| component_of(r, 1, iam.delims()))
                .collect::<Vec<_>>()
                .join("、"),
            severity: severity(iam, 4),
            codes: codes_of(iam, 3),
        });
    }
    for (i, al1) in msg.all("AL1").enumerate() {
        out.push(Allergy {
            id: format!("{id_prefix}al1-{}", i + 1),
            substance: text_of(al1, 3),
            reaction: al1.value(5),
            severity: severity(al1, 4),
            codes: codes_of(al1, 3),
        });
    }
    out.retain(|a| !a.substance.is_empty());
    out
}

fn severity(seg: &Segment, n: usize) -> String {
    match seg.component(n, 1).as_str() {
        "MI" => "軽度".into(),
        "MO" => "中等度".into(),
        "SV" => "重度".into(),
        _ => text_of(seg, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ssmix2::hl7::parse;

    #[test]
    fn reference_sheet_samples_map_field_by_field() {
        let adt = parse("MSH|^~\\&|HIS123|SEND|GW|RCV|20111220224447.3399||ADT^A08^ADT_A01|1|P|2.5\rPID|||9999013^^^^PI||患者^太郎^^^^^L^I~カンジャ^タロウ^^^^^L^P||19480405|M|||^^^^422-8033^JPN^H^静岡県静岡市登呂１−３−５\rAL1|1|DA^薬剤アレルギー^HL70127|1^ペニシリン^99XYZ").unwrap();
        let p = patient(adt.segment("PID").unwrap(), "9999013");
        assert_eq!(p.name, "患者 太郎");
        assert_eq!(p.kana, "カンジャ タロウ");
        assert_eq!(p.sex, Sex::Male);
        assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1948, 4, 5));
        let a = allergies(&adt, "a");
        assert_eq!(a[0].substance, "ペニシリン");

        let ppr = parse("MSH|^~\\&|x\rPRB|AD|20110915|20054174^胃炎^MDCDX2|123456789012345|||20110831||20110915|K297^^I10^O^外来時^JHSD0004||||N^回復せず^HL70241|20110915|20110831|胃炎|1^主診断^JHSD0007\rZPR||20054174^胃炎^MDCDX2|||TSQF^胃炎^MDCDX2").unwrap();
        let d = &diagnoses(&ppr, "dx-")[0];
        assert_eq!(d.name, "胃炎");
        assert_eq!(d.icd10.as_deref(), Some("K29.7"));
        assert!(d.main);
        // A resolution date (PRB-9) marks it resolved even though the outcome is N.
        assert_eq!(d.status, DiagnosisStatus::Resolved);
        assert_eq!(d.outcome, "回復せず");
        assert_eq!(d.start, NaiveDate::from_ymd_opt(2011, 8, 31));
        assert!(d
            .codes
            .iter()
            .any(|c| c.system == "MDCDX2" && c.code == "20054174"));

        let rde = parse("MSH|^~\\&|x|||||RDE^O11^RDE_O11\rORC|NW|000000011000185||1|||||20110701103045\rRXE||108665201^ダーゼン錠（５mg)^HOT9|1||TAB^錠^MR9P|||||15|TAB^錠^MR9P||||2011070112345||||3^TAB&錠&MR9P||OHP^外来処方^MR9P~OHI^院内処方^MR9P\rTQ1|1||1013044400000000&内服・経口・１日３回朝昼夕食後&JAMISDP01|||5^d|2011070100\rRXR|PO^口^HL70162").unwrap();
        let rx = &prescriptions(&rde, "rx-", false)[0];
        assert_eq!(rx.drug, "ダーゼン錠（５mg)");
        assert_eq!((rx.dose.as_str(), rx.unit.as_str()), ("1", "錠"));
        assert_eq!(rx.route, "口");
        assert_eq!(rx.frequency, "内服・経口・１日３回朝昼夕食後");
        assert_eq!(rx.days, Some(5));
        assert_eq!(rx.start, NaiveDate::from_ymd_opt(2011, 7, 1));
        assert!(!rx.discharge);
        assert_eq!(rx.codes[0].system, "HOT9");

        let oul = parse("MSH|^~\\&|x\rSPM|1|000000001219001||023^血清^JC10|||||||||||||201112191500\rOBR|1|000000011000354|000000001219001|E001^血液学的検査^99O03|||20111219\rOBX|2|NM|3A010000002327101^総蛋白^JC10||7.2|g/dl^g/dl^99XYZ|6.70-8.3|H|||F|||201112191500\rOBX|3|SN|5C070000002301^CRP^JC10||<^0.05|mg/dL|0-0.3||||F").unwrap();
        let labs = labs(&oul, "l-", None);
        assert_eq!(labs[0].item, "総蛋白");
        assert_eq!(labs[0].value, "7.2");
        assert_eq!(labs[0].unit, "g/dl");
        assert_eq!(labs[0].reference_range, "6.70-8.3");
        assert_eq!(labs[0].flag, Some(LabFlag::H));
        assert_eq!(labs[0].datetime.to_string(), "2011-12-19 15:00:00");
        assert_eq!(labs[0].codes[0].code, "3A010000002327101");
        assert_eq!(labs[1].value, "<0.05");
        assert_eq!(labs[1].datetime.to_string(), "2011-12-19 00:00:00");

        let iam = parse("MSH|^~\\&|x\rIAM|1|LA^花粉アレルギー^HL70127|5A1002216023023^スギ^JC10|MI^軽度^HL70128|目のかゆみ|A^追加^HL70323|||||199601\rIAM|2|DA^薬剤アレルギー^HL70127|106824501^アリナミン^HOT9|MO^中等度^HL70128|x|D^削除^HL70323").unwrap();
        let a = allergies(&iam, "a-");
        assert_eq!(a.len(), 1);
        assert_eq!(
            (
                a[0].substance.as_str(),
                a[0].reaction.as_str(),
                a[0].severity.as_str()
            ),
            ("スギ", "目のかゆみ", "軽度")
        );
    }

    #[test]
    fn injections_list_each_drug_base_first() {
        let rde = parse("MSH|^~\\&|x|||||RDE^O11^RDE_O11\rORC|NW|1\rRXE||00^一般^99I02|1\rTQ1|1||&1日1回&|||3^D&日&ISO+|20260114\rRXR|IV^^HL70162\rRXC|A|111^ビタメジン静注用^HOT9|1|V^瓶^MR9P\rRXC|B|620007329^ソリタ−Ｔ３号輸液５００ｍＬ^HOT9|1|HON^本^MR9P").unwrap();
        let rx = prescriptions(&rde, "inj-", true);
        assert_eq!(rx.len(), 2);
        assert_eq!(rx[0].drug, "ソリタ−Ｔ３号輸液５００ｍＬ");
        assert_eq!(rx[0].unit, "本");
        assert_eq!(rx[0].route, "静注");
        assert_eq!(rx[0].frequency, "1日1回");
        assert_eq!(rx[0].days, Some(3));
        assert_eq!(rx[1].drug, "ビタメジン静注用");
    }
}
