//! Checks about revisions beyond the rolling update: what `updateStrategy: OnDelete` leaves
//! alone (`on-delete`), and whether a template the set had before comes back as its old
//! revision and the status tells the truth about the pods (`revisions`).
//!
//! They follow `pkg/controller/statefulset`: under OnDelete `updateStatefulSet` returns before
//! its update walk, so the controller deletes a pod the set keeps only when it has failed or
//! succeeded (`processReplica`), and a pod it creates — a deleted one coming back, or a
//! scale-up — is made from the update revision (`newVersionedStatefulSetPod`: the partition
//! applies to RollingUpdate alone).

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckName, Outcome, QUIET_MS, Verdict, Window, findings, order};
use crate::timeline::{Entry, Event, PodObs, SetObs};

/// How long a template change must be seen to replace nothing before that counts as proof
/// that the controller leaves the pods alone (as [`super::unhealthy`] holds a halted scale).
pub(super) const HELD_MS: u64 = 10_000;

/// A pod created in the window: its ordinal, the pod, the set's generation then, its entry, and
/// its name's previous incarnation (revision, entry) when the history holds one.
type Creation = (u32, std::sync::Arc<PodObs>, Option<i64>, usize, Option<(Option<String>, usize)>);

/// The pod a `SuccessfulDelete` Event of StatefulSet `set` names: the controller records
/// `delete Pod <pod> in StatefulSet <set> successful` (`StatefulPodControl.recordPodEvent`).
fn deleted_by_controller<'e>(entry: &'e Entry, set: &str) -> Option<&'e str> {
    let Event::KubeEvent(event) = &entry.event else { return None };
    if event.reason != "SuccessfulDelete" || event.object.strip_prefix("StatefulSet/") != Some(set) {
        return None;
    }
    let rest = event.message.strip_prefix("delete Pod ")?;
    let (pod, tail) = rest.split_once(" in StatefulSet ")?;
    (tail.strip_prefix(set)? == " successful").then_some(pod)
}

/// An OnDelete set whose controller has seen its latest spec: what it does then follows
/// that spec.
fn observed_on_delete(set: Option<&SetObs>) -> Option<&SetObs> {
    set.filter(|s| s.update_strategy == "OnDelete" && s.status_current())
}

