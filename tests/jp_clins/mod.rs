//! A JP-CLINS conformance checker driven by the published StructureDefinitions.
//!
//! The packages (`jp-clins.r4-1.5.2-snap.tgz`, `jp-core.r4-1.1.2-url.tgz`) are read from
//! `../shared/reference/jp-clins/` beside the repository (CC BY-ND: never copied into it) and
//! unpacked with the system `tar` into a temporary directory.
//!
//! What it checks, for the Bundle and every entry whose `meta.profile` names a packaged
//! profile (generic, from each snapshot):
//! - cardinalities (min / max) of every element and slice, relative to its parent;
//! - `fixed[x]` (equality) and `pattern[x]` (subset) values;
//! - slices by their discriminators (`value` / `pattern` on a path, `profile` on
//!   `Bundle.entry.resource`), so required slices (required sections, the Bundle's patient /
//!   composition entries, identifier slices) are enforced;
//! - section codes: a section code no slice of the Composition profile knows is an error.
//!
//! And the rules the facts sheet (`../shared/reference/jp-clins.md`) lists, where it stands
//! over the 1.5.2 package: the 2025 section codes (360/370/550/640 instead of 362/372/552/642)
//! and author counts (eReferral 2..3, eDischargeSummary 2..2); the invariants, each
//! implemented here (no FHIRPath engine: no well-kept Rust crate was found):
//! `bdl-11` Composition first, `bdl-7` unique fullUrls, every reference resolves inside the
//! Bundle, fullUrls are `urn:uuid:`, R2152 the Bundle identifier
//! `^[0-4][0-9][1-3][0-9]{7}\^20[2-3][0-9]\^[A-Za-z0-9\-]{1,36}$`, the CDA-or-structured xor
//! (200 xor 300), `validEntryProfile-MedicationRequest`, R1010 the patient-id system,
//! R1012 exactly one 被保険者 identifier, R1013 its value format, R1113 no full-width space in
//! patient names, R1021 institution numbers, R3011 a YJ / 規格別薬剤成分 coding, section
//! `text.status` = additional, and `cmp-2` (emptyReason only on an empty section).

#![allow(dead_code)]

use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One finding: the element (profile element id, or the invariant key) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Which resource (fullUrl, or `Bundle`).
    pub at: String,
    pub element: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]: {}", self.at, self.element, self.message)
    }
}

/// The shared reference directory, or a clear panic: `../shared/reference/jp-clins` beside the
/// repository (a worktree further down finds the same `shared/` in an ancestor).
pub fn reference_dir() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wanted = Path::new("shared/reference/jp-clins");
    let found = repo
        .ancestors()
        .skip(1)
        .map(|a| a.join(wanted))
        .find(|d| d.join("jp-clins.r4-1.5.2-snap.tgz").is_file());
    match found {
        Some(dir) => dir,
        None => panic!(
            "the JP-CLINS conformance packages are missing: expected {}/jp-clins.r4-1.5.2-snap.tgz \
             (and jp-core.r4-1.1.2-url.tgz, the example Bundles). They are not part of the repository \
             (CC BY-ND); CI and the developers' machines have shared/ beside the clone — put a copy \
             of shared/reference/jp-clins there.",
            repo.join("..").join(wanted).display()
        ),
    }
}

/// The StructureDefinitions of the packages, by canonical URL (facts-sheet rules applied).
pub struct Packages {
    pub profiles: BTreeMap<String, Value>,
    _unpacked: tempfile::TempDir,
}

