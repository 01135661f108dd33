//! The simulated DaemonSet controller and the sim's nodes.
//!
//! Following `manage` in Kubernetes' `pkg/controller/daemon/daemon_controller.go`: for each
//! node, the controller's decision ([`Placement::on`]) against the daemon pods already there —
//! create one where it should run and has none, delete those where it may not continue, and
//! keep the oldest where there are several. Status: desired, scheduled, ready, available,
//! updated and misscheduled counts, and the generation observed. Not modelled yet: a rolling
//! update of the template (pods keep the template they were made from).

use std::sync::Arc;

use k8s_openapi::api::apps::v1::DaemonSet;

use super::{Fault, SimCluster, Task, delay};
use crate::timeline::{Change, DaemonSetObs, Event, NodeObs, Placement, PodObs, PodSpecObs, TaintObs};

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
        let placement = set.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(Placement::of).unwrap_or_default();
        let change = match self.daemon_sets.get_mut(&name) {
            Some(existing) => {
                if existing.obj.spec != set.spec {
                    existing.obj.spec = set.spec;
                    existing.obs.generation = Some(existing.obs.generation.unwrap_or(1) + 1);
                    existing.obs.placement = placement;
                }
                Change::Modified
            }
            None => {
                let uid = self.new_uid();
                let obs = DaemonSetObs { name: name.clone(), uid, generation: Some(1), placement, ..DaemonSetObs::default() };
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
        let owner = format!("DaemonSet/{name}");
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
            let mut here: Vec<PodObs> = self
                .pods
                .values()
                .map(|p| p.obs.clone())
                .filter(|p| p.spec.owner.as_deref() == Some(owner.as_str()) && !p.terminating)
                .filter(|p| p.node.as_deref().or(p.spec.target_node.as_deref()) == Some(node.name.as_str()))
                .collect();
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
            for _ in here.len()..wanted {
                self.create_daemon_pod(&sim, node);
            }
            // The oldest stays: pods are named in creation order only by chance, so by UID.
            here.sort_by(|a, b| a.uid.cmp(&b.uid));
            for extra in here.iter().skip(wanted) {
                self.begin_pod_deletion(&extra.name);
            }
        }
        self.update_daemon_set_status(name, desired, misscheduled);
    }

    fn create_daemon_pod(&mut self, sim: &SimDaemonSet, node: &NodeObs) {
        let template = sim.obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        let spec = template.spec.clone().unwrap_or_default();
        let grace = spec.termination_grace_period_seconds;
        let obs = PodObs {
            name: format!("{}-{}", sim.obs.name, self.random_suffix(5)).into(),
            uid: self.new_uid().into(),
            phase: "Pending".into(),
            spec: Arc::new(PodSpecObs {
                owner: Some(format!("DaemonSet/{}", sim.obs.name)),
                labels: template.metadata.and_then(|m| m.labels).unwrap_or_default(),
                target_node: Some(node.name.clone()),
                ..PodSpecObs::default()
            }),
            ..PodObs::default()
        };
        self.add_pod(obs, spec, grace);
    }

    fn update_daemon_set_status(&mut self, name: &str, desired: u32, misscheduled: u32) {
        let owner = format!("DaemonSet/{name}");
        let pods: Vec<&PodObs> = self
            .pods
            .values()
            .map(|p| &p.obs)
            .filter(|p| p.spec.owner.as_deref() == Some(owner.as_str()) && !p.terminating)
            .collect();
        let scheduled = u32::try_from(pods.len()).unwrap_or(u32::MAX).saturating_sub(misscheduled);
        let ready = u32::try_from(pods.iter().filter(|p| p.running_and_ready()).count()).unwrap_or(u32::MAX);
        let Some(sim) = self.daemon_sets.get_mut(name) else { return };
        let before = sim.obs.clone();
        let obs = &mut sim.obs;
        obs.observed_generation = obs.generation;
        obs.desired = desired;
        obs.scheduled = scheduled;
        obs.ready = ready;
        obs.available = ready;
        obs.updated = scheduled;
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
