//! A CronJob creates a Job at each time of its schedule and honours its concurrency policy and
//! history limits, as `pkg/controller/cronjob` (`syncCronJob`) does:
//!
//! - the controller names each Job for the time it was scheduled for and, when it has fallen
//!   behind, starts only the most recent missed time (`mostRecentScheduleTime`): so a time with
//!   no Job while a later time has one says the controller was late, not wrong;
//! - `Forbid`: no Job while another of the CronJob is unfinished; a time that comes while one
//!   runs waits for it (and is dropped for a later time);
//! - `Replace`: the unfinished Jobs are deleted before the new one is created;
//! - finished Jobs beyond `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` are deleted.
//!
//! Times are the cluster's: a Job's schedule time is the controller's annotation (or its name),
//! and the cluster's clock at an entry is bounded below by the creation timestamps of objects
//! seen created by then.

use std::collections::{BTreeMap, BTreeSet};

use super::findings::Findings;
use super::{CheckName, Outcome, Verdict, Window};
use crate::cron::Schedule;
use crate::timeline::{Change, CronJobObs, Event, JobObs};

/// How long after a time of the schedule its Job may take to appear (the controller wakes at
/// the time; a loaded one may take seconds). A time younger than this at the window's end is
/// not judged.
pub const TICK_GRACE_S: i64 = 45;

/// How long finished Jobs beyond a history limit may stay (the controller deletes them on its
/// next sync, which a Job's finishing triggers).
pub const HISTORY_GRACE_MS: u64 = 30_000;

/// The cluster's clock at the entries: the least offset (ms) from an entry's `at_ms` to the
/// cluster's time that the creation timestamps of the objects seen created allow.
fn clock_offset(window: &Window<'_>) -> Option<i64> {
    let entries = &window.timeline.entries[..window.range.end.min(window.timeline.len())];
    entries
        .iter()
        .filter_map(|entry| {
            let created = match &entry.event {
                Event::Job { change: Change::Added, job } => job.created_s,
                Event::CronJob { change: Change::Added, cron } => cron.created_s,
                _ => None,
            }?;
            Some(created * 1000 - i64::try_from(entry.at_ms).ok()?)
        })
        .max()
}

/// One Job of the CronJob as the window saw it.
struct Run<'a> {
    job: &'a JobObs,
    /// The entry that first showed it.
    seq: usize,
    /// Entry positions while it was unfinished: from its first sighting to the entry that
    /// showed it finished, deleted or terminating (exclusive), or the window's end.
    active: std::ops::Range<usize>,
}

