//! The Deployment and ReplicaSet controllers, as far as a scenario needs them: a Deployment's
//! pods under a hash-suffixed ReplicaSet name, kept at the wanted count.

use std::sync::Arc;

use super::{SimCluster, Task, delay};
use crate::timeline::{PodObs, PodSpecObs, TEMPLATE_HASH_LABEL};

/// A Deployment in the simulated API, with its one ReplicaSet.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SimDeployment {
    pub replicas: u32,
    pub replica_set: String,
    pub hash: String,
    pub template: k8s_openapi::api::core::v1::PodTemplateSpec,
}

impl SimCluster {
    /// Creates or replaces Deployment `name`, and has its controller act on it.
    pub(super) fn apply_deployment(&mut self, name: String, spec: k8s_openapi::api::apps::v1::DeploymentSpec) {
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
        self.deployments.insert(name.clone(), SimDeployment { replicas, replica_set: format!("{name}-{hash}"), hash, template });
        self.schedule(delay::CONTROLLER, Task::ReconcileDeployment(name));
    }

    /// The ReplicaSet controller: creates the pods the Deployment is short of.
    pub(super) fn reconcile_deployment(&mut self, name: &str) {
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
}
