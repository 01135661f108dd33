//! Benchmarks (not tests): `cargo bench --bench engine`.
//!
//! - `analyze`: a generated 100,000-line `kubectl get pods -w` transcript — 100 StatefulSets of
//!   100 pods each scaling up, rolling and scaling down, lines interleaved, with unrelated pods
//!   mixed in — judged with ordered-creation, reverse-termination and reverse-rollout.
//!
//!   `parse` and `histories` time its first two stages alone.
//!
//! - `session`: a generated 100,000-line whole terminal session — prompts, prose, claim, pod
//!   and Service listings, nslookup answers, hostname loops — for 100 StatefulSets, judged with
//!   every rule a session feeds (`src/transcript/rules.rs`).
//!
//! - `suite`: every scenario under `scenarios/` on the simulated cluster (what `run --sim` does).
//! - `checks`: the check engine over a synthetic 10,000-pod-event timeline — 1,000 pods created
//!   in order, rolled, and scaled to zero, in three steps — judging at each step what a scenario
//!   would (8 checks in all); `checks-all` judges all 16 checks at every step.
//!
//! - `one-set` (`cargo bench --bench engine -- one-set`, run alone): `analyze` on one
//!   StatefulSet's ordered creation of 10,000, 100,000 and 1,000,000 pods (three `-w` lines a
//!   pod), with the peak memory after each size; first, `unknown-predecessors`: creations
//!   whose every predecessor the transcript shows only later (the walk over unknown pods), and
//!   `condemned-below`: a scale to zero of pods none of which is Ready.
//!
//! The peak resident memory of the whole process is printed at the end (Linux only).
//!
//! Each benchmark runs a few times and prints the best and the median wall time.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use sts_conformance::{
    analyze::{self, Options},
    checks::{self, CheckName, Policy, Window},
    plan::PlanOptions,
    runner::{self, RunSettings},
    scenario,
    sim::SimCluster,
    timeline::{Change, Event, POD_NAME_LABEL, PodObs, PodSpecObs, REVISION_LABEL, ServiceObs, SetObs, Timeline},
};

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> String) {
    let mut times: Vec<Duration> = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        summary = f();
        times.push(start.elapsed());
    }
    times.sort();
    println!("{name:10} best {:>8.1} ms  median {:>8.1} ms  ({summary})", ms(times[0]), ms(times[times.len() / 2]));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One StatefulSet's life: ordered scale-up, a reverse rollout, a reverse scale-down.
fn life(set: &str, pods: u32) -> Vec<String> {
    let row = |k: u32, ready: &str, status: &str, age: &str| format!("{set}-{k}   {ready}   {status}   0   {age}");
    let mut lines = Vec::new();
    for k in 0..pods {
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "ContainerCreating", "1s"));
        lines.push(row(k, "1/1", "Running", "4s"));
    }
    for k in (0..pods).rev() {
        lines.push(row(k, "1/1", "Terminating", "5m"));
        lines.push(row(k, "0/1", "Terminating", "5m"));
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "ContainerCreating", "0s"));
        lines.push(row(k, "1/1", "Running", "6s"));
    }
    for k in (1..pods).rev() {
        lines.push(row(k, "1/1", "Terminating", "9m"));
        lines.push(row(k, "0/1", "Terminating", "9m"));
    }
    lines
}

fn transcript(lines_wanted: usize) -> String {
    let sets: Vec<Vec<String>> = (0..100).map(|i| life(&format!("set{i}"), 100)).collect();
    let mut out = vec!["NAME   READY   STATUS   RESTARTS   AGE".to_owned()];
    let longest = sets.iter().map(Vec::len).max().unwrap_or(0);
    'fill: for i in 0..longest {
        for set in &sets {
            if let Some(line) = set.get(i) {
                out.push(line.clone());
            }
            if out.len() % 97 == 0 {
                out.push("dns-test   0/1   Error   0   7m".to_owned());
            }
            if out.len() >= lines_wanted {
                break 'fill;
            }
        }
    }
    out.join("\n") + "\n"
}

