//! Reports for CI: JUnit, the output directory, parallel runs and regression snapshots.

use std::path::Path;

mod common;

use common::cli;

/// The project's scenarios, and how many claims they cite together: what a run reports.
fn suite() -> (usize, usize) {
    let files = sts_conformance::scenario::discover(&["scenarios".into()]).expect("scenarios");
    let claims = files.iter().map(|f| sts_conformance::scenario::load(f).expect("a valid scenario").claims.len()).sum();
    (files.len(), claims)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn verdicts(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut all: Vec<(String, serde_json::Value)> = std::fs::read_dir(dir)
        .expect("output dir")
        .map(|e| e.expect("entry").path())
        // Beside the scenario directories: report.html.
        .filter(|p| p.is_dir())
        .map(|scenario| {
            let json = std::fs::read(scenario.join("verdicts.json")).expect("verdicts.json");
            (
                scenario.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                serde_json::from_slice(&json).expect("json"),
            )
        })
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

#[test]
fn parallel_runs_write_junit_and_outputs_with_the_verdicts_of_a_sequential_run() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let junit = tmp.path().join("j.xml");
    let (parallel_out, sequential_out) = (tmp.path().join("out4"), tmp.path().join("out1"));
    let (code, out, err) =
        cli(&["run", "--sim", "--parallel", "4", "--junit", path(&junit), "--output-dir", path(&parallel_out)]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = cli(&["run", "--sim", "-q", "--output-dir", path(&sequential_out)]);
    assert_eq!(code, 0, "{err}");

    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let (scenarios, claims) = suite();
    assert_eq!(report.test_suites.len(), scenarios, "a suite per scenario");
    assert_eq!(report.tests, claims, "a test case per claim");
    assert_eq!(report.failures + report.errors, 0);

    let parallel = verdicts(&parallel_out);
    assert_eq!(parallel.len(), scenarios);
    assert_eq!(parallel, verdicts(&sequential_out), "verdicts must not depend on --parallel");
    for (scenario, _) in &parallel {
        let timeline = std::fs::read_to_string(parallel_out.join(scenario).join("timeline.jsonl")).expect("timeline");
        assert!(timeline.starts_with("{\"format\":\"sts-conformance-timeline\""), "{scenario}");
        assert!(!parallel_out.join(scenario).join("diagnostics.txt").exists(), "diagnostics only on failure");
    }
}

#[test]
fn a_failed_claim_carries_its_evidence_into_junit_and_diagnostics() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let junit = tmp.path().join("j.xml");
    let out_dir = tmp.path().join("out");
    let (code, _, _) = cli(&[
        "run",
        "--sim",
        "-q",
        "--scenario",
        "seed-002-lifecycle",
        "--sim-fault",
        "rollout-upward",
        "--junit",
        path(&junit),
        "--output-dir",
        path(&out_dir),
    ]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(report.failures, 1);
    assert!(xml.contains("002-reverse-rollout") && xml.contains("web-0 was replaced (#"), "{xml}");
    assert!(xml.contains("timeline entries #"), "{xml}");
    let diagnostics = std::fs::read_to_string(out_dir.join("seed-002-lifecycle/diagnostics.txt")).expect("diagnostics");
    assert!(diagnostics.contains("injected faults: rollout-upward") && diagnostics.contains("pods:"), "{diagnostics}");
}

#[test]
fn compare_shows_how_behaviour_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let snaps = tmp.path().join("snaps");
    let (code, _, err) = cli(&["run", "--sim", "-q", "--snapshots", path(&snaps)]);
    assert_eq!(code, 0, "{err}");
    let (scenarios, _) = suite();
    assert_eq!(std::fs::read_dir(&snaps).expect("snapshots").count(), scenarios);

    let (code, out, _) = cli(&["run", "--sim", "-q", "--compare", path(&snaps)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("0 of {scenarios} scenarios differ")), "{out}");

    let (code, out, _) = cli(&[
        "run",
        "--sim",
        "-q",
        "--scenario",
        "seed-002-lifecycle",
        "--sim-fault",
        "scale-down-lowest-first",
        "--compare",
        path(&snaps),
    ]);
    assert_eq!(code, 1);
    assert!(out.contains("seed-002-lifecycle: BEHAVIOUR CHANGED"), "{out}");
    // The diff shows the scale-down beginning at web-1 instead of web-4.
    assert!(out.contains("+pod web-1 now Running terminating"), "{out}");
    assert!(out.contains("-pod web-3 now Running terminating"), "{out}");
    assert!(out.contains("1 of 1 scenarios differ"), "{out}");

    let (code, _, err) = cli(&["run", "--sim", "--compare", path(&tmp.path().join("nope"))]);
    assert_eq!(code, 2);
    assert!(err.contains("no such directory"), "{err}");
}
