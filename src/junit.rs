//! JUnit XML for CI (`run --junit FILE`): a test suite per scenario, a test case per claim.
//!
//! A failed claim is a `<failure>` whose message is the deciding evidence and whose text lists
//! every check that cites the claim with its verdict, detail and timeline entries. An
//! inconclusive claim is `<skipped>` with the reason (CI shows it, without failing the build
//! for it). A step that could not complete is an `<error>` test case of its own.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::{checks::Verdict, runner::ScenarioReport};

/// The JUnit report of a run.
#[must_use]
pub fn report(name: &str, reports: &[ScenarioReport]) -> Report {
    let mut report = Report::new(name);
    for scenario in reports {
        let mut suite = TestSuite::new(scenario.scenario.as_str());
        let elapsed: u64 = scenario.steps.iter().map(|s| s.elapsed_ms).sum();
        suite.set_time(Duration::from_millis(elapsed));
        for claim in &scenario.claims {
            let status = match claim.verdict {
                Verdict::Pass => TestCaseStatus::success(),
                Verdict::Fail => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_message(claim.evidence.as_str())
                        .set_type("claim failed")
                        .set_description(checks_of(scenario, &claim.claim));
                    status
                }
                Verdict::Skipped => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(format!("skipped: {}", claim.evidence)).set_type("skipped");
                    status
                }
                Verdict::Inconclusive | Verdict::NotApplicable => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(format!("inconclusive: {}", claim.evidence)).set_type("inconclusive");
                    status
                }
            };
            let mut case = TestCase::new(claim.claim.as_str(), status);
            case.set_classname(scenario.scenario.as_str());
            suite.add_test_case(case);
        }
        for step in &scenario.steps {
            let Some(error) = &step.error else { continue };
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(error.as_str()).set_type("step error");
            let mut case = TestCase::new(format!("step {}: {}", step.index + 1, step.action), status);
            case.set_classname(scenario.scenario.as_str());
            case.set_time(Duration::from_millis(step.elapsed_ms));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
}

/// Every check citing `claim`, with its verdict, detail and evidence entries.
fn checks_of(scenario: &ScenarioReport, claim: &str) -> String {
    let mut text = String::new();
    for j in scenario.judged.iter().filter(|j| j.claims.iter().any(|c| c == claim)) {
        let evidence: Vec<String> = j.outcome.evidence.iter().map(|s| format!("#{s}")).collect();
        text.push_str(&format!(
            "step {} {} {}: {} — {}{}\n",
            j.step + 1,
            j.outcome.check,
            j.target,
            j.outcome.verdict,
            j.outcome.detail,
            if evidence.is_empty() { String::new() } else { format!(" (timeline entries {})", evidence.join(", ")) }
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        checks::{CheckName, Outcome},
        runner::{ClaimVerdict, Judged, StepReport},
        timeline::Timeline,
    };

    #[test]
    fn failures_carry_the_evidence() {
        let outcome = Outcome {
            check: CheckName::OrderedCreation,
            verdict: Verdict::Fail,
            detail: "web-1 was created (#7) while web-0 was Pending".into(),
            evidence: vec![5, 7],
        };
        let scenario = ScenarioReport {
            scenario: "seed-001".into(),
            namespace: "ns".into(),
            run_id: "abc".into(),
            steps: vec![StepReport {
                index: 1,
                action: "scale web to 3".into(),
                elapsed_ms: 1500,
                outcome: crate::runner::StepOutcome::TimedOut,
                error: Some("timed out".into()),
                skipped: None,
                timing: None,
            }],
            judged: vec![Judged { step: 0, target: "web".into(), claims: vec!["001-ordered-create".into()], outcome }],
            claims: vec![
                ClaimVerdict {
                    claim: "001-ordered-create".into(),
                    verdict: Verdict::Fail,
                    evidence: "step 1 ordered-creation web: web-1 was created (#7)".into(),
                },
                ClaimVerdict { claim: "001-dns".into(), verdict: Verdict::Pass, evidence: "ok".into() },
                ClaimVerdict { claim: "001-pvc".into(), verdict: Verdict::Inconclusive, evidence: "not reached".into() },
            ],
            diagnostics: None,
            cleanup_error: None,
            timeline: Timeline::new(),
        };
        let xml = report("sts-conformance", &[scenario]).to_string().expect("serializes");
        assert!(xml.contains(r#"<testsuite name="seed-001" tests="4""#), "{xml}");
        assert!(xml.contains(r#"<testcase name="001-ordered-create" classname="seed-001""#), "{xml}");
        assert!(xml.contains("web-1 was created (#7) while web-0 was Pending (timeline entries #5, #7)"), "{xml}");
        assert!(xml.contains("<skipped") && xml.contains("inconclusive: not reached"), "{xml}");
        assert!(xml.contains(r#"<testcase name="step 2: scale web to 3""#) && xml.contains("<error"), "{xml}");
    }
}
