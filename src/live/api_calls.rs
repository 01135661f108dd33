//! The requests of an `apiSurface` or `deleteCollection` step: the StatefulSet's scale and
//! status subresources, a list and a delete-collection by labels — each answered with the
//! facts the `api-surface` check compares with the watch.

use std::collections::BTreeMap;

use k8s_openapi::api::{
    apps::v1::{StatefulSet, StatefulSetCondition},
    autoscaling::v1::Scale,
};
use kube::{
    Api,
    api::{DeleteParams, ListParams, Patch, PatchParams, PostParams},
};
use serde_json::json;

use super::request;
use crate::{
    cluster::{ClusterError, ProbeError},
    timeline::{ApiAnswer, ApiCall},
};

/// How many times a read-modify-write is tried when another writer (the controller) changed
/// the object in between (409 Conflict), as client-go's `RetryOnConflict`.
const CONFLICT_TRIES: usize = 5;

/// The reason and message of a condition the harness writes.
const REASON: &str = "StsConformance";

/// Makes `call` through `api` (the run's namespace).
pub(super) async fn call(api: &Api<StatefulSet>, call: &ApiCall) -> Result<ApiAnswer, ProbeError> {
    let doing = call.describe();
    let (post, patch_params, background) = (PostParams::default(), PatchParams::default(), DeleteParams::background());
    let failed = |e: ClusterError| e.into_probe_error();
    match call {
        ApiCall::GetScale { set } => request(&doing, None, || api.get_scale(set)).await.map(|s| scale(&s)).map_err(failed),
        ApiCall::UpdateScale { set, replicas } => {
            let mut tries = 0;
            loop {
                let mut current = request(&doing, None, || api.get_scale(set)).await.map_err(failed)?;
                current.spec.get_or_insert_default().replicas = Some(i32::try_from(*replicas).unwrap_or(i32::MAX));
                match request(&doing, None, || api.replace_scale(set, &post, &current)).await {
                    Err(e) if e.code() == Some(409) && tries + 1 < CONFLICT_TRIES => tries += 1,
                    result => return result.map(|s| scale(&s)).map_err(failed),
                }
            }
        }
        ApiCall::PatchScale { set, replicas } => {
            let patch = Patch::Merge(json!({"spec": {"replicas": replicas}}));
            request(&doing, None, || api.patch_scale(set, &patch_params, &patch)).await.map(|s| scale(&s)).map_err(failed)
        }
        ApiCall::GetStatus { set } => request(&doing, None, || api.get_status(set)).await.map(|s| status(&s)).map_err(failed),
        ApiCall::UpdateStatus { set, condition } => {
            let mut tries = 0;
            loop {
                let mut current = request(&doing, None, || api.get_status(set)).await.map_err(failed)?;
                let conditions = current.status.get_or_insert_default().conditions.get_or_insert_default();
                conditions.retain(|c| &c.type_ != condition);
                conditions.push(written(condition, "PUT"));
                match request(&doing, None, || api.replace_status(set, &post, &current)).await {
                    Err(e) if e.code() == Some(409) && tries + 1 < CONFLICT_TRIES => tries += 1,
                    result => return result.map(|s| status(&s)).map_err(failed),
                }
            }
        }
        ApiCall::PatchStatus { set, condition } => {
            // A merge patch replaces the list, as upstream's spec sends it.
            let patch = Patch::Merge(json!({"status": {"conditions": [written(condition, "PATCH")]}}));
            request(&doing, None, || api.patch_status(set, &patch_params, &patch)).await.map(|s| status(&s)).map_err(failed)
        }
        ApiCall::List { labels } => {
            let params = ListParams::default().labels(&selector(labels));
            let list = request(&doing, None, || api.list(&params)).await.map_err(failed)?;
            Ok(ApiAnswer { names: list.items.iter().filter_map(|s| s.metadata.name.clone()).collect(), ..Default::default() })
        }
        ApiCall::DeleteCollection { labels } => {
            let params = ListParams::default().labels(&selector(labels));
            let deleted = request(&doing, None, || api.delete_collection(&background, &params)).await.map_err(failed)?;
            // The API server answers with the list of what it deleted (or a Status).
            let names = deleted.left().map(|list| list.items.iter().filter_map(|s| s.metadata.name.clone()).collect());
            Ok(ApiAnswer { names: names.unwrap_or_default(), ..Default::default() })
        }
    }
}

/// `k=v,k2=v2`.
fn selector(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

fn written(condition: &str, how: &str) -> StatefulSetCondition {
    StatefulSetCondition {
        type_: condition.to_owned(),
        status: "True".into(),
        reason: Some(REASON.into()),
        message: Some(format!("written by sts-conformance through {how} statefulsets/status")),
        ..Default::default()
    }
}

fn to_u32(n: Option<i32>) -> Option<u32> {
    n.and_then(|n| u32::try_from(n).ok())
}

fn scale(scale: &Scale) -> ApiAnswer {
    ApiAnswer {
        resource_version: scale.metadata.resource_version.clone(),
        spec_replicas: to_u32(scale.spec.as_ref().and_then(|s| s.replicas)).or(Some(0)),
        status_replicas: scale.status.as_ref().and_then(|s| u32::try_from(s.replicas).ok()),
        ..Default::default()
    }
}

fn status(set: &StatefulSet) -> ApiAnswer {
    let status = set.status.clone().unwrap_or_default();
    ApiAnswer {
        resource_version: set.metadata.resource_version.clone(),
        spec_replicas: set.spec.as_ref().map(|s| to_u32(s.replicas).unwrap_or(1)),
        status_replicas: u32::try_from(status.replicas).ok(),
        ready_replicas: Some(to_u32(status.ready_replicas).unwrap_or(0)),
        observed_generation: status.observed_generation,
        conditions: status.conditions.iter().flatten().map(|c| c.type_.clone()).collect(),
        names: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selector_is_the_labels_joined() {
        let labels: BTreeMap<String, String> = [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        assert_eq!(selector(&labels), "a=1,b=2");
    }

    #[test]
    fn a_scale_answer_keeps_version_and_counts() {
        let s: Scale = serde_json::from_value(json!({
            "metadata": {"name": "web", "resourceVersion": "42"},
            "spec": {"replicas": 3},
            "status": {"replicas": 2, "selector": "app=nginx"}
        }))
        .expect("a Scale");
        assert_eq!(
            scale(&s),
            ApiAnswer {
                resource_version: Some("42".into()),
                spec_replicas: Some(3),
                status_replicas: Some(2),
                ..Default::default()
            }
        );
    }
}
