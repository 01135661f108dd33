//! Network checks: the governing headless Service, DNS records, and HTTP to each pod.
//!
//! Kubernetes documents the records: the governing Service's domain is
//! `$(service).$(namespace).svc.$(cluster domain)` and each pod gets
//! `$(podname).$(governing service domain)`; a headless Service's own name resolves to the
//! addresses of its ready endpoints, a ClusterIP Service's to its cluster IP.

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckName, Outcome, Verdict, Window};
use crate::timeline::{Event, PodObs, ProbeError, ProbeObs, ServiceObs, View};

/// The forms a name can be written in from a pod of `namespace`: relative (resolved through
/// the search path) or fully qualified, with or without the trailing dot.
fn forms(base: &str, namespace: &str, domain: &str) -> [String; 4] {
    [
        base.to_owned(),
        format!("{base}.{namespace}"),
        format!("{base}.{namespace}.svc"),
        format!("{base}.{namespace}.svc.{domain}"),
    ]
}

fn same_name(name: &str, forms: &[String]) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    forms.iter().any(|f| f == name)
}

fn selects(service: &ServiceObs, pod: &PodObs) -> bool {
    !service.selector.is_empty() && service.selector.iter().all(|(k, v)| pod.spec.labels.get(k) == Some(v))
}

/// Addresses of the Running and Ready pods `service` selects, sorted.
fn ready_addresses(view: &View, service: &ServiceObs) -> Vec<String> {
    let set: BTreeSet<String> = view
        .pods
        .values()
        .filter(|p| p.running_and_ready() && selects(service, p))
        .filter_map(|p| p.ip.as_deref().map(str::to_owned))
        .collect();
    set.into_iter().collect()
}

/// What `name`, looked up from a pod in `namespace`, must resolve to in the state `view`:
/// `Some(addresses)` (empty: the name must not resolve) for a Service or a pod record the
/// view knows, `None` for a name the view cannot predict.
#[must_use]
pub fn expected_dns_answer(view: &View, name: &str, namespace: &str, domain: &str) -> Option<Vec<String>> {
    for service in view.services.values() {
        if same_name(name, &forms(&service.name, namespace, domain)) {
            return Some(if service.is_headless() {
                ready_addresses(view, service)
            } else {
                service.cluster_ip.clone().into_iter().collect()
            });
        }
    }
    // A per-pod record: `<hostname>.<subdomain>` where the subdomain is a headless Service
    // that selects the pod, published while the pod is ready.
    let mut known = false;
    let mut addresses = BTreeSet::new();
    for pod in view.pods.values() {
        let (Some(host), Some(sub)) = (&pod.spec.hostname, &pod.spec.subdomain) else { continue };
        if !same_name(name, &forms(&format!("{host}.{sub}"), namespace, domain)) {
            continue;
        }
        let Some(service) = view.services.get(sub) else { continue };
        known = true;
        if service.is_headless() && selects(service, pod) && pod.running_and_ready() {
            addresses.extend(pod.ip.as_deref().map(str::to_owned));
        }
    }
    known.then(|| addresses.into_iter().collect())
}

