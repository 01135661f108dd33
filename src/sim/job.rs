//! The simulated Job controller, after `syncJob` in Kubernetes' `pkg/controller/job`: keep
//! `min(parallelism, completions - succeeded)` pods running, count the ones that succeed, and
//! mark the Job `Complete` once `completions` have (a work queue: once one has and none runs).
//! The sim's kubelet runs a Job's container to a successful exit a moment after it is Ready.

use k8s_openapi::api::batch::v1::Job;

use super::{Fault, SimCluster, Task, delay};
use crate::{
    cluster::ClusterError,
    timeline::{Change, Event, JobObs, PodObs},
};

/// A Job in the simulated API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SimJob {
    pub obj: Job,
    pub obs: JobObs,
    /// When the controller last saw a pod of it fail (virtual ms), for the retry back-off.
    #[serde(default)]
    pub last_failure_ms: u64,
}

impl SimCluster {
    /// Creates Job `job`; its pod template cannot change afterwards, as the API server says.
    pub(super) fn apply_job(&mut self, job: Job) -> Result<(), ClusterError> {
        let name = job.metadata.name.clone().unwrap_or_default();
        if let Some(existing) = self.jobs.get(&name) {
            if existing.obj.spec.as_ref().map(|s| &s.template) != job.spec.as_ref().map(|s| &s.template) {
                return Err(ClusterError::Refused(format!(
                    "Job.batch \"{name}\" is invalid: spec.template: Invalid value: field is immutable"
                )));
            }
            return Ok(());
        }
        let obs = JobObs { uid: self.new_uid(), ..JobObs::of(&job) };
        self.emit(Event::Job { change: Change::Added, job: Box::new(obs.clone()) });
        self.jobs.insert(name.clone(), SimJob { obj: job, obs, last_failure_ms: 0 });
        self.schedule(delay::CONTROLLER, Task::ReconcileJob(name));
        Ok(())
    }

    /// One pass of the Job controller.
    pub(super) fn reconcile_job(&mut self, name: &str) {
        let Some(sim) = self.jobs.get(name).cloned() else { return };
        if sim.obs.complete || sim.obs.failed_condition {
            return;
        }
        let pods: Vec<PodObs> = self.pods.values().map(|p| p.obs.clone()).filter(|p| p.owned_by("Job", name)).collect();
        let running = pods.iter().filter(|p| p.phase != "Succeeded" && p.phase != "Failed" && !p.terminating).count() as u32;
        let succeeded = pods.iter().filter(|p| p.phase == "Succeeded").count() as u32;
        // Under OnFailure a failure is a container restart in a pod that keeps running.
        let failed = pods.iter().filter(|p| p.phase == "Failed").count() as u32 + pods.iter().map(|p| p.restarts).sum::<u32>();
        // A faulty controller believes its own count, so its status agrees with it.
        let target = sim.obs.completions.map(|c| c + u32::from(self.has(Fault::JobCompletionsExceeded)));
        let complete = match target {
            Some(c) => succeeded >= c,
            None => succeeded > 0 && running == 0,
        };
        if failed > sim.obs.failed
            && let Some(job) = self.jobs.get_mut(name)
        {
            job.last_failure_ms = self.clock;
        }
        // Past the back-off limit the Job has failed: its running pods are deleted.
        let failed_now = failed > sim.obs.backoff_limit && !self.has(Fault::JobBackoffIgnored);
        if failed_now {
            for pod in pods.iter().filter(|p| p.phase != "Succeeded" && p.phase != "Failed") {
                self.begin_pod_deletion(&pod.name);
            }
        }
        // After a failure, a replacement waits 10 s, doubling with each failure (at most 6 min).
        let last_failure = self.jobs.get(name).map_or(0, |j| j.last_failure_ms);
        let backoff = if failed == 0 { 0 } else { (10_000u64 << (failed - 1).min(6)).min(360_000) };
        let waiting = failed > 0 && self.clock < last_failure + backoff;
        if waiting && !failed_now && !complete {
            self.schedule(last_failure + backoff - self.clock, Task::ReconcileJob(name.to_owned()));
        }
        if !complete && !failed_now && !waiting {
            let parallelism = sim.obs.parallelism + u32::from(self.has(Fault::JobParallelismExceeded));
            let wanted = target.map_or(parallelism, |c| parallelism.min(c.saturating_sub(succeeded)));
            let wanted = if target.is_none() && succeeded > 0 { 0 } else { wanted };
            for _ in running..wanted {
                self.create_job_pod(&sim);
            }
        }
        let running = self
            .pods
            .values()
            .filter(|p| p.obs.owned_by("Job", name))
            .filter(|p| p.obs.phase != "Succeeded" && p.obs.phase != "Failed" && !p.obs.terminating)
            .count() as u32;
        let Some(sim) = self.jobs.get_mut(name) else { return };
        let before = sim.obs.clone();
        let obs = &mut sim.obs;
        (obs.active, obs.succeeded, obs.failed, obs.complete) = (running, succeeded, failed, complete);
        if failed_now {
            obs.failed_condition = true;
            obs.failed_reason = Some("BackoffLimitExceeded".to_owned());
        }
        if *obs != before {
            let job = Box::new(obs.clone());
            let cron = job.cron_job.clone();
            self.emit(Event::Job { change: Change::Modified, job });
            // The CronJob controller watches its Jobs.
            if let Some(cron) = cron {
                self.schedule(delay::CONTROLLER, Task::ReconcileCronJob(cron));
            }
        }
    }

    fn create_job_pod(&mut self, sim: &SimJob) {
        let template = sim.obj.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
        self.create_controlled_pod(("Job", &sim.obs.name), &template, &[], None);
    }
}
