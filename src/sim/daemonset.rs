//! The simulated DaemonSet controller and the sim's nodes.
//!
//! Following `manage` in Kubernetes' `pkg/controller/daemon/daemon_controller.go`: for each
//! node, the controller's decision ([`Placement::on`]) against the daemon pods already there —
//! create one where it should run and has none, delete those where it may not continue, and
//! keep the oldest where there are several; then `rollingUpdate` (maxSurge 0) replaces pods of
//! an older template within `maxUnavailable`. Status: desired, scheduled, ready, available,
//! updated and misscheduled counts, and the generation observed.

use k8s_openapi::api::apps::v1::DaemonSet;

use super::{Fault, SimCluster, Task, delay};
use crate::timeline::{Change, DaemonSetObs, Event, NodeObs, PodObs, TaintObs};

/// Label the DaemonSet controller puts on each pod with its template's generation.
const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";

/// A DaemonSet in the simulated API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SimDaemonSet {
    pub obj: DaemonSet,
    pub obs: DaemonSetObs,
}

/// The sim's nodes: two workers (one with `disktype: ssd`) and a control-plane node tainted as
/// kubeadm taints it.
pub(super) fn nodes() -> Vec<NodeObs> {
    let node = |name: &str, labels: &[(&str, &str)], taints: Vec<TaintObs>| NodeObs {
        name: name.into(),
        labels: [("kubernetes.io/hostname", name)]
            .iter()
            .chain(labels)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        taints,
        unschedulable: false,
    };
    let control_plane_taint =
        TaintObs { key: "node-role.kubernetes.io/control-plane".into(), value: String::new(), effect: "NoSchedule".into() };
    vec![
        node("sim-control-plane", &[("node-role.kubernetes.io/control-plane", "")], vec![control_plane_taint]),
        node("sim-node-1", &[("node-type", "worker"), ("disktype", "ssd")], vec![]),
        node("sim-node-2", &[("node-type", "worker")], vec![]),
    ]
}

impl SimCluster {
    /// Creates or updates DaemonSet `set`, and has its controller act on it.
    pub(super) fn apply_daemon_set(&mut self, set: DaemonSet) {
        let name = set.metadata.name.clone().unwrap_or_default();
        let spec_facts = DaemonSetObs::of(&set);
        let change = match self.daemon_sets.get_mut(&name) {
            Some(existing) => {
                if existing.obj.spec != set.spec {
                    existing.obj.spec = set.spec;
                    let obs = &mut existing.obs;
                    obs.generation = Some(obs.generation.unwrap_or(1) + 1);
                    obs.placement = spec_facts.placement;
                    obs.update_strategy = spec_facts.update_strategy;
                    obs.max_unavailable = spec_facts.max_unavailable;
                    obs.max_surge = spec_facts.max_surge;
                    obs.min_ready_seconds = spec_facts.min_ready_seconds;
                }
                Change::Modified
            }
            None => {
                let uid = self.new_uid();
                let obs = DaemonSetObs { uid, generation: Some(1), observed_generation: None, ..spec_facts };
                self.daemon_sets.insert(name.clone(), SimDaemonSet { obj: set, obs });
                Change::Added
            }
        };
        if let Some(sim) = self.daemon_sets.get(&name) {
            self.emit(Event::DaemonSet { change, set: Box::new(sim.obs.clone()) });
        }
        self.schedule(delay::CONTROLLER, Task::ReconcileDaemonSet(name));
    }

    /// One pass of the DaemonSet controller over every node.
    pub(super) fn reconcile_daemon_set(&mut self, name: &str) {
        let Some(sim) = self.daemon_sets.get(name).cloned() else { return };
        let nodes = nodes();
        let mut desired = 0;
        let mut misscheduled = 0;
        for (i, node) in nodes.iter().enumerate() {
            let mut decision = sim.obs.placement.on(node);
            if self.has(Fault::DaemonIgnoresTaints) && sim.obs.placement.selects(node) {
                decision.should_run = true;
                decision.should_continue = true;
            }
            let skipped =
                self.has(Fault::DaemonNodeSkipped) && nodes.iter().rposition(|n| sim.obs.placement.on(n).should_run) == Some(i);
            let on_node: Vec<PodObs> = self
                .pods
                .values()
                .map(|p| p.obs.clone())
                .filter(|p| p.owned_by("DaemonSet", name))
                .filter(|p| p.node.as_deref().or(p.spec.target_node.as_deref()) == Some(node.name.as_str()))
                .collect();
            let mut here: Vec<PodObs> = on_node.iter().filter(|p| !p.terminating).cloned().collect();
            // A faulty controller believes its own decision, so its status agrees with it.
            let doubled =
                self.has(Fault::DaemonTwoOnANode) && nodes.iter().position(|n| sim.obs.placement.on(n).should_run) == Some(i);
            let wanted = match (decision.should_run && !skipped, decision.should_continue) {
                (true, _) if doubled => 2,
                (true, _) => 1,
                (false, true) => here.len().min(1),
                (false, false) => 0,
            };
            if decision.should_run && !skipped {
                desired += wanted as u32;
            } else if !here.is_empty() {
                misscheduled += 1;
            }
            // As `manage` does: a replacement only once the node's last pod is gone.
            if on_node.len() == here.len() {
                for _ in here.len()..wanted {
                    self.create_daemon_pod(&sim, node);
                }
            }
            // The oldest stays: pods are named in creation order only by chance, so by UID.
            here.sort_by(|a, b| a.uid.cmp(&b.uid));
            for extra in here.iter().skip(wanted) {
                self.begin_pod_deletion(&extra.name);
            }
        }
        self.roll_daemon_set(&sim, &nodes);
        self.update_daemon_set_status(name, desired, misscheduled);
    }

