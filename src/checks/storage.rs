//! Storage checks: claim names, binding, retention, reattachment and data persistence.
//!
//! Kubernetes documents: "For each VolumeClaimTemplate entry defined in a StatefulSet, each Pod
//! receives one PersistentVolumeClaim" named `<template>-<pod>`; "the PersistentVolumes
//! associated with the Pods' PersistentVolume Claims are not deleted when the Pods, or
//! StatefulSet are deleted" unless `persistentVolumeClaimRetentionPolicy` says Delete; a pod
//! rescheduled mounts the volumes of its claims again.

use std::collections::BTreeMap;

use super::findings::Findings;
use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{ClaimObs, Event, ProbeObs, SetObs, View, ordinal_of};

/// The claims of the set's templates in `view`: (ordinal, claim) for every `<template>-<set>-<n>`.
fn set_claims<'v>(view: &'v View, set: &str, templates: &[String]) -> Vec<(u32, &'v ClaimObs)> {
    view.claims
        .values()
        .filter_map(|c| {
            templates.iter().find_map(|t| {
                let pod = c.name.strip_prefix(t.as_str())?.strip_prefix('-')?;
                ordinal_of(pod, set).map(|o| (o, c))
            })
        })
        .collect()
}

/// The claim templates of the target, from the last observation of the set in the history.
fn templates(window: &Window<'_>) -> Vec<String> {
    window.timeline.entries[..window.range.end]
        .iter()
        .rev()
        .find_map(|e| match &e.event {
            Event::StatefulSet { set, .. } if set.name == window.target => Some(set.claim_templates.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// **pvc-naming** — at the end of the window, every pod of the set has, for each claim template
/// `t`, a claim named `t-<pod>` that exists and is Bound (a shortfall, not judged when the step
/// ended early), mounted as the pod's volume `t`; no two pods share a claim.
pub(super) fn pvc_naming(window: &Window<'_>) -> Outcome {
    let check = CheckName::PvcNaming;
    let templates = templates(window);
    if templates.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "the set has no volumeClaimTemplates", vec![]);
    }
    let after = window.view_after();
    let pods = after.set_pods(window.target);
    if pods.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod of the set existed at the end of the window", vec![]);
    }
    let mut found = Findings::default();
    let mut users: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut names = Vec::new();
    for pod in pods.values().filter(|p| !p.terminating) {
        for claim in pod.spec.claims.values() {
            users.entry(claim.as_str()).or_default().push(pod.name.as_ref());
        }
        for template in &templates {
            let expected = format!("{template}-{}", pod.name);
            match pod.spec.claims.get(template) {
                Some(name) if *name == expected => {}
                Some(name) => {
                    found.violation(format!("{}'s volume {template} uses claim {name}, expected {expected}", pod.name), vec![])
                }
                None => found.violation(format!("{} has no volume {template}", pod.name), vec![]),
            }
            match after.claims.get(&expected) {
                None => found.shortfall(format!("claim {expected} does not exist"), vec![]),
                Some(c) if c.phase != "Bound" => found.shortfall(format!("claim {expected} is {}, not Bound", c.phase), vec![]),
                Some(c) => names.push(format!(
                    "{} ({}{})",
                    c.name,
                    c.storage_class.as_deref().unwrap_or("default class"),
                    c.request.as_deref().map(|r| format!(", {r}")).unwrap_or_default()
                )),
            }
        }
    }
    for (claim, pods) in &users {
        if pods.len() > 1 {
            found.violation(format!("claim {claim} is mounted by {} pods: {}", pods.len(), pods.join(", ")), vec![]);
        }
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    Outcome::new(check, Verdict::Pass, format!("each pod mounts its own Bound claim: {}", names.join(", ")), vec![])
}

/// **pvc-retention** — over a scale-down or a deletion of the set, the claims the set had
/// before keep existing with the same UID and stay Bound (their volumes too, when observed),
/// unless the set's retention policy for that case is Delete: then the claims of the removed
/// pods are gone and only those are (one still there is a shortfall: the controller and the
/// garbage collector delete them asynchronously, so it is not judged when the step ended early).
///
/// And the owner references that carry the policy out (`updateClaimOwnerRefForSetAndPod`), once
/// a step ends with the set, its pods and claims still for [`super::QUIET_MS`] and the status
/// current: a claim of a pod the set keeps names the set as its owner exactly when `whenDeleted`
/// is Delete, and never its own pod (it would go with the pod). A claim another controller owns
/// names neither and is left alone: a scale-down under Delete does not remove it.
pub(super) fn pvc_retention(window: &Window<'_>) -> Outcome {
    let check = CheckName::PvcRetention;
    let owners = claim_owners(window);
    let outcome = retention(window);
    match owners {
        Some(Err((detail, evidence))) if outcome.verdict != Verdict::Fail => Outcome::new(check, Verdict::Fail, detail, evidence),
        Some(Ok(detail)) if outcome.verdict == Verdict::NotApplicable => Outcome::new(check, Verdict::Pass, detail, vec![]),
        Some(Ok(detail)) if outcome.verdict == Verdict::Pass => {
            Outcome::new(check, Verdict::Pass, format!("{}; {detail}", outcome.detail), outcome.evidence)
        }
        _ => outcome,
    }
}

/// The owner-reference rule of [`pvc_retention`]: `None` where it cannot be judged (the step
/// ended early or is not still, no owners recorded, no claim of a kept pod), else what it found.
fn claim_owners(window: &Window<'_>) -> Option<Result<String, (String, Vec<usize>)>> {
    if window.ended_early {
        return None;
    }
    let after = window.view_after();
    let set = after.sets.get(window.target).filter(|s| s.status_current() && !s.terminating)?;
    let entries = &window.timeline.entries[..window.range.end.min(window.timeline.len())];
    let last_change = entries.iter().rev().find(|e| match &e.event {
        Event::Pod { pod, .. } => pod.belongs_to(window.target),
        Event::Claim { .. } => true,
        Event::StatefulSet { set, .. } => set.name == window.target,
        _ => false,
    })?;
    if window.end_ms().saturating_sub(last_change.at_ms) < super::QUIET_MS {
        return None;
    }
    let pods = after.set_pods(window.target);
    let wants_set = set.when_deleted == "Delete";
    let mut judged = Vec::new();
    for (ordinal, pod) in pods.range(set.ordinals()) {
        if pod.terminating {
            continue;
        }
        for template in &set.claim_templates {
            let name = format!("{template}-{}-{ordinal}", window.target);
            let Some(claim) = after.claims.get(&name).filter(|c| !c.terminating && c.owners.is_some()) else { continue };
            let ours = |c: &str| c == format!("StatefulSet/{}", window.target) || c == format!("Pod/{}", pod.name);
            let by_set = claim.owned_by("StatefulSet", window.target);
            let by_pod = claim.owned_by("Pod", &pod.name);
            let problem = match claim.controller() {
                Some(other) if !ours(other) && (by_set || by_pod) => {
                    Some(format!("claim {name} has another controller ({other}) and still names the set or its pod as owner"))
                }
                Some(other) if !ours(other) => None,
                _ if by_pod => {
                    Some(format!("claim {name} is owned by its pod {}, which the set keeps: it would go with the pod", pod.name))
                }
                _ if wants_set && !by_set => Some(format!(
                    "claim {name} has no owner reference to StatefulSet/{}, which whenDeleted: Delete needs",
                    window.target
                )),
                _ if !wants_set && by_set => Some(format!(
                    "claim {name} is owned by StatefulSet/{} though whenDeleted is {}: deleting the set would delete it",
                    window.target, set.when_deleted
                )),
                _ => None,
            };
            if let Some(problem) = problem {
                return Some(Err((problem, vec![last_change.seq])));
            }
            judged.push(name);
        }
    }
    if judged.is_empty() {
        return None;
    }
    Some(Ok(format!(
        "claims {} {} StatefulSet/{} as owner, as whenDeleted {} asks",
        judged.join(", "),
        if wants_set { "name" } else { "do not name" },
        window.target,
        set.when_deleted
    )))
}

/// The retention rule of [`pvc_retention`]: what a scale-down or a deletion left.
fn retention(window: &Window<'_>) -> Outcome {
    let check = CheckName::PvcRetention;
    let before = window.view_before();
    let after = window.view_after();
    let Some(set_before) = before.sets.get(window.target) else {
        return Outcome::new(check, Verdict::NotApplicable, "the set did not exist before the window", vec![]);
    };
    let templates = &set_before.claim_templates;
    let deleted = window.entries().iter().any(
        |e| matches!(&e.event, Event::StatefulSet { change: crate::timeline::Change::Deleted, set } if set.name == window.target),
    ) || after.sets.get(window.target).is_none_or(|s| s.uid != set_before.uid);
    // The ordinals whose claims stay (`start..start + replicas` after a scale-down; none
    // after a deletion).
    let (case, policy, stays) = if deleted {
        ("deletion of the set", set_before.when_deleted.clone(), 0..0)
    } else {
        let now = after.sets.get(window.target).map_or(0, |s| s.replicas);
        if now >= set_before.replicas {
            return Outcome::new(check, Verdict::NotApplicable, "the set was neither scaled down nor deleted", vec![]);
        }
        ("scale-down", set_before.when_scaled.clone(), after.sets.get(window.target).map_or(0..0, SetObs::ordinals))
    };
    let claims_before = set_claims(&before, window.target, templates);
    if claims_before.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "the set had no claims before the window", vec![]);
    }
    let mut found = Findings::default();
    let mut kept = Vec::new();
    let mut removed = Vec::new();
    for (ordinal, claim) in &claims_before {
        // A claim another controller owns is left alone (`hasUnexpectedController`).
        let foreign = [Some(*claim), after.claims.get(&claim.name)]
            .into_iter()
            .flatten()
            .any(|c| c.controller().is_some_and(|c| c != format!("StatefulSet/{}", window.target) && !c.starts_with("Pod/")));
        let must_go = policy == "Delete" && !stays.contains(ordinal) && !foreign;
        match after.claims.get(&claim.name) {
            None if must_go => removed.push(claim.name.as_str()),
            None => found.violation(format!("claim {} was deleted by the {case} (policy {policy})", claim.name), vec![]),
            Some(_) if must_go => {
                found.shortfall(format!("claim {} remains after the {case}, but the policy is Delete", claim.name), vec![])
            }
            Some(now) if now.uid != claim.uid => {
                found.violation(format!("claim {} was replaced (new UID) during the {case}", claim.name), vec![])
            }
            Some(now) if now.phase != "Bound" => {
                found.violation(format!("claim {} is {} after the {case}", claim.name, now.phase), vec![])
            }
            Some(now) => {
                if let Some(volume) = now.volume.as_ref().and_then(|v| after.volumes.get(v))
                    && volume.phase != "Bound"
                {
                    found.violation(format!("volume {} of claim {} is {}", volume.name, claim.name, volume.phase), vec![]);
                }
                kept.push(claim.name.as_str());
            }
        }
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let detail = match (kept.is_empty(), removed.is_empty()) {
        (false, true) => {
            format!("after the {case} (policy {policy}) the claims {} are still Bound with the same UIDs", kept.join(", "))
        }
        (true, false) => format!("after the {case} (policy {policy}) the claims {} are gone", removed.join(", ")),
        _ => format!(
            "after the {case} (policy {policy}) the claims {} are gone and {} still Bound with the same UIDs",
            removed.join(", "),
            kept.join(", ")
        ),
    };
    Outcome::new(check, Verdict::Pass, detail, vec![])
}

/// **reattach** — every pod of the set created in the window that uses a claim which existed
/// before the window mounts it under the expected name, and the claim keeps its UID (and
/// volume) through the window: the pod got its old storage back, not a fresh one.
pub(super) fn reattach(window: &Window<'_>) -> Outcome {
    let check = CheckName::Reattach;
    let before = window.view_before();
    let mut recreated = Vec::new();
    let mut violations = Vec::new();
    let end = window.replay(|view, entry| {
        let Event::Pod { change, pod } = &entry.event else { return };
        if *change == crate::timeline::Change::Deleted || !pod.belongs_to(window.target) {
            return;
        }
        if view.pods.get(&pod.name).is_some_and(|old| old.uid == pod.uid) {
            return;
        }
        for (volume, claim) in &pod.spec.claims {
            let expected = format!("{volume}-{}", pod.name);
            if let Some(old) = before.claims.get(&expected) {
                recreated.push((pod.name.clone(), old.clone(), entry.seq));
                if *claim != expected {
                    violations.push((
                        format!("recreated {} mounts claim {claim}, not its old claim {expected} (#{})", pod.name, entry.seq),
                        entry.seq,
                    ));
                }
            }
        }
    });
    if recreated.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod was recreated onto an existing claim in this window", vec![]);
    }
    for (pod, old, seq) in &recreated {
        match end.claims.get(&old.name) {
            None => violations.push((format!("claim {} of {pod} is gone", old.name), *seq)),
            Some(now) if now.uid != old.uid => {
                violations.push((format!("{pod} got a new claim {} (UID {} -> {})", old.name, old.uid, now.uid), *seq))
            }
            Some(now) if now.volume != old.volume => violations
                .push((format!("claim {} of {pod} moved from volume {:?} to {:?}", old.name, old.volume, now.volume), *seq)),
            Some(_) => {}
        }
    }
    if let Some((detail, _)) = violations.first() {
        return Outcome::new(check, Verdict::Fail, detail.clone(), violations.iter().map(|(_, s)| *s).collect());
    }
    let names: Vec<String> = recreated.iter().map(|(p, c, _)| format!("{p}->{}", c.name)).collect();
    Outcome::new(
        check,
        Verdict::Pass,
        format!("recreated pods mount their old claims (same UIDs): {}", names.join(", ")),
        recreated.iter().map(|(_, _, s)| *s).collect(),
    )
}

