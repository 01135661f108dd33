//! The live backend against a mocked API server (kube-rs's `tower_test` pattern) answering with
//! real Kubernetes JSON: each test scripts the requests it expects and checks what was sent.

use std::{collections::BTreeSet, pin::pin, time::Duration};

use http::{Request, Response};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock;

use super::*;

/// One expected request and the answer to give.
struct Expect {
    method: &'static str,
    /// A substring of the request's path and query.
    path: &'static str,
    status: u16,
    body: String,
}

fn expect(method: &'static str, path: &'static str, status: u16, body: Value) -> Expect {
    Expect { method, path, status, body: body.to_string() }
}

/// A request as the mock saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    content_type: String,
    body: String,
}

/// A client whose API server answers `script` in order; the task returns what it was sent.
fn mocked(script: Vec<Expect>) -> (Client, tokio::task::JoinHandle<Vec<Seen>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let mut seen = Vec::new();
        for step in script {
            let (request, send) = handle.next_request().await.expect("the client sent no request");
            let method = request.method().to_string();
            let uri = request.uri().to_string();
            let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let body = String::from_utf8_lossy(&request.into_body().collect_bytes().await.unwrap_or_default()).into_owned();
            assert_eq!(method, step.method, "{uri}");
            assert!(uri.contains(step.path), "expected {} {}, got {uri}", step.method, step.path);
            seen.push(Seen { method, uri, content_type, body });
            send.send_response(
                Response::builder().status(step.status).body(Body::from(step.body.into_bytes())).expect("response"),
            );
        }
        seen
    });
    (Client::new(service, "default"), task)
}

fn cluster(client: Client) -> LiveCluster {
    let mut c = LiveCluster::new(client, DEFAULT_PROBE_IMAGE);
    c.namespace = "stsc-seed-001-abc123".into();
    c
}

fn statefulset_json() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "stsc-seed-001-abc123", "uid": "u1"},
           "spec": {"serviceName": "nginx", "replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                    "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx", "image": "registry.k8s.io/nginx-slim:0.8"}]}}}})
}

fn forbidden(message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": "Forbidden", "code": 403})
}

#[tokio::test]
async fn apply_is_a_server_side_apply_with_our_field_manager() {
    let (client, server) =
        mocked(vec![expect("PATCH", "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets/web?", 200, statefulset_json())]);
    let object = Object::from_json(statefulset_json()).expect("a StatefulSet");
    cluster(client).apply(&object).await.expect("applied");
    let seen = server.await.expect("server");
    assert!(seen[0].uri.contains("fieldManager=sts-conformance") && seen[0].uri.contains("force=true"), "{}", seen[0].uri);
    assert_eq!(seen[0].content_type, "application/apply-patch+yaml");
    assert!(seen[0].body.contains("\"replicas\":2"), "{}", seen[0].body);
}

#[tokio::test]
async fn scale_goes_through_the_scale_subresource() {
    let scale = json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": {"name": "web"}, "spec": {"replicas": 5}, "status": {"replicas": 2}});
    let (client, server) =
        mocked(vec![expect("PATCH", "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets/web/scale", 200, scale)]);
    cluster(client).scale("web", 5).await.expect("scaled");
    let seen = server.await.expect("server");
    assert_eq!(seen[0].content_type, "application/merge-patch+json");
    assert_eq!(serde_json::from_str::<Value>(&seen[0].body).expect("json"), json!({"spec": {"replicas": 5}}));
}

#[tokio::test]
async fn image_changes_patch_the_container_and_deletions_are_single_objects() {
    let (client, server) = mocked(vec![
        expect("PATCH", "/statefulsets/web", 200, statefulset_json()),
        expect(
            "DELETE",
            "/api/v1/namespaces/stsc-seed-001-abc123/pods/web-0",
            200,
            json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "web-0"}}),
        ),
        expect("DELETE", "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets/web", 200, statefulset_json()),
    ]);
    let mut c = cluster(client);
    c.set_image("web", "nginx", "registry.k8s.io/nginx-slim:0.9").await.expect("patched");
    c.delete_pod("web-0").await.expect("deleted");
    c.delete_statefulset("web").await.expect("deleted");
    let seen = server.await.expect("server");
    assert_eq!(seen[0].content_type, "application/strategic-merge-patch+json");
    assert!(seen[0].body.contains("nginx-slim:0.9"));
    assert!(seen[2].body.contains("Background"), "kubectl deletes a StatefulSet in the background: {}", seen[2].body);
}

