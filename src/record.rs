//! Timeline files (`timeline.jsonl`): a run's history on disk, judged again by `analyze`.
//!
//! JSON Lines. The first line is a [`Header`]: the format name and version, the scenario, its
//! namespace, and every expectation the run judged (step, check, target, claims), so the file
//! alone says what to check. Each following line is one [`Entry`] in `seq` order:
//!
//! ```text
//! {"format":"sts-conformance-timeline","version":3,"scenario":"seed-001-web",...}
//! {"seq":0,"atMs":0,"event":{"type":"step","index":0,"action":"apply web"}}
//! {"seq":1,"atMs":12,"event":{"type":"pod","change":"added","pod":{"name":"web-0",...}}}
//! ```
//!
//! The version written is [`FORMAT_VERSION`] (its history is on that constant); a reader takes
//! every version from 1 up to it and refuses later ones.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::{
    manifest::InputError,
    runner::{ScenarioReport, StepOutcome, StepReport},
    scenario::StepExpectation,
    timeline::{Entry, FORMAT_VERSION, Timeline},
};

/// A recorded run judged again as its header says (its checks, steps and targets): the report
/// `analyze` prints and draws for a timeline file.
#[must_use]
pub fn judged_again(header: Header, timeline: Timeline) -> ScenarioReport {
    let steps = header.step_reports();
    let judged =
        crate::runner::judge_expectations(&header.expectations, &timeline, &header.namespace, &header.cluster_domain, &steps);
    let claims = crate::runner::claim_verdicts_for(&header.claims, &header.expectations, &judged, &steps);
    ScenarioReport {
        scenario: header.scenario,
        namespace: header.namespace,
        run_id: header.run_id,
        steps,
        judged,
        claims,
        diagnostics: None,
        cleanup_error: None,
        timeline,
    }
}

/// The value of [`Header::format`].
pub const FORMAT: &str = "sts-conformance-timeline";

/// The first line of a timeline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written.
    pub version: u32,
    /// Scenario name.
    pub scenario: String,
    /// Namespace it ran in.
    pub namespace: String,
    /// The run's id (part of run-unique names).
    #[serde(default)]
    pub run_id: String,
    /// Cluster DNS domain of the run.
    pub cluster_domain: String,
    /// Claim ids the scenario proves.
    pub claims: Vec<String>,
    /// The steps as run.
    pub steps: Vec<StepRecord>,
    /// Every expectation of the scenario, run or not.
    pub expectations: Vec<StepExpectation>,
}

