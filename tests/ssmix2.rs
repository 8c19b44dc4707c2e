//! SS-MIX2 storage as a chart source, over the fixtures written by
//! `fixtures/ssmix2/generate.py`: the demo patients read back record by record, the hard
//! cases (bad files are skipped with a reason, the patient loads), the queue, `karte chart`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::ssmix2::{self, storage, Ssmix2Config};
use karte::chart::{Chart, DiagnosisStatus, LabFlag, Queue, Sex};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn storage_root() -> PathBuf {
    fixtures().join("ssmix2/storage")
}

fn configure() {
    ssmix2::configure(Ssmix2Config {
        notes_dir: Some(fixtures().join("ssmix2/notes")),
        extended_root: Some(fixtures().join("ssmix2/extended")),
    });
}

/// The inpatient karte-JSON demo charts (the generator's input).
fn demo_charts() -> Vec<Chart> {
    let mut charts = Vec::new();
    for entry in std::fs::read_dir(fixtures().join("demo")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.contains("\"resourceType\"") {
                continue;
            }
            let chart = karte::chart::load(&path).unwrap();
            if chart.encounter.discharge_date.is_some() {
                charts.push(chart);
            }
        }
    }
    charts.sort_by(|a, b| a.id.cmp(&b.id));
    charts
}

/// ISO-2022-JP cannot carry ≤ ≥ (the generator writes ≦ ≧) and reads JIS 2141 as ～.
fn jis(s: &str) -> String {
    s.replace('≤', "≦").replace('≥', "≧").replace('〜', "～")
}

fn patient_charts(pid: &str) -> (Vec<Chart>, Vec<ssmix2::Skipped>) {
    configure();
    let record = ssmix2::read_patient(&storage::patient_dir(&storage_root(), pid)).unwrap();
    (ssmix2::charts(&record), record.skipped)
}

#[test]
fn demo_patients_read_back_record_by_record() {
    let demos = demo_charts();
    assert!(demos.len() >= 10, "{} demo charts", demos.len());
    for demo in &demos {
        let (charts, skipped) = patient_charts(&demo.patient.id);
        let who = &demo.id;
        assert_eq!(charts.len(), 1, "{who}: one inpatient stay");
        let got = &charts[0];
        assert_eq!(got.patient, demo.patient, "{who}");
        let (e, d) = (&got.encounter, &demo.encounter);
        assert_eq!(e.ward, d.ward, "{who}");
        assert_eq!(e.department, d.department, "{who}");
        assert_eq!(e.attending, d.attending, "{who}");
        assert_eq!(e.admission_date, d.admission_date, "{who}");
        assert_eq!(e.discharge_date, d.discharge_date, "{who}");

        let labs = |c: &Chart| {
            let mut v: Vec<_> = c
                .labs
                .iter()
                .map(|l| {
                    (
                        l.datetime,
                        jis(&l.item),
                        jis(&l.value),
                        jis(&l.unit),
                        jis(&l.reference_range),
                        l.flag,
                    )
                })
                .collect();
            v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            v
        };
        assert_eq!(labs(got), labs(demo), "{who}: labs");

        let rx = |c: &Chart| {
            let mut v: Vec<_> = c
                .prescriptions
                .iter()
                .map(|p| {
                    (
                        jis(&p.drug),
                        jis(&p.dose),
                        jis(&p.unit),
                        jis(&p.route),
                        jis(&p.frequency),
                        p.days,
                        p.start,
                        p.end,
                        p.discharge,
                    )
                })
                .collect();
            v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
            v
        };
        assert_eq!(rx(got), rx(demo), "{who}: prescriptions");

        let allergies = |c: &Chart| -> Vec<_> {
            c.allergies
                .iter()
                .map(|a| (jis(&a.substance), jis(&a.reaction), a.severity.clone()))
                .collect()
        };
        assert_eq!(allergies(got), allergies(demo), "{who}: allergies");

        let diagnoses = |c: &Chart| -> Vec<_> {
            c.diagnoses
                .iter()
                .map(|d| (jis(&d.name), d.icd10.clone(), d.main, d.status))
                .collect()
        };
        assert_eq!(diagnoses(got), diagnoses(demo), "{who}: diagnoses");
        let notes = |c: &Chart| {
            let mut v = c.notes.clone();
            v.sort_by(|a, b| (a.datetime, &a.id).cmp(&(b.datetime, &b.id)));
            v
        };
        assert_eq!(
            notes(got),
            notes(demo),
            "{who}: notes from the notes directory"
        );

        // What karte prints for the chart loads again as a karte chart.
        let json = serde_json::to_string(got).unwrap();
        karte::chart::json::from_json(&json).unwrap();
        assert!(
            skipped.iter().all(|s| !s.reason.contains("invalid")),
            "{who}: {skipped:?}"
        );
    }
}

