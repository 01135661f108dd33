//! Identity checks: names, hostnames and labels a StatefulSet gives its pods, and the
//! configuration (Secrets) the pods need to start.

use std::collections::BTreeMap;

use super::findings::Findings;
use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Event, POD_INDEX_LABEL, POD_NAME_LABEL, ProbeObs};

/// **stable-identity** — every pod the set owns is named `<set>-<ordinal>`; at the end the set
/// has exactly the ordinals start..start+replicas-1 (`spec.ordinals.start`, 0 by default) (a shortfall, not judged when the step ended early);
/// each pod's `spec.hostname` is its name, its `spec.subdomain` the set's `serviceName`, and
/// its `statefulset.kubernetes.io/pod-name` label its name, and its `apps.kubernetes.io/pod-index`
/// label, where the cluster sets one (1.28 on), its ordinal; every `hostname` run inside a pod
/// in the window printed the pod's name.
pub(super) fn stable_identity(window: &Window<'_>) -> Outcome {
    let check = CheckName::StableIdentity;
    let set_name = window.target;
    let mut found = Findings::default();
    // Names of every pod the set owned during the window.
    for entry in window.entries() {
        let Event::Pod { pod, .. } = &entry.event else { continue };
        let owned = pod.spec.owner.as_deref().and_then(|o| o.strip_prefix("StatefulSet/")) == Some(set_name);
        if owned && pod.ordinal_in(set_name).is_none() {
            found.violation(
                format!("the set owns a pod named {}, not {set_name}-<ordinal> (#{})", pod.name, entry.seq),
                vec![entry.seq],
            );
        }
    }
    let after = window.view_after();
    let set = after.sets.get(set_name);
    let pods = after.set_pods(set_name);
    let live: Vec<_> = pods.iter().filter(|(_, p)| !p.terminating).collect();
    if live.is_empty() && found.is_empty() {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            format!("no pod of {set_name} existed at the end of the window"),
            vec![],
        );
    }
    if let Some(set) = set {
        let ordinals: Vec<u32> = live.iter().map(|(k, _)| **k).collect();
        // Exactly start..start + replicas (`spec.ordinals.start`), judged without building that
        // range (its size is a number in the history, not the history's size).
        let range = set.ordinals();
        let exact = ordinals.len() == set.replicas as usize && ordinals.iter().zip(range.clone()).all(|(k, i)| *k == i);
        if !exact {
            let expected = match range.end - range.start {
                0 => "none".to_owned(),
                1..=10 => format!("{:?}", range.collect::<Vec<_>>()),
                _ => format!("{} to {}", range.start, range.end - 1),
            };
            found.shortfall(format!("{set_name} had ordinals {ordinals:?} at the end, expected {expected}"), vec![]);
        }
    }
    let mut indexed = 0;
    for (_, pod) in &live {
        if pod.spec.hostname.as_deref() != Some(pod.name.as_ref()) {
            found.violation(format!("{} has hostname {:?}, not its name", pod.name, pod.spec.hostname), vec![]);
        }
        if let Some(service) = set.and_then(|s| s.service_name.as_deref())
            && pod.spec.subdomain.as_deref() != Some(service)
        {
            found
                .violation(format!("{} has subdomain {:?}, not the serviceName {service}", pod.name, pod.spec.subdomain), vec![]);
        }
        if pod.spec.labels.get(POD_NAME_LABEL).map(String::as_str) != Some(&*pod.name) {
            found.violation(format!("{} has label {POD_NAME_LABEL}={:?}", pod.name, pod.spec.labels.get(POD_NAME_LABEL)), vec![]);
        }
        if let Some(index) = pod.spec.labels.get(POD_INDEX_LABEL) {
            indexed += 1;
            if index.parse::<u32>().ok() != pod.ordinal_in(set_name) {
                found.violation(format!("{} has label {POD_INDEX_LABEL}={index:?}, not its ordinal", pod.name), vec![]);
            }
        }
    }
    let mut probed = 0;
    // Pods whose `hostname` could not run, unless another probe of theirs ran.
    let mut unrun: BTreeMap<&str, (String, usize)> = BTreeMap::new();
    for entry in window.entries() {
        let Some(ProbeObs::Hostname { pod, output, .. }) = entry.event.probe() else { continue };
        if pod.strip_prefix(set_name).and_then(|rest| rest.strip_prefix('-')).is_none() {
            continue;
        }
        match output {
            Err(error) if !error.answered() => {
                unrun.entry(pod).or_insert((format!("`hostname` could not run in {pod}: {error} (#{})", entry.seq), entry.seq));
                continue;
            }
            Ok(name) if name == pod => {}
            Ok(name) => found.violation(format!("`hostname` in {pod} printed {name:?} (#{})", entry.seq), vec![entry.seq]),
            Err(error) => found.violation(format!("`hostname` failed in {pod}: {error} (#{})", entry.seq), vec![entry.seq]),
        }
        probed += 1;
        unrun.insert(pod, (String::new(), 0));
    }
    for (detail, seq) in unrun.into_values().filter(|(detail, _)| !detail.is_empty()) {
        found.unknown(detail, vec![seq]);
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let names: Vec<&str> = live.iter().map(|(_, p)| p.name.as_ref()).collect();
    let probes = if probed > 0 { format!("; `hostname` printed the pod name in {probed} pods") } else { String::new() };
    Outcome::new(
        check,
        Verdict::Pass,
        format!(
            "{} have stable names, hostnames and pod-name{} labels{probes}",
            names.join(", "),
            if indexed == live.len() { " and pod-index" } else { "" }
        ),
        vec![],
    )
}

