//! Unhealthy pods: what the StatefulSet controller does while a pod of the set is Running but
//! not Ready — the half of the OrderedReady guarantee that pods which become Ready on their
//! own never exercise.
//!
//! From `stateful_set_control.go` (`updateStatefulSet`, v1.34): with OrderedReady ("monotonic")
//! the controller walks the pods it keeps (ordinals below `replicas`) from 0 up; it creates the
//! first missing one and stops, and stops at the first that is terminating or not Running and
//! Ready. Only when every kept pod is Running and Ready does it consider the condemned pods
//! (ordinals at or above `replicas`), highest first: it waits for one that is terminating, and
//! it deletes the highest only if that pod is Running and Ready or is itself the set's *first
//! unhealthy pod* (the lowest ordinal that is not healthy) — so an unhealthy top pod never
//! blocks a scale-down, while a healthy one above an unhealthy one is removed first. With
//! Parallel the same walk creates and deletes without stopping.
//!
//! Upstream's e2e suite checks this by polling the pod count for 10 s after a scale while a
//! pod's readiness probe is broken (`confirmStatefulPodCount`); here the whole history is
//! judged: every creation and deletion the controller made while a pod was unready, and how
//! long it held a change it was asked for.

use std::{collections::BTreeMap, ops::Range, sync::Arc};

use super::{
    CheckName, Outcome, Policy, Verdict, Window,
    order::{begins_terminating_after, created_after},
};
use crate::timeline::{Change, Entry, Event, PodObs, SetObs, View};

/// How long a scale must have been held while a pod was unready to show that the controller
/// halts: upstream's `confirmStatefulPodCount` watches for 10 s.
pub(super) const HALT_MIN_MS: u64 = 10_000;

/// How long a kept pod may stay missing, with every pod below it Ready and one above it
/// unready, before the controller is judged deadlocked: its next sync recreates such a pod at
/// once (a watch event of the deletion triggers it), so 30 s is far beyond any conformant delay.
pub(super) const DEADLOCK_MS: u64 = 30_000;

/// How long a Parallel set may leave a wanted creation or deletion undone while a pod is
/// unready before it is judged to wait for readiness: one sync makes them all, at once.
pub(super) const BURST_STALL_MS: u64 = 20_000;

/// A controller decides on what its informer has seen, which trails the API by a moment: an
/// action within this long after a pod became unready may have been decided before the
/// controller saw it, and is not held against it.
pub(super) const RACE_MS: u64 = 5_000;

/// The target set's pods by ordinal and the replica count its spec asks for, followed entry by
/// entry.
struct Tracker {
    pods: BTreeMap<u32, Arc<PodObs>>,
    /// The ordinals the spec keeps (`start..start + replicas`).
    kept: Option<Range<u32>>,
    /// When each unready pod lost its readiness (`None`: before the window, or it was never
    /// Ready — the controller cannot have missed a change).
    unready_since: BTreeMap<u32, Option<u64>>,
}

impl Tracker {
    fn of(view: &View, target: &str) -> Self {
        let pods = view
            .pods
            .values()
            .filter(|p| p.belongs_to(target))
            .filter_map(|p| p.ordinal_in(target).map(|k| (k, Arc::clone(p))))
            .collect::<BTreeMap<u32, Arc<PodObs>>>();
        let unready_since = pods.iter().filter(|(_, p)| p.running_not_ready()).map(|(k, _)| (*k, None)).collect();
        Self { pods, kept: view.sets.get(target).map(SetObs::ordinals), unready_since }
    }

    /// Whether pod `k` has been unready for longer than [`RACE_MS`] at `at_ms`.
    fn long_unready(&self, k: u32, at_ms: u64) -> bool {
        self.unready_since.get(&k).is_some_and(|since| since.is_none_or(|s| at_ms.saturating_sub(s) > RACE_MS))
    }

    /// Whether `entry` concerns the target set (its pods or its spec).
    fn concerns(entry: &Entry, target: &str) -> bool {
        match &entry.event {
            Event::Pod { pod, .. } => pod.belongs_to(target) && pod.ordinal_in(target).is_some(),
            Event::StatefulSet { set, .. } => set.name == target,
            _ => false,
        }
    }

