//! The API server refuses an invalid object: an `apply` a scenario marks `refused` records the
//! API server's answer, and this check reads it.

use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Change, Event};

/// **api-refusal** — the window records the API server refusing object `target` as invalid
/// (HTTP 422): `pass`, with its message as the evidence. The object created instead (a watch
/// saw it added): `fail`. Neither (the step could not send it): `inconclusive`.
pub(super) fn api_refusal(window: &Window<'_>) -> Outcome {
    let check = CheckName::ApiRefusal;
    let name = window.target;
    let mut refused = None;
    let mut created = None;
    for entry in window.entries() {
        match &entry.event {
            Event::Refused(r) if r.name == name => {
                refused = refused.or(Some((entry.seq, format!("{} {name} refused ({}): {}", r.kind, r.reason, r.message))));
            }
            Event::Job { change: Change::Added, job } if job.name == name => created = created.or(Some((entry.seq, "Job"))),
            Event::CronJob { change: Change::Added, cron } if cron.name == name => {
                created = created.or(Some((entry.seq, "CronJob")));
            }
            Event::StatefulSet { change: Change::Added, set } if set.name == name => {
                created = created.or(Some((entry.seq, "StatefulSet")));
            }
            Event::DaemonSet { change: Change::Added, set } if set.name == name => {
                created = created.or(Some((entry.seq, "DaemonSet")));
            }
            _ => {}
        }
    }
    match (created, refused) {
        (Some((seq, kind)), _) => Outcome::new(
            check,
            Verdict::Fail,
            format!("the API server accepted {kind} {name}, which it must refuse as invalid (#{seq})"),
            vec![seq],
        ),
        (None, Some((seq, detail))) => Outcome::new(check, Verdict::Pass, detail, vec![seq]),
        (None, None) => Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("no answer of the API server to {name} is recorded in the step (was it sent?)"),
            vec![],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::window_of};
    use super::*;
    use crate::timeline::{JobObs, RefusalObs, Timeline};

    fn judge(timeline: &Timeline) -> Outcome {
        evaluate(CheckName::ApiRefusal, &window_of(timeline, 0..timeline.len(), "backup-job"))
    }

    #[test]
    fn a_refusal_passes_an_acceptance_fails_and_silence_decides_nothing() {
        let mut t = Timeline::new();
        t.push(0, Event::Step { index: 0, action: "apply".into() });
        assert_eq!(judge(&t).verdict, Verdict::Inconclusive);
        let mut accepted = t.clone();
        let job = JobObs { name: "backup-job".into(), ..JobObs::default() };
        let seq = accepted.push(1, Event::Job { change: Change::Added, job: Box::new(job) });
        let out = judge(&accepted);
        assert_eq!((out.verdict, out.evidence), (Verdict::Fail, vec![seq]));
        let message = "Job.batch \"backup-job\" is invalid: spec.template.spec.restartPolicy: Unsupported value: \"Always\"";
        let refusal =
            RefusalObs { kind: "Job".into(), name: "backup-job".into(), reason: "Invalid".into(), message: message.into() };
        let seq = t.push(1, Event::Refused(Box::new(refusal)));
        let out = judge(&t);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert_eq!(out.evidence, vec![seq]);
        assert!(out.detail.contains("Unsupported value: \"Always\""), "{}", out.detail);
    }
}
