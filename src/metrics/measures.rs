//! Per-document measures from the stored events: wall time, active time (intervals between
//! input events capped at the idle threshold), reading vs editing vs waiting for the model,
//! keystrokes, characters, edit statistics at sign time, guard flags.
//!
//! Rules (the replay test in tests/metrics_replay.rs checks them against a ground truth):
//! - an interval runs from one input event to the next within a session, and belongs to the
//!   document of the event that starts it; guard flags raised/fixed are not input;
//! - an interval counts at most the idle threshold, except while the model is being waited
//!   on (generate → wait end or cancel), which counts in full (capped at 10 minutes);
//! - reading vs editing follows the focus at the start of the interval (opening a chart
//!   focuses the chart);
//! - signing stops the document's clock; quit and disconnect end the session;
//! - intervals never span sessions: the time between an SSH drop and the reconnect never
//!   counts, and a document worked on in several sessions adds up into one.

use crate::metrics::event::{EditKind, EventKind, FocusTarget, SignStats};
use std::collections::HashMap;

/// Longest single interval counted as waiting for the model (10 minutes).
pub const MODEL_WAIT_CAP_US: i64 = 600 * 1_000_000;

/// An event as read back from the DB (row ids instead of names).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub session: i64,
    pub document: Option<i64>,
    pub kind: EventKind,
    pub mono_us: i64,
    pub wall_ms: i64,
}

/// What was measured for one document (times in microseconds, exact sums).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentMeasures {
    pub sessions: Vec<i64>,
    pub first_wall_ms: Option<i64>,
    /// Wall clock of the (last) sign event; `None` while unsigned.
    pub signed_wall_ms: Option<i64>,
    /// Session in which the document was signed.
    pub signing_session: Option<i64>,
    pub active_us: i64,
    pub reading_us: i64,
    pub editing_us: i64,
    pub waiting_us: i64,
    /// Edit actions (each a key press or a paste).
    pub keystrokes: u64,
    pub chars_inserted: u64,
    pub chars_deleted: u64,
    pub chars_pasted: u64,
    pub sign: Option<SignStats>,
    pub flags_raised: u64,
    pub flags_fixed: u64,
    pub flags_acknowledged: u64,
    /// Flags raised and not fixed so far.
    pub flags_open: u64,
    /// The session whose guard reports were counted last (see `count_flags_raised`).
    flag_session: Option<i64>,
}

impl DocumentMeasures {
    /// Wall time from first event (open) to sign, in seconds.
    pub fn wall_secs(&self) -> Option<f64> {
        Some((self.signed_wall_ms? - self.first_wall_ms?) as f64 / 1000.0)
    }
}

/// Measures every document in `events`. Events may come in any order; they are ordered by
/// session and monotonic time (ties keep their given order, i.e. insertion order).
pub fn measure_documents(
    events: &[StoredEvent],
    idle_threshold_us: i64,
) -> HashMap<i64, DocumentMeasures> {
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (events[i].session, events[i].mono_us));
    let mut measures: HashMap<i64, DocumentMeasures> = HashMap::new();
    let mut index = 0;
    while index < order.len() {
        let session = events[order[index]].session;
        let end = order[index..]
            .iter()
            .position(|&i| events[i].session != session)
            .map_or(order.len(), |offset| index + offset);
        measure_session(
            order[index..end].iter().map(|&i| &events[i]),
            idle_threshold_us,
            &mut measures,
        );
        index = end;
    }
    measures
}

/// Walks one session in time order, attributing each interval to the document of the event
/// that starts it.
fn measure_session<'a>(
    events: impl Iterator<Item = &'a StoredEvent>,
    idle_threshold_us: i64,
    measures: &mut HashMap<i64, DocumentMeasures>,
) {
    let mut focus = FocusTarget::Chart;
    let mut waiting_for: Option<i64> = None;
    // Time and document of the last input event, if the session is still going.
    let mut previous: Option<(i64, Option<i64>)> = None;
    for event in events {
        if let Some(document) = event.document {
            let entry = measures.entry(document).or_default();
            if !entry.sessions.contains(&event.session) {
                entry.sessions.push(event.session);
            }
            entry.first_wall_ms = Some(
                entry
                    .first_wall_ms
                    .map_or(event.wall_ms, |first| first.min(event.wall_ms)),
            );
        }
        if event.kind.is_system() {
            count_document_event(measures, event);
            continue;
        }
        if let Some((previous_us, Some(previous_document))) = previous {
            let interval = (event.mono_us - previous_us).max(0);
            let entry = measures.entry(previous_document).or_default();
            if entry.signed_wall_ms.is_some() {
                // Already signed (an export or a look after signing): the clock has stopped.
            } else if waiting_for == Some(previous_document) {
                // Waiting on the model is documentation time, not idleness; the cap only
                // guards against a wait whose end was never recorded (a crash mid-generation).
                let counted = interval.min(MODEL_WAIT_CAP_US);
                entry.active_us += counted;
                entry.waiting_us += counted;
            } else {
                let counted = interval.min(idle_threshold_us);
                entry.active_us += counted;
                match focus {
                    FocusTarget::Chart => entry.reading_us += counted,
                    FocusTarget::Draft => entry.editing_us += counted,
                }
            }
        }
        count_document_event(measures, event);
        match event.kind {
            EventKind::OpenChart => focus = FocusTarget::Chart,
            EventKind::Focus(target) => focus = target,
            EventKind::ModelWaitStart => waiting_for = event.document,
            EventKind::ModelWaitEnd | EventKind::Cancel => waiting_for = None,
            _ => {}
        }
        previous = match event.kind {
            // Signing stops the document's clock; quitting or a drop ends the session.
            EventKind::Sign(_) => None,
            EventKind::Quit | EventKind::Disconnect => {
                waiting_for = None;
                None
            }
            _ => Some((event.mono_us, event.document)),
        };
    }
}