/// **persistence** — every file read in the window holds exactly what was last written to that
/// path in that pod before, and the pod was recreated (new UID) between the write and the read:
/// otherwise the read proves nothing about persistence (inconclusive).
pub(super) fn persistence(window: &Window<'_>) -> Outcome {
    let check = CheckName::Persistence;
    let mut reads = 0;
    let mut violations = Vec::new();
    let mut unproven = Vec::new();
    let mut evidence = Vec::new();
    for entry in window.entries() {
        let Some(ProbeObs::Read { pod, uid, path, content }) = entry.event.probe() else { continue };
        reads += 1;
        let write = window.timeline.entries[..entry.seq].iter().rev().find_map(|e| match e.event.probe() {
            Some(ProbeObs::Write { pod: p, uid: u, path: f, content, result: Ok(()) }) if p == pod && f == path => {
                Some((e.seq, u, content))
            }
            _ => None,
        });
        let Some((written_at, written_uid, written)) = write else {
            unproven.push(format!("nothing was written to {pod}:{path} before the read (#{})", entry.seq));
            continue;
        };
        evidence.extend([written_at, entry.seq]);
        match content {
            Err(error) if !error.answered() => {
                unproven.push(format!("reading {pod}:{path} could not run: {error} (#{})", entry.seq));
            }
            Err(error) => {
                violations.push((format!("reading {pod}:{path} failed: {error} (#{})", entry.seq), vec![written_at, entry.seq]))
            }
            Ok(read) if read.trim_end() != written.trim_end() => violations.push((
                format!(
                    "{pod}:{path} held {:?} after the pod was recreated, but {:?} was written (#{written_at})",
                    cut(read),
                    cut(written)
                ),
                vec![written_at, entry.seq],
            )),
            Ok(_) if written_uid == uid => {
                unproven.push(format!("{pod} was not recreated between the write (#{written_at}) and the read (#{})", entry.seq))
            }
            Ok(_) => {}
        }
    }
    if reads == 0 {
        return Outcome::new(check, Verdict::NotApplicable, "no file was read back in this window", vec![]);
    }
    if let Some((detail, _)) = violations.first() {
        return Outcome::new(check, Verdict::Fail, detail.clone(), violations.iter().flat_map(|(_, e)| e.clone()).collect());
    }
    if let Some(first) = unproven.first() {
        return Outcome::new(check, Verdict::Inconclusive, first.clone(), evidence);
    }
    Outcome::new(check, Verdict::Pass, format!("{reads} file(s) read back unchanged from recreated pods"), evidence)
}

