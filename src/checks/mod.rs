//! Checks: pure functions from a slice of history to a verdict with evidence.
//!
//! Every check receives a [`Window`] — the whole timeline, the range of entries it judges (one
//! step's), and the object it is about — and returns an [`Outcome`]. No check performs I/O or
//! knows which backend produced the timeline: live runs, the simulated cluster, recorded files
//! and `kubectl get pods -w` transcripts are judged by the same code.
//!
//! The meaning of each check is documented on its function and in the README; they follow the
//! Kubernetes StatefulSet documentation ("Deployment and Scaling Guarantees", "Update
//! strategies", "Stable Storage", "Stable Network ID").

mod adoption;
mod api;
mod availability;
mod budget;
mod cronjob;
mod daemonset;
mod deployment;
mod failed;
mod findings;
mod identity;
mod job;
mod network;
mod order;
mod refusal;
mod revisions;
mod storage;
mod unhealthy;

use std::{collections::BTreeMap, fmt, ops::Range, str::FromStr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use network::expected_dns_answer;

use crate::timeline::{Change, Entry, Event, SetObs, Timeline, View};

/// Every check the harness knows, by its name in scenarios and reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckName {
    /// OrderedReady: each pod k>0 created only while pods 0..k-1 exist and are Running and Ready.
    OrderedCreation,
    /// Scale-down: pods terminate from the highest ordinal down, each after the next is gone.
    ReverseTermination,
    /// Parallel: pods are created (and terminated) without waiting for each other.
    ParallelBurst,
    /// OrderedReady: while a pod is Running but not Ready, the controller creates no pod above
    /// it and removes none it may not, yet recreates a deleted pod below it.
    HaltOnUnhealthy,
    /// RollingUpdate: pods are replaced from the highest ordinal down to the partition, each
    /// after the previously replaced pod is Running and Ready on the new revision.
    ReverseRollout,
    /// Names `<set>-<ordinal>`, hostname = pod name, pod-name label, subdomain = serviceName.
    StableIdentity,
    /// Pods a scale-down keeps are untouched: same UID, no restart, never terminating.
    SurvivorsUnchanged,
    /// The Service named by `serviceName` exists and has `clusterIP: None`.
    HeadlessService,
    /// Per-pod and per-service DNS records resolve to exactly the right addresses.
    Dns,
    /// Claims `<template>-<pod>` exist, are Bound, and each pod mounts its own.
    PvcNaming,
    /// Claims survive scale-down and StatefulSet deletion (or go, when the policy says Delete).
    PvcRetention,
    /// A recreated pod or StatefulSet mounts the same claims (same UIDs).
    Reattach,
    /// Data written to a pod's volume reads back unchanged after the pod is recreated.
    Persistence,
    /// Claims beyond the static volumes stay Pending, explained by a warning event.
    StaticShortage,
    /// Deployment pods have hash-suffixed names that change on recreation; its Service has an IP.
    DeploymentContrast,
    /// Each pod answers HTTP at its own address, from a client pod in the namespace.
    PodHttp,
    /// Every Secret key the pods reference exists, and the pods start.
    SecretRefs,
    /// A DaemonSet runs one pod on every node its template admits, none elsewhere.
    DaemonsetCoverage,
    /// A Job runs to completion, within its parallelism and completions.
    JobCompletion,
    /// A CronJob creates a Job at each time of its schedule, within its concurrency policy
    /// and history limits.
    CronjobSchedule,
    /// The API server refuses an object that is invalid on purpose.
    ApiRefusal,
    /// A Job's failed pods are retried up to its backoffLimit, then the Job is Failed.
    JobBackoff,
    /// OnDelete: a template change replaces no pod; a pod deleted by someone else comes back
    /// on the update revision.
    OnDelete,
    /// A template the set had before comes back as its old revision; once the pods are still,
    /// the status's revisions and counts agree with them.
    Revisions,
    /// OrderedReady with minReadySeconds: each pod is created only once every predecessor has
    /// been Ready that long.
    MinReady,
    /// A pod of the set that fails is deleted and comes back under its name with its claims.
    FailedReplaced,
    /// RollingUpdate with maxUnavailable N: never more than N kept pods unavailable because of
    /// the roll-out, highest first.
    MaxUnavailable,
    /// The scale and status subresources, a list and a delete-collection by labels answer as
    /// the watch shows the StatefulSets.
    ApiSurface,
    /// An orphan pod of the set that matches its selector is adopted; a pod whose labels stop
    /// matching is released.
    Adoption,
}

