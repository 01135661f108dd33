//! A DaemonSet's placement: one pod on every node its template admits, none elsewhere.
//!
//! Which nodes a DaemonSet's pods belong on is the controller's own rule
//! ([`Placement::on`](crate::timeline::Placement::on)), judged against the nodes recorded in
//! the history, whatever nodes the cluster has. The harness never changes a node: where the
//! cluster's nodes cannot show what a template's tolerations or node selector decide (no
//! tainted node, every node labelled alike), the verdict is `skipped`, saying so.

use std::collections::BTreeMap;

use super::findings::Findings;
use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Change, Event, NodeObs, Placement, PodObs};

/// The DaemonSet a pod belongs to, from its controlling owner.
fn daemon_set_of(pod: &PodObs) -> Option<&str> {
    pod.owner_of_kind("DaemonSet")
}

/// The node a daemon pod is bound to, or made for.
fn node_of(pod: &PodObs) -> Option<&str> {
    pod.node.as_deref().or(pod.spec.target_node.as_deref())
}

/// **daemonset-coverage** — every pod the DaemonSet creates in the window is made for a node
/// its template admits — the template known then, or a later one of the window, since pods and
/// DaemonSets are recorded by separate watches — (node name, nodeSelector, required node affinity, every
/// `NoSchedule`/`NoExecute` taint tolerated — with the tolerations the controller adds to every
/// daemon pod); and at the window's end each node it admits runs exactly one of its pods, and no
/// pod runs on a node it may not stay on (an untolerated `NoExecute` taint, a node that no
/// longer matches). Creating a pod for the wrong node is wrong whenever it is seen, and so is
/// a rolling update (maxSurge 0) that begins deleting an available pod while `maxUnavailable`
/// other nodes already lack one; a node still without its pod, or with two, is a shortfall
/// (`inconclusive` after a step that ended early).
pub(super) fn daemonset_coverage(window: &Window<'_>) -> Outcome {
    let check = CheckName::DaemonsetCoverage;
    let name = window.target;
    let mut found = Findings::default();
    let mut evidence = Vec::new();
    // The DaemonSet's templates the window shows, by entry: the watch of pods and the watch of
    // DaemonSets are separate streams, so a pod made from a new template may be recorded just
    // before the template itself. A creation is judged against the template known then and
    // every later one of the window.
    let templates: Vec<(usize, &crate::timeline::Placement)> = window
        .entries()
        .iter()
        .filter_map(|e| match &e.event {
            Event::DaemonSet { change, set } if set.name == name && *change != Change::Deleted => Some((e.seq, &set.placement)),
            _ => None,
        })
        .collect();
    let after = window.replay(|view, entry| {
        let Event::Pod { change, pod } = &entry.event else { return };
        if daemon_set_of(pod) != Some(name) {
            return;
        }
        if *change != Change::Added {
            if let Some(deletion) = over_budget(view, entry.seq, pod, *change, &templates) {
                found.violation(deletion, vec![entry.seq]);
            }
            return;
        }
        if view.pods.get(&pod.name).is_some_and(|p| p.uid == pod.uid) {
            return;
        }
        evidence.push(entry.seq);
        let (Some(set), Some(node)) = (view.daemon_sets.get(name), node_of(pod)) else { return };
        let Some(node) = view.nodes.get(node) else {
            found.violation(
                format!("{} was made for {node}, which is not a node of the cluster (#{})", pod.name, entry.seq),
                vec![entry.seq],
            );
            return;
        };
        let decision = set.placement.on(node);
        let admitted_later = templates.iter().any(|(seq, later)| *seq > entry.seq && later.on(node).should_run);
        if !decision.should_run && !admitted_later {
            let why = decision.reason.unwrap_or_default();
            found.violation(format!("{} was created for {}, but {why} (#{})", pod.name, node.name, entry.seq), vec![entry.seq]);
        }
    });
    let Some(set) = after.daemon_sets.get(name) else {
        return Outcome::new(check, Verdict::NotApplicable, format!("no DaemonSet {name} at the end of the window"), vec![]);
    };
    if after.nodes.is_empty() {
        return Outcome::new(check, Verdict::Inconclusive, "no node was recorded, so placement cannot be judged", evidence);
    }
    let mut on_node: BTreeMap<&str, Vec<&PodObs>> = BTreeMap::new();
    for pod in after.pods.values().filter(|p| daemon_set_of(p) == Some(name) && !p.terminating) {
        match node_of(pod) {
            Some(node) => on_node.entry(node).or_default().push(pod),
            None => found.shortfall(format!("{} names no node", pod.name), vec![]),
        }
    }
    let mut admitted = Vec::new();
    let mut excluded = Vec::new();
    for node in after.nodes.values() {
        let decision = set.placement.on(node);
        let pods = on_node.remove(node.name.as_str()).unwrap_or_default();
        let names: Vec<&str> = pods.iter().map(|p| &*p.name).collect();
        if decision.should_run {
            admitted.push(node.name.as_str());
        } else {
            excluded.push(decision.reason.clone().unwrap_or_default());
        }
        match pods.len() {
            0 if decision.should_run => found.shortfall(format!("{} runs no pod of {name}", node.name), vec![]),
            n if n > 1 => found.shortfall(format!("{} runs {n} pods of {name}: {}", node.name, names.join(", ")), vec![]),
            _ => {}
        }
        if !pods.is_empty() && !decision.should_continue {
            let why = decision.reason.unwrap_or_default();
            found.shortfall(format!("{} still runs on {why}", names.join(", ")), vec![]);
        }
    }
    for (node, pods) in on_node {
        let names: Vec<&str> = pods.iter().map(|p| &*p.name).collect();
        found.shortfall(format!("{} runs on {node}, which is no longer a node of the cluster", names.join(", ")), vec![]);
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let others = if excluded.is_empty() { String::new() } else { format!("; none elsewhere ({})", excluded.join("; ")) };
    let held = format!("{name} runs one pod on each of the {} nodes it admits ({}){others}", admitted.len(), admitted.join(", "));
    // What the template's own rules would decide, this cluster's nodes may not show: then the
    // step proves the coverage, not the rule it was written for.
    let unshown = unshown(&set.placement, &after.nodes);
    if !unshown.is_empty() {
        return Outcome::new(
            check,
            Verdict::Skipped,
            format!("the cluster's nodes cannot show what {name}'s template decides: {}; {held}", unshown.join("; ")),
            evidence,
        );
    }
    Outcome::new(check, Verdict::Pass, held, evidence)
}

/// The template's own placement rules that decide nothing on `nodes`: its tolerations when no
/// node's taint is decided by them (the cluster has no tainted node they tolerate), its node
/// name, selector or affinity when every node passes them. A template without such rules
/// shows its coverage on any nodes.
fn unshown(placement: &Placement, nodes: &BTreeMap<String, NodeObs>) -> Vec<String> {
    let decision = |p: &Placement, n: &NodeObs| {
        let d = p.on(n);
        (d.should_run, d.should_continue)
    };
    let decides = |without: &Placement| nodes.values().any(|n| decision(placement, n) != decision(without, n));
    let mut out = Vec::new();
    if !placement.tolerations.is_empty() && !decides(&Placement { tolerations: Vec::new(), ..placement.clone() }) {
        out.push(format!("no node of the {} has a taint its tolerations decide", nodes.len()));
    }
    let selecting = placement.node_name.is_some() || !placement.node_selector.is_empty() || placement.required_terms.is_some();
    let unselective = Placement { node_name: None, node_selector: BTreeMap::new(), required_terms: None, ..placement.clone() };
    if selecting && !decides(&unselective) {
        out.push(format!("each of the {} nodes passes its node selector or affinity", nodes.len()));
    }
    out
}

/// Whether `pod`'s change at `seq` begins the deletion of an available pod that a rolling
/// update may only make within `maxUnavailable`, while too many other nodes already lack an
/// available pod: what the controller's `rollingUpdate` (maxSurge 0) never does. A node counts
/// as lacking one as the controller counts it: it has pods of the DaemonSet, but only
/// terminating ones, or one that is not available. A deletion because the node no longer
/// admits the pod (under the template known then or any later one of the window) is exempt.
fn over_budget(
    view: &crate::timeline::View,
    seq: usize,
    pod: &PodObs,
    change: Change,
    templates: &[(usize, &crate::timeline::Placement)],
) -> Option<String> {
    let before = view.pods.get(&pod.name).filter(|p| p.uid == pod.uid)?;
    let begins = !before.terminating && (pod.terminating || change == Change::Deleted);
    if !begins || !before.running_and_ready() {
        return None;
    }
    let name = daemon_set_of(pod)?;
    let set = view.daemon_sets.get(name)?;
    let node_name = node_of(before)?;
    let node = view.nodes.get(node_name)?;
    let placements = std::iter::once(&set.placement).chain(templates.iter().filter(|(s, _)| *s > seq).map(|(_, p)| *p));
    if placements.clone().any(|p| !p.on(node).should_continue) {
        return None;
    }
    // The budget scales with the nodes the template admits: the largest of the templates
    // that may apply (a percentage of a template recorded late must not fail the step).
    let budget = placements
        .map(|p| u32::try_from(view.nodes.values().filter(|n| p.on(n).should_run).count()).unwrap_or(u32::MAX))
        .filter_map(|admitted| set.unavailable_budget(admitted))
        .max()?;
    let mut by_node: BTreeMap<&str, Vec<&PodObs>> = BTreeMap::new();
    for p in view.pods.values().filter(|p| daemon_set_of(p) == Some(name) && p.phase != "Succeeded" && p.phase != "Failed") {
        if let Some(n) = node_of(p).filter(|n| *n != node_name) {
            by_node.entry(n).or_default().push(p);
        }
    }
    let lacking: Vec<&str> = by_node
        .iter()
        .filter(|(_, pods)| {
            let live: Vec<&&PodObs> = pods.iter().filter(|p| !p.terminating).collect();
            live.is_empty() || live.iter().any(|p| !p.running_and_ready())
        })
        .map(|(n, _)| *n)
        .collect();
    (lacking.len() as u64 >= u64::from(budget)).then(|| {
        format!(
            "{} began terminating (#{seq}) while {} other node(s) had no available pod ({}): more than maxUnavailable {budget} at once",
            pod.name,
            lacking.len(),
            lacking.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::evaluate;
    use super::*;
    use crate::timeline::{DaemonSetObs, NodeObs, PodSpecObs, TaintObs, Timeline, TolerationObs};

    /// Three nodes (the first tainted like a control plane), the DaemonSet, step 0.
    struct Cluster {
        timeline: Timeline,
        n: u32,
    }

    impl Cluster {
        fn new(tolerant: bool) -> Self {
            let mut timeline = Timeline::new();
            for (name, taint) in [("cp", true), ("w1", false), ("w2", false)] {
                let taints = if taint {
                    vec![TaintObs {
                        key: "node-role.kubernetes.io/control-plane".into(),
                        value: String::new(),
                        effect: "NoSchedule".into(),
                    }]
                } else {
                    vec![]
                };
                let node = NodeObs { name: name.into(), taints, ..NodeObs::default() };
                timeline.push(0, Event::Node { change: Change::Added, node: Box::new(node) });
            }
            let mut set = DaemonSetObs { name: "fluentd".into(), uid: "ds".into(), ..DaemonSetObs::default() };
            if tolerant {
                set.placement.tolerations.push(TolerationObs {
                    key: "node-role.kubernetes.io/control-plane".into(),
                    operator: "Exists".into(),
                    value: String::new(),
                    effect: "NoSchedule".into(),
                });
            }
            timeline.push(0, Event::DaemonSet { change: Change::Added, set: Box::new(set) });
            timeline.push(0, Event::Step { index: 0, action: "apply".into() });
            Self { timeline, n: 0 }
        }

        fn pod(&mut self, node: &str) -> usize {
            self.n += 1;
            let pod = PodObs {
                name: format!("fluentd-{}", self.n).into(),
                uid: format!("u{}", self.n).into(),
                phase: "Running".into(),
                ready: true,
                node: Some(node.into()),
                spec: Arc::new(PodSpecObs { owner: Some("DaemonSet/fluentd".into()), ..PodSpecObs::default() }),
                ..PodObs::default()
            };
            self.timeline.push(0, Event::Pod { change: Change::Added, pod: pod.into() })
        }

        fn judge(&self, ended_early: bool) -> Outcome {
            judge(&self.timeline, 4..self.timeline.len(), ended_early)
        }

        /// Pod `n` (from 1) begins terminating, or is gone.
        fn end(&mut self, n: u32, node: &str, gone: bool) -> usize {
            let pod = PodObs {
                name: format!("fluentd-{n}").into(),
                uid: format!("u{n}").into(),
                phase: "Running".into(),
                terminating: true,
                node: Some(node.into()),
                spec: Arc::new(PodSpecObs { owner: Some("DaemonSet/fluentd".into()), ..PodSpecObs::default() }),
                ..PodObs::default()
            };
            let change = if gone { Change::Deleted } else { Change::Modified };
            self.timeline.push(0, Event::Pod { change, pod: pod.into() })
        }
    }

    #[test]
    fn a_rolling_update_deletes_within_max_unavailable() {
        // Conformant: w1's pod is replaced and available again before w2's goes.
        let mut c = Cluster::new(false);
        c.pod("w1");
        c.pod("w2");
        c.end(1, "w1", false);
        c.end(1, "w1", true);
        c.pod("w1");
        c.end(2, "w2", false);
        c.end(2, "w2", true);
        c.pod("w2");
        assert_eq!(c.judge(false).verdict, Verdict::Pass, "{:?}", c.judge(false));
        // Both at once: the second begins while w1 has only a terminating pod.
        let mut c = Cluster::new(false);
        c.pod("w1");
        c.pod("w2");
        c.end(1, "w1", false);
        let second = c.end(2, "w2", false);
        let out = c.judge(true);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("fluentd-2 began terminating") && out.detail.contains("maxUnavailable 1"), "{}", out.detail);
        assert!(out.evidence.contains(&second));
    }

    /// `daemonset-coverage` of fluentd over `range`.
    fn judge(timeline: &Timeline, range: std::ops::Range<usize>, ended_early: bool) -> Outcome {
        let window = Window {
            timeline,
            range,
            target: "fluentd",
            namespace: "ns",
            cluster_domain: "cluster.local",
            expect_body: None,
            default_policy: super::super::Policy::Ordered,
            ended_early,
            ended_at_ms: None,
        };
        evaluate(CheckName::DaemonsetCoverage, &window)
    }

    #[test]
    fn one_pod_per_admitted_node_passes_and_names_the_node_left_out() {
        let mut c = Cluster::new(false);
        c.pod("w1");
        c.pod("w2");
        let out = c.judge(false);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("each of the 2 nodes it admits (w1, w2)"), "{}", out.detail);
        assert!(out.detail.contains("cp has the taint node-role.kubernetes.io/control-plane:NoSchedule"), "{}", out.detail);
        let mut tolerant = Cluster::new(true);
        for node in ["cp", "w1", "w2"] {
            tolerant.pod(node);
        }
        assert_eq!(tolerant.judge(false).verdict, Verdict::Pass);
    }

    #[test]
    fn a_pod_made_for_a_node_the_template_does_not_admit_fails_at_any_time() {
        let mut c = Cluster::new(false);
        c.pod("w1");
        c.pod("w2");
        let bad = c.pod("cp");
        for early in [false, true] {
            let out = c.judge(early);
            assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
            assert!(out.detail.contains("fluentd-3 was created for cp, but cp has the taint"), "{}", out.detail);
            assert_eq!(out.evidence, vec![bad]);
        }
    }

    #[test]
    fn a_pod_recorded_just_before_the_template_that_admits_its_node_is_no_violation() {
        let mut c = Cluster::new(false);
        c.pod("w1");
        c.pod("w2");
        c.pod("cp");
        let mut tolerant = DaemonSetObs { name: "fluentd".into(), uid: "ds".into(), ..DaemonSetObs::default() };
        tolerant.placement.tolerations.push(TolerationObs {
            key: "node-role.kubernetes.io/control-plane".into(),
            operator: "Exists".into(),
            value: String::new(),
            effect: "NoSchedule".into(),
        });
        c.timeline.push(0, Event::DaemonSet { change: Change::Modified, set: Box::new(tolerant) });
        assert_eq!(c.judge(false).verdict, Verdict::Pass);
    }

    #[test]
    fn a_node_left_without_its_pod_or_given_two_fails_only_once_settled() {
        let mut missing = Cluster::new(true);
        missing.pod("w1");
        missing.pod("w2");
        let out = missing.judge(false);
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.detail, "cp runs no pod of fluentd");
        assert_eq!(missing.judge(true).verdict, Verdict::Inconclusive);
        let mut doubled = Cluster::new(false);
        doubled.pod("w1");
        doubled.pod("w1");
        doubled.pod("w2");
        let out = doubled.judge(false);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("w1 runs 2 pods of fluentd"), "{}", out.detail);
    }

    #[test]
    fn no_nodes_recorded_is_inconclusive() {
        let mut timeline = Timeline::new();
        let set = DaemonSetObs { name: "fluentd".into(), ..DaemonSetObs::default() };
        timeline.push(0, Event::DaemonSet { change: Change::Added, set: Box::new(set) });
        assert_eq!(judge(&timeline, 0..1, false).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_toleration_no_node_needs_is_skipped_saying_so() {
        let mut c = Cluster::new(true);
        // The control-plane node loses its taint before the step: nothing is left to tolerate.
        let untainted = NodeObs { name: "cp".into(), ..NodeObs::default() };
        c.timeline.entries.insert(
            3,
            crate::timeline::Entry {
                seq: 3,
                at_ms: 0,
                event: Event::Node { change: Change::Modified, node: Box::new(untainted) },
            },
        );
        for (seq, entry) in c.timeline.entries.iter_mut().enumerate() {
            entry.seq = seq;
        }
        c.pod("cp");
        c.pod("w1");
        c.pod("w2");
        let out = c.judge(false);
        assert_eq!(out.verdict, Verdict::Skipped, "{out:?}");
        assert!(out.detail.contains("no node of the 3 has a taint its tolerations decide"), "{}", out.detail);
        // With the taint in place the toleration decides the control-plane node: a pass.
        let mut c = Cluster::new(true);
        c.pod("cp");
        c.pod("w1");
        c.pod("w2");
        assert_eq!(c.judge(false).verdict, Verdict::Pass, "{:?}", c.judge(false));
    }
}