fn cut(s: &str) -> String {
    let s = s.trim_end();
    if s.chars().count() > 60 { format!("{}…", s.chars().take(60).collect::<String>()) } else { s.to_owned() }
}

/// **static-shortage** — when the set's claims outnumber the PersistentVolumes of their storage
/// class that existed before the window (static volumes, no provisioner), at the end at most
/// that many claims are Bound, each to one of those volumes, the others are Pending with a
/// Warning event about the claim, and the pods that need them are not Running.
pub(super) fn static_shortage(window: &Window<'_>) -> Outcome {
    let check = CheckName::StaticShortage;
    let before = window.view_before();
    let after = window.view_after();
    let templates = templates(window);
    let claims = set_claims(&after, window.target, &templates);
    let Some(class) = claims.iter().find_map(|(_, c)| c.storage_class.clone()) else {
        return Outcome::new(check, Verdict::NotApplicable, "the set has no claims with a storage class", vec![]);
    };
    let static_volumes: Vec<&str> =
        before.volumes.values().filter(|v| v.storage_class.as_deref() == Some(class.as_str())).map(|v| v.name.as_str()).collect();
    if claims.len() <= static_volumes.len() {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            format!("{} claims for {} volumes of class {class}: no shortage", claims.len(), static_volumes.len()),
            vec![],
        );
    }
    let mut found = Findings::default();
    let mut pending = Vec::new();
    let mut evidence = Vec::new();
    for (_, claim) in &claims {
        if claim.phase == "Bound" {
            match &claim.volume {
                Some(v) if static_volumes.contains(&v.as_str()) => {}
                other => found.violation(
                    format!(
                        "claim {} is Bound to {:?}, which is not one of the static volumes {static_volumes:?}",
                        claim.name, other
                    ),
                    vec![],
                ),
            }
            continue;
        }
        pending.push(claim.name.as_str());
        let warning = window.timeline.entries[..window.range.end].iter().find(|e| {
            matches!(&e.event, Event::KubeEvent(k) if k.kind == "Warning" && k.object == format!("PersistentVolumeClaim/{}", claim.name))
        });
        match warning {
            Some(e) => evidence.push(e.seq),
            None => found.shortfall(format!("claim {} is {} but no Warning event explains it", claim.name, claim.phase), vec![]),
        }
        for pod in after.set_pods(window.target).values() {
            if pod.spec.claims.values().any(|c| *c == claim.name) && pod.phase == "Running" {
                found.violation(format!("{} is Running although its claim {} is not Bound", pod.name, claim.name), vec![]);
            }
        }
    }
    if pending.is_empty() {
        found.violation(
            format!("all {} claims of class {class} are Bound with only {} static volumes", claims.len(), static_volumes.len()),
            vec![],
        );
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    let reasons: Vec<String> = evidence
        .iter()
        .filter_map(|s| match &window.timeline.entries[*s].event {
            Event::KubeEvent(k) => Some(format!("{} {}", k.reason, k.message)),
            _ => None,
        })
        .collect();
    Outcome::new(
        check,
        Verdict::Pass,
        format!("{} stay Pending with a warning ({})", pending.join(", "), reasons.join("; ")),
        evidence,
    )
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::History};
    use super::*;
    use crate::timeline::{Change, KubeEventObs, ProbeError, VolumeObs};

    fn claim(h: &mut History, name: &str, uid: &str, phase: &str, volume: Option<&str>) -> usize {
        let claim = ClaimObs {
            name: name.into(),
            uid: uid.into(),
            phase: phase.into(),
            volume: volume.map(str::to_owned),
            storage_class: Some("standard".into()),
            request: Some("1Gi".into()),
            terminating: false,
            owners: None,
        };
        h.timeline.push(0, Event::Claim { change: Change::Added, claim: Box::new(claim) })
    }

    /// Claim `name` (Bound, uid `c<ordinal>`) now has `owners`.
    fn owned(h: &mut History, name: &str, owners: &[&str]) -> usize {
        let ordinal = name.rsplit('-').next().unwrap_or("0");
        let claim = ClaimObs {
            name: name.into(),
            uid: format!("c{ordinal}"),
            phase: "Bound".into(),
            owners: Some(owners.iter().map(|o| (*o).to_owned()).collect()),
            ..Default::default()
        };
        h.timeline.push(h.now, Event::Claim { change: Change::Modified, claim: Box::new(claim) })
    }

    /// Step 0 of `h`, ended at its clock after a quiet spell.
    fn still(h: &mut History) -> Outcome {
        h.advance(crate::checks::QUIET_MS);
        evaluate(CheckName::PvcRetention, &Window { ended_at_ms: Some(h.now), ..h.step_window(0) })
    }

    #[test]
    fn kept_claims_name_the_set_as_owner_exactly_when_deletion_deletes_them() {
        let mut h = bound_set(2);
        h.update_set(|s| s.when_deleted = "Delete".into());
        h.step(0);
        owned(&mut h, "www-web-0", &["StatefulSet/web*"]);
        owned(&mut h, "www-web-1", &["StatefulSet/web*"]);
        // Moments after the last change: not judged.
        assert_eq!(
            evaluate(CheckName::PvcRetention, &Window { ended_at_ms: Some(h.now), ..h.step_window(0) }).verdict,
            Verdict::NotApplicable
        );
        let out = still(&mut h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("www-web-0, www-web-1 name StatefulSet/web as owner"), "{}", out.detail);
        owned(&mut h, "www-web-1", &[]);
        let out = still(&mut h);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("www-web-1 has no owner reference to StatefulSet/web"), "{}", out.detail);
        owned(&mut h, "www-web-1", &["StatefulSet/web*", "Pod/web-1*"]);
        assert!(still(&mut h).detail.contains("owned by its pod web-1, which the set keeps"));
        h.update_set(|s| s.when_deleted = "Retain".into());
        owned(&mut h, "www-web-1", &[]);
        let out = still(&mut h);
        assert!(out.detail.contains("www-web-0 is owned by StatefulSet/web though whenDeleted is Retain"), "{}", out.detail);
    }

    #[test]
    fn a_claim_another_controller_owns_is_left_alone() {
        let mut h = scaled_down_under_delete_policy();
        owned(&mut h, "www-web-1", &["ConfigMap/keeper*"]);
        h.terminate("web-1");
        h.gone("web-1");
        let out = still(&mut h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        // Still naming the set beside another controller: the controller should have scrubbed it.
        let mut h = scaled_down_under_delete_policy();
        owned(&mut h, "www-web-0", &["ConfigMap/keeper*", "StatefulSet/web"]);
        owned(&mut h, "www-web-1", &["ConfigMap/keeper*"]);
        h.terminate("web-1");
        h.gone("web-1");
        assert!(still(&mut h).detail.contains("www-web-0 has another controller (ConfigMap/keeper)"));
    }

    fn bound_set(n: u32) -> History {
        let mut h = History::new().set(n, "OrderedReady");
        for i in 0..n {
            claim(&mut h, &format!("www-web-{i}"), &format!("c{i}"), "Bound", Some(&format!("pv{i}")));
        }
        h.bring_up(n);
        h
    }

    #[test]
    fn pvc_naming_passes_and_catches_sharing() {
        let mut h = bound_set(2);
        h.step(0);
        assert_eq!(evaluate(CheckName::PvcNaming, &h.step_window(0)).verdict, Verdict::Pass);
        h.modify("web-1", |p| {
            std::sync::Arc::make_mut(&mut p.spec).claims.insert("www".into(), "www-web-0".into());
        });
        let out = evaluate(CheckName::PvcNaming, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("uses claim www-web-0"), "{}", out.detail);
    }

    #[test]
    fn a_missing_or_unbound_claim_after_an_early_end_is_inconclusive_a_shared_one_fails() {
        let mut h = History::new().set(2, "OrderedReady");
        claim(&mut h, "www-web-0", "c0", "Pending", None);
        h.bring_up(2);
        h.step(0);
        assert_eq!(evaluate(CheckName::PvcNaming, &h.step_window(0)).verdict, Verdict::Fail, "the step reached its condition");
        let out = evaluate(CheckName::PvcNaming, &h.early_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("www-web-0 is Pending, not Bound (and 1 more)"), "{}", out.detail);
        h.modify("web-1", |p| {
            std::sync::Arc::make_mut(&mut p.spec).claims.insert("www".into(), "www-web-0".into());
        });
        let window = h.early_window(0);
        assert_eq!(evaluate(CheckName::PvcNaming, &window).verdict, Verdict::Fail, "a wrong claim is wrong at any time");
    }

    /// Two pods with Bound claims under `whenScaled: Delete`, scaled to one in step 0.
    fn scaled_down_under_delete_policy() -> History {
        let mut h = History::new().set(2, "OrderedReady");
        h.update_set(|s| s.when_scaled = "Delete".into());
        claim(&mut h, "www-web-0", "c0", "Bound", None);
        claim(&mut h, "www-web-1", "c1", "Bound", None);
        h.bring_up(2);
        h.step(0);
        h.update_set(|s| s.replicas = 1);
        h
    }

    #[test]
    fn a_claim_the_delete_policy_has_not_removed_yet_is_inconclusive_after_an_early_end() {
        let mut h = scaled_down_under_delete_policy();
        let window = h.early_window(0);
        assert_eq!(evaluate(CheckName::PvcRetention, &window).verdict, Verdict::Inconclusive);
        let gone = ClaimObs { name: "www-web-0".into(), uid: "c0".into(), ..Default::default() };
        h.timeline.push(0, Event::Claim { change: Change::Deleted, claim: Box::new(gone) });
        let window = h.early_window(0);
        let out = evaluate(CheckName::PvcRetention, &window);
        assert_eq!(out.verdict, Verdict::Fail, "the kept ordinal's claim was deleted: {out:?}");
    }

    #[test]
    fn pvc_retention_on_scale_down_and_delete() {
        let mut h = bound_set(3);
        h.step(0);
        h.update_set(|s| s.replicas = 1);
        h.terminate("web-2");
        h.gone("web-2");
        assert_eq!(evaluate(CheckName::PvcRetention, &h.step_window(0)).verdict, Verdict::Pass);
        let gone = ClaimObs { name: "www-web-2".into(), uid: "c2".into(), ..Default::default() };
        h.timeline.push(0, Event::Claim { change: Change::Deleted, claim: Box::new(gone) });
        let out = evaluate(CheckName::PvcRetention, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("www-web-2 was deleted by the scale-down"), "{}", out.detail);
    }

    #[test]
    fn pvc_retention_honours_a_delete_policy() {
        let mut h = scaled_down_under_delete_policy();
        let out = evaluate(CheckName::PvcRetention, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "claim of the removed pod must go");
        let gone = ClaimObs { name: "www-web-1".into(), uid: "c1".into(), ..Default::default() };
        h.timeline.push(0, Event::Claim { change: Change::Deleted, claim: Box::new(gone) });
        assert_eq!(evaluate(CheckName::PvcRetention, &h.step_window(0)).verdict, Verdict::Pass);
    }

    #[test]
    fn reattach_fails_on_a_fresh_claim() {
        let mut h = bound_set(1);
        h.step(0);
        h.terminate("web-0");
        h.gone("web-0");
        h.create("web-0");
        h.ready("web-0");
        assert_eq!(evaluate(CheckName::Reattach, &h.step_window(0)).verdict, Verdict::Pass);
        claim(&mut h, "www-web-0", "c9", "Bound", Some("pv9"));
        let out = evaluate(CheckName::Reattach, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("new claim"), "{}", out.detail);
    }

    fn probe(h: &mut History, p: ProbeObs) -> usize {
        h.timeline.push(0, Event::Probe(Box::new(p)))
    }

    #[test]
    fn persistence_needs_same_content_and_a_recreated_pod() {
        let mut h = bound_set(1);
        probe(
            &mut h,
            ProbeObs::Write { pod: "web-0".into(), uid: "u1".into(), path: "/f".into(), content: "tok".into(), result: Ok(()) },
        );
        h.step(0);
        probe(&mut h, ProbeObs::Read { pod: "web-0".into(), uid: "u1".into(), path: "/f".into(), content: Ok("tok\n".into()) });
        assert_eq!(evaluate(CheckName::Persistence, &h.step_window(0)).verdict, Verdict::Inconclusive);
        probe(&mut h, ProbeObs::Read { pod: "web-0".into(), uid: "u2".into(), path: "/f".into(), content: Ok(String::new()) });
        let out = evaluate(CheckName::Persistence, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);

        let mut ok = bound_set(1);
        probe(
            &mut ok,
            ProbeObs::Write { pod: "web-0".into(), uid: "u1".into(), path: "/f".into(), content: "tok".into(), result: Ok(()) },
        );
        ok.step(0);
        probe(&mut ok, ProbeObs::Read { pod: "web-0".into(), uid: "u2".into(), path: "/f".into(), content: Ok("tok".into()) });
        assert_eq!(evaluate(CheckName::Persistence, &ok.step_window(0)).verdict, Verdict::Pass);
    }

    #[test]
    fn a_read_that_could_not_run_is_inconclusive_a_missing_file_fails() {
        let read = |content| ProbeObs::Read { pod: "web-0".into(), uid: "u2".into(), path: "/f".into(), content };
        let written = || {
            let mut h = bound_set(1);
            let write = ProbeObs::Write {
                pod: "web-0".into(),
                uid: "u1".into(),
                path: "/f".into(),
                content: "tok".into(),
                result: Ok(()),
            };
            probe(&mut h, write);
            h.step(0);
            h
        };
        let mut h = written();
        probe(&mut h, read(Err(ProbeError::not_run("exec in pod web-0: 500 Internal Server Error"))));
        let out = evaluate(CheckName::Persistence, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("could not run"), "{}", out.detail);
        let mut h = written();
        probe(&mut h, read(Err(ProbeError::Answered("cat: can't open '/f': No such file or directory".into()))));
        assert_eq!(evaluate(CheckName::Persistence, &h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn static_shortage_needs_pending_claims_and_a_warning() {
        let mut h = History::new().set(2, "OrderedReady");
        let volume = VolumeObs {
            name: "pv-a".into(),
            phase: "Available".into(),
            storage_class: Some("standard".into()),
            ..Default::default()
        };
        h.timeline.push(0, Event::Volume { change: Change::Added, volume: Box::new(volume) });
        h.step(0);
        claim(&mut h, "www-web-0", "c0", "Bound", Some("pv-a"));
        claim(&mut h, "www-web-1", "c1", "Pending", None);
        h.bring_up(1);
        h.create("web-1");
        let out = evaluate(CheckName::StaticShortage, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "no warning yet");
        h.timeline.push(
            0,
            Event::from(KubeEventObs {
                kind: "Warning".into(),
                reason: "ProvisioningFailed".into(),
                object: "PersistentVolumeClaim/www-web-1".into(),
                message: "storageclass.storage.k8s.io \"standard\" not found".into(),
            }),
        );
        assert_eq!(evaluate(CheckName::StaticShortage, &h.step_window(0)).verdict, Verdict::Pass);
        claim(&mut h, "www-web-1", "c1", "Bound", Some("pv-new"));
        let out = evaluate(CheckName::StaticShortage, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("pv-new"), "{}", out.detail);
    }
}
