//! Chart locks: one clinician edits a chart at a time; others see who holds it since when
//! and may open it read-only. A lock left by a crashed session is detected and can be taken
//! over safely.
//!
//! The lock directory is shared by everyone working on one queue (default:
//! `<queue_dir>/.karte-locks/`), so it cannot be user-private. When karte creates it, it is
//! made `2770` (group rwx, setgid so lock files keep the queue's group): the ward's clinicians
//! share a group that owns the queue directory, and only they see the locks. It is not
//! sticky (`1777`), because a stale lock of one user must be removable by another. Lock
//! files are `0640`: the group reads who holds the chart; only the holder writes it.
//!
//! Protocol: a lock is `<chart>.lock`, created with O_CREAT|O_EXCL and holding JSON (user,
//! uid, pid, host, session, since). The holder touches its mtime every few seconds
//! (heartbeat). A lock is stale when its pid is gone on the same host, or its heartbeat is
//! older than `STALE_AFTER`. Taking over is serialised by a second O_EXCL file,
//! `<chart>.lock.takeover`, under which the stale lock is re-checked, removed and recreated.

use super::document::chart_key;
use super::signer::{current_uid, host_name};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

/// How often a holder refreshes its lock's mtime.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// A lock whose heartbeat is older than this is stale (its session hung or died elsewhere).
pub const STALE_AFTER: Duration = Duration::from_secs(30);
/// A takeover guard older than this was left by a session that died while taking over.
const TAKEOVER_GUARD_STALE_AFTER: Duration = Duration::from_secs(10);

/// What a lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub user: String,
    pub uid: u32,
    pub pid: u32,
    pub host: String,
    pub session: String,
    pub since: DateTime<Utc>,
}

impl LockHolder {
    /// The current process, as it would write itself into a lock.
    pub fn me(user: &str, session: &str) -> Self {
        Self {
            user: user.to_string(),
            uid: current_uid(),
            pid: std::process::id(),
            host: host_name(),
            session: session.to_string(),
            since: Utc::now(),
        }
    }
}

/// Someone else's lock, as seen when trying to acquire.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldLock {
    /// `None` when the file could not be read (being written right now, or damaged).
    pub holder: Option<LockHolder>,
    /// Seconds since the holder's last heartbeat.
    pub heartbeat_age: Duration,
    /// The holder is gone (crashed): the lock may be taken over.
    pub stale: bool,
}

impl HeldLock {
    /// "山田 (pid 123 on ward-1) since 2026-11-25 09:12 UTC" — for the read-only banner.
    pub fn describe(&self) -> String {
        match &self.holder {
            Some(h) => format!(
                "{} (pid {} on {}) since {}{}",
                h.user,
                h.pid,
                h.host,
                h.since.format("%Y-%m-%d %H:%M UTC"),
                if self.stale {
                    ", session no longer alive"
                } else {
                    ""
                }
            ),
            None => "another session (lock file unreadable)".to_string(),
        }
    }
}

pub enum LockAttempt {
    Acquired(ChartLock),
    Held(HeldLock),
}

impl std::fmt::Debug for LockAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockAttempt::Acquired(lock) => write!(f, "Acquired({:?})", lock.holder),
            LockAttempt::Held(held) => write!(f, "Held({held:?})"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot {op} the chart lock {path}: {source}\n  the lock directory must be writable by every clinician of the queue; set lock_dir in the config to another shared directory")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "the lock is no longer the stale one that was shown; look again before taking it over"
    )]
    Changed,
}

/// The shared directory of chart locks.
#[derive(Debug, Clone)]
pub struct LockDir {
    path: PathBuf,
}

impl LockDir {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The default: `<queue_dir>/.karte-locks/` (for `ssmix2:ROOT`, `ROOT/.karte-locks/`).
    pub fn beside_queue(queue_dir: &Path) -> Self {
        let dir = crate::chart::ssmix2::storage_root(queue_dir);
        Self::new(dir.as_deref().unwrap_or(queue_dir).join(".karte-locks"))
    }

