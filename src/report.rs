//! Reports: the summary table at the end of a run, and the claim coverage listing.

use std::fmt::Write as _;

use crate::{checks::Verdict, claims, runner::ScenarioReport, scenario::Scenario};

/// Counts of claim verdicts over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Claims that held.
    pub pass: usize,
    /// Claims that broke.
    pub fail: usize,
    /// Claims the run could not decide.
    pub inconclusive: usize,
    /// Claims not judged: the cluster lacks a capability their evidence needs.
    pub skipped: usize,
    /// Steps that could not complete (action error or timeout).
    pub step_errors: usize,
}

impl Totals {
    /// Adds up a run's reports.
    #[must_use]
    pub fn of(reports: &[ScenarioReport]) -> Self {
        let mut t = Totals::default();
        for r in reports {
            for c in &r.claims {
                match c.verdict {
                    Verdict::Pass => t.pass += 1,
                    Verdict::Fail => t.fail += 1,
                    Verdict::Inconclusive | Verdict::NotApplicable => t.inconclusive += 1,
                    Verdict::Skipped => t.skipped += 1,
                }
            }
            t.step_errors += r.steps.iter().filter(|s| s.outcome.failed()).count();
        }
        t
    }
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(width.saturating_sub(1)).collect::<String>())
    }
}

/// The end-of-run table: scenario, claim, verdict, one line of evidence.
#[must_use]
pub fn summary_table(reports: &[ScenarioReport], evidence_width: usize) -> String {
    let sw = reports.iter().map(|r| r.scenario.len()).max().unwrap_or(8).max(8);
    let cw = reports.iter().flat_map(|r| r.claims.iter().map(|c| c.claim.len())).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(out, "{:sw$}  {:cw$}  {:12}  EVIDENCE", "SCENARIO", "CLAIM", "VERDICT");
    for r in reports {
        for c in &r.claims {
            let _ = writeln!(
                out,
                "{:sw$}  {:cw$}  {:12}  {}",
                r.scenario,
                c.claim,
                c.verdict.as_str(),
                cut(&c.evidence, evidence_width)
            );
        }
        for s in r.steps.iter().filter(|s| s.outcome.failed()) {
            let _ = writeln!(
                out,
                "{:sw$}  {:cw$}  {:12}  step {} ({}): {}",
                r.scenario,
                "-",
                "step-error",
                s.index + 1,
                s.action,
                cut(s.error.as_deref().unwrap_or(""), evidence_width)
            );
        }
    }
    for r in reports {
        if let Some(e) = &r.cleanup_error {
            let _ = writeln!(out, "{:sw$}  {:cw$}  {:12}  {}", r.scenario, "-", "cleanup", cut(e, evidence_width));
        }
    }
    // A failed claim's evidence in full: the table's line is cut to the terminal.
    let failed: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.claims
                .iter()
                .filter(|c| c.verdict == Verdict::Fail)
                .map(|c| format!("  {} {}: {}", r.scenario, c.claim, c.evidence))
        })
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(out, "\nFailed claims, in full:\n{}", failed.join("\n"));
    }
    let t = Totals::of(reports);
    let skipped = if t.skipped > 0 { format!(", {} skipped", t.skipped) } else { String::new() };
    let _ = writeln!(
        out,
        "\n{} passed, {} failed, {} inconclusive{skipped} claims; {} step errors",
        t.pass, t.fail, t.inconclusive, t.step_errors
    );
    out
}

/// For every claim id of the catalogue, the scenarios that cover it.
#[must_use]
pub fn coverage(scenarios: &[Scenario]) -> Vec<(&'static str, Vec<String>)> {
    claims::CLAIMS
        .iter()
        .map(|c| {
            let names = scenarios.iter().filter(|s| s.claims.iter().any(|id| id == c.id)).map(|s| s.name.clone()).collect();
            (c.id, names)
        })
        .collect()
}

/// The deterministic part of a scenario's result (`verdicts.json`): claims, checks, verdicts
/// and evidence, steps and their errors — without timings, and with the run's namespace written
/// `<ns>` and its run id removed from run-unique names, so that two runs that behaved the same
/// give the same file.
#[must_use]
pub fn verdicts_json(report: &ScenarioReport) -> serde_json::Value {
    let steps: Vec<serde_json::Value> =
        report.steps.iter().map(|s| serde_json::json!({"index": s.index, "action": s.action, "outcome": s.outcome, "error": s.error, "skipped": s.skipped})).collect();
    let mut value = serde_json::json!({
        "scenario": report.scenario,
        "claims": report.claims,
        "judged": report.judged,
        "steps": steps,
    });
    scrub(&mut value, &report.namespace, &report.run_id);
    value
}

/// Rewrites every string in `value`: the namespace as `<ns>`, `-<run id>` suffixes removed.
fn scrub(value: &mut serde_json::Value, namespace: &str, run_id: &str) {
    match value {
        serde_json::Value::String(s) => {
            if !namespace.is_empty() && s.contains(namespace) {
                *s = s.replace(namespace, "<ns>");
            }
            if !run_id.is_empty() && s.contains(run_id) {
                *s = s.replace(&format!("-{run_id}"), "");
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub(v, namespace, run_id)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub(v, namespace, run_id)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::ClaimVerdict;

    #[test]
    fn a_failed_claims_evidence_is_printed_whole_below_the_table() {
        let evidence =
            format!("step 3 dns web: nginx resolved to nslookup: write to '10.96.0.10': Connection refused{}", " …".repeat(60));
        let report = ScenarioReport {
            scenario: "seed-001-practice".into(),
            namespace: "ns".into(),
            run_id: "abc".into(),
            steps: vec![],
            judged: vec![],
            claims: vec![
                ClaimVerdict { claim: "001-dns".into(), verdict: Verdict::Fail, evidence: evidence.clone() },
                ClaimVerdict { claim: "001-pvc".into(), verdict: Verdict::Pass, evidence: "fine".into() },
            ],
            diagnostics: None,
            cleanup_error: None,
            timeline: crate::timeline::Timeline::new(),
        };
        let table = summary_table(&[report], 40);
        let (rows, rest) = table.split_once("Failed claims, in full:").expect("a section for the failed claim");
        assert!(!rows.contains(&evidence), "the table row is cut: {rows}");
        assert!(rest.contains(&format!("  seed-001-practice 001-dns: {evidence}")), "{rest}");
        assert!(!rest.contains("001-pvc"), "only failed claims: {rest}");
    }
}
