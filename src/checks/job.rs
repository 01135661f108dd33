//! A Job runs to completion: `completions` pods succeed, never more than `parallelism` at once.

use std::collections::BTreeSet;

use super::findings::Findings;
use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Change, Event, PodObs};

/// The Job a pod belongs to, from its controlling owner.
fn job_of(pod: &PodObs) -> Option<&str> {
    pod.owner_of_kind("Job")
}

/// Whether a pod of a Job is running: created, not finished, not terminating.
fn running(pod: &PodObs) -> bool {
    pod.phase != "Succeeded" && pod.phase != "Failed" && !pod.terminating
}

/// **job-completion** — a Job's pods run `parallelism` at a time at most (a pod runs from its
/// creation until it succeeds, fails or begins terminating), and no more of them succeed than
/// `completions`; at the window's end `completions` pods have succeeded and the Job is
/// `Complete` (a shortfall: `inconclusive` after a step that ended early). A Job that ended
/// `Failed` says its pods could not run here, not that the controller broke a rule:
/// `inconclusive`.
pub(super) fn job_completion(window: &Window<'_>) -> Outcome {
    let check = CheckName::JobCompletion;
    let name = window.target;
    let mut found = Findings::default();
    let mut evidence = Vec::new();
    let mut most = 0usize;
    // The largest parallelism the window shows: it may change, and a Job's status arrives on
    // a watch of its own.
    let before = window.view_before();
    let mut parallelism = before.jobs.get(name).map_or(0, |j| j.parallelism);
    for entry in window.entries() {
        if let Event::Job { job, .. } = &entry.event
            && job.name == name
        {
            parallelism = parallelism.max(job.parallelism);
        }
    }
    let mut now: BTreeSet<String> =
        before.pods.values().filter(|p| job_of(p) == Some(name) && running(p)).map(|p| p.name.to_string()).collect();
    let after = window.replay(|_, entry| {
        let Event::Pod { change, pod } = &entry.event else { return };
        if job_of(pod) != Some(name) {
            return;
        }
        evidence.push(entry.seq);
        if *change != Change::Deleted && running(pod) {
            now.insert(pod.name.to_string());
        } else {
            now.remove(&*pod.name);
        }
        most = most.max(now.len());
        if parallelism > 0 && now.len() > parallelism as usize {
            let names: Vec<&str> = now.iter().map(String::as_str).collect();
            found.violation(
                format!(
                    "{} pods of {name} ran at once ({}), parallelism {parallelism} (#{})",
                    now.len(),
                    names.join(", "),
                    entry.seq
                ),
                vec![entry.seq],
            );
        }
    });
    let Some(job) = after.jobs.get(name) else {
        return Outcome::new(check, Verdict::NotApplicable, format!("no Job {name} at the end of the window"), vec![]);
    };
    let succeeded: BTreeSet<&str> = window.timeline.entries[..window.range.end]
        .iter()
        .filter_map(|e| match &e.event {
            Event::Pod { pod, .. } if job_of(pod) == Some(name) && pod.phase == "Succeeded" => Some(&*pod.uid),
            _ => None,
        })
        .collect();
    if let Some(completions) = job.completions
        && succeeded.len() > completions as usize
    {
        found.violation(format!("{} pods of {name} succeeded, completions {completions}", succeeded.len()), vec![]);
    }
    if job.failed_condition {
        if let Some(outcome) = found.outcome(check, window) {
            return outcome;
        }
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{name} ended Failed ({} pod failures): its pods could not run to completion here", job.failed),
            evidence,
        );
    }
    if !job.complete {
        found.shortfall(format!("{name} is not Complete ({} pods succeeded)", succeeded.len()), vec![]);
    } else if let Some(completions) = job.completions
        && succeeded.len() < completions as usize
    {
        // The Job's own status says done: the history missed a success (a watch gap, a pod
        // removed before it was seen), which says nothing against the controller.
        found.unknown(format!("{name} is Complete, but only {} of {completions} successes were seen", succeeded.len()), vec![]);
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let wanted = job.completions.map_or_else(|| "its work queue".to_owned(), |c| format!("{c} completions"));
    Outcome::new(
        check,
        Verdict::Pass,
        format!(
            "{name} Complete: {} pods succeeded for {wanted}, at most {most} running at once (parallelism {parallelism})",
            succeeded.len()
        ),
        evidence,
    )
}

