//! The built-in simulated cluster: a deterministic, in-memory model of the controllers a
//! StatefulSet scenario involves, on a virtual clock.
//!
//! Modelled: the StatefulSet controller ([`statefulset`]), a kubelet (scheduling once claims
//! are Bound, container start, readiness, graceful termination, missing Secrets), the
//! PersistentVolume binder (dynamic provisioning through the default class `standard`, static
//! volumes matched by class and size, `ProvisioningFailed` for a class that does not exist),
//! the garbage collector (a deleted StatefulSet's pods; claims under a Delete retention policy),
//! the Deployment/ReplicaSet controllers (hash-suffixed names), Service cluster IPs, CoreDNS-style
//! records with the pod's search path, and per-volume files.
//!
//! The sim is a test double and a demo: a pass on it says nothing about a real cluster.

mod faults;
mod state;
mod statefulset;

use std::{
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque},
    sync::Arc,
};

use k8s_openapi::api::core::v1::PodSpec;
use serde_json::Value;

use self::statefulset::SimSet;
pub use self::{
    faults::{Fault, UpgradeFault},
    state::SimWorld,
};
use crate::{
    cluster::{Cluster, ClusterError, ExecCommand, HttpAnswer},
    manifest::Object,
    timeline::{
        Change, ClaimObs, Event, HttpResponse, KubeEventObs, PodObs, PodSpecObs, ServiceObs, TEMPLATE_HASH_LABEL, VolumeObs,
    },
};

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
    Kubelet(String, String),
    Remove(String, String),
    BindClaim(String),
    CollectSet(String),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SimPod {
    obs: PodObs,
    spec: PodSpec,
    grace_ms: u64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct SimDeployment {
    replicas: u32,
    replica_set: String,
    hash: String,
    template: k8s_openapi::api::core::v1::PodTemplateSpec,
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

    /// A node-by-node upgrade: every pod is drained (deleted) and comes back through its
    /// controller, one at a time, each Ready before the next; volumes are untouched — unless
    /// `faults` say otherwise.
    pub fn upgrade_nodes(&mut self, faults: &[UpgradeFault]) {
        let renamed = faults.contains(&UpgradeFault::PodRenamed);
        let names: Vec<String> = self.pods.keys().cloned().collect();
        for (i, name) in names.iter().enumerate() {
            let Some(pod) = self.pods.get(name).map(|p| p.obs.clone()) else { continue };
            if faults.contains(&UpgradeFault::VolumeLost) {
                for claim in pod.spec.claims.values() {
                    if let Some(volume) = self.claims.get(claim).and_then(|c| c.volume.clone()) {
                        self.files.remove(&format!("volume/{volume}"));
                    }
                }
            }
            if renamed && i == 0 {
                // The first drained pod comes back under another name.
                self.faults.insert(Fault::RecreatedRenamed);
                self.user_deleted.insert(name.clone());
            }
            self.begin_pod_deletion(name);
            let until = self.clock + 60_000;
            self.run_until(until);
            self.faults.remove(&Fault::RecreatedRenamed);
            if faults.contains(&UpgradeFault::DnsStale)
                && let (Some(host), Some(ip)) = (pod.spec.hostname.clone(), pod.ip.clone())
            {
                self.stale_dns.entry(host).or_insert_with(|| ip.to_string());
            }
        }
        if faults.contains(&UpgradeFault::ClaimRebound) {
            let claims: Vec<String> = self.claims.keys().cloned().collect();
            for name in claims {
                let Some(mut claim) = self.claims.get(&name).cloned() else { continue };
                let class = claim.storage_class.clone().unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into());
                let fresh = ClaimObs { uid: format!("{}-rebound", claim.uid), ..claim.clone() };
                let volume = self.provision(&fresh, &class);
                claim.volume = Some(volume);
                self.claims.insert(name, claim);
            }
        }
        self.outbox.clear();
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

    fn add_pod(&mut self, mut obs: PodObs, spec: PodSpec, grace_seconds: Option<i64>) {
        let facts = Arc::make_mut(&mut obs.spec);
        facts.images = spec.containers.iter().filter_map(|c| c.image.clone()).collect();
        facts.secret_refs = crate::scenario::secret_refs(&spec).into_iter().map(|(s, k)| format!("{s}/{k}")).collect();
        // The sim shortens grace periods: what matters is that termination takes time.
        let grace_ms = grace_seconds.map_or(delay::TERMINATION, |s| u64::try_from(s).unwrap_or(0).min(1) * delay::TERMINATION);
        let name = obs.name.to_string();
        let uid = obs.uid.to_string();
        self.pods.insert(name.clone(), SimPod { obs: obs.clone(), spec, grace_ms });
        self.emit(Event::Pod { change: Change::Added, pod: obs.into() });
        self.schedule(delay::SCHEDULE, Task::Kubelet(name, uid));
    }

    fn update_pod(&mut self, name: &str, f: impl FnOnce(&mut PodObs)) {
        let Some(pod) = self.pods.get_mut(name) else { return };
        let before = pod.obs.clone();
        f(&mut pod.obs);
        if pod.obs != before {
            let obs = pod.obs.clone();
            self.emit(Event::Pod { change: Change::Modified, pod: obs.clone().into() });
            self.pod_changed(&obs);
        }
    }

    /// Controllers watching pods react to a change of one of theirs.
    fn pod_changed(&mut self, pod: &PodObs) {
        match pod.spec.owner.as_deref().and_then(|o| o.split_once('/')) {
            Some(("StatefulSet", set)) => self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned())),
            Some(("ReplicaSet", rs)) => {
                if let Some(d) = self.deployments.iter().find(|(_, d)| d.replica_set == rs).map(|(n, _)| n.clone()) {
                    self.schedule(delay::CONTROLLER, Task::ReconcileDeployment(d));
                }
            }
            _ => {}
        }
    }

    fn begin_pod_deletion(&mut self, name: &str) {
        let Some(pod) = self.pods.get(name) else { return };
        if pod.obs.terminating {
            return;
        }
        let (uid, grace) = (pod.obs.uid.to_string(), pod.grace_ms);
        self.update_pod(name, |p| {
            p.terminating = true;
            p.ready = false;
        });
        self.schedule(grace, Task::Remove(name.to_owned(), uid));
    }

    /// The kubelet's next move for a pod.
    fn kubelet(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| &*p.obs.uid == uid && !p.obs.terminating).cloned() else { return };
        let obs = &pod.obs;
        if obs.node.is_none() {
            let bound = obs.spec.claims.values().all(|c| self.claims.get(c).is_some_and(|c| c.phase == "Bound"));
            if bound {
                self.update_pod(name, |p| {
                    p.node = Some("sim-node-1".into());
                    p.waiting = Some("ContainerCreating".into());
                });
                self.schedule(delay::CONTAINER_START, Task::Kubelet(name.to_owned(), uid.to_owned()));
            }
            return;
        }
        if obs.phase == "Pending" {
            let missing = obs.spec.secret_refs.iter().any(|r| {
                let (secret, key) = r.split_once('/').unwrap_or((r, ""));
                !self.secrets.get(secret).is_some_and(|keys| keys.iter().any(|k| k == key))
            });
            if missing {
                self.update_pod(name, |p| p.waiting = Some("CreateContainerConfigError".into()));
                self.schedule(delay::RETRY, Task::Kubelet(name.to_owned(), uid.to_owned()));
                return;
            }
            self.counter += 1;
            let ip = format!("10.244.{}.{}", self.counter / 250, self.counter % 250 + 2);
            self.update_pod(name, |p| {
                p.phase = "Running".into();
                p.waiting = None;
                p.ip = Some(ip.into());
            });
            self.schedule(delay::READINESS, Task::Kubelet(name.to_owned(), uid.to_owned()));
        } else if obs.phase == "Running" && !obs.ready {
            self.update_pod(name, |p| p.ready = true);
        }
    }

    fn remove_pod(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| p.obs.uid == uid.into()).cloned() else { return };
        self.pods.remove(name);
        self.files.remove(&format!("pod/{uid}"));
        self.emit(Event::Pod { change: Change::Deleted, pod: pod.obs.clone().into() });
        // Retention: claims of a pod removed by scale-down go under whenScaled: Delete,
        // all claims of a deleted set under whenDeleted: Delete.
        if let Some(set_name) = pod.obs.spec.owner.as_deref().and_then(|o| o.strip_prefix("StatefulSet/")) {
            let ordinal = statefulset::pod_ordinal(&pod.obs, set_name).unwrap_or(0);
            let (scaled_away, kept) = match self.sets.get(set_name) {
                Some(set) => (ordinal >= set.replicas(), ordinal < set.replicas()),
                None => (false, false),
            };
            let scaled_delete = self.sets.get(set_name).is_some_and(statefulset::SimSet::when_scaled_delete);
            let delete_claims = (scaled_away && (scaled_delete || self.has(Fault::ClaimsDeletedOnScaleDown)))
                || (kept && self.has(Fault::FreshClaimOnRecreate));
            if delete_claims {
                for claim in pod.obs.spec.claims.values() {
                    self.delete_claim(claim);
                }
            }
            if kept && self.has(Fault::DataLostOnRecreate) {
                let volumes: Vec<String> =
                    pod.obs.spec.claims.values().filter_map(|c| self.claims.get(c).and_then(|c| c.volume.clone())).collect();
                for volume in volumes {
                    self.files.remove(&format!("volume/{volume}"));
                }
            }
        }
        self.pod_changed(&pod.obs);
    }

    fn delete_claim(&mut self, name: &str) {
        let Some(claim) = self.claims.remove(name) else { return };
        self.emit(Event::Claim { change: Change::Deleted, claim: Box::new(claim.clone()) });
        if let Some(volume) = &claim.volume
            && let Some((obs, dynamic)) = self.volumes.get(volume).cloned()
        {
            if dynamic {
                self.volumes.remove(volume);
                self.emit(Event::Volume { change: Change::Deleted, volume: Box::new(obs) });
            } else {
                let released = VolumeObs { phase: "Released".into(), ..obs };
                self.volumes.insert(volume.clone(), (released.clone(), false));
                self.emit(Event::Volume { change: Change::Modified, volume: Box::new(released) });
            }
        }
    }

    /// Creates a volume for `claim` of class `class` (dynamic provisioning); returns its name.
    fn provision(&mut self, claim: &ClaimObs, class: &str) -> String {
        let name = format!("pvc-{}", claim.uid);
        let obs = VolumeObs {
            name: name.clone(),
            phase: "Bound".into(),
            storage_class: Some(class.to_owned()),
            capacity: claim.request.clone(),
            claim: None,
        };
        self.volumes.insert(name.clone(), (obs, true));
        name
    }

    /// The PersistentVolume binder for one claim.
    fn bind_claim(&mut self, name: &str) {
        let Some(claim) = self.claims.get(name).cloned() else { return };
        if claim.phase == "Bound" {
            return;
        }
        let class = claim.storage_class.clone().unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into());
        let request = claim.request.as_deref().map_or(0, quantity_bytes);
        let static_match = || {
            self.volumes
                .values()
                .filter(|(v, _)| v.phase == "Available" && v.storage_class.as_deref() == Some(class.as_str()))
                .filter(|(v, _)| v.capacity.as_deref().map_or(0, quantity_bytes) >= request)
                .map(|(v, _)| v.name.clone())
                .next()
        };
        let volume_name = if class == DEFAULT_STORAGE_CLASS {
            Some(self.provision(&claim, &class))
        } else {
            match static_match() {
                None if self.has(Fault::StaticShortageBindsAnyway) => Some(self.provision(&claim, &class)),
                found => found,
            }
        };
        let Some(volume_name) = volume_name else {
            if self.warned.insert(name.to_owned()) {
                self.emit(Event::from(KubeEventObs {
                    kind: "Warning".into(),
                    reason: "ProvisioningFailed".into(),
                    object: format!("PersistentVolumeClaim/{name}"),
                    message: format!("storageclass.storage.k8s.io \"{class}\" not found"),
                }));
            }
            self.schedule(delay::RETRY, Task::BindClaim(name.to_owned()));
            return;
        };
        let namespace = self.namespace.clone();
        if let Some((volume, dynamic)) = self.volumes.get(&volume_name).cloned() {
            let volume = VolumeObs { phase: "Bound".into(), claim: Some(format!("{namespace}/{name}")), ..volume };
            let change = if dynamic { Change::Added } else { Change::Modified };
            self.volumes.insert(volume_name.clone(), (volume.clone(), dynamic));
            self.emit(Event::Volume { change, volume: Box::new(volume) });
        }
        let bound = ClaimObs { phase: "Bound".into(), volume: Some(volume_name), ..claim };
        self.claims.insert(name.to_owned(), bound.clone());
        self.emit(Event::Claim { change: Change::Modified, claim: Box::new(bound) });
        let waiting: Vec<(String, String)> = self
            .pods
            .values()
            .filter(|p| p.obs.spec.claims.values().any(|c| c == name))
            .map(|p| (p.obs.name.to_string(), p.obs.uid.to_string()))
            .collect();
        for (pod, uid) in waiting {
            self.schedule(delay::SCHEDULE, Task::Kubelet(pod, uid));
        }
    }

    fn reconcile_deployment(&mut self, name: &str) {
        let Some(d) = self.deployments.get(name).cloned() else { return };
        let owner = format!("ReplicaSet/{}", d.replica_set);
        let live =
            self.pods.values().filter(|p| p.obs.spec.owner.as_deref() == Some(owner.as_str()) && !p.obs.terminating).count();
        for _ in live..d.replicas as usize {
            let pod_name = format!("{}-{}", d.replica_set, self.random_suffix(5));
            let mut labels = d.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
            labels.insert(TEMPLATE_HASH_LABEL.into(), d.hash.clone());
            let spec = d.template.spec.clone().unwrap_or_default();
            let grace = spec.termination_grace_period_seconds;
            let obs = PodObs {
                name: pod_name.into(),
                uid: self.new_uid().into(),
                spec: Arc::new(PodSpecObs { owner: Some(owner.clone()), labels, ..Default::default() }),
                phase: "Pending".into(),
                ..PodObs::default()
            };
            self.add_pod(obs, spec, grace);
        }
    }

    fn run_task(&mut self, task: Task) {
        match task {
            Task::Reconcile(set) => self.reconcile_set(&set),
            Task::ReconcileDeployment(d) => self.reconcile_deployment(&d),
            Task::Kubelet(pod, uid) => self.kubelet(&pod, &uid),
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

    fn apply_set(&mut self, set: k8s_openapi::api::apps::v1::StatefulSet) -> Result<(), ClusterError> {
        let name = set.metadata.name.clone().unwrap_or_default();
        match self.sets.get_mut(&name) {
            Some(existing) => {
                let old = existing.obj.spec.clone().unwrap_or_default();
                let new = set.spec.clone().unwrap_or_default();
                forbid_immutable(&name, &old, &new)?;
                if old != new {
                    // As the API server does: every change of the spec is a new generation.
                    existing.obj.metadata.generation = Some(existing.obj.metadata.generation.unwrap_or(1) + 1);
                }
                // The new template becomes the update revision when the controller observes it.
                existing.obj.spec = Some(new);
            }
            None => {
                let uid = self.new_uid();
                let sim = SimSet::new(set, uid);
                self.emit(Event::StatefulSet { change: Change::Added, set: Box::new(sim.obs.clone()) });
                self.sets.insert(name.clone(), sim);
            }
        }
        self.update_set_status(&name);
        self.schedule(delay::CONTROLLER, Task::Reconcile(name));
        Ok(())
    }

    fn storage_key(&self, pod: &SimPod, path: &str) -> String {
        let mounts = pod.spec.containers.first().and_then(|c| c.volume_mounts.clone()).unwrap_or_default();
        let mount = mounts
            .iter()
            .filter(|m| path == m.mount_path || path.starts_with(&format!("{}/", m.mount_path.trim_end_matches('/'))))
            .max_by_key(|m| m.mount_path.len());
        match mount {
            Some(m) => match pod.obs.spec.claims.get(&m.name).and_then(|c| self.claims.get(c)).and_then(|c| c.volume.clone()) {
                Some(volume) => format!("volume/{volume}"),
                None => format!("pod/{}/{}", pod.obs.uid, m.name),
            },
            None => format!("pod/{}", pod.obs.uid),
        }
    }

    fn running_pod(&self, name: &str) -> Result<&SimPod, String> {
        match self.pods.get(name) {
            Some(p) if p.obs.phase == "Running" && !p.obs.terminating => Ok(p),
            Some(p) => Err(format!("pod {name} is not running (phase {}, terminating {})", p.obs.phase, p.obs.terminating)),
            None => Err(format!("pods \"{name}\" not found")),
        }
    }

    fn read_file(&self, pod: &SimPod, path: &str) -> Option<String> {
        self.files.get(&self.storage_key(pod, path)).and_then(|f| f.get(path)).cloned()
    }

    /// CoreDNS-style records of the namespace: name → addresses.
    fn dns_records(&self) -> BTreeMap<String, Vec<String>> {
        let suffix = format!("{}.svc.{}", self.namespace, self.cluster_domain);
        let mut records: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for service in self.services.values() {
            let selected: Vec<&PodObs> = self
                .pods
                .values()
                .map(|p| &p.obs)
                .filter(|p| !service.selector.is_empty() && service.selector.iter().all(|(k, v)| p.spec.labels.get(k) == Some(v)))
                .filter(|p| p.running_and_ready())
                .collect();
            let name = format!("{}.{suffix}", service.name);
            if service.is_headless() {
                let mut addresses: Vec<String> = selected.iter().filter_map(|p| p.ip.as_deref().map(str::to_owned)).collect();
                if self.has(Fault::ServiceRecordMissingPod) && addresses.len() > 1 {
                    addresses.pop();
                }
                records.insert(name.clone(), addresses);
                let members: Vec<(&String, &str)> = selected
                    .iter()
                    .filter(|p| p.spec.subdomain.as_deref() == Some(service.name.as_str()))
                    .filter_map(|p| Some((p.spec.hostname.as_ref()?, p.ip.as_deref()?)))
                    .collect();
                for (i, (host, ip)) in members.iter().enumerate() {
                    let ip = if self.has(Fault::DnsRecordWrongIp) && members.len() > 1 {
                        members[(i + 1) % members.len()].1
                    } else {
                        ip
                    };
                    if self.has(Fault::DnsPodRecordMissing) && i + 1 == members.len() {
                        continue;
                    }
                    let ip = self.stale_dns.get(host.as_str()).map_or(ip, String::as_str);
                    records.insert(format!("{host}.{name}"), vec![ip.to_owned()]);
                }
            } else if let Some(ip) = &service.cluster_ip {
                records.insert(name, vec![ip.clone()]);
            }
        }
        records
    }

    fn lookup(&self, name: &str) -> Result<Vec<String>, String> {
        let records = self.dns_records();
        let candidates: Vec<String> = if let Some(absolute) = name.strip_suffix('.') {
            vec![absolute.to_owned()]
        } else {
            // A pod's resolv.conf: search <ns>.svc.<domain> svc.<domain> <domain>, ndots:5.
            let search = [
                format!("{}.svc.{}", self.namespace, self.cluster_domain),
                format!("svc.{}", self.cluster_domain),
                self.cluster_domain.clone(),
            ];
            let mut c: Vec<String> = search.iter().map(|s| format!("{name}.{s}")).collect();
            c.push(name.to_owned());
            c
        };
        candidates
            .iter()
            .find_map(|c| records.get(c).filter(|a| !a.is_empty()).cloned())
            .map(|mut a| {
                a.sort();
                a
            })
            .ok_or_else(|| format!("NXDOMAIN: can't resolve '{name}'"))
    }

    /// What a container image serves, in the sim's stand-in for real images: nginx serves its
    /// document root on 80; go-myweb answers on 8080 with the hostname; other images serve a
    /// page naming the pod on their declared container ports.
    fn serve(&self, pod: &SimPod, port: u16, path: &str) -> Result<HttpResponse, String> {
        for container in &pod.spec.containers {
            let image = container.image.as_deref().unwrap_or("");
            let declared: Vec<u16> =
                container.ports.iter().flatten().filter_map(|p| u16::try_from(p.container_port).ok()).collect();
            let host = pod.obs.spec.hostname.clone().unwrap_or_else(|| pod.obs.name.to_string());
            if image.contains("nginx") && port == 80 {
                let file = if path.ends_with('/') {
                    format!("/usr/share/nginx/html{path}index.html")
                } else {
                    format!("/usr/share/nginx/html{path}")
                };
                let body = self.read_file(pod, &file).unwrap_or_else(|| {
                    "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n</body>\n</html>\n".into()
                });
                return Ok(HttpResponse { status: 200, body });
            }
            if image.contains("go-myweb") && port == 8080 {
                return Ok(HttpResponse { status: 200, body: format!("Hello World!\n{host}\n") });
            }
            if declared.contains(&port) {
                return Ok(HttpResponse { status: 200, body: format!("served by {host}\n") });
            }
        }
        Err(format!("connect to {}:{port} failed: Connection refused", pod.obs.ip.as_deref().unwrap_or("?")))
    }
}

/// Fields of a StatefulSet spec the API server lets an update change.
fn forbid_immutable(
    name: &str,
    old: &k8s_openapi::api::apps::v1::StatefulSetSpec,
    new: &k8s_openapi::api::apps::v1::StatefulSetSpec,
) -> Result<(), ClusterError> {
    let mut a = old.clone();
    let mut b = new.clone();
    for spec in [&mut a, &mut b] {
        spec.replicas = None;
        spec.template = Default::default();
        spec.update_strategy = None;
        spec.persistent_volume_claim_retention_policy = None;
        spec.min_ready_seconds = None;
        spec.ordinals = None;
    }
    if a != b {
        return Err(ClusterError::Refused(format!(
            "StatefulSet.apps \"{name}\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than \
             'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        )));
    }
    Ok(())
}

/// Bytes of a quantity like `1Gi`, `100Mi`, `20M`, `1024` (0 when unreadable).
fn quantity_bytes(q: &str) -> u64 {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(q.len());
    let (number, unit) = q.split_at(split);
    let n: f64 = number.parse().unwrap_or(0.0);
    let factor: f64 = match unit {
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => 1.0,
    };
    (n * factor) as u64
}

impl Cluster for SimCluster {
    fn now_ms(&self) -> u64 {
        self.clock
    }

    async fn create_namespace(&mut self, namespace: &str, _labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        self.namespace = namespace.to_owned();
        Ok(())
    }

    async fn attach_namespace(&mut self, namespace: &str, _labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        if self.namespace != namespace {
            return Err(ClusterError::Refused(format!("namespaces \"{namespace}\" not found in the simulated cluster's state")));
        }
        self.relist();
        Ok(())
    }

    async fn read_config_map(&mut self, name: &str) -> Result<Option<BTreeMap<String, String>>, ClusterError> {
        Ok(self.config_maps.get(name).cloned())
    }

    async fn apply(&mut self, object: &Object) -> Result<(), ClusterError> {
        match object.clone() {
            Object::StatefulSet(set) => self.apply_set(set)?,
            Object::Service(service) => {
                let name = object.name().to_owned();
                let spec = service.spec.unwrap_or_default();
                let cluster_ip = match spec.cluster_ip.as_deref() {
                    Some("None") if !self.has(Fault::HeadlessGetsClusterIp) => Some("None".to_owned()),
                    _ => match self.services.get(&name) {
                        Some(existing) => existing.cluster_ip.clone(),
                        None => {
                            self.counter += 1;
                            Some(format!("10.96.{}.{}", self.counter / 250, self.counter % 250 + 1))
                        }
                    },
                };
                let obs = ServiceObs { name: name.clone(), cluster_ip, selector: spec.selector.unwrap_or_default() };
                let change = if self.services.contains_key(&name) { Change::Modified } else { Change::Added };
                self.service_ports
                    .insert(name.clone(), spec.ports.iter().flatten().filter_map(|p| u16::try_from(p.port).ok()).collect());
                self.services.insert(name, obs.clone());
                self.emit(Event::Service { change, service: Box::new(obs) });
            }
            Object::Secret(secret) => {
                let keys: Vec<String> = secret
                    .data
                    .iter()
                    .flat_map(|d| d.keys())
                    .chain(secret.string_data.iter().flat_map(|d| d.keys()))
                    .cloned()
                    .collect();
                let name = object.name().to_owned();
                let change = if self.secrets.contains_key(&name) { Change::Modified } else { Change::Added };
                self.secrets.insert(name.clone(), keys.clone());
                self.emit(Event::Secret { change, name, keys });
            }
            Object::PersistentVolume(pv) => {
                let spec = pv.spec.unwrap_or_default();
                let obs = VolumeObs {
                    name: object.name().to_owned(),
                    phase: "Available".into(),
                    storage_class: spec.storage_class_name,
                    capacity: spec.capacity.and_then(|c| c.get("storage").map(|q| q.0.clone())),
                    claim: None,
                };
                self.volumes.insert(obs.name.clone(), (obs.clone(), false));
                self.emit(Event::Volume { change: Change::Added, volume: Box::new(obs) });
            }
            Object::Pod(pod) => {
                let name = object.name().to_owned();
                if self.pods.contains_key(&name) {
                    return Err(ClusterError::Refused(format!("pods \"{name}\" already exists and pods are immutable")));
                }
                let spec = pod.spec.unwrap_or_default();
                let obs = PodObs {
                    name: name.into(),
                    uid: self.new_uid().into(),
                    phase: "Pending".into(),
                    spec: Arc::new(PodSpecObs { labels: pod.metadata.labels.unwrap_or_default(), ..Default::default() }),
                    ..PodObs::default()
                };
                let grace = spec.termination_grace_period_seconds;
                self.add_pod(obs, spec, grace);
            }
            Object::Deployment(d) => {
                let name = object.name().to_owned();
                let spec = d.spec.unwrap_or_default();
                let template = spec.template.clone();
                let json = serde_json::to_string(&template).unwrap_or_default();
                let mut hash: u32 = 2_166_136_261;
                for b in json.bytes() {
                    hash ^= u32::from(b);
                    hash = hash.wrapping_mul(16_777_619);
                }
                const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
                let mut h = u64::from(hash);
                let hash: String = (0..10)
                    .map(|_| {
                        let c = ALPHABET[(h % 27) as usize] as char;
                        h = h / 27 + 7;
                        c
                    })
                    .collect();
                let replicas = spec.replicas.map_or(1, |r| u32::try_from(r).unwrap_or(0));
                self.deployments
                    .insert(name.clone(), SimDeployment { replicas, replica_set: format!("{name}-{hash}"), hash, template });
                self.schedule(delay::CONTROLLER, Task::ReconcileDeployment(name));
            }
            Object::PersistentVolumeClaim(c) => {
                let spec = c.spec.unwrap_or_default();
                let obs = ClaimObs {
                    name: object.name().to_owned(),
                    uid: self.new_uid(),
                    phase: "Pending".into(),
                    storage_class: spec.storage_class_name.or_else(|| Some(DEFAULT_STORAGE_CLASS.into())),
                    request: spec.resources.and_then(|r| r.requests).and_then(|r| r.get("storage").map(|q| q.0.clone())),
                    ..ClaimObs::default()
                };
                self.claims.insert(obs.name.clone(), obs.clone());
                self.emit(Event::Claim { change: Change::Added, claim: Box::new(obs.clone()) });
                self.schedule(delay::SCHEDULE, Task::BindClaim(obs.name));
            }
            Object::ConfigMap(map) => {
                self.config_maps.insert(object.name().to_owned(), map.data.unwrap_or_default());
            }
            Object::DaemonSet(_) | Object::Job(_) | Object::CronJob(_) => {
                return Err(ClusterError::Refused(format!("the simulated cluster does not run {} objects", object.kind())));
            }
        }
        Ok(())
    }

    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), ClusterError> {
        let sim = self.sets.get(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        if self.has(Fault::ScalePastUnready) && replicas > sim.replicas() {
            // A readiness probe of pod 0 fails for a while (legitimate); the fault is that the
            // controller goes on scaling.
            let first = format!("{set}-0");
            if let Some(uid) = self.pods.get(&first).map(|p| p.obs.uid.to_string()) {
                self.update_pod(&first, |p| p.ready = false);
                self.schedule(5 * delay::READINESS, Task::Kubelet(first, uid));
            }
        }
        let sim =
            self.sets.get_mut(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        if let Some(spec) = sim.obj.spec.as_mut() {
            let wanted = Some(i32::try_from(replicas).unwrap_or(i32::MAX));
            if spec.replicas != wanted {
                spec.replicas = wanted;
                sim.obj.metadata.generation = Some(sim.obj.metadata.generation.unwrap_or(1) + 1);
            }
        }
        self.update_set_status(set);
        self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned()));
        Ok(())
    }

    async fn set_image(&mut self, set: &str, container: &str, image: &str) -> Result<(), ClusterError> {
        let sim =
            self.sets.get_mut(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        let spec = sim.obj.spec.as_mut().and_then(|s| s.template.spec.as_mut());
        let target = spec.and_then(|s| s.containers.iter_mut().find(|c| c.name == container));
        let Some(target) = target else {
            return Err(ClusterError::Refused(format!("unable to find container named \"{container}\" in {set}")));
        };
        if target.image.as_deref() != Some(image) {
            target.image = Some(image.to_owned());
            sim.obj.metadata.generation = Some(sim.obj.metadata.generation.unwrap_or(1) + 1);
        }
        self.update_set_status(set);
        self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned()));
        Ok(())
    }

    async fn patch_statefulset(&mut self, set: &str, merge: &Value) -> Result<Option<i64>, ClusterError> {
        let sim = self.sets.get(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        let mut json = serde_json::to_value(&sim.obj).map_err(|e| ClusterError::Refused(e.to_string()))?;
        json["apiVersion"] = "apps/v1".into();
        json["kind"] = "StatefulSet".into();
        crate::scenario::merge_patch(&mut json, merge);
        let patched: k8s_openapi::api::apps::v1::StatefulSet = serde_json::from_value(json)
            .map_err(|e| ClusterError::Refused(format!("the patch does not fit a StatefulSet: {e}")))?;
        self.apply_set(patched)?;
        Ok(self.sets.get(set).and_then(|s| s.obj.metadata.generation))
    }

    async fn delete_pod(&mut self, pod: &str) -> Result<(), ClusterError> {
        if !self.pods.contains_key(pod) {
            return Err(ClusterError::Refused(format!("pods \"{pod}\" not found")));
        }
        self.user_deleted.insert(pod.to_owned());
        self.begin_pod_deletion(pod);
        Ok(())
    }

    async fn delete_statefulset(&mut self, set: &str) -> Result<(), ClusterError> {
        let sim = self.sets.remove(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        self.emit(Event::StatefulSet { change: Change::Deleted, set: Box::new(sim.obs.clone()) });
        if sim.when_deleted_delete() {
            let prefixes: Vec<String> = sim.obs.claim_templates.iter().map(|t| format!("{t}-{set}-")).collect();
            let claims: Vec<String> =
                self.claims.keys().filter(|c| prefixes.iter().any(|p| c.starts_with(p.as_str()))).cloned().collect();
            for claim in claims {
                self.delete_claim(&claim);
            }
        }
        self.schedule(delay::GC, Task::CollectSet(set.to_owned()));
        Ok(())
    }

    async fn exec(&mut self, pod: &str, command: &ExecCommand) -> Result<String, String> {
        let target = self.running_pod(pod)?.clone();
        match command {
            ExecCommand::Hostname if self.has(Fault::HostnameIsNodeName) => {
                Ok(target.obs.node.as_deref().unwrap_or("sim-node-1").to_owned())
            }
            ExecCommand::Hostname => Ok(target.obs.spec.hostname.clone().unwrap_or_else(|| target.obs.name.to_string())),
            ExecCommand::Write { path, content } => {
                let key = self.storage_key(&target, path);
                self.files.entry(key).or_default().insert(path.clone(), format!("{content}\n"));
                Ok(String::new())
            }
            ExecCommand::Read { path } => {
                self.read_file(&target, path).ok_or_else(|| format!("cat: can't open '{path}': No such file or directory"))
            }
        }
    }

    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, String> {
        self.lookup(name)
    }

    async fn http_get(&mut self, from: Option<&str>, url: &str) -> HttpAnswer {
        if let Some(from) = from
            && let Err(e) = self.running_pod(from)
        {
            return HttpAnswer { address: None, response: Err(e) };
        }
        let Some((host, port, path)) = crate::cluster::parse_http_url(url) else {
            return HttpAnswer { address: None, response: Err(format!("malformed URL {url}")) };
        };
        let address = if host.parse::<std::net::IpAddr>().is_ok() {
            host
        } else {
            match self.lookup(&host) {
                Ok(addresses) => addresses[0].clone(),
                Err(e) => return HttpAnswer { address: None, response: Err(e) },
            }
        };
        let server = self
            .pods
            .values()
            .find(|p| p.obs.ip.as_deref() == Some(address.as_str()) && p.obs.phase == "Running" && !p.obs.terminating);
        let response = match server {
            Some(pod) => self.serve(pod, port, &path),
            None => Err(format!("connect to {address}:{port} failed: No route to host")),
        };
        HttpAnswer { address: Some(address), response }
    }

    async fn next_observation(&mut self, deadline_ms: u64) -> Option<(u64, Event)> {
        loop {
            if let Some(observed) = self.outbox.pop_front() {
                return Some(observed);
            }
            match self.queue.peek() {
                Some(Reverse((at, _, _))) if *at <= deadline_ms => {
                    let Reverse((at, _, task)) = self.queue.pop()?;
                    self.clock = self.clock.max(at);
                    self.run_task(task);
                }
                _ => {
                    self.clock = self.clock.max(deadline_ms);
                    return None;
                }
            }
        }
    }

    async fn diagnostics(&mut self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("namespace {} on the simulated cluster (virtual time {} ms)\n", self.namespace, self.clock);
        if !self.faults.is_empty() {
            let faults: Vec<&str> = self.faults.iter().map(|f| f.name()).collect();
            let _ = writeln!(out, "injected faults: {}", faults.join(", "));
        }
        let _ = writeln!(out, "\nwarning events:");
        for name in &self.warned {
            let _ = writeln!(out, "  PersistentVolumeClaim/{name}: ProvisioningFailed");
        }
        let _ = writeln!(out, "\npods:");
        for pod in self.pods.values() {
            let _ = writeln!(out, "  {}", pod.obs);
        }
        let _ = writeln!(out, "  (the simulated cluster runs no containers, so there are no container logs)");
        let _ = writeln!(out, "\nclaims:");
        for c in self.claims.values() {
            let _ = writeln!(out, "  {}", c);
        }
        let _ = writeln!(out, "\nvolumes:");
        for (v, dynamic) in self.volumes.values() {
            let _ = writeln!(out, "  {} dynamic={dynamic}", v);
        }
        let _ = writeln!(out, "\nstatefulsets:");
        for set in self.sets.values() {
            let _ = writeln!(out, "  {:?}", set.obs);
        }
        out
    }

    async fn cleanup(&mut self) -> Result<(), ClusterError> {
        if self.keep {
            return Ok(());
        }
        self.volumes.clear();
        self.sets.clear();
        self.pods.clear();
        self.claims.clear();
        self.services.clear();
        self.secrets.clear();
        self.deployments.clear();
        self.queue.clear();
        self.outbox.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(quantity_bytes("1Gi"), 1 << 30);
        assert_eq!(quantity_bytes("100Mi"), 100 << 20);
        assert!(quantity_bytes("100Mi") >= quantity_bytes("20Mi"));
        assert_eq!(quantity_bytes("junk"), 0);
    }

    #[test]
    fn urls() {
        assert_eq!(crate::cluster::parse_http_url("http://web-0.nginx:8080/x"), Some(("web-0.nginx".into(), 8080, "/x".into())));
        assert_eq!(crate::cluster::parse_http_url("http://10.0.0.1"), Some(("10.0.0.1".into(), 80, "/".into())));
        assert_eq!(crate::cluster::parse_http_url("ftp://x"), None);
    }
}
