//! The provenance guard: every entity in a draft checked against the chart.
