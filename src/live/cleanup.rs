//! Deleting what the harness created — and nothing else.
//!
//! Every deletion is of one object, by name, after re-reading it and finding the harness's
//! labels on it (`app.kubernetes.io/managed-by: sts-conformance`, and the run's id when a run
//! cleans up after itself). A namespace is deleted whole (its contents go with it); cluster-
//! scoped objects (static volumes) are deleted one by one.

use std::{collections::BTreeSet, time::Duration};

use k8s_openapi::api::core::v1::{Namespace, PersistentVolume};
use kube::{
    Api, Client, ResourceExt,
    api::{DeleteParams, ListParams},
    runtime::wait::{await_condition, conditions},
};

use super::{connect::explain, managed};
use crate::{
    cluster::ClusterError,
    plan::{MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL},
};

/// An object an earlier run left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// `Namespace` or `PersistentVolume`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The run that created it.
    pub run: String,
}

/// Deletes the run's namespace and the cluster-scoped objects it created, each after checking
/// its labels, and waits (by watch, up to `bound`) for the namespace to be gone.
///
/// # Errors
/// What could not be deleted, or a namespace still there after `bound` — all in one message.
pub async fn delete_run(
    client: &Client,
    namespace: &str,
    run: &str,
    cluster_scoped: &BTreeSet<(String, String)>,
    bound: Duration,
) -> Result<(), ClusterError> {
    let mut problems = Vec::new();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut uid = None;
    if !namespace.is_empty() {
        match namespaces.get_opt(namespace).await {
            Ok(Some(ns)) if managed(ns.metadata.labels.as_ref(), Some(run)) => {
                uid = ns.metadata.uid.clone();
                if let Err(e) = namespaces.delete(namespace, &DeleteParams::background()).await {
                    problems.push(explain(&format!("deleting namespace {namespace}"), &e));
                }
            }
            Ok(Some(_)) => problems.push(format!("namespace {namespace} does not carry this run's labels: left alone")),
            Ok(None) => {}
            Err(e) => problems.push(explain(&format!("reading namespace {namespace}"), &e)),
        }
    }
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for (kind, name) in cluster_scoped.iter().filter(|(k, _)| k == "PersistentVolume") {
        match volumes.get_opt(name).await {
            Ok(Some(pv)) if managed(pv.metadata.labels.as_ref(), Some(run)) => {
                if let Err(e) = volumes.delete(name, &DeleteParams::background()).await {
                    problems.push(explain(&format!("deleting {kind} {name}"), &e));
                }
            }
            Ok(Some(_)) => problems.push(format!("{kind} {name} does not carry this run's labels: left alone")),
            Ok(None) => {}
            Err(e) => problems.push(explain(&format!("reading {kind} {name}"), &e)),
        }
    }
    if let Some(uid) = uid {
        let gone = await_condition(namespaces, namespace, conditions::is_deleted(&uid));
        match tokio::time::timeout(bound, gone).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => problems.push(format!("waiting for namespace {namespace} to go: {e}")),
            Err(_) => problems.push(format!(
                "namespace {namespace} was still terminating after {}s (finalizers?); check `kubectl get ns {namespace} -o yaml`",
                bound.as_secs()
            )),
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ClusterError::Cleanup(problems.join("; "))) }
}

/// Everything an earlier run left behind: namespaces and volumes labelled as the harness's.
///
/// # Errors
/// When the objects cannot be listed.
pub async fn leftovers(client: &Client) -> Result<Vec<Leftover>, ClusterError> {
    let selector = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"));
    let mut found = Vec::new();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for ns in namespaces.list(&selector).await.map_err(|e| ClusterError::kube("listing namespaces", e))?.items {
        found.push(Leftover {
            kind: "Namespace",
            name: ns.name_any(),
            run: ns.labels().get(RUN_LABEL).cloned().unwrap_or_default(),
        });
    }
    let volumes: Api<PersistentVolume> = Api::all(client.clone());
    for pv in volumes.list(&selector).await.map_err(|e| ClusterError::kube("listing persistent volumes", e))?.items {
        found.push(Leftover {
            kind: "PersistentVolume",
            name: pv.name_any(),
            run: pv.labels().get(RUN_LABEL).cloned().unwrap_or_default(),
        });
    }
    Ok(found)
}

/// Deletes `leftovers`, each after re-reading it and finding the harness's label; returns one
/// line per object saying what happened.
pub async fn remove_leftovers(client: &Client, leftovers: &[Leftover]) -> Vec<String> {
    let mut report = Vec::new();
    for leftover in leftovers {
        let line = match leftover.kind {
            "Namespace" => remove::<Namespace>(client, &leftover.name).await,
            _ => remove::<PersistentVolume>(client, &leftover.name).await,
        };
        report.push(format!("{} {}: {line}", leftover.kind, leftover.name));
    }
    report
}

async fn remove<K>(client: &Client, name: &str) -> String
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    match api.get_opt(name).await {
        Ok(Some(object)) if managed(object.meta().labels.as_ref(), None) => {
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => "deleted".into(),
                Err(e) => explain("deleting", &e),
            }
        }
        Ok(Some(_)) => "not labelled as the harness's: left alone".into(),
        Ok(None) => "already gone".into(),
        Err(e) => explain("reading", &e),
    }
}
