//! End to end on the simulated cluster: every scenario file validates, runs, and keeps every
//! claim; the claim catalogue is covered; the CLI's exit codes hold.

use std::path::PathBuf;

mod common;

use rstest::rstest;
use sts_conformance::{
    checks::Verdict,
    claims::CLAIMS,
    outputs,
    plan::{Plan, PlanOptions},
    report,
    runner::{self, RunSettings},
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
        runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
    })
}

/// Every scenario file (named `*.scenario.yaml` here, so that each case is a scenario; the
/// harness itself finds scenarios by their `kind`, whatever their names).
#[rstest]
fn every_claim_holds_on_the_conformant_sim(#[files("scenarios/**/*.scenario.yaml")] path: PathBuf) {
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

/// Every other file beside the scenarios is a manifest a scenario beside it uses (and that
/// scenario loads, reading every file it names), or one of the workloads whose claims the claim
/// table defers (issue 16), which must still parse. None is a scenario the test above would miss.
#[test]
fn every_other_file_is_a_manifest_a_scenario_uses_or_a_deferred_workload() {
    let mut files = Vec::new();
    let mut dirs = vec![PathBuf::from("scenarios")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if !path.to_string_lossy().ends_with(".scenario.yaml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 10, "the manifests beside the scenarios: {files:?}");
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!scenario::declares_scenario(&text), "{}: a scenario not named *.scenario.yaml", path.display());
        let dir = path.parent().expect("in a directory").to_path_buf();
        let name = path.file_name().expect("a file").to_string_lossy().into_owned();
        let users: Vec<PathBuf> = scenario::discover(&[dir])
            .expect("scenarios")
            .into_iter()
            .filter(|s| std::fs::read_to_string(s).is_ok_and(|t| t.contains(&name)))
            .collect();
        if users.is_empty() {
            let manifests = sts_conformance::manifest::load_file(&path).unwrap_or_else(|e| panic!("{e}"));
            let deferred = |kind: &str| {
                let id = format!("004-{}", kind.to_lowercase());
                sts_conformance::claims::find(&id).is_some_and(|c| !c.required)
            };
            assert!(
                manifests.iter().all(|m| deferred(m.object.kind())),
                "{}: no scenario beside it uses it, and its claims are not deferred",
                path.display()
            );
        }
        for user in users {
            scenario::load(&user).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_second_run_normalizes_to_the_same_timeline() {
    let path = PathBuf::from("scenarios/seed-002/lifecycle.scenario.yaml");
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let settings = RunSettings::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let run = |run_id: &str| {
        let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new(run_id));
        rt.block_on(async {
            let mut cluster = SimCluster::new(&settings.cluster_domain);
            runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
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
    common::hermetic().args(args).output().unwrap()
}

#[test]
fn list_claims_json_lists_all_required_claims_as_covered() {
    let out = cli(&["list", "--claims", "-o", "json"]);
    assert!(out.status.success());
    let items: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&str> = items.iter().map(|i| i["claim"].as_str().unwrap()).collect();
    assert_eq!(listed, CLAIMS.iter().map(|c| c.id).collect::<Vec<_>>(), "every claim of the table, in its order");
    for (item, claim) in items.iter().zip(CLAIMS) {
        let covered = !item["scenarios"].as_array().unwrap().is_empty();
        assert!(covered || !claim.required, "{} is required and no scenario covers it", claim.id);
    }
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
    let out = common::hermetic().args(["run"]).env("KUBECONFIG", "/nonexistent/kubeconfig").output().unwrap();
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

/// Runs the scenario at `path` on the sim as on a cluster whose nodes run no containers (kwok),
/// with the user's consent to skip what needs them.
fn without_containers(path: &str) -> (scenario::Scenario, RunSettings, runner::ScenarioReport) {
    use sts_conformance::capability::{Capability, Missing};
    let scenario = scenario::load(&PathBuf::from(path)).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new("test01"));
    let settings = RunSettings {
        skip: Missing::from([(Capability::Containers, "nodes n1 are simulated by kwok".to_owned())]),
        ..RunSettings::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let report = rt.block_on(async {
        let mut cluster = SimCluster::new(&settings.cluster_domain);
        runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
    });
    (scenario, settings, report)
}

#[test]
fn on_a_cluster_without_containers_their_steps_are_skipped_and_their_claims_say_so() {
    use sts_conformance::capability::{Capability, claims_needing, needs};
    let (scenario, settings, report) = without_containers("scenarios/seed-002/lifecycle.scenario.yaml");
    let needing = claims_needing(&[&scenario], &settings.skip);
    let skipped_claims = &needing[&Capability::Containers];
    assert_eq!(skipped_claims, &vec!["002-dns".to_owned()]);
    for (step, report) in scenario.steps.iter().zip(&report.steps) {
        let skip = !needs(&step.action).is_empty();
        assert_eq!(report.outcome == runner::StepOutcome::Skipped, skip, "step {}", step.index + 1);
        assert!(report.error.is_none(), "step {}: {:?}", step.index + 1, report.error);
    }
    for claim in &report.claims {
        let want = if skipped_claims.contains(&claim.claim) { Verdict::Skipped } else { Verdict::Pass };
        assert_eq!(claim.verdict, want, "{}: {}", claim.claim, claim.evidence);
    }
    let dns = report.claims.iter().find(|c| c.claim == "002-dns").expect("claim");
    assert!(dns.evidence.contains("skipped: needs containers: nodes n1 are simulated by kwok"), "{}", dns.evidence);
    assert!(!report.failed());
}

/// The simulated cluster, except that a scale request never gets an answer (a stalled API
/// server) and, with `.1`, cleanup fails (a namespace slow to go).
struct Stalling(SimCluster, bool);

impl sts_conformance::cluster::Cluster for Stalling {
    fn now_ms(&self) -> u64 {
        self.0.now_ms()
    }
    async fn create_namespace(
        &mut self,
        ns: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.create_namespace(ns, labels).await
    }
    async fn attach_namespace(
        &mut self,
        ns: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.attach_namespace(ns, labels).await
    }
    async fn observe(&mut self, what: sts_conformance::cluster::Observe) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.observe(what).await
    }
    async fn read_config_map(
        &mut self,
        name: &str,
    ) -> Result<Option<std::collections::BTreeMap<String, String>>, sts_conformance::cluster::ClusterError> {
        self.0.read_config_map(name).await
    }
    async fn apply(&mut self, object: &sts_conformance::manifest::Object) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.apply(object).await
    }
    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), sts_conformance::cluster::ClusterError> {
        if self.1 {
            return self.0.scale(set, replicas).await;
        }
        std::future::pending().await
    }
    async fn set_image(&mut self, set: &str, c: &str, image: &str) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.set_image(set, c, image).await
    }
    async fn patch_statefulset(
        &mut self,
        set: &str,
        merge: &serde_json::Value,
    ) -> Result<Option<i64>, sts_conformance::cluster::ClusterError> {
        self.0.patch_statefulset(set, merge).await
    }
    async fn fail_pod(&mut self, pod: &str) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.fail_pod(pod).await
    }
    async fn patch_pod(&mut self, pod: &str, merge: &serde_json::Value) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.patch_pod(pod, merge).await
    }
    async fn delete_pod(&mut self, pod: &str) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.delete_pod(pod).await
    }
    async fn call_api(
        &mut self,
        request: &sts_conformance::timeline::ApiCall,
    ) -> Result<sts_conformance::timeline::ApiAnswer, sts_conformance::timeline::ProbeError> {
        self.0.call_api(request).await
    }
    async fn delete_statefulset(&mut self, set: &str) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.delete_statefulset(set).await
    }
    async fn exec(
        &mut self,
        pod: &str,
        command: &sts_conformance::cluster::ExecCommand,
    ) -> Result<String, sts_conformance::cluster::ProbeError> {
        self.0.exec(pod, command).await
    }
    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, sts_conformance::cluster::ProbeError> {
        self.0.resolve(name).await
    }
    async fn http_get(&mut self, from: Option<&str>, url: &str) -> sts_conformance::cluster::HttpAnswer {
        self.0.http_get(from, url).await
    }
    async fn next_observation(&mut self, deadline_ms: u64) -> Option<(u64, sts_conformance::timeline::Event)> {
        self.0.next_observation(deadline_ms).await
    }
    async fn diagnostics(&mut self) -> String {
        self.0.diagnostics().await
    }
    async fn cleanup(&mut self) -> Result<(), sts_conformance::cluster::ClusterError> {
        self.0.cleanup().await?;
        if self.1 {
            return Err(sts_conformance::cluster::ClusterError::Cleanup(
                "namespace stsc-x was still terminating after 120s".into(),
            ));
        }
        Ok(())
    }
}

