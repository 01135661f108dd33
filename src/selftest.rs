//! `selftest`: every scenario on the conformant simulated cluster, then under each fault.
//!
//! The conformant run must pass. Under a fault, at least one check the fault is meant to break
//! must fail (detected), and no other check may fail (a false alarm). Step errors (an `until`
//! that never held) are reported but are neither: only a check's verdict counts.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::{
    checks::{CheckName, Verdict},
    plan::PlanOptions,
    runner::{self, RunSettings, ScenarioReport},
    scenario::Scenario,
    sim::{Fault, SimCluster},
};

/// The result under one fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultResult {
    /// Fault name.
    pub fault: String,
    /// What it does.
    pub description: String,
    /// The checks it is meant to break.
    pub expected_checks: Vec<CheckName>,
    /// The checks that failed in any scenario.
    pub failed_checks: Vec<CheckName>,
    /// An expected check failed.
    pub detected: bool,
    /// Checks that failed but are not expected to.
    pub false_alarms: Vec<CheckName>,
    /// Where each failure was found: `scenario: claim/check detail`.
    pub evidence: Vec<String>,
    /// Steps that could not complete under the fault.
    pub step_errors: Vec<String>,
}

/// The result of `upgrade verify` after an upgrade with one fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpgradeFaultResult {
    /// Fault name.
    pub fault: String,
    /// What it does.
    pub description: String,
    /// The upgrade claims it must make fail.
    pub expected_claims: Vec<String>,
    /// The upgrade claims that failed.
    pub failed_claims: Vec<String>,
    /// An expected claim failed.
    pub detected: bool,
    /// Claims that failed but are not expected to.
    pub false_alarms: Vec<String>,
}

/// The whole self-test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelftestReport {
    /// Every scenario passed on the conformant sim.
    pub conformant_pass: bool,
    /// What failed on the conformant sim, if anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conformant_failures: Vec<String>,
    /// One result per fault.
    pub faults: Vec<FaultResult>,
    /// prepare → upgrade → verify passed on the conformant sim (`None`: not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upgrade_conformant_pass: Option<bool>,
    /// One result per upgrade fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upgrade_faults: Vec<UpgradeFaultResult>,
}

impl SelftestReport {
    /// The conformant runs passed and every fault was detected without a false alarm.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.conformant_pass
            && self.upgrade_conformant_pass != Some(false)
            && self.faults.iter().all(|f| f.detected && f.false_alarms.is_empty())
            && self.upgrade_faults.iter().all(|f| f.detected && f.false_alarms.is_empty())
    }
}

