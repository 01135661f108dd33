//! The built-in simulated cluster: a deterministic, in-memory model of the controllers a
//! StatefulSet scenario involves, on a virtual clock.
//!
//! Here: the cluster's state, its clock and task queue. Each controller it models has a file:
//! - `statefulset`: the StatefulSet controller;
//! - `kubelet`: scheduling once claims are Bound, container start, readiness, graceful
//!   termination, missing Secrets; claim retention when a pod goes; the node-by-node upgrade;
//! - `storage`: the PersistentVolume binder (dynamic provisioning through the default class
//!   `standard`, static volumes matched by class and size, `ProvisioningFailed` for a class that
//!   does not exist) and per-volume files;
//! - `network`: CoreDNS-style records with the pod's search path, what images serve over HTTP;
//! - `deployment`: the Deployment/ReplicaSet controllers (hash-suffixed names);
//! - `daemonset`: the DaemonSet controller, and the sim's three nodes (one tainted as a
//!   control plane);
//! - `job`: the Job controller (its pods' containers exit 0 a moment after they are Ready);
//! - `api`: the [`Cluster`](crate::cluster::Cluster) implementation: what the API server accepts
//!   and refuses, Service cluster IPs, the garbage collector (a deleted StatefulSet's pods;
//!   claims under a Delete retention policy), exec and watch.
//!
//! The sim is a test double and a demo: a pass on it says nothing about a real cluster.

mod api;
mod cronjob;
mod daemonset;
mod deployment;
mod faults;
mod job;
mod kubelet;
mod network;
mod state;
mod statefulset;
mod storage;

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque},
};

use k8s_openapi::api::core::v1::PodSpec;

pub use self::cronjob::SIM_EPOCH_S;
use self::{cronjob::SimCronJob, daemonset::SimDaemonSet, deployment::SimDeployment, job::SimJob, statefulset::SimSet};
pub use self::{
    faults::{Fault, UpgradeFault},
    state::{SimStateError, SimWorld},
};
use crate::timeline::{Change, ClaimObs, Event, PodObs, ServiceObs, VolumeObs};

/// The storage class the sim provisions dynamically, and the default for claims naming none.
pub const DEFAULT_STORAGE_CLASS: &str = "standard";

/// Delays of the simulated cluster, in virtual milliseconds.
mod delay {
    pub const CONTROLLER: u64 = 5;
    pub const SCHEDULE: u64 = 200;
    pub const CONTAINER_START: u64 = 1_500;
    pub const READINESS: u64 = 1_000;
    pub const TERMINATION: u64 = 1_000;
    pub const GC: u64 = 50;
    pub const RETRY: u64 = 5_000;
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
enum Task {
    Reconcile(String),
    ReconcileDeployment(String),
    ReconcileDaemonSet(String),
    ReconcileJob(String),
    ReconcileCronJob(String),
    Kubelet(String, String),
    /// The kubelet's readiness probe of a pod (name, UID), run again after its file changed.
    Probe(String, String),
    /// A pod's `activeDeadlineSeconds` ran out (name, UID): its kubelet fails it.
    Deadline(String, String),
    Remove(String, String),
    BindClaim(String),
    CollectSet(String),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SimPod {
    obs: PodObs,
    spec: PodSpec,
    grace_ms: u64,
    /// When its Ready condition last became True (the condition's `lastTransitionTime`).
    #[serde(default)]
    ready_since: Option<u64>,
}

/// The simulated cluster. Its whole state serializes (`--sim-state`), so that separate
/// processes can act on one cluster, as around an upgrade.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct SimCluster {
    clock: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Task)>>,
    task_seq: u64,
    outbox: VecDeque<(u64, Event)>,
    counter: u64,
    rng: u64,
    namespace: String,
    cluster_domain: String,
    sets: BTreeMap<String, SimSet>,
    pods: BTreeMap<String, SimPod>,
    claims: BTreeMap<String, ClaimObs>,
    volumes: BTreeMap<String, (VolumeObs, bool)>,
    warned: BTreeSet<String>,
    services: BTreeMap<String, ServiceObs>,
    service_ports: BTreeMap<String, Vec<u16>>,
    secrets: BTreeMap<String, Vec<String>>,
    deployments: BTreeMap<String, SimDeployment>,
    files: BTreeMap<String, BTreeMap<String, String>>,
    faults: BTreeSet<Fault>,
    /// Pods a user deleted, until the controller recreates them.
    user_deleted: BTreeSet<String>,
    /// ConfigMaps: name → data.
    #[serde(default)]
    config_maps: BTreeMap<String, BTreeMap<String, String>>,
    /// Per-pod DNS records left pointing at an old address (an upgrade fault): host → IP.
    #[serde(default)]
    stale_dns: BTreeMap<String, String>,
    /// Leave everything in place at cleanup (a prepared upgrade workload).
    #[serde(default)]
    keep: bool,
    /// DaemonSets by name.
    #[serde(default)]
    daemon_sets: BTreeMap<String, SimDaemonSet>,
    /// Jobs by name.
    #[serde(default)]
    jobs: BTreeMap<String, SimJob>,
    /// CronJobs by name.
    #[serde(default)]
    cron_jobs: BTreeMap<String, SimCronJob>,
    /// Files moved away in a pod's container (`breakReadiness`): (pod UID, path).
    #[serde(default)]
    moved_away: BTreeSet<(String, String)>,
    /// The last `resourceVersion` given out.
    #[serde(default)]
    versions: u64,
    /// Whether the run observes the nodes (reported in a relist too).
    #[serde(default)]
    nodes_observed: bool,
}