#[test]
fn superseded_and_deleted_files_are_not_read() {
    let (charts, skipped) = patient_charts("P-0010233");
    let chart = &charts[0];
    assert_eq!(
        chart.patient.name, "藤巻 スミ子",
        "the _1 ADT-00, not the _2 one"
    );
    assert!(chart.labs.iter().all(|l| l.item != "取り消した検査"));
    let reason = |needle: &str| {
        skipped
            .iter()
            .find(|s| s.file.to_string_lossy().contains(needle))
            .map(|s| s.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("_20250101090000000_-_2").contains("superseded"));
    assert!(reason("000000000000777_20260115070000000_01_0").contains("deleted"));
    assert!(reason("000000000000777_20260115060000000_01_1").contains("deleted by a newer"));
}

#[test]
fn hard_cases_load_what_can_be_read_and_say_what_was_skipped() {
    let (charts, skipped) = patient_charts("9000001");
    let why = |needle: &str| -> String {
        skipped
            .iter()
            .filter(|s| s.file.to_string_lossy().contains(needle))
            .map(|s| s.reason.clone())
            .collect::<Vec<_>>()
            .join(" / ")
    };
    // Kanji whose ISO-2022-JP bytes hold | ^ ~ \ & (本 京 ウ …) are whole.
    let stay = &charts[0];
    assert_eq!(stay.patient.name, "宮本 京子");
    assert_eq!(stay.patient.kana, "ミヤモト キョウコ");
    assert_eq!(stay.patient.sex, Sex::Female);
    assert_eq!(stay.id, "9000001-I20260302");
    assert_eq!(stay.encounter.ward, "3西→ICU");
    assert_eq!(
        stay.encounter.department, "内科",
        "PV1-10 01 named by ORC-17"
    );
    assert_eq!(stay.encounter.attending, "医師 一郎");
    assert_eq!(
        stay.encounter.discharge_date,
        chrono::NaiveDate::from_ymd_opt(2026, 3, 10)
    );

    // Labs: an hour past 24, SN values, escaped delimiters, JLAC10 codes kept.
    let lab = |item: &str| stay.labs.iter().find(|l| l.item == item).unwrap();
    let protein = lab("総蛋白");
    assert_eq!(protein.datetime.to_string(), "2026-03-03 01:30:00");
    assert_eq!(protein.codes[0].system, "JC10");
    assert_eq!(protein.codes[0].code, "3A010000002327101");
    assert_eq!(lab("ＣＲＰ").value, ">30");
    assert_eq!(lab("ＣＲＰ").flag, Some(LabFlag::H));
    assert_eq!(lab("所見^コメント").value, "剤形変更|要確認");
    // The other patient's result (PID 9000002) did not mix in.
    assert!(stay.labs.iter().all(|l| l.item != "ＡＳＴ"));
    assert!(why("000000000000104").contains("9000002"));

    // Prescriptions: HOT and YJ codes; the truncated order is not read half-way.
    assert_eq!(stay.prescriptions.len(), 1, "{:?}", stay.prescriptions);
    let rx = &stay.prescriptions[0];
    assert_eq!(rx.drug, "ダーゼン錠（５mg)");
    assert_eq!(rx.frequency, "内服・経口・１日３回朝昼夕食後");
    let systems: Vec<&str> = rx.codes.iter().map(|c| c.system.as_str()).collect();
    assert_eq!(systems, ["HOT9", "YJ"]);
    assert!(why("000000000000103").contains("truncated"));

    // Diagnoses despite invalid ISO-2022-JP bytes in the file.
    assert!(why("PPR-01").contains("invalid ISO-2022-JP"));
    let gastritis = &stay.diagnoses[0];
    assert_eq!(gastritis.name, "胃炎");
    assert_eq!(gastritis.icd10.as_deref(), Some("K29.7"));
    assert_eq!(gastritis.status, DiagnosisStatus::Resolved);
    assert_eq!(gastritis.outcome, "治癒");
    assert!(stay.diagnoses[1].name.contains('\u{FFFD}'));

    // Allergy from ADT-00's AL1 (the ADT-61 has no IAM).
    assert_eq!(stay.allergies.len(), 1);
    assert_eq!(stay.allergies[0].substance, "ヨード造影剤");
    assert_eq!(stay.allergies[0].severity, "重度");
    assert!(why("ADT-61").contains("no IAM segment"));

    // The extended storage's discharge summary is a note of the stay.
    assert_eq!(stay.notes.len(), 1);
    assert_eq!(stay.notes[0].kind, "退院時サマリー");
    assert!(stay.notes[0].text.contains("胃炎にて入院"));

    // Outpatient visits: an ADT-12 in Shift_JIS, and a day with only a lab result.
    assert_eq!(
        charts.len(),
        3,
        "{:?}",
        charts.iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    assert_eq!(charts[1].id, "9000001-O20260401");
    assert_eq!(charts[1].encounter.department, "内科");
    assert!(why("ADT-12").contains("Shift_JIS"));
    assert_eq!(charts[2].id, "9000001-O20260415");
    assert_eq!(charts[2].labs.len(), 1);
    assert!(charts[2].notes.is_empty());

    // Everything else is named with its reason.
    assert!(why("000000000000105").contains("not an HL7 v2 message"));
    assert!(why("README.txt").contains("file name"));
    assert!(why("XYZ-99").contains("unknown data type"));
    assert!(why("000000000000107").contains("no OBX segment"));
}

#[test]
fn the_queue_lists_one_row_per_encounter() {
    configure();
    let spec = PathBuf::from(format!("ssmix2:{}", storage_root().display()));
    let mut queue = Queue::scan(&spec).unwrap();
    let mut rounds = 0;
    while !queue.is_complete() {
        queue.rescan();
        rounds += 1;
        assert!(rounds < 1000);
    }
    let ids: Vec<&str> = queue
        .entries()
        .iter()
        .map(|e| e.file_name.as_str())
        .collect();
    let demos = demo_charts();
    assert_eq!(ids.len(), demos.len() + 3, "{ids:?}");
    for demo in &demos {
        let admitted = demo.encounter.admission_date.unwrap().format("%Y%m%d");
        assert!(
            ids.contains(&format!("{}-I{admitted}", demo.patient.id).as_str()),
            "{ids:?}"
        );
    }
    assert!(queue.entries().iter().all(|e| e.chart.is_ok()));
    let stay = queue
        .entries()
        .iter()
        .find(|e| e.file_name == "9000001-I20260302")
        .unwrap();
    let chart = stay.chart.as_ref().unwrap();
    assert_eq!(
        (chart.encounter.ward.as_str(), chart.patient.name.as_str()),
        ("3西→ICU", "宮本 京子")
    );
    assert!(!queue.rescan(), "nothing new");

    let missing = Queue::scan(Path::new("ssmix2:/nonexistent/ssmix2")).unwrap_err();
    assert!(
        missing.to_string().contains("/nonexistent/ssmix2"),
        "{missing}"
    );
}

fn karte_chart(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[ssmix2]\nnotes_dir = \"{}\"\nextended_root = \"{}\"\n",
            fixtures().join("ssmix2/notes").display(),
            fixtures().join("ssmix2/extended").display()
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_karte"))
        .arg("--config")
        .arg(&config)
        .arg("chart")
        .args(args)
        .env("KARTE_HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap()
}

#[test]
fn karte_chart_prints_charts_and_what_was_skipped() {
    let dir = storage::patient_dir(&storage_root(), "9000001");
    let out = karte_chart(&[dir.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let charts: Vec<Chart> = serde_json::from_value(printed["charts"].clone()).unwrap();
    assert_eq!(charts.len(), 3);
    assert_eq!(charts[0].notes.len(), 1, "the config's extended storage");
    let skipped = printed["skipped"].as_array().unwrap();
    assert!(skipped.iter().any(|s| {
        s["file"].as_str().unwrap().ends_with("README.txt")
            && s["reason"].as_str().unwrap().contains("file name")
    }));

    let summary = karte_chart(&[dir.to_str().unwrap()]);
    let text = String::from_utf8(summary.stdout).unwrap();
    assert!(text.contains("chart 9000001-O20260401"), "{text}");
    assert!(
        text.contains("narrative sections will have no evidence"),
        "{text}"
    );
    assert!(text.contains("skipped: "), "{text}");

    // Any source: a karte JSON chart file prints as itself, nothing skipped.
    let demo = fixtures().join("demo/02-geka-cholecystitis.json");
    let out = karte_chart(&[demo.to_str().unwrap(), "--json"]);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let chart: Chart = serde_json::from_value(printed["charts"][0].clone()).unwrap();
    assert_eq!(chart, karte::chart::load(&demo).unwrap());
    assert_eq!(printed["skipped"].as_array().unwrap().len(), 0);

    // A folder that is not a patient folder: a clear error naming it.
    let out = karte_chart(&[fixtures().join("gold").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gold") && err.contains("SS-MIX2 patient folder"),
        "{err}"
    );
}

#[test]
fn a_chart_without_notes_drafts_its_facts_and_says_the_narrative_has_no_evidence() {
    use karte::draft::{run_blocking, DocumentKind, DocumentTemplate, DraftRequest, SectionKind};
    use karte::llm::{Engine, EngineConfig, ModelManifest};
    let (charts, _) = patient_charts("9000001");
    let mut chart = charts[0].clone();
    chart.notes.clear();
    let model = karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf");
    let mut config = EngineConfig::new(model);
    config.n_ctx = 2048;
    let (engine, _events) = Engine::start(config);
    let request = DraftRequest::new(
        chart,
        DocumentTemplate::builtin(DocumentKind::Discharge),
        ModelManifest::default_model().sampling_defaults(),
    );
    let draft = run_blocking(std::sync::Arc::new(engine), request, |_| {}).unwrap();
    let all: String = draft.sections.iter().map(|s| s.text.as_str()).collect();
    assert!(all.contains("胃炎"), "the diagnosis is drafted: {all}");
    assert!(all.contains("総蛋白 7.2"), "the labs are drafted: {all}");
    let narrative: Vec<_> = draft
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Narrative)
        .collect();
    assert!(!narrative.is_empty());
    for section in narrative {
        assert_eq!(section.text, karte::draft::session::NO_NOTES_TEXT);
    }
}

#[test]
fn charts_are_found_by_id_in_the_storage() {
    configure();
    let root = storage_root();
    let visit = ssmix2::find_chart(&root, "9000001-O20260401")
        .unwrap()
        .unwrap();
    assert_eq!(
        visit.encounter.admission_date,
        chrono::NaiveDate::from_ymd_opt(2026, 4, 1)
    );
    assert!(ssmix2::find_chart(&root, "9000001-I20990101")
        .unwrap()
        .is_none());
    assert!(ssmix2::find_chart(&root, "no-such-patient")
        .unwrap()
        .is_none());
    let stay = ssmix2::find_chart(&root, "P-0010233-I20260114")
        .unwrap()
        .unwrap();
    assert_eq!(stay.patient.name, "藤巻 スミ子");
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn the_queue_picks_up_new_files_of_a_patient_already_read() {
    configure();
    let tmp = tempfile::tempdir().unwrap();
    let rel = Path::new("900/000/9000001");
    copy_tree(&storage_root().join(rel), &tmp.path().join(rel));
    let mut queue =
        Queue::scan(&PathBuf::from(format!("ssmix2:{}", tmp.path().display()))).unwrap();
    while !queue.is_complete() {
        queue.rescan();
    }
    let labs = |q: &Queue| {
        let entry = q
            .entries()
            .iter()
            .find(|e| e.file_name == "9000001-O20260415")
            .unwrap();
        entry.chart.as_ref().unwrap().labs.len()
    };
    assert_eq!(labs(&queue), 1);
    assert!(!queue.rescan(), "nothing changed yet");

    // A second result of that day arrives (an ASCII-only message is valid ISO-2022-JP).
    let folder = tmp.path().join(rel).join("20260415/OML-11");
    std::fs::write(
        folder.join("9000001_20260415_OML-11_000000000000999_20260415190000000_01_1"),
        "MSH|^~\\&|LAB|X|GW|RCV|20260415190000||OUL^R22^OUL_R22|n1|P|2.5\rPID|||9000001^^^^PI\rOBX|1|NM|3D010000001927201^GLU^JC10||98|mg/dL|73-109||||F|||202604151800\r",
    )
    .unwrap();
    assert!(queue.rescan(), "the changed patient is read again");
    assert_eq!(labs(&queue), 2);
    let ids: Vec<&str> = queue
        .entries()
        .iter()
        .map(|e| e.file_name.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "9000001-I20260302",
            "9000001-O20260401",
            "9000001-O20260415"
        ]
    );
}

#[test]
fn karte_draft_takes_a_chart_id_of_an_ssmix2_queue() {
    let queue = format!("ssmix2:{}", storage_root().display());
    let out = Command::new(env!("CARGO_BIN_EXE_karte"))
        .args([
            "--queue",
            &queue,
            "draft",
            "9000001-O20260415",
            "--doc",
            "referral",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("宮本 京子"), "{text}");
    assert!(text.contains("2026-04-15 総蛋白 6.9 g/dl"), "{text}");
    assert!(
        text.contains(karte::draft::session::NO_NOTES_TEXT),
        "a visit without notes says so: {text}"
    );

    // A patient folder with several encounters names them.
    let dir = storage::patient_dir(&storage_root(), "9000001");
    let out = Command::new(env!("CARGO_BIN_EXE_karte"))
        .args(["draft", dir.to_str().unwrap(), "--doc", "referral"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("9000001-I20260302"), "{err}");
}