/// **on-delete** — with `updateStrategy: OnDelete`, a template change replaces nothing: the
/// controller deletes no pod the set keeps (its `SuccessfulDelete` Events name none that had
/// not failed or succeeded), and every pod it creates while the spec is unchanged — one
/// deleted by someone else coming back, or a scale-up — is on the update revision.
///
/// `pass` needs evidence: a pod that came back on the update revision from an older one, or
/// pods left on an older revision for [`HELD_MS`] after the controller saw the change. A
/// deletion without the controller's Event is someone else's (the harness's `deletePod`), and
/// a lost Event only hides a failure, never makes one.
pub(super) fn on_delete(window: &Window<'_>) -> Outcome {
    let check = CheckName::OnDelete;
    let before = window.view_before();
    let after = window.view_after();
    let set_before = before.sets.get(window.target);
    let set_after = after.sets.get(window.target);
    if ![set_before, set_after].iter().any(|s| s.is_some_and(|s| s.update_strategy == "OnDelete")) {
        return Outcome::new(check, Verdict::NotApplicable, "the set does not use OnDelete", vec![]);
    }
    // Every observation of each pod incarnation (by UID), to tell a pod that had failed or
    // succeeded from one that had not, whichever watch delivered first.
    let mut ended: BTreeSet<&str> = BTreeSet::new();
    for entry in &window.timeline.entries {
        if let Event::Pod { pod, .. } = &entry.event
            && (pod.phase == "Failed" || pod.phase == "Succeeded")
        {
            ended.insert(&pod.uid);
        }
    }
    // The controller acts on the latest spec it has seen, which the set's watch may show after
    // the Event of what it did: a deletion is judged only where every spec of the window says
    // OnDelete, and only of a pod both the spec then and the spec at the end keep.
    let on_delete_throughout = set_before.is_none_or(|s| s.update_strategy == "OnDelete")
        && window.entries().iter().all(|e| match &e.event {
            Event::StatefulSet { set, .. } if set.name == window.target => set.update_strategy == "OnDelete",
            _ => true,
        });
    let kept_at_end = |ordinal: u32| set_after.is_some_and(|s| s.ordinals().contains(&ordinal));
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut proofs: Vec<(String, Vec<usize>)> = Vec::new();
    // The pods each name had, for "came back on the update revision" and the deleted pod's state.
    let mut last_seen: BTreeMap<String, (std::sync::Arc<PodObs>, usize)> = before
        .pods
        .values()
        .filter(|p| p.belongs_to(window.target))
        .map(|p| (p.name.to_string(), (p.clone(), window.range.start)))
        .collect();
    let mut creations: Vec<Creation> = Vec::new();
    // When the controller was first seen on an update revision some kept pod was not on.
    let mut stale_since: Option<(u64, usize)> = None;
    let mut previous: Option<(u64, usize)> = None;
    let stale = |view: &crate::timeline::View| {
        observed_on_delete(view.sets.get(window.target)).is_some_and(|set| {
            set.update_revision.as_deref().is_some_and(|rev| {
                view.set_pods(window.target)
                    .iter()
                    .any(|(k, p)| set.ordinals().contains(k) && p.revision().is_some_and(|r| r != rev))
            })
        })
    };
    window.replay(|view, entry| {
        if let Some(pod) = deleted_by_controller(entry, window.target)
            && on_delete_throughout
            && let Some(set) = view.sets.get(window.target)
            && let Some(ordinal) = crate::timeline::ordinal_of(pod, window.target)
            && set.ordinals().contains(&ordinal)
            && kept_at_end(ordinal)
        {
            let seen = last_seen.get(pod);
            let failed = seen.is_some_and(|(p, _)| ended.contains(&*p.uid));
            if !failed {
                let mut evidence = vec![entry.seq];
                evidence.extend(seen.map(|(_, seq)| *seq));
                violations.push((
                    format!(
                        "the controller deleted {pod} (#{}), which OnDelete leaves until someone deletes it{}",
                        entry.seq,
                        seen.and_then(|(p, _)| p.revision()).map(|r| format!(" (it was on {r})")).unwrap_or_default()
                    ),
                    evidence,
                ));
            }
        }
        if let Some((ordinal, _)) = order::created_after(window, |name| view.pods.get(name).map(|p| &**p), entry)
            && let Event::Pod { pod, .. } = &entry.event
        {
            let generation = view.sets.get(window.target).and_then(|s| s.generation);
            let previous = last_seen
                .get(&*pod.name)
                .filter(|(old, _)| old.uid != pod.uid)
                .map(|(old, seq)| (old.revision().map(str::to_owned), *seq));
            creations.push((ordinal, pod.clone(), generation, entry.seq, previous));
        }
        if let Event::Pod { pod, .. } = &entry.event
            && pod.belongs_to(window.target)
        {
            last_seen.insert(pod.name.to_string(), (pod.clone(), entry.seq));
        }
        if stale_since.is_none() && stale(view) {
            stale_since = previous;
        }
        previous = Some((entry.at_ms, entry.seq));
    });
    if stale_since.is_none() && stale(&after) {
        stale_since = previous;
    }
    // Creations, judged against the update revision the controller reports at the end, when it
    // had that same spec (generation) when it created the pod.
    if let Some(set) = observed_on_delete(set_after)
        && let Some(rev) = &set.update_revision
    {
        for (ordinal, pod, generation, seq, previous) in &creations {
            if !set.ordinals().contains(ordinal) || generation.is_none_or(|g| Some(g) != set.generation) {
                continue;
            }
            match pod.revision() {
                Some(r) if r == rev => {
                    if let Some((Some(old), old_seq)) = previous
                        && old != rev
                    {
                        proofs.push((
                            format!("{} came back on the update revision {rev} (was {old})", pod.name),
                            vec![*old_seq, *seq],
                        ));
                    } else if let Some(current) = set.current_revision.as_deref().filter(|c| c != rev) {
                        // A new pod, while the set's current revision is another one.
                        proofs.push((
                            format!("{} was created on the update revision {rev}, not the current revision {current}", pod.name),
                            vec![*seq],
                        ));
                    }
                }
                Some(other) => violations.push((
                    format!("{} was created on revision {other}, not the update revision {rev} (#{seq})", pod.name),
                    vec![*seq],
                )),
                None => {}
            }
        }
        // Pods left on an older revision, untouched since the controller saw the change.
        if let Some((since_ms, since_seq)) = stale_since {
            let held = window.end_ms().saturating_sub(since_ms);
            // The pods as they were once the controller had seen the change (one view, not one
            // per pod).
            let then = window.timeline.view_at(since_seq + 1);
            let stale: Vec<&str> = after
                .set_pods(window.target)
                .into_iter()
                .filter(|(k, p)| {
                    set.ordinals().contains(k)
                        && !p.terminating
                        && p.revision().is_some_and(|r| r != rev)
                        && then.pods.get(&*p.name).is_some_and(|old| old.uid == p.uid)
                })
                .map(|(_, p)| &*p.name)
                .collect();
            if !stale.is_empty() && held >= HELD_MS {
                proofs.push((
                    format!(
                        "{} stayed on their revision for {} s while the update revision was {rev}",
                        stale.join(", "),
                        held / 1000
                    ),
                    vec![since_seq],
                ));
            } else if !stale.is_empty() && proofs.is_empty() && violations.is_empty() {
                return Outcome::new(
                    check,
                    Verdict::Inconclusive,
                    format!(
                        "{} stayed on an older revision only {} ms: too short to tell OnDelete from a roll-out that has not begun",
                        stale.join(", "),
                        held
                    ),
                    vec![since_seq],
                );
            }
        }
    }
    if let Some(outcome) = findings::failed(check, &violations) {
        return outcome;
    }
    findings::proven(check, &proofs).unwrap_or_else(|| {
        Outcome::new(
            check,
            Verdict::NotApplicable,
            "no template change was waiting and no pod came back: nothing OnDelete decides",
            vec![],
        )
    })
}

