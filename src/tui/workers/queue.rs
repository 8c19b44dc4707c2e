//! Keeps the queue in step with its directory, off the UI thread: scans once, then rescans
//! when the directory changes (file watcher) or the user asks, and sends the rows to the
//! event loop as `Action`s. A directory that cannot be read is retried every few seconds.

use crate::chart::{watch, Queue};
use crate::tui::action::{Action, QueueRow};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Editors write a file in several steps; wait this long for the burst to end.
const SETTLE: Duration = Duration::from_millis(200);
/// How often a missing or unreadable queue directory is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// Starts the worker on the current tokio runtime. Send `()` on the returned channel to ask
/// for a rescan; drop it to stop the worker.
pub fn spawn(dir: PathBuf, actions: UnboundedSender<Action>) -> UnboundedSender<()> {
    let (rescan_tx, rescan_rx) = unbounded_channel();
    tokio::spawn(run(dir, actions, rescan_rx));
    rescan_tx
}

async fn run(dir: PathBuf, actions: UnboundedSender<Action>, mut rescan_rx: UnboundedReceiver<()>) {
    let (change_tx, mut change_rx) = unbounded_channel::<()>();
    let mut queue: Option<Queue> = None;
    let mut watcher = None;
    let mut asked_by_user = false;
    let mut watch_failure_shown = false;
    loop {
        // Watch before scanning, so a file written between the scan and the watch is
        // not missed. A directory that does not exist yet is retried on the timer.
        if watcher.is_none() && dir.is_dir() {
            match watch(&dir, change_tx.clone()) {
                Ok(w) => watcher = Some(w),
                Err(error) => {
                    tracing::warn!("queue watcher: {error}");
                    if !watch_failure_shown {
                        watch_failure_shown = true;
                        let _ = actions.send(Action::Status(error.japanese()));
                    }
                    // Without a watcher, fall back to polling via the retry timer below.
                }
            }
        }
        let scan_dir = dir.clone();
        let previous = queue.take();
        let scanned = tokio::task::spawn_blocking(move || match previous {
            Some(mut queue) => {
                let changed = queue.rescan();
                Ok((queue, changed))
            }
            None => Queue::scan(&scan_dir).map(|queue| (queue, true)),
        })
        .await;
        let message = match scanned {
            Ok(Ok((scanned, changed))) => {
                let message = if changed {
                    Action::QueueLoaded(QueueRow::from_queue(&scanned))
                } else if asked_by_user {
                    Action::Status(format!(
                        "キューに変更はありません ({}件)",
                        scanned.entries().len()
                    ))
                } else {
                    Action::Status(String::new())
                };
                tracing::debug!(entries = scanned.entries().len(), changed, "queue scanned");
                queue = Some(scanned);
                message
            }
            Ok(Err(error)) => Action::QueueUnavailable(error.japanese()),
            Err(join_error) => {
                tracing::error!("queue scan task failed: {join_error}");
                Action::QueueUnavailable(format!(
                    "キューの読み込みが異常終了しました: {join_error}"
                ))
            }
        };
        let is_silent = matches!(&message, Action::Status(s) if s.is_empty());
        if !is_silent && actions.send(message).is_err() {
            return; // the UI has gone
        }
        let retry = queue.is_none() || watcher.is_none();
        // An SS-MIX2 storage is read in batches: go on at once until every patient is read.
        let more = queue.as_ref().is_some_and(|q| !q.is_complete());
        tokio::select! {
            () = std::future::ready(()), if more => asked_by_user = false,
            request = rescan_rx.recv() => {
                if request.is_none() {
                    return;
                }
                asked_by_user = true;
            }
            Some(()) = change_rx.recv() => asked_by_user = false,
            () = tokio::time::sleep(RETRY), if retry => asked_by_user = false,
        }
        if !more {
            tokio::time::sleep(SETTLE).await;
        }
        while change_rx.try_recv().is_ok() {}
        while rescan_rx.try_recv().is_ok() {
            asked_by_user = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CHART: &str = r#"{"id": "W-1", "patient": {"id": "P-1", "name": "試験 一郎"}}"#;

    async fn next_rows(rx: &mut UnboundedReceiver<Action>) -> Vec<QueueRow> {
        loop {
            let action = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .expect("the worker answers")
                .expect("the worker is alive");
            if let Action::QueueLoaded(rows) = action {
                return rows;
            }
        }
    }

    fn names(rows: &[QueueRow]) -> Vec<&str> {
        rows.iter().map(|r| r.file_name.as_str()).collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_added_changed_and_removed_reach_the_screen() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), CHART).unwrap();
        let (tx, mut rx) = unbounded_channel();
        let rescan = spawn(dir.path().to_path_buf(), tx);
        assert_eq!(names(&next_rows(&mut rx).await), ["a.json"]);

        std::fs::write(dir.path().join("b.json"), "{ broken").unwrap();
        let rows = next_rows(&mut rx).await;
        assert_eq!(names(&rows), ["a.json", "b.json"]);
        assert!(rows[1].chart.is_err());

        std::fs::remove_file(dir.path().join("a.json")).unwrap();
        assert_eq!(names(&next_rows(&mut rx).await), ["b.json"]);

        // A rescan the user asks for with nothing changed says so.
        rescan.send(()).unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(answer, Action::Status(ref s) if s.contains("変更はありません")),
            "{answer:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_missing_directory_is_reported_and_picked_up_when_it_appears() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("later");
        let (tx, mut rx) = unbounded_channel();
        let rescan = spawn(dir.clone(), tx);
        let first = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        match first {
            Action::QueueUnavailable(message) => assert!(message.contains("later"), "{message}"),
            other => panic!("expected QueueUnavailable, got {other:?}"),
        }
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(Path::new(&dir).join("a.json"), CHART).unwrap();
        rescan.send(()).unwrap();
        assert_eq!(names(&next_rows(&mut rx).await), ["a.json"]);
    }
}
