//! CronJob schedules read as the CronJob controller reads them (`pkg/controller/cronjob` parses
//! `spec.schedule` with robfig/cron's standard parser): five fields, the `@yearly` … `@hourly`
//! shorthands, in `spec.timeZone` or, without one, the controller's own local zone — which the
//! harness cannot see, so it assumes UTC (as kube-controller-manager runs in kind, minikube and
//! kubeadm clusters) and says where that assumption matters ([`Schedule::zone_assumed`]).

use cronexpr::Crontab;

/// Why a schedule cannot be judged here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Valid for the controller, but not a set of calendar times (`@every 1h` counts from the
    /// controller's last run, which no history shows).
    #[error("schedule {schedule:?}: {why}")]
    Unsupported {
        /// The schedule as written.
        schedule: String,
        /// What is not modelled.
        why: String,
    },
    /// Not a schedule (the API server would have refused it).
    #[error("schedule {schedule:?} is not a cron schedule: {reason}")]
    Invalid {
        /// The schedule as written.
        schedule: String,
        /// The parser's words.
        reason: String,
    },
}

/// A parsed schedule in its time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    crontab: Crontab,
    zone_assumed: bool,
    zone_invariant: bool,
}

/// The shorthands robfig/cron's standard parser accepts, as five fields.
const SHORTHANDS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// The most ticks [`Schedule::ticks`] lists: a window of a week at one a minute.
pub const MAX_TICKS: usize = 7 * 24 * 60;

