//! The recorded history of one scenario run: every observation, in arrival order.
//!
//! A StatefulSet's guarantees are about order in time, so the harness keeps the whole history
//! and the checks judge it afterwards. Entries are appended in the order the observer received
//! them (one watch per resource type delivers in resourceVersion order); `seq` is that order.
//! Times are milliseconds since the run started and are informational only: no check orders
//! anything by time, because Kubernetes timestamps have one-second resolution.
//!
//! [`View`] replays entries into the state of the namespace at any point of the history.

mod jobs;
mod nodes;

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

pub use self::jobs::{CronJobObs, JobObs, SCHEDULED_ANNOTATION};
pub use self::nodes::{
    DaemonSetObs, Decision, NodeObs, Placement, RequirementObs, TaintObs, TermObs, TolerationObs, target_node, tolerates,
};

/// The version of the timeline file format (`timeline.jsonl`), written in its header line.
///
/// Version 2 added [`Event::GapEnd`]; version 1 files are still read (their gaps never end, so
/// every later order check is inconclusive — never wrongly decided). Version 3 added
/// [`Event::Node`], [`Event::DaemonSet`] and [`Event::Job`]; version 4 [`Event::CronJob`] and
/// the Job fields that tie a Job to its CronJob, and [`Event::Refused`]; version 5 each step's
/// duration in the header (`elapsedMs`), so that a step that waited or settled with nothing
/// happening is judged to its end, as in the run (older files: to their last entry), and the
/// StatefulSet's `startOrdinal`; version 6 the StatefulSet's `currentReplicas`,
/// `availableReplicas`, `revisionHistoryLimit` and template digest, and each claim's owners
/// (older files: not judged where a check needs them); version 7 the StatefulSet's
/// `resourceVersion`, labels, selector, `status.replicas` and condition types, and
/// [`ProbeObs::Api`].
pub const FORMAT_VERSION: u32 = 7;

/// Label the StatefulSet controller puts on each of its pods with the pod's own name.
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// Label the StatefulSet controller puts on each of its pods with the pod's ordinal (since
/// Kubernetes 1.28; older clusters leave it out).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";
/// Label the StatefulSet controller puts on each pod with the revision it was created from.
pub const REVISION_LABEL: &str = "controller-revision-hash";
/// Label the Deployment controller puts on each pod with its ReplicaSet's template hash.
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// One observation, numbered in arrival order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Position in the history, from 0, without holes.
    pub seq: usize,
    /// Milliseconds since the run started (virtual time on the simulated cluster).
    pub at_ms: u64,
    /// What was observed.
    pub event: Event,
}

/// How a watched object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// First seen (watch `ADDED`, or present in the initial list).
    Added,
    /// Changed (watch `MODIFIED`).
    Modified,
    /// Gone from the API (watch `DELETED`).
    Deleted,
}

/// Everything a timeline can hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// A scenario step begins; the entries up to the next marker belong to it.
    Step {
        /// Index of the step in the scenario, from 0.
        index: usize,
        /// What the step does, in words (`scale web to 5`).
        action: String,
    },
    /// A pod changed.
    Pod {
        /// How it changed.
        change: Change,
        /// The pod as observed (shared: views replaying the history hold it without copying).
        pod: Arc<PodObs>,
    },
    /// A PersistentVolumeClaim changed.
    Claim {
        /// How it changed.
        change: Change,
        /// The claim as observed (boxed, as are the other large variants: a history is mostly
        /// pod entries, and an entry is as large as its largest variant).
        claim: Box<ClaimObs>,
    },
    /// A PersistentVolume changed (only the run's own, or those bound to its claims).
    Volume {
        /// How it changed.
        change: Change,
        /// The volume as observed.
        volume: Box<VolumeObs>,
    },
    /// A Service changed.
    Service {
        /// How it changed.
        change: Change,
        /// The service as observed.
        service: Box<ServiceObs>,
    },
    /// A StatefulSet changed (spec fields the checks need, and status).
    StatefulSet {
        /// How it changed.
        change: Change,
        /// The StatefulSet as observed.
        set: Box<SetObs>,
    },
    /// A node changed (its scheduling facts), in a scenario that places pods by node.
    Node {
        /// How it changed.
        change: Change,
        /// The node as observed.
        node: Box<NodeObs>,
    },
    /// A DaemonSet changed (its pods' placement, and status).
    DaemonSet {
        /// How it changed.
        change: Change,
        /// The DaemonSet as observed.
        set: Box<DaemonSetObs>,
    },
    /// A Job changed (its spec's counts, and status).
    Job {
        /// How it changed.
        change: Change,
        /// The Job as observed.
        job: Box<JobObs>,
    },
    /// A CronJob changed (its schedule, policies and status), in a scenario that has one.
    CronJob {
        /// How it changed.
        change: Change,
        /// The CronJob as observed.
        cron: Box<CronJobObs>,
    },
    /// A Secret changed (names of keys only, never values).
    Secret {
        /// How it changed.
        change: Change,
        /// Name of the secret.
        name: String,
        /// Its data keys.
        keys: Vec<String>,
    },
    /// The API server refused to create an object the harness sent (an `apply` meant to be
    /// refused): its answer.
    Refused(Box<RefusalObs>),
    /// A Kubernetes Event object was recorded in the namespace.
    KubeEvent(Box<KubeEventObs>),
    /// The result of something the harness did inside the cluster (exec, DNS, HTTP).
    Probe(Box<ProbeObs>),
    /// From here the watch of `resource` may be missing events (it failed). The span lasts until
    /// the matching [`Event::GapEnd`], or to the end of the history when there is none. Order
    /// checks whose window overlaps a span in which events may really have been lost are
    /// inconclusive.
    Gap {
        /// Which watch failed.
        resource: String,
        /// Why.
        reason: String,
    },
    /// The watch of `resource` is known to be continuous again, closing the open [`Event::Gap`].
    GapEnd {
        /// Which watch.
        resource: String,
        /// `false`: it resumed from the last version it had seen, so the API server replayed
        /// every change in between: nothing was lost, some events only arrived late. `true`: it
        /// had to list again (its version expired), so changes in the span may be lost; what the
        /// list found changed is recorded just before this entry.
        relisted: bool,
    },
}