fn count_document_event(measures: &mut HashMap<i64, DocumentMeasures>, event: &StoredEvent) {
    let Some(document) = event.document else {
        return;
    };
    let entry = measures.entry(document).or_default();
    match event.kind {
        EventKind::Edit { kind, chars } => {
            entry.keystrokes += 1;
            let chars = u64::from(chars);
            match kind {
                EditKind::Typed => entry.chars_inserted += chars,
                EditKind::Deleted => entry.chars_deleted += chars,
                EditKind::Pasted => entry.chars_pasted += chars,
                EditKind::Undone | EditKind::Redone => {}
            }
        }
        EventKind::FlagRaised { count } => count_flags_raised(entry, event.session, count),
        EventKind::FlagFixed { count } => {
            entry.flags_fixed += u64::from(count);
            entry.flags_open = entry.flags_open.saturating_sub(u64::from(count));
        }
        EventKind::AcknowledgeFlag => entry.flags_acknowledged += 1,
        // The last sign counts (a document is signed once per version).
        EventKind::Sign(stats) if entry.signed_wall_ms.is_none_or(|at| event.wall_ms >= at) => {
            entry.signed_wall_ms = Some(event.wall_ms);
            entry.signing_session = Some(event.session);
            entry.sign = Some(stats);
        }
        _ => {}
    }
}

/// A session that reopens a document (a reconnect) checks it afresh: its first report
/// raises again the flags still open from earlier sessions, so only those beyond them are
/// new, and what it found is what is open now.
fn count_flags_raised(entry: &mut DocumentMeasures, session: i64, count: u32) {
    let count = u64::from(count);
    if entry.flag_session == Some(session) {
        entry.flags_raised += count;
        entry.flags_open += count;
        return;
    }
    entry.flag_session = Some(session);
    entry.flags_raised += count.saturating_sub(entry.flags_open);
    entry.flags_open = count;
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn event(session: i64, secs: i64, kind: EventKind) -> StoredEvent {
        StoredEvent {
            session,
            document: Some(1),
            kind,
            mono_us: secs * S,
            wall_ms: 1_700_000_000_000 + session * 10_000_000 + secs * 1000,
        }
    }

    fn typed() -> EventKind {
        EventKind::Edit {
            kind: EditKind::Typed,
            chars: 2,
        }
    }

    #[test]
    fn idle_gaps_are_capped_and_sessions_add_up() {
        let events = vec![
            event(1, 0, EventKind::OpenChart),
            event(1, 20, EventKind::Focus(FocusTarget::Draft)),
            event(1, 25, typed()),
            event(1, 125, typed()), // 100 s idle → 30 s
            event(1, 130, EventKind::Disconnect),
            // Reconnect: a new session, its clock restarts.
            event(2, 0, EventKind::OpenChart),
            event(2, 10, EventKind::Focus(FocusTarget::Draft)),
            event(2, 15, EventKind::Sign(SignStats::default())),
            event(2, 25, EventKind::Export), // after the sign: not counted
            event(2, 35, EventKind::Quit),
        ];
        let measures = measure_documents(&events, 30 * S);
        let doc = &measures[&1];
        assert_eq!(doc.active_us, (20 + 5 + 30 + 5 + 10 + 5) * S);
        assert_eq!(doc.reading_us, (20 + 10) * S);
        assert_eq!(doc.editing_us, (5 + 30 + 5 + 5) * S);
        assert_eq!(doc.sessions, vec![1, 2]);
        assert_eq!(doc.keystrokes, 2);
        assert_eq!(doc.chars_inserted, 4);
        assert!(doc.signed_wall_ms.is_some());
    }

    #[test]
    fn model_waits_count_in_full() {
        let events = vec![
            event(1, 0, EventKind::OpenChart),
            event(1, 5, EventKind::Generate),
            event(1, 5, EventKind::ModelWaitStart),
            event(1, 5, EventKind::FlagRaised { count: 3 }),
            event(1, 50, EventKind::ModelWaitEnd),
            event(1, 60, EventKind::AcknowledgeFlag),
        ];
        let doc = &measure_documents(&events, 30 * S)[&1];
        assert_eq!(doc.waiting_us, 45 * S);
        assert_eq!(doc.active_us, 60 * S);
        assert_eq!(doc.flags_raised, 3);
        assert_eq!(doc.flags_acknowledged, 1);
        assert_eq!(doc.signed_wall_ms, None);
    }

    #[test]
    fn flags_reported_again_after_a_reconnect_are_not_new() {
        let events = vec![
            event(1, 0, EventKind::OpenChart),
            event(1, 1, EventKind::FlagRaised { count: 3 }),
            event(1, 9, EventKind::FlagFixed { count: 1 }),
            event(1, 10, EventKind::Disconnect),
            // The new session's guard finds the 2 still open, then one more after an edit.
            event(2, 0, EventKind::OpenChart),
            event(2, 1, EventKind::FlagRaised { count: 2 }),
            event(2, 5, EventKind::FlagRaised { count: 1 }),
            event(2, 8, EventKind::FlagFixed { count: 2 }),
            // A third session's first report: the one still open and one new.
            event(3, 0, EventKind::OpenChart),
            event(3, 1, EventKind::FlagRaised { count: 2 }),
        ];
        let doc = &measure_documents(&events, 30 * S)[&1];
        assert_eq!(doc.flags_raised, 3 + 1 + 1);
        assert_eq!(doc.flags_fixed, 3);
        assert_eq!(doc.flags_open, 2);
    }
}
