//! Plain text, laid out as the letter or summary a clinician pastes into the EHR.

use crate::chart::Chart;
use crate::store::{DocumentKind, SignedDocument};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, Utc};
use std::fmt::Write as _;

/// Japan Standard Time: the letter date is the clinician's date, not UTC's.
pub fn jst(at: &DateTime<Utc>) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(9 * 3600).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

pub fn japanese_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The document as text, ready to paste.
pub fn document_text(signed: &SignedDocument, chart: &Chart) -> String {
    let mut out = String::new();
    let title = if signed.title.trim().is_empty() {
        signed.doc.japanese_title()
    } else {
        signed.title.trim()
    };
    let signed_local = jst(&signed.signed_at);
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "作成日: {}", japanese_date(signed_local.date_naive()));
    out.push('\n');
    match signed.doc {
        DocumentKind::Referral => referral_header(&mut out, signed, chart),
        DocumentKind::Discharge => discharge_header(&mut out, signed, chart),
    }
    for section in &signed.sections {
        if section.key == crate::store::PREAMBLE_KEY && section.heading.trim().is_empty() {
            // Text the clinician wrote above the first heading: as written, no heading.
            if !section.text.trim().is_empty() {
                let _ = writeln!(out, "\n{}", section.text.trim_end());
            }
            continue;
        }
        let heading = if section.heading.trim().is_empty() {
            section.key.as_str()
        } else {
            section.heading.trim()
        };
        let _ = writeln!(out, "\n【{heading}】");
        let body = section.text.trim_end();
        if body.trim().is_empty() {
            out.push_str("特記事項なし\n");
        } else {
            out.push_str(body);
            out.push('\n');
        }
    }
    out.push('\n');
    let department = &chart.encounter.department;
    let _ = writeln!(
        out,
        "記載医師: {}{}",
        if department.is_empty() {
            String::new()
        } else {
            format!("{department} ")
        },
        signed.signer
    );
    let amends = signed
        .amends
        .as_ref()
        .map(|a| format!("、第{}版の修正", a.version))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "署名: {} JST（第{}版{amends}、SHA-256 {}）",
        signed_local.format("%Y-%m-%d %H:%M"),
        signed.version,
        &signed.content_sha256[..signed.content_sha256.len().min(16)]
    );
    out
}

fn patient_lines(out: &mut String, chart: &Chart, on: Option<NaiveDate>) {
    let p = &chart.patient;
    let kana = if p.kana.is_empty() {
        String::new()
    } else {
        format!("（{}）", p.kana)
    };
    let _ = writeln!(out, "患者氏名: {}{kana} 様　{}", p.name, p.sex.japanese());
    if let Some(birth) = p.birth_date {
        let age = on
            .and_then(|d| chart.age_on(d))
            .map(|a| format!("（{a}歳）"))
            .unwrap_or_default();
        let _ = writeln!(out, "生年月日: {}{age}", japanese_date(birth));
    }
    if !p.id.is_empty() {
        let _ = writeln!(out, "患者ID: {}", p.id);
    }
}

/// Header parts the document's own sections already state (the draft templates have
/// 宛先 / 患者情報 / 入院日・退院日 sections): the signed text wins, nothing is said twice.
fn has_section(signed: &SignedDocument, key: &str) -> bool {
    signed
        .sections
        .iter()
        .any(|s| s.key == key && !s.text.trim().is_empty())
}

fn referral_header(out: &mut String, signed: &SignedDocument, chart: &Chart) {
    let addressee = chart
        .referral
        .as_ref()
        .filter(|_| !has_section(signed, "addressee"));
    if let Some(to) = addressee {
        let place = [to.facility.as_str(), to.department.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if !place.is_empty() {
            let _ = writeln!(out, "紹介先: {place}");
        }
        let doctor = if to.doctor.is_empty() {
            "担当医"
        } else {
            to.doctor.as_str()
        };
        let _ = writeln!(out, "        {doctor} 先生 御侍史");
        out.push('\n');
    }
    let from = if chart.encounter.department.is_empty() {
        signed.signer.clone()
    } else {
        format!("{} {}", chart.encounter.department, signed.signer)
    };
    let _ = writeln!(out, "紹介元: {from}");
    out.push('\n');
    if !has_section(signed, "patient") {
        patient_lines(out, chart, Some(jst(&signed.signed_at).date_naive()));
    }
}

fn discharge_header(out: &mut String, signed: &SignedDocument, chart: &Chart) {
    let e = &chart.encounter;
    if !has_section(signed, "patient") {
        patient_lines(out, chart, e.admission_date);
    }
    let mut stay = Vec::new();
    if let Some(a) = e.admission_date {
        stay.push(format!("入院日: {}", japanese_date(a)));
    }
    if let Some(d) = e.discharge_date {
        stay.push(format!("退院日: {}", japanese_date(d)));
    }
    if let (Some(a), Some(d)) = (e.admission_date, e.discharge_date) {
        stay.push(format!("（在院{}日）", (d - a).num_days() + 1));
    }
    if !stay.is_empty() && !has_section(signed, "admission") {
        let _ = writeln!(out, "{}", stay.join("　"));
    }
    let mut care = Vec::new();
    if !e.department.is_empty() {
        care.push(format!("診療科: {}", e.department));
    }
    if !e.ward.is_empty() {
        care.push(format!("病棟: {}", e.ward));
    }
    if !e.attending.is_empty() {
        care.push(format!("主治医: {}", e.attending));
    }
    if !care.is_empty() {
        let _ = writeln!(out, "{}", care.join("　"));
    }
}