/// **secret-refs** — every Secret key the set's pods read exists in the namespace, and every
/// pod is Running and Ready (none stuck on missing configuration; a shortfall, not judged when
/// the step ended early).
pub(super) fn secret_refs(window: &Window<'_>) -> Outcome {
    let check = CheckName::SecretRefs;
    let after = window.view_after();
    let pods = after.set_pods(window.target);
    let refs: Vec<(&str, &String)> =
        pods.values().flat_map(|p| p.spec.secret_refs.iter().map(move |r| (p.name.as_ref(), r))).collect();
    if refs.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "the pods read no Secret", vec![]);
    }
    let mut found = Findings::default();
    for (pod, reference) in &refs {
        let (secret, key) = reference.split_once('/').unwrap_or((reference.as_str(), ""));
        match after.secrets.get(secret) {
            None => found.violation(format!("{pod} reads Secret {secret}, which does not exist"), vec![]),
            Some(keys) if !keys.iter().any(|k| k == key) => {
                found.violation(format!("{pod} reads key {key} of Secret {secret}, which has only {keys:?}"), vec![])
            }
            Some(_) => {}
        }
    }
    for pod in pods.values() {
        if !pod.running_and_ready() {
            let why = pod.waiting.as_deref().unwrap_or(&pod.phase);
            found.shortfall(format!("{} is not Running and Ready ({why})", pod.name), vec![]);
        }
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let mut secrets: Vec<&str> = refs.iter().map(|(_, r)| r.as_str()).collect();
    secrets.sort_unstable();
    secrets.dedup();
    Outcome::new(check, Verdict::Pass, format!("{} present; all {} pods started", secrets.join(", "), pods.len()), vec![])
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::History};
    use super::*;
    use crate::timeline::Change;

    #[test]
    fn a_pod_index_label_must_be_the_ordinal_where_the_cluster_sets_one() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        let index = |h: &mut History, pod: &str, value: &str| {
            h.modify(pod, |p| {
                std::sync::Arc::make_mut(&mut p.spec).labels.insert(POD_INDEX_LABEL.into(), value.into());
            });
        };
        // Without the label (a cluster before 1.28): not judged.
        assert_eq!(evaluate(CheckName::StableIdentity, &h.step_window(0)).verdict, Verdict::Pass);
        index(&mut h, "web-0", "0");
        index(&mut h, "web-1", "1");
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert!(out.detail.contains("pod-name and pod-index labels"), "{}", out.detail);
        index(&mut h, "web-1", "2");
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-1 has label apps.kubernetes.io/pod-index=\"2\""), "{}", out.detail);
    }

    #[test]
    fn identity_passes_for_controller_shaped_pods() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.bring_up(2);
        h.timeline
            .push(0, Event::from(ProbeObs::Hostname { pod: "web-0".into(), uid: String::new(), output: Ok("web-0".into()) }));
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
    }

    #[test]
    fn missing_ordinals_are_inconclusive_only_when_the_step_ended_early() {
        // OrderedReady with web-0 never Ready (no scheduler, say): the controller rightly
        // creates nothing more, and the wait for three Ready pods times out.
        let mut h = History::new().set(3, "OrderedReady");
        h.step(0);
        h.create("web-0");
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "a settled step must show 0..3: {out:?}");
        let out = evaluate(CheckName::StableIdentity, &h.early_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("had ordinals [0] at the end, expected [0, 1, 2]"), "{}", out.detail);
        h.modify("web-0", |p| std::sync::Arc::make_mut(&mut p.spec).hostname = Some("other".into()));
        let window = h.early_window(0);
        assert_eq!(evaluate(CheckName::StableIdentity, &window).verdict, Verdict::Fail, "a wrong hostname is wrong at any time");
    }

    #[test]
    fn a_hostname_that_could_not_run_is_inconclusive() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        h.bring_up(1);
        let not_run = Err(crate::timeline::ProbeError::not_run("exec in pod web-0: 500 Internal Server Error"));
        let seq =
            h.timeline.push(0, Event::from(ProbeObs::Hostname { pod: "web-0".into(), uid: String::new(), output: not_run }));
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert_eq!(out.evidence, vec![seq]);
        h.timeline
            .push(0, Event::from(ProbeObs::Hostname { pod: "web-0".into(), uid: String::new(), output: Ok("web-0".into()) }));
        assert_eq!(evaluate(CheckName::StableIdentity, &h.step_window(0)).verdict, Verdict::Pass, "answered later");
    }

    #[test]
    fn identity_fails_on_wrong_hostname_output() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        h.bring_up(1);
        let seq = h
            .timeline
            .push(0, Event::from(ProbeObs::Hostname { pod: "web-0".into(), uid: String::new(), output: Ok("localhost".into()) }));
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.evidence, vec![seq]);
    }

    #[test]
    fn identity_fails_on_a_foreign_name_or_missing_ordinal() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.bring_up(2);
        h.modify("web-1", |p| p.name = "web-1-x".into());
        let out = evaluate(CheckName::StableIdentity, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-1-x"), "{}", out.detail);

        let mut g = History::new().set(3, "OrderedReady");
        g.step(0);
        g.bring_up(2);
        let out = evaluate(CheckName::StableIdentity, &g.step_window(0));
        assert!(out.detail.contains("expected [0, 1, 2]"), "{}", out.detail);
    }

    #[test]
    fn secret_refs_need_the_key_and_started_pods() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        h.create("web-0");
        h.modify("web-0", |p| {
            std::sync::Arc::make_mut(&mut p.spec).secret_refs = vec!["mysql-secret/password".into()];
            p.waiting = Some("CreateContainerConfigError".into());
        });
        let out = evaluate(CheckName::SecretRefs, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("does not exist"));
        h.timeline.push(0, Event::Secret { change: Change::Added, name: "mysql-secret".into(), keys: vec!["password".into()] });
        assert_eq!(evaluate(CheckName::SecretRefs, &h.step_window(0)).verdict, Verdict::Fail, "settled, and web-0 never started");
        let out = evaluate(CheckName::SecretRefs, &h.early_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "the key exists; web-0 may only not have started yet: {out:?}");
        h.ready("web-0");
        assert_eq!(evaluate(CheckName::SecretRefs, &h.step_window(0)).verdict, Verdict::Pass);
    }
}
