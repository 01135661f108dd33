//! Kubernetes objects → the facts the timeline keeps.

use std::sync::Arc;

use k8s_openapi::{
    api::{
        apps::v1::StatefulSet,
        core::v1::{Event as CoreEvent, PersistentVolume, PersistentVolumeClaim, Pod, Service},
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};

use crate::timeline::{ClaimObs, KubeEventObs, PodObs, PodSpecObs, ServiceObs, SetObs, VolumeObs};

fn name(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn uid(meta: &ObjectMeta) -> String {
    meta.uid.clone().unwrap_or_default()
}

/// The controlling owner as `Kind/name`.
fn owner(meta: &ObjectMeta) -> Option<String> {
    meta.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| format!("{}/{}", o.kind, o.name))
}

/// A pod's facts.
#[must_use]
pub fn pod(pod: &Pod) -> PodObs {
    let meta = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let ready = status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
    let statuses: Vec<_> =
        status.init_container_statuses.iter().flatten().chain(status.container_statuses.iter().flatten()).collect();
    let waiting = statuses.iter().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    PodObs {
        name: name(meta).into(),
        uid: uid(meta).into(),
        spec: Arc::new(PodSpecObs {
            owner: owner(meta),
            hostname: spec.hostname.clone(),
            subdomain: spec.subdomain.clone(),
            labels: meta.labels.clone().unwrap_or_default(),
            claims: spec
                .volumes
                .iter()
                .flatten()
                .filter_map(|v| Some((v.name.clone(), v.persistent_volume_claim.as_ref()?.claim_name.clone())))
                .collect(),
            images: spec.containers.iter().filter_map(|c| c.image.clone()).collect(),
            secret_refs: crate::scenario::secret_refs(&spec).into_iter().map(|(s, k)| format!("{s}/{k}")).collect(),
            target_node: crate::timeline::target_node(&spec).map(str::to_owned),
        }),
        phase: crate::timeline::pod_phase(status.phase.as_deref().unwrap_or("Pending")),
        ready,
        terminating: meta.deletion_timestamp.is_some(),
        waiting: waiting.map(Into::into),
        restarts: status.container_statuses.iter().flatten().map(|c| u32::try_from(c.restart_count).unwrap_or(0)).sum(),
        ip: status.pod_ip.as_deref().map(Into::into),
        node: spec.node_name.as_deref().map(Into::into),
    }
}

/// A claim's facts.
#[must_use]
pub fn claim(claim: &PersistentVolumeClaim) -> ClaimObs {
    let spec = claim.spec.clone().unwrap_or_default();
    ClaimObs {
        name: name(&claim.metadata),
        uid: uid(&claim.metadata),
        phase: claim.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
        volume: spec.volume_name.clone(),
        storage_class: spec.storage_class_name.clone(),
        request: spec.resources.and_then(|r| r.requests).and_then(|r| r.get("storage").map(|q| q.0.clone())),
        terminating: claim.metadata.deletion_timestamp.is_some(),
        owners: Some(
            claim
                .metadata
                .owner_references
                .iter()
                .flatten()
                .map(|o| format!("{}/{}{}", o.kind, o.name, if o.controller == Some(true) { "*" } else { "" }))
                .collect(),
        ),
    }
}

/// A volume's facts.
#[must_use]
pub fn volume(volume: &PersistentVolume) -> VolumeObs {
    let spec = volume.spec.clone().unwrap_or_default();
    VolumeObs {
        name: name(&volume.metadata),
        phase: volume.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Pending".into()),
        storage_class: spec.storage_class_name.clone(),
        capacity: spec.capacity.and_then(|c| c.get("storage").map(|q| q.0.clone())),
        claim: spec.claim_ref.and_then(|r| Some(format!("{}/{}", r.namespace?, r.name?))),
    }
}

/// A service's facts.
#[must_use]
pub fn service(service: &Service) -> ServiceObs {
    let spec = service.spec.clone().unwrap_or_default();
    ServiceObs { name: name(&service.metadata), cluster_ip: spec.cluster_ip, selector: spec.selector.unwrap_or_default() }
}

/// A StatefulSet's facts (spec defaults filled in as the API server does).
#[must_use]
pub fn statefulset(set: &StatefulSet) -> SetObs {
    let spec = set.spec.clone().unwrap_or_default();
    let status = set.status.clone().unwrap_or_default();
    let retention = spec.persistent_volume_claim_retention_policy.clone().unwrap_or_default();
    let to_u32 = |n: Option<i32>| n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    SetObs {
        name: name(&set.metadata),
        uid: uid(&set.metadata),
        generation: set.metadata.generation,
        observed_generation: status.observed_generation,
        replicas: spec.replicas.map_or(1, |r| u32::try_from(r).unwrap_or(0)),
        service_name: spec.service_name.clone(),
        pod_management_policy: spec.pod_management_policy.clone().unwrap_or_else(|| "OrderedReady".into()),
        update_strategy: spec.update_strategy.as_ref().and_then(|u| u.type_.clone()).unwrap_or_else(|| "RollingUpdate".into()),
        partition: to_u32(spec.update_strategy.as_ref().and_then(|u| u.rolling_update.as_ref()).and_then(|r| r.partition)),
        max_unavailable: spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.rolling_update.as_ref())
            .and_then(|r| r.max_unavailable.as_ref())
            .map(|m| match m {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => n.to_string(),
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => s.clone(),
            }),
        start_ordinal: to_u32(spec.ordinals.as_ref().and_then(|o| o.start)),
        when_deleted: retention.when_deleted.unwrap_or_else(|| "Retain".into()),
        when_scaled: retention.when_scaled.unwrap_or_else(|| "Retain".into()),
        claim_templates: spec.volume_claim_templates.iter().flatten().filter_map(|t| t.metadata.name.clone()).collect(),
        ready_replicas: to_u32(status.ready_replicas),
        current_revision: status.current_revision.clone(),
        update_revision: status.update_revision.clone(),
        updated_replicas: to_u32(status.updated_replicas),
        current_replicas: Some(to_u32(status.current_replicas)),
        available_replicas: Some(to_u32(status.available_replicas)),
        template_digest: Some(crate::timeline::template_digest(&spec.template)),
        revision_history_limit: spec.revision_history_limit.map(|n| u32::try_from(n).unwrap_or(0)),
        min_ready_seconds: to_u32(spec.min_ready_seconds),
        terminating: set.metadata.deletion_timestamp.is_some(),
        resource_version: set.metadata.resource_version.clone(),
        labels: set.metadata.labels.clone().unwrap_or_default(),
        status_replicas: Some(u32::try_from(status.replicas).unwrap_or(0)),
        conditions: status.conditions.iter().flatten().map(|c| c.type_.clone()).collect(),
        selector: spec
            .selector
            .match_expressions
            .as_ref()
            .is_none_or(Vec::is_empty)
            .then(|| spec.selector.match_labels.clone().unwrap_or_default()),
    }
}