#[tokio::test]
async fn a_forbidden_exec_names_the_verb_and_resource() {
    let message = "pods \"web-0\" is forbidden: User \"ci\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"stsc-seed-001-abc123\"";
    // A pod with a sidecar: the exec must name the workload's container, or the API refuses it.
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "stsc-seed-001-abc123"},
                     "spec": {"containers": [{"name": "nginx", "image": "nginx"}, {"name": "log-shipper", "image": "busybox"}]}});
    let (client, server) = mocked(vec![
        expect("GET", "/api/v1/namespaces/stsc-seed-001-abc123/pods/web-0", 200, pod),
        expect("GET", "/api/v1/namespaces/stsc-seed-001-abc123/pods/web-0/exec?", 403, forbidden(message)),
    ]);
    let err = cluster(client).exec("web-0", &ExecCommand::Hostname).await.expect_err("forbidden");
    assert!(!err.answered(), "a refused exec ran nothing: {err:?}");
    let err = err.to_string();
    assert!(err.contains("403 Forbidden") && err.contains("cannot create resource \"pods/exec\""), "{err}");
    let seen = server.await.expect("server");
    assert!(seen[1].uri.contains("command=hostname"), "{}", seen[1].uri);
    assert!(seen[1].uri.contains("container=nginx"), "the first container is named: {}", seen[1].uri);
}

#[tokio::test(start_paused = true)]
async fn a_request_the_api_server_never_answers_ends_in_a_timeout_error() {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let server = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let mut held = Vec::new();
        // Take every request and answer none.
        while let Some((request, send)) = handle.next_request().await {
            held.push((request.uri().to_string(), send));
        }
        held.len()
    });
    let mut c = cluster(Client::new(service, "default"));
    let err = c.scale("web", 3).await.expect_err("no answer");
    assert!(matches!(err, ClusterError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("scaling statefulset web: no answer from the API server within 30s"), "{err}");
    drop(c);
    assert_eq!(server.await.expect("server"), 1 + RETRIES as usize, "tried again, a bounded number of times");
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_a_conflict_is_typed() {
    let throttled = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "slow down", "reason": "TooManyRequests", "code": 429});
    let conflict = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "the object has been modified", "reason": "Conflict", "code": 409});
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "web"}, "spec": {"replicas": 3}});
    let (client, server) = mocked(vec![
        expect("PATCH", "/statefulsets/web/scale", 429, throttled),
        expect("PATCH", "/statefulsets/web/scale", 200, scale),
        expect("PATCH", "/statefulsets/web?", 409, conflict),
    ]);
    let mut c = cluster(client);
    c.scale("web", 3).await.expect("retried after the 429");
    let err = c.patch_statefulset("web", &json!({"spec": {"minReadySeconds": 1}})).await.expect_err("a conflict");
    assert_eq!(err.code(), Some(409));
    assert!(!err.is_transient(), "a conflict is not retried");
    assert!(err.to_string().contains("409 Conflict"), "{err}");
    server.await.expect("server");
}

#[tokio::test(start_paused = true)]
async fn a_deletion_whose_answer_was_lost_is_done_when_the_retry_finds_nothing() {
    let unavailable = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "etcd leader changed", "reason": "ServiceUnavailable", "code": 503});
    let gone = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "pods \"web-0\" not found", "reason": "NotFound", "code": 404});
    let (client, server) = mocked(vec![
        expect("DELETE", "/pods/web-0", 503, unavailable),
        expect("DELETE", "/pods/web-0", 404, gone.clone()),
        expect("DELETE", "/pods/web-1", 404, gone),
    ]);
    let mut c = cluster(client);
    c.delete_pod("web-0").await.expect("the first try deleted it");
    let err = c.delete_pod("web-1").await.expect_err("a pod that never existed is an error");
    assert_eq!(err.code(), Some(404));
    server.await.expect("server");
}

/// A client whose API server answers every request with `answer(request)`, in whatever order
/// they come (for concurrent requests); status 0 holds the request open without an answer, as
/// an API server holds a watch. The task returns what it was sent once the client is dropped.
fn served(answer: impl Fn(&Seen) -> (u16, Value) + Send + 'static) -> (Client, tokio::task::JoinHandle<Vec<Seen>>) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let task = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let mut seen = Vec::new();
        let mut held = Vec::new();
        while let Some((request, send)) = handle.next_request().await {
            let method = request.method().to_string();
            let uri = request.uri().to_string();
            let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            let body = String::from_utf8_lossy(&request.into_body().collect_bytes().await.unwrap_or_default()).into_owned();
            let request = Seen { method, uri, content_type, body };
            let (status, body) = answer(&request);
            seen.push(request);
            if status == 0 {
                held.push(send);
                continue;
            }
            send.send_response(
                Response::builder().status(status).body(Body::from(body.to_string().into_bytes())).expect("response"),
            );
        }
        seen
    });
    (Client::new(service, "default"), task)
}

