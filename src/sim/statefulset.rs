//! The simulated StatefulSet controller, following the structure of Kubernetes'
//! `pkg/controller/statefulset/stateful_set_control.go` (`updateStatefulSet`):
//!
//! 1. split pods into `replicas` (ordinal < spec.replicas) and `condemned` (the rest);
//! 2. walk `replicas` in order: create a missing pod (claims first); with OrderedReady
//!    ("monotonic") stop after a creation, at a terminating pod, or at a pod that is not
//!    Running and Ready;
//! 3. walk `condemned` from the highest ordinal: wait for a terminating one; with OrderedReady
//!    delete one pod and stop, with Parallel delete all;
//! 4. unless OnDelete, walk from the highest ordinal down to the partition: delete the first
//!    pod not on the update revision and stop; stop at a pod that is not healthy;
//! 5. update status.
//!
//! It knows nothing of the checks: where the two disagree, one of them is wrong.

use std::{collections::BTreeMap, sync::Arc};

use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::PodTemplateSpec};

use super::{Fault, SimCluster, SimPod, Task};
use crate::timeline::{
    Change, ClaimObs, Event, KubeEventObs, POD_INDEX_LABEL, POD_NAME_LABEL, PodObs, PodSpecObs, REVISION_LABEL, SetObs,
};

/// A StatefulSet in the simulated API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SimSet {
    pub obj: StatefulSet,
    pub uid: String,
    pub revisions: BTreeMap<String, PodTemplateSpec>,
    pub update_revision: String,
    pub current_revision: String,
    pub obs: SetObs,
    /// `status.observedGeneration`: the generation the controller last acted on. As in
    /// kube-controller-manager, a change of the spec shows in the status (a new update revision)
    /// only once the controller's next pass has observed it.
    #[serde(default)]
    pub observed_generation: i64,
    /// The types of `status.conditions` a client wrote; the controller's next status write
    /// (a fresh status, as `updateStatefulSetStatus` makes) drops them.
    #[serde(default)]
    pub conditions: Vec<String>,
}

/// The ordinal of one of set `set`'s pods: from its name (`getOrdinal`), else — a pod renamed by
/// fault `recreated-renamed` — its pod-index label.
pub(super) fn pod_ordinal(pod: &PodObs, set: &str) -> Option<u32> {
    pod.ordinal_in(set).or_else(|| pod.spec.labels.get(POD_INDEX_LABEL).and_then(|i| i.parse().ok()))
}

/// The revision name of a template: `<set>-<hash>`, like a ControllerRevision.
pub(super) fn revision_name(set: &str, template: &PodTemplateSpec) -> String {
    let digest = crate::timeline::template_digest(template);
    format!("{set}-{}", &digest[digest.len() - 10..])
}

/// The replica counts of a set's status (`computeReplicaStatus`).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counts {
    /// Pods created (`status.replicas`).
    pub replicas: u32,
    pub ready: u32,
    pub available: u32,
    pub updated: u32,
    pub current: u32,
}

impl SimSet {
    pub fn new(mut obj: StatefulSet, uid: String) -> Self {
        obj.metadata.generation = Some(1);
        let name = obj.metadata.name.clone().unwrap_or_default();
        let template = obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let revision = revision_name(&name, &template);
        let mut set = SimSet {
            obj,
            uid,
            revisions: BTreeMap::from([(revision.clone(), template)]),
            update_revision: revision.clone(),
            current_revision: revision,
            obs: SetObs::default(),
            observed_generation: 0,
            conditions: Vec::new(),
        };
        set.obs = set.observe(Counts::default());
        set
    }

    pub fn name(&self) -> String {
        self.obj.metadata.name.clone().unwrap_or_default()
    }

    pub fn replicas(&self) -> u32 {
        self.obj.spec.as_ref().and_then(|s| s.replicas).map_or(1, |r| u32::try_from(r).unwrap_or(0))
    }

    pub fn parallel(&self) -> bool {
        self.obj.spec.as_ref().and_then(|s| s.pod_management_policy.as_deref()) == Some("Parallel")
    }

    pub fn on_delete(&self) -> bool {
        self.obj.spec.as_ref().and_then(|s| s.update_strategy.as_ref()).and_then(|u| u.type_.as_deref()) == Some("OnDelete")
    }

