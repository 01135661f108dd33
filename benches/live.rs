//! Benchmark on a live cluster (not a test): `cargo bench --bench live [-- OPTIONS]`, on the
//! cluster of `$KUBECONFIG` — the testbed: `eval "$(ci/testbed.sh env)"`.
//!
//! - `suite`: every scenario under `scenarios/`, one after another. Per scenario: the wall time;
//!   the steps' time (the rest is setup, judging and cleanup: waiting for the namespace to go);
//!   the cluster's time (the sum over the steps of first action to the last watch event before
//!   the step's condition was decided); the harness's reaction (last event → decision; the
//!   worst step); the requests the harness sent (counted by its client); and the API server's
//!   `apiserver_request_total` over the scenario, all clients together (controllers, scheduler,
//!   kwok) — the harness's share is the first count.
//! - `scale`: one StatefulSet of `--replicas` pods (default 300, `podManagementPolicy: Parallel`,
//!   no volumes): created at once, rolled (one pod at a time in reverse ordinal order: the
//!   controller rolls in order whatever the policy) and scaled to 0, recorded and judged with
//!   parallel-burst and reverse-rollout; with the harness's CPU time and peak memory.
//!
//! Options: `--replicas N`, `--only suite|scale`. Steps that need what the cluster lacks
//! (containers, DNS on simulated nodes) are skipped, as with `run --skip-unsupported`; the
//! image map comes from `$STS_CONFORMANCE_IMAGE_MAP`, as for `run`.
//! Everything is created in the harness's own namespaces and removed afterwards.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use sts_conformance::{
    checks::Verdict,
    live,
    plan::{Plan, PlanOptions},
    runner::{self, RunSettings, ScenarioReport},
    scenario::{self, Scenario},
};

fn main() {
    let mut replicas: u32 = 300;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--replicas" => replicas = args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage()),
            "--only" => only = args.next(),
            "--bench" => {}
            _ => usage(),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let client = match live::client(None, None).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bench live: {e}\n(bring up the testbed: ci/testbed.sh up && eval \"$(ci/testbed.sh env)\")");
                std::process::exit(3);
            }
        };
        if only.as_deref() != Some("scale") {
            suite(&client).await;
        }
        if only.as_deref() != Some("suite") {
            scale(&client, replicas).await;
        }
    });
}

fn usage() -> ! {
    eprintln!("usage: cargo bench --bench live [-- --replicas N] [--only suite|scale]");
    std::process::exit(2)
}

/// Runs `scenarios` one at a time on the cluster, the steps needing what it lacks skipped.
async fn run(client: &kube::Client, scenario: &Scenario) -> (ScenarioReport, Measure) {
    let mut options = PlanOptions::new(format!("b{}", std::process::id() % 100_000));
    // The testbed's real node needs its image map, as `run` reads it.
    if let Ok(entry) = std::env::var(sts_conformance::cli::IMAGE_MAP_ENV) {
        let map = sts_conformance::cli::image_map(&[entry]).expect("a valid image map");
        options.image_map.splice(0..0, map);
    }
    let probe_image = options.map_image(sts_conformance::live::DEFAULT_PROBE_IMAGE);
    let objects = runner::scenario_objects(scenario);
    let classes: Vec<_> = Plan::new(&scenario.name, &objects, options.clone()).dynamic_classes(&objects).into_iter().collect();
    let findings = live::preflight(client, &classes).await;
    assert!(findings.problems.is_empty(), "the cluster cannot run {}: {:?}", scenario.name, findings.problems);
    let settings = RunSettings { skip: findings.missing, ..RunSettings::default() };
    let server_before = server_requests(client).await;
    let sent_before = live::requests_sent();
    let cpu_before = cpu_ms();
    let started = Instant::now();
    let connect = || live::LiveCluster::new(client.clone(), &probe_image);
    let mut reports = runner::run_many(&[scenario], &options, &settings, 1, connect, &mut runner::quiet).await;
    let wall = started.elapsed();
    let measure = Measure {
        wall,
        cpu_ms: cpu_ms() - cpu_before,
        sent: live::requests_sent() - sent_before,
        server: match (server_before, server_requests(client).await) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        },
    };
    (reports.remove(0), measure)
}

/// What one scenario cost.
struct Measure {
    wall: Duration,
    cpu_ms: u64,
    sent: u64,
    server: Option<u64>,
}

async fn suite(client: &kube::Client) {
    let files = scenario::discover(&[PathBuf::from("scenarios")]).expect("scenarios/");
    println!(
        "{:32} {:>7} {:>7} {:>9} {:>9} {:>9} {:>6} {:>8}  verdicts",
        "scenario", "wall s", "steps s", "cluster s", "react max", "react p50", "sent", "server"
    );
    let mut reactions = Vec::new();
    for file in files {
        let scenario = scenario::load(&file).expect("valid scenario");
        let (report, m) = run(client, &scenario).await;
        let timings: Vec<_> = report.steps.iter().filter_map(|s| s.timing).collect();
        let cluster_ms: u64 = timings.iter().map(|t| t.last_event_ms.saturating_sub(t.started_ms)).sum();
        let mut react: Vec<u64> = timings.iter().map(runner::StepTiming::reaction_ms).collect();
        react.sort_unstable();
        reactions.extend(react.iter().copied());
        println!(
            "{:32} {:>7.1} {:>7.1} {:>9.1} {:>9} {:>9} {:>6} {:>8}  {}",
            report.scenario,
            m.wall.as_secs_f64(),
            report.steps.iter().map(|s| s.elapsed_ms).sum::<u64>() as f64 / 1000.0,
            cluster_ms as f64 / 1000.0,
            react.last().map_or("-".into(), u64::to_string),
            react.get(react.len() / 2).map_or("-".into(), u64::to_string),
            m.sent,
            m.server.map_or("-".into(), |n| n.to_string()),
            verdicts(&report)
        );
    }
    reactions.sort_unstable();
    if let Some(worst) = reactions.last() {
        println!(
            "reaction over {} steps: median {} ms, worst {} ms (target < 100 ms)",
            reactions.len(),
            reactions[reactions.len() / 2],
            worst
        );
    }
}