/// A cluster for preflight: `denied` permissions (as `verb resource[.group][/sub]`) are refused,
/// the nodes are `nodes` (name, simulated by kwok), kube-dns exists with `dns_ready` endpoints.
fn preflight_cluster(
    denied: &'static [&'static str],
    nodes: &'static [(&'static str, bool, bool)],
    dns_ready: bool,
) -> impl Fn(&Seen) -> (u16, Value) {
    move |request: &Seen| {
        let path = request.uri.split('?').next().unwrap_or_default();
        match path {
            "/version" => (
                200,
                json!({"major": "1", "minor": "34", "gitVersion": "v1.34.4", "gitCommit": "", "gitTreeState": "", "buildDate": "", "goVersion": "", "compiler": "", "platform": "linux/amd64"}),
            ),
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" => {
                let review: Value = serde_json::from_str(&request.body).expect("a review");
                let a = &review["spec"]["resourceAttributes"];
                let group = a["group"].as_str().unwrap_or_default();
                let sub = a["subresource"].as_str().map(|s| format!("/{s}")).unwrap_or_default();
                let name = format!(
                    "{} {}{}{sub}",
                    a["verb"].as_str().unwrap_or_default(),
                    a["resource"].as_str().unwrap_or_default(),
                    if group.is_empty() { String::new() } else { format!(".{group}") }
                );
                let allowed = !denied.contains(&name.as_str());
                (
                    201,
                    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}, "status": {"allowed": allowed}}),
                )
            }
            "/apis/storage.k8s.io/v1/storageclasses" => {
                (200, json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClassList", "metadata": {}, "items": []}))
            }
            "/api/v1/nodes" => {
                let items: Vec<Value> = nodes
                    .iter()
                    .map(|(name, kwok, tainted)| {
                        let annotations = if *kwok { json!({"kwok.x-k8s.io/node": "fake"}) } else { json!({}) };
                        let taints = if *tainted {
                            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
                        } else {
                            json!([])
                        };
                        json!({"metadata": {"name": name, "annotations": annotations}, "spec": {"taints": taints}})
                    })
                    .collect();
                (200, json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": items}))
            }
            "/api/v1/namespaces/kube-system/services/kube-dns" => {
                (200, json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns"}}))
            }
            "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices" => {
                let endpoints =
                    if dns_ready { json!([{"addresses": ["10.0.0.10"], "conditions": {"ready": true}}]) } else { json!([]) };
                (
                    200,
                    json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSliceList", "metadata": {},
                             "items": [{"metadata": {"name": "kube-dns-x"}, "addressType": "IPv4", "endpoints": endpoints}]}),
                )
            }
            other => panic!("preflight asked for {other}"),
        }
    }
}

#[tokio::test]
async fn preflight_reports_every_missing_permission_and_creates_nothing() {
    let (client, server) = served(preflight_cluster(
        &["create pods/exec", "patch statefulsets.apps/scale", "watch namespaces"],
        &[("node-1", false, false)],
        true,
    ));
    let findings = preflight(&client, &[None]).await;
    drop(client);
    let seen = server.await.expect("server");
    assert_eq!(findings.server_version, "v1.34.4");
    let problems = findings.problems.join("\n");
    assert!(problems.contains("missing permission: create pods/exec"), "{problems}");
    assert!(problems.contains("missing permission: patch statefulsets.apps/scale (for scale steps)"), "{problems}");
    assert!(
        problems.contains("missing permission: watch namespaces (for cleanup waits for its namespace to be gone)"),
        "cleanup's wait is asked about: {problems}"
    );
    assert!(problems.contains("sts-conformance rbac"), "{problems}");
    assert!(problems.contains("no default StorageClass"), "{problems}");
    assert_eq!(findings.problems.len(), 5, "{problems}");
    assert!(findings.missing.is_empty(), "{:?}", findings.missing);
    assert!(seen.iter().all(|s| s.method == "GET" || s.uri.contains("selfsubjectaccessreviews")), "preflight only reads");
    let reviews = seen.iter().filter(|s| s.uri.contains("selfsubjectaccessreviews")).count();
    assert_eq!(reviews, preflight::permissions().len(), "one review per permission of the table");
}

