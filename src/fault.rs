//! Crash points for the fault-injection tests: with `KARTE_FAULT_KILL_AT=<point>` in the
//! environment, the process kills itself (SIGKILL: no cleanup, as a power cut or the OOM
//! killer would) when it reaches that point of signing or of an atomic write. Without the
//! variable (always, outside those tests) a point costs one cached lookup.

use std::sync::OnceLock;

const ENV: &str = "KARTE_FAULT_KILL_AT";

/// The points, in the order a signature and an export pass them.
pub const POINTS: &[&str] = &[
    "sign:temp-written",
    "sign:temp-synced",
    "sign:linked",
    "sign:temp-removed",
    "sign:dir-synced",
    "sign:journaled",
    "atomic:temp-written",
    "atomic:renamed",
    "atomic:dir-synced",
];

/// Dies here if the fault-injection test asks for it.
pub fn point(name: &str) {
    static AT: OnceLock<Option<String>> = OnceLock::new();
    let at = AT.get_or_init(|| std::env::var(ENV).ok());
    if at.as_deref() == Some(name) {
        // SAFETY: kill(2) on this very process; no memory is involved.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// Removes the temp files of atomic writes in `dir` left by a process killed while writing
/// (`.<name>.tmp.<pid>` of `paths::write_private_atomic`, `.sign.<pid>.<id>.tmp` of a
/// signature); those of live processes are kept. Never one of the files themselves: a temp
/// file was not renamed (or linked) into place, or is a second name of one that was.
pub fn remove_stale_temp_files(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_file_pid(&name) else {
            continue;
        };
        // SAFETY: kill(pid, 0) only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if !alive && pid != std::process::id() as i32 {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The pid in the name of one of our temp files.
fn temp_file_pid(name: &str) -> Option<i32> {
    if let Some(rest) = name.strip_prefix(".sign.") {
        if name.ends_with(".tmp") {
            return rest.split('.').next()?.parse().ok();
        }
    }
    if name.starts_with('.') {
        let (_, pid) = name.rsplit_once(".tmp.")?;
        return pid.parse().ok();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_file_names_and_pids() {
        assert_eq!(temp_file_pid(".sign.123.abcdef.tmp"), Some(123));
        assert_eq!(temp_file_pid(".demo-v1.txt.tmp.4567"), Some(4567));
        assert_eq!(temp_file_pid("v0001.json"), None);
        assert_eq!(temp_file_pid(".tmp.x"), None);
        assert_eq!(temp_file_pid("journal.log"), None);
    }
}