/// A core Event's facts.
#[must_use]
pub fn event(event: &CoreEvent) -> KubeEventObs {
    KubeEventObs {
        kind: event.type_.clone().unwrap_or_else(|| "Normal".into()),
        reason: event.reason.clone().unwrap_or_default(),
        object: format!(
            "{}/{}",
            event.involved_object.kind.clone().unwrap_or_default(),
            event.involved_object.name.clone().unwrap_or_default()
        ),
        message: event.message.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A StatefulSet pod as `kubectl get pod web-1 -o json` prints it (trimmed).
    const POD: &str = r#"{
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {
        "name": "web-1", "namespace": "stsc-x", "uid": "6f0c7a38-55e9-4a1d-9d0e-1b3e2f1b8a11",
        "creationTimestamp": "2026-11-23T10:00:05Z",
        "labels": {"app": "nginx", "apps.kubernetes.io/pod-index": "1",
                   "controller-revision-hash": "web-6c28688f4b", "statefulset.kubernetes.io/pod-name": "web-1"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web",
                             "uid": "0b6b2c1e-0000-4000-8000-000000000001", "controller": true, "blockOwnerDeletion": true}]
      },
      "spec": {
        "hostname": "web-1", "subdomain": "nginx", "nodeName": "kind-worker",
        "containers": [{"name": "nginx", "image": "registry.k8s.io/nginx-slim:0.8",
                        "volumeMounts": [{"name": "www", "mountPath": "/usr/share/nginx/html"}]}],
        "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}},
                    {"name": "kube-api-access-x", "projected": {"sources": []}}]
      },
      "status": {
        "phase": "Running", "podIP": "10.244.1.7",
        "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "False"},
                       {"type": "ContainersReady", "status": "False"}],
        "containerStatuses": [{"name": "nginx", "ready": false, "restartCount": 2, "image": "x", "imageID": "y",
                               "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]
      }
    }"#;

    #[test]
    fn pods_keep_what_the_checks_need() {
        let pod: Pod = serde_json::from_str(POD).expect("pod JSON");
        let obs = super::pod(&pod);
        assert_eq!(obs.name, "web-1".into());
        assert_eq!(obs.spec.owner.as_deref(), Some("StatefulSet/web"));
        assert_eq!((&*obs.phase, obs.ready, obs.terminating), ("Running", false, false));
        assert_eq!(obs.waiting.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(obs.revision(), Some("web-6c28688f4b"));
        assert_eq!(obs.spec.claims.get("www").map(String::as_str), Some("www-web-1"));
        assert_eq!(obs.spec.claims.len(), 1);
        assert_eq!((obs.restarts, obs.ip.as_deref(), obs.node.as_deref()), (2, Some("10.244.1.7"), Some("kind-worker")));
        assert_eq!((obs.spec.hostname.as_deref(), obs.spec.subdomain.as_deref()), (Some("web-1"), Some("nginx")));
    }

    #[test]
    fn statefulsets_get_the_api_defaults() {
        let set: StatefulSet = serde_json::from_str(
            r#"{"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "web", "uid": "u1"},
                "spec": {"serviceName": "nginx", "selector": {"matchLabels": {"app": "nginx"}},
                         "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": [{"name": "nginx"}]}},
                         "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
                         "volumeClaimTemplates": [{"metadata": {"name": "www"}}]},
                "status": {"replicas": 3, "readyReplicas": 3, "currentRevision": "web-a", "updateRevision": "web-b", "updatedReplicas": 1}}"#,
        )
        .expect("set JSON");
        let obs = statefulset(&set);
        assert_eq!((obs.replicas, obs.partition, obs.pod_management_policy.as_str()), (1, 2, "OrderedReady"));
        assert_eq!((obs.when_deleted.as_str(), obs.when_scaled.as_str()), ("Retain", "Retain"));
        assert_eq!(obs.claim_templates, ["www"]);
        assert_eq!((obs.current_revision.as_deref(), obs.update_revision.as_deref()), (Some("web-a"), Some("web-b")));
    }

    #[test]
    fn claims_volumes_services_and_events() {
        let pvc: PersistentVolumeClaim = serde_json::from_str(
            r#"{"metadata": {"name": "www-web-0", "uid": "c1"},
                "spec": {"storageClassName": "standard", "volumeName": "pvc-c1", "resources": {"requests": {"storage": "1Gi"}}},
                "status": {"phase": "Bound"}}"#,
        )
        .expect("pvc");
        let c = claim(&pvc);
        assert_eq!((c.phase.as_str(), c.volume.as_deref(), c.request.as_deref()), ("Bound", Some("pvc-c1"), Some("1Gi")));
        let pv: PersistentVolume = serde_json::from_str(
            r#"{"metadata": {"name": "pv-sfs01"},
                "spec": {"storageClassName": "pv-sfs-test01", "capacity": {"storage": "100Mi"},
                         "claimRef": {"namespace": "ns", "name": "sfs-vol01-sfs-test01-0"}},
                "status": {"phase": "Bound"}}"#,
        )
        .expect("pv");
        assert_eq!(volume(&pv).claim.as_deref(), Some("ns/sfs-vol01-sfs-test01-0"));
        let svc: Service = serde_json::from_str(
            r#"{"metadata": {"name": "nginx"}, "spec": {"clusterIP": "None", "selector": {"app": "nginx"}}}"#,
        )
        .expect("svc");
        assert!(service(&svc).is_headless());
        let ev: CoreEvent = serde_json::from_str(
            r#"{"metadata": {"name": "e1"}, "type": "Warning", "reason": "ProvisioningFailed",
                "involvedObject": {"kind": "PersistentVolumeClaim", "name": "sfs-vol01-sfs-test01-1"},
                "message": "storageclass.storage.k8s.io \"pv-sfs-test01\" not found"}"#,
        )
        .expect("event");
        assert_eq!(event(&ev).object, "PersistentVolumeClaim/sfs-vol01-sfs-test01-1");
    }
}
