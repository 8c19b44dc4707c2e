//! Where each pane goes for a terminal size. Pure, so that `update` (scroll limits) and
//! `view` (drawing) agree. Wide terminals get three columns (queue | chart | draft); narrower
//! ones (80 columns) stack the queue above one detail pane (chart or draft, whichever was
//! focused last).

use crate::tui::state::app::Pane;
use ratatui::layout::Rect;

/// From this width on, the three panes sit side by side.
pub const THREE_COLUMNS_MIN_WIDTH: u16 = 120;
/// Below this, nothing useful fits; the screen says so.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Lines of patient header above the chart body (name, encounter, allergies).
pub const CHART_HEADER_LINES: u16 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub queue: Rect,
    pub chart: Option<Rect>,
    pub draft: Option<Rect>,
    /// The guard panel, under the draft (see `with_guard_panel`).
    pub guard: Option<Rect>,
    /// The chart summary panel, under the chart (see `with_summary_panel`).
    pub summary: Option<Rect>,
    pub status: Rect,
    pub too_small: bool,
}

impl Panes {
    pub fn compute(area: Rect, detail: Pane, queue_rows: usize) -> Self {
        let status = Rect::new(
            area.x,
            area.bottom().saturating_sub(1),
            area.width,
            area.height.min(1),
        );
        let body = Rect::new(area.x, area.y, area.width, area.height.saturating_sub(1));
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return Self {
                queue: body,
                chart: None,
                draft: None,
                guard: None,
                summary: None,
                status,
                too_small: true,
            };
        }
        if area.width >= THREE_COLUMNS_MIN_WIDTH {
            let queue_width = (body.width * 32 / 100).clamp(46, 72);
            let rest = body.width - queue_width;
            let chart_width = rest * 55 / 100;
            let queue = Rect::new(body.x, body.y, queue_width, body.height);
            let chart = Rect::new(queue.right(), body.y, chart_width, body.height);
            let draft = Rect::new(chart.right(), body.y, rest - chart_width, body.height);
            return Self {
                queue,
                chart: Some(chart),
                draft: Some(draft),
                guard: None,
                summary: None,
                status,
                too_small: false,
            };
        }
        // Stacked: the queue takes what its rows need, up to 2/5 of the height.
        let wanted = u16::try_from(queue_rows)
            .unwrap_or(u16::MAX)
            .saturating_add(3);
        let queue_height = wanted.clamp(5, (body.height * 2 / 5).max(5));
        let queue = Rect::new(body.x, body.y, body.width, queue_height);
        let detail_rect = Rect::new(
            body.x,
            queue.bottom(),
            body.width,
            body.height - queue_height,
        );
        let (chart, draft) = match detail {
            Pane::Draft => (None, Some(detail_rect)),
            Pane::Chart | Pane::Queue => (Some(detail_rect), None),
        };
        Self {
            queue,
            chart,
            draft,
            guard: None,
            summary: None,
            status,
            too_small: false,
        }
    }

    /// With the summary panel open, the lower part of the chart pane shows it.
    pub fn with_summary_panel(mut self, open: bool) -> Self {
        let Some(chart) = self.chart.filter(|c| open && c.height >= 14) else {
            return self;
        };
        let panel = (chart.height * 9 / 20).clamp(7, 24);
        self.chart = Some(Rect::new(
            chart.x,
            chart.y,
            chart.width,
            chart.height - panel,
        ));
        self.summary = Some(Rect::new(
            chart.x,
            chart.y + chart.height - panel,
            chart.width,
            panel,
        ));
        self
    }

    /// With the guard panel open, the lower part of the draft pane shows it (when the
    /// draft pane is tall enough to keep a few lines of text above it).
    pub fn with_guard_panel(mut self, open: bool) -> Self {
        let Some(draft) = self.draft.filter(|d| open && d.height >= 12) else {
            return self;
        };
        let panel = (draft.height * 2 / 5).clamp(6, 16);
        self.draft = Some(Rect::new(
            draft.x,
            draft.y,
            draft.width,
            draft.height - panel,
        ));
        self.guard = Some(Rect::new(
            draft.x,
            draft.y + draft.height - panel,
            draft.width,
            panel,
        ));
        self
    }

    pub fn three_columns(&self) -> bool {
        self.chart.is_some() && self.draft.is_some()
    }

    /// Queue rows visible between the borders and the column header.
    pub fn queue_visible_rows(&self) -> usize {
        usize::from(self.queue.height.saturating_sub(3))
    }

    /// Size of the scrollable chart body (inside borders, below the patient header).
    pub fn chart_body(&self) -> (usize, usize) {
        self.chart.map_or((0, 0), |r| {
            (
                usize::from(r.width.saturating_sub(2)),
                usize::from(r.height.saturating_sub(2 + CHART_HEADER_LINES)),
            )
        })
    }

    /// Size of the scrollable draft body (inside borders).
    pub fn draft_body(&self) -> (usize, usize) {
        self.draft.map_or((0, 0), |r| {
            (
                usize::from(r.width.saturating_sub(2)),
                usize::from(r.height.saturating_sub(2)),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eighty_columns_stack_and_two_hundred_sit_side_by_side() {
        let narrow = Panes::compute(Rect::new(0, 0, 80, 24), Pane::Chart, 12);
        assert!(!narrow.three_columns() && narrow.chart.is_some());
        assert_eq!(narrow.queue.width, 80);
        assert!(narrow.queue.height <= 9);
        assert_eq!(narrow.status.y, 23);
        let draft = Panes::compute(Rect::new(0, 0, 80, 24), Pane::Draft, 12);
        assert!(draft.chart.is_none() && draft.draft.is_some());
        let wide = Panes::compute(Rect::new(0, 0, 200, 50), Pane::Chart, 12);
        assert!(wide.three_columns());
        let (q, c, d) = (wide.queue, wide.chart.unwrap(), wide.draft.unwrap());
        assert_eq!(q.width + c.width + d.width, 200);
        assert_eq!(d.right(), 200);
        assert!(Panes::compute(Rect::new(0, 0, 30, 8), Pane::Chart, 3).too_small);
    }

    #[test]
    fn guard_and_summary_panels_take_the_lower_part_of_their_pane() {
        let wide = Panes::compute(Rect::new(0, 0, 200, 50), Pane::Chart, 12)
            .with_guard_panel(true)
            .with_summary_panel(true);
        let (draft, guard) = (wide.draft.unwrap(), wide.guard.unwrap());
        assert_eq!(draft.bottom(), guard.y);
        assert_eq!(draft.height + guard.height, 49);
        let (chart, summary) = (wide.chart.unwrap(), wide.summary.unwrap());
        assert_eq!(chart.bottom(), summary.y);
        assert_eq!(summary.bottom(), 49);
        // Closed panels and hidden panes change nothing.
        let narrow = Panes::compute(Rect::new(0, 0, 80, 24), Pane::Draft, 12);
        assert_eq!(narrow.with_summary_panel(true), narrow);
        assert_eq!(narrow.with_guard_panel(false), narrow);
        assert!(narrow.with_guard_panel(true).guard.is_some());
    }
}
