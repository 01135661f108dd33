//! Jobs as observed: what their spec asks (completions, parallelism, backoff limit) and what
//! their status says.

use serde::{Deserialize, Serialize};

/// What the checks need of a Job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobObs {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `spec.completions`: how many pods must succeed; `None` is a work queue (parallelism set,
    /// completions not): done when one succeeds and none runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completions: Option<u32>,
    /// `spec.parallelism` (default 1): the most pods running at once.
    pub parallelism: u32,
    /// `spec.backoffLimit` (default 6).
    pub backoff_limit: u32,
    /// `status.active`.
    #[serde(default)]
    pub active: u32,
    /// `status.succeeded`.
    #[serde(default)]
    pub succeeded: u32,
    /// `status.failed`.
    #[serde(default)]
    pub failed: u32,
    /// The `Complete` condition is True.
    #[serde(default)]
    pub complete: bool,
    /// The `Failed` condition is True.
    #[serde(default)]
    pub failed_condition: bool,
}

impl JobObs {
    /// A Job's spec and status, with the API's defaults (both completions and parallelism
    /// unset: one pod).
    #[must_use]
    pub fn of(job: &k8s_openapi::api::batch::v1::Job) -> Self {
        let spec = job.spec.clone().unwrap_or_default();
        let status = job.status.clone().unwrap_or_default();
        let count = |n: Option<i32>| n.map_or(0, |n| u32::try_from(n).unwrap_or(0));
        let condition = |kind: &str| status.conditions.iter().flatten().any(|c| c.type_ == kind && c.status == "True");
        let completions = match (spec.completions, spec.parallelism) {
            (None, None) => Some(1),
            (c, _) => c.map(|c| u32::try_from(c).unwrap_or(0)),
        };
        JobObs {
            name: job.metadata.name.clone().unwrap_or_default(),
            uid: job.metadata.uid.clone().unwrap_or_default(),
            completions,
            parallelism: spec.parallelism.map_or(1, |p| u32::try_from(p).unwrap_or(0)),
            backoff_limit: spec.backoff_limit.map_or(6, |b| u32::try_from(b).unwrap_or(0)),
            active: count(status.active),
            succeeded: count(status.succeeded),
            failed: count(status.failed),
            complete: condition("Complete"),
            failed_condition: condition("Failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_read_with_the_api_defaults() {
        let job: k8s_openapi::api::batch::v1::Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "backup-job", "uid": "u"},
            "spec": {"template": {"spec": {"containers": [], "restartPolicy": "OnFailure"}}, "backoffLimit": 4},
            "status": {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
        }))
        .expect("a Job");
        let obs = JobObs::of(&job);
        assert_eq!((obs.completions, obs.parallelism, obs.backoff_limit), (Some(1), 1, 4));
        assert!(obs.complete && !obs.failed_condition);
        assert_eq!(obs.succeeded, 1);
        let queue: k8s_openapi::api::batch::v1::Job = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "q"}, "spec": {"parallelism": 3, "template": {}}
        }))
        .expect("a Job");
        assert_eq!((JobObs::of(&queue).completions, JobObs::of(&queue).parallelism), (None, 3));
    }
}
