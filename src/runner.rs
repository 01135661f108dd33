//! The runner: executes a scenario's steps on a [`Cluster`], records the timeline, and judges
//! each step's expectations.
//!
//! For every step: a marker goes into the timeline, the action runs (probe results are
//! recorded as they come), then observations are pulled until every `until` condition holds
//! over the observed state, or the step's timeout passes; then `settle` more time is observed.
//! Conditions are evaluated on the timeline's [`View`], never by asking the backend, so a live
//! run and a simulated one wait for exactly the same thing.

use std::collections::BTreeMap;

use rand::Rng;
use serde::Serialize;

use crate::{
    checks::{self, Outcome, Policy, Verdict, Window},
    cluster::{Cluster, ExecCommand},
    manifest::Object,
    plan::Plan,
    scenario::{Action, ResolvedStep, Scenario, StepExpectation, Until, Via},
    timeline::{Event, ProbeObs, Timeline, View},
};

/// Settings shared by all scenarios of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSettings {
    /// Cluster DNS domain.
    pub cluster_domain: String,
    /// Capabilities the cluster lacks, whose steps are skipped (`--skip-unsupported`).
    pub skip: crate::capability::Missing,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self { cluster_domain: "cluster.local".into(), skip: crate::capability::Missing::new() }
    }
}

/// One judged expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Judged {
    /// Step index.
    pub step: usize,
    /// What the check judged.
    pub target: String,
    /// Claims it proves.
    pub claims: Vec<String>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A claim's overall verdict in one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimVerdict {
    /// Claim id.
    pub claim: String,
    /// Fail if any check failed; pass if all passed; inconclusive otherwise.
    pub verdict: Verdict,
    /// The deciding check's detail.
    pub evidence: String,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    /// It ran and its `until` held.
    Completed,
    /// It did not run: the cluster lacks a capability it needs, and the user accepted skipping.
    Skipped,
    /// Its action failed (the API refused it, or could not be reached).
    ActionFailed,
    /// The cluster did not reach its `until` (or show the action's effect) in time.
    TimedOut,
    /// The user interrupted the run (Ctrl-C).
    Interrupted,
}

impl StepOutcome {
    /// Whether the step could not complete (the scenario stops there).
    #[must_use]
    pub fn failed(self) -> bool {
        matches!(self, StepOutcome::ActionFailed | StepOutcome::TimedOut | StepOutcome::Interrupted)
    }
}

/// What happened to one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// Index from 0.
    pub index: usize,
    /// What it did.
    pub action: String,
    /// Virtual or wall milliseconds it took.
    pub elapsed_ms: u64,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Why it could not complete (an action error, a timeout, an interruption); `None` when it
    /// completed or was skipped.
    pub error: Option<String>,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// When its condition was decided, against the cluster's last event (for benchmarks; not
    /// in the report files, whose contents must not depend on timing).
    #[serde(skip)]
    pub timing: Option<StepTiming>,
}

/// How a completed step's time divides between the cluster and the harness, in milliseconds
/// since the run started (wall time on a live cluster, virtual time on the sim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepTiming {
    /// The step began (before its action).
    pub started_ms: u64,
    /// The last watch event the harness had received when the step's `until` was decided: the
    /// cluster's part of the step ends here.
    pub last_event_ms: u64,
    /// The step's `until` held and the harness moved on (before any `settle`).
    pub decided_ms: u64,
}

impl StepTiming {
    /// From the last relevant event to the decision: the harness's own reaction time.
    #[must_use]
    pub fn reaction_ms(&self) -> u64 {
        self.decided_ms.saturating_sub(self.last_event_ms)
    }
}

impl StepReport {
    /// A step that could not complete.
    #[must_use]
    pub fn failed(index: usize, action: String, elapsed_ms: u64, outcome: StepOutcome, error: String) -> Self {
        Self { index, action, elapsed_ms, outcome, error: Some(error), skipped: None, timing: None }
    }
}

/// Why a step could not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StepFailure {
    outcome: StepOutcome,
    message: String,
}

impl StepFailure {
    fn action(message: impl Into<String>) -> Self {
        Self { outcome: StepOutcome::ActionFailed, message: message.into() }
    }
    fn timeout(message: impl Into<String>) -> Self {
        Self { outcome: StepOutcome::TimedOut, message: message.into() }
    }
}

/// Everything one scenario run produced.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub scenario: String,
    /// Namespace it ran in.
    pub namespace: String,
    /// The run's id (part of the namespace and of run-unique names).
    #[serde(skip)]
    pub run_id: String,
    /// Steps, as run (steps after a failed one are not run).
    pub steps: Vec<StepReport>,
    /// Every judged expectation.
    pub judged: Vec<Judged>,
    /// Verdict per claim.
    pub claims: Vec<ClaimVerdict>,
    /// What the cluster looked like when the run failed, collected before cleanup.
    #[serde(skip)]
    pub diagnostics: Option<String>,
    /// Cleanup could not remove everything the run created: an environment problem, reported
    /// on its own and never as a failed claim.
    pub cleanup_error: Option<String>,
    /// The recorded history.
    #[serde(skip)]
    pub timeline: Timeline,
}