    pub fn partition(&self) -> u32 {
        self.obj
            .spec
            .as_ref()
            .and_then(|s| s.update_strategy.as_ref())
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.partition)
            .map_or(0, |p| u32::try_from(p).unwrap_or(0))
    }

    /// `spec.updateStrategy.rollingUpdate.maxUnavailable`, as written (`2`, `50%`).
    pub fn max_unavailable(&self) -> Option<String> {
        use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
        let value = self.obj.spec.as_ref()?.update_strategy.as_ref()?.rolling_update.as_ref()?.max_unavailable.as_ref()?;
        Some(match value {
            IntOrString::Int(n) => n.to_string(),
            IntOrString::String(s) => s.clone(),
        })
    }

    /// `spec.minReadySeconds` (default 0).
    pub fn min_ready_seconds(&self) -> u32 {
        self.obj.spec.as_ref().and_then(|s| s.min_ready_seconds).map_or(0, |m| u32::try_from(m).unwrap_or(0))
    }

    /// `spec.ordinals.start` (default 0).
    pub fn start(&self) -> u32 {
        self.obj
            .spec
            .as_ref()
            .and_then(|s| s.ordinals.as_ref())
            .and_then(|o| o.start)
            .map_or(0, |s| u32::try_from(s).unwrap_or(0))
    }

    /// The ordinals the set keeps: `start..start + replicas`.
    pub fn ordinals(&self) -> std::ops::Range<u32> {
        self.start()..self.start().saturating_add(self.replicas())
    }

    fn retention(&self) -> (String, String) {
        let policy = self.obj.spec.as_ref().and_then(|s| s.persistent_volume_claim_retention_policy.as_ref());
        (
            policy.and_then(|p| p.when_deleted.clone()).unwrap_or_else(|| "Retain".into()),
            policy.and_then(|p| p.when_scaled.clone()).unwrap_or_else(|| "Retain".into()),
        )
    }

    pub fn when_deleted_delete(&self) -> bool {
        self.retention().0 == "Delete"
    }

    pub fn when_scaled_delete(&self) -> bool {
        self.retention().1 == "Delete"
    }

    /// The controller observes the latest spec: a changed template becomes the update revision.
    pub fn observe_spec(&mut self, new_on_revert: bool) {
        let generation = self.obj.metadata.generation.unwrap_or(1);
        if self.observed_generation >= generation {
            return;
        }
        let template = self.obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        if revision_name(&self.name(), &template) != self.update_revision {
            self.template_changed(new_on_revert);
        }
        self.observed_generation = generation;
    }

    /// Records a template change: a new update revision.
    ///
    /// With `new_on_revert` (fault `rollback-new-revision`) a template the set had before gets
    /// a new revision, as a controller would that bumped its collision count instead of
    /// finding the equal revision.
    pub fn template_changed(&mut self, new_on_revert: bool) {
        let template = self.obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let mut revision = revision_name(&self.name(), &template);
        if new_on_revert && self.revisions.contains_key(&revision) {
            let mut bumped = template.clone();
            bumped
                .metadata
                .get_or_insert_default()
                .labels
                .get_or_insert_default()
                .insert("sim.sts-conformance/collision".into(), self.revisions.len().to_string());
            revision = revision_name(&self.name(), &bumped);
        }
        self.revisions.insert(revision.clone(), template);
        self.update_revision = revision;
    }

    pub fn observe(&self, counts: Counts) -> SetObs {
        let spec = self.obj.spec.as_ref();
        let (when_deleted, when_scaled) = self.retention();
        SetObs {
            name: self.name(),
            uid: self.uid.clone(),
            generation: self.obj.metadata.generation,
            observed_generation: (self.observed_generation > 0).then_some(self.observed_generation),
            replicas: self.replicas(),
            service_name: spec.and_then(|s| s.service_name.clone()),
            pod_management_policy: if self.parallel() { "Parallel".into() } else { "OrderedReady".into() },
            update_strategy: if self.on_delete() { "OnDelete".into() } else { "RollingUpdate".into() },
            partition: self.partition(),
            max_unavailable: self.max_unavailable(),
            start_ordinal: self.start(),
            when_deleted,
            when_scaled,
            claim_templates: spec
                .iter()
                .flat_map(|s| s.volume_claim_templates.iter().flatten())
                .filter_map(|t| t.metadata.name.clone())
                .collect(),
            ready_replicas: counts.ready,
            current_revision: Some(self.current_revision.clone()),
            update_revision: Some(self.update_revision.clone()),
            updated_replicas: counts.updated,
            current_replicas: Some(counts.current),
            available_replicas: Some(counts.available),
            min_ready_seconds: self.min_ready_seconds(),
            template_digest: spec.map(|s| crate::timeline::template_digest(&s.template)),
            revision_history_limit: spec.and_then(|s| s.revision_history_limit).map(|n| u32::try_from(n).unwrap_or(0)),
            terminating: false,
            // Stamped when the observation is published (a new version for every change).
            resource_version: self.obs.resource_version.clone(),
            labels: self.obj.metadata.labels.clone().unwrap_or_default(),
            status_replicas: Some(counts.replicas),
            conditions: self.conditions.clone(),
            selector: spec
                .map(|s| &s.selector)
                .filter(|s| s.match_expressions.as_ref().is_none_or(Vec::is_empty))
                .map(|s| s.match_labels.clone().unwrap_or_default()),
        }
    }
}

