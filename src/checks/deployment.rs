//! The contrast the documents draw with a Deployment: no stable identity, no own storage.

use std::collections::BTreeSet;

use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Change, Event, PodObs, TEMPLATE_HASH_LABEL};

/// The Deployment a pod belongs to: owner `ReplicaSet/<deployment>-<hash>` with `<hash>` the
/// pod's `pod-template-hash` label.
fn deployment_of(pod: &PodObs) -> Option<&str> {
    let replica_set = pod.spec.owner.as_deref()?.strip_prefix("ReplicaSet/")?;
    let hash = pod.spec.labels.get(TEMPLATE_HASH_LABEL)?;
    replica_set.strip_suffix(hash.as_str())?.strip_suffix('-')
}

/// **deployment-contrast** — the Deployment's pods are named `<deployment>-<hash>-<suffix>`
/// (hash = `pod-template-hash`, suffix 5 random characters), have no hostname, subdomain or
/// claims of their own; a pod deleted in the window is replaced under a name never used before;
/// and a Service selecting the pods has a cluster IP.
pub(super) fn deployment_contrast(window: &Window<'_>) -> Outcome {
    let check = CheckName::DeploymentContrast;
    let deployment = window.target;
    let mut violations = Vec::new();
    // Every name the Deployment used before the window counts as used.
    let mut seen_names: BTreeSet<String> = window.timeline.entries[..window.range.start]
        .iter()
        .filter_map(|e| match &e.event {
            Event::Pod { pod, .. } if deployment_of(pod) == Some(deployment) => Some(pod.name.to_string()),
            _ => None,
        })
        .collect();
    let mut replaced = 0;
    let mut pods_seen = 0;
    let after = window.replay(|view, entry| {
        let Event::Pod { change, pod } = &entry.event else { return };
        if deployment_of(pod) != Some(deployment) {
            return;
        }
        if *change == Change::Added && !view.pods.contains_key(&pod.name) {
            if seen_names.contains(&*pod.name) {
                violations.push(format!("a replacement pod reused the name {} (#{})", pod.name, entry.seq));
            }
            seen_names.insert(pod.name.to_string());
        }
        if *change == Change::Deleted {
            replaced += 1;
        }
    });
    let pods: Vec<&PodObs> = after.pods.values().map(|p| &**p).filter(|p| deployment_of(p) == Some(deployment)).collect();
    for pod in &pods {
        pods_seen += 1;
        let hash = pod.spec.labels.get(TEMPLATE_HASH_LABEL).map_or("", String::as_str);
        let suffix = pod.name.strip_prefix(&format!("{deployment}-{hash}-")).unwrap_or("");
        if suffix.len() != 5 || !suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            violations.push(format!("{} is not named {deployment}-{hash}-<5 random characters>", pod.name));
        }
        if pod.spec.hostname.is_some() || pod.spec.subdomain.is_some() {
            violations.push(format!("{} has a per-pod hostname/subdomain", pod.name));
        }
        if !pod.spec.claims.is_empty() {
            violations.push(format!("{} mounts claims of its own", pod.name));
        }
    }
    if pods_seen == 0 {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            format!("no pod of Deployment {deployment} existed at the end"),
            vec![],
        );
    }
    let services: Vec<_> = after
        .services
        .values()
        .filter(|s| {
            !s.selector.is_empty() && pods.iter().all(|p| s.selector.iter().all(|(k, v)| p.spec.labels.get(k) == Some(v)))
        })
        .collect();
    match services.iter().find(|s| !s.is_headless() && s.cluster_ip.as_deref().is_some_and(|ip| !ip.is_empty())) {
        Some(_) => {}
        None if services.is_empty() => violations.push(format!("no Service selects the pods of {deployment}")),
        None => violations.push(format!("the Service of {deployment} has no cluster IP")),
    }
    if let Some(first) = violations.first() {
        return Outcome::new(check, Verdict::Fail, first.clone(), vec![]);
    }
    let ips: Vec<String> =
        services.iter().filter_map(|s| s.cluster_ip.as_ref().map(|ip| format!("{} at {ip}", s.name))).collect();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_ref()).collect();
    let recreated = if replaced > 0 { format!("; {replaced} deleted pod(s) came back under new names") } else { String::new() };
    Outcome::new(
        check,
        Verdict::Pass,
        format!("pods {} carry hash names and no identity; Service {}{recreated}", names.join(", "), ips.join(", ")),
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::super::{Policy, evaluate};
    use super::*;
    use crate::timeline::{ServiceObs, Timeline};

    fn pod(name: &str, uid: &str) -> PodObs {
        PodObs {
            name: name.into(),
            uid: uid.into(),
            spec: std::sync::Arc::new(crate::timeline::PodSpecObs {
                owner: Some("ReplicaSet/app-6b4f9c7d5".into()),
                labels: [("app".to_owned(), "a".to_owned()), (TEMPLATE_HASH_LABEL.to_owned(), "6b4f9c7d5".to_owned())].into(),
                ..Default::default()
            }),
            phase: "Running".into(),
            ready: true,
            ..Default::default()
        }
    }

    fn judge(t: &Timeline) -> Outcome {
        let w = Window {
            timeline: t,
            range: 0..t.len(),
            target: "app",
            namespace: "ns",
            cluster_domain: "cluster.local",
            expect_body: None,
            default_policy: Policy::Ordered,
            ended_early: false,
            ended_at_ms: None,
        };
        evaluate(CheckName::DeploymentContrast, &w)
    }

    #[test]
    fn hash_names_and_cluster_ip_pass_and_reused_names_fail() {
        let mut t = Timeline::new();
        let service = ServiceObs {
            name: "svc".into(),
            cluster_ip: Some("10.96.0.7".into()),
            selector: [("app".to_owned(), "a".to_owned())].into(),
        };
        t.push(0, Event::Service { change: Change::Added, service: Box::new(service) });
        t.push(0, Event::Pod { change: Change::Added, pod: pod("app-6b4f9c7d5-x7k2p", "1").into() });
        t.push(0, Event::Pod { change: Change::Deleted, pod: pod("app-6b4f9c7d5-x7k2p", "1").into() });
        t.push(0, Event::Pod { change: Change::Added, pod: pod("app-6b4f9c7d5-q9w4z", "2").into() });
        let out = judge(&t);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        t.push(0, Event::Pod { change: Change::Deleted, pod: pod("app-6b4f9c7d5-q9w4z", "2").into() });
        t.push(0, Event::Pod { change: Change::Added, pod: pod("app-6b4f9c7d5-x7k2p", "3").into() });
        assert_eq!(judge(&t).verdict, Verdict::Fail);
    }
}