impl ScenarioReport {
    /// Whether any claim failed or any step could not complete.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.claims.iter().any(|c| c.verdict == Verdict::Fail) || self.steps.iter().any(|s| s.outcome.failed())
    }
}

/// Receives progress while a scenario runs.
pub trait Progress {
    /// A step starts.
    fn step_started(&mut self, scenario: &str, index: usize, total: usize, action: &str);
    /// A step waits; `status` says for what (`web: 2/3 Ready, waiting for web-2 Ready`).
    fn waiting(&mut self, _scenario: &str, _status: &str) {}
    /// A step ended.
    fn step_finished(&mut self, scenario: &str, report: &StepReport);
    /// A scenario ended (judged and cleaned up); `failed` as [`ScenarioReport::failed`].
    fn scenario_finished(&mut self, _scenario: &str, _failed: bool) {}
}

/// What a scenario running on its own task tells the progress, through a channel.
enum Message {
    Started(String, usize, usize, String),
    Waiting(String, String),
    Finished(String, StepReport),
    Done(String, bool),
}

/// A [`Progress`] that forwards to a channel.
struct Forward(tokio::sync::mpsc::UnboundedSender<Message>);

impl Progress for Forward {
    fn step_started(&mut self, scenario: &str, index: usize, total: usize, action: &str) {
        let _ = self.0.send(Message::Started(scenario.into(), index, total, action.into()));
    }
    fn waiting(&mut self, scenario: &str, status: &str) {
        let _ = self.0.send(Message::Waiting(scenario.into(), status.into()));
    }
    fn step_finished(&mut self, scenario: &str, report: &StepReport) {
        let _ = self.0.send(Message::Finished(scenario.into(), report.clone()));
    }
    fn scenario_finished(&mut self, scenario: &str, failed: bool) {
        let _ = self.0.send(Message::Done(scenario.into(), failed));
    }
}

/// Runs `scenarios`, up to `parallel` at once, each on its own cluster from `connect` and in its
/// own namespace; the reports come back in the order of `scenarios`. Scenarios share nothing,
/// so the verdicts do not depend on `parallel`.
pub async fn run_many<C, F>(
    scenarios: &[&Scenario],
    options: &crate::plan::PlanOptions,
    settings: &RunSettings,
    parallel: usize,
    connect: F,
    progress: &mut dyn Progress,
) -> Vec<ScenarioReport>
where
    C: Cluster + 'static,
    F: Fn() -> C,
{
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let permits = std::rc::Rc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            let mut tasks = Vec::new();
            for scenario in scenarios {
                let scenario = (*scenario).clone();
                let plan = Plan::new(&scenario.name, &scenario_objects(&scenario), options.clone());
                let settings = settings.clone();
                let mut cluster = connect();
                let mut forward = Forward(tx.clone());
                let permits = std::rc::Rc::clone(&permits);
                tasks.push(tokio::task::spawn_local(async move {
                    let _permit = permits.acquire().await;
                    run_scenario(&mut cluster, &scenario, &plan, &settings, &mut forward).await
                }));
            }
            drop(tx);
            while let Some(message) = rx.recv().await {
                match message {
                    Message::Started(s, i, n, a) => progress.step_started(&s, i, n, &a),
                    Message::Waiting(s, status) => progress.waiting(&s, &status),
                    Message::Finished(s, r) => progress.step_finished(&s, &r),
                    Message::Done(s, failed) => progress.scenario_finished(&s, failed),
                }
            }
            let mut reports = Vec::new();
            for task in tasks {
                match task.await {
                    Ok(report) => reports.push(report),
                    // A panic inside a scenario is a bug; keep it loud.
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }
            reports
        })
        .await
}

/// Progress that goes nowhere.
pub struct Quiet;

impl Progress for Quiet {
    fn step_started(&mut self, _: &str, _: usize, _: usize, _: &str) {}
    fn step_finished(&mut self, _: &str, _: &StepReport) {}
}