impl From<ProbeObs> for Event {
    fn from(probe: ProbeObs) -> Self {
        Self::Probe(Box::new(probe))
    }
}

impl From<KubeEventObs> for Event {
    fn from(event: KubeEventObs) -> Self {
        Self::KubeEvent(Box::new(event))
    }
}

impl Event {
    /// The probe this entry records, if it is one.
    #[must_use]
    pub fn probe(&self) -> Option<&ProbeObs> {
        match self {
            Self::Probe(probe) => Some(probe),
            _ => None,
        }
    }

    /// Whether this came from a watch of the cluster (not a step marker, a probe or a gap).
    #[must_use]
    pub fn is_watched(&self) -> bool {
        matches!(
            self,
            Self::Pod { .. }
                | Self::Claim { .. }
                | Self::Volume { .. }
                | Self::Service { .. }
                | Self::StatefulSet { .. }
                | Self::Node { .. }
                | Self::DaemonSet { .. }
                | Self::Job { .. }
                | Self::CronJob { .. }
                | Self::Secret { .. }
                | Self::KubeEvent(_)
        )
    }
}

/// The API server's answer to an object it refused to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalObs {
    /// The object's kind.
    pub kind: String,
    /// The object's name.
    pub name: String,
    /// The API server's reason (`Invalid`).
    pub reason: String,
    /// The API server's message.
    pub message: String,
}

/// A pod phase as [`PodObs::phase`] keeps it: the phases the API defines are not copied.
#[must_use]
pub fn pod_phase(phase: &str) -> std::borrow::Cow<'static, str> {
    match phase {
        "Pending" => "Pending".into(),
        "Running" => "Running".into(),
        "Succeeded" => "Succeeded".into(),
        "Failed" => "Failed".into(),
        "Unknown" => "Unknown".into(),
        other => other.to_owned().into(),
    }
}

/// The facts about a pod that the checks use: its state at one observation and, shared by
/// the observations that agree on them, what its metadata and spec say.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodObs {
    /// Pod name (shared: a pod's every observation and the views that hold it name it once).
    pub name: Arc<str>,
    /// UID: a recreated pod has the same name and a new UID.
    pub uid: Arc<str>,
    /// `status.phase`: Pending, Running, Succeeded, Failed, Unknown (a name the API defines
    /// is not copied for every observation).
    pub phase: std::borrow::Cow<'static, str>,
    /// Condition Ready is True.
    pub ready: bool,
    /// `metadata.deletionTimestamp` is set: the pod is terminating.
    #[serde(default)]
    pub terminating: bool,
    /// Why a container waits (`ContainerCreating`, `CreateContainerConfigError`, …). Shared
    /// (like the address and node): a long history repeats the same few strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Arc<str>>,
    /// Sum of container restarts.
    #[serde(default)]
    pub restarts: u32,
    /// `status.podIP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<Arc<str>>,
    /// `spec.nodeName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Arc<str>>,
    /// What the pod's metadata and spec say (written inline in a timeline file). Shared:
    /// a transcript, which shows none of it, gives every observation the same empty one.
    #[serde(flatten)]
    pub spec: Arc<PodSpecObs>,
}

/// What a pod's metadata and spec say: the part of [`PodObs`] its observations share.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecObs {
    /// Controlling owner as `Kind/name` (`StatefulSet/web`, `ReplicaSet/x-6b4f`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// `spec.hostname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// `spec.subdomain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdomain: Option<String>,
    /// Labels the checks read (pod-name, revision hash, template hash, app labels).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Volume name → claim name, for every persistentVolumeClaim volume.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, String>,
    /// Container images, in container order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Secret keys the containers' environment reads, as `secret/key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_refs: Vec<String>,
    /// The node its controller made it for, before it is bound: the `metadata.name` its
    /// required node affinity names (a DaemonSet's pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_node: Option<String>,
}

