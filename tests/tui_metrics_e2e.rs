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

const WAIT: Duration = Duration::from_secs(20);
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
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let socket = format!("karte-metrics-e2e-{}", std::process::id());
    let binary = env!("CARGO_BIN_EXE_karte");
    // A missing model keeps the test fast; the screen says so and keeps running.
    let script = format!(
        "sh -c 'echo PID=$$; exec env KARTE_HOME=\"{home}\" \"{binary}\" --queue \"{demo}\" --model /nonexistent/model.gguf'; \
         echo \"{EXIT_MARKER} rc=$?\"; sleep 600",
        home = home.path().display(),
        demo = demo.display(),
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

    let db = rusqlite::Connection::open(karte::metrics::db_path(&paths)).unwrap();
    let count = |kind: EventKind| -> i64 {
        db.query_row(
            "SELECT count(*) FROM events WHERE kind = ?1",
            [kind.code()],
            |row| row.get(0),
        )
        .unwrap()
    };
    assert_eq!(count(EventKind::OpenChart), 1);
    assert_eq!(count(EventKind::Focus(FocusTarget::Chart)), 2, "j j");
    assert!(count(EventKind::Focus(FocusTarget::Draft)) >= 1, "tab, d");
    assert_eq!(count(EventKind::Generate), 0, "generation was refused");
    assert_eq!(count(EventKind::Disconnect), 1);
    assert_eq!(count(EventKind::Quit), 0);
    let arm: String = db
        .query_row("SELECT arm FROM documents", [], |row| row.get(0))
        .unwrap();
    assert_eq!(arm, if manual { "manual" } else { "assisted" });
}
