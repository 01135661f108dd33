//! The safety promises, proven on a real API server: the project's testbed (`ci/testbed.sh up`),
//! which `.ci/run` brings up and runs these against. Ignored by default; with the testbed up:
//!
//! ```sh
//! eval "$(ci/testbed.sh env)"
//! STS_TESTBED=1 cargo test --test testbed -- --ignored --test-threads 1
//! ```
//!
//! They act on the cluster of the current kubeconfig, so they refuse to run unless `STS_TESTBED`
//! says that cluster is a disposable testbed.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use k8s_openapi::api::{
    apps::v1::StatefulSet,
    authentication::v1::TokenRequest,
    core::v1::{Namespace, PersistentVolume, ServiceAccount},
    rbac::v1::{ClusterRole, ClusterRoleBinding},
};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams, PostParams},
};
use serde_json::json;

mod common;

fn testbed() {
    assert!(
        std::env::var_os("STS_TESTBED").is_some(),
        "these tests create and delete objects: run them only on the testbed (ci/testbed.sh up; STS_TESTBED=1)"
    );
}

fn cli(args: &[&str]) -> Output {
    common::command().args(args).output().expect("the harness runs")
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn client() -> Client {
    Client::try_default().await.expect("a client for the testbed")
}

/// Namespaces the harness labels as its own.
async fn harness_namespaces(client: &Client) -> Vec<String> {
    let api: Api<Namespace> = Api::all(client.clone());
    let list = api.list(&ListParams::default().labels("app.kubernetes.io/managed-by=sts-conformance")).await.expect("list");
    list.items.iter().map(ResourceExt::name_any).collect()
}

fn assert_nothing_left() {
    let out = cli(&["cleanup", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to clean up"), "left behind: {}", text(&out));
}

#[tokio::test]
#[ignore = "needs the testbed (ci/testbed.sh up; STS_TESTBED=1)"]
async fn objects_the_harness_did_not_create_are_untouched_by_run_and_cleanup() {
    testbed();
    let client = client().await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    let sets: Api<StatefulSet> = Api::namespaced(client.clone(), "default");
    // Look-alikes: the names a run would use, without the harness's labels.
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "stsc-seed-001-practice-zz9zz9"}})).unwrap();
    let pv: PersistentVolume = serde_json::from_value(json!({"metadata": {"name": "pv-sfs-test01-zz9zz9"},
        "spec": {"capacity": {"storage": "20Mi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/stsc-foreign"},
                 "storageClassName": "pv-sfs-test01-zz9zz9"}}))
    .unwrap();
    let set: StatefulSet = serde_json::from_value(json!({"metadata": {"name": "web"},
        "spec": {"serviceName": "nginx", "replicas": 1, "selector": {"matchLabels": {"app": "foreign"}},
                 "template": {"metadata": {"labels": {"app": "foreign"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.19.0"}]}}}}))
    .unwrap();
    let pp = PostParams::default();
    let ns = namespaces.create(&pp, &ns).await.expect("namespace");
    let pv = volumes.create(&pp, &pv).await.expect("volume");
    let set = sets.create(&pp, &set).await.expect("statefulset");

    let out = cli(&["run", "--scenario", "seed-001-practice", "--skip-unsupported", "--quiet"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = cli(&["cleanup"]);
    assert!(out.status.success(), "{}", text(&out));

    let still = namespaces.get(&ns.name_any()).await.expect("the look-alike namespace is still there");
    assert_eq!(still.uid(), ns.uid());
    assert!(still.metadata.deletion_timestamp.is_none(), "the look-alike namespace is being deleted");
    let still = volumes.get(&pv.name_any()).await.expect("the look-alike volume is still there");
    assert_eq!(still.uid(), pv.uid());
    let still = sets.get("web").await.expect("default/web is still there");
    assert_eq!((still.uid(), still.metadata.generation), (set.uid(), set.metadata.generation), "default/web was changed");

    let dp = DeleteParams::default();
    let _ = sets.delete("web", &dp).await;
    let _ = volumes.delete(&pv.name_any(), &dp).await;
    let _ = namespaces.delete(&ns.name_any(), &dp).await;
}

/// A kubeconfig for ServiceAccount `default/NAME`, written to `dir`.
async fn service_account_kubeconfig(client: &Client, name: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), "default");
    let account: ServiceAccount = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    let _ = accounts.create(&PostParams::default(), &account).await;
    let request: TokenRequest = serde_json::from_value(json!({"spec": {"audiences": [], "expirationSeconds": 3600}})).unwrap();
    let token = accounts.create_token_request(name, &PostParams::default(), &request).await.expect("a token");
    let token = token.status.expect("token status").token;
    let admin = kube::config::Kubeconfig::read().expect("the testbed's kubeconfig");
    let cluster = admin.clusters.first().and_then(|c| c.cluster.clone()).expect("a cluster");
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": name,
        "clusters": [{"name": "testbed", "cluster": {"server": cluster.server, "certificate-authority": cluster.certificate_authority}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": "testbed", "user": name}}],
    });
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, config.to_string()).expect("write kubeconfig");
    path
}

async fn bind(client: &Client, account: &str, role: ClusterRole) {
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let name = role.name_any();
    let _ = roles.delete(&name, &DeleteParams::default()).await;
    roles.create(&PostParams::default(), &role).await.expect("role");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({"metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": "default"}]}))
    .unwrap();
    let _ = bindings.delete(&name, &DeleteParams::default()).await;
    bindings.create(&PostParams::default(), &binding).await.expect("binding");
}

#[tokio::test]
#[ignore = "needs the testbed (ci/testbed.sh up; STS_TESTBED=1)"]
async fn rbac_a_restricted_user_is_told_every_missing_permission_and_the_printed_role_is_enough() {
    testbed();
    let client = client().await;
    let dir = tempfile::tempdir().unwrap();
    // 1. A user who may only read pods: exit 3, every missing permission listed, nothing created.
    let limited: ClusterRole = serde_json::from_value(json!({"metadata": {"name": "stsc-test-limited"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}]}))
    .unwrap();
    bind(&client, "stsc-test-limited", limited).await;
    let kubeconfig = service_account_kubeconfig(&client, "stsc-test-limited", dir.path()).await;
    let before = harness_namespaces(&client).await;
    let out = cli(&["run", "--kubeconfig", kubeconfig.to_str().unwrap(), "--skip-unsupported"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for wanted in [
        "missing permission: create namespaces",
        "missing permission: watch namespaces",
        "missing permission: create pods/exec",
        "nothing was created",
    ] {
        assert!(err.contains(wanted), "{wanted:?} not in: {err}");
    }
    assert!(!err.contains("missing permission: list pods"), "a granted permission is not reported: {err}");
    assert_eq!(harness_namespaces(&client).await, before, "a refused run created a namespace");

    // 2. A user bound to exactly what `sts-conformance rbac` prints runs scenarios to the end.
    let out = cli(&["rbac", "--name", "stsc-test-full"]);
    assert!(out.status.success());
    let role: ClusterRole = serde_saphyr::from_slice(&out.stdout).expect("rbac prints a ClusterRole");
    bind(&client, "stsc-test-full", role).await;
    let kubeconfig = service_account_kubeconfig(&client, "stsc-test-full", dir.path()).await;
    let out = cli(&[
        "run",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--skip-unsupported",
        "--parallel",
        "2",
        "--scenario",
        "seed-001-practice",
        "--scenario",
        "seed-000-static-pv",
    ]);
    assert!(out.status.success(), "the printed role lacks something the run needs: {}", text(&out));
    assert_nothing_left();
}

#[test]
#[ignore = "needs the testbed (ci/testbed.sh up; STS_TESTBED=1)"]
fn sigint_in_the_middle_of_a_scenario_stops_cleans_up_and_leaves_nothing() {
    testbed();
    let mut child = common::command()
        .args(["run", "--scenario", "seed-002-lifecycle", "--skip-unsupported"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let stdout = child.stdout.take().expect("stdout");
    // Keep reading the output to its end (a closed pipe would be another test).
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // In the middle: the scale-up is under way.
            if line.contains("step 3:") {
                let _ = started_tx.send(());
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    started_rx.recv_timeout(Duration::from_secs(180)).expect("the scenario reached its third step");
    std::thread::sleep(Duration::from_secs(2));
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
    let started = Instant::now();
    let out = child.wait_with_output().expect("it ends");
    let seen = reader.join().expect("reader");
    assert!(started.elapsed() < Duration::from_secs(240), "cleaning up took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "interrupted runs exit 3: {seen}{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"), "{}", text(&out));
    assert_nothing_left();
}

#[test]
#[ignore = "needs the testbed (ci/testbed.sh up; STS_TESTBED=1)"]
fn a_watch_the_api_server_breaks_is_a_recorded_gap_and_never_a_false_verdict() {
    testbed();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut child = common::command()
        .args(["run", "--scenario", "seed-002-lifecycle", "--skip-unsupported", "--output-dir", out_dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = String::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("step 3:") {
            break;
        }
    }
    // The scale-up to 5 is waiting on pods: restart the control plane under it.
    std::thread::sleep(Duration::from_secs(3));
    let root = env!("CARGO_MANIFEST_DIR");
    let restart = Command::new(format!("{root}/ci/testbed.sh")).arg("restart-apiserver").output().expect("restart");
    assert!(restart.status.success(), "{}", text(&restart));
    for line in lines {
        seen.push_str(&line.expect("a line"));
        seen.push('\n');
    }
    let status = child.wait().expect("it ends");
    let verdicts: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("seed-002-lifecycle/verdicts.json")).expect("verdicts"))
            .expect("json");
    for claim in verdicts["claims"].as_array().expect("claims") {
        assert_ne!(claim["verdict"], "fail", "a broken watch gave a failure: {claim}\n{seen}");
    }
    let timeline = std::fs::read_to_string(out_dir.join("seed-002-lifecycle/timeline.jsonl")).expect("timeline");
    assert!(timeline.contains("\"type\":\"gap\""), "the broken watches are recorded as gaps:\n{seen}");
    assert!(status.code() == Some(0) || status.code() == Some(1), "{seen}");
    assert_nothing_left();
}
