//! Edit-time metrics: event recorder (background writer), SQLite schema, per-document measures, studies, report.