#[test]
fn the_permission_table_covers_every_kind_apply_accepts_and_every_watch() {
    let table: BTreeSet<String> = preflight::permissions().iter().map(|(p, _)| p.to_string()).collect();
    for (group, resource) in preflight::APPLIED {
        for verb in ["create", "patch"] {
            let g = if group.is_empty() { String::new() } else { format!(".{group}") };
            assert!(table.contains(&format!("{verb} {resource}{g}")), "{verb} {resource}{g}");
        }
    }
    for wanted in ["watch namespaces", "get configmaps", "create jobs.batch", "patch daemonsets.apps", "list persistentvolumes"] {
        assert!(table.contains(wanted), "{wanted}");
    }
    // Every object kind the manifests may hold is applied through the table's kinds.
    let role = preflight::cluster_role("sts-conformance");
    let parsed: Value = serde_saphyr::from_str(&role).expect("the ClusterRole is YAML");
    assert_eq!(parsed["kind"], "ClusterRole");
    assert!(role.contains("resources: [\"statefulsets/scale\"]"), "{role}");
}

#[tokio::test]
async fn preflight_finds_simulated_nodes_and_missing_dns() {
    let nodes = &[("kwok-node-0", true, true), ("kwok-node-1", true, false), ("kwok-node-2", true, false)];
    let (client, server) = served(preflight_cluster(&[], nodes, false));
    let findings = preflight(&client, &[]).await;
    drop(client);
    server.await.expect("server");
    assert!(findings.problems.is_empty(), "{:?}", findings.problems);
    let containers = &findings.missing[&crate::capability::Capability::Containers];
    // The tainted one takes no ordinary pod: not named.
    assert!(containers.contains("nodes kwok-node-1, kwok-node-2 are simulated by kwok"), "{containers}");
    let dns = &findings.missing[&crate::capability::Capability::ClusterDns];
    assert!(dns.contains("no ready endpoint"), "{dns}");
}

/// The real-node testbed's shape: a real node, and a kwok node tainted like a control plane that
/// only a tolerating DaemonSet's pods go to — containers run wherever an ordinary pod can go.
#[tokio::test]
async fn a_tainted_simulated_node_beside_a_real_one_takes_no_capability_away() {
    let (client, server) = served(preflight_cluster(&[], &[("stsc-node", false, false), ("kwok-node-0", true, true)], true));
    let findings = preflight(&client, &[]).await;
    drop(client);
    server.await.expect("server");
    assert!(findings.missing.is_empty(), "{:?}", findings.missing);
}

#[tokio::test]
async fn an_unreachable_or_unauthorized_api_server_is_one_clear_problem() {
    let (client, server) = mocked(vec![expect(
        "GET",
        "/version",
        401,
        json!({"kind": "Status", "status": "Failure", "message": "Unauthorized", "reason": "Unauthorized", "code": 401}),
    )]);
    let findings = preflight(&client, &[]).await;
    server.await.expect("server");
    assert_eq!(findings.problems.len(), 1);
    assert!(findings.problems[0].contains("401 Unauthorized"), "{}", findings.problems[0]);
}

#[tokio::test]
async fn cleanup_deletes_only_what_carries_the_runs_labels() {
    let labels = json!({"app.kubernetes.io/managed-by": "sts-conformance", "sts-conformance/run": "abc123"});
    let (client, server) = mocked(vec![
        expect(
            "GET",
            "/api/v1/namespaces/stsc-seed-001-abc123",
            200,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stsc-seed-001-abc123", "uid": "ns-uid", "labels": labels}}),
        ),
        expect(
            "DELETE",
            "/api/v1/namespaces/stsc-seed-001-abc123",
            200,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stsc-seed-001-abc123"}}),
        ),
        expect(
            "GET",
            "/api/v1/persistentvolumes/pv-sfs01-abc123",
            200,
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-sfs01-abc123", "labels": labels}}),
        ),
        expect(
            "DELETE",
            "/api/v1/persistentvolumes/pv-sfs01-abc123",
            200,
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-sfs01-abc123"}}),
        ),
        expect(
            "GET",
            "/api/v1/persistentvolumes/someone-elses",
            200,
            json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "someone-elses", "labels": {"team": "db"}}}),
        ),
        // Waiting for the namespace to go: it is already gone.
        expect(
            "GET",
            "/api/v1/namespaces?",
            200,
            json!({"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": "10"}, "items": []}),
        ),
    ]);
    let created: BTreeSet<(String, String)> = [
        ("PersistentVolume".to_owned(), "pv-sfs01-abc123".to_owned()),
        ("PersistentVolume".to_owned(), "someone-elses".to_owned()),
    ]
    .into();
    let result = cleanup::delete_run(&client, "stsc-seed-001-abc123", "abc123", &created, Duration::from_secs(5)).await;
    let seen = server.await.expect("server");
    let deleted: Vec<&str> = seen.iter().filter(|s| s.method == "DELETE").map(|s| s.uri.as_str()).collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(deleted.iter().all(|u| !u.contains("someone-elses")));
    let err = result.expect_err("the unlabelled volume is reported").to_string();
    assert!(err.contains("someone-elses does not carry this run's labels: left alone"), "{err}");
}