/// Runs one scenario to the end (or to its first failed step), cleans up, and judges it.
pub async fn run_scenario<C: Cluster>(
    cluster: &mut C,
    scenario: &Scenario,
    plan: &Plan,
    settings: &RunSettings,
    progress: &mut dyn Progress,
) -> ScenarioReport {
    let mut runner = Runner {
        cluster,
        plan,
        settings,
        timeline: Timeline::new(),
        view: View::default(),
        scenario: &scenario.name,
        progress: &mut *progress,
        decided: None,
    };
    let mut steps = Vec::new();
    let setup = if plan.attach() {
        runner.cluster.attach_namespace(&plan.namespace, &plan.labels).await
    } else {
        runner.cluster.create_namespace(&plan.namespace, &plan.labels).await
    };
    if let Err(e) = setup {
        let outcome = if e.is_transient() { StepOutcome::TimedOut } else { StepOutcome::ActionFailed };
        steps.push(StepReport::failed(0, "create namespace".into(), 0, outcome, e.to_string()));
    } else {
        for step in &scenario.steps {
            let action = step.action.describe();
            runner.progress.step_started(&scenario.name, step.index, scenario.steps.len(), &action);
            tracing::debug!(scenario = %scenario.name, step = step.index + 1, %action, "step");
            if let Some((capability, why)) = crate::capability::lacking(&step.action, &settings.skip) {
                let reason = format!("needs {capability}: {why}");
                let report = StepReport {
                    index: step.index,
                    action,
                    elapsed_ms: 0,
                    outcome: StepOutcome::Skipped,
                    error: None,
                    skipped: Some(reason),
                    timing: None,
                };
                runner.progress.step_finished(&scenario.name, &report);
                steps.push(report);
                continue;
            }
            let started = runner.cluster.now_ms();
            runner.decided = None;
            let failure = if crate::interrupt::requested() {
                Some(StepFailure { outcome: StepOutcome::Interrupted, message: "interrupted (Ctrl-C) before this step".into() })
            } else {
                tokio::select! {
                    result = runner.step(step) => result.err(),
                    () = crate::interrupt::wait() => Some(StepFailure {
                        outcome: StepOutcome::Interrupted,
                        message: "interrupted (Ctrl-C): stopped waiting, cleaning up".into(),
                    }),
                }
            };
            let elapsed_ms = runner.cluster.now_ms() - started;
            let report = match failure {
                Some(f) => StepReport::failed(step.index, action, elapsed_ms, f.outcome, f.message),
                None => StepReport {
                    index: step.index,
                    action,
                    elapsed_ms,
                    outcome: StepOutcome::Completed,
                    error: None,
                    skipped: None,
                    timing: runner.decided.map(|(last_event_ms, decided_ms)| StepTiming {
                        started_ms: started,
                        last_event_ms: last_event_ms.max(started),
                        decided_ms,
                    }),
                },
            };
            runner.progress.step_finished(&scenario.name, &report);
            let stop = report.outcome.failed();
            steps.push(report);
            if stop {
                break;
            }
        }
    }
    // Judge before cleanup, so that a failure can be explained with the cluster's state.
    let judged = judge(scenario, &runner.timeline, &plan.namespace, settings, &steps);
    let claims = claim_verdicts(scenario, &judged, &steps);
    let failed = claims.iter().any(|c| c.verdict == Verdict::Fail) || steps.iter().any(|s| s.outcome.failed());
    let diagnostics = if failed { Some(runner.cluster.diagnostics().await) } else { None };
    let cleanup_error = runner.cluster.cleanup().await.err().map(|e| e.to_string());
    let report = ScenarioReport {
        scenario: scenario.name.clone(),
        namespace: plan.namespace.clone(),
        run_id: plan.run_id().to_owned(),
        steps,
        judged,
        claims,
        diagnostics,
        cleanup_error,
        timeline: runner.timeline,
    };
    progress.scenario_finished(&report.scenario, report.failed());
    report
}

/// Judges every expectation of every step that ran.
#[must_use]
pub fn judge(
    scenario: &Scenario,
    timeline: &Timeline,
    namespace: &str,
    settings: &RunSettings,
    steps: &[StepReport],
) -> Vec<Judged> {
    judge_expectations(&scenario.expectations(), timeline, namespace, &settings.cluster_domain, steps)
}

/// Judges each expectation whose step is in `timeline` (a live, simulated or recorded run).
#[must_use]
///
/// `steps` says how each step ended: a step that ended before its condition held is judged
/// without its end state ([`Window::ended_early`]).
pub fn judge_expectations(
    expectations: &[StepExpectation],
    timeline: &Timeline,
    namespace: &str,
    cluster_domain: &str,
    steps: &[StepReport],
) -> Vec<Judged> {
    let mut judged = Vec::new();
    for e in expectations {
        let Some(range) = timeline.step_range(e.step) else { continue };
        let window = Window {
            timeline,
            range,
            target: &e.target,
            namespace,
            cluster_domain,
            expect_body: e.body.as_deref(),
            default_policy: Policy::Ordered,
            ended_early: steps.iter().any(|s| s.index == e.step && s.outcome.failed()),
        };
        let outcome = checks::evaluate(e.check, &window);
        judged.push(Judged { step: e.step, target: e.target.clone(), claims: e.claims.clone(), outcome });
    }
    judged
}

/// Rolls check outcomes up into one verdict per claim of the scenario.
#[must_use]
pub fn claim_verdicts(scenario: &Scenario, judged: &[Judged], steps: &[StepReport]) -> Vec<ClaimVerdict> {
    claim_verdicts_for(&scenario.claims, &scenario.expectations(), judged, steps)
}