    fn apply(&mut self, event: &Event, target: &str, at_ms: u64) {
        match event {
            Event::Pod { change, pod } if pod.belongs_to(target) => {
                let Some(k) = pod.ordinal_in(target) else { return };
                if *change == Change::Deleted {
                    if self.pods.get(&k).is_some_and(|p| p.uid == pod.uid || pod.uid.is_empty()) {
                        self.pods.remove(&k);
                        self.unready_since.remove(&k);
                    }
                } else {
                    let old = self.pods.get(&k).filter(|p| p.uid == pod.uid);
                    if !pod.running_not_ready() {
                        self.unready_since.remove(&k);
                    } else if !old.is_some_and(|p| p.running_not_ready()) {
                        // Only a pod that was Ready can have lost it unseen by the controller.
                        let was_ready = old.is_some_and(|p| p.running_and_ready());
                        self.unready_since.insert(k, was_ready.then_some(at_ms));
                    }
                    self.pods.insert(k, Arc::clone(pod));
                }
            }
            Event::StatefulSet { change, set } if set.name == target => {
                self.kept = (*change != Change::Deleted).then(|| set.ordinals());
            }
            _ => {}
        }
    }

    /// The lowest ordinal whose pod is unready.
    fn lowest_unready(&self) -> Option<(u32, &PodObs)> {
        self.pods.iter().find(|(_, p)| p.running_not_ready()).map(|(k, p)| (*k, &**p))
    }

    /// The lowest ordinal the spec keeps that has no pod.
    fn first_missing(&self) -> Option<u32> {
        crate::timeline::first_ordinal_not(&self.pods, self.kept.clone()?, |_| true)
    }

    /// Whether the spec keeps ordinal `k`.
    fn keeps(&self, k: u32) -> bool {
        self.kept.as_ref().is_some_and(|kept| kept.contains(&k))
    }

    /// The pods the spec keeps.
    fn kept_pods(&self) -> impl Iterator<Item = (&u32, &Arc<PodObs>)> {
        self.pods.range(self.kept.clone().unwrap_or(0..0))
    }

    /// The condemned pods (outside the ordinals the spec keeps): the highest not terminating,
    /// and whether one is terminating.
    fn condemned(&self) -> (Option<(u32, &PodObs)>, bool) {
        if self.kept.is_none() {
            return (None, false);
        }
        let mut highest = None;
        let mut terminating = false;
        for (k, p) in self.pods.iter().rev().filter(|(k, _)| !self.keeps(**k)) {
            if p.terminating {
                terminating = true;
            } else if highest.is_none() {
                highest = Some((*k, &**p));
            }
        }
        (highest, terminating)
    }

    /// The change the spec asks for that an unready pod holds up, in words, if any: a missing
    /// pod above the lowest unready one (scale-up), or a condemned pod the controller may not
    /// delete because a kept pod is unready or because it is not Ready and a lower pod is the
    /// first unhealthy one (scale-down).
    fn held(&self) -> Option<String> {
        let (u, lowest) = self.lowest_unready()?;
        let replicas = self.kept.as_ref().map(|k| k.end - k.start)?;
        if let Some(m) = self.first_missing().filter(|m| *m > u) {
            return Some(format!("scale-up to {replicas} (next: ordinal {m}) held while {} was not Ready", lowest.name));
        }
        let (highest, terminating) = self.condemned();
        let (c, pod) = highest?;
        if terminating {
            return None;
        }
        if self.keeps(u) {
            return Some(format!("scale-down to {replicas} held while {}, which the set keeps, was not Ready", lowest.name));
        }
        (!pod.running_and_ready() && u < c).then(|| {
            format!("scale-down to {replicas} held: {} is not Ready and {} is the first unhealthy pod", pod.name, lowest.name)
        })
    }
}

/// Time spent in a held state, for evidence.
#[derive(Default)]
struct Held {
    /// The longest continuous stretch: its length, words and first entry.
    longest: Option<(u64, String, usize)>,
    /// The current stretch: start time, words, first entry.
    current: Option<(u64, String, usize)>,
}