/// A whole terminal session of about `lines_wanted` lines: `sets` StatefulSets of 3 pods, each
/// block a prompt, prose, a claim listing, a wide pod listing, the Service, two nslookups (both
/// answer forms), a hostname loop, a `describe pvc` and a scale-down followed by a listing.
fn session(lines_wanted: usize, sets: usize) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut block = 0usize;
    while out.len() < lines_wanted {
        let i = block % sets;
        let set = format!("app{i}");
        let p = "me@host:~$";
        out.push(format!("Checking {set} again, round {}.", block / sets));
        out.push(format!("{p} kubectl get pvc"));
        out.push("NAME   STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE".into());
        for k in 0..3 {
            out.push(format!("data-{set}-{k}   Bound   pvc-{i}-{k}   1Gi   RWO   standard   5m"));
        }
        out.push(format!("{p} kubectl get pod -o wide"));
        out.push("NAME   READY   STATUS   RESTARTS   AGE   IP   NODE   NOMINATED NODE   READINESS GATES".into());
        for k in 0..3 {
            out.push(format!("{set}-{k}   1/1   Running   0   5m   10.{}.{i}.{k}   node-1   <none>   <none>", block % 200));
        }
        out.push(format!("{p} kubectl get svc svc{i}"));
        out.push("NAME   TYPE   CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE".into());
        out.push(format!("svc{i}   ClusterIP   None   <none>   80/TCP   5m"));
        out.push(format!("/ # nslookup {set}-0.svc{i}"));
        out.push("Server:    10.96.0.10".into());
        out.push("Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local".into());
        out.push(String::new());
        out.push(format!("Name:      {set}-0.svc{i}"));
        out.push(format!("Address 1: 10.{}.{i}.0 {set}-0.svc{i}.default.svc.cluster.local", block % 200));
        out.push(format!("/ # nslookup svc{i}"));
        out.push("Server:		10.96.0.10".into());
        out.push("Address:	10.96.0.10:53".into());
        out.push(String::new());
        for k in 0..3 {
            out.push(format!("Name:	svc{i}.default.svc.cluster.local"));
            out.push(format!("Address: 10.{}.{i}.{k}", block % 200));
        }
        out.push(format!("{p} for i in 0 1 2; do kubectl exec \"{set}-$i\" -- hostname; done"));
        for k in 0..3 {
            out.push(format!("{set}-{k}"));
        }
        out.push(format!("{p} kubectl scale sts {set} --replicas 3"));
        out.push(format!("statefulset.apps/{set} scaled"));
        block += 1;
    }
    out.join("\n") + "\n"
}

/// 1,000 pods: created in order (step 0), rolled from the top (step 1), scaled to 0 (step 2).
fn synthetic_timeline(pods: u32) -> Timeline {
    let mut t = Timeline::new();
    let mut set = SetObs {
        name: "web".into(),
        uid: "set".into(),
        replicas: pods,
        service_name: Some("nginx".into()),
        pod_management_policy: "OrderedReady".into(),
        update_strategy: "RollingUpdate".into(),
        when_deleted: "Retain".into(),
        when_scaled: "Retain".into(),
        current_revision: Some("r1".into()),
        update_revision: Some("r1".into()),
        ..SetObs::default()
    };
    let pod = |k: u32, rev: &str, n: u32| PodObs {
        name: format!("web-{k}").into(),
        uid: format!("web-{k}-{n}").into(),
        phase: "Pending".into(),
        spec: Arc::new(PodSpecObs {
            owner: Some("StatefulSet/web".into()),
            hostname: Some(format!("web-{k}")),
            subdomain: Some("nginx".into()),
            labels: [(REVISION_LABEL.to_owned(), rev.to_owned()), (POD_NAME_LABEL.to_owned(), format!("web-{k}"))].into(),
            ..PodSpecObs::default()
        }),
        ip: Some(format!("10.0.{}.{}", k / 250, k % 250).into()),
        ..PodObs::default()
    };
    let mut at = 0;
    let mut push = |t: &mut Timeline, e: Event| {
        at += 1;
        t.push(at, e);
    };
    push(&mut t, Event::Step { index: 0, action: "apply".into() });
    let service = ServiceObs { name: "nginx".into(), cluster_ip: Some("None".into()), selector: BTreeMap::new() };
    push(&mut t, Event::Service { change: Change::Added, service: Box::new(service) });
    push(&mut t, Event::StatefulSet { change: Change::Added, set: Box::new(set.clone()) });
    for k in 0..pods {
        let mut p = pod(k, "r1", 1);
        push(&mut t, Event::Pod { change: Change::Added, pod: p.clone().into() });
        p.phase = "Running".into();
        push(&mut t, Event::Pod { change: Change::Modified, pod: p.clone().into() });
        p.ready = true;
        push(&mut t, Event::Pod { change: Change::Modified, pod: p.into() });
    }
    push(&mut t, Event::Step { index: 1, action: "roll".into() });
    set.update_revision = Some("r2".into());
    push(&mut t, Event::StatefulSet { change: Change::Modified, set: Box::new(set.clone()) });
    for k in (0..pods).rev() {
        let mut old = pod(k, "r1", 1);
        old.phase = "Running".into();
        old.terminating = true;
        push(&mut t, Event::Pod { change: Change::Modified, pod: old.clone().into() });
        push(&mut t, Event::Pod { change: Change::Deleted, pod: old.into() });
        let mut p = pod(k, "r2", 2);
        push(&mut t, Event::Pod { change: Change::Added, pod: p.clone().into() });
        p.phase = "Running".into();
        push(&mut t, Event::Pod { change: Change::Modified, pod: p.clone().into() });
        p.ready = true;
        push(&mut t, Event::Pod { change: Change::Modified, pod: p.into() });
    }
    set.current_revision = Some("r2".into());
    push(&mut t, Event::StatefulSet { change: Change::Modified, set: Box::new(set.clone()) });
    push(&mut t, Event::Step { index: 2, action: "scale to 0".into() });
    set.replicas = 0;
    push(&mut t, Event::StatefulSet { change: Change::Modified, set: Box::new(set) });
    for k in (0..pods).rev() {
        let mut p = pod(k, "r2", 2);
        p.phase = "Running".into();
        p.terminating = true;
        push(&mut t, Event::Pod { change: Change::Modified, pod: p.clone().into() });
        push(&mut t, Event::Pod { change: Change::Deleted, pod: p.into() });
    }
    t
}