    /// `configured` (config `lock_dir`) if set, else beside the queue.
    pub fn resolve(configured: Option<&Path>, queue_dir: &Path) -> Self {
        configured.map_or_else(|| Self::beside_queue(queue_dir), Self::new)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn lock_path(&self, chart_id: &str) -> PathBuf {
        self.path.join(format!("{}.lock", chart_key(chart_id)))
    }

    fn io(&self, op: &'static str, path: &Path, source: io::Error) -> LockError {
        LockError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    fn ensure(&self) -> Result<(), LockError> {
        if self.path.is_dir() {
            return Ok(());
        }
        match fs::create_dir_all(&self.path) {
            Ok(()) => fs::set_permissions(&self.path, fs::Permissions::from_mode(0o2770))
                .map_err(|e| self.io("set the mode of", &self.path, e)),
            Err(e) if self.path.is_dir() => {
                let _ = e; // created by someone else meanwhile
                Ok(())
            }
            Err(e) => Err(self.io("create", &self.path, e)),
        }
    }

    /// Who holds the chart now, if anyone.
    pub fn holder(&self, chart_id: &str) -> Result<Option<HeldLock>, LockError> {
        let path = self.lock_path(chart_id);
        inspect(&path).map_err(|e| self.io("read", &path, e))
    }

    /// Takes the lock if it is free; otherwise says who holds it (and whether that session
    /// is gone, in which case `take_over` may be offered).
    pub fn try_acquire(
        &self,
        chart_id: &str,
        user: &str,
        session: &str,
    ) -> Result<LockAttempt, LockError> {
        self.ensure()?;
        let path = self.lock_path(chart_id);
        let me = LockHolder::me(user, session);
        match create_lock_file(&path, &me) {
            Ok(()) => Ok(LockAttempt::Acquired(ChartLock::start(path, me))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                match inspect(&path).map_err(|e| self.io("read", &path, e))? {
                    Some(held) => Ok(LockAttempt::Held(held)),
                    // Released between our create and our read: try once more.
                    None => self.create_after_race(&path, me),
                }
            }
            Err(e) => Err(self.io("create", &path, e)),
        }
    }

    /// One more exclusive create after a race: the lock is ours if it works, else whoever
    /// holds it now is reported (an unknown holder if it vanished again meanwhile).
    fn create_after_race(&self, path: &Path, me: LockHolder) -> Result<LockAttempt, LockError> {
        match create_lock_file(path, &me) {
            Ok(()) => Ok(LockAttempt::Acquired(ChartLock::start(
                path.to_path_buf(),
                me,
            ))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let held = inspect(path).map_err(|e| self.io("read", path, e))?;
                Ok(LockAttempt::Held(held.unwrap_or(HeldLock {
                    holder: None,
                    heartbeat_age: Duration::ZERO,
                    stale: false,
                })))
            }
            Err(e) => Err(self.io("create", path, e)),
        }
    }

    /// Takes over a stale lock. `seen` is the lock as shown to the clinician: if it changed
    /// since (another session took it, or its holder came back), nothing is taken.
    pub fn take_over(
        &self,
        chart_id: &str,
        seen: &HeldLock,
        user: &str,
        session: &str,
    ) -> Result<LockAttempt, LockError> {
        self.ensure()?;
        let path = self.lock_path(chart_id);
        let guard_path = path.with_extension("lock.takeover");
        let guard = match TakeoverGuard::create(&guard_path) {
            Ok(g) => g,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let age = file_age(&guard_path).unwrap_or(Duration::ZERO);
                if age < TAKEOVER_GUARD_STALE_AFTER {
                    // Someone else is taking over right now.
                    return self.try_acquire(chart_id, user, session);
                }
                let _ = fs::remove_file(&guard_path);
                TakeoverGuard::create(&guard_path).map_err(|e| self.io("create", &guard_path, e))?
            }
            Err(e) => return Err(self.io("create", &guard_path, e)),
        };
        let current = inspect(&path).map_err(|e| self.io("read", &path, e))?;
        let outcome = match current {
            None => self.try_acquire(chart_id, user, session),
            Some(now) if now.holder != seen.holder => Err(LockError::Changed),
            Some(now) if !now.stale => Ok(LockAttempt::Held(now)),
            Some(_) => {
                fs::remove_file(&path).map_err(|e| self.io("remove the stale", &path, e))?;
                // A plain acquire may slip in between: then it is a live holder.
                self.create_after_race(&path, LockHolder::me(user, session))
            }
        };
        drop(guard);
        outcome
    }
}

/// Reads a lock file and judges whether its holder is alive; `None` when there is no lock.
fn inspect(path: &Path) -> io::Result<Option<HeldLock>> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let heartbeat_age = match file_age(path) {
        Ok(age) => age,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let holder: Option<LockHolder> = serde_json::from_slice(&bytes).ok();
    let heartbeat_stale = heartbeat_age > STALE_AFTER;
    let process_gone = holder
        .as_ref()
        .is_some_and(|h| h.host == host_name() && !process_alive(h.pid));
    Ok(Some(HeldLock {
        holder,
        heartbeat_age,
        stale: heartbeat_stale || process_gone,
    }))
}

fn file_age(path: &Path) -> io::Result<Duration> {
    let modified = fs::metadata(path)?.modified()?;
    Ok(SystemTime::now()
        .duration_since(modified)
        .unwrap_or(Duration::ZERO))
}

/// `kill(pid, 0)`: the process exists (EPERM means it exists under another user).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks for existence and permission; it sends nothing.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn create_lock_file(path: &Path, me: &LockHolder) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(path)?;
    let bytes = serde_json::to_vec_pretty(me).unwrap_or_default();
    let written = file.write_all(&bytes).and_then(|_| file.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(path);
        return Err(e);
    }
    if let Some(dir) = path.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// The O_EXCL file that serialises takeovers; removed on drop.
struct TakeoverGuard {
    path: PathBuf,
}

impl TakeoverGuard {
    fn create(path: &Path) -> io::Result<Self> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }
}