impl PodObs {
    /// Phase Running and condition Ready: the documents' "Running and Ready".
    #[must_use]
    pub fn running_and_ready(&self) -> bool {
        self.phase == "Running" && self.ready && !self.terminating
    }

    /// Running, not terminating, and not Ready: a pod whose readiness probe fails.
    #[must_use]
    pub fn running_not_ready(&self) -> bool {
        self.phase == "Running" && !self.ready && !self.terminating
    }

    /// The revision the pod was created from (`controller-revision-hash`), if known.
    #[must_use]
    pub fn revision(&self) -> Option<&str> {
        self.spec.labels.get(REVISION_LABEL).map(String::as_str)
    }

    /// The ordinal of this pod within StatefulSet `set`, when its name is `<set>-<n>`.
    #[must_use]
    pub fn ordinal_in(&self, set: &str) -> Option<u32> {
        ordinal_of(&self.name, set)
    }

    /// The name of the pod's controlling owner when that owner is a `kind` (`Job`, `DaemonSet`).
    #[must_use]
    pub fn owner_of_kind(&self, kind: &str) -> Option<&str> {
        self.spec.owner.as_deref()?.strip_prefix(kind)?.strip_prefix('/')
    }

    /// Whether the pod's controlling owner is the `kind` named `name`.
    #[must_use]
    pub fn owned_by(&self, kind: &str, name: &str) -> bool {
        self.owner_of_kind(kind) == Some(name)
    }

    /// Whether this pod belongs to StatefulSet `set`: by its owner when the owner is known,
    /// else by its name (`<set>-<n>`), as in a `kubectl get pods -w` transcript.
    #[must_use]
    pub fn belongs_to(&self, set: &str) -> bool {
        match &self.spec.owner {
            Some(owner) => owner.strip_prefix("StatefulSet/") == Some(set),
            None => self.ordinal_in(set).is_some(),
        }
    }
}

/// The ordinal in `name` when `name` is `<set>-<n>` with `n` a decimal number without a
/// leading zero (the StatefulSet controller never writes one).
#[must_use]
pub fn ordinal_of(name: &str, set: &str) -> Option<u32> {
    let digits = name.strip_prefix(set)?.strip_prefix('-')?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The controller parses an ordinal as an int32 (`getOrdinal`: `strconv.ParseInt(…, 10, 32)`).
    digits.parse().ok().filter(|o| *o <= i32::MAX as u32)
}

/// The first ordinal in `range` that `pods` lacks or whose pod fails `ok`.
///
/// It walks the pods present, not the range: the cost follows the history, whatever the
/// replica count or ordinal that bounds the range.
pub fn first_ordinal_not<P>(pods: &BTreeMap<u32, P>, range: std::ops::Range<u32>, ok: impl Fn(&P) -> bool) -> Option<u32> {
    if range.is_empty() {
        return None;
    }
    let mut expected = range.start;
    for (ordinal, pod) in pods.range(range.clone()) {
        if *ordinal != expected {
            return Some(expected);
        }
        if !ok(pod) {
            return Some(*ordinal);
        }
        expected += 1;
    }
    (expected < range.end).then_some(expected)
}

/// The facts about a PersistentVolumeClaim that the checks use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimObs {
    /// Claim name.
    pub name: String,
    /// UID: a claim deleted and created again under the same name has a new one.
    pub uid: String,
    /// `status.phase`: Pending, Bound, Lost.
    pub phase: String,
    /// `spec.volumeName` once bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    /// `spec.storageClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `spec.resources.requests.storage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// `metadata.deletionTimestamp` is set.
    #[serde(default)]
    pub terminating: bool,
    /// `metadata.ownerReferences` as `Kind/name`, a controller reference marked `Kind/name*`:
    /// a retention policy of Delete works through them (the garbage collector deletes a claim
    /// whose owners are gone). `None` where the history does not record them (before format 6,
    /// a transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Vec<String>>,
}

impl ClaimObs {
    /// Whether the claim names `kind`/`name` among its owners (controller or not).
    #[must_use]
    pub fn owned_by(&self, kind: &str, name: &str) -> bool {
        self.owners
            .iter()
            .flatten()
            .any(|o| o.trim_end_matches('*').strip_prefix(kind).and_then(|r| r.strip_prefix('/')) == Some(name))
    }

    /// The claim's controller owner (`Kind/name`), if one is marked.
    #[must_use]
    pub fn controller(&self) -> Option<&str> {
        self.owners.iter().flatten().find_map(|o| o.strip_suffix('*'))
    }
}

/// The facts about a PersistentVolume that the checks use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeObs {
    /// Volume name.
    pub name: String,
    /// `status.phase`: Available, Bound, Released, Failed.
    pub phase: String,
    /// `spec.storageClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `spec.capacity.storage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<String>,
    /// `spec.claimRef` as `namespace/name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
}

/// The facts about a Service that the checks use.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceObs {
    /// Service name.
    pub name: String,
    /// `spec.clusterIP` (`None` for a headless service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    /// `spec.selector`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
}