/// A watch of the pods of namespace `ns` on `client`, running: its task, the timeline events it
/// sends, and how far it has come.
fn spawn_pod_watch(
    client: Client,
) -> (JoinHandle<()>, mpsc::UnboundedReceiver<Stamped>, tokio::sync::watch::Receiver<watch::Progress>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (progress, watched) = tokio::sync::watch::channel(watch::Progress::Starting(None));
    let api: Api<Pod> = Api::namespaced(client, "ns");
    let task = tokio::spawn(watch::run(
        api,
        watcher::Config::default(),
        Translator::new("pods", events::pod),
        Instant::now(),
        tx,
        progress,
    ));
    (task, rx, watched)
}

#[tokio::test]
async fn watch_events_become_timeline_entries_and_a_410_a_gap() {
    let pod = |rv: &str, phase: &str, ready: &str| {
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": "web-0", "namespace": "ns", "uid": "p1", "resourceVersion": rv,
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s1", "controller": true}]},
               "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}})
    };
    let list = |rv: &str, items: Vec<Value>| json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": rv}, "items": items});
    let watch_body = [
        json!({"type": "MODIFIED", "object": pod("11", "Running", "True")}).to_string(),
        json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "too old resource version: 11 (20)", "reason": "Expired", "code": 410}}).to_string(),
    ]
    .join("\n");
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let server = tokio::spawn(async move {
        let mut handle = pin!(handle);
        let answers = [list("10", vec![pod("10", "Pending", "False")]).to_string(), watch_body, list("30", vec![]).to_string()];
        for answer in answers {
            let (_request, send) = handle.next_request().await.expect("request");
            send.send_response(Response::builder().body(Body::from(answer.into_bytes())).expect("response"));
        }
        // Keep the last watch open until the test ends.
        let _pending = handle.next_request().await;
        std::future::pending::<()>().await;
    });
    let (task, mut rx, _) = spawn_pod_watch(Client::new(service, "default"));
    let mut got = Vec::new();
    while got.len() < 5 {
        let (_, event) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("in time").expect("an event");
        got.push(match event {
            Event::Pod { change, pod } => format!("{change:?} {} {} ready={}", pod.name, pod.phase, pod.ready),
            Event::Gap { resource, .. } => format!("gap {resource}"),
            Event::GapEnd { resource, relisted } => format!("gap end {resource} relisted={relisted}"),
            other => format!("{other:?}"),
        });
    }
    task.abort();
    server.abort();
    assert_eq!(got[0], "Added web-0 Pending ready=false");
    assert_eq!(got[1], "Modified web-0 Running ready=true");
    assert_eq!(got[2], "gap pods", "one gap per restart: {got:?}");
    assert_eq!(got[3], "Deleted web-0 Running ready=true", "the pod vanished during the gap: {got:?}");
    assert_eq!(got[4], "gap end pods relisted=true", "the re-list closes the gap: {got:?}");
}

#[test]
fn a_watch_gap_makes_the_order_checks_of_its_step_inconclusive() {
    use crate::checks::{CheckName, Policy, Verdict, Window, evaluate};
    let pod = |name: &str, uid: &str, phase: &str, ready: bool| -> Pod {
        serde_json::from_value(json!({"metadata": {"name": name, "uid": uid,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "s1", "controller": true}]},
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}}))
        .expect("pod")
    };
    let mut t = Translator::new("pods", events::pod);
    let mut timeline = crate::timeline::Timeline::new();
    timeline.push(0, Event::Step { index: 0, action: "apply".into() });
    let watch = [
        Ok(watcher::Event::Init),
        Ok(watcher::Event::InitDone),
        Ok(watcher::Event::Apply(pod("web-0", "p0", "Pending", false))),
        Err(watcher::Error::NoResourceVersion),
        Ok(watcher::Event::Init),
        Ok(watcher::Event::InitApply(pod("web-0", "p0", "Running", true))),
        Ok(watcher::Event::InitApply(pod("web-1", "p1", "Pending", false))),
        Ok(watcher::Event::InitDone),
    ];
    for event in watch {
        for e in t.translate(event) {
            timeline.push(0, e);
        }
    }
    let window = Window {
        timeline: &timeline,
        range: 0..timeline.len(),
        target: "web",
        namespace: "ns",
        cluster_domain: "cluster.local",
        expect_body: None,
        default_policy: Policy::Ordered,
        ended_early: false,
        ended_at_ms: None,
    };
    assert_eq!(evaluate(CheckName::OrderedCreation, &window).verdict, Verdict::Inconclusive);
}

