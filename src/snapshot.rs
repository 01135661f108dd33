//! Normalized timelines: the form of a run's history in which two runs that behaved the same
//! are identical, for regression snapshots (`run --snapshots DIR`, `run --compare DIR`).
//!
//! Kept: every ordering fact — each step, and in order the milestones of every object: a pod
//! added, its phase / Ready / terminating / revision / restarts / claims changing, gone; claims
//! and volumes bound and released; the StatefulSet's replicas, partition and revisions; Warning
//! events; every probe and what it found.
//!
//! Removed: times, UIDs (a recreated pod is `web-0 (#2)`), IPs (`ip(web-0)`: the pod holding
//! it), generated names (a Deployment pod is `my-nginx-deployment-<hash>-<n>`, a dynamic volume
//! `pv(www-web-0)`), revision hashes (`rev1`, `rev2` in order of appearance), the namespace and
//! run id, random tokens, node names, and changes that only touch what is removed (a kubelet
//! status update that changes no milestone prints nothing). Consecutive pods added at once —
//! the order a Parallel burst or a Deployment creates them in is not promised — are sorted.

use std::{collections::BTreeMap, fmt::Write as _};

use crate::timeline::{Change, Event, PodObs, ProbeError, ProbeObs, SetObs, Timeline};

/// Renders `timeline` normalized; `namespace` and `run_id` are the run's, and are removed.
#[must_use]
pub fn normalize(timeline: &Timeline, namespace: &str, run_id: &str) -> String {
    let mut n = Normalizer { namespace, run_id, ..Normalizer::default() };
    let mut out = String::new();
    let mut step = StepLines::default();
    for entry in &timeline.entries {
        let Some(line) = n.line(&entry.event) else { continue };
        if line.starts_with("== ") {
            step.flush(&mut out);
            let _ = writeln!(out, "{line}");
        } else {
            step.push(line);
        }
    }
    step.flush(&mut out);
    out
}

/// One step's lines, grouped by the watch that delivered them. Each watch delivers its own
/// objects in order, but two watches (pods, claims) are not ordered with each other, so
/// interleaving them would make two identical runs differ.
#[derive(Default)]
struct StepLines {
    /// Kind → lines in arrival order.
    groups: BTreeMap<usize, Vec<String>>,
}

/// The order groups are printed in: pods (and watch gaps), the StatefulSet, claims, volumes,
/// services, secrets, warning events, then what the harness probed.
const GROUPS: [&str; 8] = ["pod ", "statefulset ", "claim ", "volume ", "service ", "secret ", "warning ", ""];

impl StepLines {
    fn push(&mut self, line: String) {
        let group = if line.starts_with("gap ") { 0 } else { GROUPS.iter().position(|g| line.starts_with(g)).unwrap_or(7) };
        self.groups.entry(group).or_default().push(line);
    }

