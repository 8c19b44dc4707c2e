//! Undo/redo as snapshots of (text, cursor). Drafts are a few kilobytes, so whole
//! snapshots are cheaper to get right than inverse operations. Consecutive typing is
//! coalesced into one undo step, as in every editor clinicians know.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub text: String,
    pub cursor: usize,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
    /// True while the last change was typing that the next keystroke may join.
    coalescing: bool,
}

const MAX_STEPS: usize = 1000;

impl History {
    /// Records the state before a change. `typing` changes join the previous typing step.
    pub fn before_change(&mut self, before: Snapshot, typing: bool) {
        self.redo.clear();
        if typing && self.coalescing {
            return;
        }
        self.coalescing = typing;
        self.undo.push(before);
        if self.undo.len() > MAX_STEPS {
            self.undo.remove(0);
        }
    }

    /// Ends typing coalescing (a cursor move or pause starts a new undo step).
    pub fn break_coalescing(&mut self) {
        self.coalescing = false;
    }

    pub fn undo(&mut self, current: Snapshot) -> Option<Snapshot> {
        let previous = self.undo.pop()?;
        self.redo.push(current);
        self.coalescing = false;
        Some(previous)
    }

    pub fn redo(&mut self, current: Snapshot) -> Option<Snapshot> {
        let next = self.redo.pop()?;
        self.undo.push(current);
        self.coalescing = false;
        Some(next)
    }
}
