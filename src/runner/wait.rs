//! What a step waits for: whether an `until` condition holds in the observed state, and what
//! it still waits for (the progress line, and the message of a step that timed out).

use std::collections::{BTreeMap, BTreeSet};

use crate::{scenario::Until, timeline::View};

/// Whether an `until` condition holds in `view`.
#[must_use]
pub fn holds(until: &Until, view: &View) -> bool {
    if let Some(name) = &until.daemonset {
        return daemon_set_rolled_out(name, view);
    }
    if let Some(name) = &until.cronjob {
        return view.cron_runs.get(name).map_or(0, BTreeSet::len) >= until.jobs.unwrap_or(1) as usize;
    }
    if let Some(name) = &until.job {
        let finished =
            view.pods.values().filter(|p| p.owned_by("Job", name)).all(|p| p.phase == "Succeeded" || p.phase == "Failed");
        let ended = |j: &crate::timeline::JobObs| if until.failed == Some(true) { j.failed_condition } else { j.complete };
        return view.jobs.get(name).is_some_and(ended) && finished;
    }
    let pods: Vec<&crate::timeline::PodObs> = match (&until.statefulset, &until.deployment) {
        (Some(set), _) => view.set_pods(set).into_values().collect(),
        (None, Some(d)) => {
            let prefix = format!("{d}-");
            view.pods
                .values()
                .map(|p| &**p)
                .filter(|p| p.name.starts_with(&prefix) && p.spec.owner.as_deref().is_some_and(|o| o.starts_with("ReplicaSet/")))
                .collect()
        }
        (None, None) => {
            return until.pod.as_ref().is_some_and(|name| view.pods.get(name.as_str()).is_some_and(|p| p.running_and_ready()));
        }
    };
    let live = pods.iter().filter(|p| !p.terminating).count() as u32;
    let total = pods.len() as u32;
    if let Some(n) = until.ready
        && !(total == n && pods.iter().all(|p| p.running_and_ready()))
    {
        return false;
    }
    if let Some(n) = until.pods
        && !(total == n && live == n)
    {
        return false;
    }
    if let Some(n) = until.unready
        && pods.iter().filter(|p| p.running_not_ready()).count() as u32 != n
    {
        return false;
    }
    if let Some(true) = until.rolled_out {
        let Some(set) = until.statefulset.as_ref().and_then(|s| view.sets.get(s)) else { return false };
        // Until the controller has seen the latest spec, its status names an older revision.
        if !set.status_current() {
            return false;
        }
        let Some(rev) = &set.update_revision else { return false };
        let by_ordinal = view.set_pods(&set.name);
        let done = crate::timeline::first_ordinal_not(&by_ordinal, set.partition_ordinal()..set.ordinals().end, |p| {
            p.revision() == Some(rev.as_str()) && p.running_and_ready()
        })
        .is_none();
        if !done || total != set.replicas {
            return false;
        }
    }
    if let Some(true) = until.claimed {
        let Some(set) = until.statefulset.as_ref().and_then(|s| view.sets.get(s)) else { return false };
        if unclaimed(set, view).is_some() {
            return false;
        }
    }
    if let Some(n) = until.pending_claims {
        let Some(set) = until.statefulset.as_ref().and_then(|s| view.sets.get(s)) else { return false };
        let prefixes: Vec<String> = set.claim_templates.iter().map(|t| format!("{t}-{}-", set.name)).collect();
        let pending = view
            .claims
            .values()
            .filter(|c| c.phase == "Pending" && prefixes.iter().any(|p| c.name.starts_with(p.as_str())))
            .count();
        if pending as u32 != n {
            return false;
        }
    }
    true
}