/// Whether the controller's status differs between two observations (`inconsistentStatus`):
/// then it writes a fresh one.
fn status_written(new: &SetObs, old: &SetObs) -> bool {
    (new.observed_generation, new.status_replicas, new.ready_replicas, new.available_replicas, new.updated_replicas)
        != (old.observed_generation, old.status_replicas, old.ready_replicas, old.available_replicas, old.updated_replicas)
        || (&new.current_revision, &new.update_revision, new.current_replicas)
            != (&old.current_revision, &old.update_revision, old.current_replicas)
}

impl SimCluster {
    /// One pass of the controller over StatefulSet `name`.
    pub(super) fn reconcile_set(&mut self, name: &str) {
        let new_on_revert = self.has(Fault::RollbackNewRevision);
        if let Some(set) = self.sets.get_mut(name) {
            set.observe_spec(new_on_revert);
        }
        self.claim_pods(name);
        let Some(set) = self.sets.get(name).cloned() else { return };
        let monotonic = !set.parallel() || self.has(Fault::ParallelAsOrdered);
        let replica_count = set.replicas();
        let kept = if self.has(Fault::StartOrdinalIgnored) { 0..replica_count } else { set.ordinals() };
        let mut pods: BTreeMap<u32, SimPod> = self
            .pods
            .values()
            .filter(|p| p.obs.belongs_to(name))
            .filter_map(|p| pod_ordinal(&p.obs, name).map(|o| (o, p.clone())))
            .collect();
        if self.has(Fault::IgnoresUnready) {
            // A pod whose probe fails because of a moved file looks Ready to this controller.
            for pod in pods.values_mut() {
                if self.moved_away.iter().any(|(uid, _)| *uid == *pod.obs.uid) && pod.obs.phase == "Running" {
                    pod.obs.ready = true;
                }
            }
        }
        // minReadySeconds: a Ready pod not yet available holds the controller as an unready one
        // does (`isRunningAndAvailable`, `isUnavailable`); it looks again once it will be.
        let min_ready_ms = u64::from(set.min_ready_seconds()) * 1000;
        if min_ready_ms > 0 {
            let ignored = self.has(Fault::MinReadyIgnored);
            let mut wake = None;
            for pod in pods.values_mut() {
                if let Some(since) = pod.ready_since.filter(|_| pod.obs.ready)
                    && self.clock < since + min_ready_ms
                {
                    pod.obs.ready = ignored;
                    wake = Some(wake.map_or(since + min_ready_ms, |w: u64| w.min(since + min_ready_ms)));
                }
            }
            if let Some(at) = wake {
                self.schedule(at - self.clock, Task::Reconcile(name.to_owned()));
            }
        }
        if !monotonic && self.has(Fault::ParallelWaitsForReady) && pods.values().any(|p| p.obs.running_not_ready()) {
            self.update_set_status(name);
            return;
        }
        // Faults that loosen the wait for predecessors.
        let eager = self.has(Fault::CreateBeforeReady);
        let newest = pods.keys().next_back().copied();

        // Replicas: create, or wait.
        let mut blocked = false;
        for ordinal in kept.clone() {
            match pods.get(&ordinal) {
                // A failed (or succeeded) pod is deleted, and made again once it is gone
                // (`processReplica`); it holds the walk in either mode.
                Some(pod) if matches!(&*pod.obs.phase, "Failed" | "Succeeded") => {
                    if !pod.obs.terminating && !self.has(Fault::FailedPodKept) {
                        self.controller_deletes(name, &pod.obs.name);
                    }
                    blocked = true;
                    break;
                }
                None => {
                    self.create_set_pod(&set, ordinal);
                    if monotonic && !eager {
                        blocked = true;
                        break;
                    }
                }
                Some(pod) if pod.obs.terminating => {
                    if monotonic {
                        blocked = true;
                        break;
                    }
                }
                Some(pod) if !pod.obs.running_and_ready() => {
                    let waits = if eager {
                        false
                    } else if self.has(Fault::CreateWhenRunning) {
                        pod.obs.phase != "Running"
                    } else if self.has(Fault::ScalePastUnready) {
                        // Waits only for the pod it created last.
                        newest == Some(ordinal)
                    } else {
                        true
                    };
                    if monotonic && waits {
                        blocked = true;
                        break;
                    }
                }
                Some(_) => {}
            }
        }

        self.update_claim_owners(&set, &pods, &kept);

        // Condemned: from the highest ordinal down.
        if !blocked {
            // Outside `start..start + replicas`, below or above (`podInOrdinalRange`).
            let mut condemned: Vec<&SimPod> = pods.iter().filter(|(k, _)| !kept.contains(k)).map(|(_, p)| p).collect();
            if !self.has(Fault::ScaleDownLowestFirst) {
                condemned.reverse();
            }
            let at_once = if self.has(Fault::ScaleDownTwoAtOnce) { 2 } else { 1 };
            let mut in_flight = 0;
            let first_unhealthy = pods.values().find(|p| !p.obs.running_and_ready()).map(|p| p.obs.name.clone());
            for pod in condemned {
                if pod.obs.terminating {
                    in_flight += 1;
                    if monotonic && in_flight >= at_once {
                        blocked = true;
                        break;
                    }
                    continue;
                }
                if monotonic && !pod.obs.running_and_ready() && first_unhealthy.as_deref() != Some(pod.obs.name.as_ref()) {
                    blocked = true;
                    break;
                }
                self.controller_deletes(name, &pod.obs.name);
                if self.has(Fault::SurvivorsRestarted) && replica_count > 0 {
                    self.update_pod(&format!("{name}-{}", kept.start), |p| p.restarts += 1);
                }
                in_flight += 1;
                if monotonic && in_flight >= at_once {
                    blocked = true;
                    break;
                }
            }
        }

        // Rolling update: from the highest ordinal down to the partition.
        let no_wait = self.has(Fault::RolloutNoWait);
        // OnDelete: the controller replaces nothing; a pod comes back on the update revision
        // once someone deletes it (`updateStatefulSet` returns before the update walk).
        if (!blocked || no_wait) && (!set.on_delete() || self.has(Fault::OnDeleteRolls)) {
            let partition = if self.has(Fault::PartitionIgnored) { 0 } else { set.partition() };
            let mut order: Vec<u32> = (kept.start.saturating_add(partition)..kept.end).collect();
            if !self.has(Fault::RolloutUpward) {
                order.reverse();
            }
            // maxUnavailable (`updateStatefulSetAfterInvariantEstablished`): count the kept pods
            // that are unavailable, and delete up to the rest of the budget, highest first.
            let budget = set.observe(Counts::default()).max_unavailable_count();
            if let Some(budget) = budget {
                let budget = if self.has(Fault::MaxUnavailableExceeded) { budget + 1 } else { budget };
                let present = pods.range(kept.clone()).filter(|(_, p)| !p.obs.terminating && p.obs.running_and_ready()).count();
                let unavailable = (kept.end - kept.start) as usize - present;
                let mut room = (budget as usize).saturating_sub(unavailable);
                for &ordinal in &order {
                    if room == 0 {
                        break;
                    }
                    let Some(pod) = pods.get(&ordinal) else { continue };
                    if pod.obs.revision() != Some(set.update_revision.as_str()) && !pod.obs.terminating {
                        self.controller_deletes(name, &pod.obs.name);
                        room -= 1;
                    }
                }
                order.clear();
            }
            for ordinal in order {
                let Some(pod) = pods.get(&ordinal) else { break };
                if pod.obs.revision() != Some(set.update_revision.as_str()) && !pod.obs.terminating {
                    self.controller_deletes(name, &pod.obs.name);
                    break;
                }
                if !pod.obs.running_and_ready() && !no_wait {
                    break;
                }
            }
        }
        self.update_set_status(name);
    }

