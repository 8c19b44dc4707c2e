//! Labs: the latest result of every item, and every abnormal result (flagged H/L, or
//! outside its reference range).

use std::collections::HashMap;

use super::LabItem;
use crate::chart::{Chart, LabFlag, LabResult, Source};
use crate::nlp::normalize::normalize_str;

/// Latest result per item, and every abnormal result.
pub(super) fn labs(chart: &Chart) -> (Vec<LabItem>, Vec<LabItem>) {
    let mut sorted: Vec<&LabResult> = chart.labs.iter().collect();
    sorted.sort_by_key(|lab| lab.datetime);
    let item = |lab: &LabResult| LabItem {
        item: lab.item.clone(),
        value: lab.value.clone(),
        unit: lab.unit.clone(),
        reference_range: lab.reference_range.clone(),
        flag: lab
            .flag
            .or_else(|| flag_from_range(&lab.value, &lab.reference_range)),
        datetime: Some(lab.datetime),
        sources: vec![Source::Lab { id: lab.id.clone() }],
    };
    let mut latest: Vec<LabItem> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut abnormal = Vec::new();
    for lab in sorted {
        let current = item(lab);
        if current.flag.is_some() {
            abnormal.push(current.clone());
        }
        let key = normalize_str(&lab.item).to_ascii_lowercase();
        match index.get(&key) {
            Some(&i) => latest[i] = current,
            None => {
                index.insert(key, latest.len());
                latest.push(current);
            }
        }
    }
    (latest, abnormal)
}

/// H or L when a numeric value lies outside a "low-high", "≤x" or "≥x" reference range.
fn flag_from_range(value: &str, range: &str) -> Option<LabFlag> {
    let number = |s: &str| normalize_str(s.trim()).replace(',', "").parse::<f64>().ok();
    let value = number(value)?;
    let range = normalize_str(range);
    if let Some(high) = range.strip_prefix('≤').or_else(|| range.strip_prefix("<=")) {
        return (value > number(high)?).then_some(LabFlag::H);
    }
    if let Some(low) = range.strip_prefix('≥').or_else(|| range.strip_prefix(">=")) {
        return (value < number(low)?).then_some(LabFlag::L);
    }
    let (low, high) = range.split_once(['-', '~'])?;
    let (low, high) = (number(low)?, number(high)?);
    if value < low {
        Some(LabFlag::L)
    } else if value > high {
        Some(LabFlag::H)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ranges_flag_values() {
        assert_eq!(flag_from_range("18.6", "≤0.14"), Some(LabFlag::H));
        assert_eq!(flag_from_range("43.1", "≥60"), Some(LabFlag::L));
        assert_eq!(flag_from_range("134", "138-145"), Some(LabFlag::L));
        assert_eq!(flag_from_range("12.4", "11.6-14.8"), None);
        assert_eq!(flag_from_range("陽性", "陰性"), None);
    }
}