#[test]
fn a_cleanup_that_fails_is_reported_apart_and_fails_no_claim() {
    let path = PathBuf::from("scenarios/seed-002/lifecycle.scenario.yaml");
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new("test01"));
    let settings = RunSettings::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let report = rt.block_on(async {
        let mut cluster = Stalling(SimCluster::new(&settings.cluster_domain), true);
        runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
    });
    assert!(report.cleanup_error.as_deref().is_some_and(|e| e.contains("still terminating")), "{:?}", report.cleanup_error);
    assert!(report.claims.iter().all(|c| c.verdict == Verdict::Pass), "{:?}", report.claims);
    assert!(report.steps.iter().all(|s| s.outcome == runner::StepOutcome::Completed));
    assert!(!report.failed(), "a cleanup failure is not a failed scenario");
}

#[test]
#[ignore = "slow: waits out the 30 s bound on the first contact (.ci/run runs it)"]
fn a_credential_plugin_that_never_returns_ends_in_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: sleep, args: [\"600\"], interactiveMode: Never}\n\
         contexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let out = cli(&["run", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(90), "took {:?}", started.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing was created"), "{err}");
}

#[test]
fn a_request_that_never_answers_ends_its_step_at_the_step_timeout() {
    let path = PathBuf::from("scenarios/seed-002/lifecycle.scenario.yaml");
    let scenario = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&scenario.name, &runner::scenario_objects(&scenario), PlanOptions::new("test01"));
    let settings = RunSettings::default();
    // Paused time: the runtime jumps to the next timer when every task waits, so the step's
    // whole timeout passes at once — and the test proves the bound, not a wall-clock wait.
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    let report = rt.block_on(async {
        let mut cluster = Stalling(SimCluster::new(&settings.cluster_domain), false);
        runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
    });
    let stalled =
        report.steps.iter().find(|s| s.outcome != runner::StepOutcome::Completed).expect("a step that did not complete");
    assert_eq!(stalled.outcome, runner::StepOutcome::TimedOut, "{stalled:?}");
    assert!(stalled.action.starts_with("scale"), "{stalled:?}");
    assert!(stalled.error.as_deref().unwrap_or_default().contains("got no answer from the cluster"), "{stalled:?}");
    assert!(report.failed());
}