impl Drop for TakeoverGuard {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// A held chart lock. A background thread keeps its heartbeat fresh; dropping it releases
/// the lock (only if the file is still ours).
pub struct ChartLock {
    path: PathBuf,
    holder: LockHolder,
    lost: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

impl ChartLock {
    fn start(path: PathBuf, holder: LockHolder) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel::<()>();
        let thread_path = path.clone();
        let thread_session = holder.session.clone();
        let thread_lost = Arc::clone(&lost);
        let heartbeat = std::thread::Builder::new()
            .name("karte-lock-heartbeat".into())
            .spawn(move || loop {
                match stopped.recv_timeout(HEARTBEAT_EVERY) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if !touch_if_ours(&thread_path, &thread_session) {
                            thread_lost.store(true, Ordering::SeqCst);
                        }
                    }
                    _ => return,
                }
            })
            .ok();
        if heartbeat.is_none() {
            tracing::warn!("cannot start the lock heartbeat thread; the lock may be seen as stale");
        }
        Self {
            path,
            holder,
            lost,
            stop: Some(stop),
            heartbeat,
        }
    }

    pub fn holder(&self) -> &LockHolder {
        &self.holder
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock was taken over by someone else (this session was seen as dead, e.g. while
    /// suspended): the editor must turn read-only.
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst) || !lock_is_ours(&self.path, &self.holder.session)
    }
}

impl Drop for ChartLock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.heartbeat.take() {
            let _ = thread.join();
        }
        if lock_is_ours(&self.path, &self.holder.session) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

impl std::fmt::Debug for ChartLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChartLock")
            .field("path", &self.path)
            .field("holder", &self.holder)
            .finish()
    }
}

fn lock_is_ours(path: &Path, session: &str) -> bool {
    fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<LockHolder>(&b).ok())
        .is_some_and(|h| h.session == session)
}

