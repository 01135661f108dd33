//! The runner: executes a scenario's steps on a [`Cluster`], records the timeline, and judges
//! each step's expectations.
//!
//! For every step: a marker goes into the timeline, the action runs (probe results are
//! recorded as they come), then observations are pulled until every `until` condition holds
//! over the observed state, or the step's timeout passes; then `settle` more time is observed.
//! Conditions are evaluated on the timeline's [`View`], never by asking the backend, so a live
//! run and a simulated one wait for exactly the same thing.

use rand::Rng;
use serde::Serialize;

mod verdicts;
mod wait;

use self::wait::describe_wait;
pub use self::{
    verdicts::{ClaimVerdict, Judged, claim_verdicts, claim_verdicts_for, judge, judge_expectations},
    wait::{holds, waiting_status},
};
use crate::{
    checks::{self, Verdict},
    cluster::{Cluster, ClusterError, ExecCommand, Observe},
    manifest::Object,
    plan::Plan,
    scenario::{Action, ResolvedStep, Scenario, Until, Via},
    timeline::{ApiCall, Event, ProbeObs, RefusalObs, Timeline, View},
};

/// The condition type an `apiSurface` step writes with `PUT …/status`.
pub const STATUS_UPDATED: &str = "StsConformanceStatusUpdated";
/// The condition type an `apiSurface` step writes with `PATCH …/status`.
pub const STATUS_PATCHED: &str = "StsConformanceStatusPatched";
/// How long an API request's step waits for the watch to show the version an answer was about.
const VERSION_WAIT_MS: u64 = 5_000;

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

/// What a running scenario reports, in order, to whoever shows progress: each step's start,
/// what it waits for, its end, and the scenario's end. Given to a `&mut dyn FnMut(ProgressEvent)`
/// (a [`Printer`](crate::progress::Printer)'s `report`, or [`quiet`]).
#[derive(Debug, Clone)]
pub enum ProgressEvent {
    /// A step starts: the `index`th (from 0) of `total`.
    StepStarted {
        /// The scenario's name.
        scenario: String,
        /// The step's index, from 0.
        index: usize,
        /// How many steps the scenario has.
        total: usize,
        /// What the step does, as [`Action::describe`](crate::scenario::Action::describe) says.
        action: String,
    },
    /// A step waits; `status` says for what (`web: 2/3 Ready, waiting for web-2 Ready`).
    Waiting {
        /// The scenario's name.
        scenario: String,
        /// What is awaited.
        status: String,
    },
    /// A step ended.
    StepFinished {
        /// The scenario's name.
        scenario: String,
        /// How it ended.
        report: StepReport,
    },
    /// A scenario ended (judged and cleaned up); `failed` as [`ScenarioReport::failed`].
    ScenarioFinished {
        /// The scenario's name.
        scenario: String,
        /// Whether it failed.
        failed: bool,
    },
}

/// Progress that goes nowhere: `&mut runner::quiet`.
pub fn quiet(_: ProgressEvent) {}