/// A pod named for `set` that its controller still owes an adoption (an orphan that matches
/// the selector) or a release (controlled by the set, not matching).
fn unclaimed<'v>(set: &crate::timeline::SetObs, view: &'v View) -> Option<&'v crate::timeline::PodObs> {
    let mine = format!("StatefulSet/{}", set.name);
    view.pods.values().map(|p| &**p).filter(|p| !p.terminating && p.ordinal_in(&set.name).is_some()).find(|p| {
        let owner = p.spec.owner.as_deref();
        match set.selects(p) {
            Some(true) => owner.is_none(),
            Some(false) => owner == Some(mine.as_str()),
            None => false,
        }
    })
}

/// A DaemonSet's status covers its latest spec with every pod updated and available, and the
/// pods observed agree: as many as it wants, none terminating, all Running and Ready.
fn daemon_set_rolled_out(name: &str, view: &View) -> bool {
    let Some(set) = view.daemon_sets.get(name) else { return false };
    let pods: Vec<&crate::timeline::PodObs> = daemon_pods(name, view).collect();
    set.rolled_out() && pods.len() == set.desired as usize && pods.iter().all(|p| p.running_and_ready())
}

fn daemon_pods<'v>(name: &'v str, view: &'v View) -> impl Iterator<Item = &'v crate::timeline::PodObs> {
    view.pods.values().map(|p| &**p).filter(move |p| p.owned_by("DaemonSet", name))
}

/// What a step waits for, in a few words: `web: 2/3 Ready, waiting for web-2 Ready`.
#[must_use]
pub fn waiting_status(until: &Until, view: &View) -> String {
    let Some(set) = &until.statefulset else { return describe_wait(until, view) };
    let pods = view.set_pods(set);
    let spec = view.sets.get(set);
    let state = |name: &str| match view.pods.get(name) {
        None => "to be created".to_owned(),
        Some(p) if p.terminating => "to terminate".to_owned(),
        Some(p) => match &p.waiting {
            Some(reason) => format!("Ready ({reason})"),
            None if p.phase != "Running" => format!("Ready ({})", p.phase),
            None => "Ready".to_owned(),
        },
    };
    if let Some(n) = until.ready {
        let ready = pods.values().filter(|p| p.running_and_ready()).count();
        let start = spec.map_or(0, |s| s.start_ordinal);
        let next = crate::timeline::first_ordinal_not(&pods, start..start.saturating_add(n), |p| p.running_and_ready())
            .map(|k| format!("{set}-{k}"));
        return match next {
            Some(name) => format!("{set}: {ready}/{n} Ready, waiting for {name} {}", state(&name)),
            None => format!("{set}: {ready}/{n} Ready, waiting for the rest to go"),
        };
    }
    if let Some(n) = until.pods {
        let extra = pods.iter().rev().find(|(k, _)| **k >= n).map(|(_, p)| p.name.clone());
        return match extra {
            Some(name) => format!("{set}: {} pods, waiting for {name} to go", pods.len()),
            None => format!("{set}: {} pods, waiting for {n}", pods.len()),
        };
    }
    if let Some(n) = until.unready {
        let unready: Vec<&str> = pods.values().filter(|p| p.running_not_ready()).map(|p| &*p.name).collect();
        return format!("{set}: {} Running and not Ready ({}), waiting for {n}", unready.len(), unready.join(", "));
    }
    if until.claimed == Some(true)
        && let Some(pod) = spec.and_then(|s| unclaimed(s, view))
    {
        let owed = if pod.spec.owner.is_none() { "adopted" } else { "released" };
        return format!("{set}: waiting for {} to be {owed}", pod.name);
    }
    if until.rolled_out == Some(true) && spec.is_some_and(|s| !s.status_current()) {
        return format!("{set}: waiting for the controller to observe the new spec");
    }
    if until.rolled_out == Some(true)
        && let Some(rev) = spec.and_then(|s| s.update_revision.as_deref())
    {
        let updated = pods.values().filter(|p| p.revision() == Some(rev)).count();
        let next = pods.iter().rev().find(|(_, p)| p.revision() != Some(rev) || !p.running_and_ready());
        return match next {
            Some((_, p)) => format!("{set}: {updated}/{} updated, waiting for {} to be updated and Ready", pods.len(), p.name),
            None => format!("{set}: {updated}/{} updated", pods.len()),
        };
    }
    describe_wait(until, view)
}