/// **cronjob-schedule** — see the module documentation.
pub(super) fn cronjob_schedule(window: &Window<'_>) -> Outcome {
    let check = CheckName::CronjobSchedule;
    let name = window.target;
    let end = window.range.end.min(window.timeline.len());
    let entries = &window.timeline.entries[..end];
    let cron_events = || {
        entries.iter().filter_map(|e| match &e.event {
            Event::CronJob { cron, .. } if cron.name == name => Some((e, &**cron)),
            _ => None,
        })
    };
    let Some((_, cron)) = cron_events().next_back() else {
        return Outcome::new(check, Verdict::NotApplicable, format!("no CronJob {name} in the history"), vec![]);
    };
    let cron: &CronJobObs = cron;
    let mut found = Findings::default();
    let mut evidence = Vec::new();

    // Every Job of the CronJob up to the window's end, with when it was active.
    let mut runs: BTreeMap<&str, Run<'_>> = BTreeMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let Event::Job { change, job } = &entry.event else { continue };
        if job.cron_job.as_deref() != Some(name) {
            continue;
        }
        let over = *change == Change::Deleted || job.finished() || job.terminating;
        let run = runs.entry(&job.name).or_insert(Run { job, seq: entry.seq, active: i..end });
        run.job = job;
        if over && run.active.end == end {
            run.active.end = i;
        }
        if i >= window.range.start {
            evidence.push(entry.seq);
        }
    }

    // Concurrency, at each Job's creation (Jobs share one watch: their order is the API's),
    // in one sweep over when each run began and ended.
    let mut overlapped = 0;
    let mut replaced = 0;
    let mut marks: Vec<(usize, bool, &str)> =
        runs.iter().flat_map(|(name, r)| [(r.active.start, true, *name), (r.active.end, false, *name)]).collect();
    marks.sort_unstable();
    let mut active: BTreeSet<&str> = BTreeSet::new();
    for (_, starts, name) in marks {
        if !starts {
            active.remove(name);
            continue;
        }
        let run = &runs[name];
        if run.seq >= window.range.start && !active.is_empty() {
            let others = listed(&active);
            match cron.concurrency_policy.as_str() {
                "Forbid" => found.violation(
                    format!("{name} created while {others} still ran (concurrencyPolicy Forbid) (#{})", run.seq),
                    vec![run.seq],
                ),
                "Replace" => found.violation(
                    format!(
                        "{name} created while {others} still ran and was not being deleted (concurrencyPolicy Replace) (#{})",
                        run.seq
                    ),
                    vec![run.seq],
                ),
                _ => overlapped += 1,
            }
        }
        active.insert(name);
    }
    if cron.concurrency_policy == "Replace" {
        replaced = runs.values().filter(|r| r.active.end < end && !r.job.finished()).count();
    }

    // Times of the schedule.
    let offset = clock_offset(window);
    let schedule = Schedule::parse(&cron.schedule, cron.time_zone.as_deref());
    let mut honoured = 0;
    let mut waited = 0;
    let mut judged = 0;
    match (&schedule, offset) {
        (Err(e), _) => found.unknown(format!("the times of {name} cannot be judged: {e}"), vec![]),
        (Ok(_), None) => {
            found.unknown(format!("the cluster's clock is unknown: no creation of {name} or its Jobs was seen"), vec![])
        }
        (Ok(schedule), Some(offset)) => {
            for run in runs.values().filter(|r| r.seq >= window.range.start) {
                let (Some(at), job) = (run.job.scheduled_s, run.job) else { continue };
                if !schedule.is_tick(at) {
                    let detail =
                        format!("{} was made for {}, not a time of {:?} (#{})", job.name, clock(at), cron.schedule, run.seq);
                    if schedule.zone_assumed() {
                        found.unknown(
                            format!("{detail} in UTC; the controller's zone may differ (no spec.timeZone)"),
                            vec![run.seq],
                        );
                    } else {
                        found.violation(detail, vec![run.seq]);
                    }
                }
                // The API server stamps the creation (whole seconds) by its clock, the controller
                // chose the moment by its own: only an early start beyond both is evidence.
                if let Some(created) = job.created_s
                    && created < at - CLOCK_SLACK_S
                {
                    found.violation(
                        format!("{} created at {}, before its time {} (#{})", job.name, clock(created), clock(at), run.seq),
                        vec![run.seq],
                    );
                }
            }
            let cluster_time =
                |index: usize| entries.get(index).or(entries.last()).map_or(0, |e| cluster_time_of(e.at_ms, offset));
            // Judged from when its times last changed (or it was created), within the window.
            let changed = cron_events()
                .zip(cron_events().skip(1))
                .filter(|((_, before), (_, after))| !before.same_times(after))
                .map(|(_, (e, _))| e.seq)
                .last();
            let start_index = changed.map_or(window.range.start, |c| c.max(window.range.start));
            let start = cluster_time(start_index).max(cron.created_s.unwrap_or(i64::MIN));
            let now = cluster_time(end.saturating_sub(1));
            let scheduled: BTreeSet<i64> = runs.values().filter_map(|r| r.job.scheduled_s).collect();
            // When each run was unfinished, in the cluster's time.
            let spans: Vec<(i64, i64)> = runs
                .values()
                .map(|r| (cluster_time(r.active.start), if r.active.end >= end { i64::MAX } else { cluster_time(r.active.end) }))
                .collect();
            if cron.suspend {
                found.unknown(format!("{name} is suspended: no time of its schedule is due"), vec![]);
            }
            // The controller starts times strictly after the CronJob's creation (`sched.Next(creation)`).
            for tick in schedule.ticks(start, now - TICK_GRACE_S) {
                if cron.suspend {
                    break;
                }
                judged += 1;
                if scheduled.contains(&tick) {
                    honoured += 1;
                    continue;
                }
                let later = scheduled.range(tick + 1..).next().is_some();
                // A run of the CronJob unfinished at the time (give or take the clock's
                // uncertainty): Forbid makes the time wait for it.
                let busy = spans.iter().any(|(from, to)| *from <= tick + CLOCK_SLACK_S && *to >= tick - CLOCK_SLACK_S);
                if cron.concurrency_policy == "Forbid" && busy {
                    waited += 1;
                } else if later {
                    found.unknown(
                        format!(
                            "no Job for {} while a later time has one: the controller fell behind by a whole interval",
                            clock(tick)
                        ),
                        vec![],
                    );
                } else if cron.starting_deadline_s.is_some_and(|d| d < TICK_GRACE_S) {
                    found.unknown(
                        format!(
                            "no Job for {}: with startingDeadlineSeconds {} a slow controller may skip it",
                            clock(tick),
                            cron.starting_deadline_s.unwrap_or(0)
                        ),
                        vec![],
                    );
                } else {
                    found.violation(
                        format!(
                            "no Job for {} ({:?}), {} s before the window's end, nor for any later time",
                            clock(tick),
                            cron.schedule,
                            now - tick
                        ),
                        vec![],
                    );
                }
            }
        }
    }

    // History limits: finished Jobs beyond a limit may not stay.
    history_limits(window, cron, &mut found);

    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    if judged == 0 {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("no time of {name}'s schedule {:?} fell within the window early enough to judge", cron.schedule),
            evidence,
        );
    }
    let policy = match cron.concurrency_policy.as_str() {
        "Forbid" => format!("Forbid: {waited} of them waited for a running Job"),
        "Replace" => format!("Replace: {replaced} running Jobs deleted for a new one"),
        other => format!("{other}: {overlapped} Jobs started while another ran"),
    };
    Outcome::new(
        check,
        Verdict::Pass,
        format!(
            "{name}: {honoured} of {judged} times of {:?} got their Job ({policy}); history within {} succeeded / {} failed",
            cron.schedule, cron.successful_history, cron.failed_history
        ),
        evidence,
    )
}