impl SimCluster {
    /// A new, empty cluster whose DNS domain is `cluster_domain`.
    #[must_use]
    pub fn new(cluster_domain: &str) -> Self {
        Self { cluster_domain: cluster_domain.to_owned(), rng: 0x9e37_79b9_7f4a_7c15, ..Self::default() }
    }

    /// The same cluster, misbehaving as `faults` say.
    #[must_use]
    pub fn with_faults(mut self, faults: impl IntoIterator<Item = Fault>) -> Self {
        self.faults.extend(faults);
        self
    }

    /// The same cluster, keeping everything at cleanup (a prepared upgrade workload).
    #[must_use]
    pub fn keeping(mut self, keep: bool) -> Self {
        self.keep = keep;
        self
    }

    /// The namespace this cluster holds.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs every task due up to `until` (virtual ms), with no observer.
    fn run_until(&mut self, until: u64) {
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > until {
                break;
            }
            let Some(Reverse((at, _, task))) = self.queue.pop() else { break };
            self.clock = self.clock.max(at);
            self.run_task(task);
        }
        self.clock = self.clock.max(until);
        self.outbox.clear();
    }

    /// Reports every object as added, as a watch's initial list does (a new observer).
    fn relist(&mut self) {
        self.outbox.clear();
        let services: Vec<ServiceObs> = self.services.values().cloned().collect();
        for service in services {
            self.emit(Event::Service { change: Change::Added, service: Box::new(service) });
        }
        let secrets: Vec<(String, Vec<String>)> = self.secrets.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, keys) in secrets {
            self.emit(Event::Secret { change: Change::Added, name, keys });
        }
        let volumes: Vec<VolumeObs> = self.volumes.values().map(|(v, _)| v.clone()).collect();
        for volume in volumes {
            self.emit(Event::Volume { change: Change::Added, volume: Box::new(volume) });
        }
        let claims: Vec<ClaimObs> = self.claims.values().cloned().collect();
        for claim in claims {
            self.emit(Event::Claim { change: Change::Added, claim: Box::new(claim) });
        }
        let sets: Vec<crate::timeline::SetObs> = self.sets.values().map(|s| s.obs.clone()).collect();
        for set in sets {
            self.emit(Event::StatefulSet { change: Change::Added, set: Box::new(set) });
        }
        let daemon_sets: Vec<crate::timeline::DaemonSetObs> = self.daemon_sets.values().map(|s| s.obs.clone()).collect();
        for set in daemon_sets {
            self.emit(Event::DaemonSet { change: Change::Added, set: Box::new(set) });
        }
        let jobs: Vec<crate::timeline::JobObs> = self.jobs.values().map(|j| j.obs.clone()).collect();
        for job in jobs {
            self.emit(Event::Job { change: Change::Added, job: Box::new(job) });
        }
        let crons: Vec<crate::timeline::CronJobObs> = self.cron_jobs.values().map(|c| c.obs.clone()).collect();
        for cron in crons {
            self.emit(Event::CronJob { change: Change::Added, cron: Box::new(cron) });
        }
        if self.nodes_observed {
            self.report_nodes();
        }
        let pods: Vec<PodObs> = self.pods.values().map(|p| p.obs.clone()).collect();
        for pod in pods {
            self.emit(Event::Pod { change: Change::Added, pod: pod.into() });
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    fn emit(&mut self, event: Event) {
        self.outbox.push_back((self.clock, event));
    }

    fn schedule(&mut self, after_ms: u64, task: Task) {
        self.task_seq += 1;
        self.queue.push(Reverse((self.clock + after_ms, self.task_seq, task)));
    }

    /// The next `resourceVersion` of an object (one counter, as etcd's revision).
    fn next_version(&mut self) -> String {
        self.versions += 1;
        self.versions.to_string()
    }

    fn new_uid(&mut self) -> String {
        self.counter += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.counter)
    }

    fn random_suffix(&mut self, len: usize) -> String {
        // The alphabet Kubernetes uses for generated names (no vowels, no look-alikes).
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                ALPHABET[(self.rng % ALPHABET.len() as u64) as usize] as char
            })
            .collect()
    }

    fn run_task(&mut self, task: Task) {
        match task {
            Task::Reconcile(set) => self.reconcile_set(&set),
            Task::ReconcileDeployment(d) => self.reconcile_deployment(&d),
            Task::ReconcileDaemonSet(d) => self.reconcile_daemon_set(&d),
            Task::ReconcileJob(j) => self.reconcile_job(&j),
            Task::ReconcileCronJob(c) => self.reconcile_cron_job(&c),
            Task::Kubelet(pod, uid) => self.kubelet(&pod, &uid),
            Task::Probe(pod, uid) => self.probe_readiness(&pod, &uid),
            Task::Deadline(pod, uid) => self.deadline_exceeded(&pod, &uid),
            Task::Remove(pod, uid) => self.remove_pod(&pod, &uid),
            Task::BindClaim(claim) => self.bind_claim(&claim),
            Task::CollectSet(set) => {
                let owned: Vec<String> =
                    self.pods.values().filter(|p| p.obs.belongs_to(&set)).map(|p| p.obs.name.to_string()).collect();
                for pod in owned {
                    self.begin_pod_deletion(&pod);
                }
            }
        }
    }
}