/// **headless-service** — the set's `serviceName` names a Service that exists and has
/// `clusterIP: None`, and every pod's subdomain is that Service (the pods' network identity
/// comes from it).
pub(super) fn headless_service(window: &Window<'_>) -> Outcome {
    let check = CheckName::HeadlessService;
    let after = window.view_after();
    let Some(set) = after.sets.get(window.target) else {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            format!("StatefulSet {} is not in the history", window.target),
            vec![],
        );
    };
    let Some(service_name) = set.service_name.as_deref() else {
        return Outcome::new(check, Verdict::Fail, format!("{} names no serviceName", set.name), vec![]);
    };
    let Some(service) = after.services.get(service_name) else {
        return Outcome::new(
            check,
            Verdict::Fail,
            format!("Service {service_name} named by {} does not exist", set.name),
            vec![],
        );
    };
    let evidence = service_evidence(window, service_name);
    if !service.is_headless() {
        return Outcome::new(
            check,
            Verdict::Fail,
            format!("Service {service_name} has clusterIP {:?}, not None", service.cluster_ip.as_deref().unwrap_or("")),
            evidence,
        );
    }
    let strays: Vec<&str> = after
        .set_pods(window.target)
        .values()
        .filter(|p| p.spec.subdomain.as_deref() != Some(service_name))
        .map(|p| p.name.as_ref())
        .collect();
    if !strays.is_empty() {
        return Outcome::new(
            check,
            Verdict::Fail,
            format!("{} are not in subdomain {service_name}", strays.join(", ")),
            evidence,
        );
    }
    Outcome::new(
        check,
        Verdict::Pass,
        format!("Service {service_name} is headless (clusterIP None) and governs the pods"),
        evidence,
    )
}

fn service_evidence(window: &Window<'_>, name: &str) -> Vec<usize> {
    window.timeline.entries[..window.range.end]
        .iter()
        .rev()
        .find(|e| matches!(&e.event, Event::Service { service, .. } if service.name == name))
        .map(|e| e.seq)
        .into_iter()
        .collect()
}

/// **dns** — judged on the DNS lookups made in the window (the last answer for each name):
/// every pod record `<pod>.<service>` (any form) resolves to exactly that pod's address, the
/// governing Service's name to exactly the addresses of its ready pods; every ready pod's record
/// and the Service were looked up.
pub(super) fn dns(window: &Window<'_>) -> Outcome {
    let check = CheckName::Dns;
    // Name → (entry, answer, what the state at that moment predicts).
    type Lookup<'t> = (usize, &'t Result<Vec<String>, ProbeError>, Option<Vec<String>>);
    let mut last: BTreeMap<&str, Lookup<'_>> = BTreeMap::new();
    // Lookups that could not run (the probe pod not running, the exec refused): no answer.
    let mut not_run: BTreeMap<&str, (usize, &ProbeError)> = BTreeMap::new();
    window.replay(|view, entry| {
        if let Some(ProbeObs::Dns { name, answer }) = entry.event.probe() {
            if let Err(e) = answer
                && !e.answered()
            {
                not_run.insert(name.as_str(), (entry.seq, e));
                return;
            }
            let expected = expected_dns_answer(view, name, window.namespace, window.cluster_domain);
            last.insert(name.as_str(), (entry.seq, answer, expected));
        }
    });
    not_run.retain(|name, _| !last.contains_key(name));
    if last.is_empty() && not_run.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no DNS lookup was made in this window", vec![]);
    }
    let after = window.view_after();
    let mut violations = Vec::new();
    let mut evidence = Vec::new();
    for (name, (seq, answer, expected)) in &last {
        evidence.push(*seq);
        let Some(expected) = expected else { continue };
        let got = match answer {
            Ok(addresses) => {
                let mut a = addresses.clone();
                a.sort();
                a.dedup();
                a
            }
            Err(_) => Vec::new(),
        };
        if &got != expected {
            let said = match answer {
                Ok(a) => format!("{a:?}"),
                Err(e) => e.to_string(),
            };
            violations.push((format!("{name} resolved to {said}, expected {expected:?} (#{seq})"), *seq));
        }
    }
    // Coverage: every ready pod of the set and its Service must have been looked up.
    let service = after.sets.get(window.target).and_then(|s| s.service_name.clone());
    let mut missing = Vec::new();
    if let Some(service) = &service {
        if !last.keys().any(|n| same_name(n, &forms(service, window.namespace, window.cluster_domain))) {
            missing.push(service.clone());
        }
        for pod in after.set_pods(window.target).values().filter(|p| p.running_and_ready()) {
            let record = format!("{}.{service}", pod.name);
            if !last.keys().any(|n| same_name(n, &forms(&record, window.namespace, window.cluster_domain))) {
                missing.push(record);
            }
        }
    }
    if let Some((detail, _)) = violations.first() {
        let more = if violations.len() > 1 { format!(" (and {} more)", violations.len() - 1) } else { String::new() };
        return Outcome::new(check, Verdict::Fail, format!("{detail}{more}"), violations.iter().map(|(_, s)| *s).collect());
    }
    if let Some((name, (seq, why))) = not_run.first_key_value() {
        let more = if not_run.len() > 1 { format!(" (and {} more)", not_run.len() - 1) } else { String::new() };
        evidence.extend(not_run.values().map(|(seq, _)| *seq));
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("the lookup of {name} could not run: {why} (#{seq}){more}"),
            evidence,
        );
    }
    if !missing.is_empty() {
        return Outcome::new(check, Verdict::Inconclusive, format!("not looked up: {}", missing.join(", ")), evidence);
    }
    Outcome::new(check, Verdict::Pass, format!("{} names resolved to exactly the expected addresses", last.len()), evidence)
}