impl CheckName {
    /// All checks, in report order.
    pub const ALL: [CheckName; 29] = [
        CheckName::OrderedCreation,
        CheckName::ReverseTermination,
        CheckName::ParallelBurst,
        CheckName::HaltOnUnhealthy,
        CheckName::MinReady,
        CheckName::ReverseRollout,
        CheckName::MaxUnavailable,
        CheckName::OnDelete,
        CheckName::Revisions,
        CheckName::StableIdentity,
        CheckName::SurvivorsUnchanged,
        CheckName::FailedReplaced,
        CheckName::Adoption,
        CheckName::HeadlessService,
        CheckName::Dns,
        CheckName::PvcNaming,
        CheckName::PvcRetention,
        CheckName::Reattach,
        CheckName::Persistence,
        CheckName::StaticShortage,
        CheckName::DeploymentContrast,
        CheckName::PodHttp,
        CheckName::SecretRefs,
        CheckName::DaemonsetCoverage,
        CheckName::JobCompletion,
        CheckName::CronjobSchedule,
        CheckName::ApiRefusal,
        CheckName::JobBackoff,
        CheckName::ApiSurface,
    ];

    /// The name as written in scenarios (`ordered-creation`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::OrderedCreation => "ordered-creation",
            CheckName::ReverseTermination => "reverse-termination",
            CheckName::ParallelBurst => "parallel-burst",
            CheckName::HaltOnUnhealthy => "halt-on-unhealthy",
            CheckName::ReverseRollout => "reverse-rollout",
            CheckName::StableIdentity => "stable-identity",
            CheckName::SurvivorsUnchanged => "survivors-unchanged",
            CheckName::HeadlessService => "headless-service",
            CheckName::Dns => "dns",
            CheckName::PvcNaming => "pvc-naming",
            CheckName::PvcRetention => "pvc-retention",
            CheckName::Reattach => "reattach",
            CheckName::Persistence => "persistence",
            CheckName::StaticShortage => "static-shortage",
            CheckName::DeploymentContrast => "deployment-contrast",
            CheckName::PodHttp => "pod-http",
            CheckName::SecretRefs => "secret-refs",
            CheckName::DaemonsetCoverage => "daemonset-coverage",
            CheckName::JobCompletion => "job-completion",
            CheckName::CronjobSchedule => "cronjob-schedule",
            CheckName::ApiRefusal => "api-refusal",
            CheckName::JobBackoff => "job-backoff",
            CheckName::OnDelete => "on-delete",
            CheckName::Revisions => "revisions",
            CheckName::MinReady => "min-ready",
            CheckName::FailedReplaced => "failed-replaced",
            CheckName::MaxUnavailable => "max-unavailable",
            CheckName::ApiSurface => "api-surface",
            CheckName::Adoption => "adoption",
        }
    }

    /// The kind of object the check is about.
    #[must_use]
    pub fn target_kind(self) -> TargetKind {
        match self {
            CheckName::DeploymentContrast => TargetKind::Deployment,
            CheckName::DaemonsetCoverage => TargetKind::DaemonSet,
            CheckName::JobCompletion | CheckName::JobBackoff => TargetKind::Job,
            CheckName::CronjobSchedule => TargetKind::CronJob,
            CheckName::ApiRefusal => TargetKind::Refused,
            _ => TargetKind::StatefulSet,
        }
    }

    /// Whether the check judges order over time (and so is inconclusive across a gap).
    #[must_use]
    pub fn is_order_check(self) -> bool {
        matches!(
            self,
            CheckName::OrderedCreation
                | CheckName::ReverseTermination
                | CheckName::ParallelBurst
                | CheckName::HaltOnUnhealthy
                | CheckName::ReverseRollout
                | CheckName::OnDelete
                | CheckName::Revisions
                | CheckName::MinReady
                | CheckName::FailedReplaced
                | CheckName::MaxUnavailable
                | CheckName::ApiSurface
                | CheckName::Adoption
                | CheckName::SurvivorsUnchanged
        )
    }
}