#[tokio::test]
async fn the_upgrade_baseline_round_trips_through_its_config_map() {
    let baseline = crate::upgrade::Baseline {
        format: crate::upgrade::FORMAT.into(),
        workload: "seed-001-web".into(),
        namespace: "stsc-seed-001-abc123".into(),
        run_id: "abc123".into(),
        statefulset: "web".into(),
        service: "nginx".into(),
        replicas: 1,
        server_version: "v1.33.1".into(),
        pods: vec![crate::upgrade::PodBaseline {
            name: "web-0".into(),
            uid: "p1".into(),
            claims: [("www".to_owned(), "www-web-0".to_owned())].into(),
            claim_uids: [("www-web-0".to_owned(), "c1".to_owned())].into(),
            volumes: [("www-web-0".to_owned(), "pvc-c1".to_owned())].into(),
            token_path: "/usr/share/nginx/html/sts-conformance-upgrade-token".into(),
            token: "upgrade-5f2c".into(),
            dns_name: "web-0.nginx.stsc-seed-001-abc123.svc.cluster.local".into(),
        }],
    };
    let object = crate::upgrade::baseline_config_map(&baseline).expect("a ConfigMap");
    // The API server answers the apply with the object, and a later GET with the same data.
    let stored = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": crate::upgrade::BASELINE_CONFIG_MAP, "namespace": "stsc-seed-001-abc123"},
                        "data": object.to_json()["data"].clone()});
    let (client, server) = mocked(vec![
        expect(
            "PATCH",
            "/api/v1/namespaces/stsc-seed-001-abc123/configmaps/sts-conformance-upgrade-baseline?",
            200,
            stored.clone(),
        ),
        expect("GET", "/api/v1/namespaces/stsc-seed-001-abc123/configmaps/sts-conformance-upgrade-baseline", 200, stored),
    ]);
    let mut c = cluster(client);
    c.apply(&object).await.expect("stored");
    let data = c.read_config_map(crate::upgrade::BASELINE_CONFIG_MAP).await.expect("read").expect("present");
    server.await.expect("server");
    assert_eq!(crate::upgrade::baseline_from_config_map(&data).expect("a baseline"), baseline);
}

#[tokio::test]
async fn a_watch_that_keeps_failing_backs_off_instead_of_hammering_the_api_server() {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = std::sync::Arc::clone(&count);
    let (client, _server) = served(move |_| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        (403, forbidden("pods is forbidden: User \"ci\" cannot list resource \"pods\""))
    });
    let (task, _rx, watched) = spawn_pod_watch(client);
    tokio::time::sleep(Duration::from_secs(2)).await;
    task.abort();
    let requests = count.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=6).contains(&requests), "{requests} list requests in 2 s: no backoff");
    assert!(matches!(&*watched.borrow(), watch::Progress::Starting(Some(e)) if e.contains("403")), "the last error is kept");
}