/// **job-backoff** — a Job whose pods fail is retried until `backoffLimit` + 1 of them have
/// failed, then marked `Failed` (`BackoffLimitExceeded`), and no pod is created after that
/// (`restartPolicy: Never`, where each failure is a pod in phase `Failed`; under `OnFailure` the
/// kubelet restarts the container in place, which this does not judge). The controller's own
/// count (`status.failed`) stands when the history saw fewer failures (a watch gap); with
/// `parallelism` p, a pod created past the limit is certain only beyond p − 1 more failures,
/// which the controller may not have counted yet when it decided.
pub(super) fn job_backoff(window: &Window<'_>) -> Outcome {
    let check = CheckName::JobBackoff;
    let name = window.target;
    let mut found = Findings::default();
    let mut evidence = Vec::new();
    let before = window.view_before();
    // The controller decides a replacement on its count of failures, which may not yet hold
    // the other pods running beside the one it replaces (parallelism − 1 of them): only a pod
    // created past that many more failures is certainly past the limit.
    let mut limit = before.jobs.get(name).map(|j| (j.backoff_limit, j.parallelism.saturating_sub(1)));
    let mut seen: BTreeSet<String> =
        before.pods.values().filter(|p| job_of(p) == Some(name)).map(|p| p.uid.to_string()).collect();
    let mut failed: BTreeSet<String> =
        before.pods.values().filter(|p| job_of(p) == Some(name) && p.phase == "Failed").map(|p| p.uid.to_string()).collect();
    let after = window.replay(|_, entry| match &entry.event {
        Event::Job { job, .. } if job.name == name => limit = Some((job.backoff_limit, job.parallelism.saturating_sub(1))),
        Event::Pod { pod, .. } if job_of(pod) == Some(name) => {
            evidence.push(entry.seq);
            if seen.insert(pod.uid.to_string())
                && let Some((limit, in_flight)) = limit
                && failed.len() > (limit + in_flight) as usize
            {
                found.violation(
                    format!(
                        "{} created after {} pods of {name} had failed, backoffLimit {limit} (#{})",
                        pod.name,
                        failed.len(),
                        entry.seq
                    ),
                    vec![entry.seq],
                );
            }
            if pod.phase == "Failed" {
                failed.insert(pod.uid.to_string());
            }
        }
        _ => {}
    });
    let Some(job) = after.jobs.get(name) else {
        return Outcome::new(check, Verdict::NotApplicable, format!("no Job {name} at the end of the window"), vec![]);
    };
    let limit = job.backoff_limit;
    if job.restart_policy != "Never" {
        found.unknown(
            format!(
                "{name} restarts its pods in place (restartPolicy {}): its failures are not pods to count",
                job.restart_policy
            ),
            vec![],
        );
    } else if job.complete {
        found.unknown(format!("{name} completed: no failure was left to retry past its backoffLimit {limit}"), vec![]);
    } else if job.failed_condition {
        let reason = job.failed_reason.as_deref().unwrap_or("no reason");
        if reason != "BackoffLimitExceeded" {
            found.unknown(format!("{name} failed for another reason ({reason}), not its backoffLimit"), vec![]);
        } else if (job.failed as usize) <= limit as usize {
            found.violation(
                format!(
                    "{name} marked Failed (BackoffLimitExceeded) after {} failures by its own count, backoffLimit {limit}",
                    job.failed
                ),
                vec![],
            );
        } else if failed.len() <= limit as usize {
            found.unknown(
                format!("{name} counts {} failures, the history saw {}: some went unrecorded", job.failed, failed.len()),
                vec![],
            );
        }
    } else if failed.len() > limit as usize {
        found.shortfall(
            format!("{} pods of {name} failed, backoffLimit {limit}, and it is not marked Failed", failed.len()),
            vec![],
        );
    } else {
        found.shortfall(format!("{name} is not finished ({} pods failed, backoffLimit {limit})", failed.len()), vec![]);
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    Outcome::new(
        check,
        Verdict::Pass,
        format!(
            "{name} Failed (BackoffLimitExceeded) after {} failed pods, backoffLimit {limit}: each failure retried, none past the limit",
            failed.len()
        ),
        evidence,
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{evaluate, fixture::window_of};
    use super::*;
    use crate::timeline::{JobObs, PodSpecObs, Timeline};

    /// A Job of `completions` and `parallelism`, step 0, and its pods' lives.
    struct History {
        timeline: Timeline,
        job: JobObs,
    }

    impl History {
        fn new(completions: u32, parallelism: u32) -> Self {
            let job = JobObs {
                name: "backup".into(),
                uid: "j".into(),
                completions: Some(completions),
                parallelism,
                backoff_limit: 4,
                ..JobObs::default()
            };
            let mut timeline = Timeline::new();
            timeline.push(0, Event::Job { change: Change::Added, job: Box::new(job.clone()) });
            timeline.push(0, Event::Step { index: 0, action: "apply".into() });
            Self { timeline, job }
        }

        fn pod(&mut self, n: u32, phase: &'static str) -> usize {
            let pod = PodObs {
                name: format!("backup-{n}").into(),
                uid: format!("u{n}").into(),
                phase: phase.into(),
                spec: Arc::new(PodSpecObs { owner: Some("Job/backup".into()), ..PodSpecObs::default() }),
                ..PodObs::default()
            };
            let change = if phase == "Pending" { Change::Added } else { Change::Modified };
            self.timeline.push(0, Event::Pod { change, pod: pod.into() })
        }

        fn complete(&mut self, succeeded: u32) {
            self.job.succeeded = succeeded;
            self.job.complete = true;
            self.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(self.job.clone()) });
        }

        fn judge(&self, ended_early: bool) -> Outcome {
            let window = Window { ended_early, ..window_of(&self.timeline, 2..self.timeline.len(), "backup") };
            evaluate(CheckName::JobCompletion, &window)
        }
    }

    #[test]
    fn completions_within_parallelism_pass() {
        let mut h = History::new(3, 2);
        h.pod(1, "Pending");
        h.pod(2, "Pending");
        h.pod(1, "Succeeded");
        h.pod(3, "Pending");
        h.pod(2, "Succeeded");
        h.pod(3, "Succeeded");
        h.complete(3);
        let out = h.judge(false);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("3 pods succeeded for 3 completions, at most 2 running at once"), "{}", out.detail);
    }

    #[test]
    fn more_running_than_parallelism_or_more_successes_than_completions_fail() {
        let mut h = History::new(3, 2);
        h.pod(1, "Pending");
        h.pod(2, "Pending");
        let third = h.pod(3, "Pending");
        let out = h.judge(true);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("3 pods of backup ran at once"), "{}", out.detail);
        assert_eq!(out.evidence, vec![third]);
        let mut h = History::new(1, 1);
        h.pod(1, "Pending");
        h.pod(1, "Succeeded");
        h.pod(2, "Pending");
        h.pod(2, "Succeeded");
        h.complete(2);
        let out = h.judge(false);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("2 pods of backup succeeded, completions 1"), "{}", out.detail);
    }

    #[test]
    fn an_unfinished_job_fails_only_once_settled_and_a_failed_one_is_inconclusive() {
        let mut h = History::new(2, 1);
        h.pod(1, "Pending");
        h.pod(1, "Succeeded");
        assert_eq!(h.judge(false).verdict, Verdict::Fail);
        assert_eq!(h.judge(true).verdict, Verdict::Inconclusive);
        let mut unseen = History::new(2, 1);
        unseen.pod(1, "Pending");
        unseen.pod(1, "Succeeded");
        unseen.complete(2);
        let out = unseen.judge(false);
        assert_eq!(out.verdict, Verdict::Inconclusive, "a success the history missed: {out:?}");
        h.job.failed = 5;
        h.job.failed_condition = true;
        h.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(h.job.clone()) });
        let out = h.judge(false);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("ended Failed"), "{}", out.detail);
    }

    /// A Job of backoffLimit 2 under restartPolicy Never whose pods `1..=failures` fail, then
    /// marked Failed by its own count `counted`.
    fn failing(failures: u32, counted: u32) -> History {
        let mut h = History::new(1, 1);
        h.job.backoff_limit = 2;
        h.job.restart_policy = "Never".into();
        h.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(h.job.clone()) });
        for n in 1..=failures {
            h.pod(n, "Pending");
            h.pod(n, "Failed");
        }
        h.job.failed = counted;
        h.job.failed_condition = true;
        h.job.failed_reason = Some("BackoffLimitExceeded".into());
        h.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(h.job.clone()) });
        h
    }

    fn backoff(h: &History) -> Outcome {
        evaluate(CheckName::JobBackoff, &window_of(&h.timeline, 2..h.timeline.len(), "backup"))
    }

    #[test]
    fn failures_retried_up_to_the_backoff_limit_pass() {
        let out = backoff(&failing(3, 3));
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("after 3 failed pods, backoffLimit 2"), "{}", out.detail);
    }

    #[test]
    fn a_retry_past_the_limit_or_a_job_failed_too_early_fails() {
        let out = backoff(&failing(4, 4));
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("backup-4 created after 3 pods of backup had failed, backoffLimit 2"), "{}", out.detail);
        let out = backoff(&failing(2, 2));
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("after 2 failures by its own count"), "{}", out.detail);
    }

    #[test]
    fn what_the_history_cannot_show_is_inconclusive() {
        // The controller counted three; the history saw two (a gap).
        assert_eq!(backoff(&failing(2, 3)).verdict, Verdict::Inconclusive);
        let mut h = failing(3, 3);
        h.job.restart_policy = "OnFailure".into();
        h.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(h.job.clone()) });
        assert_eq!(backoff(&h).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn with_pods_in_flight_a_replacement_is_past_the_limit_only_beyond_them() {
        // parallelism 2, backoffLimit 2: a pod created after 3 failures may have been decided
        // on a count of 2; after 4 it cannot have been.
        let mut h = failing(3, 3);
        h.job.parallelism = 2;
        h.job.failed_condition = false;
        h.timeline.push(0, Event::Job { change: Change::Modified, job: Box::new(h.job.clone()) });
        h.pod(4, "Pending");
        let out = backoff(&h);
        assert!(!out.detail.contains("created after"), "{out:?}");
        h.pod(4, "Failed");
        h.pod(5, "Pending");
        let out = backoff(&h);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("backup-5 created after 4 pods"), "{}", out.detail);
    }
}