/// **revisions** — a template the set had before comes back as the same revision: the update
/// revision the controller reports for it is the one it reported for that template earlier
/// (`getStatefulSetRevisions` finds the equal ControllerRevision and reuses it; a revision's
/// name is a hash of its template, so a new one would have a new name) — unless more other
/// revisions than `revisionHistoryLimit` came between, when the old one may have been pruned.
/// And once the pods have been still for [`QUIET_MS`] at the end of a step, the status agrees
/// with them (`computeReplicaStatus`, `completeRollingUpdate`): `readyReplicas` counts the
/// Running and Ready pods, `updatedReplicas` and `currentReplicas` the live pods on the update
/// and current revisions, and a RollingUpdate set whose every pod is updated and Ready has
/// `currentRevision` = `updateRevision`.
pub(super) fn revisions(window: &Window<'_>) -> Outcome {
    let check = CheckName::Revisions;
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut proofs: Vec<(String, Vec<usize>)> = Vec::new();
    let mut undecided: Vec<(String, Vec<usize>)> = Vec::new();
    reused_revisions(window, &mut violations, &mut proofs, &mut undecided);
    status_at_end(window, &mut violations, &mut proofs);
    if let Some(outcome) = findings::failed(check, &violations) {
        return outcome;
    }
    if let Some((detail, evidence)) = undecided.first() {
        return Outcome::new(check, Verdict::Inconclusive, detail.clone(), evidence.clone());
    }
    findings::proven(check, &proofs).unwrap_or_else(|| {
        Outcome::new(
            check,
            Verdict::NotApplicable,
            "no earlier template came back, and the step did not end with the pods still for 5 s and the status current",
            vec![],
        )
    })
}