    /// `getPodsForStatefulSet` (`ClaimPods`, filtered by `isMemberOf`): a pod named for the set
    /// that matches its selector and has no controller is adopted; one the set controls whose
    /// labels no longer match is released. Pods being deleted are left as they are.
    fn claim_pods(&mut self, name: &str) {
        let Some(set) = self.sets.get(name) else { return };
        let mine = format!("StatefulSet/{name}");
        let mut changes: Vec<(String, Option<String>)> = Vec::new();
        for pod in self.pods.values().filter(|p| !p.obs.terminating && p.obs.ordinal_in(name).is_some()) {
            let Some(matches) = set.obs.selects(&pod.obs) else { continue };
            match pod.obs.spec.owner.as_deref() {
                None if matches && !self.has(Fault::OrphansNotAdopted) => {
                    changes.push((pod.obs.name.to_string(), Some(mine.clone())))
                }
                Some(owner) if owner == mine && !matches && !self.has(Fault::MismatchedPodsKept) => {
                    changes.push((pod.obs.name.to_string(), None));
                }
                _ => {}
            }
        }
        for (pod, owner) in changes {
            self.update_pod(&pod, |p| Arc::make_mut(&mut p.spec).owner = owner);
        }
    }

    /// Recomputes and publishes status (and the current revision once the rollout is done).
    pub(super) fn update_set_status(&mut self, name: &str) {
        let Some(set) = self.sets.get(name) else { return };
        // `computeReplicaStatus`: Running and Ready counts every pod, terminating ones too; the
        // revision counts only pods that are not terminating.
        let all: Vec<&PodObs> = self.pods.values().map(|p| &p.obs).filter(|p| p.belongs_to(name)).collect();
        let count = |f: &dyn Fn(&PodObs) -> bool| u32::try_from(all.iter().filter(|p| f(p)).count()).unwrap_or(u32::MAX);
        let ready = count(&|p| p.phase == "Running" && p.ready);
        let min_ready_ms = u64::from(set.min_ready_seconds()) * 1000;
        let available = u32::try_from(
            self.pods
                .values()
                .filter(|p| p.obs.belongs_to(name) && p.obs.phase == "Running" && p.obs.ready)
                .filter(|p| p.ready_since.is_some_and(|since| self.clock >= since + min_ready_ms))
                .count(),
        )
        .unwrap_or(u32::MAX);
        let live = count(&|p| !p.terminating);
        let on = |revision: &str| count(&|p: &PodObs| !p.terminating && p.revision() == Some(revision));
        let updated = on(&set.update_revision);
        let mut set = set.clone();
        // `completeRollingUpdate`: only a RollingUpdate set's current revision advances; under
        // OnDelete it stays the revision the set began with.
        if !set.on_delete()
            && !self.has(Fault::StatusRevisionStale)
            && updated == set.replicas()
            && ready == set.replicas()
            && live == set.replicas()
        {
            set.current_revision = set.update_revision.clone();
        }
        let replicas = count(&|_: &PodObs| true);
        let mut obs = set.observe(Counts { replicas, ready, available, updated, current: on(&set.current_revision) });
        if obs != set.obs {
            if status_written(&obs, &set.obs) {
                // The controller writes a fresh status: conditions a client added are gone.
                set.conditions.clear();
                obs.conditions.clear();
            }
            obs.resource_version = Some(self.next_version());
            set.obs = obs.clone();
            self.emit(Event::StatefulSet { change: Change::Modified, set: Box::new(obs) });
        }
        self.sets.insert(name.to_owned(), set);
    }