/// Rolls check outcomes up into one verdict per claim: fail if any check citing it failed;
/// pass if every planned check passed; inconclusive otherwise (with the reason).
#[must_use]
pub fn claim_verdicts_for(
    claims: &[String],
    expectations: &[StepExpectation],
    judged: &[Judged],
    steps: &[StepReport],
) -> Vec<ClaimVerdict> {
    let failed_step = steps.iter().find(|s| s.outcome.failed());
    claims
        .iter()
        .map(|claim| {
            let relevant: Vec<&Judged> = judged.iter().filter(|j| j.claims.contains(claim)).collect();
            let planned = expectations.iter().filter(|e| e.claims.contains(claim)).count();
            let skipped = expectations
                .iter()
                .filter(|e| e.claims.contains(claim))
                .find_map(|e| steps.iter().find(|s| s.index == e.step).and_then(|s| s.skipped.as_ref().map(|why| (s, why))));
            let worst = relevant.iter().max_by_key(|j| j.outcome.verdict);
            let (verdict, evidence) = match (worst, skipped) {
                (Some(j), _) if j.outcome.verdict == Verdict::Fail => (Verdict::Fail, describe(j)),
                (_, Some((s, why))) => (Verdict::Skipped, format!("step {} ({}) skipped: {why}", s.index + 1, s.action)),
                _ if relevant.len() < planned => {
                    let why = failed_step.map_or_else(
                        || "its checks did not run".to_owned(),
                        |s| {
                            format!(
                                "not reached: step {} ({}) failed: {}",
                                s.index + 1,
                                s.action,
                                s.error.as_deref().unwrap_or("")
                            )
                        },
                    );
                    (Verdict::Inconclusive, why)
                }
                (Some(j), _) if j.outcome.verdict == Verdict::Pass => (Verdict::Pass, describe(j)),
                (Some(j), _) => (Verdict::Inconclusive, describe(j)),
                (None, _) => (Verdict::Inconclusive, "no check proves it".into()),
            };
            ClaimVerdict { claim: claim.clone(), verdict, evidence }
        })
        .collect()
}

fn describe(j: &Judged) -> String {
    format!("step {} {} {}: {}", j.step + 1, j.outcome.check, j.target, j.outcome.detail)
}

struct Runner<'a, C: Cluster> {
    cluster: &'a mut C,
    plan: &'a Plan,
    settings: &'a RunSettings,
    timeline: Timeline,
    view: View,
    scenario: &'a str,
    progress: &'a mut dyn Progress,
    /// When the current step's `until` was decided: (last watch event, decision), in ms.
    decided: Option<(u64, u64)>,
}

