//! End to end on the simulated cluster: every scenario file validates, runs, and keeps every
//! claim; the claim catalogue is covered; the CLI's exit codes hold.

use std::{path::PathBuf, process::Command};

use rstest::rstest;
use sts_conformance::{
    checks::Verdict,
    claims::CLAIMS,
    outputs,
    plan::{Plan, PlanOptions},
    report,
    runner::{self, Quiet, RunSettings},
    scenario,
    sim::SimCluster,
};

fn run_on_sim(path: &std::path::Path) -> runner::ScenarioReport {
    let scenario = scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new("test01"));
    let settings = RunSettings::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    rt.block_on(async {
        let mut cluster = SimCluster::new(&settings.cluster_domain);
        runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut Quiet).await
    })
}

#[rstest]
fn every_claim_holds_on_the_conformant_sim(#[files("scenarios/**/*.yaml")] path: PathBuf) {
    let text = std::fs::read_to_string(&path).unwrap();
    if !text.lines().any(|l| l.trim() == "kind: Scenario") {
        return; // a manifest or fragment file, not a scenario
    }
    let report = run_on_sim(&path);
    for step in &report.steps {
        assert!(step.error.is_none(), "{}: step {} failed: {:?}", report.scenario, step.index + 1, step.error);
    }
    for claim in &report.claims {
        assert_eq!(claim.verdict, Verdict::Pass, "{}: {} — {}", report.scenario, claim.claim, claim.evidence);
    }
    // Every judged check must be decided: a check that saw nothing is a scenario defect.
    for j in &report.judged {
        assert_eq!(
            j.outcome.verdict,
            Verdict::Pass,
            "{}: step {} {}: {}",
            report.scenario,
            j.step + 1,
            j.outcome.check,
            j.outcome.detail
        );
    }
    let verdicts: Vec<String> = report
        .judged
        .iter()
        .map(|j| format!("step {} {} {}: {}", j.step + 1, j.outcome.check, j.target, j.outcome.detail))
        .collect();
    let timeline = outputs::normalized(&report);
    insta::with_settings!({snapshot_path => "../snapshots", snapshot_suffix => report.scenario.clone(), prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("verdicts", verdicts);
        // The normalized timeline: how the scenario behaved, free of UIDs, IPs, times and names.
        insta::assert_snapshot!("timeline", timeline);
    });
}

#[test]
fn a_second_run_normalizes_to_the_same_timeline() {
    let path = PathBuf::from("scenarios/seed-002/lifecycle.yaml");
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let settings = RunSettings::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let run = |run_id: &str| {
        let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new(run_id));
        rt.block_on(async {
            let mut cluster = SimCluster::new(&settings.cluster_domain);
            runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut Quiet).await
        })
    };
    let (a, b) = (run("aaaaa1"), run("bbbbb2"));
    assert_ne!(a.namespace, b.namespace);
    assert_eq!(outputs::normalized(&a), outputs::normalized(&b));
}

#[test]
fn every_required_claim_is_covered_by_a_scenario() {
    let files = scenario::discover(&[PathBuf::from("scenarios")]).unwrap();
    let scenarios: Vec<_> = files.iter().map(|f| scenario::load(f).unwrap_or_else(|e| panic!("{e}"))).collect();
    let coverage = report::coverage(&scenarios);
    assert_eq!(coverage.len(), CLAIMS.len());
    let uncovered: Vec<&str> = coverage
        .iter()
        .filter(|(id, names)| names.is_empty() && CLAIMS.iter().any(|c| c.id == *id && c.required))
        .map(|(id, _)| *id)
        .collect();
    assert!(uncovered.is_empty(), "claims without a scenario: {uncovered:?}");
}

fn cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sts-conformance"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .output()
        .unwrap()
}

#[test]
fn list_claims_json_lists_all_required_claims_as_covered() {
    let out = cli(&["list", "--claims", "-o", "json"]);
    assert!(out.status.success());
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let covered = items.iter().filter(|i| !i["scenarios"].as_array().unwrap().is_empty()).count();
    assert_eq!(items.len(), 36);
    assert_eq!(covered, 33);
}

#[test]
fn a_misspelled_scenario_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, "apiVersion: sts-conformance/v1alpha1\nkind: Scenario\nmetadata: {name: bad}\nspec:\n  description: x\n  claims: []\n  manifests: []\n  stepz: []\n").unwrap();
    let out = cli(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:8:") && err.contains("stepz"), "{err}");
}

#[test]
fn run_without_a_cluster_exits_3_and_says_how_to_get_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_sts-conformance"))
        .args(["run"])
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kind create cluster") && err.contains("--sim"), "{err}");
}

#[test]
fn an_unreachable_cluster_exits_3_within_seconds_having_created_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: u}\ncurrent-context: dead\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = cli(&["run", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was created") && err.contains("cannot reach the API server"), "{err}");
}

#[test]
fn schema_describes_the_step_actions() {
    let out = cli(&["schema"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for field in ["setImage", "deleteStatefulSet", "writeToken", "until", "expect"] {
        assert!(text.contains(field), "schema lacks {field}");
    }
}
