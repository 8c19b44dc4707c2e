//! Driving the real `karte` binary in tmux for the end-to-end tests: one tmux server per
//! test (unique socket, killed on drop), one tmux session per karte process, a temp home
//! (`Tmux::new`: with a copy of the demo queue and the real dictionary linked in).

// Each test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(30);
pub const EXIT_MARKER: &str = "KARTE-EXITED";

pub struct Tmux {
    socket: String,
    /// How long `wait_for` waits.
    wait: Duration,
    pub home: tempfile::TempDir,
    /// The queue karte is started on.
    pub queue: PathBuf,
}

/// How `Tmux::start` runs karte.
pub struct Karte<'a> {
    /// `KARTE_HOME`.
    pub home: &'a Path,
    pub queue: &'a Path,
    pub model: &'a Path,
    /// The session's window, columns by rows.
    pub size: (u16, u16),
    /// After the exit marker, also print the tty's `icanon`/`echo` modes (`assert_restored`).
    pub tty_modes: bool,
}

impl Tmux {
    /// The durability tests' setup: a copy of the demo queue, the real dictionary, `WAIT`.
    pub fn new(name: &str) -> Self {
        let tmux = Self::with_demo_copy(name, WAIT);
        // The real dictionary (installed by `karte setup`), so the guard and highlights run
        // as they do for a clinician; linked, not copied (46 MB).
        let ipadic = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
        assert!(
            ipadic.is_dir(),
            "{} missing: run `karte setup` (make test does)",
            ipadic.display()
        );
        let linked = karte::paths::AppPaths::under(&tmux.home.path().join("karte")).ipadic_dir();
        std::fs::create_dir_all(linked.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&ipadic, &linked).unwrap();
        tmux
    }

    /// A temp home with a copy of the demo queue in `home/queue`; no dictionary.
    pub fn with_demo_copy(name: &str, wait: Duration) -> Self {
        let mut tmux = Self::empty(name, wait);
        let queue = tmux.home.path().join("queue");
        std::fs::create_dir(&queue).unwrap();
        for entry in std::fs::read_dir(&tmux.queue).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, queue.join(path.file_name().unwrap())).unwrap();
            }
        }
        tmux.queue = queue;
        tmux
    }

    /// An empty temp home; the queue is the demo directory itself (read in place).
    pub fn empty(name: &str, wait: Duration) -> Self {
        Self {
            socket: format!("karte-{name}-{}", std::process::id()),
            wait,
            home: tempfile::tempdir().unwrap(),
            queue: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo"),
        }
    }

    /// Starts karte as the durability tests do: `KARTE_HOME=home/karte`, `queue`, the
    /// default model, 100x30.
    pub fn start_karte(&self, session: &str) {
        self.start(
            session,
            &Karte {
                home: &self.home.path().join("karte"),
                queue: &self.queue,
                model: &default_model(),
                size: (100, 30),
                tty_modes: false,
            },
        );
    }

    /// Starts karte in a new detached tmux session `session`; a wrapper prints its pid
    /// first and a marker with the exit status after (and the tty modes, if asked).
    pub fn start(&self, session: &str, karte: &Karte) {
        let binary = env!("CARGO_BIN_EXE_karte");
        let tty_modes = if karte.tty_modes {
            "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; "
        } else {
            ""
        };
        let script = format!(
            "sh -c 'echo PID=$$; exec env KARTE_HOME=\"{home}\" \"{binary}\" --queue \"{queue}\" --model \"{model}\"'; \
             echo \"{EXIT_MARKER} rc=$?\"; {tty_modes}sleep 600",
            home = karte.home.display(),
            queue = karte.queue.display(),
            model = karte.model.display(),
        );
        let (width, height) = (karte.size.0.to_string(), karte.size.1.to_string());
        let out = self.run(&[
            "-u",
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &width,
            "-y",
            &height,
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

    /// The normal screen while karte shows the alternate one (empty when none is shown).
    pub fn normal_screen(&self, session: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-a", "-t", session])
                .stdout,
        )
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

    /// Waits until the screen satisfies `test`; fails with the last screen otherwise.
    pub fn wait_for(&self, session: &str, what: &str, test: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen(session);
            if test(&screen) {
                return screen;
            }
            if start.elapsed() > self.wait {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn alternate_screen_on(&self, session: &str) -> bool {
        let out = self.run(&["display-message", "-p", "-t", session, "#{alternate_on}"]);
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// The pid the wrapper printed on the normal screen.
    pub fn karte_pid(&self, session: &str) -> i32 {
        let text = self.normal_screen(session);
        let text = if text.contains("PID=") {
            text
        } else {
            self.screen(session)
        };
        text.lines()
            .find_map(|l| l.trim().strip_prefix("PID="))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no PID line in:\n{text}"))
    }

    /// After karte exited (started with `tty_modes`): the marker with `rc`, the alternate
    /// screen left, the tty back in canonical mode with echo (raw mode off).
    pub fn assert_restored(&self, session: &str, rc: i32) {
        // The tty-mode line comes after the marker: wait for both, or the capture can race it.
        let screen = self.wait_for(session, "the exit marker and the tty modes", |s| {
            s.contains(EXIT_MARKER) && s.lines().any(|l| l.contains("icanon"))
        });
        assert!(
            screen.contains(&format!("{EXIT_MARKER} rc={rc}")),
            "exit status {rc}:\n{screen}"
        );
        assert!(!self.alternate_screen_on(session), "alternate screen left");
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

/// The patients' names in the queue, in its order.
pub fn patient_names(queue: &Path) -> Vec<String> {
    karte::chart::Queue::scan(queue)
        .unwrap()
        .entries()
        .iter()
        .filter_map(|e| e.chart.as_ref().ok().map(|c| c.patient.name.clone()))
        .collect()
}

/// The first patient's name in the queue (what the screen shows once it is loaded).
pub fn first_patient(queue: &Path) -> String {
    patient_names(queue).into_iter().next().unwrap()
}