impl Held {
    /// From the entry at `at_ms` (`seq`) on, the state is held as `what` says (or not).
    fn note(&mut self, what: Option<String>, at_ms: u64, seq: usize) {
        match (what, &self.current) {
            (Some(what), None) => self.current = Some((at_ms, what, seq)),
            (Some(_), Some(_)) => {}
            (None, Some(_)) => self.close(at_ms),
            (None, None) => {}
        }
    }

    fn close(&mut self, at_ms: u64) {
        if let Some((start, what, seq)) = self.current.take() {
            let length = at_ms.saturating_sub(start);
            if self.longest.as_ref().is_none_or(|(l, _, _)| length > *l) {
                self.longest = Some((length, what, seq));
            }
        }
    }
}

/// **halt-on-unhealthy** — with OrderedReady, while a pod of the set is Running but not Ready:
/// no pod with a higher ordinal is created; no condemned pod begins terminating while a pod the
/// set keeps is unready; a condemned pod that is not Ready begins terminating only when it is
/// the lowest unhealthy pod; a kept pod that is gone while every pod below it is Ready is
/// recreated although a pod above it is unready (no deadlock; fails after [`DEADLOCK_MS`]).
/// `pass` needs evidence: a change held at least [`HALT_MIN_MS`], a recreation past an unready
/// pod, or an unready pod removed first; a shorter hold is `inconclusive`.
pub(super) fn halt_on_unhealthy(window: &Window<'_>) -> Outcome {
    let check = CheckName::HaltOnUnhealthy;
    if window.policy() == Policy::Parallel {
        return Outcome::new(check, Verdict::NotApplicable, "the set is Parallel: it waits for no pod", vec![]);
    }
    let target = window.target;
    let before = window.view_before();
    let mut set = Tracker::of(&before, target);
    let mut held = Held::default();
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut shown: Vec<(String, usize)> = Vec::new();
    // Actions that may have been decided before the controller saw a pod become unready.
    let mut raced: Vec<(String, usize)> = Vec::new();
    // A kept ordinal gone while all below it were Ready and one above it unready: since when.
    let mut missing: Option<(u32, u64, usize)> = None;
    let mut spec_seen = set.kept.is_some();
    // The controller made a pod whose name has no ordinal: no deadlock is judged.
    let mut renamed = false;
    // The controller said it could not create a pod (quota, admission): a pod missing then is
    // the API's refusal, not a deadlock.
    let mut refused: Option<String> = None;
    for entry in window.entries() {
        if let Event::KubeEvent(event) = &entry.event
            && event.reason == "FailedCreate"
            && event.object == format!("StatefulSet/{target}")
        {
            refused.get_or_insert_with(|| event.message.clone());
        }
        if let Event::Pod { change: Change::Added, pod } = &entry.event
            && pod.owner_of_kind("StatefulSet") == Some(target)
            && pod.ordinal_in(target).is_none()
        {
            // The controller made a pod, under a name that is not `<set>-<ordinal>`: not
            // stuck, whatever else is wrong (stable-identity judges names).
            missing = None;
            renamed = true;
        }
        if !Tracker::concerns(entry, target) {
            continue;
        }
        if let Some((m, since, seq)) = missing
            && entry.at_ms.saturating_sub(since) >= DEADLOCK_MS
        {
            violations.push((deadlock(target, m, since, entry.at_ms, &set), vec![seq]));
            missing = None;
        }
        if let Event::Pod { pod, .. } = &entry.event
            && let Some(k) = pod.ordinal_in(target)
        {
            // The pod's state before this entry, under its ordinal (its name).
            let previous = set.pods.get(&k).map(|p| &**p);
            let before = |_: &str| previous;
            let old = previous.filter(|old| old.uid == pod.uid || pod.uid.is_empty());
            if created_after(window, before, entry).is_some() {
                match set.lowest_unready() {
                    Some((u, lowest)) if u < k && set.long_unready(u, entry.at_ms) => violations.push((
                        format!("{} was created (#{}) while {} was Running but not Ready", pod.name, entry.seq, lowest.name),
                        vec![entry.seq],
                    )),
                    Some((u, lowest)) if u < k => raced.push((
                        format!("{} was created (#{}) just after {} became unready", pod.name, entry.seq, lowest.name),
                        entry.seq,
                    )),
                    Some((u, lowest)) if missing.is_some_and(|(m, _, _)| m == k) && u > k => shown.push((
                        format!("{} was recreated (#{}) while {} was not Ready: no deadlock", pod.name, entry.seq, lowest.name),
                        entry.seq,
                    )),
                    _ => {}
                }
                if missing.is_some_and(|(m, _, _)| m == k) {
                    missing = None;
                }
            }
            if begins_terminating_after(window, before, entry).is_some() && set.kept.is_some() && !set.keeps(k) {
                let kept_unready = set.kept_pods().find(|(_, p)| p.running_not_ready());
                let lower_unhealthy = set.pods.range(..k).find(|(_, p)| !p.running_and_ready());
                let this = old;
                let settled = |j: u32| set.long_unready(j, entry.at_ms);
                if let Some((_, p)) = kept_unready.filter(|(j, _)| !settled(**j)) {
                    raced.push((
                        format!("{} began terminating (#{}) just after {} became unready", pod.name, entry.seq, p.name),
                        entry.seq,
                    ));
                } else if let Some((_, p)) = kept_unready {
                    violations.push((
                        format!(
                            "{} began terminating (#{}) while {}, which the set keeps, was Running but not Ready",
                            pod.name, entry.seq, p.name
                        ),
                        vec![entry.seq],
                    ));
                } else if let (Some(this), Some((j, lower))) = (this.filter(|t| !t.running_and_ready()), lower_unhealthy)
                    && lower.running_not_ready()
                    && settled(*j)
                {
                    violations.push((
                        format!(
                            "{} began terminating (#{}) while not Ready, although {} below it was the first unhealthy pod",
                            this.name, entry.seq, lower.name
                        ),
                        vec![entry.seq],
                    ));
                } else if this.is_some_and(PodObs::running_not_ready) {
                    shown.push((
                        format!("{} was not Ready and the lowest unhealthy pod: removed first (#{})", pod.name, entry.seq),
                        entry.seq,
                    ));
                }
            }
        }
        set.apply(&entry.event, target, entry.at_ms);
        // From this entry on, the state is held (or not).
        held.note(set.held(), entry.at_ms, entry.seq);
        spec_seen |= set.kept.is_some();
        // A kept pod gone (deleted, not yet recreated) with all below it Ready, one above unready.
        if missing.is_none()
            && !renamed
            && let Some(m) = set.first_missing()
            && set.kept_pods().take_while(|(k, _)| **k < m).all(|(_, p)| p.running_and_ready())
            && set.pods.range(m..).any(|(_, p)| p.running_not_ready())
        {
            missing = Some((m, entry.at_ms, entry.seq));
        }
    }
    let end = window.end_ms();
    held.close(end);
    if let Some((m, since, seq)) = missing
        && end.saturating_sub(since) >= DEADLOCK_MS
    {
        violations.push((deadlock(target, m, since, end, &set), vec![seq]));
    }
    if let Some(why) = &refused
        && violations.iter().all(|(d, _)| d.contains("a deadlock"))
        && let Some((detail, evidence)) = violations.first()
    {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{detail}, but the controller reported it could not create pods: {why}"),
            evidence.clone(),
        );
    }
    if let Some((detail, _)) = violations.first() {
        let more = if violations.len() > 1 { format!(" (and {} more)", violations.len() - 1) } else { String::new() };
        let evidence = violations.iter().flat_map(|(_, e)| e.iter().copied()).collect();
        return Outcome::new(check, Verdict::Fail, format!("{detail}{more}"), evidence);
    }
    if let Some((detail, _)) = raced.first() {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{detail}: the controller may have decided before it saw that"),
            raced.iter().map(|(_, s)| *s).collect(),
        );
    }
    if !spec_seen {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            "the history holds no spec of the set: which pods it keeps cannot be told",
            vec![],
        );
    }
    let mut details: Vec<String> = shown.iter().map(|(d, _)| d.clone()).collect();
    let mut evidence: Vec<usize> = shown.iter().map(|(_, s)| *s).collect();
    let mut short = None;
    if let Some((length, what, seq)) = held.longest {
        if length >= HALT_MIN_MS {
            details.insert(0, format!("{what}, for {} s: nothing created or removed", length / 1000));
            evidence.insert(0, seq);
        } else {
            short = Some((
                format!("{what} for only {:.1} s (a halt is shown by {} s)", length as f64 / 1000.0, HALT_MIN_MS / 1000),
                seq,
            ));
        }
    }
    if !details.is_empty() {
        return Outcome::new(check, Verdict::Pass, details.join("; "), evidence);
    }
    if let Some((detail, seq)) = short {
        return Outcome::new(check, Verdict::Inconclusive, detail, vec![seq]);
    }
    Outcome::new(check, Verdict::NotApplicable, "no pod of the set was unready while its spec asked for a change", vec![])
}

