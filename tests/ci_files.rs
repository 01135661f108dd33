//! The CI pipelines under `ci/` cannot run here (no container engine): parse them, and check
//! that every harness command and flag they use exists.

use clap::Parser;
use sts_conformance::cli::Cli;

const BINARY: &str = "./target/release/sts-conformance";

/// Every harness invocation in `script` (backslash continuations joined), as argument lists.
fn invocations(script: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    joined
        .lines()
        .filter_map(|line| line.split_once(BINARY).map(|(_, rest)| rest))
        .map(|rest| {
            // Stop at shell operators; drop quotes; give shell variables a value.
            let command = rest.split(['|', ';', '&']).next().unwrap_or("");
            command.split_whitespace().map(|t| t.trim_matches('"').replace("${cluster}", "sts-conformance-1")).collect()
        })
        .collect()
}

fn assert_parses(args: &[String], origin: &str) {
    let argv = std::iter::once("sts-conformance".to_owned()).chain(args.iter().cloned());
    if let Err(e) = Cli::try_parse_from(argv) {
        panic!("{origin}: `sts-conformance {}` does not parse:\n{e}", args.join(" "));
    }
}

#[test]
fn the_github_workflow_runs_kind_on_three_versions_and_minikube() {
    let text = std::fs::read_to_string("ci/github-actions.yml").expect("ci/github-actions.yml");
    let workflow: serde_json::Value = serde_saphyr::from_str(&text).expect("valid YAML");
    let jobs = workflow["jobs"].as_object().expect("jobs");
    let nodes = workflow["jobs"]["kind"]["strategy"]["matrix"]["node"].as_array().expect("kind matrix");
    let mut minors: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.as_str())
        .map(|v| v.trim_start_matches('v').split('.').take(2).collect::<Vec<_>>().join("."))
        .collect();
    minors.dedup();
    assert_eq!(minors.len(), 3, "three Kubernetes minor versions: {nodes:?}");
    assert!(jobs.contains_key("minikube"));

    let mut harness_runs = 0;
    for (name, job) in jobs {
        let steps = job["steps"].as_array().expect("steps");
        let upload = steps.iter().find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact")));
        let upload = upload.unwrap_or_else(|| panic!("job {name} uploads no artifacts"));
        assert_eq!(upload["if"], "always()", "job {name} must upload results on failure too");
        for step in steps {
            let Some(script) = step["run"].as_str() else { continue };
            for args in invocations(script) {
                assert_parses(&args, &format!("ci/github-actions.yml job {name}"));
                if args.first().map(String::as_str) == Some("run") {
                    harness_runs += 1;
                    assert!(args.contains(&"--junit".to_owned()) && args.contains(&"--output-dir".to_owned()), "{args:?}");
                }
            }
        }
    }
    assert_eq!(harness_runs, 2, "one suite run in the kind job (once per matrix entry) and one on minikube");

    // The upgrade job: prepare on the old version, upgrade in place, verify with cleanup.
    let upgrade = &workflow["jobs"]["upgrade"]["steps"];
    let scripts: Vec<&str> = upgrade.as_array().expect("steps").iter().filter_map(|s| s["run"].as_str()).collect();
    let order: Vec<usize> = ["upgrade prepare", "minikube start --kubernetes-version=", "upgrade verify"]
        .iter()
        .map(|needle| scripts.iter().position(|s| s.contains(needle)).unwrap_or_else(|| panic!("no step runs {needle}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "prepare, upgrade, verify in that order: {scripts:?}");
}

#[test]
fn the_kind_script_uses_only_existing_commands_and_cleans_up() {
    let script = std::fs::read_to_string("ci/run-on-kind.sh").expect("ci/run-on-kind.sh");
    assert!(script.starts_with("#!/usr/bin/env bash\n") && script.contains("set -euo pipefail"));
    assert!(script.contains("trap cleanup EXIT") && script.contains("kind delete cluster"), "the cluster is always deleted");
    let calls = invocations(&script);
    assert!(calls.iter().any(|a| a.first().map(String::as_str) == Some("run")), "{calls:?}");
    for args in &calls {
        assert_parses(args, "ci/run-on-kind.sh");
    }
}

#[test]
fn the_parser_of_these_tests_rejects_what_does_not_exist() {
    let bad = invocations("./target/release/sts-conformance run --no-such-flag");
    assert!(Cli::try_parse_from(std::iter::once("sts-conformance".to_owned()).chain(bad[0].iter().cloned())).is_err());
}

#[test]
fn the_minikube_upgrade_recipe_prepares_upgrades_and_verifies() {
    let script = std::fs::read_to_string("ci/upgrade-on-minikube.sh").expect("ci/upgrade-on-minikube.sh");
    assert!(script.contains("trap cleanup EXIT") && script.contains("minikube delete"));
    let calls = invocations(&script.replace("\"$profile\"", "sts-conformance-upgrade-1"));
    let commands: Vec<String> = calls.iter().map(|a| a.iter().take(2).cloned().collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(commands, ["upgrade prepare", "upgrade verify"], "{calls:?}");
    for args in &calls {
        assert_parses(args, "ci/upgrade-on-minikube.sh");
    }
    let start = script.find("upgrade prepare").expect("prepare");
    let upgrade = script[start..].find("minikube start").expect("an in-place upgrade after prepare");
    assert!(script[start + upgrade..].contains("upgrade verify"));
    assert!(script.contains("--kubernetes-version=\"$old\"") && script.contains("--kubernetes-version=\"$new\""));
}
