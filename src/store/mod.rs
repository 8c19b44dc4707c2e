//! Per-user storage: edit journal and crash recovery, signed versions, chart locks, audit log.
