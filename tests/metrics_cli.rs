//! `karte report` end to end (the real binary): the report, the CSV and the figure, and a clear
//! message with a non-zero exit for a bad study config, a corrupt DB and an empty range.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod metrics_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn karte(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karte"))
        .args(args)
        .env("KARTE_HOME", home)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write_config(home: &Path, text: &str) {
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(home.join("config/config.toml"), text).unwrap();
}

#[test]
fn report_prints_tables_and_writes_csv_and_figure() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("data/metrics.sqlite3");
    metrics_common::record_study(&db, "ito", 3, 600, 320);
    metrics_common::record_study(&db, "kimura", 3, 600, 315);
    write_config(
        home.path(),
        "[study]\nname = \"pilot\"\narms = [\"manual\", \"assisted\"]\nseed = 11\n",
    );
    let csv = home.path().join("out/report.csv");
    let svg = home.path().join("out/figure.svg");
    let output = karte(
        home.path(),
        &[
            "report",
            "--study",
            "pilot",
            "--since",
            "2026-04-01",
            "--csv",
            csv.to_str().unwrap(),
            "--plot",
            svg.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", stderr(&output));
    // (1 - 317.5 / 600) = 47.1 %
    assert!(stdout.contains("47.1%"), "{stdout}");
    assert!(stdout.contains("referral_letter") && stdout.contains("discharge_summary"));
    assert!(
        !stdout.contains("ito") && !stdout.contains("kimura"),
        "clinicians are pseudonymous"
    );
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 13);
    assert!(!csv_text.contains("kimura") && !csv_text.contains("chart-"));
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    for file in [&csv, &svg] {
        assert_eq!(
            std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn report_combines_the_dbs_of_several_clinicians() {
    let home = tempfile::tempdir().unwrap();
    let first = home.path().join("collected/ito.sqlite3");
    let second = home.path().join("collected/kimura.sqlite3");
    metrics_common::record_study(&first, "ito", 2, 600, 320);
    metrics_common::record_study(&second, "kimura", 2, 600, 300);
    let output = karte(
        home.path(),
        &[
            "report",
            "--db",
            first.to_str().unwrap(),
            "--db",
            second.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", stderr(&output));
    // 8 documents from two clinicians; 1 - 310/600 = 48.3 %
    assert!(stdout.contains("8 signed documents"), "{stdout}");
    assert!(stdout.contains("48.3%"), "{stdout}");
}

#[test]
fn bad_study_configs_fail_with_a_clear_message() {
    let home = tempfile::tempdir().unwrap();
    metrics_common::record_study(
        &home.path().join("data/metrics.sqlite3"),
        "ito",
        2,
        600,
        320,
    );
    write_config(
        home.path(),
        "[study]\nname = \"pilot\"\narms = [\"manual\", \"autopilot\"]\nseed = 1\n",
    );
    let unknown_arm = karte(home.path(), &["report"]);
    assert!(!unknown_arm.status.success());
    let message = stderr(&unknown_arm);
    assert!(
        message.contains("unknown arm \"autopilot\"") && message.contains("config.toml"),
        "{message}"
    );

    write_config(
        home.path(),
        "[study]\nname = \"pilot\"\narms = [\"manual\", \"assisted\"]\n",
    );
    let no_seed = karte(home.path(), &["report"]);
    assert!(!no_seed.status.success());
    assert!(stderr(&no_seed).contains("no seed"), "{}", stderr(&no_seed));
}

#[test]
fn corrupt_db_empty_range_and_no_db_fail_clearly() {
    let home = tempfile::tempdir().unwrap();
    let none = karte(home.path(), &["report"]);
    assert!(!none.status.success());
    assert!(
        stderr(&none).contains("no metrics recorded yet"),
        "{}",
        stderr(&none)
    );

    let db = home.path().join("data/metrics.sqlite3");
    metrics_common::record_study(&db, "ito", 2, 600, 320);
    let empty = karte(home.path(), &["report", "--since", "2030-01-01"]);
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("nothing to report"),
        "{}",
        stderr(&empty)
    );

    std::fs::write(&db, b"this is not a database, it is a grocery list").unwrap();
    let _ = std::fs::remove_file(home.path().join("data/metrics.sqlite3-wal"));
    let corrupt = karte(home.path(), &["report"]);
    assert!(!corrupt.status.success());
    let message = stderr(&corrupt);
    assert!(
        message.contains("not a valid SQLite database") && message.contains("metrics.sqlite3"),
        "{message}"
    );
}
