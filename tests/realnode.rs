//! What only a real node can show: the network rule holds for a real pod, and a real fault in
//! the cluster's DNS fails exactly the DNS claims, clearly. Ignored by default; `.ci/run` runs
//! them on the testbed's real node:
//!
//! ```sh
//! ci/testbed.sh up --nodes real && eval "$(ci/testbed.sh env)"
//! STS_TESTBED=1 cargo test --test realnode -- --ignored --test-threads 1
//! ```

use std::{
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::{
    Api, Client,
    api::{DeleteParams, LogParams, PostParams},
};
use serde_json::json;

mod common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The testbed's real node, or a loud refusal: these tests stop and start its components.
fn real_node() {
    assert!(
        std::env::var_os("STS_TESTBED").is_some() && std::env::var("STS_TESTBED_NODES").as_deref() == Ok("real"),
        "these tests need the testbed's real node: ci/testbed.sh up --nodes real; eval \"$(ci/testbed.sh env)\"; STS_TESTBED=1"
    );
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn testbed(args: &[&str]) -> Output {
    let out = Command::new(format!("{ROOT}/ci/testbed.sh")).args(args).output().expect("ci/testbed.sh runs");
    assert!(out.status.success(), "ci/testbed.sh {args:?}: {}", text(&out));
    out
}

/// The `-s POD_RANGE` drop counter of the testbed's no-uplink chain.
fn dropped_from_pods() -> u64 {
    let out = Command::new("iptables")
        .args(["-t", "mangle", "-L", "STSC-NO-UPLINK", "-v", "-x", "-n"])
        .output()
        .expect("iptables runs");
    assert!(out.status.success(), "the no-uplink chain exists: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| {
            l.contains("DROP") && l.contains("10.234.0.0/16") && l.contains("0.0.0.0/0") && {
                let fields: Vec<&str> = l.split_whitespace().collect();
                fields.get(7) == Some(&"10.234.0.0/16")
            }
        })
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .expect("a DROP rule for packets from the pod range")
}

fn uplink() -> String {
    let out = Command::new("ip").args(["-4", "route", "show", "default"]).output().expect("ip runs");
    let route = String::from_utf8_lossy(&out.stdout).into_owned();
    let words: Vec<&str> = route.split_whitespace().collect();
    words.iter().position(|w| *w == "dev").and_then(|i| words.get(i + 1)).expect("a default route").to_string()
}

/// Captures, on the uplink, every packet from or for a pod, service or node address.
fn capture() -> Child {
    Command::new("tcpdump")
        .args(["-i", &uplink(), "-n", "-l", "-p", "net 10.234.0.0/16 or net 10.233.0.0/18 or net 10.235.0.0/16"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tcpdump runs (apt-get install tcpdump)")
}

#[tokio::test]
#[ignore = "needs the testbed's real node (ci/testbed.sh up --nodes real; STS_TESTBED=1)"]
async fn no_packet_from_a_pod_leaves_the_machine() {
    real_node();
    let client = Client::try_default().await.expect("a client for the testbed");
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = format!("stsc-network-rule-{}", std::process::id());
    namespaces
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap())
        .await
        .expect("namespace");
    let before = dropped_from_pods();
    let mut tcpdump = capture();
    std::thread::sleep(Duration::from_secs(1));
    // A request to an address outside every local range (TEST-NET-3), and one to the machine's
    // own resolver's network: neither may leave; cluster DNS answers nothing outside the cluster.
    let script = "fetch() { (wget -q -O /dev/null \"$1\" & p=$!; (sleep 8; kill $p) >/dev/null 2>&1 & wait $p); }
if fetch http://203.0.113.7/; then echo OUTSIDE-REACHED; else echo OUTSIDE-BLOCKED; fi
if nslookup example.com. >/dev/null 2>&1; then echo NAME-RESOLVED; else echo NAME-UNKNOWN; fi";
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "outbound"},
        "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "c", "image": "stsc.local/busybox:1.35", "command": ["sh", "-c", script]}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.expect("pod");
    let deadline = Instant::now() + Duration::from_secs(120);
    let phase = loop {
        let phase = pods.get("outbound").await.ok().and_then(|p| p.status?.phase).unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" || Instant::now() > deadline {
            break phase;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let logs = pods.logs("outbound", &LogParams::default()).await.unwrap_or_default();
    std::thread::sleep(Duration::from_secs(1));
    let _ = tcpdump.kill();
    let captured = tcpdump.wait_with_output().expect("tcpdump output");
    let after = dropped_from_pods();
    namespaces.delete(&ns, &DeleteParams::default()).await.expect("delete namespace");
    assert_eq!(phase, "Succeeded", "the pod ran to the end: {logs}");
    assert!(logs.contains("OUTSIDE-BLOCKED"), "a pod reached an address outside the machine: {logs}");
    assert!(logs.contains("NAME-UNKNOWN"), "cluster DNS answered a name outside the cluster: {logs}");
    assert!(after > before, "the request was dropped by the no-uplink rule (counter {before} → {after})");
    let seen = String::from_utf8_lossy(&captured.stdout);
    assert!(seen.trim().is_empty(), "packets of the pod, service or node ranges on the uplink:\n{seen}");
}

/// Starts CoreDNS again when dropped, whatever happened in between.
struct DnsBack;

impl Drop for DnsBack {
    fn drop(&mut self) {
        let _ = Command::new(format!("{ROOT}/ci/testbed.sh")).args(["dns", "start"]).output();
    }
}

#[test]
#[ignore = "needs the testbed's real node (ci/testbed.sh up --nodes real; STS_TESTBED=1)"]
fn a_stopped_cluster_dns_fails_exactly_the_dns_claims_and_says_why() {
    real_node();
    let out_dir = tempfile::tempdir().expect("temp dir");
    testbed(&["dns", "stop"]);
    let back = DnsBack;
    let out = common::command()
        .args(["run", "--scenario", "seed-001-practice", "--output-dir"])
        .arg(out_dir.path())
        .output()
        .expect("the harness runs");
    drop(back);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "a failed claim is exit 1:\n{report}");
    let dir = out_dir.path().join("seed-001-practice");
    let verdicts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("verdicts.json")).expect("verdicts.json")).expect("json");
    let mut failed = Vec::new();
    for claim in verdicts["claims"].as_array().expect("claims") {
        let id = claim["claim"].as_str().or_else(|| claim["id"].as_str()).expect("claim id").to_owned();
        match claim["verdict"].as_str() {
            Some("fail") => failed.push(id),
            Some("pass") => {}
            other => panic!("claim {id} is {other:?}, not pass or fail, with only DNS broken:\n{report}"),
        }
    }
    assert_eq!(failed, ["001-dns"], "exactly the DNS claim fails:\n{report}");
    // The report names the claim, the name looked up and what the probe got.
    assert!(report.contains("001-dns"), "{report}");
    assert!(report.contains("nginx resolved to"), "the report names the lookup:\n{report}");
    assert!(report.contains("Failed claims, in full:"), "the failed claim's evidence in full:\n{report}");
    assert!(
        ["can't find", "Connection refused", "timed out", "no servers could be reached"].iter().any(|w| report.contains(w)),
        "the report shows the probe's output:\n{report}"
    );
    let diagnostics = std::fs::read_to_string(dir.join("diagnostics.txt")).expect("diagnostics.txt for a failed run");
    assert!(diagnostics.contains("web-0"), "diagnostics name the pods:\n{diagnostics}");
    assert!(diagnostics.contains("\nevents:"), "diagnostics have the events:\n{diagnostics}");
    assert!(diagnostics.contains("    log "), "diagnostics have the pod logs:\n{diagnostics}");
}
