//! Driving the real `karte` binary in tmux for the durability tests: one tmux server per
//! test (unique socket, killed on drop), one tmux session per karte process, a shared temp
//! `KARTE_HOME` and a temp copy of the demo queue.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(30);
pub const EXIT_MARKER: &str = "KARTE-EXITED";

pub struct Tmux {
    socket: String,
    pub home: tempfile::TempDir,
    pub queue: PathBuf,
}

impl Tmux {
    pub fn new(name: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let queue = home.path().join("queue");
        std::fs::create_dir(&queue).unwrap();
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
        for entry in std::fs::read_dir(demo).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, queue.join(path.file_name().unwrap())).unwrap();
            }
        }
        // The real dictionary (installed by `karte setup`), so the guard and highlights run
        // as they do for a clinician; linked, not copied (46 MB).
        let ipadic = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
        assert!(
            ipadic.is_dir(),
            "{} missing: run `karte setup` (make test does)",
            ipadic.display()
        );
        let linked = karte::paths::AppPaths::under(&home.path().join("karte")).ipadic_dir();
        std::fs::create_dir_all(linked.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&ipadic, &linked).unwrap();
        Self {
            socket: format!("karte-{name}-{}", std::process::id()),
            home,
            queue,
        }
    }

    /// Starts karte in a new detached 100x30 tmux session `session`; a wrapper prints its
    /// pid first and a marker with the exit status after.
    pub fn start_karte(&self, session: &str) {
        let binary = env!("CARGO_BIN_EXE_karte");
        let script = format!(
            "sh -c 'echo PID=$$; exec env KARTE_HOME=\"{home}\" \"{binary}\" --queue \"{queue}\" --model \"{model}\"'; \
             echo \"{EXIT_MARKER} rc=$?\"; sleep 600",
            home = self.home.path().join("karte").display(),
            queue = self.queue.display(),
            model = default_model().display(),
        );
        let out = self.run(&[
            "-u",
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            session,
            &script,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .env("LANG", "C.UTF-8")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux must be installed (apt-get install tmux)")
    }

    pub fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", session]).stdout)
            .into_owned()
    }

    /// tmux key names (`Down`, `Escape`, `i`).
    pub fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Literal text, as a terminal delivers typed or IME-committed characters.
    pub fn type_text(&self, session: &str, text: &str) {
        assert!(self
            .run(&["send-keys", "-t", session, "-l", text])
            .status
            .success());
    }

    pub fn wait_for(&self, session: &str, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(session);
            if test(&screen) {
                return screen;
            }
            if start.elapsed() > WAIT {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn karte_pid(&self, session: &str) -> i32 {
        let out = self.run(&["capture-pane", "-p", "-a", "-t", session]);
        let text = String::from_utf8_lossy(&out.stdout);
        let text = if text.contains("PID=") {
            text.into_owned()
        } else {
            self.screen(session)
        };
        text.lines()
            .find_map(|l| l.trim().strip_prefix("PID="))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no PID line in:\n{text}"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The real default model (installed by `karte setup`).
pub fn default_model() -> PathBuf {
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

/// The first patient's name in the queue (what the screen shows once it is loaded).
pub fn first_patient(queue: &Path) -> String {
    karte::chart::Queue::scan(queue)
        .unwrap()
        .entries()
        .iter()
        .find_map(|e| e.chart.as_ref().ok().map(|c| c.patient.name.clone()))
        .unwrap()
}