impl Packages {
    pub fn load() -> Self {
        let dir = reference_dir();
        let unpacked = tempfile::tempdir().expect("temp dir");
        let mut profiles = BTreeMap::new();
        for (archive, sub) in [
            ("jp-core.r4-1.1.2-url.tgz", "core"),
            ("jp-clins.r4-1.5.2-snap.tgz", "clins"),
        ] {
            let into = unpacked.path().join(sub);
            std::fs::create_dir_all(&into).unwrap();
            let status = Command::new("tar")
                .arg("xzf")
                .arg(dir.join(archive))
                .arg("-C")
                .arg(&into)
                .status()
                .unwrap_or_else(|e| panic!("cannot run tar to unpack {archive}: {e}"));
            assert!(status.success(), "tar could not unpack {archive}");
            for entry in std::fs::read_dir(into.join("package")).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.starts_with("StructureDefinition-") || !name.ends_with(".json") {
                    continue;
                }
                let sd: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                if let Some(url) = sd["url"].as_str() {
                    profiles.insert(url.to_string(), sd);
                }
            }
        }
        for sd in profiles.values_mut() {
            apply_facts_sheet(sd);
        }
        Packages {
            profiles,
            _unpacked: unpacked,
        }
    }

    fn profile(&self, canonical: &str) -> Option<&Value> {
        self.profiles.get(strip_version(canonical))
    }
}

pub fn strip_version(canonical: &str) -> &str {
    canonical.split('|').next().unwrap_or(canonical)
}

/// Where the facts sheet stands over the 1.5.2 package.
fn apply_facts_sheet(sd: &mut Value) {
    let url = sd["url"].as_str().unwrap_or_default().to_string();
    let Some(elements) = sd["snapshot"]["element"].as_array_mut() else {
        return;
    };
    let renamed = [
        ("362", "360"),
        ("372", "370"),
        ("552", "550"),
        ("642", "640"),
    ];
    for e in elements.iter_mut() {
        let id = e["id"].as_str().unwrap_or_default().to_string();
        if id.starts_with("Composition.section") && id.ends_with("code.coding.code") {
            if let Some(code) = e["fixedCode"].as_str() {
                if let Some((_, new)) = renamed.iter().find(|(old, _)| *old == code) {
                    e["fixedCode"] = Value::String((*new).into());
                }
            }
        }
        if id == "Composition.author" {
            if url.ends_with("JP_Composition_eReferral") {
                e["min"] = 2.into();
                e["max"] = "3".into();
            } else if url.ends_with("JP_Composition_eDischargeSummary") {
                e["min"] = 2.into();
                e["max"] = "2".into();
            }
        }
    }
}

// ------------------------------------------------------------------ paths in JSON

/// The children of `node` named by one path segment (`name`, or `name[x]` for a choice),
/// arrays flattened.
fn children<'a>(node: &'a Value, segment: &str) -> Vec<&'a Value> {
    let Some(map) = node.as_object() else {
        return Vec::new();
    };
    let values: Vec<&Value> = match segment.strip_suffix("[x]") {
        Some(prefix) => map
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(prefix)
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(|c| c.is_ascii_uppercase())
            })
            .map(|(_, v)| v)
            .collect(),
        None => map.get(segment).into_iter().collect(),
    };
    values
        .into_iter()
        .flat_map(|v| match v {
            Value::Array(items) => items.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
        .collect()
}

/// Values at a dotted path below `node` (`$this` is the node).
fn at_path<'a>(node: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![node];
    if path == "$this" {
        return current;
    }
    for segment in path.split('.') {
        current = current
            .into_iter()
            .flat_map(|n| children(n, segment))
            .collect();
    }
    current
}

/// `pattern` is contained in `value` (FHIR pattern semantics: arrays match element-wise).
fn matches_pattern(value: &Value, pattern: &Value) -> bool {
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| v.get(k).is_some_and(|vv| matches_pattern(vv, pv))),
        (Value::Array(v), Value::Array(p)) => p
            .iter()
            .all(|pv| v.iter().any(|vv| matches_pattern(vv, pv))),
        (v, Value::Array(p)) if p.len() == 1 => matches_pattern(v, &p[0]),
        (v, p) => v == p,
    }
}

fn fixed_or_pattern(e: &Value) -> Option<(bool, &Value)> {
    e.as_object()?.iter().find_map(|(k, v)| {
        if k.starts_with("fixed") {
            Some((true, v))
        } else if k.starts_with("pattern") {
            Some((false, v))
        } else {
            None
        }
    })
}

// ------------------------------------------------------------------ the generic engine

