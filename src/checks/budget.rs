//! `rollingUpdate.maxUnavailable`: how many pods a rolling update may take out at once
//! (`updateStatefulSetAfterInvariantEstablished`, behind the MaxUnavailableStatefulSet feature
//! gate).

use std::collections::BTreeMap;

use super::{CheckName, Outcome, Verdict, Window, findings, order};
use crate::timeline::PodObs;

/// How long a pod must have been unready before the controller is taken to know it: its cache
/// may not have seen a readiness it lost a moment ago (as [`super::unhealthy`] has it).
const SEEN_MS: u64 = 5_000;

/// **max-unavailable** — with `rollingUpdate.maxUnavailable` N, a rolling update begins replacing
/// a pod only while fewer than N of the set's kept pods are unavailable (missing, terminating,
/// or not Running and Ready — a pod that lost readiness less than 5 s before counts only once
/// the controller can have seen it), and replaces the highest pod not yet updated first.
/// `skipped` where the stored set has no `maxUnavailable`: an API server without the
/// MaxUnavailableStatefulSet feature gate (alpha, off by default) drops the field, and
/// reverse-rollout judges such a roll-out one pod at a time.
pub(super) fn max_unavailable(window: &Window<'_>) -> Outcome {
    let check = CheckName::MaxUnavailable;
    let after = window.view_after();
    let Some(set) = after.sets.get(window.target) else {
        return Outcome::new(check, Verdict::NotApplicable, "the set did not exist at the end of the window", vec![]);
    };
    if set.update_strategy == "OnDelete" {
        return Outcome::new(check, Verdict::NotApplicable, "the set uses OnDelete: the controller replaces nothing", vec![]);
    }
    let Some(budget) = set.max_unavailable_count() else {
        return Outcome::new(
            check,
            Verdict::Skipped,
            "the set has no spec.updateStrategy.rollingUpdate.maxUnavailable as the API server stored it: a cluster without the MaxUnavailableStatefulSet feature gate (alpha, off by default) drops the field",
            vec![],
        );
    };
    let Some(update) = set.update_revision.clone() else {
        return Outcome::new(check, Verdict::NotApplicable, "the history has no revisions", vec![]);
    };
    let kept = set.ordinals();
    let first_updated = set.partition_ordinal();
    // When each incarnation (UID) was last seen to lose readiness.
    let mut lost: BTreeMap<std::sync::Arc<str>, u64> = BTreeMap::new();
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut replaced = 0;
    let mut most = 0;
    window.replay(|view, entry| {
        if let crate::timeline::Event::Pod { pod, .. } = &entry.event
            && let Some(old) = view.pods.get(&pod.name).filter(|old| old.uid == pod.uid)
            && old.running_and_ready()
            && !pod.running_and_ready()
        {
            lost.insert(pod.uid.clone(), entry.at_ms);
        }
        let Some((k, pod)) = order::begins_terminating_after(window, |name| view.pods.get(name).map(|p| &**p), entry) else {
            return;
        };
        if !kept.contains(&k) || k < first_updated || pod.revision() == Some(update.as_str()) {
            return;
        }
        let pods = view.set_pods(window.target);
        let unavailable_pod = |p: &PodObs| {
            p.terminating
                || !(p.phase == "Running" && p.ready)
                    && lost.get(&p.uid).is_none_or(|at| entry.at_ms.saturating_sub(*at) >= SEEN_MS)
        };
        let present: Vec<(&u32, &&PodObs)> = pods.range(kept.clone()).filter(|(j, _)| **j != k).collect();
        let missing = (kept.end - kept.start - 1) as usize - present.len();
        let out: Vec<&str> = present.iter().filter(|(_, p)| unavailable_pod(p)).map(|(_, p)| &*p.name).collect();
        let unavailable = missing + out.len();
        replaced += 1;
        most = most.max(unavailable + 1);
        if unavailable >= budget as usize {
            violations.push((
                format!(
                    "{} began terminating (#{}) while {unavailable} pods were unavailable already ({}{}), with maxUnavailable {budget}",
                    pod.name,
                    entry.seq,
                    out.join(", "),
                    if missing > 0 { format!("{}{missing} missing", if out.is_empty() { "" } else { ", " }) } else { String::new() }
                ),
                vec![entry.seq],
            ));
            return;
        }
        if let Some((_, higher)) = pods
            .range(k + 1..kept.end)
            .find(|(_, p)| !p.terminating && p.revision().is_some_and(|r| r != update))
        {
            violations.push((
                format!(
                    "{} began terminating (#{}) while {} above it was still on {} and not being replaced",
                    pod.name,
                    entry.seq,
                    higher.name,
                    higher.revision().unwrap_or("?")
                ),
                vec![entry.seq],
            ));
        }
    });
    if let Some(outcome) = findings::failed(check, &violations) {
        return outcome;
    }
    if replaced == 0 {
        return Outcome::new(check, Verdict::NotApplicable, "no pod was replaced for the update", vec![]);
    }
    Outcome::new(
        check,
        Verdict::Pass,
        format!("replaced {replaced} pods from the highest down, at most {most} unavailable at once (maxUnavailable {budget})"),
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixture::History;

    /// Four pods on rev1, maxUnavailable 2, update revision rev2.
    fn budget_set(max: Option<&str>) -> History {
        let mut h = History::new().set(4, "OrderedReady");
        h.update_set(|s| {
            s.max_unavailable = max.map(str::to_owned);
            s.update_revision = Some("rev2".into());
            s.current_revision = Some("rev1".into());
        });
        h.bring_up(4);
        h.step(0);
        h
    }

    fn replace(h: &mut History, pods: &[&str]) {
        for pod in pods {
            h.terminate(pod);
        }
        for pod in pods {
            h.gone(pod);
            h.create_on(pod, "rev2");
        }
        for pod in pods {
            h.ready(pod);
        }
    }

    #[test]
    fn two_at_a_time_within_a_budget_of_two_passes_three_fails() {
        let mut h = budget_set(Some("2"));
        replace(&mut h, &["web-3", "web-2"]);
        replace(&mut h, &["web-1", "web-0"]);
        let outcome = max_unavailable(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("at most 2 unavailable at once (maxUnavailable 2)"), "{}", outcome.detail);
        let mut h = budget_set(Some("2"));
        replace(&mut h, &["web-3", "web-2", "web-1"]);
        let outcome = max_unavailable(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-1 began terminating (#"), "{}", outcome.detail);
        assert!(outcome.detail.contains("while 2 pods were unavailable already (web-2, web-3)"), "{}", outcome.detail);
    }

    #[test]
    fn a_percentage_rounds_down_to_at_least_one_and_lower_pods_wait_for_higher_ones() {
        let mut h = budget_set(Some("10%"));
        replace(&mut h, &["web-3"]);
        replace(&mut h, &["web-2"]);
        assert_eq!(max_unavailable(&h.step_window(0)).verdict, Verdict::Pass);
        let mut h = budget_set(Some("50%"));
        replace(&mut h, &["web-2"]);
        let outcome = max_unavailable(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("while web-3 above it was still on rev1"), "{}", outcome.detail);
    }

    #[test]
    fn without_the_field_the_check_is_skipped_with_the_reason() {
        let mut h = budget_set(None);
        replace(&mut h, &["web-3"]);
        let outcome = max_unavailable(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Skipped);
        assert!(outcome.detail.contains("MaxUnavailableStatefulSet"), "{}", outcome.detail);
    }
}
