//! The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)
//! with a section per scenario — its claims, its steps and a chart of the run: a lane per pod,
//! claim and StatefulSet showing the states each went through, the steps as bands, and every
//! judged check's verdict pinned at its evidence. Hovering a bar or a mark shows the entry
//! (an SVG `<title>`, which browsers show without script).
//!
//! `run --output-dir DIR` writes `DIR/report.html`; `analyze FILE --html OUT` draws a recorded
//! timeline, or each session of a `kubectl get pods -w` transcript (hovering names the
//! transcript line an entry was read from).

pub mod chart;
mod render;

pub use render::{report, transcript_report};
