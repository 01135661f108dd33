//! The simulated CronJob controller, after `syncCronJob` in Kubernetes'
//! `pkg/controller/cronjob`: on each pass it deletes finished Jobs beyond the history limits,
//! then, unless suspended, starts a Job for the most recent time of the schedule not yet
//! started — named `<cronjob>-<minutes since the epoch>` and annotated with that time — unless
//! `Forbid` finds one still running (the time waits for it), or `Replace` deletes the running
//! ones first. It wakes at each time of the schedule, and when one of its Jobs changes.
//!
//! The virtual clock's zero is [`SIM_EPOCH_S`], so schedules meet real calendar times.

use k8s_openapi::{
    api::batch::v1::{CronJob, Job},
    apimachinery::pkg::apis::meta::v1::{OwnerReference, Time},
    jiff::Timestamp,
};

use super::{Fault, SimCluster, Task, delay};
use crate::{
    cluster::ClusterError,
    cron::Schedule,
    timeline::{Change, CronJobObs, Event, SCHEDULED_ANNOTATION},
};

/// The calendar time (Unix seconds) of the virtual clock's zero: 2026-01-01T00:00:00Z.
pub const SIM_EPOCH_S: i64 = 1_767_225_600;

/// A CronJob in the simulated API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(super) struct SimCronJob {
    pub obj: CronJob,
    pub obs: CronJobObs,
}

impl SimCluster {
    /// The virtual clock as calendar time (Unix seconds).
    pub(super) fn now_s(&self) -> i64 {
        SIM_EPOCH_S + i64::try_from(self.clock / 1000).unwrap_or(0)
    }

    /// Creates or updates CronJob `cron`.
    pub(super) fn apply_cron_job(&mut self, cron: CronJob) -> Result<(), ClusterError> {
        let name = cron.metadata.name.clone().unwrap_or_default();
        let spec = cron.spec.as_ref();
        if let Err(e) = Schedule::parse(spec.map_or("", |s| s.schedule.as_str()), spec.and_then(|s| s.time_zone.as_deref())) {
            return Err(ClusterError::Refused(format!("CronJob.batch \"{name}\" is invalid: spec.schedule: {e}")));
        }
        let (uid, created_s, last) = match self.cron_jobs.get(&name) {
            Some(old) => (old.obs.uid.clone(), old.obs.created_s, old.obs.last_schedule_s),
            None => (self.new_uid(), Some(self.now_s()), None),
        };
        let change = if self.cron_jobs.contains_key(&name) { Change::Modified } else { Change::Added };
        let obs = CronJobObs { uid, created_s, last_schedule_s: last, ..CronJobObs::of(&cron) };
        self.emit(Event::CronJob { change, cron: Box::new(obs.clone()) });
        self.cron_jobs.insert(name.clone(), SimCronJob { obj: cron, obs });
        self.schedule(delay::CONTROLLER, Task::ReconcileCronJob(name));
        Ok(())
    }

    /// One pass of the CronJob controller.
    pub(super) fn reconcile_cron_job(&mut self, name: &str) {
        let Some(sim) = self.cron_jobs.get(name).cloned() else { return };
        let Ok(schedule) = Schedule::parse(&sim.obs.schedule, sim.obs.time_zone.as_deref()) else { return };
        let mine: Vec<(String, bool, bool, i64)> = self
            .jobs
            .values()
            .filter(|j| j.obs.cron_job.as_deref() == Some(name))
            .map(|j| (j.obs.name.clone(), j.obs.finished(), j.obs.complete, j.obs.created_s.unwrap_or(0)))
            .collect();
        if !self.has(Fault::CronjobHistoryUnbounded) {
            for (succeeded, limit) in [(true, sim.obs.successful_history), (false, sim.obs.failed_history)] {
                let mut finished: Vec<&(String, bool, bool, i64)> =
                    mine.iter().filter(|(_, done, ok, _)| *done && *ok == succeeded).collect();
                finished.sort_by_key(|(name, _, _, created)| (*created, name.clone()));
                let excess = finished.len().saturating_sub(limit as usize);
                for (job, ..) in finished.into_iter().take(excess) {
                    self.delete_job(job);
                }
            }
        }
        let now = self.now_s();
        if !sim.obs.suspend {
            let since = sim.obs.last_schedule_s.or(sim.obs.created_s).unwrap_or(now);
            let due = schedule.latest_at_or_before(now, now - since).filter(|t| *t > since);
            if let Some(at) = due {
                let running: Vec<String> =
                    mine.iter().filter(|(n, done, ..)| !done && self.jobs.contains_key(n)).map(|j| j.0.clone()).collect();
                let late = sim.obs.starting_deadline_s.is_some_and(|d| now - at > d);
                let missed = self.has(Fault::CronjobTickMissed) && sim.obs.last_schedule_s.is_some();
                let forbidden =
                    sim.obs.concurrency_policy == "Forbid" && !running.is_empty() && !self.has(Fault::CronjobForbidIgnored);
                if !forbidden {
                    if !late && !missed {
                        if sim.obs.concurrency_policy == "Replace" {
                            for job in &running {
                                self.delete_job(job);
                            }
                        }
                        self.start_cron_job_run(&sim, at);
                    }
                    if let Some(c) = self.cron_jobs.get_mut(name) {
                        c.obs.last_schedule_s = Some(at);
                        let cron = Box::new(c.obs.clone());
                        self.emit(Event::CronJob { change: Change::Modified, cron });
                    }
                }
            }
        }
        // Wake at the next time of the schedule.
        if let Some(next) = schedule.next_after(now) {
            let wait_ms = u64::try_from((next - now) * 1000).unwrap_or(0).saturating_sub(self.clock % 1000);
            self.schedule(wait_ms + delay::CONTROLLER, Task::ReconcileCronJob(name.to_owned()));
        }
    }

    /// Creates the Job for time `at` from the CronJob's template.
    fn start_cron_job_run(&mut self, sim: &SimCronJob, at: i64) {
        let cron = &sim.obs.name;
        let mut job = Job {
            metadata: sim.obj.spec.as_ref().and_then(|s| s.job_template.metadata.clone()).unwrap_or_default(),
            spec: sim.obj.spec.as_ref().and_then(|s| s.job_template.spec.clone()),
            status: None,
        };
        job.metadata.name = Some(format!("{cron}-{}", at.div_euclid(60)));
        job.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "batch/v1".into(),
            kind: "CronJob".into(),
            name: cron.clone(),
            uid: sim.obs.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        let stamp = |s: i64| Timestamp::from_second(s).map(Time).ok();
        job.metadata
            .annotations
            .get_or_insert_default()
            .insert(SCHEDULED_ANNOTATION.to_owned(), stamp(at).map(|t| t.0.to_string()).unwrap_or_default());
        job.metadata.creation_timestamp = stamp(self.now_s());
        // The name is the time's: a second pass at the same time finds it taken.
        let _ = self.apply_job(job);
    }

    /// Deletes Job `name` (background propagation: the Job goes at once, its pods after).
    pub(super) fn delete_job(&mut self, name: &str) {
        let Some(sim) = self.jobs.remove(name) else { return };
        self.emit(Event::Job { change: Change::Deleted, job: Box::new(sim.obs) });
        let pods: Vec<String> =
            self.pods.values().filter(|p| p.obs.owned_by("Job", name)).map(|p| p.obs.name.to_string()).collect();
        for pod in pods {
            self.begin_pod_deletion(&pod);
        }
    }
}
