//! Fault injection: the simulated cluster breaks one guarantee at a time, and the harness must
//! catch each break with the check meant for it and with no other.

mod common;

use sts_conformance::{
    checks::CheckName,
    sim::{Fault, UpgradeFault},
};

use common::cli;

#[test]
fn every_fault_is_caught_by_its_check_and_no_other() {
    let (code, out, err) = cli(&["selftest", "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert_eq!(report["conformant_pass"], true, "{out}");
    let faults = report["faults"].as_array().expect("faults");
    assert_eq!(faults.len(), Fault::ALL.len());
    assert!(faults.len() >= 20);
    for f in faults {
        assert_eq!(f["detected"], true, "missed: {f}");
        assert_eq!(f["false_alarms"], serde_json::json!([]), "false alarm: {f}");
        for key in ["fault", "description", "expected_checks", "failed_checks"] {
            assert!(!f[key].is_null(), "{key} missing in {f}");
        }
    }
    assert_eq!(report["upgrade_conformant_pass"], true, "{out}");
    let upgrade = report["upgrade_faults"].as_array().expect("upgrade faults");
    assert_eq!(upgrade.len(), UpgradeFault::ALL.len());
    for f in upgrade {
        assert_eq!(f["detected"], true, "missed: {f}");
        assert_eq!(f["false_alarms"], serde_json::json!([]), "false alarm: {f}");
    }
    assert_eq!(code, 0, "{err}");

    // Every order, naming, storage, DNS and identity check is proven by some fault.
    let caught: Vec<String> = faults
        .iter()
        .flat_map(|f| f["failed_checks"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c.as_str().map(String::from))
        .collect();
    // (deployment-contrast and secret-refs are about the scenario's other objects.)
    for check in CheckName::ALL.into_iter().filter(|c| !matches!(c, CheckName::DeploymentContrast | CheckName::SecretRefs)) {
        assert!(caught.iter().any(|c| c == check.as_str()), "no fault proves {check}");
    }
}

#[test]
fn the_matrix_ends_with_the_count() {
    let (code, out, _) = cli(&["selftest", "--fault", "rollout-upward", "--fault", "dns-record-wrong-ip"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rollout-upward") && out.contains("detected"), "{out}");
    assert_eq!(out.lines().last(), Some("2/2 faults detected, 0 false alarms"));
}

#[test]
fn a_faulty_run_names_the_claim_the_pods_and_the_entries() {
    let (code, out, _) = cli(&["run", "--sim", "--scenario", "seed-002-lifecycle", "--sim-fault", "scale-down-lowest-first"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Injected fault scale-down-lowest-first"), "{out}");
    let line = out.lines().find(|l| l.contains("002-scale-down")).expect("claim row");
    assert!(line.contains("fail") && line.contains("reverse-termination"), "{line}");
    assert!(line.contains("web-1 began terminating (#") && line.contains("while web-2 was still present"), "{line}");
}

#[test]
fn faults_need_the_sim_and_a_known_name() {
    let (code, _, err) = cli(&["run", "--sim-fault", "rollout-upward"]);
    assert_eq!(code, 2);
    assert!(err.contains("--sim"), "{err}");
    let (code, _, err) = cli(&["run", "--sim", "--sim-fault", "rollout-sideways"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown fault") && err.contains("rollout-upward"), "{err}");
    let (code, out, _) = cli(&["selftest", "--list"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), Fault::ALL.len() + UpgradeFault::ALL.len());
}