    /// The owner references the controller gives the claims of a pod the set keeps
    /// (`updateClaimOwnerRefForSetAndPod`): the set, as controller, when `whenDeleted` is
    /// Delete; none otherwise (a scaled-down pod's claims go with it here, without a reference).
    fn claim_owners(&self, set: &SimSet) -> Vec<String> {
        if set.when_deleted_delete() && !self.has(Fault::ClaimsNotOwned) {
            vec![format!("StatefulSet/{}*", set.name())]
        } else {
            vec![]
        }
    }

    /// Brings the owner references of the kept pods' claims in line with the set's retention
    /// policy, as `UpdatePodClaimForRetentionPolicy` does when the policy changes.
    fn update_claim_owners(&mut self, set: &SimSet, pods: &BTreeMap<u32, SimPod>, kept: &std::ops::Range<u32>) {
        let owners = self.claim_owners(set);
        for (_, pod) in pods.range(kept.clone()) {
            for claim_name in pod.obs.spec.claims.values() {
                let Some(claim) = self.claims.get_mut(claim_name) else { continue };
                if claim.owners.as_ref() == Some(&owners) || claim.terminating {
                    continue;
                }
                claim.owners = Some(owners.clone());
                let claim = claim.clone();
                self.emit(Event::Claim { change: Change::Modified, claim: Box::new(claim) });
            }
        }
    }