async fn scale(client: &kube::Client, replicas: u32) {
    let dir = tempfile_dir();
    std::fs::write(dir.join("sts.yaml"), scale_manifest(replicas)).expect("write manifest");
    std::fs::write(dir.join("scenario.yaml"), scale_scenario(replicas)).expect("write scenario");
    let scenario = scenario::load(&dir.join("scenario.yaml")).expect("valid scale scenario");
    reset_peak_memory();
    let (report, m) = run(client, &scenario).await;
    println!("\nscale: {replicas} replicas, Parallel, no volumes");
    for step in &report.steps {
        let t = step.timing.unwrap_or_default();
        println!(
            "  {:40} {:>8.1} s  cluster {:>8.1} s  reaction {:>4} ms  {:?}",
            step.action,
            step.elapsed_ms as f64 / 1000.0,
            t.last_event_ms.saturating_sub(t.started_ms) as f64 / 1000.0,
            t.reaction_ms(),
            step.outcome
        );
    }
    println!(
        "  {} timeline entries; wall {:.1} s; harness CPU {} ms; peak memory {}; requests sent {}, API server total {}",
        report.timeline.len(),
        m.wall.as_secs_f64(),
        m.cpu_ms,
        peak_memory(),
        m.sent,
        m.server.map_or("-".into(), |n| n.to_string())
    );
    println!("  verdicts: {}", verdicts(&report));
    for judged in report.judged.iter().filter(|j| j.outcome.verdict != Verdict::Pass) {
        println!(
            "    step {} {:?} {}: {}",
            judged.step + 1,
            judged.outcome.check,
            judged.outcome.verdict.as_str(),
            judged.outcome.detail
        );
    }
    for step in report.steps.iter().filter(|s| s.outcome.failed()) {
        println!("    step {} {}: {}", step.index + 1, step.action, step.error.as_deref().unwrap_or(""));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn verdicts(report: &ScenarioReport) -> String {
    let count = |v: Verdict| report.judged.iter().filter(|j| j.outcome.verdict == v).count();
    let skipped = report.steps.iter().filter(|s| s.skipped.is_some()).count();
    let broken = report.steps.iter().filter(|s| s.outcome.failed()).count();
    format!(
        "{} pass, {} fail, {} inconclusive checks; {skipped} steps skipped, {broken} broken",
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::Inconclusive)
    )
}

fn scale_manifest(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: scale
spec:
  serviceName: scale
  replicas: {replicas}
  podManagementPolicy: Parallel
  selector:
    matchLabels: {{app: scale}}
  template:
    metadata:
      labels: {{app: scale}}
    spec:
      containers:
      - name: app
        image: k8s.gcr.io/nginx-slim:0.8
"
    )
}

fn scale_scenario(replicas: u32) -> String {
    // The roll-out replaces one pod at a time and waits for it to be Ready: allow ~20 s a pod
    // (on the kwok testbed a pod takes 3-7 s: grace period, Running, Ready).
    let roll = 60 + u64::from(replicas) * 20;
    format!(
        "apiVersion: sts-conformance/v1alpha1
kind: Scenario
metadata:
  name: bench-scale
spec:
  description: {replicas} replicas created at once, rolled and scaled to 0
  claims: []
  manifests: [sts.yaml]
  steps:
  - apply: {{manifests: [sts.yaml]}}
    until: {{statefulset: scale, ready: {replicas}}}
    timeout: {}s
    expect:
      parallel-burst: []
  - setImage: {{statefulset: scale, container: app, image: k8s.gcr.io/nginx-slim:0.9}}
    until: {{statefulset: scale, rolledOut: true}}
    timeout: {roll}s
    expect:
      reverse-rollout: []
  - scale: {{statefulset: scale, replicas: 0}}
    until: {{statefulset: scale, pods: 0}}
    timeout: {}s
    expect:
      parallel-burst: []
",
        120 + replicas,
        120 + replicas
    )
}

/// The API server's `apiserver_request_total`, summed over every label (all clients).
async fn server_requests(client: &kube::Client) -> Option<u64> {
    let request = http::Request::get("/metrics").body(Vec::new()).ok()?;
    let text = client.request_text(request).await.ok()?;
    let sum: f64 = text
        .lines()
        .filter(|l| l.starts_with("apiserver_request_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    Some(sum as u64)
}

/// User and system CPU time of this process so far, from `/proc/self/stat` (clock ticks of
/// 10 ms, the Linux default).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the command name.
    (ticks(11) + ticks(12)) * 10
}

fn reset_peak_memory() {
    // Writing 5 to clear_refs resets the peak resident set size (Linux ≥ 4.0).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sts-conformance-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