impl ServiceObs {
    /// `clusterIP: None`.
    #[must_use]
    pub fn is_headless(&self) -> bool {
        self.cluster_ip.as_deref() == Some("None")
    }
}

impl SetObs {
    /// Whether the status describes the current spec: the controller has observed its latest
    /// generation (as `kubectl rollout status` requires). A history without generations (the
    /// simulated cluster before version 2, a transcript) is taken as observed.
    #[must_use]
    pub fn status_current(&self) -> bool {
        match self.generation {
            Some(generation) => self.observed_generation.is_some_and(|observed| observed >= generation),
            None => true,
        }
    }
}

/// The facts about a StatefulSet that the checks use: the spec that decides what the
/// controller must do, and the status it reports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetObs {
    /// StatefulSet name.
    pub name: String,
    /// UID: a StatefulSet deleted and created again has a new one.
    pub uid: String,
    /// `metadata.generation`: the API server raises it on every change of the spec, so it tells
    /// whether an observed state already includes a given change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// `status.observedGeneration`: the generation the controller last acted on. Until it
    /// reaches `generation`, the status (revisions, counts) describes an older spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `spec.replicas` (default 1).
    pub replicas: u32,
    /// `spec.serviceName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// `spec.podManagementPolicy`: OrderedReady or Parallel.
    pub pod_management_policy: String,
    /// `spec.updateStrategy.type`: RollingUpdate or OnDelete.
    pub update_strategy: String,
    /// `spec.updateStrategy.rollingUpdate.partition` (default 0): an index into the set's
    /// ordinals, so the first pod it protects from an update is `start_ordinal + partition`.
    #[serde(default)]
    pub partition: u32,
    /// `spec.updateStrategy.rollingUpdate.maxUnavailable` as stored (`2`, `50%`): absent where
    /// the set has none, or the API server dropped it (feature gate MaxUnavailableStatefulSet,
    /// alpha, off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<String>,
    /// `spec.ordinals.start` (default 0): the set's pods are `start..start + replicas`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_ordinal: u32,
    /// `spec.persistentVolumeClaimRetentionPolicy.whenDeleted` (default Retain).
    pub when_deleted: String,
    /// `spec.persistentVolumeClaimRetentionPolicy.whenScaled` (default Retain).
    pub when_scaled: String,
    /// `spec.volumeClaimTemplates[*].metadata.name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claim_templates: Vec<String>,
    /// `status.readyReplicas`.
    #[serde(default)]
    pub ready_replicas: u32,
    /// `status.currentRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_revision: Option<String>,
    /// `status.updateRevision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_revision: Option<String>,
    /// `status.updatedReplicas`.
    #[serde(default)]
    pub updated_replicas: u32,
    /// `status.currentReplicas` (`None` where the history does not record it: older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_replicas: Option<u32>,
    /// `status.availableReplicas` (`None` where the history does not record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_replicas: Option<u32>,
    /// A digest of `spec.template` as stored ([`template_digest`]): two equal digests are the
    /// same template, which the controller must keep as one revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_digest: Option<String>,
    /// `spec.minReadySeconds` (default 0): a Ready pod counts as available, and lets the
    /// controller go on, only once it has been Ready that long.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_ready_seconds: u32,
    /// `spec.revisionHistoryLimit` (`None`: the default, 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_history_limit: Option<u32>,
    /// `metadata.deletionTimestamp` is set.
    #[serde(default)]
    pub terminating: bool,
    /// `metadata.resourceVersion`: the version of the object this observation shows, which an
    /// answer of the API server about the same version must agree with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `status.replicas`: the pods the controller has created (`None` where not recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_replicas: Option<u32>,
    /// The types of `status.conditions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// `spec.selector.matchLabels`, when the selector is only that (`None` where it also has
    /// `matchExpressions`, or the history does not record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<BTreeMap<String, String>>,
}