/// Why the upgrade part of the self-test could not run.
#[derive(Debug, thiserror::Error)]
pub enum SelftestError {
    /// An upgrade workload could not be prepared on the sim.
    #[error(transparent)]
    Upgrade(#[from] crate::upgrade::UpgradeError),
    /// The sim's state did not survive the JSON round trip it makes between processes.
    #[error("the simulated cluster's state did not survive a JSON round trip: {0}")]
    StateRoundTrip(#[from] serde_json::Error),
}

/// prepare → a node-by-node upgrade with `faults` → verify, the state crossing a JSON round
/// trip between phases as it crosses processes with `--sim-state`. Returns the failed claims,
/// or why the trial could not run.
async fn upgrade_trial(
    workloads: &[crate::upgrade::Workload],
    faults: &[crate::sim::UpgradeFault],
    settings: &RunSettings,
) -> Result<Vec<String>, SelftestError> {
    let reload = |world: &crate::sim::SimWorld| -> Result<crate::sim::SimWorld, SelftestError> {
        Ok(serde_json::from_str(&serde_json::to_string(world)?)?)
    };
    let mut world = crate::sim::SimWorld::default();
    crate::upgrade::sim_prepare(&mut world, workloads, &PlanOptions::new("selftest"), settings, &mut runner::quiet).await?;
    let mut world = reload(&world)?;
    world.upgrade(faults);
    let mut world = reload(&world)?;
    let baselines = crate::upgrade::sim_baselines(&mut world).await?;
    let results = crate::upgrade::sim_verify(&mut world, &baselines, settings, true, &mut runner::quiet).await;
    let mut failed = BTreeSet::new();
    for (_, report) in &results {
        for claim in report.claims.iter().filter(|c| c.verdict == Verdict::Fail) {
            failed.insert(claim.claim.clone());
        }
    }
    Ok(failed.into_iter().collect())
}

/// The upgrade part of the self-test: the conformant upgrade, then each of `faults`.
pub async fn run_upgrade(
    workloads: &[crate::upgrade::Workload],
    faults: &[crate::sim::UpgradeFault],
    settings: &RunSettings,
    report: &mut SelftestReport,
) -> Result<(), SelftestError> {
    let conformant = upgrade_trial(workloads, &[], settings).await?;
    report.upgrade_conformant_pass = Some(conformant.is_empty());
    if !conformant.is_empty() {
        report.conformant_failures.push(format!("upgrade verify on the conformant sim failed: {}", conformant.join(", ")));
    }
    for fault in faults {
        let failed = upgrade_trial(workloads, &[*fault], settings).await?;
        let expected: Vec<String> = fault.breaks().iter().map(|c| (*c).to_owned()).collect();
        report.upgrade_faults.push(UpgradeFaultResult {
            fault: fault.name().into(),
            description: fault.description().into(),
            detected: failed.iter().any(|c| expected.contains(c)),
            false_alarms: failed.iter().filter(|c| !expected.contains(c)).cloned().collect(),
            expected_claims: expected,
            failed_claims: failed,
        });
    }
    Ok(())
}

/// Runs the self-test over `scenarios` for `faults`.
pub async fn run(scenarios: &[&Scenario], faults: &[Fault], settings: &RunSettings) -> SelftestReport {
    let options = PlanOptions::new("selftest");
    let conformant =
        runner::run_many(scenarios, &options, settings, 1, || SimCluster::new(&settings.cluster_domain), &mut runner::quiet)
            .await;
    let conformant_failures: Vec<String> = conformant
        .iter()
        .flat_map(|r| {
            let claims = r
                .claims
                .iter()
                .filter(|c| c.verdict != Verdict::Pass)
                .map(|c| format!("{}: {} {}: {}", r.scenario, c.claim, c.verdict, c.evidence));
            let steps =
                r.steps.iter().filter_map(|s| s.error.as_ref().map(|e| format!("{}: step {}: {e}", r.scenario, s.index + 1)));
            claims.chain(steps).collect::<Vec<_>>()
        })
        .collect();
    let mut results = Vec::new();
    for fault in faults {
        let reports = runner::run_many(
            scenarios,
            &options,
            settings,
            1,
            || SimCluster::new(&settings.cluster_domain).with_faults([*fault]),
            &mut runner::quiet,
        )
        .await;
        results.push(judge_fault(*fault, &reports));
    }
    SelftestReport {
        conformant_pass: conformant_failures.is_empty(),
        conformant_failures,
        faults: results,
        upgrade_conformant_pass: None,
        upgrade_faults: vec![],
    }
}

fn judge_fault(fault: Fault, reports: &[ScenarioReport]) -> FaultResult {
    let mut failed = BTreeSet::new();
    let mut evidence = Vec::new();
    let mut step_errors = Vec::new();
    for report in reports {
        for j in report.judged.iter().filter(|j| j.outcome.verdict == Verdict::Fail) {
            failed.insert(j.outcome.check);
            evidence.push(format!(
                "{}: step {} {} {}: {}",
                report.scenario,
                j.step + 1,
                j.outcome.check,
                j.target,
                j.outcome.detail
            ));
        }
        for step in &report.steps {
            if let Some(e) = &step.error {
                step_errors.push(format!("{}: step {} ({}): {e}", report.scenario, step.index + 1, step.action));
            }
        }
    }
    let expected: Vec<CheckName> = fault.breaks().to_vec();
    let false_alarms: Vec<CheckName> = failed.iter().filter(|c| !expected.contains(c)).copied().collect();
    FaultResult {
        fault: fault.name().into(),
        description: fault.description().into(),
        detected: failed.iter().any(|c| expected.contains(c)),
        failed_checks: failed.into_iter().collect(),
        expected_checks: expected,
        false_alarms,
        evidence,
        step_errors,
    }
}

/// Two-letter column heads of the matrix, in [`CheckName::ALL`] order.
fn abbreviation(check: CheckName) -> &'static str {
    match check {
        CheckName::OrderedCreation => "oc",
        CheckName::ReverseTermination => "rt",
        CheckName::ParallelBurst => "pb",
        CheckName::HaltOnUnhealthy => "hu",
        CheckName::ReverseRollout => "rr",
        CheckName::OnDelete => "od",
        CheckName::Revisions => "rv",
        CheckName::MinReady => "mr",
        CheckName::FailedReplaced => "fr",
        CheckName::MaxUnavailable => "mu",
        CheckName::StableIdentity => "si",
        CheckName::SurvivorsUnchanged => "su",
        CheckName::HeadlessService => "hs",
        CheckName::Dns => "dn",
        CheckName::PvcNaming => "pn",
        CheckName::PvcRetention => "pr",
        CheckName::DaemonsetCoverage => "ds",
        CheckName::JobCompletion => "jc",
        CheckName::CronjobSchedule => "cj",
        CheckName::ApiRefusal => "ar",
        CheckName::JobBackoff => "jb",
        CheckName::Reattach => "ra",
        CheckName::Persistence => "pe",
        CheckName::StaticShortage => "ss",
        CheckName::DeploymentContrast => "dc",
        CheckName::PodHttp => "ph",
        CheckName::SecretRefs => "sr",
        CheckName::ApiSurface => "as",
        CheckName::Adoption => "ad",
    }
}

/// The fault × check matrix for people, ending with `N/N faults detected, K false alarms`.
#[must_use]
pub fn render_text(report: &SelftestReport) -> String {
    let mut out = String::new();
    if report.conformant_pass {
        out.push_str("conformant sim: every scenario passed\n\n");
    } else {
        out.push_str("conformant sim: FAILED\n");
        for f in &report.conformant_failures {
            out.push_str(&format!("  {f}\n"));
        }
        out.push('\n');
    }
    let width = report.faults.iter().map(|f| f.fault.len()).max().unwrap_or(5).max(5);
    out.push_str(&format!("{:width$} ", "FAULT"));
    for check in CheckName::ALL {
        out.push_str(&format!(" {}", abbreviation(check)));
    }
    out.push_str("  RESULT\n");
    for f in &report.faults {
        out.push_str(&format!("{:width$} ", f.fault));
        for check in CheckName::ALL {
            let expected = f.expected_checks.contains(&check);
            let failed = f.failed_checks.contains(&check);
            let cell = match (expected, failed) {
                (true, true) => "X",
                (true, false) => "o",
                (false, true) => "!",
                (false, false) => ".",
            };
            out.push_str(&format!("  {cell}"));
        }
        let result = match (f.detected, f.false_alarms.is_empty()) {
            (true, true) => "detected".to_owned(),
            (false, _) => "MISSED".to_owned(),
            (true, false) => {
                let names: Vec<&str> = f.false_alarms.iter().map(|c| c.as_str()).collect();
                format!("FALSE ALARM: {}", names.join(", "))
            }
        };
        out.push_str(&format!("  {result}\n"));
    }
    out.push_str("\nX failed as intended   o meant to break, did not fail   ! failed, not meant to   . neither\n");
    let legend: Vec<String> = CheckName::ALL.iter().map(|c| format!("{} {}", abbreviation(*c), c.as_str())).collect();
    out.push_str(&format!("{}\n\n", legend.join(", ")));
    if let Some(pass) = report.upgrade_conformant_pass {
        out.push_str(&format!(
            "upgrade (prepare -> node-by-node upgrade -> verify): conformant {}\n",
            if pass { "passed" } else { "FAILED" }
        ));
        for f in &report.upgrade_faults {
            let result = match (f.detected, f.false_alarms.is_empty()) {
                (true, true) => "detected".to_owned(),
                (false, _) => "MISSED".to_owned(),
                (true, false) => format!("FALSE ALARM: {}", f.false_alarms.join(", ")),
            };
            out.push_str(&format!(
                "{:width$}  failed {} (meant: {})  {result}\n",
                f.fault,
                if f.failed_claims.is_empty() { "nothing".to_owned() } else { f.failed_claims.join(", ") },
                f.expected_claims.join(", ")
            ));
        }
        out.push('\n');
    }
    let total = report.faults.len() + report.upgrade_faults.len();
    let detected =
        report.faults.iter().filter(|f| f.detected).count() + report.upgrade_faults.iter().filter(|f| f.detected).count();
    let false_alarms: usize = report.faults.iter().map(|f| f.false_alarms.len()).sum::<usize>()
        + report.upgrade_faults.iter().map(|f| f.false_alarms.len()).sum::<usize>();
    out.push_str(&format!("{detected}/{total} faults detected, {false_alarms} false alarms\n"));
    out
}