impl<C: Cluster> Runner<'_, C> {
    fn record(&mut self, at_ms: u64, event: Event) {
        self.view.apply(&event);
        self.timeline.push(at_ms, event);
    }

    fn probe(&mut self, probe: ProbeObs) {
        let now = self.cluster.now_ms();
        self.record(now, Event::Probe(Box::new(probe)));
    }

    /// Pulls observations until `deadline_ms` or until `done` holds.
    async fn observe_until(&mut self, deadline_ms: u64, done: impl Fn(&View) -> bool) -> bool {
        loop {
            if done(&self.view) {
                return true;
            }
            match self.cluster.next_observation(deadline_ms).await {
                Some((at, event)) => self.record(at, event),
                None => return done(&self.view),
            }
        }
    }

    /// Pulls observations until every `until` holds or `deadline_ms`, telling the progress
    /// what is awaited whenever that changes.
    async fn wait_for(&mut self, deadline_ms: u64, until: &[Until]) -> bool {
        let mut last = String::new();
        loop {
            let Some(pending) = until.iter().find(|u| !holds(u, &self.view)) else { return true };
            let status = waiting_status(pending, &self.view);
            if status != last {
                self.progress.waiting(self.scenario, &status);
                tracing::debug!(scenario = self.scenario, %status, "waiting");
                last = status;
            }
            match self.cluster.next_observation(deadline_ms).await {
                Some((at, event)) => self.record(at, event),
                None => return until.iter().all(|u| holds(u, &self.view)),
            }
        }
    }

    /// Pulls everything already observed, without waiting.
    async fn drain(&mut self) {
        let now = self.cluster.now_ms();
        self.observe_until(now, |_| false).await;
    }

    async fn step(&mut self, step: &ResolvedStep) -> Result<(), StepFailure> {
        self.drain().await;
        let now = self.cluster.now_ms();
        self.record(now, Event::Step { index: step.index, action: step.action.describe() });
        let before = self.view.clone();
        let timeout_ms = step.timeout.as_millis() as u64;
        // The action itself is bounded by the step's time: a request the API server never
        // answers ends the step instead of hanging the run.
        let acted = match tokio::time::timeout(step.timeout, self.act(&step.action, timeout_ms)).await {
            Ok(result) => result.map_err(StepFailure::action)?,
            Err(_) => {
                return Err(StepFailure::timeout(format!(
                    "timed out after {}s: `{}` got no answer from the cluster",
                    step.timeout.as_secs(),
                    step.action.describe()
                )));
            }
        };
        let deadline = self.cluster.now_ms() + timeout_ms;
        // Wait until the action itself shows in the observed state, so that `until` is never
        // judged on a state from before the action (watch events arrive after the request).
        let action = &step.action;
        if !self.observe_until(deadline, |view| acknowledged(action, &acted, &before, view)).await {
            return Err(StepFailure::timeout(format!(
                "timed out after {}s: the cluster never showed the effect of `{}`",
                step.timeout.as_secs(),
                action.describe()
            )));
        }
        let until = step.until.clone();
        if !self.wait_for(deadline, &until).await {
            let waiting: Vec<String> =
                until.iter().filter(|u| !holds(u, &self.view)).map(|u| describe_wait(u, &self.view)).collect();
            return Err(StepFailure::timeout(format!(
                "timed out after {}s waiting for {}",
                step.timeout.as_secs(),
                waiting.join("; ")
            )));
        }
        let last_event = self.timeline.entries.iter().rev().find(|e| e.event.is_watched()).map_or(0, |e| e.at_ms);
        self.decided = Some((last_event, self.cluster.now_ms()));
        if !step.settle.is_zero() {
            let deadline = self.cluster.now_ms() + step.settle.as_millis() as u64;
            self.observe_until(deadline, |_| false).await;
        }
        Ok(())
    }

    /// Performs the action; says what the runner needs to recognise its effect.
    async fn act(&mut self, action: &Action, timeout_ms: u64) -> Result<Acted, String> {
        match action {
            Action::DeletePod(pod) => {
                self.cluster.delete_pod(pod).await.map_err(|e| e.to_string())?;
                Ok(Acted { deleted: Some(pod.clone()), generation: None })
            }
            Action::Patch { set, merge } => {
                let generation = self.cluster.patch_statefulset(set, merge).await.map_err(|e| e.to_string())?;
                Ok(Acted { deleted: None, generation })
            }
            Action::DeleteDeploymentPod(deployment) => {
                let prefix = format!("{deployment}-");
                let pod = self
                    .view
                    .pods
                    .values()
                    .find(|p| {
                        p.name.starts_with(&prefix) && p.spec.owner.as_deref().is_some_and(|o| o.starts_with("ReplicaSet/"))
                    })
                    .map(|p| p.name.clone())
                    .ok_or_else(|| format!("Deployment {deployment} has no pod to delete"))?;
                self.cluster.delete_pod(&pod).await.map_err(|e| e.to_string())?;
                Ok(Acted { deleted: Some(pod.to_string()), generation: None })
            }
            other => self.act_in_place(other, timeout_ms).await.map(|()| Acted::default()),
        }
    }

    async fn act_in_place(&mut self, action: &Action, timeout_ms: u64) -> Result<(), String> {
        match action {
            Action::Wait | Action::DeletePod(_) | Action::DeleteDeploymentPod(_) | Action::Patch { .. } => Ok(()),
            Action::Apply(objects) => {
                for object in objects {
                    let concrete = self.plan.concrete(object)?;
                    self.cluster.apply(&concrete).await.map_err(|e| format!("apply {}/{}: {e}", object.kind(), object.name()))?;
                }
                Ok(())
            }
            Action::Scale { set, replicas } => self.cluster.scale(set, *replicas).await.map_err(|e| e.to_string()),
            Action::SetImage { set, container, image } => {
                self.cluster.set_image(set, container, &self.plan.image(image)).await.map_err(|e| e.to_string())
            }
            Action::DeleteStatefulSet(set) => self.cluster.delete_statefulset(set).await.map_err(|e| e.to_string()),
            Action::WriteToken { pod, path, prefix } => {
                let token: u64 = rand::rng().random();
                let content = format!("{prefix} {token:016x}");
                let uid = self.uid_of(pod);
                let result = self
                    .cluster
                    .exec(pod, &ExecCommand::Write { path: path.clone(), content: content.clone() })
                    .await
                    .map(|_| ());
                let failed = result.clone().err();
                self.probe(ProbeObs::Write { pod: pod.clone(), uid, path: path.clone(), content, result });
                failed.map_or(Ok(()), |e| Err(format!("writing {pod}:{path} failed: {e}")))
            }
            Action::ReadToken { pod, path } => {
                let uid = self.uid_of(pod);
                let content = self.cluster.exec(pod, &ExecCommand::Read { path: path.clone() }).await;
                self.probe(ProbeObs::Read { pod: pod.clone(), uid, path: path.clone(), content });
                Ok(())
            }
            Action::Hostnames(set) => {
                for pod in self.pod_names(set) {
                    let uid = self.uid_of(&pod);
                    let output = self.cluster.exec(&pod, &ExecCommand::Hostname).await.map(|s| s.trim().to_owned());
                    self.probe(ProbeObs::Hostname { pod, uid, output });
                }
                Ok(())
            }
            Action::Dns(set) => {
                self.lookups(set, timeout_ms).await;
                Ok(())
            }
            Action::Http(http) => {
                let service = self.view.sets.get(&http.statefulset).and_then(|s| s.service_name.clone()).unwrap_or_default();
                for pod in self.pod_names(&http.statefulset) {
                    let host = match http.via {
                        Via::Ip => self.view.pods.get(pod.as_str()).and_then(|p| p.ip.as_deref()).unwrap_or_default().to_owned(),
                        Via::Dns => format!("{pod}.{service}"),
                    };
                    let url = crate::cluster::http_url(&host, http.port, &http.path);
                    let answer = self.cluster.http_get(http.from.as_deref(), &url).await;
                    let from = http.from.clone().unwrap_or_else(|| "probe".into());
                    self.probe(ProbeObs::Http { from, url, target: pod, address: answer.address, response: answer.response });
                }
                Ok(())
            }
        }
    }

    /// Looks up the Service and every ready pod's record (short and fully qualified forms);
    /// each name is retried until its answer matches what the observed state predicts or half
    /// the step's time is up (records follow readiness with a delay, and CoreDNS caches negative
    /// answers). Every answer is recorded; the `dns` check judges the last one of each name.
    async fn lookups(&mut self, set: &str, timeout_ms: u64) {
        let Some(service) = self.view.sets.get(set).and_then(|s| s.service_name.clone()) else { return };
        let ns = &self.plan.namespace;
        let domain = &self.settings.cluster_domain;
        let mut names = vec![service.clone(), format!("{service}.{ns}.svc.{domain}")];
        for pod in self.pod_names(set) {
            names.push(format!("{pod}.{service}"));
            names.push(format!("{pod}.{service}.{ns}.svc.{domain}"));
        }
        // Retrying stops halfway through the step's time: a name that never settles (a broken
        // cluster DNS) leaves the rest of the step for one answer to each remaining name, so
        // that the step completes and the `dns` check judges every name, instead of the step
        // timing out with names never asked.
        let deadline = self.cluster.now_ms() + timeout_ms / 2;
        for name in names {
            loop {
                let answer = self.cluster.resolve(&name).await;
                let expected =
                    checks::expected_dns_answer(&self.view, &name, &self.plan.namespace, &self.settings.cluster_domain);
                let settled = match (&answer, &expected) {
                    (Ok(got), Some(want)) => {
                        let mut got = got.clone();
                        got.sort();
                        &got == want
                    }
                    (Err(_), Some(want)) => want.is_empty(),
                    (_, None) => true,
                };
                self.probe(ProbeObs::Dns { name: name.clone(), answer });
                if settled || self.cluster.now_ms() >= deadline {
                    break;
                }
                let retry_at = (self.cluster.now_ms() + 2_000).min(deadline);
                self.observe_until(retry_at, |_| false).await;
            }
        }
    }

    fn pod_names(&self, set: &str) -> Vec<String> {
        self.view.set_pods(set).values().filter(|p| !p.terminating).map(|p| p.name.to_string()).collect()
    }

    fn uid_of(&self, pod: &str) -> String {
        self.view.pods.get(pod).map(|p| p.uid.to_string()).unwrap_or_default()
    }
}