/// The reuse rule of [`revisions`], over the set's observations up to the window's end (the
/// earlier ones tell which revision a template had), judging those inside the window.
fn reused_revisions(
    window: &Window<'_>,
    violations: &mut Vec<(String, Vec<usize>)>,
    proofs: &mut Vec<(String, Vec<usize>)>,
    undecided: &mut Vec<(String, Vec<usize>)>,
) {
    // Per set incarnation (UID): a deleted set's revisions go with it.
    let mut uid = String::new();
    let mut by_digest: BTreeMap<String, (String, usize)> = BTreeMap::new();
    // Each revision the status named, and its place in the order first seen.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut last: Option<String> = None;
    for entry in &window.timeline.entries[..window.range.end.min(window.timeline.len())] {
        let Event::StatefulSet { set, .. } = &entry.event else { continue };
        if set.name != window.target || !set.status_current() {
            continue;
        }
        let (Some(digest), Some(revision)) = (&set.template_digest, &set.update_revision) else { continue };
        if set.uid != uid {
            uid.clone_from(&set.uid);
            by_digest.clear();
            seen.clear();
            last = None;
        }
        let changed = last.as_ref() != Some(revision);
        last = Some(revision.clone());
        let next = seen.len();
        seen.entry(revision.clone()).or_insert(next);
        let inside = window.range.contains(&entry.seq);
        match by_digest.get(digest) {
            None => {
                by_digest.insert(digest.clone(), (revision.clone(), entry.seq));
            }
            Some((earlier, _)) if earlier == revision => {
                if inside && changed && seen.len() > 1 {
                    proofs.push((
                        format!("the template of {revision} came back and the controller reused {revision}"),
                        vec![entry.seq],
                    ));
                }
            }
            Some((earlier, first_seq)) => {
                if !inside {
                    continue;
                }
                let position = seen.get(earlier).copied().unwrap_or(0);
                let between = seen.len().saturating_sub(position + 2);
                let detail = format!(
                    "the template of {earlier} (#{first_seq}) came back, and the controller made a new revision {revision} (#{}) instead of reusing it",
                    entry.seq
                );
                if between <= set.history_limit() as usize {
                    violations.push((detail, vec![*first_seq, entry.seq]));
                } else {
                    undecided.push((
                        format!("{detail}; {between} other revisions came between, more than revisionHistoryLimit {}: it may have been pruned", set.history_limit()),
                        vec![*first_seq, entry.seq],
                    ));
                }
                // The new revision stands for the template from now on.
                by_digest.insert(digest.clone(), (revision.clone(), entry.seq));
            }
        }
    }
}