/// Peak resident memory of this process, from /proc (Linux).
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.trim_start_matches("VmHWM:").trim().to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    // `cargo bench --bench engine -- session`: only the benchmarks named (cargo adds `--bench`).
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if only == ["session"] {
        session_bench();
        return;
    }
    if only == ["one-set"] {
        one_set_bench();
        return;
    }
    let files = scenario::discover(&[std::path::PathBuf::from("scenarios")]).expect("scenarios/");
    let scenarios: Vec<scenario::Scenario> = files.iter().map(|f| scenario::load(f).expect("valid scenario")).collect();
    let selected: Vec<&scenario::Scenario> = scenarios.iter().collect();
    let settings = RunSettings::default();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    measure("suite", 5, || {
        let reports = runtime.block_on(runner::run_many(
            &selected,
            &PlanOptions::new("bench1"),
            &settings,
            1,
            || SimCluster::new(&settings.cluster_domain),
            &mut runner::quiet,
        ));
        let failed = reports.iter().filter(|r| r.failed()).count();
        format!("{} scenarios, {failed} failed", reports.len())
    });

    let timeline = synthetic_timeline(1_000);
    let pod_events = timeline.entries.iter().filter(|e| matches!(e.event, Event::Pod { .. })).count();
    // What a scenario would judge at each step, then every check at every step (a stress).
    let judged: [&[CheckName]; 3] = [
        &[CheckName::OrderedCreation, CheckName::StableIdentity, CheckName::HeadlessService, CheckName::PvcNaming],
        &[CheckName::ReverseRollout],
        &[CheckName::ReverseTermination, CheckName::SurvivorsUnchanged, CheckName::PvcRetention],
    ];
    let evaluate = |per_step: &dyn Fn(usize) -> Vec<CheckName>| {
        let mut verdicts = Vec::new();
        for step in 0..3 {
            let range = timeline.step_range(step).expect("step");
            for check in per_step(step) {
                let window = Window {
                    timeline: &timeline,
                    range: range.clone(),
                    target: "web",
                    namespace: "ns",
                    cluster_domain: "cluster.local",
                    expect_body: None,
                    default_policy: Policy::Ordered,
                    ended_early: false,
                    ended_at_ms: None,
                };
                verdicts.push(checks::evaluate(check, &window).verdict);
            }
        }
        let fails = verdicts.iter().filter(|v| **v == checks::Verdict::Fail).count();
        format!("{pod_events} pod events, {} verdicts, {fails} fail", verdicts.len())
    };
    measure("checks", 5, || evaluate(&|step| judged[step].to_vec()));
    measure("checks-all", 5, || evaluate(&|_| CheckName::ALL.to_vec()));
    println!("peak memory so far (VmHWM): {}", peak_memory());

    let text = transcript(100_000);
    let lines = text.lines().count();
    let options = Options { expect: vec![CheckName::ReverseTermination, CheckName::ReverseRollout], ..Options::default() };
    measure("parse", 3, || format!("{} rows", sts_conformance::transcript::parse(&text).rows.len()));
    let parsed = sts_conformance::transcript::parse(&text);
    measure("histories", 3, || format!("{}", parsed.all_histories().len()));
    measure("analyze", 5, || {
        let report = analyze::transcript(&text, &options).expect("analyzable");
        let failed = report.failed();
        format!("{lines} lines, {} StatefulSets, failed: {failed}", report.statefulsets.len())
    });
    println!("peak memory (VmHWM): {}", peak_memory());

    session_bench();
}

