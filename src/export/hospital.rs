//! `[hospital]` in the config: the issuing hospital, as the letter's 紹介元 and the JP-CLINS
//! Bundle's author / custodian Organization need it.
//!
//! ```toml
//! [hospital]
//! name = "かるて総合病院"
//! code = "1311234567"          # 医療機関コード: 都道府県2 + 点数表1 + 医療機関番号7
//! postal_code = "100-0001"     # optional
//! address = "東京都千代田区千代田1-1"
//! phone = "03-1234-5678"
//! [hospital.departments]       # 診療科 → SS-MIX2 診療科コード (optional)
//! "内科" = "01"
//! ```
//!
//! A malformed code is refused when the config loads; missing settings are reported once,
//! all together, when a document is exported (the letter and the Bundle need them).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The settings as written in the config (every key optional until export).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HospitalConfig {
    /// 医療機関名.
    pub name: Option<String>,
    /// 医療機関コード (保険医療機関番号), 10 half-width digits.
    pub code: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// 診療科名 → SS-MIX2 診療科コード (`http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment`).
    pub departments: BTreeMap<String, String>,
}

/// The settings an export uses, all present and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hospital {
    pub name: String,
    pub code: String,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: String,
    pub departments: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HospitalError {
    #[error("設定ファイルに [hospital] の {} がありません（紹介元の医療機関名・医療機関コード・住所・電話番号は文書に必要です）: 設定してから書き出してください", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("[hospital] code = \"{0}\" は医療機関コードではありません: {1}")]
    BadCode(String, &'static str),
    #[error("[hospital.departments] \"{0}\" = \"{1}\" は診療科コードではありません: 半角数字2桁で書いてください")]
    BadDepartmentCode(String, String),
}

/// Checks a 医療機関コード: 10 half-width digits, 都道府県番号 01–47, 点数表 1–3 (JP-CLINS
/// R1021: `[0-4][0-9][1-3][0-9]{7}`).
pub fn check_institution_code(code: &str) -> Result<(), &'static str> {
    if code.chars().count() != 10 {
        return Err(
            "半角数字10桁で書いてください（都道府県番号2桁 + 点数表番号1桁 + 医療機関番号7桁）",
        );
    }
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            "数字以外の文字があります（全角数字は使えません）: 半角数字10桁で書いてください",
        );
    }
    let prefecture: u32 = code[..2].parse().unwrap_or(0);
    if !(1..=47).contains(&prefecture) {
        return Err("先頭2桁の都道府県番号は 01〜47 です");
    }
    if !matches!(code.as_bytes()[2], b'1'..=b'3') {
        return Err("3桁目の点数表番号は 1（医科）〜3 です");
    }
    Ok(())
}

impl HospitalConfig {
    /// Format checks only (what can be wrong in what is written); run when the config loads.
    pub fn check_format(&self) -> Result<(), HospitalError> {
        if let Some(code) = self.code.as_deref() {
            let code = code.trim();
            check_institution_code(code)
                .map_err(|why| HospitalError::BadCode(code.to_string(), why))?;
        }
        for (name, code) in &self.departments {
            let code = code.trim();
            if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HospitalError::BadDepartmentCode(
                    name.clone(),
                    code.to_string(),
                ));
            }
        }
        Ok(())
    }

    /// Everything an export needs, or one error naming every missing key.
    pub fn resolve(&self) -> Result<Hospital, HospitalError> {
        self.check_format()?;
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (name, code, address, phone) = (
            given(&self.name),
            given(&self.code),
            given(&self.address),
            given(&self.phone),
        );
        let missing: Vec<&'static str> = [
            ("name", name.is_none()),
            ("code", code.is_none()),
            ("address", address.is_none()),
            ("phone", phone.is_none()),
        ]
        .into_iter()
        .filter(|(_, absent)| *absent)
        .map(|(key, _)| key)
        .collect();
        match (name, code, address, phone) {
            (Some(name), Some(code), Some(address), Some(phone)) => Ok(Hospital {
                name,
                code,
                postal_code: given(&self.postal_code),
                address,
                phone,
                departments: self
                    .departments
                    .iter()
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect(),
            }),
            _ => Err(HospitalError::Missing(missing)),
        }
    }
}

impl Hospital {
    /// The SS-MIX2 code of a department, when the config lists it.
    pub fn department_code(&self, department: &str) -> Option<&str> {
        self.departments
            .get(department.trim())
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> HospitalConfig {
        HospitalConfig {
            name: Some("かるて総合病院".into()),
            code: Some("1311234567".into()),
            postal_code: None,
            address: Some("東京都千代田区千代田1-1".into()),
            phone: Some("03-1234-5678".into()),
            departments: BTreeMap::from([("内科".to_string(), "01".to_string())]),
        }
    }

    #[test]
    fn institution_codes_are_checked() {
        assert!(check_institution_code("1311234567").is_ok());
        assert!(check_institution_code("131123456").is_err());
        assert!(check_institution_code("13112345678").is_err());
        assert!(check_institution_code("１３１１２３４５６７")
            .unwrap_err()
            .contains("全角"));
        assert!(check_institution_code("4811234567")
            .unwrap_err()
            .contains("都道府県"));
        assert!(check_institution_code("1351234567")
            .unwrap_err()
            .contains("点数表"));
    }

    #[test]
    fn missing_settings_are_named_together() {
        let err = HospitalConfig::default().resolve().unwrap_err();
        assert_eq!(
            err,
            HospitalError::Missing(vec!["name", "code", "address", "phone"])
        );
        let text = err.to_string();
        assert!(text.contains("[hospital]") && text.contains("name, code, address, phone"));
        let mut partial = full();
        partial.phone = Some("  ".into());
        assert_eq!(
            partial.resolve().unwrap_err(),
            HospitalError::Missing(vec!["phone"])
        );
        let hospital = full().resolve().unwrap();
        assert_eq!(hospital.department_code("内科"), Some("01"));
        assert_eq!(hospital.department_code("外科"), None);
    }

    #[test]
    fn bad_codes_are_refused_with_the_value() {
        let mut bad = full();
        bad.code = Some("131123456".into());
        let err = bad.resolve().unwrap_err().to_string();
        assert!(err.contains("131123456") && err.contains("10桁"), "{err}");
        let mut dept = full();
        dept.departments.insert("外科".into(), "A1".into());
        assert!(dept
            .check_format()
            .unwrap_err()
            .to_string()
            .contains("外科"));
    }
}