/// The status rule of [`revisions`]: at a step's end, after the pods were still for
/// [`QUIET_MS`], with the status current.
fn status_at_end(window: &Window<'_>, violations: &mut Vec<(String, Vec<usize>)>, proofs: &mut Vec<(String, Vec<usize>)>) {
    if window.ended_early {
        return;
    }
    let after = window.view_after();
    let Some(set) = after.sets.get(window.target).filter(|s| s.status_current()) else { return };
    let (Some(update_rev), Some(current_rev), Some(current_replicas)) =
        (set.update_revision.as_deref(), set.current_revision.as_deref(), set.current_replicas)
    else {
        return;
    };
    let entries = &window.timeline.entries[..window.range.end.min(window.timeline.len())];
    let last_pod = entries.iter().rev().find(|e| matches!(&e.event, Event::Pod { pod, .. } if pod.belongs_to(window.target)));
    let last_set = entries.iter().rev().find(|e| matches!(&e.event, Event::StatefulSet { set, .. } if set.name == window.target));
    let still_since = last_pod.map_or(0, |e| e.at_ms);
    let still = window.end_ms().saturating_sub(still_since);
    if still < QUIET_MS {
        return;
    }
    let pods: Vec<&PodObs> = after.pods.values().map(|p| &**p).filter(|p| p.belongs_to(window.target)).collect();
    let count = |f: &dyn Fn(&PodObs) -> bool| u32::try_from(pods.iter().filter(|p| f(p)).count()).unwrap_or(u32::MAX);
    let ready = count(&|p| p.phase == "Running" && p.ready);
    let live = count(&|p| !p.terminating);
    let updated = count(&|p| !p.terminating && p.revision() == Some(update_rev));
    let current = count(&|p| !p.terminating && p.revision() == Some(current_rev));
    let mut evidence: Vec<usize> = last_set.iter().chain(last_pod.iter()).map(|e| e.seq).collect();
    evidence.sort_unstable();
    let mut wrong = Vec::new();
    for (field, said, is) in [
        ("readyReplicas", set.ready_replicas, ready),
        ("updatedReplicas", set.updated_replicas, updated),
        ("currentReplicas", current_replicas, current),
    ] {
        if said != is {
            wrong.push(format!("{field} {said}, but {is} pods"));
        }
    }

    if set.update_strategy != "OnDelete"
        && updated == set.replicas
        && ready == set.replicas
        && live == set.replicas
        && current_rev != update_rev
    {
        wrong.push(format!("currentRevision {current_rev}, though all {live} pods are on {update_rev} and Ready"));
    }
    if wrong.is_empty() {
        proofs.push((
            format!(
                "after {} s without a pod change the status agreed with the pods: {ready} Ready, {updated} on the update revision {update_rev}, {current_replicas} on the current revision {current_rev}",
                still / 1000
            ),
            evidence,
        ));
    } else {
        violations.push((format!("{} s after the last pod change the status said {}", still / 1000, wrong.join("; ")), evidence));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        checks::fixture::History,
        timeline::{Event, KubeEventObs},
    };

    /// Three pods on rev1 under OnDelete; step 0 begins after them.
    fn on_delete_set() -> History {
        let mut h = History::new().set(3, "OrderedReady");
        h.update_set(|s| {
            s.update_strategy = "OnDelete".into();
            s.generation = Some(1);
            s.observed_generation = Some(1);
            s.update_revision = Some("rev1".into());
            s.current_revision = Some("rev1".into());
        });
        h.bring_up(3);
        h
    }

    /// The template changes: generation 2, update revision rev2, observed.
    fn template_change(h: &mut History) -> usize {
        h.update_set(|s| s.generation = Some(2));
        h.update_set(|s| {
            s.observed_generation = Some(2);
            s.update_revision = Some("rev2".into());
        })
    }

    fn controller_deletes(h: &mut History, pod: &str) -> usize {
        h.timeline.push(
            h.now,
            Event::from(KubeEventObs {
                kind: "Normal".into(),
                reason: "SuccessfulDelete".into(),
                object: "StatefulSet/web".into(),
                message: format!("delete Pod {pod} in StatefulSet web successful"),
            }),
        )
    }

    /// `pod` is deleted and comes back on `rev`, Ready.
    fn replaced(h: &mut History, pod: &str, rev: &str) {
        h.terminate(pod);
        h.gone(pod);
        h.create_on(pod, rev);
        h.ready(pod);
    }

    #[test]
    fn pods_left_on_the_old_revision_long_enough_pass() {
        let mut h = on_delete_set();
        h.step(0);
        template_change(&mut h);
        h.advance(HELD_MS + 1000);
        let outcome = on_delete(&Window { ended_at_ms: Some(h.now), ..h.step_window(0) });
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-0, web-1, web-2 stayed"), "{}", outcome.detail);
    }

    #[test]
    fn a_short_look_is_inconclusive() {
        let mut h = on_delete_set();
        h.step(0);
        template_change(&mut h);
        h.advance(2000);
        assert_eq!(on_delete(&Window { ended_at_ms: Some(h.now), ..h.step_window(0) }).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_pod_deleted_by_someone_else_comes_back_updated() {
        let mut h = on_delete_set();
        template_change(&mut h);
        h.step(0);
        replaced(&mut h, "web-1", "rev2");
        let outcome = on_delete(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-1 came back on the update revision rev2 (was rev1)"), "{}", outcome.detail);
    }

    #[test]
    fn a_scale_up_creates_from_the_update_revision() {
        let mut h = on_delete_set();
        template_change(&mut h);
        h.step(0);
        h.update_set(|s| {
            s.replicas = 4;
            s.generation = Some(3);
            s.observed_generation = Some(3);
        });
        h.create_on("web-3", "rev2");
        h.ready("web-3");
        let outcome = on_delete(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("web-3 was created on the update revision rev2, not the current revision rev1"));
        // From the current revision, as the API's own description of OnDelete has it, it fails.
        let mut h2 = on_delete_set();
        template_change(&mut h2);
        h2.step(0);
        h2.update_set(|s| {
            s.replicas = 4;
            s.generation = Some(3);
            s.observed_generation = Some(3);
        });
        h2.create("web-3");
        assert_eq!(on_delete(&h2.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn a_pod_coming_back_on_the_old_revision_fails() {
        let mut h = on_delete_set();
        template_change(&mut h);
        h.step(0);
        replaced(&mut h, "web-1", "rev1");
        let outcome = on_delete(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(
            outcome.detail.contains("web-1 was created on revision rev1, not the update revision rev2"),
            "{}",
            outcome.detail
        );
    }

    #[test]
    fn the_controller_deleting_a_kept_pod_fails() {
        let mut h = on_delete_set();
        h.step(0);
        template_change(&mut h);
        let event = controller_deletes(&mut h, "web-2");
        replaced(&mut h, "web-2", "rev2");
        let outcome = on_delete(&h.step_window(0));
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("the controller deleted web-2"), "{}", outcome.detail);
        assert!(outcome.evidence.contains(&event));
    }

    #[test]
    fn the_controller_may_delete_a_failed_pod_or_one_a_scale_down_removes() {
        let mut h = on_delete_set();
        h.step(0);
        template_change(&mut h);
        h.modify("web-1", |p| {
            p.phase = "Failed".into();
            p.ready = false;
        });
        controller_deletes(&mut h, "web-1");
        replaced(&mut h, "web-1", "rev2");
        h.update_set(|s| {
            s.replicas = 2;
            s.generation = Some(3);
            s.observed_generation = Some(3);
        });
        controller_deletes(&mut h, "web-2");
        h.terminate("web-2");
        h.gone("web-2");
        let outcome = on_delete(&h.step_window(0));
        assert_ne!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
    }

    #[test]
    fn a_deletion_before_the_status_shows_the_new_spec_fails_all_the_same() {
        // The controller acts on the new template, then writes its status: the Event comes
        // between the spec change and the status that shows it observed.
        let mut h = on_delete_set();
        h.step(0);
        h.update_set(|s| s.generation = Some(2));
        controller_deletes(&mut h, "web-2");
        h.terminate("web-2");
        h.update_set(|s| {
            s.observed_generation = Some(2);
            s.update_revision = Some("rev2".into());
        });
        assert_eq!(on_delete(&h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn a_deletion_while_the_set_turns_to_on_delete_is_not_judged() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        controller_deletes(&mut h, "web-2");
        h.update_set(|s| {
            s.update_strategy = "OnDelete".into();
            s.generation = Some(2);
            s.observed_generation = Some(2);
        });
        assert_ne!(on_delete(&h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn an_event_seen_before_the_scale_down_it_carries_out_is_no_failure() {
        // The Event arrives before the set's new replica count: the pod is condemned at the end.
        let mut h = on_delete_set();
        h.step(0);
        controller_deletes(&mut h, "web-2");
        h.update_set(|s| {
            s.replicas = 2;
            s.generation = Some(2);
            s.observed_generation = Some(2);
        });
        h.terminate("web-2");
        h.gone("web-2");
        assert_ne!(on_delete(&h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn a_rolling_update_set_is_not_judged() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        h.bring_up(1);
        assert_eq!(on_delete(&h.step_window(0)).verdict, Verdict::NotApplicable);
    }

    #[test]
    fn only_the_controllers_own_event_names_a_pod() {
        let event = |reason: &str, object: &str, message: &str| Entry {
            seq: 0,
            at_ms: 0,
            event: Event::from(KubeEventObs {
                kind: "Normal".into(),
                reason: reason.into(),
                object: object.into(),
                message: message.into(),
            }),
        };
        assert_eq!(
            deleted_by_controller(
                &event("SuccessfulDelete", "StatefulSet/web", "delete Pod web-3 in StatefulSet web successful"),
                "web"
            ),
            Some("web-3")
        );
        for (reason, object, message) in [
            ("SuccessfulCreate", "StatefulSet/web", "create Pod web-3 in StatefulSet web successful"),
            ("SuccessfulDelete", "StatefulSet/webby", "delete Pod webby-3 in StatefulSet webby successful"),
            ("SuccessfulDelete", "StatefulSet/web", "delete Pod web-3 in StatefulSet webby successful"),
            ("SuccessfulDelete", "StatefulSet/web", "delete Pod web-3"),
        ] {
            assert_eq!(deleted_by_controller(&event(reason, object, message), "web"), None, "{message}");
        }
    }

    /// A RollingUpdate set of three pods on rev1 with template t1, observed.
    fn rolling_set() -> History {
        let mut h = History::new().set(3, "OrderedReady");
        h.update_set(|s| {
            s.generation = Some(1);
            s.observed_generation = Some(1);
            s.template_digest = Some("t1".into());
            s.update_revision = Some("rev1".into());
            s.current_revision = Some("rev1".into());
        });
        h.bring_up(3);
        h.update_set(|s| {
            s.ready_replicas = 3;
            s.updated_replicas = 3;
            s.current_replicas = Some(3);
        });
        h
    }

    /// The template becomes `digest`, named `rev` by the controller, and every pod is replaced
    /// onto it; the status then says so.
    fn roll_to(h: &mut History, digest: &str, rev: &str) {
        let generation = h.set.as_ref().and_then(|s| s.generation).unwrap_or(1) + 1;
        h.update_set(|s| {
            s.generation = Some(generation);
            s.template_digest = Some(digest.into());
        });
        h.update_set(|s| {
            s.observed_generation = Some(generation);
            s.update_revision = Some(rev.into());
            s.updated_replicas = 0;
            s.current_replicas = Some(3);
        });
        for pod in ["web-2", "web-1", "web-0"] {
            h.advance(1000);
            replaced(h, pod, rev);
        }
        h.update_set(|s| {
            s.updated_replicas = 3;
            s.current_replicas = Some(3);
            s.current_revision = Some(rev.into());
        });
    }

    fn ended(h: &History, index: usize) -> Outcome {
        revisions(&Window { ended_at_ms: Some(h.now), ..h.step_window(index) })
    }

    #[test]
    fn a_rollback_that_reuses_the_revision_and_a_truthful_status_pass() {
        let mut h = rolling_set();
        roll_to(&mut h, "t2", "rev2");
        h.step(0);
        roll_to(&mut h, "t1", "rev1");
        h.advance(QUIET_MS);
        let outcome = ended(&h, 0);
        assert_eq!(outcome.verdict, Verdict::Pass, "{}", outcome.detail);
        assert!(outcome.detail.contains("the template of rev1 came back and the controller reused rev1"), "{}", outcome.detail);
        assert!(outcome.detail.contains("3 Ready, 3 on the update revision rev1"), "{}", outcome.detail);
    }

    #[test]
    fn a_rollback_to_a_new_revision_fails_unless_the_old_one_may_be_pruned() {
        let mut h = rolling_set();
        roll_to(&mut h, "t2", "rev2");
        h.step(0);
        roll_to(&mut h, "t1", "rev3");
        let outcome = ended(&h, 0);
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("the template of rev1 (#"), "{}", outcome.detail);
        // With revisionHistoryLimit 0 and one revision between, rev1 may be gone.
        let mut h = rolling_set();
        h.update_set(|s| s.revision_history_limit = Some(0));
        roll_to(&mut h, "t2", "rev2");
        h.step(0);
        roll_to(&mut h, "t1", "rev3");
        let outcome = ended(&h, 0);
        assert_eq!(outcome.verdict, Verdict::Inconclusive, "{}", outcome.detail);
        assert!(outcome.detail.contains("may have been pruned"), "{}", outcome.detail);
    }

    #[test]
    fn a_set_created_again_starts_a_new_history() {
        let mut h = rolling_set();
        roll_to(&mut h, "t2", "rev2");
        h.step(0);
        h.update_set(|s| s.uid = "set-2".into());
        roll_to(&mut h, "t1", "rev9");
        assert_ne!(ended(&h, 0).verdict, Verdict::Fail);
    }

    #[test]
    fn a_status_that_disagrees_with_still_pods_fails_and_one_not_yet_still_is_not_judged() {
        let mut h = rolling_set();
        h.step(0);
        roll_to(&mut h, "t2", "rev2");
        h.update_set(|s| s.current_revision = Some("rev1".into()));
        h.update_set(|s| s.current_replicas = Some(0));
        // Moments after the last pod change: not judged.
        assert_eq!(ended(&h, 0).verdict, Verdict::NotApplicable);
        h.advance(QUIET_MS);
        let outcome = ended(&h, 0);
        assert_eq!(outcome.verdict, Verdict::Fail, "{}", outcome.detail);
        assert!(outcome.detail.contains("currentRevision rev1, though all 3 pods are on rev2 and Ready"), "{}", outcome.detail);
        // A wrong count.
        h.update_set(|s| {
            s.current_revision = Some("rev2".into());
            s.current_replicas = Some(3);
            s.ready_replicas = 2;
        });
        let outcome = ended(&h, 0);
        assert!(outcome.detail.contains("readyReplicas 2, but 3 pods"), "{}", outcome.detail);
        // Under OnDelete the current revision stays behind, as completeRollingUpdate has it.
        h.update_set(|s| {
            s.update_strategy = "OnDelete".into();
            s.ready_replicas = 3;
            s.current_revision = Some("rev1".into());
            s.current_replicas = Some(0);
        });
        assert_eq!(ended(&h, 0).verdict, Verdict::Pass);
    }

    #[test]
    fn a_history_without_status_counts_is_not_judged() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        h.bring_up(1);
        h.advance(QUIET_MS);
        assert_eq!(ended(&h, 0).verdict, Verdict::NotApplicable);
    }
}