/// The kinds of object a check judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A StatefulSet (most checks).
    StatefulSet,
    /// A Deployment (`deployment-contrast`).
    Deployment,
    /// A DaemonSet (`daemonset-coverage`).
    DaemonSet,
    /// A Job (`job-completion`).
    Job,
    /// A CronJob (`cronjob-schedule`).
    CronJob,
    /// An object of the step's refused `apply`, of any kind (`api-refusal`).
    Refused,
}

impl TargetKind {
    /// The key naming the object in a scenario's `expect` (`statefulset:`).
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            TargetKind::StatefulSet => "statefulset",
            TargetKind::Deployment => "deployment",
            TargetKind::DaemonSet => "daemonset",
            TargetKind::Job => "job",
            TargetKind::CronJob => "cronjob",
            TargetKind::Refused => "object",
        }
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CheckName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CheckName::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            let known: Vec<_> = CheckName::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown check `{s}` (known: {})", known.join(", "))
        })
    }
}

/// How long a set, its pods and claims must have been still at a step's end before its status
/// and the claims' owner references must agree with them: the controller acts on the pass that
/// a change triggers, within moments.
pub(super) const QUIET_MS: u64 = 5_000;

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The history shows the guarantee held.
    Pass,
    /// What the check needs to see is absent from the history (nothing was created, no
    /// probe ran): it neither held nor broke.
    NotApplicable,
    /// Not judged: the step that gathers the evidence needs a capability the cluster lacks,
    /// and the user accepted skipping it; or the cluster cannot show what the check is about
    /// (`daemonset-coverage` on nodes that leave a template's tolerations or selector nothing
    /// to decide).
    Skipped,
    /// The history cannot decide (a watch gap, a probe that could not run).
    Inconclusive,
    /// The history shows the guarantee broken.
    Fail,
}

impl Verdict {
    /// The name used in reports (`not-applicable`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::NotApplicable => "not-applicable",
            Verdict::Skipped => "skipped",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict with the entries that prove it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Which check.
    pub check: CheckName,
    /// What it found.
    pub verdict: Verdict,
    /// One sentence a person can act on.
    pub detail: String,
    /// Sequence numbers of the entries that prove the verdict, ascending.
    pub evidence: Vec<usize>,
}

impl Outcome {
    fn new(check: CheckName, verdict: Verdict, detail: impl Into<String>, mut evidence: Vec<usize>) -> Self {
        evidence.sort_unstable();
        evidence.dedup();
        Self { check, verdict, detail: detail.into(), evidence }
    }
}

/// The policy a check assumes when the history does not say (a transcript has no spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// `OrderedReady`, the default.
    #[default]
    Ordered,
    /// `Parallel`.
    Parallel,
}

/// What a check is asked to judge.
#[derive(Debug, Clone)]
pub struct Window<'a> {
    /// The whole history (checks may look back before `range`).
    pub timeline: &'a Timeline,
    /// The entries judged, usually one step's.
    pub range: Range<usize>,
    /// The StatefulSet (or, for deployment checks, Deployment) the check is about.
    pub target: &'a str,
    /// Namespace the objects live in (for DNS names).
    pub namespace: &'a str,
    /// Cluster DNS domain (`cluster.local`).
    pub cluster_domain: &'a str,
    /// Text the HTTP answer must contain, when given.
    pub expect_body: Option<&'a str>,
    /// Policy to assume when the history holds no StatefulSet object.
    pub default_policy: Policy,
    /// The step ended before its condition held (timed out, interrupted, its action failed):
    /// what the window shows "at the end" is where the harness stopped watching, not where the
    /// controller stopped, so checks judge no end state from it.
    pub ended_early: bool,
    /// When the step ended (ms, the timeline's clock), when the run says (`None` for a
    /// recorded timeline): the last entry may be long before, after a wait or a settle in
    /// which nothing happened.
    pub ended_at_ms: Option<u64>,
}