fn touch_if_ours(path: &Path, session: &str) -> bool {
    if !lock_is_ours(path, session) {
        return false;
    }
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_session_sees_the_holder_and_release_frees_it() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::beside_queue(dir.path());
        let LockAttempt::Acquired(lock) = locks.try_acquire("c1", "yamada", "s1").unwrap() else {
            panic!("first acquire must succeed");
        };
        assert_eq!(
            fs::metadata(locks.path()).unwrap().permissions().mode() & 0o7777,
            0o2770
        );
        assert_eq!(
            fs::metadata(lock.path()).unwrap().permissions().mode() & 0o777,
            0o640
        );
        match locks.try_acquire("c1", "suzuki", "s2").unwrap() {
            LockAttempt::Held(held) => {
                assert!(!held.stale);
                assert_eq!(held.holder.as_ref().unwrap().user, "yamada");
                assert!(held.describe().contains("yamada"));
            }
            LockAttempt::Acquired(_) => panic!("lock granted twice"),
        }
        assert!(!lock.is_lost());
        drop(lock);
        assert!(locks.holder("c1").unwrap().is_none());
        assert!(matches!(
            locks.try_acquire("c1", "suzuki", "s2").unwrap(),
            LockAttempt::Acquired(_)
        ));
    }

    #[test]
    fn dead_pid_is_stale_and_can_be_taken_over_once() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::beside_queue(dir.path());
        fs::create_dir_all(locks.path()).unwrap();
        let mut ghost = LockHolder::me("yamada", "crashed");
        ghost.pid = i32::MAX as u32; // no such process
        create_lock_file(&locks.lock_path("c1"), &ghost).unwrap();
        let LockAttempt::Held(seen) = locks.try_acquire("c1", "suzuki", "s2").unwrap() else {
            panic!("a stale lock is still shown, not silently taken");
        };
        assert!(seen.stale);
        let LockAttempt::Acquired(lock) = locks.take_over("c1", &seen, "suzuki", "s2").unwrap()
        else {
            panic!("takeover of a stale lock must succeed");
        };
        assert_eq!(lock.holder().user, "suzuki");
        // Showing the old holder again no longer matches: refused.
        assert!(matches!(
            locks.take_over("c1", &seen, "tanaka", "s3"),
            Err(LockError::Changed)
        ));
        assert!(!locks
            .lock_path("c1")
            .with_extension("lock.takeover")
            .exists());
    }

    #[test]
    fn a_lock_from_another_host_is_stale_only_when_its_heartbeat_stops() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::beside_queue(dir.path());
        fs::create_dir_all(locks.path()).unwrap();
        let mut remote = LockHolder::me("yamada", "remote");
        remote.host = "ward-server-2".into();
        remote.pid = 1; // alive here, but on another host it says nothing
        let path = locks.lock_path("c1");
        create_lock_file(&path, &remote).unwrap();
        let held = locks.holder("c1").unwrap().unwrap();
        assert!(!held.stale, "a fresh heartbeat from another host is alive");
        let old = SystemTime::now() - STALE_AFTER - Duration::from_secs(5);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let held = locks.holder("c1").unwrap().unwrap();
        assert!(held.stale, "no heartbeat for {:?}", held.heartbeat_age);
        assert!(held.describe().contains("ward-server-2"));
    }

    #[test]
    fn a_live_lock_cannot_be_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::beside_queue(dir.path());
        let LockAttempt::Acquired(_lock) = locks.try_acquire("c1", "yamada", "s1").unwrap() else {
            panic!();
        };
        let LockAttempt::Held(seen) = locks.try_acquire("c1", "suzuki", "s2").unwrap() else {
            panic!();
        };
        assert!(matches!(
            locks.take_over("c1", &seen, "suzuki", "s2").unwrap(),
            LockAttempt::Held(_)
        ));
    }

    #[test]
    fn taken_over_lock_is_reported_lost_to_its_old_holder() {
        let dir = tempfile::tempdir().unwrap();
        let locks = LockDir::beside_queue(dir.path());
        let LockAttempt::Acquired(lock) = locks.try_acquire("c1", "yamada", "s1").unwrap() else {
            panic!();
        };
        let other = LockHolder::me("suzuki", "s2");
        fs::remove_file(lock.path()).unwrap();
        create_lock_file(lock.path(), &other).unwrap();
        assert!(lock.is_lost());
        let path = lock.path().to_path_buf();
        drop(lock);
        assert!(
            path.exists(),
            "dropping a lost lock must not remove the new holder's file"
        );
    }
}