/// A stable digest of a pod template (FNV-1a over its JSON, whose maps are ordered): the same
/// on every run and platform, so that templates of different observations can be compared.
#[must_use]
pub fn template_digest(template: &k8s_openapi::api::core::v1::PodTemplateSpec) -> String {
    let json = serde_json::to_string(template).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

impl SetObs {
    /// `podManagementPolicy: Parallel`.
    #[must_use]
    pub fn parallel(&self) -> bool {
        self.pod_management_policy == "Parallel"
    }

    /// The ordinals the set keeps: `start..start + replicas` (`spec.ordinals.start`).
    #[must_use]
    pub fn ordinals(&self) -> std::ops::Range<u32> {
        self.start_ordinal..self.start_ordinal.saturating_add(self.replicas)
    }

    /// How many pods a rolling update may have unavailable at once, when the set says
    /// (`getStatefulSetMaxUnavailable`: a percentage of the replicas rounded down, at least 1);
    /// `None` without `maxUnavailable` or with a value the controller could not read.
    #[must_use]
    pub fn max_unavailable_count(&self) -> Option<u32> {
        let value = self.max_unavailable.as_deref()?;
        let n = match value.strip_suffix('%') {
            Some(percent) => u64::from(percent.parse::<u32>().ok()?) * u64::from(self.replicas) / 100,
            None => u64::try_from(value.parse::<i64>().ok()?).ok()?,
        };
        Some(u32::try_from(n).unwrap_or(u32::MAX).max(1))
    }

    /// `spec.revisionHistoryLimit`, defaulted as the API server does (10).
    #[must_use]
    pub fn history_limit(&self) -> u32 {
        self.revision_history_limit.unwrap_or(10)
    }

    /// Whether `pod` carries every label of the set's selector (`None`: the selector is not
    /// known, or not only `matchLabels`).
    #[must_use]
    pub fn selects(&self, pod: &PodObs) -> Option<bool> {
        let selector = self.selector.as_ref()?;
        Some(selector.iter().all(|(k, v)| pod.spec.labels.get(k) == Some(v)))
    }

    /// The lowest ordinal a rolling update replaces: the partition counts from the start
    /// ordinal (`updateMin` indexes the controller's `replicas` slice).
    #[must_use]
    pub fn partition_ordinal(&self) -> u32 {
        self.start_ordinal.saturating_add(self.partition)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A Kubernetes Event (`kubectl get events`), reduced to what explains a state.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeEventObs {
    /// `Normal` or `Warning`.
    pub kind: String,
    /// `reason`, e.g. `ProvisioningFailed`.
    pub reason: String,
    /// The involved object as `Kind/name`.
    pub object: String,
    /// `message`.
    pub message: String,
}

/// The result of something the harness did inside the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "probe", rename_all = "camelCase")]
pub enum ProbeObs {
    /// `hostname` run inside a pod.
    Hostname {
        /// The pod.
        pod: String,
        /// Its UID when the command ran.
        #[serde(default)]
        uid: String,
        /// What the command printed (trimmed), or why it printed nothing.
        output: Result<String, ProbeError>,
    },
    /// A random token written to a file inside a pod.
    Write {
        /// The pod.
        pod: String,
        /// Its UID when the command ran.
        #[serde(default)]
        uid: String,
        /// The file.
        path: String,
        /// What was written.
        content: String,
        /// Whether the write succeeded (why not otherwise).
        result: Result<(), ProbeError>,
    },
    /// A file read inside a pod.
    Read {
        /// The pod.
        pod: String,
        /// Its UID when the command ran.
        #[serde(default)]
        uid: String,
        /// The file.
        path: String,
        /// What the file held, or why it was not read.
        content: Result<String, ProbeError>,
    },
    /// A DNS lookup from a pod in the namespace.
    Dns {
        /// The name looked up, as given.
        name: String,
        /// The addresses it resolved to, sorted, or the error (`NXDOMAIN`, …).
        answer: Result<Vec<String>, ProbeError>,
    },
    /// An HTTP GET from a pod in the namespace.
    Http {
        /// The pod the request was sent from.
        from: String,
        /// The URL as requested.
        url: String,
        /// The pod the harness meant to reach.
        target: String,
        /// The IP address the connection went to (the URL's host, resolved).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
        /// Status code and the start of the body, or why there is none.
        response: Result<HttpResponse, ProbeError>,
    },
    /// A request to the API server about the scenario's StatefulSets (a subresource, a list, a
    /// delete-collection), with the answer.
    Api {
        /// What was asked.
        request: ApiCall,
        /// What the API server answered, or why there is no answer.
        answer: Result<ApiAnswer, ProbeError>,
    },
}

/// A request about StatefulSets that the `api-surface` check judges against the watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "camelCase")]
pub enum ApiCall {
    /// `GET …/statefulsets/{set}/scale`.
    GetScale {
        /// The StatefulSet.
        set: String,
    },
    /// `PUT …/scale` with `spec.replicas`.
    UpdateScale {
        /// The StatefulSet.
        set: String,
        /// The replicas sent.
        replicas: u32,
    },
    /// `PATCH …/scale` (merge) with `spec.replicas`.
    PatchScale {
        /// The StatefulSet.
        set: String,
        /// The replicas sent.
        replicas: u32,
    },
    /// `GET …/statefulsets/{set}/status`.
    GetStatus {
        /// The StatefulSet.
        set: String,
    },
    /// `PUT …/status`: the status as read, with one condition added.
    UpdateStatus {
        /// The StatefulSet.
        set: String,
        /// The type of the condition added.
        condition: String,
    },
    /// `PATCH …/status` (merge): one condition.
    PatchStatus {
        /// The StatefulSet.
        set: String,
        /// The type of the condition sent.
        condition: String,
    },
    /// `GET …/statefulsets?labelSelector=…` in the run's namespace.
    List {
        /// The label selector, as equalities.
        labels: BTreeMap<String, String>,
    },
    /// `DELETE …/statefulsets?labelSelector=…` in the run's namespace.
    DeleteCollection {
        /// The label selector, as equalities.
        labels: BTreeMap<String, String>,
    },
}

impl ApiCall {
    /// The request in the API's words (`PUT statefulsets/web/scale`).
    #[must_use]
    pub fn describe(&self) -> String {
        let selector =
            |labels: &BTreeMap<String, String>| labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        match self {
            Self::GetScale { set } => format!("GET statefulsets/{set}/scale"),
            Self::UpdateScale { set, replicas } => format!("PUT statefulsets/{set}/scale (replicas {replicas})"),
            Self::PatchScale { set, replicas } => format!("PATCH statefulsets/{set}/scale (replicas {replicas})"),
            Self::GetStatus { set } => format!("GET statefulsets/{set}/status"),
            Self::UpdateStatus { set, condition } => format!("PUT statefulsets/{set}/status (condition {condition})"),
            Self::PatchStatus { set, condition } => format!("PATCH statefulsets/{set}/status (condition {condition})"),
            Self::List { labels } => format!("LIST statefulsets?labelSelector={}", selector(labels)),
            Self::DeleteCollection { labels } => format!("DELETE statefulsets?labelSelector={}", selector(labels)),
        }
    }

    /// The StatefulSet the request is about (`None` for a list or a delete-collection).
    #[must_use]
    pub fn set(&self) -> Option<&str> {
        match self {
            Self::GetScale { set }
            | Self::UpdateScale { set, .. }
            | Self::PatchScale { set, .. }
            | Self::GetStatus { set }
            | Self::UpdateStatus { set, .. }
            | Self::PatchStatus { set, .. } => Some(set),
            Self::List { .. } | Self::DeleteCollection { .. } => None,
        }
    }
}

/// What the API server answered to an [`ApiCall`]: the facts of the object (or list) it
/// returned that the `api-surface` check compares with the watch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiAnswer {
    /// `metadata.resourceVersion` of the object returned (a Scale carries its StatefulSet's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// `spec.replicas` returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_replicas: Option<u32>,
    /// `status.replicas` returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_replicas: Option<u32>,
    /// `status.readyReplicas` returned (a status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_replicas: Option<u32>,
    /// `status.observedGeneration` returned (a status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The types of `status.conditions` returned (a status).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The names of the StatefulSets returned (a list, or those a delete-collection deleted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// Why a probe (an exec, a DNS lookup, an HTTP request inside the cluster) has no result. Its
/// text is recorded in the words of what ran it.
///
/// Recorded as the text alone for an answer (so timelines written before the distinction read
/// as answers), as `{"notRun": text}` for a probe that could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(untagged)]
pub enum ProbeError {
    /// The probe ran and what it asked failed: `NXDOMAIN`, a file that is not there, a refused
    /// connection, a command that exited non-zero — an answer from the cluster, evidence.
    #[error("{0}")]
    Answered(String),
    /// The probe could not be run: the pod is not running, the API server refused or dropped
    /// the exec, it did not finish in time. No answer from what was probed: not evidence.
    #[error("{reason}")]
    NotRun {
        /// Why.
        #[serde(rename = "notRun")]
        reason: String,
    },
}

impl ProbeError {
    /// A probe that could not run, and why.
    #[must_use]
    pub fn not_run(reason: impl Into<String>) -> Self {
        Self::NotRun { reason: reason.into() }
    }

    /// Whether the probe ran (its failure is the cluster's answer).
    #[must_use]
    pub fn answered(&self) -> bool {
        matches!(self, Self::Answered(_))
    }
}

/// What an HTTP probe got back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// The body, cut to 2 KiB.
    pub body: String,
}

/// A whole recorded history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The entries, `entries[i].seq == i`.
    pub entries: Vec<Entry>,
    /// The history shows only the pods something was printed about (a `kubectl get pods -w`
    /// transcript), not a complete watch: a pod it does not mention is *unknown*, not absent.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

impl Timeline {
    /// An empty timeline.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an observation and returns its sequence number.
    pub fn push(&mut self, at_ms: u64, event: Event) -> usize {
        let seq = self.entries.len();
        self.entries.push(Entry { seq, at_ms, event });
        seq
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No entries yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry range `[start, end)` of step `index`, from its marker to the next marker.
    #[must_use]
    pub fn step_range(&self, index: usize) -> Option<std::ops::Range<usize>> {
        let start = self.entries.iter().position(|e| matches!(e.event, Event::Step { index: i, .. } if i == index))?;
        let end = self.entries[start + 1..]
            .iter()
            .position(|e| matches!(e.event, Event::Step { .. }))
            .map_or(self.entries.len(), |p| start + 1 + p);
        Some(start..end)
    }

    /// The state of the namespace after applying entries `[0, end)`.
    #[must_use]
    pub fn view_at(&self, end: usize) -> View {
        let mut view = View::default();
        for entry in &self.entries[..end.min(self.entries.len())] {
            view.apply(&entry.event);
        }
        view
    }
}

/// The state of the observed objects at one point of a history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct View {
    /// Pods by name.
    pub pods: BTreeMap<Arc<str>, Arc<PodObs>>,
    /// Claims by name.
    pub claims: BTreeMap<String, ClaimObs>,
    /// Volumes by name.
    pub volumes: BTreeMap<String, VolumeObs>,
    /// Services by name.
    pub services: BTreeMap<String, ServiceObs>,
    /// StatefulSets by name.
    pub sets: BTreeMap<String, SetObs>,
    /// Secrets by name, with their keys.
    pub secrets: BTreeMap<String, Vec<String>>,
    /// Nodes by name (recorded in scenarios that place pods by node).
    pub nodes: BTreeMap<String, NodeObs>,
    /// DaemonSets by name.
    pub daemon_sets: BTreeMap<String, DaemonSetObs>,
    /// Jobs by name.
    pub jobs: BTreeMap<String, JobObs>,
    /// CronJobs by name.
    pub cron_jobs: BTreeMap<String, CronJobObs>,
    /// Every Job each CronJob has been seen to create, deleted ones included, by CronJob name.
    pub cron_runs: BTreeMap<String, BTreeSet<String>>,
    /// Names of the objects the API server refused to create.
    pub refusals: BTreeSet<String>,
}

impl View {
    /// Applies one observation.
    pub fn apply(&mut self, event: &Event) {
        /// Deletes, replaces or inserts `name`; `key` makes the key only when it is new.
        fn upsert<K: Ord + std::borrow::Borrow<str>, T: Clone>(
            map: &mut BTreeMap<K, T>,
            change: Change,
            name: &str,
            key: impl FnOnce() -> K,
            value: &T,
        ) {
            if change == Change::Deleted {
                map.remove(name);
            } else if let Some(slot) = map.get_mut(name) {
                value.clone_into(slot);
            } else {
                map.insert(key(), value.clone());
            }
        }
        match event {
            // The key shares the pod's name: a replay allocates no name.
            Event::Pod { change, pod } => upsert(&mut self.pods, *change, &pod.name, || Arc::clone(&pod.name), pod),
            Event::Claim { change, claim } => upsert(&mut self.claims, *change, &claim.name, || claim.name.clone(), claim),
            Event::Volume { change, volume } => upsert(&mut self.volumes, *change, &volume.name, || volume.name.clone(), volume),
            Event::Service { change, service } => {
                upsert(&mut self.services, *change, &service.name, || service.name.clone(), service);
            }
            Event::StatefulSet { change, set } => upsert(&mut self.sets, *change, &set.name, || set.name.clone(), set),
            Event::Secret { change, name, keys } => upsert(&mut self.secrets, *change, name, || name.clone(), keys),
            Event::Node { change, node } => upsert(&mut self.nodes, *change, &node.name, || node.name.clone(), node),
            Event::DaemonSet { change, set } => upsert(&mut self.daemon_sets, *change, &set.name, || set.name.clone(), set),
            Event::Job { change, job } => {
                if let Some(cron) = &job.cron_job
                    && !self.cron_runs.get(cron).is_some_and(|runs| runs.contains(&job.name))
                {
                    self.cron_runs.entry(cron.clone()).or_default().insert(job.name.clone());
                }
                upsert(&mut self.jobs, *change, &job.name, || job.name.clone(), job);
            }
            Event::CronJob { change, cron } => upsert(&mut self.cron_jobs, *change, &cron.name, || cron.name.clone(), cron),
            Event::Refused(refusal) => {
                self.refusals.insert(refusal.name.clone());
            }
            Event::Step { .. } | Event::KubeEvent(_) | Event::Probe(_) | Event::Gap { .. } | Event::GapEnd { .. } => {}
        }
    }

    /// The pods of StatefulSet `set` by ordinal (terminating ones included).
    #[must_use]
    pub fn set_pods(&self, set: &str) -> BTreeMap<u32, &PodObs> {
        self.pods.values().filter(|p| p.belongs_to(set)).filter_map(|p| p.ordinal_in(set).map(|o| (o, &**p))).collect()
    }
}

/// One line for a diagnostics bundle: name, phase, readiness, what it waits for, restarts,
/// address, node, revision and claims.
impl std::fmt::Display for PodObs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} phase={} ready={} terminating={} waiting={} restarts={} ip={} node={} revision={} claims={:?}",
            self.name,
            self.phase,
            self.ready,
            self.terminating,
            self.waiting.as_deref().unwrap_or("-"),
            self.restarts,
            self.ip.as_deref().unwrap_or("-"),
            self.node.as_deref().unwrap_or("-"),
            self.revision().unwrap_or("-"),
            self.spec.claims
        )
    }
}