struct Profile<'a> {
    elements: Vec<&'a Value>,
    by_id: BTreeMap<&'a str, &'a Value>,
}

impl<'a> Profile<'a> {
    fn new(sd: &'a Value) -> Self {
        let elements: Vec<&Value> = sd["snapshot"]["element"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let by_id = elements
            .iter()
            .filter_map(|e| e["id"].as_str().map(|id| (id, *e)))
            .collect();
        Profile { elements, by_id }
    }

    /// Does `instance` belong to slice `slice_id` (e.g. `Composition.section:problemSection`)?
    /// `None`: the discriminators cannot be evaluated here.
    fn in_slice(&self, slice_id: &str, instance: &Value) -> Option<bool> {
        let base_id = &slice_id[..slice_id.rfind(':')?];
        let base = self.by_id.get(base_id)?;
        let discriminators = base["slicing"]["discriminator"].as_array()?;
        let mut decided = false;
        for d in discriminators {
            let path = d["path"].as_str()?;
            match d["type"].as_str()? {
                "value" | "pattern" => {
                    let element_id = if path == "$this" {
                        slice_id.to_string()
                    } else {
                        format!("{slice_id}.{path}")
                    };
                    let Some((_, expected)) = self
                        .by_id
                        .get(element_id.as_str())
                        .and_then(|e| fixed_or_pattern(e))
                    else {
                        continue;
                    };
                    decided = true;
                    if !at_path(instance, path)
                        .iter()
                        .any(|v| matches_pattern(v, expected))
                    {
                        return Some(false);
                    }
                }
                "profile" => {
                    let element_id = format!("{slice_id}.{path}");
                    let wanted: BTreeSet<&str> = self
                        .by_id
                        .get(element_id.as_str())?
                        .get("type")?
                        .as_array()?
                        .iter()
                        .flat_map(|t| t["profile"].as_array().into_iter().flatten())
                        .filter_map(Value::as_str)
                        .collect();
                    if wanted.is_empty() {
                        continue;
                    }
                    decided = true;
                    let declared: Vec<&str> = at_path(instance, path)
                        .iter()
                        .flat_map(|r| at_path(r, "meta.profile"))
                        .filter_map(Value::as_str)
                        .map(strip_version)
                        .collect();
                    if !declared.iter().any(|p| wanted.contains(p)) {
                        return Some(false);
                    }
                }
                _ => return None,
            }
        }
        decided.then_some(true)
    }

    /// Checks `resource` against every element of the snapshot.
    fn check(&self, resource: &Value, at: &str, findings: &mut Vec<Finding>) {
        let mut instances: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        let Some(root) = self.elements.first().and_then(|e| e["id"].as_str()) else {
            return;
        };
        instances.insert(root.to_string(), vec![resource]);
        for e in &self.elements[1..] {
            let Some(id) = e["id"].as_str() else { continue };
            let Some(dot) = id.rfind('.') else { continue };
            let (parent_id, last) = (&id[..dot], &id[dot + 1..]);
            // Nothing to check below an element that is absent.
            let parents = match instances.get(parent_id) {
                Some(p) if !p.is_empty() => p.clone(),
                _ => continue,
            };
            let (name, slice) = match last.split_once(':') {
                Some((n, s)) => (n, Some(s)),
                None => (last, None),
            };
            let mut found = Vec::new();
            let mut undecidable = false;
            for parent in &parents {
                let mut mine = Vec::new();
                for child in children(parent, name) {
                    match slice {
                        None => mine.push(child),
                        Some(_) => match self.in_slice(id, child) {
                            Some(true) => mine.push(child),
                            Some(false) => {}
                            None => undecidable = true,
                        },
                    }
                }
                if undecidable {
                    break;
                }
                let min = e["min"].as_u64().unwrap_or(0) as usize;
                let max = e["max"].as_str().unwrap_or("*");
                if mine.len() < min {
                    findings.push(Finding {
                        at: at.into(),
                        element: id.into(),
                        message: if id.starts_with("Composition.section") && slice.is_some() {
                            format!(
                                "missing required section {} (min {min}, found {})",
                                self.section_code(id).unwrap_or_default(),
                                mine.len()
                            )
                        } else {
                            format!("min {min}, found {}", mine.len())
                        },
                    });
                }
                if let Ok(max) = max.parse::<usize>() {
                    if mine.len() > max {
                        findings.push(Finding {
                            at: at.into(),
                            element: id.into(),
                            message: format!("max {max}, found {}", mine.len()),
                        });
                    }
                }
                found.extend(mine);
            }
            if undecidable {
                continue;
            }
            if let Some((fixed, expected)) = fixed_or_pattern(e) {
                for value in &found {
                    let ok = if fixed {
                        *value == expected
                    } else {
                        matches_pattern(value, expected)
                    };
                    if !ok {
                        findings.push(Finding {
                            at: at.into(),
                            element: id.into(),
                            message: format!(
                                "{} value {expected} expected, found {value}",
                                if fixed { "fixed" } else { "pattern" }
                            ),
                        });
                    }
                }
            }
            instances.insert(id.to_string(), found);
        }
    }

    fn section_code(&self, slice_id: &str) -> Option<String> {
        self.by_id
            .get(format!("{slice_id}.code.coding.code").as_str())
            .and_then(|e| e["fixedCode"].as_str())
            .map(str::to_string)
    }

    /// Every section code a slice of this Composition profile fixes (the value set).
    fn section_codes(&self) -> BTreeSet<String> {
        self.elements
            .iter()
            .filter_map(|e| {
                let id = e["id"].as_str()?;
                (id.starts_with("Composition.section") && id.ends_with("code.coding.code"))
                    .then(|| e["fixedCode"].as_str().map(str::to_string))
                    .flatten()
            })
            .collect()
    }
}

// ------------------------------------------------------------------ the Bundle

fn finding(findings: &mut Vec<Finding>, at: &str, element: &str, message: String) {
    findings.push(Finding {
        at: at.into(),
        element: element.into(),
        message,
    });
}

/// Every `reference` string anywhere below `node`.
fn references<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "reference" {
                    if let Some(s) = v.as_str() {
                        out.push(s);
                    }
                } else {
                    references(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Checks a JP-CLINS document Bundle; an empty list means it conforms.
pub fn check_bundle(bundle: &Value, packages: &Packages) -> Vec<Finding> {
    let mut findings = Vec::new();
    let entries: Vec<&Value> = bundle["entry"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();

    // The Bundle's own profile.
    let bundle_profiles: Vec<&str> = at_path(bundle, "meta.profile")
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    let bundle_sd = bundle_profiles.iter().find_map(|p| packages.profile(p));
    match bundle_sd {
        Some(sd) => Profile::new(sd).check(bundle, "Bundle", &mut findings),
        None => finding(
            &mut findings,
            "Bundle",
            "Bundle.meta.profile",
            format!("no JP-CLINS Bundle profile declared (found {bundle_profiles:?})"),
        ),
    }

    // bdl-11: the Composition first.
    if entries.first().map(|e| &e["resource"]["resourceType"]) != Some(&Value::from("Composition"))
    {
        finding(
            &mut findings,
            "Bundle",
            "bdl-11",
            "Composition is not the first entry".into(),
        );
    }
    // fullUrls: urn:uuid, unique (bdl-7); references resolve.
    let uuid =
        Regex::new(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
            .unwrap();
    let mut full_urls = BTreeSet::new();
    for e in &entries {
        let url = e["fullUrl"].as_str().unwrap_or_default();
        if !uuid.is_match(url) {
            finding(
                &mut findings,
                url,
                "Bundle.entry.fullUrl",
                format!("fullUrl {url:?} is not urn:uuid:<uuid>"),
            );
        }
        if !full_urls.insert(url) {
            finding(
                &mut findings,
                url,
                "bdl-7",
                format!("fullUrl {url} is not unique"),
            );
        }
    }
    for e in &entries {
        let mut refs = Vec::new();
        references(&e["resource"], &mut refs);
        let contained: BTreeSet<String> = at_path(&e["resource"], "contained.id")
            .into_iter()
            .filter_map(Value::as_str)
            .map(|id| format!("#{id}"))
            .collect();
        for r in refs {
            if !full_urls.contains(r) && !contained.contains(r) {
                finding(
                    &mut findings,
                    e["fullUrl"].as_str().unwrap_or_default(),
                    "reference",
                    format!("unresolved reference {r}: no entry has this fullUrl"),
                );
            }
        }
    }
    // R2152: the Bundle identifier.
    let id_rule =
        Regex::new(r"^[0-4][0-9][1-3][0-9]{7}\^20[2-3][0-9]\^[A-Za-z0-9\-]{1,36}$").unwrap();
    let id_value = bundle["identifier"]["value"].as_str().unwrap_or_default();
    if !id_rule.is_match(id_value) {
        finding(
            &mut findings,
            "Bundle",
            "valid-value-bundleIdenfifier",
            format!("Bundle identifier {id_value:?} is not <医療機関コード10桁>^<year>^<local id>"),
        );
    }
    // validEntryProfile-MedicationRequest.
    for e in &entries {
        let r = &e["resource"];
        if r["resourceType"] == "MedicationRequest"
            && !at_path(r, "meta.profile")
                .iter()
                .filter_map(|p| p.as_str())
                .any(|p| {
                    strip_version(p)
                        == "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_MedicationRequest_eCS"
                })
        {
            finding(
                &mut findings,
                e["fullUrl"].as_str().unwrap_or_default(),
                "validEntryProfile-MedicationRequest",
                "MedicationRequest without the JP_MedicationRequest_eCS profile".into(),
            );
        }
    }

    // Every entry against its declared profile, plus the resource rules.
    let mut profiles: BTreeMap<&str, Profile> = BTreeMap::new();
    for e in &entries {
        let at = e["fullUrl"].as_str().unwrap_or_default();
        let r = &e["resource"];
        for p in at_path(r, "meta.profile")
            .into_iter()
            .filter_map(Value::as_str)
        {
            match packages.profile(p) {
                Some(sd) => {
                    let profile = profiles
                        .entry(strip_version(p))
                        .or_insert_with(|| Profile::new(sd));
                    profile.check(r, at, &mut findings);
                    if r["resourceType"] == "Composition" {
                        check_sections(r, profile, at, &mut findings);
                    }
                }
                None => finding(
                    &mut findings,
                    at,
                    "meta.profile",
                    format!("unknown profile {p}"),
                ),
            }
        }
        check_resource_rules(r, at, &mut findings);
    }
    findings
}

fn check_sections(composition: &Value, profile: &Profile, at: &str, findings: &mut Vec<Finding>) {
    let known = profile.section_codes();
    let mut all = Vec::new();
    fn walk<'a>(sections: &'a Value, out: &mut Vec<&'a Value>) {
        for s in sections.as_array().into_iter().flatten() {
            out.push(s);
            walk(&s["section"], out);
        }
    }
    walk(&composition["section"], &mut all);
    let top: Vec<&str> = composition["section"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| at_path(s, "code.coding.code"))
        .filter_map(Value::as_str)
        .collect();
    if top.contains(&"200") == top.contains(&"300") {
        finding(
            findings,
            at,
            "checkExist-CDASection-or-CompositionSection",
            "exactly one of section 200 (CDA) and 300 (structured) must be present".into(),
        );
    }
    for s in all {
        for code in at_path(s, "code.coding.code")
            .into_iter()
            .filter_map(Value::as_str)
        {
            if !known.contains(code) {
                finding(
                    findings,
                    at,
                    "Composition.section.code",
                    format!("section code {code} is not a section code of this document's profile"),
                );
            }
        }
        if s.get("text").is_some() && s["text"]["status"] != "additional" {
            finding(
                findings,
                at,
                "Composition.section.text.status",
                "section text.status must be additional".into(),
            );
        }
        let has_entries = s["entry"].as_array().is_some_and(|a| !a.is_empty());
        let has_subsections = s["section"].as_array().is_some_and(|a| !a.is_empty());
        if s.get("emptyReason").is_some() && (has_entries || has_subsections) {
            finding(
                findings,
                at,
                "cmp-2",
                "emptyReason on a section that has entries".into(),
            );
        }
        if s.get("text").is_none() && !has_entries && !has_subsections {
            finding(
                findings,
                at,
                "cmp-1",
                "section without text, entries or sub-sections".into(),
            );
        }
    }
}

fn check_resource_rules(r: &Value, at: &str, findings: &mut Vec<Finding>) {
    let institution = Regex::new(r"^[0-4][0-9][1-3][0-9]{7}$").unwrap();
    match r["resourceType"].as_str() {
        Some("Patient") => {
            let local =
                Regex::new(r"^urn:oid:1\.2\.392\.100495\.20\.3\.51\.1[0-4][0-9][1-3][0-9]{7}$")
                    .unwrap();
            let ids = at_path(r, "identifier");
            let insurance: Vec<&&Value> = ids
                .iter()
                .filter(|i| {
                    i["system"] == "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
                })
                .collect();
            for i in &ids {
                let system = i["system"].as_str().unwrap_or_default();
                if system.starts_with("urn:oid:1.2.392.100495.20.3.51") && !local.is_match(system) {
                    finding(findings, at, "Patient.identifier", format!("R1010: patient-id system {system} is not urn:oid:1.2.392.100495.20.3.51.1<医療機関コード>"));
                }
            }
            if insurance.len() != 1 {
                finding(
                    findings,
                    at,
                    "Patient.identifier",
                    format!(
                        "R1012: exactly one 被保険者 identifier required, found {}",
                        insurance.len()
                    ),
                );
            }
            let member = Regex::new(r"^[0-9]{8}:[^:]*:[^:]+:([0-9]{2})?$").unwrap();
            for i in insurance {
                let v = i["value"].as_str().unwrap_or_default();
                if !member.is_match(v) {
                    finding(
                        findings,
                        at,
                        "Patient.identifier",
                        format!(
                            "R1013: 被保険者 identifier {v:?} is not 保険者番号:記号:番号:枝番"
                        ),
                    );
                }
            }
            for name in at_path(r, "name") {
                for part in at_path(name, "text")
                    .into_iter()
                    .chain(at_path(name, "family"))
                    .chain(at_path(name, "given"))
                {
                    if part.as_str().is_some_and(|s| s.contains('\u{3000}')) {
                        finding(
                            findings,
                            at,
                            "Patient.name",
                            "R1113: a full-width space inside a name".into(),
                        );
                    }
                }
            }
        }
        Some("Organization") => {
            for i in at_path(r, "identifier") {
                if i["system"]
                    == "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"
                    && !institution.is_match(i["value"].as_str().unwrap_or_default())
                {
                    finding(
                        findings,
                        at,
                        "Organization.identifier",
                        format!(
                            "R1021: institution number {} is not [0-4][0-9][1-3][0-9]{{7}}",
                            i["value"]
                        ),
                    );
                }
            }
        }
        Some("MedicationRequest") => {
            // needs-anyOfStandardCode-medication (R3011): exactly one YJ, uncoded or 一般名 coding.
            let count = |system: &str| {
                at_path(r, "medicationCodeableConcept.coding")
                    .iter()
                    .filter(|c| c["system"] == system)
                    .count()
            };
            if count("http://capstandard.jp/iyaku.info/CodeSystem/YJ-code") != 1
                && count("http://jpfhir.jp/fhir/eCS/CodeSystem/MedicationCodeNocoded_CS") != 1
                && count("http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationGeneralOrderCode")
                    != 1
            {
                finding(
                    findings,
                    at,
                    "MedicationRequest.medication[x].coding",
                    "needs-anyOfStandardCode-medication: no YJ / 一般名 / uncoded drug coding"
                        .into(),
                );
            }
        }
        _ => {}
    }
}