#[tokio::test(start_paused = true)]
async fn a_namespace_whose_watches_cannot_list_is_refused_before_any_action() {
    let (client, server) = served(|request| {
        let path = request.uri.split('?').next().unwrap_or_default().to_owned();
        match (request.method.as_str(), path.as_str()) {
            ("POST", "/api/v1/namespaces") => {
                (201, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "stsc-x-abc123"}}))
            }
            // The pods watch is refused; every other watch lists an empty namespace.
            (_, p) if p.ends_with("/pods") => (403, forbidden("pods is forbidden: User \"ci\" cannot list resource \"pods\"")),
            // A watch stays open with nothing to say.
            _ if request.uri.contains("watch=true") => (0, Value::Null),
            (_, p) => {
                let kind = if p.contains("persistentvolumes") && !p.contains("claims") { "PersistentVolumeList" } else { "List" };
                (200, json!({"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": []}))
            }
        }
    });
    let mut c = LiveCluster::new(client, DEFAULT_PROBE_IMAGE);
    let labels: BTreeMap<String, String> = [(RUN_LABEL.to_owned(), "abc123".to_owned())].into();
    let err = c.create_namespace("stsc-x-abc123", &labels).await.expect_err("the barrier holds");
    assert!(matches!(err, ClusterError::Watch(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("pods (") && text.contains("403"), "{text}");
    assert!(!text.contains("statefulsets"), "only the failing watch is named: {text}");
    c.watches.drain(..).for_each(|t| t.abort());
    drop(c);
    server.abort();
}

/// A loopback API server for exec, which a tower mock cannot serve (kube opens it with an HTTP
/// upgrade to a websocket): `GET` of a pod answers a pod with a sidecar; an exec is accepted
/// with the channel protocol kube offers, prints `stdout` on channel 1 and `stderr` on 2, and
/// ends with `status` on channel 3. Returns its URL and the exec request paths it saw.
// The handshake callback's error type is tungstenite's own (a whole HTTP response).
#[allow(clippy::result_large_err)]
async fn exec_server(
    stdout: &'static str,
    stderr: &'static str,
    status: Value,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use futures::SinkExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::{Message, handshake::server};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&paths);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = std::sync::Arc::clone(&seen);
            let status = status.clone();
            tokio::spawn(async move {
                loop {
                    // Look at the request head without taking it, to choose plain HTTP or websocket.
                    let mut head = vec![0u8; 8192];
                    let n = match stream.peek(&mut head).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let text = String::from_utf8_lossy(&head[..n]).to_string();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    if text.to_ascii_lowercase().contains("upgrade: websocket") {
                        let path = text.split_whitespace().nth(1).unwrap_or_default().to_owned();
                        seen.lock().expect("lock").push(path);
                        let choose = |request: &server::Request, mut response: server::Response| {
                            let offered =
                                request.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).unwrap_or("");
                            let chosen = offered
                                .split(',')
                                .map(str::trim)
                                .find(|p| p.starts_with("v4.channel"))
                                .unwrap_or("v4.channel.k8s.io");
                            response.headers_mut().insert("sec-websocket-protocol", chosen.parse().expect("header"));
                            Ok(response)
                        };
                        let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, choose).await else { return };
                        for (channel, text) in [(1u8, stdout), (2u8, stderr)] {
                            if !text.is_empty() {
                                let mut frame = vec![channel];
                                frame.extend_from_slice(text.as_bytes());
                                let _ = ws.send(Message::binary(frame)).await;
                            }
                        }
                        let mut frame = vec![3u8];
                        frame.extend_from_slice(status.to_string().as_bytes());
                        let _ = ws.send(Message::binary(frame)).await;
                        let _ = ws.close(None).await;
                        return;
                    }
                    let mut taken = vec![0u8; end + 4];
                    if stream.read_exact(&mut taken).await.is_err() {
                        return;
                    }
                    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-0", "namespace": "stsc-seed-001-abc123"},
                                     "spec": {"containers": [{"name": "nginx", "image": "nginx"}, {"name": "log-shipper", "image": "busybox"}]}})
                    .to_string();
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{pod}",
                        pod.len()
                    );
                    if stream.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, paths)
}

fn loopback_cluster(url: &str) -> LiveCluster {
    let config = kube::Config::new(url.parse().expect("url"));
    cluster(Client::try_from(config).expect("client"))
}

#[tokio::test]
async fn exec_reads_the_commands_output_from_the_named_container() {
    let (url, paths) = exec_server("web-0\n", "", json!({"metadata": {}, "status": "Success"})).await;
    let mut c = loopback_cluster(&url);
    let out = c.exec("web-0", &ExecCommand::Hostname).await.expect("hostname ran");
    assert_eq!(out, "web-0");
    let paths = paths.lock().expect("lock").clone();
    assert_eq!(paths.len(), 1, "{paths:?}");
    assert!(paths[0].contains("/api/v1/namespaces/stsc-seed-001-abc123/pods/web-0/exec?"), "{}", paths[0]);
    assert!(paths[0].contains("container=nginx") && paths[0].contains("command=hostname"), "{}", paths[0]);
}