/// **pod-http** — every HTTP request aimed at a pod of the set (from a client pod in the
/// namespace) reached that pod's own address and got status 200 (and the expected text, when
/// the scenario names one); every ready pod was asked.
pub(super) fn pod_http(window: &Window<'_>) -> Outcome {
    let check = CheckName::PodHttp;
    let mut asked = BTreeSet::new();
    let mut violations = Vec::new();
    let mut not_run = Vec::new();
    let mut evidence = Vec::new();
    window.replay(|view, entry| {
        let Some(ProbeObs::Http { from, url, target, address, response }) = entry.event.probe() else { return };
        let Some(pod) = view.pods.get(target.as_str()).filter(|p| p.belongs_to(window.target)) else { return };
        evidence.push(entry.seq);
        if let Err(error) = response
            && !error.answered()
        {
            not_run.push((target.clone(), format!("GET {url} from {from} could not run: {error} (#{})", entry.seq)));
            return;
        }
        asked.insert(target.clone());
        let problem = match response {
            Err(error) => Some(format!("GET {url} from {from} failed: {error}")),
            Ok(r) if r.status != 200 => Some(format!("GET {url} from {from} answered {}", r.status)),
            Ok(_) if address.is_none() || address.as_deref() != pod.ip.as_deref() => Some(format!(
                "GET {url} from {from} went to {}, but {target} is at {}",
                address.as_deref().unwrap_or("an unknown address"),
                pod.ip.as_deref().unwrap_or("no address")
            )),
            Ok(r) => match window.expect_body {
                Some(text) if !r.body.contains(text) => {
                    Some(format!("GET {url} from {from}: the answer does not contain {text:?}"))
                }
                _ => None,
            },
        };
        if let Some(problem) = problem {
            violations.push((format!("{problem} (#{})", entry.seq), entry.seq));
        }
    });
    if let Some((detail, _)) = violations.first() {
        return Outcome::new(check, Verdict::Fail, detail.clone(), violations.iter().map(|(_, s)| *s).collect());
    }
    // A pod asked another time has an answer; the others have none.
    not_run.retain(|(target, _)| !asked.contains(target));
    if let Some((_, first)) = not_run.first() {
        let more = if not_run.len() > 1 { format!(" (and {} more)", not_run.len() - 1) } else { String::new() };
        return Outcome::new(check, Verdict::Inconclusive, format!("{first}{more}"), evidence);
    }
    if asked.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no HTTP request to a pod of the set was made", vec![]);
    }
    let after = window.view_after();
    let unasked: Vec<&str> = after
        .set_pods(window.target)
        .values()
        .filter(|p| p.running_and_ready() && !asked.contains(&*p.name))
        .map(|p| p.name.as_ref())
        .collect();
    if !unasked.is_empty() {
        return Outcome::new(check, Verdict::Inconclusive, format!("not asked: {}", unasked.join(", ")), evidence);
    }
    let names: Vec<&str> = asked.iter().map(String::as_str).collect();
    Outcome::new(check, Verdict::Pass, format!("{} each answered at their own address", names.join(", ")), evidence)
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::History};
    use super::*;
    use crate::timeline::{Change, HttpResponse};

    fn with_service(h: &mut History, cluster_ip: &str) {
        let service = ServiceObs {
            name: "nginx".into(),
            cluster_ip: Some(cluster_ip.into()),
            selector: [("app".to_owned(), "nginx".to_owned())].into(),
        };
        h.timeline.push(0, Event::Service { change: Change::Added, service: Box::new(service) });
    }

    fn lookup(h: &mut History, name: &str, answer: Result<Vec<&str>, &str>) -> usize {
        let answer = answer.map(|a| a.into_iter().map(str::to_owned).collect()).map_err(|e| ProbeError::Answered(e.into()));
        h.timeline.push(0, Event::Probe(Box::new(ProbeObs::Dns { name: name.into(), answer })))
    }

    fn lookup_not_run(h: &mut History, name: &str) -> usize {
        let answer = Err(ProbeError::not_run("exec in pod sts-conformance-probe: 500 Internal Server Error"));
        h.timeline.push(0, Event::Probe(Box::new(ProbeObs::Dns { name: name.into(), answer })))
    }

    fn get(h: &mut History, target: &str, response: Result<HttpResponse, ProbeError>) {
        let (url, address) = (format!("http://{target}.nginx/"), Some(format!("10.0.0.{}", &target[4..])));
        h.timeline.push(0, Event::from(ProbeObs::Http { from: "probe".into(), url, target: target.into(), address, response }));
    }

    fn two_pods() -> History {
        let mut h = History::new().set(2, "OrderedReady");
        with_service(&mut h, "None");
        h.bring_up(2);
        h.step(0);
        h
    }

    #[test]
    fn expected_answers_follow_the_records() {
        let h = two_pods();
        let view = h.timeline.view_at(h.timeline.len());
        let ns = "ns";
        let d = "cluster.local";
        assert_eq!(expected_dns_answer(&view, "web-0.nginx", ns, d), Some(vec!["10.0.0.0".into()]));
        assert_eq!(expected_dns_answer(&view, "web-1.nginx.ns.svc.cluster.local.", ns, d), Some(vec!["10.0.0.1".into()]));
        assert_eq!(expected_dns_answer(&view, "nginx", ns, d), Some(vec!["10.0.0.0".into(), "10.0.0.1".into()]));
        assert_eq!(expected_dns_answer(&view, "web-7.nginx", ns, d), None);
        assert_eq!(expected_dns_answer(&view, "web-0.nginx.other", ns, d), None);
    }

    #[test]
    fn dns_passes_on_exact_answers() {
        let mut h = two_pods();
        lookup(&mut h, "nginx", Ok(vec!["10.0.0.1", "10.0.0.0"]));
        lookup(&mut h, "web-0.nginx", Ok(vec!["10.0.0.0"]));
        lookup(&mut h, "web-1.nginx.ns.svc.cluster.local", Ok(vec!["10.0.0.1"]));
        let out = evaluate(CheckName::Dns, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
    }

    #[test]
    fn dns_fails_on_a_wrong_or_missing_record() {
        let mut h = two_pods();
        lookup(&mut h, "nginx", Ok(vec!["10.0.0.0"]));
        lookup(&mut h, "web-0.nginx", Ok(vec!["10.0.0.1"]));
        let bad = lookup(&mut h, "web-1.nginx", Err("NXDOMAIN"));
        let out = evaluate(CheckName::Dns, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.evidence.len(), 3, "{out:?}");
        assert!(out.evidence.contains(&bad));
    }

    #[test]
    fn dns_is_inconclusive_when_a_pod_was_not_looked_up() {
        let mut h = two_pods();
        lookup(&mut h, "nginx", Ok(vec!["10.0.0.0", "10.0.0.1"]));
        lookup(&mut h, "web-0.nginx", Ok(vec!["10.0.0.0"]));
        let out = evaluate(CheckName::Dns, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert!(out.detail.contains("web-1.nginx"));
    }

    #[test]
    fn headless_service_fails_with_a_cluster_ip() {
        let mut h = History::new().set(1, "OrderedReady");
        with_service(&mut h, "10.96.0.10");
        h.bring_up(1);
        h.step(0);
        let out = evaluate(CheckName::HeadlessService, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("10.96.0.10"));
        let mut ok = History::new().set(1, "OrderedReady");
        with_service(&mut ok, "None");
        ok.bring_up(1);
        ok.step(0);
        assert_eq!(evaluate(CheckName::HeadlessService, &ok.step_window(0)).verdict, Verdict::Pass);
    }

    #[test]
    fn pod_http_needs_the_pods_own_address() {
        let mut h = two_pods();
        for (target, address) in [("web-0", "10.0.0.0"), ("web-1", "10.0.0.0")] {
            h.timeline.push(
                0,
                Event::from(ProbeObs::Http {
                    from: "probe".into(),
                    url: format!("http://{target}.nginx/"),
                    target: target.into(),
                    address: Some(address.into()),
                    response: Ok(HttpResponse { status: 200, body: "hello".into() }),
                }),
            );
        }
        let out = evaluate(CheckName::PodHttp, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("but web-1 is at 10.0.0.1"), "{}", out.detail);
    }

    #[test]
    fn a_lookup_that_could_not_run_is_inconclusive_not_failed() {
        let mut h = two_pods();
        lookup(&mut h, "nginx", Ok(vec!["10.0.0.0", "10.0.0.1"]));
        lookup(&mut h, "web-0.nginx", Ok(vec!["10.0.0.0"]));
        let unrun = lookup_not_run(&mut h, "web-1.nginx");
        let out = evaluate(CheckName::Dns, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("web-1.nginx could not run"), "{}", out.detail);
        assert!(out.evidence.contains(&unrun));
        // Asked again and answered: judged on the answer.
        lookup(&mut h, "web-1.nginx", Ok(vec!["10.0.0.1"]));
        assert_eq!(evaluate(CheckName::Dns, &h.step_window(0)).verdict, Verdict::Pass);
        // A wrong answer elsewhere still fails.
        let mut h = two_pods();
        lookup(&mut h, "nginx", Ok(vec!["10.0.0.0", "10.0.0.1"]));
        lookup(&mut h, "web-0.nginx", Ok(vec!["10.0.0.1"]));
        lookup_not_run(&mut h, "web-1.nginx");
        assert_eq!(evaluate(CheckName::Dns, &h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn a_request_that_could_not_run_is_inconclusive_and_a_refused_one_fails() {
        let ok = || Ok(HttpResponse { status: 200, body: "hello".into() });
        let mut h = two_pods();
        get(&mut h, "web-0", ok());
        get(&mut h, "web-1", Err(ProbeError::not_run("pod sts-conformance-probe is not running")));
        let out = evaluate(CheckName::PodHttp, &h.step_window(0));
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("could not run"), "{}", out.detail);
        get(&mut h, "web-1", ok());
        assert_eq!(evaluate(CheckName::PodHttp, &h.step_window(0)).verdict, Verdict::Pass);
        let mut h = two_pods();
        get(&mut h, "web-0", ok());
        get(&mut h, "web-1", Err(ProbeError::Answered("connect to 10.0.0.1:80 failed: Connection refused".into())));
        assert_eq!(evaluate(CheckName::PodHttp, &h.step_window(0)).verdict, Verdict::Fail);
    }
}