/// Runs `scenarios`, up to `parallel` at once, each on its own cluster from `connect` and in its
/// own namespace; the reports come back in the order of `scenarios`. Scenarios share nothing,
/// so the verdicts do not depend on `parallel`.
pub async fn run_many<C, F>(
    scenarios: &[&Scenario],
    options: &crate::plan::PlanOptions,
    settings: &RunSettings,
    parallel: usize,
    connect: F,
    progress: &mut dyn FnMut(ProgressEvent),
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
                let tx = tx.clone();
                let permits = std::rc::Rc::clone(&permits);
                tasks.push(tokio::task::spawn_local(async move {
                    let _permit = permits.acquire().await;
                    run_scenario(&mut cluster, &scenario, &plan, &settings, &mut |event| {
                        let _ = tx.send(event);
                    })
                    .await
                }));
            }
            drop(tx);
            while let Some(event) = rx.recv().await {
                progress(event);
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

/// Runs one scenario to the end (or to its first failed step), cleans up, and judges it.
pub async fn run_scenario<C: Cluster>(
    cluster: &mut C,
    scenario: &Scenario,
    plan: &Plan,
    settings: &RunSettings,
    progress: &mut dyn FnMut(ProgressEvent),
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
    // A DaemonSet's placement is judged against the nodes: record them too; and a scenario's
    // CronJobs.
    let has = |kind: &str| scenario.manifests.iter().any(|m| m.object.kind() == kind);
    let mut setup = setup;
    for (kind, what) in [("DaemonSet", Observe::Nodes), ("CronJob", Observe::CronJobs)] {
        if setup.is_ok() && has(kind) {
            setup = runner.cluster.observe(what).await;
        }
    }
    if let Err(e) = setup {
        let outcome = if e.is_transient() { StepOutcome::TimedOut } else { StepOutcome::ActionFailed };
        steps.push(StepReport::failed(0, "create namespace".into(), 0, outcome, e.to_string()));
    } else {
        // What each step needs: its own action's needs, and those of a step before it that
        // holds pods unready.
        let needs = crate::capability::step_needs(scenario);
        for (step, needs) in scenario.steps.iter().zip(&needs) {
            let action = step.action.describe();
            (runner.progress)(ProgressEvent::StepStarted {
                scenario: scenario.name.clone(),
                index: step.index,
                total: scenario.steps.len(),
                action: action.clone(),
            });
            tracing::debug!(scenario = %scenario.name, step = step.index + 1, %action, "step");
            if let Some((capability, why)) = crate::capability::first_missing(needs, &settings.skip) {
                let reason = if crate::capability::lacking(&step.action, &settings.skip).is_some() {
                    format!("needs {capability}: {why}")
                } else {
                    format!("follows a step that holds pods unready, which needs {capability}: {why}")
                };
                let report = StepReport {
                    index: step.index,
                    action,
                    elapsed_ms: 0,
                    outcome: StepOutcome::Skipped,
                    error: None,
                    skipped: Some(reason),
                    timing: None,
                };
                (runner.progress)(ProgressEvent::StepFinished { scenario: scenario.name.clone(), report: report.clone() });
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
            (runner.progress)(ProgressEvent::StepFinished { scenario: scenario.name.clone(), report: report.clone() });
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
    progress(ProgressEvent::ScenarioFinished { scenario: report.scenario.clone(), failed: report.failed() });
    report
}
struct Runner<'a, C: Cluster> {
    cluster: &'a mut C,
    plan: &'a Plan,
    settings: &'a RunSettings,
    timeline: Timeline,
    view: View,
    scenario: &'a str,
    progress: &'a mut dyn FnMut(ProgressEvent),
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
                (self.progress)(ProgressEvent::Waiting { scenario: self.scenario.to_owned(), status: status.clone() });
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
            Action::FailPod(pod) => {
                self.cluster.fail_pod(pod).await.map_err(|e| e.to_string())?;
                Ok(Acted { deleted: Some(pod.clone()), generation: None })
            }
            Action::PatchPod { pod, merge } => {
                self.cluster.patch_pod(pod, merge).await.map_err(|e| e.to_string())?;
                Ok(Acted::default())
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

    /// `object` as this run sends it (its namespace, labels and mapped images).
    fn concrete(&self, object: &Object) -> Result<Object, String> {
        self.plan.concrete(object).map_err(|e| format!("{}/{}: {e}", object.kind(), object.name()))
    }

    async fn act_in_place(&mut self, action: &Action, timeout_ms: u64) -> Result<(), String> {
        match action {
            Action::Wait
            | Action::DeletePod(_)
            | Action::FailPod(_)
            | Action::PatchPod { .. }
            | Action::DeleteDeploymentPod(_)
            | Action::Patch { .. } => Ok(()),
            Action::ApplyRefused(objects) => {
                for object in objects {
                    let concrete = self.concrete(object)?;
                    match self.cluster.apply(&concrete).await {
                        // Accepted: the watches show the object, and the check says so.
                        Ok(()) => {}
                        Err(ClusterError::Api { code: 422, reason, message, .. }) => {
                            let now = self.cluster.now_ms();
                            let (kind, name) = (object.kind().to_owned(), object.name().to_owned());
                            self.record(now, Event::Refused(Box::new(RefusalObs { kind, name, reason, message })));
                        }
                        // Any other answer (forbidden, unreachable) says nothing of validation.
                        Err(e) => return Err(format!("apply {}/{}: {e}", object.kind(), object.name())),
                    }
                }
                Ok(())
            }
            Action::Apply(objects) => {
                for object in objects {
                    let concrete = self.concrete(object)?;
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
            Action::BreakReadiness(r) | Action::RestoreReadiness(r) => {
                let pods = match &r.pod {
                    Some(pod) => vec![pod.clone()],
                    None => {
                        let pods = self.view.set_pods(&r.set);
                        // A pod whose container does not run yet would come up with its file
                        // and be Ready: "every pod" would not hold. Said, not skipped. (To
                        // restore, such a pod has nothing moved away.)
                        let starting = pods.values().find(|p| p.phase != "Running" && !p.terminating);
                        if let (Some(p), Action::BreakReadiness(_)) = (starting, action) {
                            return Err(format!(
                                "{} is {}: its container does not run, so its file cannot be moved; wait for the set's pods to run first",
                                p.name, p.phase
                            ));
                        }
                        pods.values().filter(|p| p.phase == "Running" && !p.terminating).map(|p| p.name.to_string()).collect()
                    }
                };
                if pods.is_empty() {
                    return Err(format!("StatefulSet {} has no running pod", r.set));
                }
                let path = r.file.clone();
                let (command, doing) = if matches!(action, Action::BreakReadiness(_)) {
                    (ExecCommand::MoveAway { path }, "moving away")
                } else {
                    (ExecCommand::MoveBack { path }, "moving back")
                };
                for pod in pods {
                    self.cluster.exec(&pod, &command).await.map_err(|e| format!("{doing} {pod}:{}: {e}", r.file))?;
                }
                Ok(())
            }
            Action::ApiSurface { set, labels } => {
                let replicas = self
                    .view
                    .sets
                    .get(set)
                    .map(|s| s.replicas)
                    .ok_or_else(|| format!("StatefulSet {set} has not been seen yet"))?;
                let set = set.clone();
                let calls = [
                    ApiCall::GetScale { set: set.clone() },
                    ApiCall::GetStatus { set: set.clone() },
                    ApiCall::UpdateStatus { set: set.clone(), condition: STATUS_UPDATED.into() },
                    ApiCall::PatchStatus { set: set.clone(), condition: STATUS_PATCHED.into() },
                    ApiCall::UpdateScale { set: set.clone(), replicas: replicas.saturating_add(1) },
                    ApiCall::PatchScale { set, replicas },
                    ApiCall::List { labels: labels.clone() },
                ];
                for call in calls {
                    self.call_api(call, timeout_ms).await;
                }
                Ok(())
            }
            Action::DeleteCollection(labels) => {
                self.call_api(ApiCall::DeleteCollection { labels: labels.clone() }, timeout_ms).await;
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

    /// Makes one API request and records it with its answer; for an answer about one
    /// StatefulSet, waits (up to [`VERSION_WAIT_MS`], within the step's time) until the watch
    /// has shown the version answered about, so that the check finds it.
    async fn call_api(&mut self, request: ApiCall, timeout_ms: u64) {
        let answer = self.cluster.call_api(&request).await;
        let version = answer.as_ref().ok().and_then(|a| a.resource_version.clone());
        let set = request.set().map(str::to_owned);
        self.probe(ProbeObs::Api { request, answer });
        let (Some(set), Some(version)) = (set, version) else { return };
        let shows = |event: &Event| matches!(event, Event::StatefulSet { set: s, .. } if s.name == set && s.resource_version.as_deref() == Some(version.as_str()));
        let deadline = self.cluster.now_ms() + VERSION_WAIT_MS.min(timeout_ms);
        if self.timeline.entries.iter().rev().any(|e| shows(&e.event)) {
            return;
        }
        while let Some((at, event)) = self.cluster.next_observation(deadline).await {
            let seen = shows(&event);
            self.record(at, event);
            if seen {
                return;
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
        // Its kubelet has failed it (or the controller already replaced it).
        Action::FailPod(_) => deleted.is_none_or(|pod| {
            let old = before.pods.get(pod).map(|p| p.uid.as_ref());
            view.pods.get(pod).is_none_or(|p| p.phase == "Failed" || p.terminating || Some(p.uid.as_ref()) != old)
        }),
        // The pod's metadata as the patch left it has been seen (or the pod is gone); a patch
        // that changes nothing is seen at once.
        Action::PatchPod { pod, merge } => view
            .pods
            .get(pod.as_str())
            .is_none_or(|p| before.pods.get(pod.as_str()).is_none_or(|old| old.spec != p.spec || !patch_changes(merge, old))),
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
            Object::Job(_) => view.jobs.contains_key(o.name()),
            // Its pods' placement as applied: an older status must not end the wait.
            Object::DaemonSet(d) => {
                let applied = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(crate::timeline::Placement::of);
                view.daemon_sets.get(o.name()).is_some_and(|seen| Some(&seen.placement) == applied.as_ref())
            }
            _ => true,
        }),
        // Refused (recorded at once), or accepted and then seen like any applied object.
        Action::ApplyRefused(objects) => objects.iter().all(|o| match o {
            Object::Job(_) => view.jobs.contains_key(o.name()) || view.refusals.contains(o.name()),
            _ => true,
        }),
        Action::Wait
        | Action::WriteToken { .. }
        | Action::ReadToken { .. }
        | Action::Hostnames(_)
        | Action::Dns(_)
        | Action::Http(_)
        | Action::BreakReadiness(_)
        | Action::RestoreReadiness(_)
        | Action::ApiSurface { .. } => true,
        // Every StatefulSet it selects is gone (or going).
        Action::DeleteCollection(labels) => {
            !view.sets.values().any(|s| !s.terminating && labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
        }
    }
}

/// Whether a pod merge patch (labels and owner references, as validation allows) changes `pod`.
fn patch_changes(merge: &serde_json::Value, pod: &crate::timeline::PodObs) -> bool {
    use serde_json::Value;
    let meta = merge.get("metadata");
    let labels = match meta.and_then(|m| m.get("labels")) {
        Some(Value::Object(changes)) => changes.iter().any(|(k, v)| pod.spec.labels.get(k).map(String::as_str) != v.as_str()),
        Some(Value::Null) => !pod.spec.labels.is_empty(),
        _ => false,
    };
    let owners = match meta.and_then(|m| m.get("ownerReferences")) {
        Some(Value::Null) => pod.spec.owner.is_some(),
        Some(Value::Array(list)) if list.is_empty() => pod.spec.owner.is_some(),
        // Owner references as given: what the pod records (its controller) cannot tell.
        Some(_) => true,
        None => false,
    };
    labels || owners
}

/// Objects of a scenario, for planning.
#[must_use]
pub fn scenario_objects(scenario: &Scenario) -> Vec<&Object> {
    scenario.manifests.iter().map(|m| &m.object).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::patch_changes;
    use crate::timeline::{PodObs, PodSpecObs};

    #[test]
    fn a_pod_patch_that_changes_nothing_is_known_as_such() {
        let pod = PodObs {
            name: "web-0".into(),
            spec: Arc::new(PodSpecObs {
                owner: Some("StatefulSet/web".into()),
                labels: [("app".to_owned(), "nginx".to_owned())].into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(!patch_changes(&json!({"metadata": {"labels": {"app": "nginx"}}}), &pod));
        assert!(!patch_changes(&json!({"metadata": {"labels": {"tier": null}}}), &pod));
        assert!(patch_changes(&json!({"metadata": {"labels": {"app": null}}}), &pod));
        assert!(patch_changes(&json!({"metadata": {"labels": {"app": "other"}}}), &pod));
        assert!(patch_changes(&json!({"metadata": {"ownerReferences": null}}), &pod));
        let orphan = PodObs { spec: Arc::new(PodSpecObs { owner: None, ..(*pod.spec).clone() }), ..pod.clone() };
        assert!(!patch_changes(&json!({"metadata": {"ownerReferences": []}}), &orphan));
    }
}