/// One line for a diagnostics bundle: name, phase, volume and class.
impl std::fmt::Display for ClaimObs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} phase={} volume={} class={}",
            self.name,
            self.phase,
            self.volume.as_deref().unwrap_or("-"),
            self.storage_class.as_deref().unwrap_or("-")
        )
    }
}

/// One line for a diagnostics bundle: name, phase, class and the claim bound to it.
impl std::fmt::Display for VolumeObs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} phase={} class={} claim={}",
            self.name,
            self.phase,
            self.storage_class.as_deref().unwrap_or("-"),
            self.claim.as_deref().unwrap_or("-")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_failure_is_recorded_as_its_text_and_a_probe_not_run_is_marked() {
        let answered = ProbeObs::Dns { name: "web-9.nginx".into(), answer: Err(ProbeError::Answered("NXDOMAIN".into())) };
        let json = serde_json::to_string(&answered).expect("json");
        assert_eq!(json, r#"{"probe":"dns","name":"web-9.nginx","answer":{"Err":"NXDOMAIN"}}"#, "as before the distinction");
        let not_run = ProbeObs::Dns { name: "web-9.nginx".into(), answer: Err(ProbeError::not_run("pod probe is not running")) };
        let json = serde_json::to_string(&not_run).expect("json");
        assert_eq!(json, r#"{"probe":"dns","name":"web-9.nginx","answer":{"Err":{"notRun":"pod probe is not running"}}}"#);
        for probe in [answered, not_run] {
            let back: ProbeObs = serde_json::from_str(&serde_json::to_string(&probe).expect("json")).expect("reads back");
            assert_eq!(back, probe);
        }
    }

    #[test]
    fn the_phases_the_api_defines_are_not_copied() {
        for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
            assert!(matches!(pod_phase(phase), std::borrow::Cow::Borrowed(p) if p == phase));
        }
        assert!(matches!(pod_phase("Evicting"), std::borrow::Cow::Owned(p) if p == "Evicting"));
        let pod: PodObs = serde_json::from_str(r#"{"name":"web-0","uid":"u","phase":"Running","ready":true}"#).expect("pod");
        assert_eq!(pod.phase, "Running");
    }

    #[test]
    fn the_first_missing_or_failing_ordinal() {
        let pods: BTreeMap<u32, bool> = [(0, true), (1, true), (2, false), (4, true)].into_iter().collect();
        assert_eq!(first_ordinal_not(&pods, 0..2, |ok| *ok), None);
        assert_eq!(first_ordinal_not(&pods, 0..5, |ok| *ok), Some(2));
        assert_eq!(first_ordinal_not(&pods, 3..5, |ok| *ok), Some(3));
        assert_eq!(first_ordinal_not(&pods, 4..5, |ok| *ok), None);
        assert_eq!(first_ordinal_not(&pods, 4..u32::MAX, |ok| *ok), Some(5));
        assert_eq!(first_ordinal_not(&pods, 7..7, |ok| *ok), None);
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = 5..3;
        assert_eq!(first_ordinal_not(&pods, backwards, |ok| *ok), None);
    }

    /// A history is mostly pod entries (one per transcript line in `analyze`): an entry must
    /// not grow to the size of the largest object it can hold.
    #[test]
    fn an_entry_is_as_small_as_a_pod_entry() {
        assert!(size_of::<Event>() <= 64, "Event is {} bytes: box the variant that grew", size_of::<Event>());
    }

    #[test]
    fn ordinals_parse_only_controller_names() {
        assert_eq!(ordinal_of("web-0", "web"), Some(0));
        assert_eq!(ordinal_of("web-12", "web"), Some(12));
        assert_eq!(ordinal_of("web-01", "web"), None);
        assert_eq!(ordinal_of("web-", "web"), None);
        assert_eq!(ordinal_of("web-x", "web"), None);
        assert_eq!(ordinal_of("webs-1", "web"), None);
        assert_eq!(ordinal_of("my-web-1", "web"), None);
        assert_eq!(ordinal_of("sfs-test01-2", "sfs-test01"), Some(2));
    }

    #[test]
    fn step_ranges_run_to_the_next_marker() {
        let mut t = Timeline::new();
        t.push(0, Event::Step { index: 0, action: "a".into() });
        t.push(1, Event::Gap { resource: "pods".into(), reason: "x".into() });
        t.push(2, Event::Step { index: 1, action: "b".into() });
        t.push(3, Event::Gap { resource: "pods".into(), reason: "y".into() });
        assert_eq!(t.step_range(0), Some(0..2));
        assert_eq!(t.step_range(1), Some(2..4));
        assert_eq!(t.step_range(2), None);
    }

    #[test]
    fn view_replays_changes() {
        let mut t = Timeline::new();
        let pod = PodObs { name: "web-0".into(), uid: "u1".into(), phase: "Pending".into(), ..Default::default() };
        t.push(0, Event::Pod { change: Change::Added, pod: pod.clone().into() });
        let running = PodObs { phase: "Running".into(), ready: true, ..pod.clone() };
        t.push(1, Event::Pod { change: Change::Modified, pod: running.into() });
        assert!(t.view_at(2).pods["web-0"].running_and_ready());
        assert!(!t.view_at(1).pods["web-0"].running_and_ready());
        t.push(2, Event::Pod { change: Change::Deleted, pod: pod.into() });
        assert!(t.view_at(3).pods.is_empty());
    }

    #[test]
    fn membership_uses_the_owner_when_known() {
        let mut pod = PodObs { name: "web-1".into(), ..Default::default() };
        assert!(pod.belongs_to("web"));
        Arc::make_mut(&mut pod.spec).owner = Some("StatefulSet/web".into());
        assert!(pod.belongs_to("web"));
        Arc::make_mut(&mut pod.spec).owner = Some("ReplicaSet/web-5d8f".into());
        assert!(!pod.belongs_to("web"));
    }
}
