//! Against a real cluster — the one `KUBECONFIG` (or `~/.kube/config`) points at. Ignored by
//! default; run with a cluster at hand (kind, minikube, or the project's testbed):
//!
//! ```sh
//! kind create cluster                                  # or: ci/testbed.sh up && eval "$(ci/testbed.sh env)"
//! cargo test --test live -- --ignored
//! ```
//!
//! Claims the cluster cannot show (no containers on simulated nodes, no cluster DNS) are
//! reported skipped (`--skip-unsupported`); on a cluster that has everything, nothing is skipped.

mod common;

use common::cli_on_cluster as cli;

#[test]
#[ignore = "needs a cluster (KUBECONFIG)"]
fn every_scenario_holds_on_the_cluster_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, stdout, stderr) =
        cli(&["run", "--skip-unsupported", "--parallel", "2", "--output-dir", out.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = cli(&["cleanup", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("nothing to clean up"), "a run must remove what it created: {stdout}");
}

#[test]
#[ignore = "needs a cluster (KUBECONFIG)"]
fn recorded_live_timelines_judge_again_to_the_same_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let (code, stdout, stderr) =
        cli(&["run", "--skip-unsupported", "--scenario", "seed-001-practice", "--output-dir", out.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let timeline = out.join("seed-001-practice/timeline.jsonl");
    let (code, stdout, _) = cli(&["analyze", timeline.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{stdout}");
}
