//! End to end: the real `karte` binary in a real terminal (tmux), driven by keystrokes.
//! It moves through the queue, opens the help, resizes, sees a new file appear, quits — and
//! the terminal must be restored afterwards (alternate screen left, raw mode off), also when
//! the process is ended by SIGTERM or SIGHUP.
//!
//! Each test runs its own tmux server (`-L` with a unique socket name) and kills only that.

use karte::chart::Queue;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
const EXIT_MARKER: &str = "KARTE-EXITED";

struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
    queue: PathBuf,
}

impl Tmux {
    /// Starts karte in a detached 100x30 tmux session through a small shell wrapper that
    /// prints karte's pid before and a marker, the exit status and the tty modes after.
    fn start(name: &str, model: &Path) -> Self {
        let home = tempfile::tempdir().unwrap();
        let queue = home.path().join("queue");
        std::fs::create_dir(&queue).unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        for entry in std::fs::read_dir(demo).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, queue.join(path.file_name().unwrap())).unwrap();
        }
        let socket = format!("karte-e2e-{name}-{}", std::process::id());
        let binary = env!("CARGO_BIN_EXE_karte");
        let script = format!(
            "sh -c 'echo PID=$$; exec env KARTE_HOME=\"{home}\" \"{binary}\" --queue \"{queue}\" --model \"{model}\"'; \
             echo \"{EXIT_MARKER} rc=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 600",
            home = home.path().display(),
            queue = queue.display(),
            model = model.display(),
        );
        let tmux = Self {
            socket,
            _home: home,
            queue,
        };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
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
        tmux
    }

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

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Waits until the screen satisfies `test`; fails with the last screen otherwise.
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

    fn alternate_screen_on(&self) -> bool {
        let out = self.run(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    fn karte_pid(&self) -> i32 {
        // The wrapper printed it on the normal screen; read the scrollback too.
        let out = self.run(&["capture-pane", "-p", "-a", "-t", "e2e"]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.trim().strip_prefix("PID="))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no PID line in:\n{text}"))
    }

    /// After karte exited: the marker with `rc`, the alternate screen left, the tty back in
    /// canonical mode with echo (raw mode off).
    fn assert_restored(&self, rc: i32) {
        // The tty-mode line comes after the marker: wait for both, or the capture can race it.
        let screen = self.wait_for("the exit marker and the tty modes", |s| {
            s.contains(EXIT_MARKER) && s.lines().any(|l| l.contains("icanon"))
        });
        assert!(
            screen.contains(&format!("{EXIT_MARKER} rc={rc}")),
            "exit status {rc}:\n{screen}"
        );
        assert!(!self.alternate_screen_on(), "alternate screen left");
        let modes = screen
            .lines()
            .find(|l| l.contains("icanon"))
            .unwrap_or_default();
        assert!(
            modes.split_whitespace().any(|m| m == "icanon")
                && modes.split_whitespace().any(|m| m == "echo"),
            "raw mode off (icanon and echo back on): {modes:?}\n{screen}"
        );
        assert!(
            !screen.contains("キュー"),
            "karte's screen is gone:\n{screen}"
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The real default model (installed by `karte setup`), so the run includes a loaded engine.
fn default_model() -> PathBuf {
    let path = karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "{} missing: run `karte setup` (make test does)",
        path.display()
    );
    path
}

fn patient_names(queue: &Path) -> Vec<String> {
    Queue::scan(queue)
        .unwrap()
        .entries()
        .iter()
        .filter_map(|e| e.chart.as_ref().ok().map(|c| c.patient.name.clone()))
        .collect()
}

#[test]
fn browse_help_resize_new_file_and_quit_restore_the_terminal() {
    let tmux = Tmux::start("browse", &default_model());
    let names = patient_names(&tmux.queue);
    assert!(names.len() >= 3);
    tmux.wait_for("the queue", |s| {
        s.contains("キュー") && s.contains(&names[0])
    });
    assert!(tmux.alternate_screen_on(), "full-screen mode while running");

    // Two rows down: the chart pane shows the third patient's header.
    tmux.keys(&["j", "j"]);
    tmux.wait_for("the third chart", |s| {
        s.lines().any(|l| l.contains(&names[2]) && l.contains("ID"))
    });
    tmux.keys(&["2"]);
    tmux.wait_for("the labs tab", |s| s.contains("基準値"));

    // The Metrics screen (no signed documents yet: it says so) and back.
    tmux.keys(&["m"]);
    tmux.wait_for("the metrics screen", |s| {
        s.contains("Metrics") && !s.contains("キュー")
    });
    tmux.keys(&["m"]);
    tmux.wait_for("the queue again", |s| s.contains("キュー"));

    tmux.keys(&["?"]);
    tmux.wait_for("the help", |s| {
        s.contains("キー操作") && s.contains("このヘルプを開く/閉じる")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the help to close", |s| !s.contains("キー操作"));

    let resized = tmux.run(&["resize-window", "-t", "e2e", "-x", "200", "-y", "50"]);
    assert!(resized.status.success());
    tmux.wait_for("three columns", |s| {
        s.lines().next().is_some_and(|top| {
            top.contains("キュー") && top.contains("カルテ") && top.contains("下書き")
        })
    });
    // The engine loads the real model in the background; the draft pane reports it.
    tmux.wait_for("the model to load", |s| s.contains("モデル準備完了"));
    tmux.run(&["resize-window", "-t", "e2e", "-x", "80", "-y", "24"]);
    tmux.wait_for("stacked panes at 80x24", |s| {
        s.lines().count() <= 24
            && s.lines()
                .next()
                .is_some_and(|top| top.contains("キュー") && !top.contains("カルテ"))
    });

    // A chart dropped into the directory shows up without a restart; a broken one as an error.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tmux.queue)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let renamed = text.replacen(&names[0], "新規 花子", 1);
    std::fs::write(tmux.queue.join("00-new.json"), renamed).unwrap();
    std::fs::write(tmux.queue.join("00-broken.json"), "{ not json").unwrap();
    tmux.wait_for("the new chart", |s| s.contains("新規 花子"));
    tmux.wait_for("the broken file's error row", |s| {
        s.contains("読込エラー 00-broken.json")
    });

    tmux.keys(&["q"]);
    tmux.assert_restored(0);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for (name, signal, rc) in [
        ("term", libc::SIGTERM, 128 + 15),
        ("hup", libc::SIGHUP, 128 + 1),
    ] {
        // A model path that does not exist: the screen says so and keeps running.
        let tmux = Tmux::start(name, Path::new("/nonexistent/model.gguf"));
        tmux.wait_for("the queue", |s| {
            s.contains("キュー") && s.contains("未着手")
        });
        let pid = tmux.karte_pid();
        // SAFETY: kill(2) on the pid of the karte process this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        tmux.assert_restored(rc);
    }
}