#[test]
fn a_kubeconfig_list_is_merged_as_kubectl_merges_it() {
    // The context and user in one file, the cluster in another: only a merge finds the server.
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(
        &a,
        "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: u}\ncurrent-context: dead\n",
    )
    .unwrap();
    std::fs::write(&b, "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"https://127.0.0.1:1\"}\n")
        .unwrap();
    let list = std::env::join_paths([&a, &b]).unwrap();
    let out = common::hermetic().arg("run").env("KUBECONFIG", &list).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the API server"), "the merged config was used: {err}");
}

/// Without running containers no pod can be made unready: the `breakReadiness` step and every
/// step after it are skipped (on ready pods their evidence would mean something else), the
/// steps before it run, and every claim is `skipped` with the reason — none passes.
#[test]
fn without_containers_a_scenario_of_unready_pods_is_skipped_from_its_first_break() {
    use sts_conformance::capability::{Capability, claims_needing, step_needs};
    let (scenario, settings, report) = without_containers("scenarios/seed-002/unhealthy.scenario.yaml");
    let needs = step_needs(&scenario);
    assert!(needs[0].is_empty() && needs[1..].iter().all(|n| n.contains(&Capability::Containers)), "{needs:?}");
    assert_eq!(report.steps[0].outcome, runner::StepOutcome::Completed);
    assert!(report.steps[1..].iter().all(|s| s.outcome == runner::StepOutcome::Skipped), "{:?}", report.steps);
    assert!(
        report.steps[2].skipped.as_deref().is_some_and(|r| r.contains("follows a step that holds pods unready")),
        "{:?}",
        report.steps[2].skipped
    );
    assert_eq!(claims_needing(&[&scenario], &settings.skip)[&Capability::Containers], vec!["002-scale-up", "004-order"]);
    assert!(report.claims.iter().all(|c| c.verdict == Verdict::Skipped), "{:?}", report.claims);
    assert!(!report.failed());
}

/// Breaking the readiness of "every pod" while one is still starting would leave that one
/// Ready: the step says so instead of moving only the running pods' files.
#[test]
fn breaking_every_pods_readiness_while_one_is_starting_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("scratch dir");
    for file in ["nginx-statefulset.yaml", "readiness.yaml"] {
        std::fs::copy(PathBuf::from("scenarios/seed-002").join(file), dir.path().join(file)).expect("copied");
    }
    let scenario = std::fs::read_to_string("scenarios/seed-002/burst-unhealthy.scenario.yaml").expect("scenario");
    // Without the step that waits for every pod to be Ready after the scale-up.
    let (head, tail) = scenario.split_once("  # Every pod Ready again").expect("the restore step");
    let rest = &tail[tail.find("  - breakReadiness: {statefulset: web").expect("the break")..];
    let path = dir.path().join("early.scenario.yaml");
    std::fs::write(&path, format!("{head}{rest}")).expect("written");
    let report = run_on_sim(&path);
    let step = report.steps.iter().find(|s| s.error.is_some()).expect("a step failed");
    assert!(step.action.contains("every pod of web"), "{}", step.action);
    assert!(step.error.as_deref().is_some_and(|e| e.contains("web-1 is Pending")), "{:?}", step.error);
}