impl Schedule {
    /// Reads `schedule` in `time_zone` (`spec.timeZone`; `None`: the controller's zone, taken
    /// to be UTC). A `TZ=` or `CRON_TZ=` prefix names the zone as older clusters allowed.
    pub fn parse(schedule: &str, time_zone: Option<&str>) -> Result<Self, ScheduleError> {
        let invalid = |reason: String| ScheduleError::Invalid { schedule: schedule.to_owned(), reason };
        let mut text = schedule.trim();
        let mut zone = time_zone.map(str::to_owned);
        for prefix in ["CRON_TZ=", "TZ="] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let (name, fields) =
                    rest.split_once(char::is_whitespace).ok_or_else(|| invalid("no fields after the zone".into()))?;
                zone = Some(name.to_owned());
                text = fields.trim();
            }
        }
        if text.starts_with("@every") {
            return Err(ScheduleError::Unsupported {
                schedule: schedule.to_owned(),
                why: "@every counts from the controller's last run, not from the calendar".into(),
            });
        }
        let fields = match SHORTHANDS.iter().find(|(name, _)| text.eq_ignore_ascii_case(name)) {
            Some((_, fields)) => (*fields).to_owned(),
            None if text.starts_with('@') => return Err(invalid(format!("unknown descriptor {text}"))),
            None => {
                let fields: Vec<&str> = text.split_whitespace().collect();
                if fields.len() != 5 {
                    return Err(invalid(format!("{} fields, the standard parser takes 5", fields.len())));
                }
                // robfig/cron reads `?` as `*`.
                fields.iter().map(|f| if *f == "?" { "*" } else { f }).collect::<Vec<_>>().join(" ")
            }
        };
        let zone_assumed = zone.is_none();
        let zone_name = zone.as_deref().unwrap_or("UTC");
        let crontab = cronexpr::parse_crontab(&format!("{fields} {zone_name}")).map_err(|e| invalid(e.to_string()))?;
        // Real zones are whole quarter hours from UTC: a schedule that names only minutes
        // that a quarter-hour shift maps onto each other ticks alike in every zone.
        let parts: Vec<&str> = fields.split(' ').collect();
        let zone_invariant = parts[1..].iter().all(|f| *f == "*") && {
            let minute = |m: u32| crontab.matches(cronexpr::MakeTimestamp::from_second(i64::from(m) * 60).ok()?.0).ok();
            (0..60).all(|m| minute(m).is_some() && minute(m) == minute((m + 15) % 60))
        };
        Ok(Self { crontab, zone_assumed, zone_invariant })
    }

    /// Whether the zone was taken to be UTC (no `spec.timeZone`) and the schedule's times
    /// depend on it: then a time that is not a tick may be one in the controller's zone.
    #[must_use]
    pub fn zone_assumed(&self) -> bool {
        self.zone_assumed && !self.zone_invariant
    }

    /// Whether `at_s` (Unix seconds) is one of the schedule's times.
    #[must_use]
    pub fn is_tick(&self, at_s: i64) -> bool {
        at_s % 60 == 0 && cronexpr::MakeTimestamp::from_second(at_s).is_ok_and(|t| self.crontab.matches(t.0).unwrap_or(false))
    }

    /// The schedule's times in `(after_s, until_s]`, at most [`MAX_TICKS`] of them.
    #[must_use]
    pub fn ticks(&self, after_s: i64, until_s: i64) -> Vec<i64> {
        let mut ticks = Vec::new();
        let Ok(start) = cronexpr::MakeTimestamp::from_second(after_s) else { return ticks };
        let Ok(iter) = self.crontab.iter_after(start.0) else { return ticks };
        for next in iter.take(MAX_TICKS) {
            let Ok(next) = next else { break };
            let at = next.timestamp().as_second();
            if at > until_s {
                break;
            }
            ticks.push(at);
        }
        ticks
    }

    /// The first time of the schedule after `at_s`, within four years (as robfig/cron looks).
    #[must_use]
    pub fn next_after(&self, at_s: i64) -> Option<i64> {
        let start = cronexpr::MakeTimestamp::from_second(at_s).ok()?;
        self.crontab.find_next(start.0).ok().map(|t| t.timestamp().as_second())
    }

    /// The latest time of the schedule at or before `at_s`, looked for within `horizon_s`
    /// (nearest spans first, so that a frequent schedule over a long horizon is not cut off
    /// at [`MAX_TICKS`]).
    #[must_use]
    pub fn latest_at_or_before(&self, at_s: i64, horizon_s: i64) -> Option<i64> {
        const DAY: i64 = 24 * 3600;
        for span in [3600, DAY, 31 * DAY, 366 * DAY, 4 * 366 * DAY] {
            let span = span.min(horizon_s.max(0));
            let ticks = self.ticks(at_s - span - 1, at_s);
            if ticks.len() < MAX_TICKS
                && let Some(last) = ticks.last()
            {
                return Some(*last);
            }
            if span == horizon_s.max(0) {
                break;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON: i64 = 1_764_763_200; // 2025-12-03T12:00:00Z

    #[test]
    fn every_minute_ticks_on_each_minute() {
        let s = Schedule::parse("*/1 * * * *", None).expect("a schedule");
        assert!(s.is_tick(NOON) && s.is_tick(NOON + 60) && !s.is_tick(NOON + 30));
        assert_eq!(s.ticks(NOON, NOON + 180), vec![NOON + 60, NOON + 120, NOON + 180]);
        assert_eq!(s.next_after(NOON), Some(NOON + 60));
        assert_eq!(s.next_after(NOON + 1), Some(NOON + 60));
        assert!(!s.zone_assumed(), "a minute schedule ticks alike in every zone");
    }

    #[test]
    fn the_documents_daily_schedule_depends_on_the_zone() {
        let s = Schedule::parse("0 2 * * *", None).expect("a schedule");
        assert!(s.zone_assumed());
        assert!(s.is_tick(NOON - 10 * 3600));
        let seoul = Schedule::parse("0 2 * * *", Some("Asia/Seoul")).expect("a schedule");
        assert!(!seoul.zone_assumed());
        assert!(seoul.is_tick(NOON - 10 * 3600 - 9 * 3600), "02:00 in Seoul is 17:00 UTC the day before");
    }

    #[test]
    fn shorthands_prefixes_and_question_marks_read_as_the_controller_reads_them() {
        assert!(Schedule::parse("@hourly", None).expect("hourly").is_tick(NOON + 3600));
        assert!(Schedule::parse("CRON_TZ=UTC 0 * * * ?", None).expect("prefixed").is_tick(NOON));
        assert!(Schedule::parse("*/7 * * * *", None).expect("sevens").zone_assumed(), "7 does not divide a quarter hour");
        assert!(matches!(Schedule::parse("@every 1h", None), Err(ScheduleError::Unsupported { .. })));
        assert!(matches!(Schedule::parse("* * *", None), Err(ScheduleError::Invalid { .. })));
        assert!(matches!(Schedule::parse("0 2 * * *", Some("Nowhere/Atlantis")), Err(ScheduleError::Invalid { .. })));
    }

    #[test]
    fn ticks_are_bounded_by_count_not_by_the_span_asked() {
        let s = Schedule::parse("* * * * *", Some("UTC")).expect("a schedule");
        assert_eq!(s.ticks(0, i64::MAX / 2).len(), MAX_TICKS);
        assert_eq!(s.latest_at_or_before(NOON + 59, 3600), Some(NOON));
        assert_eq!(s.latest_at_or_before(NOON + 59, 400 * 24 * 3600), Some(NOON), "the nearest, not the first of a long horizon");
        assert_eq!(s.latest_at_or_before(NOON + 59, 30), None);
    }
}