/// What an action left for the runner to recognise its effect by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Acted {
    /// The pod it deleted.
    deleted: Option<String>,
    /// The StatefulSet's generation after a patch.
    generation: Option<i64>,
}

/// Whether the effect of `action` shows in `view` (compared with `before`, the state when it
/// was sent): the deleted pod terminating or gone, the new replica count, the patched spec.
///
/// A patch is recognised by the generation the API server answered with: a watch event of the
/// set that arrives after the request may still carry an older spec (a status update written
/// before the patch), so "the set changed" alone would let the step go on too early — seen on a
/// real kube-controller-manager, where a partition patch's step ended before the roll-out.
fn acknowledged(action: &Action, acted: &Acted, before: &View, view: &View) -> bool {
    let deleted = acted.deleted.as_deref();
    let set_changed = |set: &str| match (before.sets.get(set), view.sets.get(set)) {
        (Some(old), Some(new)) => old != new,
        (None, Some(_)) => true,
        _ => false,
    };
    match action {
        Action::DeletePod(_) | Action::DeleteDeploymentPod(_) => deleted.is_none_or(|pod| {
            let old = before.pods.get(pod).map(|p| p.uid.as_ref());
            view.pods.get(pod).is_none_or(|p| p.terminating || Some(p.uid.as_ref()) != old)
        }),
        Action::DeleteStatefulSet(set) => {
            view.sets.get(set).is_none_or(|s| s.terminating || before.sets.get(set).is_some_and(|old| old.uid != s.uid))
        }
        Action::Scale { set, replicas } => view.sets.get(set).is_some_and(|s| s.replicas == *replicas),
        Action::SetImage { set, .. } => {
            view.sets.get(set).is_some_and(|s| before.sets.get(set).is_none_or(|old| old.update_revision != s.update_revision))
        }
        Action::Patch { set, .. } => match (acted.generation, view.sets.get(set).and_then(|s| s.generation)) {
            (Some(wanted), Some(seen)) => seen >= wanted,
            _ => set_changed(set),
        },
        Action::Apply(objects) => objects.iter().all(|o| match o {
            Object::StatefulSet(s) => {
                let replicas = s.spec.as_ref().and_then(|s| s.replicas).map_or(1, |r| u32::try_from(r).unwrap_or(0));
                view.sets.get(o.name()).is_some_and(|seen| seen.replicas == replicas)
            }
            _ => true,
        }),
        Action::Wait
        | Action::WriteToken { .. }
        | Action::ReadToken { .. }
        | Action::Hostnames(_)
        | Action::Dns(_)
        | Action::Http(_) => true,
    }
}