    /// `rollingUpdate` with maxSurge 0: an old pod that is not available goes at once; an
    /// available one only while fewer nodes than `maxUnavailable` lack an available pod —
    /// counted as the controller counts them (nodes with pods of the set, but only terminating
    /// ones or one not available).
    fn roll_daemon_set(&mut self, sim: &SimDaemonSet, nodes: &[NodeObs]) {
        let admitted: Vec<&NodeObs> = nodes.iter().filter(|n| sim.obs.placement.on(n).should_run).collect();
        // The sim's pods are available as soon as they are Ready (minReadySeconds is not
        // modelled, nor a surge: such a DaemonSet does not roll here).
        let timeless = DaemonSetObs { min_ready_seconds: 0, ..sim.obs.clone() };
        let Some(budget) = timeless.unavailable_budget(u32::try_from(admitted.len()).unwrap_or(u32::MAX)) else { return };
        let generation = sim.obs.generation.unwrap_or(1).to_string();
        let pods_on = |this: &Self, node: &str| -> Vec<PodObs> {
            this.pods
                .values()
                .map(|p| p.obs.clone())
                .filter(|p| p.owned_by("DaemonSet", &sim.obs.name))
                .filter(|p| p.node.as_deref().or(p.spec.target_node.as_deref()) == Some(node))
                .collect()
        };
        let lacking = |pods: &[PodObs]| {
            let live: Vec<&PodObs> = pods.iter().filter(|p| !p.terminating).collect();
            !pods.is_empty() && (live.is_empty() || live.iter().any(|p| !p.running_and_ready()))
        };
        let mut unavailable = nodes.iter().filter(|n| lacking(&pods_on(self, &n.name))).count() as u64;
        for node in admitted {
            let pods = pods_on(self, &node.name);
            let live: Vec<&PodObs> = pods.iter().filter(|p| !p.terminating).collect();
            let [old] = live.as_slice() else { continue };
            if old.spec.labels.get(TEMPLATE_GENERATION_LABEL) == Some(&generation) {
                continue;
            }
            if !old.running_and_ready() {
                self.begin_pod_deletion(&old.name);
            } else if unavailable < u64::from(budget) || self.has(Fault::DaemonRolloutUnbounded) {
                self.begin_pod_deletion(&old.name);
                unavailable += 1;
            }
        }
    }

    fn create_daemon_pod(&mut self, sim: &SimDaemonSet, node: &NodeObs) {
        let template = sim.obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let generation = sim.obs.generation.unwrap_or(1).to_string();
        let labels = [(TEMPLATE_GENERATION_LABEL, generation)];
        self.create_controlled_pod(("DaemonSet", &sim.obs.name), &template, &labels, Some(node.name.clone()));
    }

    fn update_daemon_set_status(&mut self, name: &str, desired: u32, misscheduled: u32) {
        let pods: Vec<&PodObs> =
            self.pods.values().map(|p| &p.obs).filter(|p| p.owned_by("DaemonSet", name) && !p.terminating).collect();
        let scheduled = u32::try_from(pods.len()).unwrap_or(u32::MAX).saturating_sub(misscheduled);
        let ready = u32::try_from(pods.iter().filter(|p| p.running_and_ready()).count()).unwrap_or(u32::MAX);
        let generation = self.daemon_sets.get(name).and_then(|s| s.obs.generation).unwrap_or(1).to_string();
        let updated = pods.iter().filter(|p| p.spec.labels.get(TEMPLATE_GENERATION_LABEL) == Some(&generation)).count();
        let updated = u32::try_from(updated).unwrap_or(u32::MAX);
        let Some(sim) = self.daemon_sets.get_mut(name) else { return };
        let before = sim.obs.clone();
        let obs = &mut sim.obs;
        obs.observed_generation = obs.generation;
        obs.desired = desired;
        obs.scheduled = scheduled;
        obs.ready = ready;
        obs.available = ready;
        obs.updated = updated;
        obs.misscheduled = misscheduled;
        if *obs != before {
            let set = Box::new(obs.clone());
            self.emit(Event::DaemonSet { change: Change::Modified, set });
        }
    }

    /// Reports the nodes as observed, and from now on in a relist.
    pub(super) fn report_nodes(&mut self) {
        self.nodes_observed = true;
        for node in nodes() {
            self.emit(Event::Node { change: Change::Added, node: Box::new(node) });
        }
    }
}