fn deadlock(target: &str, m: u32, since: u64, until: u64, set: &Tracker) -> String {
    let above = set
        .pods
        .range(m..)
        .find(|(_, p)| p.running_not_ready())
        .map_or_else(String::new, |(_, p)| format!(" while {} was not Ready", p.name));
    format!(
        "{target}-{m} was not recreated for {} s{above}, with every pod below it Ready: a deadlock",
        until.saturating_sub(since) / 1000
    )
}

/// For `parallel-burst`: a creation or deletion that a Parallel set's spec asked for and its
/// controller left undone for [`BURST_STALL_MS`] or more while a pod of the set was unready —
/// the controller waited for readiness, which Parallel never does. Its words and evidence.
pub(super) fn parallel_stall(window: &Window<'_>) -> Option<(String, Vec<usize>)> {
    let target = window.target;
    let before = window.view_before();
    let mut set = Tracker::of(&before, target);
    let stalled = |set: &Tracker| -> Option<String> {
        let (_, lowest) = set.lowest_unready()?;
        let replicas = set.kept.as_ref().map(|k| k.end - k.start)?;
        if let Some(m) = set.first_missing() {
            return Some(format!("{target}-{m} was not created (spec: {replicas} replicas) while {} was not Ready", lowest.name));
        }
        let (highest, _) = set.condemned();
        highest
            .map(|(_, p)| format!("{} was not removed (spec: {replicas} replicas) while {} was not Ready", p.name, lowest.name))
    };
    let mut current: Option<(u64, String, usize)> = None;
    for entry in window.entries() {
        if !Tracker::concerns(entry, target) {
            continue;
        }
        if let Some((since, what, seq)) = &current
            && entry.at_ms.saturating_sub(*since) >= BURST_STALL_MS
        {
            return Some((format!("{what}, for {} s", entry.at_ms.saturating_sub(*since) / 1000), vec![*seq, entry.seq]));
        }
        set.apply(&entry.event, target, entry.at_ms);
        // A creation or deletion ends a stall: the controller acted.
        let acted = matches!(&entry.event, Event::Pod { change: Change::Added | Change::Deleted, .. })
            || matches!(&entry.event, Event::Pod { pod, .. } if pod.terminating);
        match stalled(&set) {
            Some(what) if current.is_none() || acted => current = Some((entry.at_ms, what, entry.seq)),
            Some(_) => {}
            None => current = None,
        }
    }
    let end = window.end_ms();
    current
        .filter(|(since, _, _)| end.saturating_sub(*since) >= BURST_STALL_MS)
        .map(|(since, what, seq)| (format!("{what}, for {} s", end.saturating_sub(since) / 1000), vec![seq]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixture::History;

    fn judge(h: &History) -> Outcome {
        halt_on_unhealthy(&h.step_window(0))
    }

    /// `n` Ready pods, then `unready` pods unready for 10 s, then step 0 sets the replicas.
    fn held(n: u32, unready: &[&str], replicas: u32) -> History {
        let mut h = History::new().set(n, "OrderedReady");
        h.bring_up(n);
        for pod in unready {
            h.unready(pod);
        }
        h.advance(10_000);
        h.step(0);
        h.update_set(|s| s.replicas = replicas);
        h
    }

    #[test]
    fn a_scale_up_held_while_a_pod_is_unready_passes_after_ten_seconds() {
        let mut h = held(3, &["web-0"], 5);
        h.advance(12_000);
        h.ready("web-0");
        h.create("web-3");
        h.ready("web-3");
        h.create("web-4");
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("scale-up to 5") && out.detail.contains("12 s"), "{}", out.detail);

        let mut short = held(3, &["web-0"], 5);
        short.advance(3_000);
        short.ready("web-0");
        assert_eq!(judge(&short).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_creation_past_an_unready_pod_fails_unless_it_may_have_raced() {
        let mut h = held(3, &["web-0"], 5);
        h.advance(1_000);
        h.create("web-3");
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-3 was created") && out.detail.contains("web-0"), "{}", out.detail);

        // web-0 became unready a moment before: the controller may not have seen it yet.
        let mut race = History::new().set(3, "OrderedReady");
        race.bring_up(3);
        race.step(0);
        race.update_set(|s| s.replicas = 5);
        race.unready("web-0");
        race.advance(1_000);
        race.create("web-3");
        assert_eq!(judge(&race).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_scale_down_halts_while_a_kept_pod_is_unready() {
        let mut h = held(5, &["web-0"], 1);
        h.advance(12_000);
        h.step(1);
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("scale-down to 1"), "{}", out.detail);

        let mut bad = held(5, &["web-0"], 1);
        bad.advance(1_000);
        bad.terminate("web-4");
        let out = judge(&bad);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-4 began terminating") && out.detail.contains("keeps"), "{}", out.detail);
    }

    #[test]
    fn the_first_unhealthy_pod_may_go_first_but_no_unready_pod_above_it() {
        // web-4 alone unready: it is the first unhealthy pod, and goes first.
        let mut top = held(5, &["web-4"], 3);
        top.advance(1_000);
        top.terminate("web-4");
        top.gone("web-4");
        top.terminate("web-3");
        let out = judge(&top);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("web-4 was not Ready and the lowest unhealthy pod"), "{}", out.detail);

        // web-2 and web-3 unready: the healthy web-4 goes, then the controller must wait, for
        // web-3 is not Ready and web-2 is the first unhealthy pod.
        let mut h = held(5, &["web-2", "web-3"], 1);
        h.advance(1_000);
        h.terminate("web-4");
        h.gone("web-4");
        h.advance(12_000);
        h.step(1);
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        h.terminate("web-3");
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-3 began terminating") && out.detail.contains("web-2"), "{}", out.detail);
    }

    #[test]
    fn a_deleted_pod_below_an_unready_one_is_recreated() {
        let mut h = held(2, &["web-1"], 2);
        h.terminate("web-0");
        h.gone("web-0");
        h.advance(2_000);
        h.create("web-0");
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("web-0 was recreated") && out.detail.contains("no deadlock"), "{}", out.detail);

        let mut stuck = held(2, &["web-1"], 2);
        stuck.terminate("web-0");
        stuck.gone("web-0");
        stuck.advance(31_000);
        let mut refused = stuck.timeline.clone();
        stuck.step(1);
        let out = judge(&stuck);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("deadlock"), "{}", out.detail);

        // The API refused the creation (a quota): no deadlock to blame on the controller.
        refused.push(
            stuck.now,
            Event::KubeEvent(Box::new(crate::timeline::KubeEventObs {
                kind: "Warning".into(),
                reason: "FailedCreate".into(),
                object: "StatefulSet/web".into(),
                message: "create Pod web-0 in StatefulSet web failed error: pods \"web-0\" is forbidden: exceeded quota".into(),
            })),
        );
        refused.push(stuck.now, Event::Step { index: 1, action: "next".into() });
        let start = refused.step_range(0).expect("step 0").start;
        let out = halt_on_unhealthy(&crate::checks::fixture::window_of(&refused, start..refused.len(), "web"));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
        assert!(out.detail.contains("exceeded quota"), "{}", out.detail);
    }

    #[test]
    fn parallel_sets_and_healthy_ones_are_not_judged() {
        let mut p = History::new().set(1, "Parallel");
        p.bring_up(1);
        p.step(0);
        assert_eq!(judge(&p).verdict, Verdict::NotApplicable);
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| s.replicas = 1);
        h.terminate("web-2");
        assert_eq!(judge(&h).verdict, Verdict::NotApplicable);
    }
}
