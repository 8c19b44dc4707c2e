//! A real llama-server for tests: started on 127.0.0.1 on a free port with the default
//! model, killed when dropped (and with the test's thread, should the test die).

// Each test binary compiles this module separately and uses only some of it.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn data_dir() -> PathBuf {
    karte::paths::AppPaths::discover().unwrap().data_dir
}

pub fn model_path() -> PathBuf {
    data_dir().join("models").join("gemma-3-270m-q4_k_m.gguf")
}

pub fn server_binary() -> PathBuf {
    let path = std::env::var_os("KARTE_LLAMA_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("bin").join("llama-server"));
    assert!(
        path.is_file(),
        "llama-server not found at {}: run scripts/build-llama-server.sh (make test and CI run it)",
        path.display()
    );
    assert!(
        model_path().is_file(),
        "model {} not found: run `karte setup`",
        model_path().display()
    );
    path
}

/// A llama-server child on a free loopback port; killed when dropped.
pub struct TestServer {
    pub child: Child,
    pub port: u16,
}

impl TestServer {
    pub fn start(parallel: u32, extra: &[&str]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(server_binary());
        command
            .arg("-m")
            .arg(model_path())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--parallel", &parallel.to_string()])
            // 4096 context tokens per slot.
            .args(["--ctx-size", &(4096 * parallel).to_string()])
            .args(["--threads", "1", "--slots", "--metrics", "--no-webui"])
            // As karte's embedded engine: no repacked/AMX weight buffers (the AMX kernels
            // die with SIGILL on VMs that report AMX without enabling it).
            .arg("--no-repack")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; the child dies with this test's thread.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = command.spawn().expect("start llama-server");
        let mut server = TestServer { child, port };
        server.wait_healthy();
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        std::io::Read::read_to_string(&mut stream, &mut response).ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_string();
        Some((status, body))
    }

    pub fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("llama-server exited at start: {status}");
            }
            if let Some((200, _)) = self.get("/health") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("llama-server on port {} did not become healthy", self.port);
    }

    /// Slots that are generating now (from the server's own `/slots`).
    pub fn busy_slots(&self) -> usize {
        let (status, body) = self.get("/slots").expect("GET /slots");
        assert_eq!(status, 200, "{body}");
        // The body may be chunked: take the JSON array inside.
        let start = body.find('[').unwrap();
        let end = body.rfind(']').unwrap();
        let slots: serde_json::Value = serde_json::from_str(&body[start..=end]).unwrap();
        slots
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["is_processing"].as_bool() == Some(true))
            .count()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}