/// How far the cluster's time at an entry may be off (watch latency, whole-second timestamps).
const CLOCK_SLACK_S: i64 = 5;

/// Names for a message: the first few, and how many more.
fn listed(names: &BTreeSet<&str>) -> String {
    let shown: Vec<&str> = names.iter().take(5).copied().collect();
    match names.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

/// The cluster time (Unix seconds) of an entry at `at_ms`.
fn cluster_time_of(at_ms: u64, offset: i64) -> i64 {
    (i64::try_from(at_ms).unwrap_or(i64::MAX / 2) + offset).div_euclid(1000)
}

/// A time as the report prints it: `2026-12-03T02:00:00Z`.
fn clock(at_s: i64) -> String {
    k8s_openapi::jiff::Timestamp::from_second(at_s).map_or_else(|_| format!("{at_s}s"), |t| t.to_string())
}

/// Finished Jobs of `cron` beyond its history limits, kept longer than [`HISTORY_GRACE_MS`]
/// within the window, are violations.
fn history_limits(window: &Window<'_>, cron: &CronJobObs, found: &mut Findings) {
    let mut kept: BTreeMap<String, bool> = BTreeMap::new(); // finished Job → succeeded
    let mut over_since: [Option<(u64, usize)>; 2] = [None, None];
    let mut reported = [false, false];
    let limits = [cron.successful_history as usize, cron.failed_history as usize];
    let before = window.view_before();
    for job in before.jobs.values().filter(|j| j.cron_job.as_deref() == Some(&*cron.name) && j.finished() && !j.terminating) {
        kept.insert(job.name.clone(), job.complete);
    }
    let mut judge = |kept: &BTreeMap<String, bool>, at_ms: u64, seq: usize, found: &mut Findings| {
        for (k, limit) in limits.iter().enumerate() {
            let count = kept.values().filter(|s| **s == (k == 0)).count();
            if count <= *limit {
                over_since[k] = None;
                continue;
            }
            let (since, first) = *over_since[k].get_or_insert((at_ms, seq));
            if !reported[k] && at_ms.saturating_sub(since) >= HISTORY_GRACE_MS {
                reported[k] = true;
                let kind = if k == 0 { "successful" } else { "failed" };
                found.violation(
                    format!(
                        "{count} {kind} Jobs of {} kept for {} s, {kind}JobsHistoryLimit {limit} (#{first})",
                        cron.name,
                        (at_ms - since) / 1000
                    ),
                    vec![first, seq],
                );
            }
        }
    };
    for entry in window.entries() {
        if let Event::Job { change, job } = &entry.event
            && job.cron_job.as_deref() == Some(&*cron.name)
        {
            if *change == Change::Deleted || job.terminating || !job.finished() {
                kept.remove(&job.name);
            } else {
                kept.insert(job.name.clone(), job.complete);
            }
        }
        judge(&kept, entry.at_ms, entry.seq, found);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::window_of};
    use super::*;
    use crate::timeline::Timeline;

    /// 2025-12-03T12:00:00Z: the cluster's clock at `at_ms` 0.
    const T0: i64 = 1_764_763_200;

    /// A CronJob created at `at_ms` 5 000 (T0 + 5 s), then whatever a test records.
    struct History {
        timeline: Timeline,
        cron: CronJobObs,
        jobs: BTreeMap<String, JobObs>,
    }

    impl History {
        fn new(schedule: &str, policy: &str) -> Self {
            let cron = CronJobObs {
                name: "backup".into(),
                uid: "c".into(),
                schedule: schedule.into(),
                concurrency_policy: policy.into(),
                successful_history: 3,
                failed_history: 1,
                created_s: Some(T0 + 5),
                ..CronJobObs::default()
            };
            let mut timeline = Timeline::new();
            timeline.push(0, Event::Step { index: 0, action: "apply".into() });
            timeline.push(5_000, Event::CronJob { change: Change::Added, cron: Box::new(cron.clone()) });
            Self { timeline, cron, jobs: BTreeMap::new() }
        }

        fn at(&self, s: i64) -> u64 {
            u64::try_from((s - T0) * 1000).expect("after T0")
        }

        /// The Job for time `at`, created `late` seconds after it.
        fn start(&mut self, at: i64, late: i64) -> usize {
            let job = JobObs {
                name: format!("backup-{}", at / 60),
                uid: format!("u{at}"),
                completions: Some(1),
                parallelism: 1,
                cron_job: Some("backup".into()),
                scheduled_s: Some(at),
                created_s: Some(at + late),
                ..JobObs::default()
            };
            self.jobs.insert(job.name.clone(), job.clone());
            let at_ms = self.at(at + late) + 300;
            self.timeline.push(at_ms, Event::Job { change: Change::Added, job: Box::new(job) })
        }

        fn finish(&mut self, at: i64, when: i64) -> usize {
            let name = format!("backup-{}", at / 60);
            let job = self.jobs.get_mut(&name).expect("started");
            job.complete = true;
            let job = Box::new(job.clone());
            let at_ms = self.at(when);
            self.timeline.push(at_ms, Event::Job { change: Change::Modified, job })
        }

        fn delete(&mut self, at: i64, when: i64) -> usize {
            let job = self.jobs.remove(&format!("backup-{}", at / 60)).expect("started");
            let at_ms = self.at(when);
            self.timeline.push(at_ms, Event::Job { change: Change::Deleted, job: Box::new(job) })
        }

        /// Something else observed at `when` (the window's last entry).
        fn until(&mut self, when: i64) {
            let at_ms = self.at(when);
            self.timeline.push(at_ms, Event::Secret { change: Change::Added, name: "clock".into(), keys: vec![] });
        }

        fn judge(&self) -> Outcome {
            evaluate(CheckName::CronjobSchedule, &window_of(&self.timeline, 0..self.timeline.len(), "backup"))
        }
    }

    #[test]
    fn a_job_at_each_time_passes() {
        let mut h = History::new("*/1 * * * *", "Allow");
        for k in 1..=3 {
            h.start(T0 + 60 * k, 1);
            h.finish(T0 + 60 * k, T0 + 60 * k + 5);
        }
        h.until(T0 + 230);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("3 of 3 times"), "{}", out.detail);
    }

    #[test]
    fn a_time_without_a_job_fails_unless_a_later_time_has_one() {
        let mut h = History::new("*/1 * * * *", "Allow");
        h.start(T0 + 60, 1);
        h.until(T0 + 200);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("no Job for 2025-12-03T12:02:00Z"), "{}", out.detail);
        // A controller a whole interval late starts only the newest time: not evidence.
        h.start(T0 + 180, 2);
        h.until(T0 + 200);
        assert_eq!(h.judge().verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_time_too_recent_to_judge_is_left_alone_and_no_time_at_all_is_inconclusive() {
        let mut h = History::new("*/1 * * * *", "Allow");
        h.start(T0 + 60, 1);
        h.until(T0 + 130);
        assert_eq!(h.judge().verdict, Verdict::Pass, "12:02 is 10 s old at the end");
        let mut h = History::new("0 2 * * *", "Allow");
        h.until(T0 + 600);
        assert_eq!(h.judge().verdict, Verdict::Inconclusive);
    }

    #[test]
    fn forbid_fails_on_an_overlap_and_passes_a_time_that_waited() {
        let mut h = History::new("*/1 * * * *", "Forbid");
        h.start(T0 + 60, 1);
        let second = h.start(T0 + 120, 1);
        h.until(T0 + 200);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("still ran (concurrencyPolicy Forbid)"), "{}", out.detail);
        assert!(out.evidence.contains(&second));
        let mut h = History::new("*/1 * * * *", "Forbid");
        h.start(T0 + 60, 1);
        h.finish(T0 + 60, T0 + 150);
        h.start(T0 + 120, 31); // the 12:02 time, started once the first Job finished
        h.finish(T0 + 120, T0 + 240);
        h.start(T0 + 240, 1); // 12:03 waited and gave way to 12:04
        h.until(T0 + 300);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("1 of them waited"), "{}", out.detail);
    }

    #[test]
    fn replace_must_delete_the_running_job_first() {
        let mut h = History::new("*/1 * * * *", "Replace");
        h.start(T0 + 60, 1);
        h.start(T0 + 120, 1);
        h.until(T0 + 150);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("was not being deleted"), "{}", out.detail);
        let mut h = History::new("*/1 * * * *", "Replace");
        h.start(T0 + 60, 1);
        h.delete(T0 + 60, T0 + 120);
        h.start(T0 + 120, 1);
        h.until(T0 + 150);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("1 running Jobs deleted"), "{}", out.detail);
    }

    #[test]
    fn finished_jobs_beyond_the_limit_fail_only_when_kept() {
        let mut h = History::new("*/1 * * * *", "Allow");
        h.cron.successful_history = 1;
        let cron = Box::new(h.cron.clone());
        h.timeline.push(5_000, Event::CronJob { change: Change::Modified, cron });
        h.start(T0 + 60, 1);
        h.finish(T0 + 60, T0 + 65);
        h.start(T0 + 120, 1);
        h.finish(T0 + 120, T0 + 125);
        h.delete(T0 + 60, T0 + 126);
        h.until(T0 + 170);
        assert_eq!(h.judge().verdict, Verdict::Pass, "{:?}", h.judge());
        h.start(T0 + 180, 1);
        h.finish(T0 + 180, T0 + 185);
        h.until(T0 + 230);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("2 successful Jobs of backup kept for 45 s"), "{}", out.detail);
    }

    #[test]
    fn a_job_made_for_no_time_of_the_schedule_fails_where_the_zone_is_known() {
        let mut h = History::new("0 2 * * *", "Allow");
        h.cron.time_zone = Some("UTC".into());
        let cron = Box::new(h.cron.clone());
        h.timeline.push(5_000, Event::CronJob { change: Change::Modified, cron });
        h.start(T0 + 60, 1);
        h.until(T0 + 200);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("not a time of"), "{}", out.detail);
        // Without spec.timeZone the controller's own zone decides: not evidence.
        let mut h = History::new("0 2 * * *", "Allow");
        h.start(T0 + 60, 1);
        h.until(T0 + 200);
        assert_eq!(h.judge().verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_job_created_before_its_time_fails_beyond_the_clocks_uncertainty_only() {
        let mut h = History::new("*/1 * * * *", "Allow");
        h.start(T0 + 60, -1); // a second early by the API server's clock: clocks differ
        h.until(T0 + 130);
        assert_eq!(h.judge().verdict, Verdict::Pass, "{:?}", h.judge());
        let mut h = History::new("*/1 * * * *", "Allow");
        h.start(T0 + 60, -20);
        h.until(T0 + 130);
        let out = h.judge();
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("before its time"), "{}", out.detail);
    }
}