pub(super) fn describe_wait(until: &Until, view: &View) -> String {
    if let Some(name) = &until.cronjob {
        let made = view.cron_runs.get(name).map_or(0, BTreeSet::len);
        let running = view.jobs.values().filter(|j| j.cron_job.as_deref() == Some(name) && !j.finished()).count();
        return format!("{name}: {made}/{} Jobs created, {running} running", until.jobs.unwrap_or(1));
    }
    let (kind, name) = match (&until.statefulset, &until.deployment, &until.daemonset) {
        (Some(s), _, _) => ("statefulset", s.as_str()),
        (None, Some(d), _) => ("deployment", d.as_str()),
        (None, None, Some(d)) => ("daemonset", d.as_str()),
        _ => match &until.job {
            Some(j) => ("job", j.as_str()),
            None => ("?", "?"),
        },
    };
    let pods: BTreeMap<&str, String> = view
        .pods
        .values()
        .filter(|p| match kind {
            "statefulset" => p.belongs_to(name),
            "daemonset" => p.owned_by("DaemonSet", name),
            "job" => p.owned_by("Job", name),
            _ => p.name.starts_with(&format!("{name}-")),
        })
        .map(|p| {
            let state = if p.terminating {
                "Terminating".to_owned()
            } else if p.running_and_ready() {
                "Ready".to_owned()
            } else if let Some(waiting) = &p.waiting {
                waiting.to_string()
            } else if p.phase == "Pending" && p.node.is_none() {
                // No node assigned: the scheduler has not placed it (or is not running).
                "Pending, not scheduled".to_owned()
            } else {
                format!("{} not Ready", p.phase)
            };
            (p.name.as_ref(), state)
        })
        .collect();
    let state: Vec<String> = pods.iter().map(|(n, s)| format!("{n} {s}")).collect();
    let want = serde_json::to_string(until).unwrap_or_default();
    if let Some(set) = view.daemon_sets.get(name).filter(|_| kind == "daemonset") {
        let status = format!(
            "desired {}, scheduled {}, updated {}, available {}, observed generation {:?} of {:?}",
            set.desired, set.scheduled, set.updated, set.available, set.observed_generation, set.generation
        );
        let now = if state.is_empty() { "no pods".to_owned() } else { state.join(", ") };
        return format!("{kind} {name} {want} (status: {status}; now: {now})");
    }
    format!("{kind} {name} {want} (now: {})", if state.is_empty() { "no pods".to_owned() } else { state.join(", ") })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{Change, Event, PodObs};

    fn pod(name: &str, phase: &str, ready: bool, waiting: Option<&str>) -> Event {
        Event::Pod {
            change: Change::Added,
            pod: Arc::new(PodObs {
                name: name.into(),
                uid: name.into(),
                phase: crate::timeline::pod_phase(phase),
                ready,
                waiting: waiting.map(Into::into),
                ..PodObs::default()
            }),
        }
    }

    #[test]
    fn waiting_status_names_the_pod_awaited() {
        let mut view = View::default();
        view.apply(&pod("web-0", "Running", true, None));
        view.apply(&pod("web-1", "Running", true, None));
        view.apply(&pod("web-2", "Pending", false, Some("ContainerCreating")));
        let until = Until { statefulset: Some("web".into()), ready: Some(3), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 2/3 Ready, waiting for web-2 Ready (ContainerCreating)");
        let until = Until { statefulset: Some("web".into()), ready: Some(4), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 2/4 Ready, waiting for web-2 Ready (ContainerCreating)");
        let until = Until { statefulset: Some("web".into()), pods: Some(1), ..Until::default() };
        assert_eq!(waiting_status(&until, &view), "web: 3 pods, waiting for web-2 to go");
    }
}

#[cfg(test)]
mod rollout_tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{Change, Event, PodObs, REVISION_LABEL, SetObs};

    fn view_with(set: SetObs, pods: &[(&str, &str)]) -> View {
        let mut view = View::default();
        view.apply(&Event::StatefulSet { change: Change::Added, set: Box::new(set) });
        for (name, rev) in pods {
            let pod = PodObs {
                name: (*name).into(),
                uid: (*name).into(),
                spec: std::sync::Arc::new(crate::timeline::PodSpecObs {
                    owner: Some("StatefulSet/mysql".into()),
                    labels: [(REVISION_LABEL.to_owned(), (*rev).to_owned())].into(),
                    ..Default::default()
                }),
                phase: "Running".into(),
                ready: true,
                ..PodObs::default()
            };
            view.apply(&Event::Pod { change: Change::Added, pod: Arc::new(pod) });
        }
        view
    }

    #[test]
    fn rolled_out_waits_until_the_controller_has_observed_the_new_spec() {
        // As seen on kube-controller-manager v1.34.4 right after a template patch: the spec is
        // at generation 3, the status still at 2 and naming the old revision, which every pod has.
        let set = SetObs {
            name: "mysql".into(),
            replicas: 3,
            partition: 2,
            generation: Some(3),
            observed_generation: Some(2),
            update_revision: Some("old".into()),
            ..SetObs::default()
        };
        let pods = [("mysql-0", "old"), ("mysql-1", "old"), ("mysql-2", "old")];
        let until = Until { statefulset: Some("mysql".into()), rolled_out: Some(true), ..Until::default() };
        let view = view_with(set.clone(), &pods);
        assert!(!holds(&until, &view), "an unobserved spec is not rolled out");
        assert!(waiting_status(&until, &view).contains("observe the new spec"));
        let observed = SetObs { observed_generation: Some(3), update_revision: Some("new".into()), ..set };
        assert!(!holds(&until, &view_with(observed.clone(), &pods)), "mysql-2 is not on the new revision yet");
        let done = [("mysql-0", "old"), ("mysql-1", "old"), ("mysql-2", "new")];
        assert!(holds(&until, &view_with(observed, &done)), "the canary is done");
    }

    #[test]
    fn claimed_waits_for_an_orphan_to_be_adopted_and_a_mismatched_pod_released() {
        let set = SetObs {
            name: "mysql".into(),
            replicas: 1,
            selector: Some([("app".to_owned(), "mysql".to_owned())].into()),
            ..SetObs::default()
        };
        let until = Until { statefulset: Some("mysql".into()), claimed: Some(true), ..Until::default() };
        let with = |owner: Option<&str>, app: Option<&str>| {
            let mut view = view_with(set.clone(), &[("mysql-0", "r")]);
            let mut pod = (*view.pods["mysql-0"]).clone();
            let spec = Arc::make_mut(&mut pod.spec);
            spec.owner = owner.map(str::to_owned);
            if let Some(app) = app {
                spec.labels.insert("app".into(), app.into());
            }
            view.apply(&Event::Pod { change: Change::Modified, pod: Arc::new(pod) });
            view
        };
        assert!(holds(&until, &with(Some("StatefulSet/mysql"), Some("mysql"))));
        let orphan = with(None, Some("mysql"));
        assert!(!holds(&until, &orphan));
        assert!(waiting_status(&until, &orphan).contains("mysql-0 to be adopted"), "{}", waiting_status(&until, &orphan));
        let kept = with(Some("StatefulSet/mysql"), None);
        assert!(!holds(&until, &kept));
        assert!(waiting_status(&until, &kept).contains("mysql-0 to be released"));
        assert!(holds(&until, &with(None, None)), "released");
        assert!(holds(&until, &with(Some("ReplicaSet/other"), Some("mysql"))), "another controller's pod is not owed");
    }
}