    /// The controller deletes one of set `set`'s pods, and says so in an Event as
    /// `StatefulPodControl.recordPodEvent` does (`SuccessfulDelete`).
    fn controller_deletes(&mut self, set: &str, pod: &str) {
        self.record_pod_event("delete", set, pod);
        self.begin_pod_deletion(pod);
    }

    /// The Event the controller records for `verb` (`create`, `delete`) applied to a pod.
    fn record_pod_event(&mut self, verb: &str, set: &str, pod: &str) {
        let mut title = verb.to_owned();
        title[..1].make_ascii_uppercase();
        self.emit(Event::from(KubeEventObs {
            kind: "Normal".into(),
            reason: format!("Successful{title}"),
            object: format!("StatefulSet/{set}"),
            message: format!("{verb} Pod {pod} in StatefulSet {set} successful"),
        }));
    }

    fn create_set_pod(&mut self, set: &SimSet, ordinal: u32) {
        let set_name = set.name();
        let mut pod_name = format!("{set_name}-{ordinal}");
        if self.user_deleted.remove(&pod_name) && self.has(Fault::RecreatedRenamed) {
            pod_name = format!("{pod_name}-{}", self.random_suffix(5));
        }
        // Pods below the partition are created at the current revision (RollingUpdate);
        // others, and every pod under OnDelete, at the update revision.
        let below_partition = ordinal < set.start().saturating_add(set.partition())
            && !self.has(Fault::PartitionRestoreUpdated)
            && !self.has(Fault::PartitionIgnored);
        let revision =
            if !set.on_delete() && below_partition { set.current_revision.clone() } else { set.update_revision.clone() };
        let template = set.revisions.get(&revision).cloned().unwrap_or_default();
        let spec = set.obj.spec.as_ref();
        // Claims first, named <template>-<pod>; an existing claim is reused as it is.
        let mut claims = BTreeMap::new();
        for claim_template in spec.iter().flat_map(|s| s.volume_claim_templates.iter().flatten()) {
            let template_name = claim_template.metadata.name.clone().unwrap_or_default();
            let claim_name = if self.has(Fault::PvcNameReversed) {
                format!("{pod_name}-{template_name}")
            } else if self.has(Fault::SharedClaim) {
                format!("{template_name}-{set_name}-0")
            } else {
                format!("{template_name}-{pod_name}")
            };
            if !self.claims.contains_key(&claim_name) {
                let claim_spec = claim_template.spec.clone().unwrap_or_default();
                let class = claim_spec.storage_class_name.clone().or_else(|| Some(super::DEFAULT_STORAGE_CLASS.to_owned()));
                let request = claim_spec
                    .resources
                    .as_ref()
                    .and_then(|r| r.requests.as_ref())
                    .and_then(|r| r.get("storage"))
                    .map(|q| q.0.clone());
                let obs = ClaimObs {
                    name: claim_name.clone(),
                    uid: self.new_uid(),
                    phase: "Pending".into(),
                    volume: None,
                    storage_class: class,
                    request,
                    terminating: false,
                    owners: Some(self.claim_owners(set)),
                };
                self.claims.insert(claim_name.clone(), obs.clone());
                self.emit(Event::Claim { change: Change::Added, claim: Box::new(obs) });
                self.schedule(300, Task::BindClaim(claim_name.clone()));
            }
            claims.insert(template_name, claim_name);
        }
        let mut labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
        labels.insert(REVISION_LABEL.into(), revision);
        // The fault writes the ordinal counted from the start ordinal, not the ordinal itself.
        let index = if self.has(Fault::PodIndexLabelWrong) { ordinal.saturating_sub(set.start()) + 1 } else { ordinal };
        labels.insert(POD_INDEX_LABEL.into(), index.to_string());
        let pod_spec = template.spec.clone().unwrap_or_default();
        let grace = pod_spec.termination_grace_period_seconds;
        let obs = PodObs {
            name: pod_name.as_str().into(),
            uid: self.new_uid().into(),
            spec: Arc::new(PodSpecObs {
                owner: Some(format!("StatefulSet/{set_name}")),
                hostname: Some(pod_name.clone()),
                subdomain: spec.and_then(|s| s.service_name.clone()),
                labels,
                claims,
                ..Default::default()
            }),
            phase: "Pending".into(),
            ..PodObs::default()
        };
        self.add_pod(obs, pod_spec, grace);
        self.record_pod_event("create", &set_name, &pod_name);
    }
}