#[tokio::test]
async fn an_exec_that_exits_non_zero_is_an_error_with_what_it_printed() {
    let failure = json!({"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: error executing command [cat -- /data/token], exit code 1",
                         "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}});
    let (url, _) = exec_server("", "cat: can't open '/data/token': No such file or directory\n", failure).await;
    let mut c = loopback_cluster(&url);
    let err = c.exec("web-0", &ExecCommand::Read { path: "/data/token".into() }).await.expect_err("exit code 1");
    assert!(err.answered(), "the command ran and failed: {err:?}");
    let err = err.to_string();
    assert!(err.contains("non-zero exit code"), "{err}");
    assert!(err.contains("No such file or directory"), "what the command printed is kept: {err}");
}

#[tokio::test]
async fn a_lookup_that_exits_non_zero_is_judged_by_what_nslookup_printed() {
    // On a real cluster nslookup exits 1 for NXDOMAIN (and when no server answers): the answer
    // is in its output, which must reach the check rather than "exit code 1".
    let failure = json!({"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: error executing command [sh -c …], exit code 1",
                         "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "1"}]}});
    let printed =
        "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find web-9.nginx.ns.svc.cluster.local.: NXDOMAIN\n";
    let (url, paths) = exec_server(printed, "", failure).await;
    let mut c = loopback_cluster(&url);
    c.probe_ready = true;
    let err = c.resolve("web-9.nginx").await.expect_err("NXDOMAIN");
    assert_eq!(err, ProbeError::Answered("** server can't find web-9.nginx.ns.svc.cluster.local.: NXDOMAIN".into()));
    assert!(paths.lock().expect("lock")[0].contains("/pods/sts-conformance-probe/exec?"));
}

#[test]
fn a_scenario_watches_only_its_own_volumes_not_those_of_its_run() {
    let labels: BTreeMap<String, String> = [
        (RUN_LABEL.to_owned(), "abc123".to_owned()),
        (crate::plan::SCENARIO_LABEL.to_owned(), "seed-000-identity".to_owned()),
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
    ]
    .into();
    assert_eq!(volume_selector(&labels), "sts-conformance/run=abc123,sts-conformance/scenario=seed-000-identity");
}

fn status_json(version: &str, conditions: Value) -> Value {
    let mut set = statefulset_json();
    set["metadata"]["resourceVersion"] = json!(version);
    set["status"] = json!({"replicas": 2, "readyReplicas": 2, "observedGeneration": 1, "conditions": conditions});
    set
}

fn conflict() -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "the object has been modified", "reason": "Conflict", "code": 409})
}

#[tokio::test]
async fn a_status_write_reads_adds_its_condition_and_tries_again_on_a_conflict() {
    let path = "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets/web/status";
    let written = json!([{"type": "StsConformanceStatusUpdated", "status": "True"}]);
    let (client, server) = mocked(vec![
        expect("GET", path, 200, status_json("10", json!([]))),
        // The controller wrote in between.
        expect("PUT", path, 409, conflict()),
        expect("GET", path, 200, status_json("11", json!([]))),
        expect("PUT", path, 200, status_json("12", written)),
    ]);
    let request = crate::timeline::ApiCall::UpdateStatus { set: "web".into(), condition: "StsConformanceStatusUpdated".into() };
    let answer = cluster(client).call_api(&request).await.expect("answered");
    assert_eq!(answer.resource_version.as_deref(), Some("12"));
    assert_eq!(answer.conditions, vec!["StsConformanceStatusUpdated".to_owned()]);
    assert_eq!((answer.status_replicas, answer.ready_replicas, answer.observed_generation), (Some(2), Some(2), Some(1)));
    let seen = server.await.expect("mock");
    let sent: Value = serde_json::from_str(&seen[3].body).expect("json");
    assert_eq!(sent["metadata"]["resourceVersion"], "11", "the write carries the version it read");
    assert_eq!(sent["status"]["conditions"][0]["type"], "StsConformanceStatusUpdated");
    assert_eq!(sent["status"]["conditions"][0]["reason"], "StsConformance");
}

#[tokio::test]
async fn an_api_refusal_is_an_answer_and_a_forbidden_call_is_not_made() {
    let path = "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets/web/scale";
    let not_found = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "the server could not find the requested resource", "reason": "NotFound", "code": 404});
    let (client, server) = mocked(vec![expect("GET", path, 404, not_found), expect("GET", path, 403, forbidden("no"))]);
    let mut c = cluster(client);
    let request = crate::timeline::ApiCall::GetScale { set: "web".into() };
    let refused = c.call_api(&request).await.expect_err("refused");
    assert!(refused.answered(), "{refused}");
    let forbidden = c.call_api(&request).await.expect_err("forbidden");
    assert!(!forbidden.answered(), "{forbidden}");
    server.await.expect("mock");
}

#[tokio::test]
async fn a_list_and_a_delete_collection_select_by_the_labels() {
    let path = "/apis/apps/v1/namespaces/stsc-seed-001-abc123/statefulsets?";
    let list = json!({"apiVersion": "apps/v1", "kind": "StatefulSetList", "metadata": {"resourceVersion": "20"}, "items": [statefulset_json()]});
    let (client, server) = mocked(vec![expect("GET", path, 200, list.clone()), expect("DELETE", path, 200, list)]);
    let mut c = cluster(client);
    let labels: std::collections::BTreeMap<String, String> = [("suite".to_owned(), "api".to_owned())].into();
    let listed = c.call_api(&crate::timeline::ApiCall::List { labels: labels.clone() }).await.expect("listed");
    assert_eq!(listed.names, vec!["web".to_owned()]);
    let deleted = c.call_api(&crate::timeline::ApiCall::DeleteCollection { labels }).await.expect("deleted");
    assert_eq!(deleted.names, vec!["web".to_owned()]);
    let seen = server.await.expect("mock");
    for s in &seen {
        assert!(s.uri.contains("labelSelector=suite%3Dapi"), "{}", s.uri);
    }
    assert!(seen[1].body.contains("\"propagationPolicy\":\"Background\""), "{}", seen[1].body);
}