/// Whether an `until` condition holds in `view`.
#[must_use]
pub fn holds(until: &Until, view: &View) -> bool {
    let pods: Vec<&crate::timeline::PodObs> = match (&until.statefulset, &until.deployment) {
        (Some(set), _) => view.set_pods(set).into_values().collect(),
        (None, Some(d)) => {
            let prefix = format!("{d}-");
            view.pods
                .values()
                .map(|p| &**p)
                .filter(|p| p.name.starts_with(&prefix) && p.spec.owner.as_deref().is_some_and(|o| o.starts_with("ReplicaSet/")))
                .collect()
        }
        (None, None) => {
            return until.pod.as_ref().is_some_and(|name| view.pods.get(name.as_str()).is_some_and(|p| p.running_and_ready()));
        }
    };
    let live = pods.iter().filter(|p| !p.terminating).count() as u32;
    let total = pods.len() as u32;
    if let Some(n) = until.ready
        && !(total == n && pods.iter().all(|p| p.running_and_ready()))
    {
        return false;
    }
    if let Some(n) = until.pods
        && !(total == n && live == n)
    {
        return false;
    }
    if let Some(true) = until.rolled_out {
        let Some(set) = until.statefulset.as_ref().and_then(|s| view.sets.get(s)) else { return false };
        // Until the controller has seen the latest spec, its status names an older revision.
        if !set.status_current() {
            return false;
        }
        let Some(rev) = &set.update_revision else { return false };
        let by_ordinal = view.set_pods(&set.name);
        let done = crate::timeline::first_ordinal_not(&by_ordinal, set.partition..set.replicas, |p| {
            p.revision() == Some(rev.as_str()) && p.running_and_ready()
        })
        .is_none();
        if !done || total != set.replicas {
            return false;
        }
    }
    if let Some(n) = until.pending_claims {
        let Some(set) = until.statefulset.as_ref().and_then(|s| view.sets.get(s)) else { return false };
        let prefixes: Vec<String> = set.claim_templates.iter().map(|t| format!("{t}-{}-", set.name)).collect();
        let pending = view
            .claims
            .values()
            .filter(|c| c.phase == "Pending" && prefixes.iter().any(|p| c.name.starts_with(p.as_str())))
            .count();
        if pending as u32 != n {
            return false;
        }
    }
    true
}

/// What a step waits for, in a few words: `web: 2/3 Ready, waiting for web-2 Ready`.
#[must_use]
pub fn waiting_status(until: &Until, view: &View) -> String {
    let Some(set) = &until.statefulset else { return describe_wait(until, view) };
    let pods = view.set_pods(set);
    let spec = view.sets.get(set);
    let state = |name: &str| match view.pods.get(name) {
        None => "to be created".to_owned(),
        Some(p) if p.terminating => "to terminate".to_owned(),
        Some(p) => match &p.waiting {
            Some(reason) => format!("Ready ({reason})"),
            None if p.phase != "Running" => format!("Ready ({})", p.phase),
            None => "Ready".to_owned(),
        },
    };
    if let Some(n) = until.ready {
        let ready = pods.values().filter(|p| p.running_and_ready()).count();
        let next = crate::timeline::first_ordinal_not(&pods, 0..n, |p| p.running_and_ready()).map(|k| format!("{set}-{k}"));
        return match next {
            Some(name) => format!("{set}: {ready}/{n} Ready, waiting for {name} {}", state(&name)),
            None => format!("{set}: {ready}/{n} Ready, waiting for the rest to go"),
        };
    }
    if let Some(n) = until.pods {
        let extra = pods.iter().rev().find(|(k, _)| **k >= n).map(|(_, p)| p.name.clone());
        return match extra {
            Some(name) => format!("{set}: {} pods, waiting for {name} to go", pods.len()),
            None => format!("{set}: {} pods, waiting for {n}", pods.len()),
        };
    }
    if until.rolled_out == Some(true) && spec.is_some_and(|s| !s.status_current()) {
        return format!("{set}: waiting for the controller to observe the new spec");
    }
    if until.rolled_out == Some(true)
        && let Some(rev) = spec.and_then(|s| s.update_revision.as_deref())
    {
        let updated = pods.values().filter(|p| p.revision() == Some(rev)).count();
        let next = pods.iter().rev().find(|(_, p)| p.revision() != Some(rev) || !p.running_and_ready());
        return match next {
            Some((_, p)) => format!("{set}: {updated}/{} updated, waiting for {} to be updated and Ready", pods.len(), p.name),
            None => format!("{set}: {updated}/{} updated", pods.len()),
        };
    }
    describe_wait(until, view)
}

