//! What a run prints while it runs.
//!
//! - [`Mode::Live`] (a terminal, `CI` unset): one spinner line per running scenario naming what
//!   it waits for (`web: 2/3 Ready, waiting for web-2 Ready`), finished steps printed above.
//! - [`Mode::Plain`] (not a terminal, or `CI=true`): one line per finished step, nothing else;
//!   lines of parallel scenarios stay whole.
//! - [`Mode::Quiet`] (`-q`): nothing; the summary table only.

use std::{collections::BTreeMap, io::IsTerminal, time::Duration};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::runner::{ProgressEvent, StepReport};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Spinners that say what each running step waits for.
    Live,
    /// A line per finished step.
    Plain,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// The mode for this process: quiet when asked; plain when stdout is not a terminal or the
    /// `CI` environment variable is set (to anything but `false` or `0`); live otherwise.
    #[must_use]
    pub fn detect(quiet: bool) -> Self {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        if quiet {
            Mode::Quiet
        } else if ci || !std::io::stdout().is_terminal() {
            Mode::Plain
        } else {
            Mode::Live
        }
    }
}

/// Progress on the terminal.
pub struct Printer {
    mode: Mode,
    bars: MultiProgress,
    running: BTreeMap<String, (ProgressBar, String)>,
}

impl Printer {
    /// A printer in `mode`.
    #[must_use]
    pub fn new(mode: Mode) -> Self {
        Self { mode, bars: MultiProgress::new(), running: BTreeMap::new() }
    }

    fn line(&self, text: &str) {
        match self.mode {
            Mode::Live => {
                let _ = self.bars.println(text);
            }
            Mode::Plain => crate::outln!("{text}"),
            Mode::Quiet => {}
        }
    }

    fn bar(&mut self, scenario: &str) -> &mut (ProgressBar, String) {
        let bars = &self.bars;
        self.running.entry(scenario.to_owned()).or_insert_with(|| {
            let bar = bars.add(ProgressBar::new_spinner());
            bar.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
            bar.enable_steady_tick(Duration::from_millis(120));
            (bar, String::new())
        })
    }
}

impl Printer {
    /// Shows `event` as the mode says.
    pub fn report(&mut self, event: ProgressEvent) {
        match event {
            ProgressEvent::StepStarted { scenario, index, total, action } => self.step_started(&scenario, index, total, &action),
            ProgressEvent::Waiting { scenario, status } => self.waiting(&scenario, &status),
            ProgressEvent::StepFinished { scenario, report } => self.step_finished(&scenario, &report),
            ProgressEvent::ScenarioFinished { scenario, failed } => self.scenario_finished(&scenario, failed),
        }
    }

    fn step_started(&mut self, scenario: &str, index: usize, total: usize, action: &str) {
        if self.mode == Mode::Live {
            let (bar, step) = self.bar(scenario);
            *step = format!("[{scenario}] step {}/{total}: {action}", index + 1);
            bar.set_message(step.clone());
        }
    }

    fn waiting(&mut self, scenario: &str, status: &str) {
        if self.mode == Mode::Live {
            let (bar, step) = self.bar(scenario);
            bar.set_message(format!("{step} — {status}"));
        }
    }

    fn step_finished(&mut self, scenario: &str, report: &StepReport) {
        let secs = report.elapsed_ms as f64 / 1000.0;
        let step = format!("[{scenario}] step {}: {}", report.index + 1, report.action);
        let text = match (&report.error, &report.skipped) {
            (Some(e), _) => format!("{step} — FAILED ({secs:.1}s)\n    {e}"),
            (None, Some(why)) => format!("{step} — skipped ({why})"),
            (None, None) => format!("{step} — done ({secs:.1}s)"),
        };
        self.line(&text);
    }

    fn scenario_finished(&mut self, scenario: &str, failed: bool) {
        if let Some((bar, _)) = self.running.remove(scenario) {
            bar.finish_and_clear();
        }
        self.line(&format!("[{scenario}] {}", if failed { "FAILED" } else { "passed" }));
    }
}
