//! Upgrade validation on the simulated cluster: prepare, a node-by-node upgrade, verify — as
//! three separate processes sharing a state file, and under each upgrade fault.

use std::path::Path;

mod common;

use common::cli;

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

#[test]
fn prepare_upgrade_verify_pass_across_three_processes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("cluster.json");
    let baseline = tmp.path().join("baseline.json");
    let (code, out, err) = cli(&["upgrade", "prepare", "--sim", "--sim-state", path(&state), "--baseline", path(&baseline)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("seed-001-web") && out.contains("seed-002-web"), "{out}");
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).expect("baseline file")).expect("json");
    assert_eq!(recorded.as_array().map(Vec::len), Some(2));

    let (code, out, err) = cli(&["sim", "upgrade", "--sim-state", path(&state)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("v1.34.0-sim"), "{out}");

    let junit = tmp.path().join("j.xml");
    let (code, out, err) =
        cli(&["upgrade", "verify", "--sim", "--sim-state", path(&state), "--junit", path(&junit), "--cleanup"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("upgrade-data") && out.contains("12 passed, 0 failed"), "{out}");
    assert!(std::fs::read_to_string(&junit).expect("junit").contains("upgrade-storage"));

    // --cleanup removed the prepared namespaces: nothing is left to verify.
    let (code, _, err) = cli(&["upgrade", "verify", "--sim", "--sim-state", path(&state)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("upgrade prepare"), "{err}");
}

#[test]
fn each_upgrade_fault_fails_verify_on_its_claim() {
    for (fault, claim) in [
        ("upgrade-volume-lost", "upgrade-data"),
        ("upgrade-claim-rebound", "upgrade-storage"),
        ("upgrade-pod-renamed", "upgrade-identity"),
        ("upgrade-dns-stale", "upgrade-dns"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let state = tmp.path().join("cluster.json");
        assert_eq!(cli(&["upgrade", "prepare", "--sim", "--sim-state", path(&state), "-q"]).0, 0);
        let (code, out, err) = cli(&["sim", "upgrade", "--sim-state", path(&state), "--sim-fault", fault]);
        assert_eq!(code, 0, "{out}{err}");
        let (code, out, _) = cli(&["upgrade", "verify", "--sim", "--sim-state", path(&state), "-q"]);
        assert_eq!(code, 1, "{fault}: {out}");
        let failed: Vec<&str> = out.lines().filter(|l| l.split_whitespace().nth(2) == Some("fail")).collect();
        assert!(failed.iter().any(|l| l.contains(claim)), "{fault} must fail {claim}: {out}");
    }
}