    fn flush(&mut self, out: &mut String) {
        for (group, mut lines) in std::mem::take(&mut self.groups) {
            if group == 0 {
                sort_bursts(&mut lines);
            }
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// Sorts each run of consecutive "pod … added" lines: pods added one right after another were
/// created at once, in no promised order.
fn sort_bursts(lines: &mut [String]) {
    let mut start = 0;
    for i in 0..=lines.len() {
        let added = lines.get(i).is_some_and(|l| l.contains(" added "));
        if !added {
            lines[start..i].sort();
            start = i + 1;
        }
    }
}

#[derive(Default)]
struct Normalizer<'a> {
    namespace: &'a str,
    run_id: &'a str,
    /// UID → pod alias.
    pods: BTreeMap<String, String>,
    /// Name → incarnations seen.
    incarnations: BTreeMap<String, u32>,
    /// Replica-set name → pods seen (for generated Deployment pod names).
    generated: BTreeMap<String, u32>,
    /// Pod alias → last milestone printed.
    milestones: BTreeMap<String, String>,
    /// IP → alias.
    ips: BTreeMap<String, String>,
    /// Revision hash → alias.
    revisions: BTreeMap<String, String>,
    /// Volume name → alias.
    volumes: BTreeMap<String, String>,
    /// Claim or volume or set name → last state printed.
    states: BTreeMap<String, String>,
    /// Random tokens → alias.
    tokens: BTreeMap<String, String>,
    /// A CronJob's Job name (it carries its schedule minute) → alias.
    jobs: BTreeMap<String, String>,
}

impl Normalizer<'_> {
    fn clean(&self, text: &str) -> String {
        let mut text = text.replace(self.namespace, "<ns>");
        if !self.run_id.is_empty() {
            text = text.replace(&format!("-{}", self.run_id), "");
        }
        // Longest first, so that 10.0.0.1 does not rewrite part of 10.0.0.12.
        let mut ips: Vec<(&String, &String)> = self.ips.iter().collect();
        ips.sort_by_key(|(ip, _)| std::cmp::Reverse(ip.len()));
        for (ip, alias) in ips {
            text = text.replace(ip.as_str(), alias);
        }
        text
    }

    fn pod_alias(&mut self, pod: &PodObs) -> String {
        if let Some(alias) = self.pods.get(&*pod.uid) {
            return alias.clone();
        }
        let owner = pod.spec.owner.as_deref().and_then(|o| o.split_once('/'));
        let base = match owner {
            Some(("ReplicaSet", rs)) => {
                let deployment = rs.rsplit_once('-').map_or(rs, |(d, _)| d).to_owned();
                let n = self.generated.entry(rs.to_owned()).or_default();
                *n += 1;
                format!("{deployment}-<hash>-<{n}>")
            }
            // A DaemonSet's pods have random names; the node each is for tells them apart.
            Some(("DaemonSet", ds)) => match pod.node.as_deref().or(pod.spec.target_node.as_deref()) {
                Some(node) => format!("{ds}@{node}"),
                None => format!("{ds}@<unknown node>"),
            },
            // A Job's pods too: numbered in the order they are first seen.
            Some(("Job", job)) => {
                let job = self.job_alias(job);
                let n = self.generated.entry(format!("Job/{job}")).or_default();
                *n += 1;
                format!("{job}-<{n}>")
            }
            _ => pod.name.to_string(),
        };
        let n = self.incarnations.entry(base.clone()).or_default();
        *n += 1;
        let alias = if *n == 1 { base } else { format!("{base} (#{n})") };
        self.pods.insert(pod.uid.to_string(), alias.clone());
        alias
    }

    fn revision(&mut self, hash: Option<&str>) -> String {
        let Some(hash) = hash else { return "-".into() };
        let next = self.revisions.len() + 1;
        self.revisions.entry(hash.to_owned()).or_insert_with(|| format!("rev{next}")).clone()
    }

    fn volume(&mut self, name: &str, claim: Option<&str>) -> String {
        if let Some(alias) = self.volumes.get(name) {
            return alias.clone();
        }
        // Dynamic volumes are named after the claim's UID: name them after the claim.
        let alias = match claim {
            Some(claim) if name.starts_with("pvc-") => format!("pv({})", claim.rsplit('/').next().unwrap_or(claim)),
            _ => self.clean(name),
        };
        self.volumes.insert(name.to_owned(), alias.clone());
        alias
    }

    /// A Job's name, or for a CronJob's Job (`<cronjob>-<minutes since the epoch>`) the
    /// CronJob's name and the run's number in order of appearance.
    fn job_alias(&mut self, name: &str) -> String {
        if let Some(alias) = self.jobs.get(name) {
            return alias.clone();
        }
        let alias = match name.rsplit_once('-') {
            Some((cron, minutes)) if minutes.len() >= 7 && minutes.bytes().all(|b| b.is_ascii_digit()) => {
                let n = self.generated.entry(format!("CronJob/{cron}")).or_default();
                *n += 1;
                format!("{cron}-<run {n}>")
            }
            _ => name.to_owned(),
        };
        self.jobs.insert(name.to_owned(), alias.clone());
        alias
    }

    fn token(&mut self, token: &str) -> String {
        let next = self.tokens.len() + 1;
        self.tokens.entry(token.trim().to_owned()).or_insert_with(|| format!("token{next}")).clone()
    }

    /// The line for one event, or `None` when it changes nothing the normalized form keeps.
    fn line(&mut self, event: &Event) -> Option<String> {
        match event {
            Event::Step { index, action } => Some(format!("== step {}: {}", index + 1, self.clean(action))),
            Event::Pod { change, pod } => self.pod(*change, pod),
            Event::Claim { change, claim } => {
                let volume = claim.volume.as_deref().map(|v| self.volume(v, Some(&claim.name)));
                let state = format!(
                    "{}{}{}",
                    claim.phase,
                    volume.map(|v| format!(" to {v}")).unwrap_or_default(),
                    if claim.terminating { " terminating" } else { "" }
                );
                self.state_line("claim", &claim.name, *change, state)
            }
            Event::Volume { change, volume } => {
                let alias = self.volume(&volume.name, volume.claim.as_deref());
                let claim = volume.claim.as_deref().map(|c| self.clean(c)).unwrap_or_default();
                let state = format!("{} {claim}", volume.phase).trim_end().to_owned();
                self.state_line("volume", &alias, *change, state)
            }
            Event::Service { change, service } => {
                let ip = match service.cluster_ip.as_deref() {
                    Some("None") => "headless".to_owned(),
                    Some(_) => "cluster IP".to_owned(),
                    None => "no cluster IP yet".to_owned(),
                };
                self.state_line("service", &service.name, *change, ip)
            }
            Event::StatefulSet { change, set } => {
                let state = self.set_state(set);
                self.state_line("statefulset", &set.name, *change, state)
            }
            Event::Secret { change, name, keys } => self.state_line("secret", name, *change, format!("keys {}", keys.join(","))),
            Event::Node { change, node } => {
                let taints: Vec<String> = node.taints.iter().map(ToString::to_string).collect();
                let state = format!(
                    "{}{}",
                    if taints.is_empty() { "untainted".to_owned() } else { format!("tainted {}", taints.join(",")) },
                    if node.unschedulable { " unschedulable" } else { "" }
                );
                self.state_line("node", &node.name, *change, state)
            }
            // Only its coming and going: how its status counts climb depends on timing.
            Event::DaemonSet { change, set } => self.state_line("daemonset", &set.name, *change, String::new()),
            Event::Job { change, job } => {
                let state = match (job.complete, job.failed_condition) {
                    (true, _) => "complete",
                    (_, true) => "failed",
                    _ => "",
                };
                let name = self.job_alias(&job.name);
                self.state_line("job", &name, *change, state.to_owned())
            }
            Event::CronJob { change, cron } => {
                let state =
                    format!("{} {}{}", cron.schedule, cron.concurrency_policy, if cron.suspend { " suspended" } else { "" });
                self.state_line("cronjob", &cron.name, *change, state)
            }
            Event::Refused(r) => Some(format!("refused {}/{}: {}", r.kind, r.name, r.reason)),
            Event::KubeEvent(e) if e.kind == "Warning" => Some(format!("warning {} on {}", e.reason, self.clean(&e.object))),
            Event::KubeEvent(_) => None,
            Event::Probe(probe) => Some(self.probe(probe)),
            Event::Gap { resource, .. } => Some(format!("gap in the {resource} watch")),
            Event::GapEnd { resource, relisted: true } => Some(format!("the {resource} watch re-listed")),
            Event::GapEnd { resource, relisted: false } => Some(format!("the {resource} watch resumed")),
        }
    }

    fn set_state(&mut self, set: &SetObs) -> String {
        let current = self.revision(set.current_revision.as_deref());
        let update = self.revision(set.update_revision.as_deref());
        format!(
            "replicas {} {} {} partition {} revisions {current}->{update}{}",
            set.replicas,
            set.pod_management_policy,
            set.update_strategy,
            set.partition,
            if set.terminating { " terminating" } else { "" }
        )
    }

    fn state_line(&mut self, kind: &str, name: &str, change: Change, state: String) -> Option<String> {
        let key = format!("{kind}/{name}");
        let name = self.clean(name);
        match change {
            Change::Deleted => {
                self.states.remove(&key);
                Some(format!("{kind} {name} deleted"))
            }
            Change::Added | Change::Modified => {
                if self.states.get(&key) == Some(&state) {
                    return None;
                }
                let verb = if self.states.insert(key, state.clone()).is_none() { "added" } else { "now" };
                Some(format!("{kind} {name} {verb} {state}").trim_end().to_owned())
            }
        }
    }

    fn pod(&mut self, change: Change, pod: &PodObs) -> Option<String> {
        let alias = self.pod_alias(pod);
        if let Some(ip) = &pod.ip {
            let ip_alias = format!("ip({alias})");
            self.ips.entry(ip.to_string()).or_insert(ip_alias);
        }
        if change == Change::Deleted {
            self.milestones.remove(&alias);
            return Some(format!("pod {alias} gone"));
        }
        let revision = self.revision(pod.revision());
        let claims: Vec<String> = pod.spec.claims.iter().map(|(v, c)| format!("{v}={c}")).collect();
        // A StatefulSet's pod (by its pod-name label) without a controller: orphaned or released.
        let uncontrolled = pod.spec.owner.is_none() && pod.spec.labels.contains_key(crate::timeline::POD_NAME_LABEL);
        let milestone = format!(
            "{}{}{}{} {revision}{}{}",
            pod.phase,
            if pod.ready { " Ready" } else { "" },
            if pod.terminating { " terminating" } else { "" },
            if uncontrolled { " uncontrolled" } else { "" },
            if pod.restarts > 0 { format!(" restarts {}", pod.restarts) } else { String::new() },
            if claims.is_empty() { String::new() } else { format!(" claims {}", claims.join(",")) },
        );
        let first = !self.milestones.contains_key(&alias);
        if self.milestones.get(&alias) == Some(&milestone) {
            return None;
        }
        self.milestones.insert(alias.clone(), milestone.clone());
        Some(format!("pod {alias} {} {milestone}", if first { "added" } else { "now" }))
    }

    fn probe(&mut self, probe: &ProbeObs) -> String {
        // The text of a failure names a run's own pods and addresses: only its kind is kept.
        fn failure(e: &ProbeError, answered: &'static str) -> &'static str {
            if e.answered() { answered } else { "not run" }
        }
        let pod_of = |n: &Self, uid: &str, name: &str| n.pods.get(uid).cloned().unwrap_or_else(|| name.to_owned());
        match probe {
            ProbeObs::Hostname { pod, uid, output } => {
                let who = pod_of(self, uid, pod);
                match output {
                    Ok(out) => format!("hostname in {who}: {out}"),
                    Err(e) => format!("hostname in {who}: {}", failure(e, "error")),
                }
            }
            ProbeObs::Write { pod, uid, path, content, result } => {
                let who = pod_of(self, uid, pod);
                let token = self.token(content);
                format!("write {token} to {who}:{path}: {}", result.as_ref().map_or_else(|e| failure(e, "error"), |()| "ok"))
            }
            ProbeObs::Read { pod, uid, path, content } => {
                let who = pod_of(self, uid, pod);
                let found = match content {
                    Ok(text) => self.token(text),
                    Err(e) => failure(e, "error").to_owned(),
                };
                format!("read {who}:{path}: {found}")
            }
            ProbeObs::Dns { name, answer } => {
                let answer = match answer {
                    Ok(addresses) => {
                        let mut names: Vec<String> = addresses.iter().map(|a| self.clean(a)).collect();
                        names.sort();
                        names.join(", ")
                    }
                    Err(e) => failure(e, "no such name").to_owned(),
                };
                format!("dns {}: {answer}", self.clean(name))
            }
            ProbeObs::Http { from, url, target, address, response } => {
                let answer = match response {
                    Ok(r) => format!("{}", r.status),
                    Err(e) => failure(e, "error").to_owned(),
                };
                let reached = address.as_deref().map(|a| self.clean(a)).unwrap_or_else(|| "-".into());
                format!("http from {from} to {} (for {target}): {answer} from {reached}", self.clean(url))
            }
            ProbeObs::Api { request, answer } => {
                let answer = match answer {
                    Ok(a) if !a.names.is_empty() => a.names.join(", "),
                    Ok(a) => match (a.spec_replicas, a.status_replicas) {
                        (Some(spec), Some(status)) => format!("replicas {spec}/{status}"),
                        _ => "ok".to_owned(),
                    },
                    Err(e) => failure(e, "refused").to_owned(),
                };
                format!("api {}: {answer}", self.clean(&request.describe()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{ClaimObs, REVISION_LABEL};

    fn pod(name: &str, uid: &str, ip: Option<&str>, phase: &str, ready: bool) -> Event {
        Event::Pod {
            change: Change::Modified,
            pod: Arc::new(PodObs {
                name: name.into(),
                uid: uid.into(),
                phase: crate::timeline::pod_phase(phase),
                ready,
                ip: ip.map(Into::into),
                spec: std::sync::Arc::new(crate::timeline::PodSpecObs {
                    labels: [(REVISION_LABEL.to_owned(), "web-6c28688f4b".to_owned())].into(),
                    ..Default::default()
                }),
                ..PodObs::default()
            }),
        }
    }

    #[test]
    fn uids_ips_revisions_and_namespaces_are_aliased() {
        let mut t = Timeline::new();
        t.push(5, Event::Step { index: 0, action: "apply StatefulSet/web in stsc-x-abc123".into() });
        t.push(6, pod("web-0", "u1", None, "Pending", false));
        t.push(7, pod("web-0", "u1", Some("10.1.2.3"), "Running", false));
        t.push(8, pod("web-0", "u1", Some("10.1.2.3"), "Running", false));
        t.push(9, pod("web-0", "u1", Some("10.1.2.3"), "Running", true));
        t.push(10, Event::from(ProbeObs::Dns { name: "web-0.nginx".into(), answer: Ok(vec!["10.1.2.3".into()]) }));
        t.push(11, pod("web-0", "u2", None, "Pending", false));
        let claim = ClaimObs {
            name: "www-web-0".into(),
            uid: "c1".into(),
            phase: "Bound".into(),
            volume: Some("pvc-c1".into()),
            ..ClaimObs::default()
        };
        t.push(12, Event::Claim { change: Change::Added, claim: Box::new(claim) });
        let text = normalize(&t, "stsc-x-abc123", "abc123");
        assert_eq!(
            text,
            "== step 1: apply StatefulSet/web in <ns>\n\
             pod web-0 added Pending rev1\n\
             pod web-0 now Running rev1\n\
             pod web-0 now Running Ready rev1\n\
             pod web-0 (#2) added Pending rev1\n\
             claim www-web-0 added Bound to pv(www-web-0)\n\
             dns web-0.nginx: ip(web-0)\n"
        );
    }

    #[test]
    fn a_burst_of_additions_is_sorted() {
        let mut t = Timeline::new();
        t.push(0, Event::Step { index: 0, action: "apply".into() });
        t.push(1, pod("web-1", "b", None, "Pending", false));
        t.push(2, pod("web-0", "a", None, "Pending", false));
        t.push(3, pod("web-1", "b", None, "Running", false));
        let text = normalize(&t, "ns", "");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1..3], ["pod web-0 added Pending rev1", "pod web-1 added Pending rev1"]);
    }
}
