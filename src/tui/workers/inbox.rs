//! The one latest-wins inbox of the workers: requests wait in order; a request sent with a
//! key replaces the one with the same key that is still waiting (not started), in its
//! place, so a worker that falls behind (the guard while the clinician types) does only the
//! newest work of each document. Requests without a key are never replaced.
//!
//! The sending half learns when the worker is gone, and whether it is the first time
//! ([`Stopped::first`]), so a handle can say "the worker stopped" once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A new inbox: the handle's half and the worker thread's half.
pub fn inbox<K, T>() -> (InboxSender<K, T>, Inbox<K, T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            waiting: VecDeque::new(),
            worker_gone: false,
            senders: 1,
        }),
        arrived: Condvar::new(),
    });
    (
        InboxSender {
            shared: Arc::clone(&shared),
            told_stopped: AtomicBool::new(false),
        },
        Inbox { shared },
    )
}

struct State<K, T> {
    waiting: VecDeque<(Option<K>, T)>,
    /// The worker's half was dropped: nothing sent is ever done.
    worker_gone: bool,
    /// Live sending halves; none left and nothing waiting ends `recv`.
    senders: usize,
}

struct Shared<K, T> {
    state: Mutex<State<K, T>>,
    arrived: Condvar,
}

impl<K, T> Shared<K, T> {
    /// The state, even if a thread panicked holding it (the queue itself stays whole).
    fn lock(&self) -> MutexGuard<'_, State<K, T>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The worker is gone; `first` is true for the first failed send of this sender only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    pub first: bool,
}

/// What the handle sends with.
pub struct InboxSender<K, T> {
    shared: Arc<Shared<K, T>>,
    told_stopped: AtomicBool,
}

impl<K: PartialEq, T> InboxSender<K, T> {
    /// Queues `request`; with `Some(key)` it replaces the waiting request of that key.
    pub fn send(&self, key: Option<K>, request: T) -> Result<(), Stopped> {
        let mut state = self.shared.lock();
        if state.worker_gone {
            drop(state);
            let first = !self.told_stopped.swap(true, Ordering::Relaxed);
            return Err(Stopped { first });
        }
        let waiting = key.as_ref().and_then(|key| {
            state
                .waiting
                .iter_mut()
                .find(|(queued, _)| queued.as_ref() == Some(key))
        });
        match waiting {
            Some(slot) => slot.1 = request,
            None => state.waiting.push_back((key, request)),
        }
        drop(state);
        self.shared.arrived.notify_one();
        Ok(())
    }
}

impl<K, T> Clone for InboxSender<K, T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Self {
            shared: Arc::clone(&self.shared),
            told_stopped: AtomicBool::new(false),
        }
    }
}

impl<K, T> Drop for InboxSender<K, T> {
    fn drop(&mut self) {
        self.shared.lock().senders -= 1;
        self.shared.arrived.notify_all();
    }
}

/// What the worker thread receives from.
pub struct Inbox<K, T> {
    shared: Arc<Shared<K, T>>,
}

impl<K, T> Inbox<K, T> {
    /// The oldest waiting request; blocks until one comes. `None` once every sender is
    /// dropped and nothing waits (the worker should end).
    pub fn recv(&self) -> Option<T> {
        let mut state = self.shared.lock();
        loop {
            if let Some((_, request)) = state.waiting.pop_front() {
                return Some(request);
            }
            if state.senders == 0 {
                return None;
            }
            state = self
                .shared
                .arrived
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

impl<K, T> Drop for Inbox<K, T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.worker_gone = true;
        state.waiting.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_request_replaces_the_waiting_one_of_its_key_in_place() {
        let (tx, rx) = inbox::<&str, u32>();
        tx.send(Some("a"), 1).unwrap();
        tx.send(None, 2).unwrap();
        tx.send(Some("b"), 3).unwrap();
        tx.send(Some("a"), 4).unwrap();
        tx.send(None, 5).unwrap();
        drop(tx);
        let got: Vec<u32> = std::iter::from_fn(|| rx.recv()).collect();
        assert_eq!(got, vec![4, 2, 3, 5]);
    }

    #[test]
    fn a_started_request_is_not_replaced() {
        let (tx, rx) = inbox::<&str, u32>();
        tx.send(Some("a"), 1).unwrap();
        assert_eq!(rx.recv(), Some(1)); // started
        tx.send(Some("a"), 2).unwrap();
        assert_eq!(rx.recv(), Some(2));
    }

    #[test]
    fn the_worker_waits_for_requests_and_ends_with_the_last_sender() {
        let (tx, rx) = inbox::<u8, u32>();
        let worker = std::thread::spawn(move || std::iter::from_fn(|| rx.recv()).sum::<u32>());
        let second = tx.clone();
        tx.send(None, 1).unwrap();
        second.send(None, 2).unwrap();
        drop(tx);
        drop(second);
        assert_eq!(worker.join().unwrap(), 3);
    }

    #[test]
    fn a_gone_worker_is_reported_first_once() {
        let (tx, rx) = inbox::<u8, u32>();
        drop(rx);
        assert_eq!(tx.send(Some(1), 1), Err(Stopped { first: true }));
        assert_eq!(tx.send(Some(1), 2), Err(Stopped { first: false }));
    }
}