impl<'a> Window<'a> {
    /// When the window ends: the step's end when known, else the next step's marker, else the
    /// window's last entry.
    #[must_use]
    pub fn end_ms(&self) -> u64 {
        let entries = &self.timeline.entries;
        let seen =
            entries.get(self.range.end).or_else(|| entries[..self.range.end.min(entries.len())].last()).map_or(0, |e| e.at_ms);
        self.ended_at_ms.map_or(seen, |end| end.max(seen))
    }

    /// The entries judged.
    #[must_use]
    pub fn entries(&self) -> &'a [Entry] {
        &self.timeline.entries[self.range.clone()]
    }

    /// The state just before the window.
    #[must_use]
    pub fn view_before(&self) -> View {
        self.timeline.view_at(self.range.start)
    }

    /// The state at the end of the window.
    #[must_use]
    pub fn view_after(&self) -> View {
        self.timeline.view_at(self.range.end)
    }

    /// The target StatefulSet as last observed by the window's end — what
    /// `view_after().sets` holds for it — found from the end without replaying every pod.
    #[must_use]
    pub fn set_after(&self) -> Option<&'a SetObs> {
        self.timeline.entries[..self.range.end.min(self.timeline.len())]
            .iter()
            .rev()
            .find_map(|entry| match &entry.event {
                Event::StatefulSet { change, set } if set.name == self.target => {
                    Some((*change != Change::Deleted).then_some(&**set))
                }
                _ => None,
            })
            .flatten()
    }

    /// The policy of the target at the window's end: from its last observed spec, else the
    /// default.
    #[must_use]
    pub fn policy(&self) -> Policy {
        match self.set_after() {
            Some(set) if set.parallel() => Policy::Parallel,
            Some(_) => Policy::Ordered,
            None => self.default_policy,
        }
    }

    /// The first gap whose span overlaps the window and may have lost events: a watch failed
    /// and then re-listed, or had not recovered by the window's end. A gap closed by a watch
    /// that resumed from its last version lost nothing (the API server replayed every change)
    /// and does not count.
    #[must_use]
    pub fn lossy_gap(&self) -> Option<&'a Entry> {
        let entries = &self.timeline.entries[..self.range.end.min(self.timeline.len())];
        let mut open: BTreeMap<&str, &'a Entry> = BTreeMap::new();
        let mut lossy: Option<&'a Entry> = None;
        for (i, entry) in entries.iter().enumerate() {
            match &entry.event {
                Event::Gap { resource, .. } => {
                    open.entry(resource.as_str()).or_insert(entry);
                }
                Event::GapEnd { resource, relisted } => {
                    if let Some(start) = open.remove(resource.as_str())
                        && *relisted
                        && i >= self.range.start
                    {
                        lossy = lossy.or(Some(start));
                    }
                }
                _ => {}
            }
        }
        lossy.or_else(|| open.into_values().min_by_key(|e| e.seq))
    }

    /// Replays the window entry by entry, handing each entry with the state just before it.
    pub fn replay(&self, mut f: impl FnMut(&View, &'a Entry)) -> View {
        let mut view = self.view_before();
        for entry in self.entries() {
            f(&view, entry);
            view.apply(&entry.event);
        }
        view
    }
}

