//! Judging a run: each expectation's check on its step's window, and the claims' verdicts
//! rolled up from them.

use serde::Serialize;

use super::{RunSettings, StepReport};
use crate::{
    checks::{self, Outcome, Policy, Verdict, Window},
    scenario::{Scenario, StepExpectation},
    timeline::Timeline,
};

/// One judged expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    /// Step index.
    pub step: usize,
    /// What the check judged.
    pub target: String,
    /// Claims it proves.
    pub claims: Vec<String>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A claim's overall verdict in one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimVerdict {
    /// Claim id.
    pub claim: String,
    /// Fail if any check failed; pass if all passed; inconclusive otherwise.
    pub verdict: Verdict,
    /// The deciding check's detail.
    pub evidence: String,
}

/// Judges every expectation of every step that ran.
#[must_use]
pub fn judge(
    scenario: &Scenario,
    timeline: &Timeline,
    namespace: &str,
    settings: &RunSettings,
    steps: &[StepReport],
) -> Vec<Judged> {
    judge_expectations(&scenario.expectations(), timeline, namespace, &settings.cluster_domain, steps)
}

/// Judges each expectation whose step is in `timeline` (a live, simulated or recorded run).
#[must_use]
///
/// `steps` says how each step ended: a step that ended before its condition held is judged
/// without its end state ([`Window::ended_early`]).
pub fn judge_expectations(
    expectations: &[StepExpectation],
    timeline: &Timeline,
    namespace: &str,
    cluster_domain: &str,
    steps: &[StepReport],
) -> Vec<Judged> {
    let mut judged = Vec::new();
    for e in expectations {
        let Some(range) = timeline.step_range(e.step) else { continue };
        let window = Window {
            timeline,
            range: range.clone(),
            target: &e.target,
            namespace,
            cluster_domain,
            expect_body: e.body.as_deref(),
            default_policy: Policy::Ordered,
            ended_early: steps.iter().any(|s| s.index == e.step && s.outcome.failed()),
            ended_at_ms: steps
                .iter()
                .find(|s| s.index == e.step)
                .and_then(|s| timeline.entries.get(range.start).map(|marker| marker.at_ms.saturating_add(s.elapsed_ms))),
        };
        let outcome = checks::evaluate(e.check, &window);
        judged.push(Judged { step: e.step, target: e.target.clone(), claims: e.claims.clone(), outcome });
    }
    judged
}

/// Rolls check outcomes up into one verdict per claim of the scenario.
#[must_use]
pub fn claim_verdicts(scenario: &Scenario, judged: &[Judged], steps: &[StepReport]) -> Vec<ClaimVerdict> {
    claim_verdicts_for(&scenario.claims, &scenario.expectations(), judged, steps)
}

/// Rolls check outcomes up into one verdict per claim: fail if any check citing it failed;
/// pass if every planned check passed; inconclusive otherwise (with the reason).
#[must_use]
pub fn claim_verdicts_for(
    claims: &[String],
    expectations: &[StepExpectation],
    judged: &[Judged],
    steps: &[StepReport],
) -> Vec<ClaimVerdict> {
    let failed_step = steps.iter().find(|s| s.outcome.failed());
    claims
        .iter()
        .map(|claim| {
            let relevant: Vec<&Judged> = judged.iter().filter(|j| j.claims.contains(claim)).collect();
            let planned = expectations.iter().filter(|e| e.claims.contains(claim)).count();
            let skipped = expectations
                .iter()
                .filter(|e| e.claims.contains(claim))
                .find_map(|e| steps.iter().find(|s| s.index == e.step).and_then(|s| s.skipped.as_ref().map(|why| (s, why))));
            let worst = relevant.iter().max_by_key(|j| j.outcome.verdict);
            let (verdict, evidence) = match (worst, skipped) {
                (Some(j), _) if j.outcome.verdict == Verdict::Fail => (Verdict::Fail, describe(j)),
                (_, Some((s, why))) => (Verdict::Skipped, format!("step {} ({}) skipped: {why}", s.index + 1, s.action)),
                _ if relevant.len() < planned => {
                    let why = failed_step.map_or_else(
                        || "its checks did not run".to_owned(),
                        |s| {
                            format!(
                                "not reached: step {} ({}) failed: {}",
                                s.index + 1,
                                s.action,
                                s.error.as_deref().unwrap_or("")
                            )
                        },
                    );
                    (Verdict::Inconclusive, why)
                }
                (Some(j), _) if j.outcome.verdict == Verdict::Pass => (Verdict::Pass, describe(j)),
                (Some(j), _) if j.outcome.verdict == Verdict::Skipped => (Verdict::Skipped, describe(j)),
                (Some(j), _) => (Verdict::Inconclusive, describe(j)),
                (None, _) => (Verdict::Inconclusive, "no check proves it".into()),
            };
            ClaimVerdict { claim: claim.clone(), verdict, evidence }
        })
        .collect()
}

fn describe(j: &Judged) -> String {
    format!("step {} {} {}: {}", j.step + 1, j.outcome.check, j.target, j.outcome.detail)
}