fn session_bench() {
    let options = Options { expect: vec![CheckName::ReverseTermination, CheckName::ReverseRollout], ..Options::default() };
    let one = session(100_000, 1);
    measure("session-1", 3, || {
        let report = analyze::transcript(&one, &options).expect("analyzable");
        format!("one StatefulSet, failed: {}", report.failed())
    });
    let text = session(100_000, 100);
    let lines = text.lines().count();
    measure("session-facts", 3, || format!("{} facts read", sts_conformance::transcript::session::parse(&text).read.len()));
    measure("session-pods", 3, || format!("{} pod rows", sts_conformance::transcript::parse(&text).rows.len()));
    measure("session", 5, || {
        let report = analyze::transcript(&text, &options).expect("analyzable");
        let judged =
            report.statefulsets.iter().flat_map(|s| &s.checks).filter(|c| c.verdict != checks::Verdict::NotApplicable).count();
        format!("{lines} lines, {} StatefulSets, {judged} verdicts, failed: {}", report.statefulsets.len(), report.failed())
    });
    println!("peak memory (VmHWM): {}", peak_memory());
}

/// One StatefulSet created in order: `pods` pods, three `kubectl get pods -w` lines each.
fn one_set(pods: u32) -> String {
    let mut text = String::from("$ kubectl get pods -w -l app=nginx\nNAME      READY   STATUS    RESTARTS   AGE\n");
    for k in 0..pods {
        text.push_str(&format!("web-{k}   0/1     Pending   0          0s\n"));
        text.push_str(&format!("web-{k}   0/1     ContainerCreating   0          0s\n"));
        text.push_str(&format!("web-{k}   1/1     Running   0          1s\n"));
    }
    text
}

/// The hard case for the order rules: `pods` pods created while every predecessor is one the
/// transcript only shows later (unknown until then), so each creation has all of them below it.
fn unknown_predecessors(pods: u32) -> String {
    let mut text = String::from(
        "$ kubectl get pods -w\nNo resources found in default namespace.\nNAME      READY   STATUS    RESTARTS   AGE\n",
    );
    for k in pods..2 * pods {
        text.push_str(&format!("web-{k}   0/1     Pending   0          0s\n"));
    }
    for k in 0..pods {
        text.push_str(&format!("web-{k}   1/1     Running   0          5s\n"));
    }
    text
}

/// The hard case for reverse-termination: `pods` pods, none Ready, scaled to zero from the top,
/// so each termination has every condemned, not-Ready pod below it.
fn condemned_below(pods: u32) -> String {
    let mut text = String::from("$ kubectl get pods -w\nNAME      READY   STATUS    RESTARTS   AGE\n");
    let mut names: Vec<String> = (0..pods).map(|k| format!("web-{k}")).collect();
    names.sort();
    for name in names {
        text.push_str(&format!("{name}   0/1     Running   3          5m\n"));
    }
    for k in (0..pods).rev() {
        text.push_str(&format!("web-{k}   0/1     Terminating   3          5m\n"));
    }
    text
}

fn one_set_bench() {
    for pods in [10_000, 100_000] {
        let text = condemned_below(pods);
        let options = Options { expect: vec![CheckName::ReverseTermination], ..Options::default() };
        measure(&format!("condemned-below-{pods}"), 3, || {
            let report = analyze::transcript(&text, &options).expect("analyzable");
            let verdict = report.statefulsets[0].checks[1].verdict;
            format!("{} lines, reverse-termination {verdict:?}", 2 * pods)
        });
    }
    for pods in [10_000, 100_000] {
        let text = unknown_predecessors(pods);
        measure(&format!("unknown-predecessors-{pods}"), 3, || {
            let report = analyze::transcript(&text, &Options::default()).expect("analyzable");
            let verdict = report.statefulsets[0].checks[0].verdict;
            format!("{} lines, ordered-creation {verdict:?}", 2 * pods)
        });
    }
    for pods in [10_000, 100_000, 1_000_000] {
        let text = one_set(pods);
        let lines = text.lines().count();
        let runs = if pods > 100_000 { 1 } else { 3 };
        measure(&format!("one-set-{pods}"), runs, || {
            let report = analyze::transcript(&text, &Options::default()).expect("analyzable");
            let verdict = report.statefulsets[0].checks[0].verdict;
            format!("{lines} lines, ordered-creation {verdict:?}")
        });
        println!("peak memory (VmHWM): {}", peak_memory());
    }
}
