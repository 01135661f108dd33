//! A pod of the set that fails is replaced: `processReplica` deletes a Failed (or Succeeded)
//! pod and, once it is gone, creates the pod again under the same name — as upstream's
//! "should recreate evicted statefulset" spec checks.

use std::{collections::BTreeMap, sync::Arc};

use super::{CheckName, Outcome, Verdict, Window, findings::Findings};
use crate::timeline::{Change, Event, PodObs};

/// A pod incarnation as seen at an entry: the pod, the entry's sequence number and time.
type Sighting = (Arc<PodObs>, usize, u64);

/// How long a failed pod may be left undeleted before that is a failure whatever the step's
/// end: the controller acts on the pod's own update, within moments.
pub(super) const LEFT_MS: u64 = 30_000;

/// **failed-replaced** — every pod of the set that ends (phase Failed or Succeeded) in the window
/// is deleted and comes back under its name as a new pod (a new UID) that mounts the same
/// claims; by the end of the step, unless the set no longer keeps its ordinal. A failed pod left
/// undeleted for [`LEFT_MS`] fails, however the step ended; one not yet replaced when the step
/// ended early is otherwise `inconclusive`. Not applicable when no pod failed.
pub(super) fn failed_replaced(window: &Window<'_>) -> Outcome {
    let check = CheckName::FailedReplaced;
    // Each failed incarnation (by UID): the pod as it failed and where.
    let mut failed: BTreeMap<Arc<str>, Sighting> = BTreeMap::new();
    // The incarnations of each name in the window, in order: (pod, seq, at).
    let mut born: BTreeMap<Arc<str>, Vec<Sighting>> = BTreeMap::new();
    let before = window.view_before();
    // Failed incarnations seen deleted (terminating or gone).
    let mut deleted: std::collections::BTreeSet<Arc<str>> = std::collections::BTreeSet::new();
    for entry in window.entries() {
        let Event::Pod { change, pod } = &entry.event else { continue };
        if !pod.belongs_to(window.target) {
            continue;
        }
        if *change == Change::Deleted || pod.terminating {
            deleted.insert(pod.uid.clone());
        }
        if *change == Change::Deleted {
            continue;
        }
        if matches!(&*pod.phase, "Failed" | "Succeeded") && !failed.contains_key(&pod.uid) {
            failed.insert(pod.uid.clone(), (pod.clone(), entry.seq, entry.at_ms));
        }
        let known = born.get(&pod.name).and_then(|b| b.last()).map(|(p, ..)| p.uid.clone());
        let earlier = before.pods.get(&pod.name).map(|p| p.uid.clone());
        if known.as_ref() != Some(&pod.uid) && (known.is_some() || earlier.as_ref() != Some(&pod.uid)) {
            born.entry(pod.name.clone()).or_default().push((pod.clone(), entry.seq, entry.at_ms));
        }
    }
    if failed.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod of the set failed", vec![]);
    }
    let after = window.view_after();
    let kept = after.sets.get(window.target).map(crate::timeline::SetObs::ordinals);
    let mut found = Findings::default();
    let mut replaced = Vec::new();
    let mut evidence = Vec::new();
    for (old, seq, at) in failed.values() {
        let ordinal = old.ordinal_in(window.target);
        let successor = born.get(&old.name).and_then(|b| b.iter().find(|(p, s, _)| *s > *seq && p.uid != old.uid));
        match successor {
            Some((new, new_seq, new_at)) => {
                if new.spec.claims != old.spec.claims {
                    found.violation(
                        format!(
                            "{} came back (#{new_seq}) mounting {:?}, not the failed pod's {:?}",
                            new.name, new.spec.claims, old.spec.claims
                        ),
                        vec![*seq, *new_seq],
                    );
                }
                replaced.push(format!(
                    "{} failed (#{seq}, {}) and came back as a new pod {:.1} s later (#{new_seq})",
                    old.name,
                    old.phase,
                    new_at.saturating_sub(*at) as f64 / 1000.0
                ));
                evidence.extend([*seq, *new_seq]);
            }
            None if kept.as_ref().is_some_and(|k| ordinal.is_some_and(|o| k.contains(&o))) => {
                let left = window.end_ms().saturating_sub(*at);
                if !deleted.contains(&old.uid) && left >= LEFT_MS {
                    found.violation(
                        format!("{} failed (#{seq}) and was left undeleted for {} s", old.name, left / 1000),
                        vec![*seq],
                    );
                } else {
                    found.shortfall(
                        format!("{} failed (#{seq}) and was not replaced by the end of the step", old.name),
                        vec![*seq],
                    );
                }
            }
            // The set no longer keeps it: a scale-down removed it.
            None => {}
        }
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    if replaced.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "the pods that failed are no longer the set's to keep", vec![]);
    }
    Outcome::new(check, Verdict::Pass, replaced.join("; "), evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixture::History;

    fn fail(h: &mut History, pod: &str) -> usize {
        h.modify(pod, |p| {
            p.phase = "Failed".into();
            p.ready = false;
        })
    }

    #[test]
    fn a_failed_pod_that_comes_back_passes_and_one_left_failed_does_not() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        fail(&mut h, "web-1");
        let window = h.step_window(0);
        assert_eq!(failed_replaced(&window).verdict, Verdict::Fail, "the step ended with web-1 Failed");
        assert_eq!(failed_replaced(&h.early_window(0)).verdict, Verdict::Inconclusive);
        // Left undeleted for LEFT_MS: failed however the step ended.
        let late = Window { ended_at_ms: Some(h.now + LEFT_MS), ..h.early_window(0) };
        assert!(failed_replaced(&late).detail.contains("was left undeleted for 30 s"));
        h.terminate("web-1");
        h.gone("web-1");
        h.advance(1500);
        h.create("web-1");
        h.ready("web-1");
        let outcome = failed_replaced(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-1 failed (#"), "{}", outcome.detail);
        assert!(outcome.detail.contains("came back as a new pod 1.5 s later"), "{}", outcome.detail);
    }

    #[test]
    fn a_replacement_with_another_claim_fails() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        fail(&mut h, "web-1");
        h.gone("web-1");
        let seq = h.create("web-1");
        if let Event::Pod { pod, .. } = &mut h.timeline.entries[seq].event {
            Arc::make_mut(&mut Arc::make_mut(pod).spec).claims.insert("www".into(), "www-web-1-fresh".into());
        }
        let outcome = failed_replaced(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-1 came back (#"), "{}", outcome.detail);
    }

    #[test]
    fn nothing_failed_is_not_applicable_and_a_scaled_away_failure_is_no_shortfall() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        assert_eq!(failed_replaced(&h.step_window(0)).verdict, Verdict::NotApplicable);
        fail(&mut h, "web-1");
        h.update_set(|s| s.replicas = 1);
        h.gone("web-1");
        assert_eq!(failed_replaced(&h.step_window(0)).verdict, Verdict::NotApplicable);
    }
}