/// Runs one check. Order checks over a window with a gap are inconclusive, whatever the
/// entries would say: events may be missing, so neither a pass nor a fail can be trusted.
#[must_use]
pub fn evaluate(check: CheckName, window: &Window<'_>) -> Outcome {
    if check.is_order_check()
        && let Some(gap) = window.lossy_gap()
    {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("the watch restarted at #{} and may have missed events; order cannot be judged", gap.seq),
            vec![gap.seq],
        );
    }
    match check {
        CheckName::OrderedCreation => order::ordered_creation(window),
        CheckName::ReverseTermination => order::reverse_termination(window),
        CheckName::ParallelBurst => order::parallel_burst(window),
        CheckName::HaltOnUnhealthy => unhealthy::halt_on_unhealthy(window),
        CheckName::ReverseRollout => order::reverse_rollout(window),
        CheckName::SurvivorsUnchanged => order::survivors_unchanged(window),
        CheckName::StableIdentity => identity::stable_identity(window),
        CheckName::HeadlessService => network::headless_service(window),
        CheckName::Dns => network::dns(window),
        CheckName::PodHttp => network::pod_http(window),
        CheckName::PvcNaming => storage::pvc_naming(window),
        CheckName::PvcRetention => storage::pvc_retention(window),
        CheckName::Reattach => storage::reattach(window),
        CheckName::Persistence => storage::persistence(window),
        CheckName::StaticShortage => storage::static_shortage(window),
        CheckName::DeploymentContrast => deployment::deployment_contrast(window),
        CheckName::SecretRefs => identity::secret_refs(window),
        CheckName::DaemonsetCoverage => daemonset::daemonset_coverage(window),
        CheckName::JobCompletion => job::job_completion(window),
        CheckName::CronjobSchedule => cronjob::cronjob_schedule(window),
        CheckName::ApiRefusal => refusal::api_refusal(window),
        CheckName::JobBackoff => job::job_backoff(window),
        CheckName::OnDelete => revisions::on_delete(window),
        CheckName::Revisions => revisions::revisions(window),
        CheckName::MinReady => availability::min_ready(window),
        CheckName::FailedReplaced => failed::failed_replaced(window),
        CheckName::MaxUnavailable => budget::max_unavailable(window),
        CheckName::ApiSurface => api::api_surface(window),
        CheckName::Adoption => adoption::adoption(window),
    }
}

