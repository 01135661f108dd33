//! `minReadySeconds`: with OrderedReady the controller creates a pod only once every
//! predecessor is *available* — Running and Ready for at least `minReadySeconds`
//! (`processReplica`: `isRunningAndAvailable`), not merely Ready; and the status's
//! `availableReplicas` counts only such pods (`computeReplicaStatus`).

use std::collections::BTreeMap;

use super::{CheckName, Outcome, Verdict, Window, findings};
use crate::timeline::{Change, Event, SetObs};

/// How much earlier than `minReadySeconds` after a predecessor's Ready a creation may be seen
/// and still not count against the controller: it reads the Ready condition's
/// `lastTransitionTime`, which has whole-second precision (rounded down, so up to 1 s before the
/// transition), and the harness sees the transition a moment after it happens. On the real node
/// CI saw a conformant creation 9.1 s after Ready with `minReadySeconds` 10. Within it the
/// verdict is `inconclusive`.
pub(super) const TOLERANCE_MS: u64 = 2_000;

/// **min-ready** — with OrderedReady and `minReadySeconds` N, each pod the set creates in the
/// window appears only once every predecessor has been Running and Ready for N seconds (as the
/// harness saw Ready come). `pass` needs a creation that waited so; a creation less than
/// [`TOLERANCE_MS`] short is `inconclusive`. Predecessors that were not Ready at all are
/// ordered-creation's to judge, not this check's.
///
/// And no status the controller writes in the window counts more pods available than had been
/// Ready for N seconds (less [`TOLERANCE_MS`]) when it was seen. That it catches up is not
/// judged: on the real node `availableReplicas` stayed behind a pod Ready for 16 s, until the
/// controller's next pass (its requeue after `minReadySeconds` is not prompt), while a status
/// running ahead of the pods is wrong whenever it is seen.
pub(super) fn min_ready(window: &Window<'_>) -> Outcome {
    let check = CheckName::MinReady;
    let entries = &window.timeline.entries[..window.range.end.min(window.timeline.len())];
    let mut set: Option<&SetObs> = None;
    // Each pod of the set by ordinal: its UID and since when it has been Running and Ready.
    let mut pods: BTreeMap<u32, (&str, Option<u64>)> = BTreeMap::new();
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut close: Vec<(String, Vec<usize>)> = Vec::new();
    let mut waited: Vec<(String, Vec<usize>)> = Vec::new();
    let mut judged_any_set = false;
    // The entry at which each ordinal last became Ready, for evidence.
    let mut ready_seq: BTreeMap<u32, usize> = BTreeMap::new();
    for entry in entries {
        match &entry.event {
            Event::StatefulSet { set: s, change } if s.name == window.target => {
                set = (*change != Change::Deleted).then_some(&**s);
                if let Some(said) = s.available_replicas.filter(|_| s.min_ready_seconds > 0 && s.status_current())
                    && window.range.contains(&entry.seq)
                {
                    judged_any_set = true;
                    let wanted = u64::from(s.min_ready_seconds) * 1000;
                    let available = pods
                        .values()
                        .filter(|(_, since)| since.is_some_and(|t| entry.at_ms + TOLERANCE_MS >= t + wanted))
                        .count();
                    if usize::try_from(said).is_ok_and(|said| said > available) {
                        violations.push((
                            format!(
                                "the status said availableReplicas {said} (#{}) when {available} pods had been Ready for minReadySeconds ({})",
                                entry.seq, s.min_ready_seconds
                            ),
                            vec![entry.seq],
                        ));
                    }
                }
            }
            Event::Pod { change, pod } if pod.belongs_to(window.target) => {
                let Some(ordinal) = pod.ordinal_in(window.target) else { continue };
                if *change == Change::Deleted {
                    pods.remove(&ordinal);
                    continue;
                }
                let known = pods.get(&ordinal).filter(|(uid, _)| *uid == &*pod.uid);
                let inside = window.range.contains(&entry.seq);
                if known.is_none()
                    && *change == Change::Added
                    && inside
                    && let Some(set) = set.filter(|s| s.min_ready_seconds > 0 && !s.parallel())
                {
                    judged_any_set = true;
                    let wanted = u64::from(set.min_ready_seconds) * 1000;
                    let start = set.start_ordinal.min(ordinal);
                    let predecessors: Vec<(u32, Option<u64>)> =
                        pods.range(start..ordinal).map(|(k, (_, since))| (*k, *since)).collect();
                    let complete = u32::try_from(predecessors.len()).ok() == Some(ordinal - start);
                    if complete
                        && predecessors.iter().all(|(_, since)| since.is_some())
                        && let Some((k, since)) =
                            predecessors.iter().filter_map(|(k, s)| s.map(|s| (*k, s))).max_by_key(|(_, s)| *s)
                    {
                        let gap = entry.at_ms.saturating_sub(since);
                        let evidence: Vec<usize> = ready_seq.get(&k).copied().into_iter().chain([entry.seq]).collect();
                        let what = format!(
                            "{} was created (#{}) {:.1} s after {}-{k} became Ready (minReadySeconds {})",
                            pod.name,
                            entry.seq,
                            gap as f64 / 1000.0,
                            window.target,
                            set.min_ready_seconds
                        );
                        if gap + TOLERANCE_MS < wanted {
                            violations.push((what, evidence));
                        } else if gap < wanted {
                            close.push((what, evidence));
                        } else {
                            waited.push((what, evidence));
                        }
                    }
                }
                let since = if pod.running_and_ready() {
                    Some(match known {
                        Some((_, Some(since))) => *since,
                        _ => {
                            ready_seq.insert(ordinal, entry.seq);
                            entry.at_ms
                        }
                    })
                } else {
                    None
                };
                pods.insert(ordinal, (&pod.uid, since));
            }
            _ => {}
        }
    }
    if let Some(outcome) = findings::failed(check, &violations) {
        return outcome;
    }
    if let Some((detail, evidence)) = close.first() {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{detail}: within {} s of the mark, which the harness's view of Ready cannot settle", TOLERANCE_MS / 1000),
            evidence.clone(),
        );
    }
    if let Some(outcome) = findings::proven(check, &waited) {
        return outcome;
    }
    let why = if judged_any_set {
        "no pod was created after all its predecessors were Ready"
    } else {
        "no pod was created by an OrderedReady set with minReadySeconds"
    };
    Outcome::new(check, Verdict::NotApplicable, why, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixture::History;

    fn slow_set(policy: &str) -> History {
        let mut h = History::new().set(3, policy);
        h.update_set(|s| s.min_ready_seconds = 10);
        h.step(0);
        h
    }

    #[test]
    fn creations_that_wait_pass_and_one_too_early_fails() {
        let mut h = slow_set("OrderedReady");
        h.create("web-0");
        h.ready("web-0");
        h.advance(10_200);
        h.create("web-1");
        h.ready("web-1");
        h.advance(10_050);
        h.create("web-2");
        let outcome = min_ready(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-1 was created (#"), "{}", outcome.detail);
        assert!(outcome.detail.contains("10.2 s after web-0 became Ready (minReadySeconds 10)"), "{}", outcome.detail);
        h.ready("web-2");
        h.update_set(|s| s.replicas = 4);
        h.advance(2_000);
        h.create("web-3");
        let outcome = min_ready(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-3 was created (#"), "{}", outcome.detail);
        assert!(outcome.detail.contains("2.0 s after web-2"), "{}", outcome.detail);
    }

    #[test]
    fn a_creation_just_short_of_the_mark_is_inconclusive() {
        // 9.1 s and 8.1 s after Ready with N = 10: the Ready time the controller reads is
        // rounded down to the second, and seen late; the real node did the first.
        for gap in [9_100, 8_100] {
            let mut h = slow_set("OrderedReady");
            h.create("web-0");
            h.ready("web-0");
            h.advance(gap);
            h.create("web-1");
            assert_eq!(min_ready(&h.step_window(0)).verdict, Verdict::Inconclusive, "{gap} ms");
        }
        let mut h = slow_set("OrderedReady");
        h.create("web-0");
        h.ready("web-0");
        h.advance(7_900);
        h.create("web-1");
        assert_eq!(min_ready(&h.step_window(0)).verdict, Verdict::Fail, "more than 2 s short");
    }

    #[test]
    fn the_latest_ready_predecessor_counts_and_readiness_lost_starts_over() {
        let mut h = slow_set("OrderedReady");
        h.create("web-0");
        h.ready("web-0");
        h.advance(20_000);
        h.create("web-1");
        h.ready("web-1");
        h.advance(11_000);
        h.unready("web-0");
        h.advance(1_000);
        h.ready("web-0");
        h.advance(3_000);
        h.create("web-2");
        let outcome = min_ready(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("3.0 s after web-0 became Ready"), "{}", outcome.detail);
    }

    #[test]
    fn a_status_counting_a_pod_available_too_soon_fails() {
        let mut h = slow_set("OrderedReady");
        h.create("web-0");
        h.ready("web-0");
        h.advance(3_000);
        h.update_set(|s| s.available_replicas = Some(0));
        assert_eq!(min_ready(&h.step_window(0)).verdict, Verdict::NotApplicable);
        h.update_set(|s| s.available_replicas = Some(1));
        let outcome = min_ready(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("availableReplicas 1 (#"), "{}", outcome.detail);
    }

    #[test]
    fn parallel_sets_and_sets_without_it_are_not_judged() {
        let mut h = slow_set("Parallel");
        h.create("web-0");
        h.create("web-1");
        assert_eq!(min_ready(&h.step_window(0)).verdict, Verdict::NotApplicable);
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.bring_up(2);
        assert_eq!(min_ready(&h.step_window(0)).verdict, Verdict::NotApplicable);
    }
}
