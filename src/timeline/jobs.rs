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
    /// The `Failed` condition's reason (`BackoffLimitExceeded`, `DeadlineExceeded`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
    /// The pod template's `restartPolicy` (`Never`, `OnFailure`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub restart_policy: String,
    /// The CronJob that controls it, if one does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron_job: Option<String>,
    /// For a CronJob's Job: the schedule time it was made for (Unix seconds), from the
    /// controller's `batch.kubernetes.io/cronjob-scheduled-timestamp` annotation or, on
    /// clusters older than 1.28, from its name (`<cronjob>-<minutes since the epoch>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_s: Option<i64>,
    /// `metadata.creationTimestamp` (Unix seconds, the API server's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_s: Option<i64>,
    /// Its deletion has begun.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminating: bool,
}

/// The annotation the CronJob controller sets on a Job to the time it was scheduled for.
pub const SCHEDULED_ANNOTATION: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

impl JobObs {
    /// A Job's spec and status, with the API's defaults (both completions and parallelism
    /// unset: one pod).
    #[must_use]
    pub fn of(job: &k8s_openapi::api::batch::v1::Job) -> Self {
        let spec = job.spec.clone().unwrap_or_default();
        let status = job.status.clone().unwrap_or_default();
        let count = |n: Option<i32>| n.map_or(0, |n| u32::try_from(n).unwrap_or(0));
        let condition = |kind: &str| status.conditions.iter().flatten().any(|c| c.type_ == kind && c.status == "True");
        let cron_job = job
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true) && o.kind == "CronJob")
            .map(|o| o.name.clone());
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
            failed_reason: status
                .conditions
                .iter()
                .flatten()
                .find(|c| c.type_ == "Failed" && c.status == "True")
                .and_then(|c| c.reason.clone()),
            restart_policy: spec.template.spec.as_ref().and_then(|s| s.restart_policy.clone()).unwrap_or_default(),
            cron_job: cron_job.clone(),
            scheduled_s: cron_job.as_deref().and_then(|owner| scheduled_time(&job.metadata, owner)),
            created_s: job.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second()),
            terminating: job.metadata.deletion_timestamp.is_some(),
        }
    }

    /// It has ended, `Complete` or `Failed`, as the CronJob controller's `IsJobFinished` says.
    #[must_use]
    pub fn finished(&self) -> bool {
        self.complete || self.failed_condition
    }
}

/// When a CronJob's Job was scheduled for: the controller's annotation, else its name's suffix.
fn scheduled_time(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta, owner: &str) -> Option<i64> {
    let annotated = meta.annotations.as_ref().and_then(|a| a.get(SCHEDULED_ANNOTATION));
    if let Some(at) = annotated.and_then(|a| a.parse::<k8s_openapi::jiff::Timestamp>().ok()) {
        return Some(at.as_second());
    }
    let minutes = meta.name.as_deref()?.strip_prefix(owner)?.strip_prefix('-')?.parse::<i64>().ok()?;
    minutes.checked_mul(60)
}

/// What the checks need of a CronJob.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobObs {
    /// Name.
    pub name: String,
    /// UID.
    pub uid: String,
    /// `spec.schedule`.
    pub schedule: String,
    /// `spec.timeZone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `spec.concurrencyPolicy` (default `Allow`).
    pub concurrency_policy: String,
    /// `spec.suspend`.
    #[serde(default)]
    pub suspend: bool,
    /// `spec.startingDeadlineSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_deadline_s: Option<i64>,
    /// `spec.successfulJobsHistoryLimit` (default 3).
    pub successful_history: u32,
    /// `spec.failedJobsHistoryLimit` (default 1).
    pub failed_history: u32,
    /// `metadata.creationTimestamp` (Unix seconds, the API server's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_s: Option<i64>,
    /// `status.lastScheduleTime` (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_schedule_s: Option<i64>,
}

impl CronJobObs {
    /// A CronJob's spec and status, with the API's defaults.
    #[must_use]
    pub fn of(cron: &k8s_openapi::api::batch::v1::CronJob) -> Self {
        let spec = cron.spec.clone().unwrap_or_default();
        let limit = |n: Option<i32>, default: u32| n.map_or(default, |n| u32::try_from(n).unwrap_or(0));
        CronJobObs {
            name: cron.metadata.name.clone().unwrap_or_default(),
            uid: cron.metadata.uid.clone().unwrap_or_default(),
            schedule: spec.schedule,
            time_zone: spec.time_zone,
            concurrency_policy: spec.concurrency_policy.unwrap_or_else(|| "Allow".to_owned()),
            suspend: spec.suspend.unwrap_or(false),
            starting_deadline_s: spec.starting_deadline_seconds,
            successful_history: limit(spec.successful_jobs_history_limit, 3),
            failed_history: limit(spec.failed_jobs_history_limit, 1),
            created_s: cron.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second()),
            last_schedule_s: cron.status.as_ref().and_then(|s| s.last_schedule_time.as_ref()).map(|t| t.0.as_second()),
        }
    }

    /// Whether two observations ask for the same times (schedule, zone, suspension).
    #[must_use]
    pub fn same_times(&self, other: &Self) -> bool {
        (&self.schedule, &self.time_zone, self.suspend) == (&other.schedule, &other.time_zone, other.suspend)
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

    #[test]
    fn a_cronjobs_job_knows_its_schedule_time_from_the_annotation_or_its_name() {
        let owned = |name: &str, annotations: serde_json::Value| -> JobObs {
            JobObs::of(
                &serde_json::from_value(serde_json::json!({
                    "metadata": {
                        "name": name, "annotations": annotations,
                        "creationTimestamp": "2026-12-03T01:02:00Z",
                        "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "daily-backup",
                                             "uid": "c", "controller": true}]
                    },
                    "spec": {"template": {}}
                }))
                .expect("a Job"),
            )
        };
        let by_name = owned("daily-backup-29937662", serde_json::json!({}));
        assert_eq!(by_name.cron_job.as_deref(), Some("daily-backup"));
        assert_eq!(by_name.scheduled_s, Some(29_937_662 * 60));
        assert_eq!(by_name.created_s, Some(29_937_662 * 60));
        let annotated = owned("daily-backup-x", serde_json::json!({SCHEDULED_ANNOTATION: "2026-12-03T01:02:00Z"}));
        assert_eq!(annotated.scheduled_s, Some(29_937_662 * 60));
        let unowned =
            JobObs::of(&serde_json::from_value(serde_json::json!({"metadata": {"name": "daily-backup-1"}})).expect("a Job"));
        assert_eq!((unowned.cron_job, unowned.scheduled_s), (None, None));
    }

    #[test]
    fn cronjobs_read_with_the_api_defaults() {
        let cron: k8s_openapi::api::batch::v1::CronJob = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "daily-backup"},
            "spec": {"schedule": "0 2 * * *", "jobTemplate": {}},
            "status": {"lastScheduleTime": "2026-12-03T02:00:00Z"}
        }))
        .expect("a CronJob");
        let obs = CronJobObs::of(&cron);
        assert_eq!((obs.concurrency_policy.as_str(), obs.successful_history, obs.failed_history), ("Allow", 3, 1));
        assert!(!obs.suspend && obs.last_schedule_s.is_some());
    }
}