/// Shared test fixtures: a small builder for hand-made histories.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;

    use super::*;
    use crate::timeline::{Change, PodObs, SetObs};

    /// A window over a timeline built by hand, about `target`.
    pub fn window_of<'a>(timeline: &'a Timeline, range: Range<usize>, target: &'a str) -> Window<'a> {
        Window {
            timeline,
            range,
            target,
            namespace: "ns",
            cluster_domain: "cluster.local",
            expect_body: None,
            default_policy: Policy::Ordered,
            ended_early: false,
            ended_at_ms: None,
        }
    }

    /// Builds a timeline one observation at a time, keeping each pod's latest state.
    #[derive(Default)]
    pub struct History {
        pub timeline: Timeline,
        pods: BTreeMap<String, PodObs>,
        incarnation: BTreeMap<String, u32>,
        pub set: Option<SetObs>,
        /// The time of the next observation, in ms.
        pub now: u64,
    }

    impl History {
        pub fn new() -> Self {
            Self::default()
        }

        pub fn set(mut self, replicas: u32, policy: &str) -> Self {
            let set = SetObs {
                name: "web".into(),
                uid: "set-1".into(),
                replicas,
                service_name: Some("nginx".into()),
                pod_management_policy: policy.into(),
                update_strategy: "RollingUpdate".into(),
                when_deleted: "Retain".into(),
                when_scaled: "Retain".into(),
                claim_templates: vec!["www".into()],
                ..Default::default()
            };
            self.timeline.push(self.now, Event::StatefulSet { change: Change::Added, set: Box::new(set.clone()) });
            self.set = Some(set);
            self
        }

        pub fn update_set(&mut self, f: impl FnOnce(&mut SetObs)) -> usize {
            let mut set = self.set.clone().expect("set first");
            f(&mut set);
            self.set = Some(set.clone());
            self.timeline.push(self.now, Event::StatefulSet { change: Change::Modified, set: Box::new(set) })
        }

        /// Lets `ms` pass before the next observation.
        pub fn advance(&mut self, ms: u64) {
            self.now += ms;
        }

        pub fn step(&mut self, index: usize) -> usize {
            self.timeline.push(self.now, Event::Step { index, action: format!("step {index}") })
        }

        /// A new incarnation of `name` appears Pending.
        pub fn create(&mut self, name: &str) -> usize {
            let n = self.incarnation.entry(name.to_owned()).or_default();
            *n += 1;
            let ordinal = name.rsplit('-').next().unwrap_or("0");
            let pod = PodObs {
                name: name.into(),
                uid: format!("{name}-uid{n}").into(),
                phase: "Pending".into(),
                spec: std::sync::Arc::new(crate::timeline::PodSpecObs {
                    owner: Some("StatefulSet/web".into()),
                    hostname: Some(name.into()),
                    subdomain: Some("nginx".into()),
                    labels: [
                        ("app".to_owned(), "nginx".to_owned()),
                        (crate::timeline::POD_NAME_LABEL.to_owned(), name.to_owned()),
                        (crate::timeline::REVISION_LABEL.to_owned(), "rev1".to_owned()),
                    ]
                    .into(),
                    claims: [("www".to_owned(), format!("www-{name}"))].into(),
                    ..Default::default()
                }),
                ip: Some(format!("10.0.0.{ordinal}").into()),
                ..Default::default()
            };
            self.pods.insert(name.into(), pod.clone());
            self.timeline.push(self.now, Event::Pod { change: Change::Added, pod: pod.into() })
        }

        /// A new incarnation of `name` appears Pending on revision `rev`.
        pub fn create_on(&mut self, name: &str, rev: &str) -> usize {
            let seq = self.create(name);
            self.revision(name, rev);
            let pod = self.pods.get(name).expect("just created").clone();
            self.timeline.entries[seq].event = Event::Pod { change: Change::Added, pod: pod.into() };
            seq
        }

        pub fn modify(&mut self, name: &str, f: impl FnOnce(&mut PodObs)) -> usize {
            let pod = self.pods.get_mut(name).expect("pod exists");
            f(pod);
            let pod = pod.clone();
            self.timeline.push(self.now, Event::Pod { change: Change::Modified, pod: pod.into() })
        }

        /// A new incarnation of `name` appears already Running and Ready (no Pending seen).
        pub fn create_ready(&mut self, name: &str) -> usize {
            let seq = self.create(name);
            let pod = self.pods.get_mut(name).expect("just created");
            pod.phase = "Running".into();
            pod.ready = true;
            self.timeline.entries[seq].event = Event::Pod { change: Change::Added, pod: pod.clone().into() };
            seq
        }

        pub fn ready(&mut self, name: &str) -> usize {
            self.modify(name, |p| {
                p.phase = "Running".into();
                p.ready = true;
            })
        }

        pub fn unready(&mut self, name: &str) -> usize {
            self.modify(name, |p| p.ready = false)
        }

        pub fn running(&mut self, name: &str) -> usize {
            self.modify(name, |p| p.phase = "Running".into())
        }

        pub fn revision(&mut self, name: &str, rev: &str) {
            let pod = self.pods.get_mut(name).expect("pod exists");
            std::sync::Arc::make_mut(&mut pod.spec).labels.insert(crate::timeline::REVISION_LABEL.into(), rev.into());
        }

        pub fn terminate(&mut self, name: &str) -> usize {
            self.modify(name, |p| {
                p.terminating = true;
                p.ready = false;
            })
        }

        pub fn gone(&mut self, name: &str) -> usize {
            let pod = self.pods.remove(name).expect("pod exists");
            self.timeline.push(self.now, Event::Pod { change: Change::Deleted, pod: pod.into() })
        }

        /// Creates pods 0..n one after another, each Ready before the next.
        pub fn bring_up(&mut self, n: u32) {
            for i in 0..n {
                let name = format!("web-{i}");
                self.create(&name);
                self.ready(&name);
            }
        }

        pub fn window(&self, range: Range<usize>) -> Window<'_> {
            Window {
                timeline: &self.timeline,
                range,
                target: "web",
                namespace: "ns",
                cluster_domain: "cluster.local",
                expect_body: None,
                default_policy: Policy::Ordered,
                ended_early: false,
                ended_at_ms: None,
            }
        }

        /// The window from step marker `index` to the end.
        pub fn step_window(&self, index: usize) -> Window<'_> {
            let range = self.timeline.step_range(index).expect("step exists");
            self.window(range.start..self.timeline.len())
        }

        /// [`History::step_window`] of a step that ended before its condition held.
        pub fn early_window(&self, index: usize) -> Window<'_> {
            Window { ended_early: true, ..self.step_window(index) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{fixture::History, *};

    #[test]
    fn the_set_after_a_window_is_the_one_its_view_holds() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.bring_up(2);
        h.update_set(|s| s.pod_management_policy = "Parallel".into());
        let other = SetObs { name: "webby".into(), pod_management_policy: "OrderedReady".into(), ..Default::default() };
        h.timeline.push(0, Event::StatefulSet { change: Change::Added, set: Box::new(other) });
        let gone = h.set.clone().expect("set");
        h.timeline.push(0, Event::StatefulSet { change: Change::Deleted, set: Box::new(gone) });
        h.create("web-0");
        h.set = Some(SetObs { name: "web".into(), replicas: 1, ..Default::default() });
        h.update_set(|s| s.pod_management_policy = "OrderedReady".into());
        let mut policies = Vec::new();
        for end in 0..=h.timeline.len() {
            let window = h.window(0..end);
            assert_eq!(window.set_after(), window.view_after().sets.get("web"), "up to {end}");
            policies.push(window.policy());
        }
        // Before the set is seen, after it turns Parallel, once deleted, once back.
        assert_eq!(policies.first(), Some(&Policy::Ordered));
        assert!(policies.contains(&Policy::Parallel));
        assert_eq!(policies.last(), Some(&Policy::Ordered));
    }

    #[test]
    fn names_round_trip() {
        for check in CheckName::ALL {
            assert_eq!(check.as_str().parse::<CheckName>(), Ok(check));
            assert_eq!(serde_json::to_string(&check).unwrap(), format!("\"{check}\""));
        }
        assert!("ordered".parse::<CheckName>().unwrap_err().contains("ordered-creation"));
    }

    #[test]
    fn a_gap_makes_order_checks_inconclusive_but_not_others() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.create("web-0");
        h.timeline.push(0, Event::Gap { resource: "pods".into(), reason: "410 Gone".into() });
        h.ready("web-0");
        h.create("web-1");
        let w = h.step_window(0);
        assert_eq!(evaluate(CheckName::OrderedCreation, &w).verdict, Verdict::Inconclusive);
        assert_ne!(evaluate(CheckName::StableIdentity, &w).verdict, Verdict::Inconclusive);
    }

    fn gap(h: &mut History) {
        h.timeline.push(0, Event::Gap { resource: "pods".into(), reason: "connection reset".into() });
    }
    fn gap_end(h: &mut History, relisted: bool) {
        h.timeline.push(0, Event::GapEnd { resource: "pods".into(), relisted });
    }

    #[test]
    fn a_watch_that_resumed_lost_nothing_and_decides_nothing() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.create("web-0");
        gap(&mut h);
        gap_end(&mut h, false);
        h.ready("web-0");
        h.create("web-1");
        assert_eq!(evaluate(CheckName::OrderedCreation, &h.step_window(0)).verdict, Verdict::Pass);
    }

    #[test]
    fn a_gap_spans_steps_until_it_closes() {
        // Step 0 fails its watch; the relist that closes the gap comes in step 1: events of
        // step 0 may be lost, so both steps are undecided; step 2 is after the gap.
        let mut h = History::new().set(3, "OrderedReady");
        h.step(0);
        h.create("web-0");
        gap(&mut h);
        h.step(1);
        h.ready("web-0");
        h.create("web-1");
        gap_end(&mut h, true);
        h.step(2);
        h.ready("web-1");
        h.create("web-2");
        let verdict = |i: usize| {
            let range = h.timeline.step_range(i).expect("step");
            evaluate(CheckName::OrderedCreation, &h.window(range)).verdict
        };
        assert_eq!(verdict(0), Verdict::Inconclusive);
        assert_eq!(verdict(1), Verdict::Inconclusive);
        assert_eq!(verdict(2), Verdict::Pass);
    }

    #[test]
    fn a_gap_that_never_closes_leaves_every_later_window_undecided() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        gap(&mut h);
        h.step(1);
        h.create("web-0");
        h.ready("web-0");
        h.create("web-1");
        let range = h.timeline.step_range(1).expect("step");
        assert_eq!(evaluate(CheckName::OrderedCreation, &h.window(range)).verdict, Verdict::Inconclusive);
    }
}