fn describe_wait(until: &Until, view: &View) -> String {
    let (kind, name) = match (&until.statefulset, &until.deployment) {
        (Some(s), _) => ("statefulset", s.as_str()),
        (None, Some(d)) => ("deployment", d.as_str()),
        _ => ("?", "?"),
    };
    let pods: BTreeMap<&str, String> = view
        .pods
        .values()
        .filter(|p| match kind {
            "statefulset" => p.belongs_to(name),
            _ => p.name.starts_with(&format!("{name}-")),
        })
        .map(|p| {
            let state = if p.terminating {
                "Terminating".to_owned()
            } else if p.running_and_ready() {
                "Ready".to_owned()
            } else if let Some(waiting) = &p.waiting {
                waiting.to_string()
            } else if p.phase == "Pending" && p.node.is_none() {
                // No node assigned: the scheduler has not placed it (or is not running).
                "Pending, not scheduled".to_owned()
            } else {
                format!("{} not Ready", p.phase)
            };
            (p.name.as_ref(), state)
        })
        .collect();
    let state: Vec<String> = pods.iter().map(|(n, s)| format!("{n} {s}")).collect();
    let want = serde_json::to_string(until).unwrap_or_default();
    format!("{kind} {name} {want} (now: {})", if state.is_empty() { "no pods".to_owned() } else { state.join(", ") })
}

/// Objects of a scenario, for planning.
#[must_use]
pub fn scenario_objects(scenario: &Scenario) -> Vec<&Object> {
    scenario.manifests.iter().map(|m| &m.object).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{Change, PodObs};

    fn pod(name: &str, phase: &str, ready: bool, waiting: Option<&str>) -> Event {
        Event::Pod {
            change: Change::Added,
            pod: Arc::new(PodObs {
                name: name.into(),
                uid: name.into(),
                phase: crate::timeline::pod_phase(phase),
                ready,
                waiting: waiting.map(Into::into),
                ..PodObs::default()
            }),
        }
    }

    #[test]
    fn waiting_status_names_the_pod_awaited() {
        let mut view = View::default();
        view.apply(&pod("web-0", "Running", true, None));
        view.apply(&pod("web-1", "Running", true, None));
        view.apply(&pod("web-2", "Pending", false, Some("ContainerCreating")));
        let until = Until { statefulset: Some("web".into()), ready: Some(3), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 2/3 Ready, waiting for web-2 Ready (ContainerCreating)");
        let until = Until { statefulset: Some("web".into()), ready: Some(4), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 2/4 Ready, waiting for web-2 Ready (ContainerCreating)");
        let until = Until { statefulset: Some("web".into()), pods: Some(1), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 3 pods, waiting for web-2 to go");
    }
}

#[cfg(test)]
mod rollout_tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{Change, PodObs, REVISION_LABEL, SetObs};

    fn view_with(set: SetObs, pods: &[(&str, &str)]) -> View {
        let mut view = View::default();
        view.apply(&Event::StatefulSet { change: Change::Added, set: Box::new(set) });
        for (name, rev) in pods {
            let pod = PodObs {
                name: (*name).into(),
                uid: (*name).into(),
                spec: std::sync::Arc::new(crate::timeline::PodSpecObs {
                    owner: Some("StatefulSet/mysql".into()),
                    labels: [(REVISION_LABEL.to_owned(), (*rev).to_owned())].into(),
                    ..Default::default()
                }),
                phase: "Running".into(),
                ready: true,
                ..PodObs::default()
            };
            view.apply(&Event::Pod { change: Change::Added, pod: Arc::new(pod) });
        }
        view
    }

    #[test]
    fn rolled_out_waits_until_the_controller_has_observed_the_new_spec() {
        // As seen on kube-controller-manager v1.34.4 right after a template patch: the spec is
        // at generation 3, the status still at 2 and naming the old revision, which every pod has.
        let set = SetObs {
            name: "mysql".into(),
            replicas: 3,
            partition: 2,
            generation: Some(3),
            observed_generation: Some(2),
            update_revision: Some("old".into()),
            ..SetObs::default()
        };
        let pods = [("mysql-0", "old"), ("mysql-1", "old"), ("mysql-2", "old")];
        let until = Until { statefulset: Some("mysql".into()), rolled_out: Some(true), ..Until::default() };
        let view = view_with(set.clone(), &pods);
        assert!(!holds(&until, &view), "an unobserved spec is not rolled out");
        assert!(waiting_status(&until, &view).contains("observe the new spec"));
        let observed = SetObs { observed_generation: Some(3), update_revision: Some("new".into()), ..set };
        assert!(!holds(&until, &view_with(observed.clone(), &pods)), "mysql-2 is not on the new revision yet");
        let done = [("mysql-0", "old"), ("mysql-1", "old"), ("mysql-2", "new")];
        assert!(holds(&until, &view_with(observed, &done)), "the canary is done");
    }
}
