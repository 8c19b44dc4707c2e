//! End to end: the real `karte` binary in tmux with a time study configured. The clinician
//! opens a chart, moves to the draft and tries to generate; then the SSH connection drops
//! (SIGHUP). The metrics DB in the data dir must hold the session's events up to the
//! disconnect, and the status bar must have shown the document's arm.
//!
//! The test runs its own tmux server (`-L` with a unique socket name) and kills only that.

use karte::metrics::{EventKind, FocusTarget};
use karte::paths::AppPaths;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const EXIT_MARKER: &str = "KARTE-EXITED";

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (apt-get install tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// The normal screen while karte shows the alternate one (the wrapper printed the pid).
    fn normal_screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-a", "-t", "e2e"]).stdout)
            .into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn wait_for(&self, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if test(&screen) {
                return screen;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Tmux {
    /// Starts karte on the demo queue with `KARTE_HOME=home` in a detached 120x30 tmux
    /// session; returns it with karte's pid once the queue is on screen.
    fn start(home: &Path, model: &Path) -> (Self, i32) {
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        let socket = format!(
            "karte-metrics-e2e-{}-{}",
            std::process::id(),
            home.file_name().unwrap().to_string_lossy()
        );
        let binary = env!("CARGO_BIN_EXE_karte");
        let script = format!(
            "sh -c 'echo PID=$$; exec env KARTE_HOME=\"{home}\" \"{binary}\" --queue \"{demo}\" --model \"{model}\"'; \
             echo \"{EXIT_MARKER} rc=$?\"; sleep 600",
            home = home.display(),
            demo = demo.display(),
            model = model.display(),
        );
        let tmux = Tmux { socket };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "30",
            "-s",
            "e2e",
            &script,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.wait_for("the queue", |s| {
            s.contains("キュー") && s.contains("未着手")
        });
        let pid: i32 = tmux
            .normal_screen()
            .lines()
            .find_map(|l| l.trim().strip_prefix("PID="))
            .and_then(|p| p.trim().parse().ok())
            .expect("the wrapper prints karte's pid");
        (tmux, pid)
    }
}

fn event_counts(paths: &AppPaths) -> impl Fn(EventKind) -> i64 {
    let db = rusqlite::Connection::open(karte::metrics::db_path(paths)).unwrap();
    move |kind: EventKind| {
        db.query_row(
            "SELECT count(*) FROM events WHERE kind = ?1",
            [kind.code()],
            |row| row.get(0),
        )
        .unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn a_hang_up_records_the_session_up_to_the_disconnect() {
    let home = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(home.path());
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    std::fs::write(
        paths.config_file(),
        "[study]\nname = \"e2e\"\narms = [\"manual\", \"assisted\"]\nseed = 3\n",
    )
    .unwrap();
    let (tmux, pid) = Tmux::start(home.path(), Path::new("/nonexistent/model.gguf"));
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the study arm in the status bar", |s| {
        s.contains("試験: manual") || s.contains("試験: assisted")
    });
    let manual = screen.contains("試験: manual");
    tmux.keys(&["j", "j", "Tab"]);
    // Background messages (e.g. that highlights are off without a dictionary) may replace
    // the answer in the status bar: ask again until it shows.
    let answered = |s: &str| {
        if manual {
            s.contains("下書き生成は使えません")
        } else {
            // No model file: generation is refused with the model's state.
            s.contains("karte setup")
        }
    };
    let start = Instant::now();
    loop {
        tmux.keys(&["d"]);
        std::thread::sleep(Duration::from_millis(300));
        if answered(&tmux.screen()) {
            break;
        }
        assert!(start.elapsed() < WAIT, "no answer to d:\n{}", tmux.screen());
    }
    // SAFETY: kill(2) on the pid of the karte process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    tmux.wait_for("karte to exit", |s| s.contains(EXIT_MARKER));

    let count = event_counts(&paths);
    assert_eq!(count(EventKind::OpenChart), 1);
    assert_eq!(count(EventKind::Focus(FocusTarget::Chart)), 2, "j j");
    assert!(count(EventKind::Focus(FocusTarget::Draft)) >= 1, "tab, d");
    assert_eq!(count(EventKind::Generate), 0, "generation was refused");
    assert_eq!(count(EventKind::Disconnect), 1);
    assert_eq!(count(EventKind::Quit), 0);
    let db = rusqlite::Connection::open(karte::metrics::db_path(&paths)).unwrap();
    let arm: String = db
        .query_row("SELECT arm FROM documents", [], |row| row.get(0))
        .unwrap();
    assert_eq!(arm, if manual { "manual" } else { "assisted" });
}

/// With the real default model: a generation is recorded with its wait for the model, and
/// quitting with the key records a quit (no disconnect).
#[test]
fn a_real_generation_records_the_wait_for_the_model() {
    let model = AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf");
    assert!(
        model.is_file(),
        "{} missing: run `karte setup`",
        model.display()
    );
    let home = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(home.path());
    let (tmux, _pid) = Tmux::start(home.path(), &model);
    tmux.keys(&["Enter"]);
    tmux.wait_for("the model", |s| s.contains("モデル準備完了"));
    tmux.keys(&["d"]);
    let start = Instant::now();
    loop {
        let screen = tmux.screen();
        // The draft's end: its footer or the status message (a later key may clear that).
        if screen.contains("下書きができました") || screen.contains("生成完了") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(400),
            "no finished draft:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    tmux.keys(&["q"]);
    tmux.wait_for("karte to exit", |s| s.contains(EXIT_MARKER));

    let count = event_counts(&paths);
    assert_eq!(count(EventKind::OpenChart), 1);
    assert_eq!(count(EventKind::Generate), 1);
    assert_eq!(count(EventKind::ModelWaitStart), 1);
    assert_eq!(count(EventKind::ModelWaitEnd), 1);
    assert_eq!(count(EventKind::Quit), 1);
    assert_eq!(count(EventKind::Disconnect), 0);
}