/// A step as run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Index from 0.
    pub index: usize,
    /// What it did.
    pub action: String,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How it ended (absent in version 1 files: then read from `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<StepOutcome>,
    /// Why it was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// How long it ran, in ms (absent before version 5).
    #[serde(default, rename = "elapsedMs", skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
}

impl Header {
    /// The header of a finished scenario run.
    #[must_use]
    pub fn of(report: &ScenarioReport, scenario: &crate::scenario::Scenario, cluster_domain: &str) -> Self {
        Self {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            scenario: report.scenario.clone(),
            namespace: report.namespace.clone(),
            run_id: report.run_id.clone(),
            cluster_domain: cluster_domain.into(),
            claims: scenario.claims.clone(),
            steps: report
                .steps
                .iter()
                .map(|s| StepRecord {
                    index: s.index,
                    action: s.action.clone(),
                    error: s.error.clone(),
                    outcome: Some(s.outcome),
                    skipped: s.skipped.clone(),
                    elapsed_ms: Some(s.elapsed_ms),
                })
                .collect(),
            expectations: scenario.expectations(),
        }
    }

    /// The steps as [`StepReport`]s (with their durations from version 5 on; without the
    /// decision timings, which the file does not keep).
    #[must_use]
    pub fn step_reports(&self) -> Vec<StepReport> {
        self.steps
            .iter()
            .map(|s| StepReport {
                index: s.index,
                action: s.action.clone(),
                elapsed_ms: s.elapsed_ms.unwrap_or(0),
                outcome: s.outcome.unwrap_or(if s.error.is_some() { StepOutcome::ActionFailed } else { StepOutcome::Completed }),
                error: s.error.clone(),
                skipped: s.skipped.clone(),
                timing: None,
            })
            .collect()
    }
}

/// Writes `header` and `timeline` as JSON Lines.
///
/// # Errors
/// When writing fails.
pub fn write(out: &mut impl Write, header: &Header, timeline: &Timeline) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, header)?;
    out.write_all(b"\n")?;
    for entry in &timeline.entries {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Whether `text` starts like a timeline file (its first non-blank line names the format).
#[must_use]
pub fn looks_like_timeline(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .is_some_and(|v| v.get("format").and_then(|f| f.as_str()) == Some(FORMAT))
}

/// Reads a timeline file; `file` names it in errors.
///
/// # Errors
/// A bad header, an unknown version, a line that is not an entry, or entries out of order —
/// each with the line it is on.
pub fn read(file: &std::path::Path, text: &str) -> Result<(Header, Timeline), InputError> {
    let error = |line: usize, message: String| InputError::at(file, line as u64, 1, message);
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((n, first)) = lines.next() else { return Err(error(1, "empty timeline file".into())) };
    let header: Header = serde_json::from_str(first).map_err(|e| error(n + 1, format!("not a timeline header: {e}")))?;
    if header.format != FORMAT {
        return Err(error(n + 1, format!("format is {:?}, expected {FORMAT:?}", header.format)));
    }
    if !(1..=FORMAT_VERSION).contains(&header.version) {
        return Err(error(
            n + 1,
            format!(
                "timeline format version {} is not supported (this build reads versions 1 to {FORMAT_VERSION})",
                header.version
            ),
        ));
    }
    let mut timeline = Timeline::new();
    for (n, line) in lines {
        let entry: Entry = serde_json::from_str(line).map_err(|e| error(n + 1, format!("not a timeline entry: {e}")))?;
        if entry.seq != timeline.len() {
            return Err(error(n + 1, format!("entry seq {} out of order: expected {}", entry.seq, timeline.len())));
        }
        timeline.entries.push(entry);
    }
    Ok((header, timeline))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{checks::CheckName, timeline::Event};

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            scenario: "s".into(),
            namespace: "ns".into(),
            run_id: "abc123".into(),
            cluster_domain: "cluster.local".into(),
            claims: vec!["001-ordered-create".into()],
            steps: vec![StepRecord {
                index: 0,
                action: "apply".into(),
                error: None,
                outcome: None,
                skipped: None,
                elapsed_ms: None,
            }],
            expectations: vec![StepExpectation {
                step: 0,
                check: CheckName::OrderedCreation,
                target: "web".into(),
                claims: vec!["001-ordered-create".into()],
                body: None,
            }],
        }
    }

    #[test]
    fn files_round_trip() {
        let mut timeline = Timeline::new();
        timeline.push(0, Event::Step { index: 0, action: "apply".into() });
        timeline.push(5, Event::Gap { resource: "pods".into(), reason: "410".into() });
        let mut out = Vec::new();
        write(&mut out, &header(), &timeline).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(looks_like_timeline(&text));
        assert_eq!(read(std::path::Path::new("t.jsonl"), &text), Ok((header(), timeline)));
    }

    #[test]
    fn errors_name_the_line() {
        let mut text = serde_json::to_string(&header()).unwrap();
        text.push_str("\n{\"seq\":0,\"atMs\":0,\"event\":{\"type\":\"step\",\"index\":0,\"action\":\"a\"}}\n{\"seq\":5}\n");
        let err = read(std::path::Path::new("t.jsonl"), &text).unwrap_err();
        assert_eq!(err.line, 3);
        let future = text.replacen(&format!("\"version\":{FORMAT_VERSION}"), "\"version\":9", 1);
        assert!(read(std::path::Path::new("t.jsonl"), &future).unwrap_err().message.contains("version 9"));
    }
}
