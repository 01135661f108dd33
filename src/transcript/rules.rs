//! The claims a whole session shows, judged from what kubectl printed — and only that.
//!
//! Each rule below names its evidence and its inference. A rule fails only on a printed
//! contradiction of a documented guarantee; where the session cannot show a fact the rule
//! needs, it is `inconclusive` with the reason, or it is not judged.
//!
//! - **pvc-naming** — "For each VolumeClaimTemplate entry … each Pod receives one
//!   PersistentVolumeClaim" named `<template>-<pod>`. A claim is the family's when its name is
//!   `<t>-<set>-<ordinal>`; the templates are the `t`s seen. The controller creates a pod's
//!   claims before the pod and never deletes them while it exists, so a *full* claim listing
//!   (`kubectl get pvc`, `get pod,pv,pvc`: no names, no selector) must hold `<t>-<pod>` for every
//!   pod of the set the session last showed existing, unless a command that changes the cluster
//!   ran in between. Two claims of the set bound to one volume also fail.
//! - **pvc-retention** — claims are kept over a scale-down (`kubectl scale … --replicas N`)
//!   and a deletion of the set (`kubectl delete statefulset`, or kubectl's `statefulset.apps
//!   "web" deleted`) under the default `persistentVolumeClaimRetentionPolicy` (Retain). Every
//!   claim listed before, and every `<t>-<pod>` of a pod seen before, must be in the first full
//!   listing after, bound to the same volume. A session that shows `whenScaled: Delete` or
//!   `whenDeleted: Delete`, or deletes claims itself, is not judged on them.
//! - **reattach** — the `claimName:` lines a re-created set's pods print name claims listed
//!   before; a claim name bound to another volume later is a new claim under the old name.
//! - **headless-service** — a Service the set's pods are looked up under (`<pod>.<service>`),
//!   or printed in the same output as the set, shows CLUSTER-IP `None`.
//! - **dns** — `nslookup <pod>.<service>` answers that pod's IP as `-o wide` printed it (the
//!   row nearest the lookup, with no sign of the pod being replaced between them; else
//!   inconclusive). `nslookup <service>` answering every Ready pod's IP passes; a difference
//!   there is inconclusive (endpoints follow readiness with a delay). A name not found is
//!   inconclusive: the pod may not have been Ready.
//! - **stable-identity** — `hostname` run in a pod prints that pod's name (fails otherwise). A
//!   listing of ordinals from 0 with no gap, AGEs falling with the ordinal, confirms the naming
//!   and the creation order; a gap or another order proves nothing (a pod may be being replaced).
//! - **survivors-unchanged** — two listings around pods going away: the highest ordinals went,
//!   the others kept IP and restart count and did not get younger. Snapshots cannot tell a
//!   scale-down from a replacement under way, nor see a replacement that left no younger AGE, so
//!   this confirms or is inconclusive; it never fails.
//! - **pod-http** — `curl`/`wget` of a pod of the set (by the IP `-o wide` printed, or by its DNS
//!   name) printed an answer; a connection error is inconclusive (it may not have been serving).
//! - **pvc-naming** also checks both sides of a binding: a Bound claim's volume, printed in the
//!   same output, names that claim back (fails otherwise).
//! - **static-shortage** — a Pending claim of the set is explained by a `ProvisioningFailed`
//!   event in `describe pvc`; a pod printed Running and Ready in the same output as its own
//!   claim printed Pending contradicts the claim (a pod cannot start before its volumes bind).
//! - **deployment-contrast** — pods with a ReplicaSet's generated names
//!   (`<deployment>-<hash>-<suffix>`) beside the set's ordinal names. Confirms; never fails.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    SourcedRow, Transcript,
    session::{self, ClaimRow, Facts},
};
use crate::{
    checks::{CheckName, Verdict},
    timeline::ordinal_of,
};

/// One rule's verdict for one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check.
    pub check: CheckName,
    /// Verdict.
    pub verdict: Verdict,
    /// Lines that prove it, ascending.
    pub lines: Vec<usize>,
    /// What was found, with line numbers.
    pub detail: String,
}

impl Finding {
    fn new(check: CheckName, verdict: Verdict, detail: String, mut lines: Vec<usize>) -> Self {
        lines.sort_unstable();
        lines.dedup();
        Self { check, verdict, lines, detail }
    }
}

/// A parsed session, ready to judge any set of it.
pub struct Session<'a> {
    facts: &'a Facts,
    lines: Vec<&'a str>,
    /// The session shows `whenScaled: Delete` / `whenDeleted: Delete`.
    deletes_when_scaled: bool,
    deletes_when_deleted: bool,
    /// Pods with generated names (a ReplicaSet's: `<deployment>-<hash>-<suffix>`): (name, line).
    generated: Vec<(&'a str, usize)>,
    /// `<pod>.<service>` names looked up (answers and nslookup commands): service → pods.
    lookups: BTreeMap<&'a str, BTreeSet<&'a str>>,
    /// `mutating[i]`: how many of the first `i` commands change the cluster.
    mutating: Vec<usize>,
    /// Indexes of the commands that scale something, and of those that fetch over HTTP.
    scaling: Vec<usize>,
    fetching: Vec<usize>,
    /// nslookup answers by the first label of their query, and by the name before the ordinal
    /// of that label (`web` for `web-0.nginx`): indexes into `facts.dns`.
    dns_by_label: BTreeMap<&'a str, Vec<usize>>,
    dns_by_set: BTreeMap<&'a str, Vec<usize>>,
    /// Claims by every set name they may belong to (`<template>-<set>-<ordinal>`: each `<set>`
    /// that a split of the name allows): indexes into `facts.claims`.
    claims_by_set: BTreeMap<&'a str, Vec<usize>>,
    /// Pod rows and hostname outputs by the name before their ordinal.
    rows_by_set: BTreeMap<&'a str, Vec<&'a SourcedRow<'a>>>,
    hostnames_by_set: BTreeMap<&'a str, Vec<usize>>,
}

impl Session<'_> {
    /// Whether the session shows anything of StatefulSet `set`: a pod, a claim, a StatefulSet
    /// row, a DNS answer or a hostname output of its pods.
    #[must_use]
    pub fn mentions(&self, set: &str) -> bool {
        self.rows_by_set.contains_key(set)
            || self.claims_by_set.contains_key(set)
            || self.dns_by_set.contains_key(set)
            || self.hostnames_by_set.contains_key(set)
            || self.facts.sets.iter().any(|s| s.name == set)
    }
}

/// The row nearest to `line` among `rows` (in line order).
fn nearest<'r>(rows: &[&'r SourcedRow<'r>], line: usize) -> Option<&'r SourcedRow<'r>> {
    let at = rows.partition_point(|r| r.line < line);
    let before = at.checked_sub(1).map(|i| rows[i]);
    let after = rows.get(at).copied();
    match (before, after) {
        (Some(b), Some(a)) => Some(if line - b.line <= a.line - line { b } else { a }),
        (b, a) => b.or(a),
    }
}

/// `web` for `web-12`.
fn base_of(name: &str) -> Option<&str> {
    let (base, n) = name.rsplit_once('-')?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

impl<'a> Session<'a> {
    /// Prepares `text`, parsed as `transcript` and `facts`.
    #[must_use]
    pub fn new(transcript: &'a Transcript<'a>, facts: &'a Facts, text: &'a str) -> Self {
        let mut seen = BTreeSet::new();
        let generated = transcript
            .rows
            .iter()
            .filter(|r| replica_set_pod(r.row.name).is_some() && seen.insert(r.row.name))
            .map(|r| (r.row.name, r.line))
            .collect();
        let mut lookups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let queries = facts
            .dns
            .iter()
            .map(|a| a.query.as_str())
            .chain(facts.commands.iter().filter_map(|c| session::nslookup_target(&c.text)));
        for q in queries {
            let mut labels = q.split('.');
            if let (Some(pod), Some(service)) = (labels.next(), labels.next()) {
                lookups.entry(service).or_default().insert(pod);
            }
        }
        let mut mutating = vec![0];
        for c in &facts.commands {
            let last = mutating.last().copied().unwrap_or(0);
            mutating.push(last + usize::from(is_mutating(&c.words())));
        }
        let indexes = |f: &dyn Fn(&str) -> bool| -> Vec<usize> {
            facts.commands.iter().enumerate().filter(|(_, c)| f(&c.text)).map(|(i, _)| i).collect()
        };
        let scaling = indexes(&|t| t.contains("scale"));
        let mut dns_by_label: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut dns_by_set: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, answer) in facts.dns.iter().enumerate() {
            let first = answer.query.split('.').next().unwrap_or_default();
            dns_by_label.entry(first).or_default().push(i);
            if let Some(base) = base_of(first) {
                dns_by_set.entry(base).or_default().push(i);
            }
        }
        let mut rows_by_set: BTreeMap<&str, Vec<&SourcedRow<'_>>> = BTreeMap::new();
        for r in &transcript.rows {
            if let Some(base) = base_of(r.row.name) {
                rows_by_set.entry(base).or_default().push(r);
            }
        }
        let mut hostnames_by_set: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, h) in facts.hostnames.iter().enumerate() {
            if let Some(base) = base_of(&h.pod) {
                hostnames_by_set.entry(base).or_default().push(i);
            }
        }
        let mut claims_by_set: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, claim) in facts.claims.iter().enumerate() {
            let Some(pod_base) = base_of(&claim.name) else { continue };
            for (at, _) in pod_base.match_indices('-') {
                claims_by_set.entry(&pod_base[at + 1..]).or_default().push(i);
            }
        }
        let fetching = indexes(&|t| t.contains("curl") || t.contains("wget"));
        Self {
            lookups,
            mutating,
            scaling,
            fetching,
            dns_by_label,
            dns_by_set,
            claims_by_set,
            rows_by_set,
            hostnames_by_set,
            facts,
            lines: text.lines().collect(),
            deletes_when_scaled: text.contains("whenScaled: Delete"),
            deletes_when_deleted: text.contains("whenDeleted: Delete"),
            generated,
        }
    }
}

/// Characters of Kubernetes' generated name parts (`k8s.io/apimachinery/pkg/util/rand`).
const SAFE: &str = "bcdfghjklmnpqrstvwxz2456789";

/// The Deployment a pod name belongs to when it is `<deployment>-<pod-template-hash>-<suffix>`
/// (a hash of 6 to 10 and a suffix of 5 generated characters).
fn replica_set_pod(name: &str) -> Option<&str> {
    let (rest, suffix) = name.rsplit_once('-')?;
    let (deployment, hash) = rest.rsplit_once('-')?;
    let generated = |part: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&part.len()) && part.chars().all(|c| SAFE.contains(c))
    };
    (generated(suffix, 5..=5) && generated(hash, 6..=10) && !deployment.is_empty()).then_some(deployment)
}

/// Judges every rule the session has evidence for, for the set `set` (`only_set`: the only set
/// the session shows, which owns the Services no other set is looked up under).
#[must_use]
pub fn judge(set: &str, only_set: bool, session: &Session<'_>) -> Vec<Finding> {
    let ctx = Context::new(set, only_set, session);
    [
        ctx.headless_service(),
        ctx.dns(),
        ctx.stable_identity(),
        ctx.survivors_unchanged(),
        ctx.pod_http(),
        ctx.pvc_naming(),
        ctx.pvc_retention(),
        ctx.reattach(),
        ctx.static_shortage(),
        ctx.deployment_contrast(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

struct Context<'a> {
    set: &'a str,
    /// The only set of the session: services not tied to any set are its.
    only_set: bool,
    pods: Vec<&'a SourcedRow<'a>>,
    /// The set's pod rows by pod name, indexed when first asked for.
    by_pod: std::cell::OnceCell<foldhash::HashMap<&'a str, Vec<&'a SourcedRow<'a>>>>,
    /// The set's pod rows that show an IP (`-o wide`), all and by pod name.
    with_ip: Vec<&'a SourcedRow<'a>>,
    by_pod_ip: BTreeMap<&'a str, Vec<&'a SourcedRow<'a>>>,
    facts: &'a Facts,
    session: &'a Session<'a>,
    /// The set's claims: (template, pod, row).
    claims: Vec<(String, String, &'a ClaimRow)>,
    templates: BTreeSet<String>,
    removals: Vec<(usize, Option<u32>)>,
}

/// Kubectl verbs that change the cluster.
const MUTATING: [&str; 11] =
    ["apply", "create", "delete", "scale", "edit", "patch", "replace", "rollout", "set", "label", "annotate"];

fn is_mutating(words: &[&str]) -> bool {
    words.first() == Some(&"kubectl") && words.iter().skip(1).find(|w| !w.starts_with('-')).is_some_and(|v| MUTATING.contains(v))
}

impl<'a> Context<'a> {
    fn new(set: &'a str, only_set: bool, session: &'a Session<'a>) -> Self {
        let facts = session.facts;
        let pods: Vec<&SourcedRow<'_>> = session
            .rows_by_set
            .get(set)
            .into_iter()
            .flatten()
            .copied()
            .filter(|r| ordinal_of(r.row.name, set).is_some())
            .collect();
        let by_pod = std::cell::OnceCell::new();
        let mut claims = Vec::new();
        let marker = format!("-{set}-");
        for row in session.claims_by_set.get(set).into_iter().flatten().map(|i| &facts.claims[*i]) {
            // `<template>-<set>-<ordinal>`: the template is what precedes `-<set>-`.
            let mut from = 0;
            while let Some(at) = row.name[from..].find(&marker) {
                let at = from + at;
                let pod = &row.name[at + 1..];
                if at > 0 && ordinal_of(pod, set).is_some() {
                    claims.push((row.name[..at].to_owned(), pod.to_owned(), row));
                    break;
                }
                from = at + 1;
            }
        }
        let templates = claims.iter().map(|(t, ..)| t.clone()).collect();
        let removals = Self::find_removals(set, facts, &session.scaling);
        let with_ip: Vec<&SourcedRow<'_>> = pods.iter().copied().filter(|r| r.row.ip.is_some()).collect();
        let mut by_pod_ip: BTreeMap<&str, Vec<&SourcedRow<'_>>> = BTreeMap::new();
        for r in &with_ip {
            by_pod_ip.entry(r.row.name).or_default().push(r);
        }
        Self { set, only_set, pods, by_pod, with_ip, by_pod_ip, facts, session, claims, templates, removals }
    }

    fn is_pod(&self, name: &str) -> bool {
        ordinal_of(name, self.set).is_some()
    }

    /// Whether the claim table printed at `line` is a full listing: its command is shown and
    /// names no object and no selector.
    fn full_listing(&self, table: usize) -> Option<usize> {
        let command_line = (*self.facts.claim_tables.get(table)?)?;
        let command = self.facts.command_at(command_line)?;
        let words = command.words();
        let get = words.iter().position(|w| *w == "get")?;
        let mut resources = 0;
        let mut i = get + 1;
        while i < words.len() {
            let w = words[i];
            if matches!(w, "|" | ">" | "&&" | ";") {
                break;
            }
            if matches!(w, "-l" | "--selector" | "--field-selector") || w.starts_with("--selector=") || w.starts_with("-l=") {
                return None;
            }
            if matches!(w, "-n" | "--namespace" | "-o" | "--output" | "--context" | "--sort-by") {
                i += 2;
                continue;
            }
            if !w.starts_with('-') {
                resources += 1;
                let kinds: Vec<&str> = w.split(',').collect();
                if resources == 1
                    && !kinds.iter().any(|k| matches!(*k, "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims"))
                {
                    return None;
                }
                if resources > 1 || w.contains('/') {
                    return None;
                }
            }
            i += 1;
        }
        Some(command_line)
    }

    /// Whether a command that changes the cluster ran strictly between two lines.
    fn changed_between(&self, from: usize, to: usize) -> bool {
        let commands = &self.facts.commands;
        let (a, b) = (commands.partition_point(|c| c.line <= from), commands.partition_point(|c| c.line < to));
        b > a && self.session.mutating[b] > self.session.mutating[a]
    }

    fn headless_service(&self) -> Option<Finding> {
        let check = CheckName::HeadlessService;
        let linked = self.linked_services();
        let rows: Vec<_> = self
            .facts
            .services
            .iter()
            .filter(|s| linked.contains(&s.name) || (self.only_set && s.cluster_ip == "None" && !self.tied_elsewhere(&s.name)))
            .collect();
        if rows.is_empty() {
            return None;
        }
        let lines: Vec<usize> = rows.iter().map(|s| s.line).collect();
        if let Some(s) = rows.iter().find(|s| s.cluster_ip != "None") {
            return Some(Finding::new(
                check,
                Verdict::Inconclusive,
                format!(
                    "Service {} shows cluster IP {} (line {}): not headless, so it gives the pods no per-pod names; whether that is what was applied is not shown",
                    s.name, s.cluster_ip, s.line
                ),
                lines,
            ));
        }
        let names: BTreeSet<&str> = rows.iter().map(|s| s.name.as_str()).collect();
        Some(Finding::new(
            check,
            Verdict::Pass,
            format!("Service {} has no cluster IP (CLUSTER-IP None)", names.into_iter().collect::<Vec<_>>().join(", ")),
            lines,
        ))
    }

    /// Services the set's pods are looked up under (`<pod>.<service>` in an nslookup).
    fn linked_services(&self) -> BTreeSet<String> {
        self.session
            .lookups
            .iter()
            .filter(|(_, pods)| pods.iter().any(|p| self.is_pod(p)))
            .map(|(service, _)| (*service).to_owned())
            .collect()
    }

    /// Whether a service is looked up under another set's pods.
    fn tied_elsewhere(&self, service: &str) -> bool {
        self.session.lookups.get(service).is_some_and(|pods| {
            pods.iter().any(|p| !self.is_pod(p) && p.rsplit_once('-').is_some_and(|(_, n)| n.parse::<u32>().is_ok()))
        })
    }

    fn dns(&self) -> Option<Finding> {
        let check = CheckName::Dns;
        let services = self.linked_services();
        let mut passes = Vec::new();
        let mut unknown = Vec::new();
        let mut failures = Vec::new();
        let mut lines = Vec::new();
        // The answers about the set's pods and about its Services, in line order.
        let mut about: Vec<usize> = self.session.dns_by_set.get(self.set).cloned().unwrap_or_default();
        for service in &services {
            about.extend(self.session.dns_by_label.get(service.as_str()).into_iter().flatten());
        }
        about.sort_unstable();
        about.dedup();
        for answer in about.iter().map(|i| &self.facts.dns[*i]) {
            let mut labels = answer.query.split('.');
            let first = labels.next().unwrap_or_default();
            let second = labels.next();
            let answered: Vec<&str> = answer.addresses.iter().map(|(ip, _)| ip.as_str()).collect();
            if self.is_pod(first) && second.is_some() {
                lines.push(answer.line);
                lines.extend(answer.addresses.iter().map(|(_, l)| *l));
                if answered.is_empty() {
                    unknown.push(format!(
                        "{} was not found (line {}): the pod may not have been Ready then",
                        answer.query, answer.line
                    ));
                    continue;
                }
                match self.pod_ip_near(first, answer.line) {
                    Ok((ip, line)) => {
                        lines.push(line);
                        if answered.contains(&ip.as_str()) && answered.len() == 1 {
                            passes.push(format!(
                                "{} answered {ip} (line {}), {first}'s IP (line {line})",
                                answer.query, answer.line
                            ));
                        } else if !answered.contains(&ip.as_str()) {
                            failures.push(format!(
                                "{} answered {} (line {}), but {first}'s IP is {ip} (line {line})",
                                answer.query,
                                answered.join(", "),
                                answer.line
                            ));
                        } else {
                            unknown.push(format!(
                                "{} answered several addresses (line {}): {}",
                                answer.query,
                                answer.line,
                                answered.join(", ")
                            ));
                        }
                    }
                    Err(why) => {
                        unknown.push(format!("{} answered {} (line {}); {why}", answer.query, answered.join(", "), answer.line))
                    }
                }
            } else if second.is_none_or(|s| s == "default" || s.len() < 64) && services.contains(first) && !self.is_pod(first) {
                lines.push(answer.line);
                let ready = self.ready_ips_near(answer.line);
                let got: BTreeSet<&str> = answered.iter().copied().collect();
                if !ready.is_empty() && got == ready.iter().map(String::as_str).collect() {
                    passes.push(format!("{} answered every Ready pod's IP (line {})", answer.query, answer.line));
                } else {
                    unknown.push(format!(
                        "{} answered {} (line {}); the Ready pods printed nearest were {}: endpoints follow readiness with a delay",
                        answer.query,
                        if answered.is_empty() { "nothing".to_owned() } else { answered.join(", ") },
                        answer.line,
                        if ready.is_empty() { "not shown".to_owned() } else { ready.into_iter().collect::<Vec<_>>().join(", ") }
                    ));
                }
            }
        }
        if let Some(first) = failures.first() {
            return Some(Finding::new(check, Verdict::Fail, first.clone(), lines));
        }
        if let Some(first) = unknown.first() {
            return Some(Finding::new(check, Verdict::Inconclusive, first.clone(), lines));
        }
        (!passes.is_empty()).then(|| Finding::new(check, Verdict::Pass, passes.join("; "), lines))
    }

    /// The IP `-o wide` printed for `pod` nearest to `line`, when nothing between suggests the
    /// pod was replaced.
    fn pod_ip_near(&self, pod: &str, line: usize) -> Result<(String, usize), String> {
        let by_pod = self.by_pod.get_or_init(|| {
            let mut index: foldhash::HashMap<&str, Vec<&SourcedRow<'_>>> = foldhash::HashMap::default();
            for r in &self.pods {
                index.entry(r.row.name).or_default().push(r);
            }
            index
        });
        let rows: &[&SourcedRow<'_>] = by_pod.get(pod).map_or(&[], Vec::as_slice);
        let with_ip = self.by_pod_ip.get(pod).map_or(&[][..], Vec::as_slice);
        let Some(nearest) = nearest(with_ip, line) else {
            return Err(format!("the session never prints {pod}'s IP (-o wide)"));
        };
        let (from, to) = (nearest.line.min(line), nearest.line.max(line));
        let between = &rows[rows.partition_point(|r| r.line <= from)..rows.partition_point(|r| r.line < to)];
        let replaced = between.iter().any(|r| r.row.terminating() || r.row.ip != nearest.row.ip)
            || self.facts.commands_between(from, to).any(|c| {
                let w = c.words();
                w.contains(&"delete") && (w.contains(&pod) || w.iter().any(|x| x.ends_with(&format!("/{pod}")) || *x == "--all"))
                    || is_mutating(&w) && w.iter().any(|x| x.contains("statefulset") || *x == "sts" || x.starts_with("sts/"))
            });
        if replaced {
            return Err(format!("{pod} may have been replaced between the lookup and its IP (line {})", nearest.line));
        }
        Ok((nearest.row.ip.unwrap_or_default().to_owned(), nearest.line))
    }

    /// The IPs of the set's Running and Ready pods in the wide listing nearest to `line`.
    fn ready_ips_near(&self, line: usize) -> BTreeSet<String> {
        let Some(nearest) = nearest(&self.with_ip, line) else {
            return BTreeSet::new();
        };
        let session = nearest.session;
        let bound = nearest.line.max(line);
        // Rows are in line order, so a session's rows are one run.
        let start = self.pods.partition_point(|r| r.session < session);
        let mut last: BTreeMap<&str, &SourcedRow<'_>> = BTreeMap::new();
        for r in self.pods[start..].iter().take_while(|r| r.session == session && r.line <= bound) {
            last.insert(r.row.name, r);
        }
        last.values()
            .filter(|r| r.row.all_ready() && r.row.status == "Running")
            .filter_map(|r| r.row.ip.map(str::to_owned))
            .collect()
    }

    /// The set's pods in each listing (a snapshot), by session: ordinal → row.
    fn listings(&self) -> Vec<BTreeMap<u32, &'a SourcedRow<'a>>> {
        let mut by_session: BTreeMap<usize, BTreeMap<u32, &SourcedRow<'_>>> = BTreeMap::new();
        for r in self.pods.iter().filter(|r| r.listing && !r.row.terminating()) {
            if let Some(k) = ordinal_of(r.row.name, self.set) {
                by_session.entry(r.session).or_default().insert(k, r);
            }
        }
        by_session.into_values().collect()
    }

    fn stable_identity(&self) -> Option<Finding> {
        let check = CheckName::StableIdentity;
        let seen: Vec<_> = self
            .session
            .hostnames_by_set
            .get(self.set)
            .into_iter()
            .flatten()
            .map(|i| &self.facts.hostnames[*i])
            .filter(|h| self.is_pod(&h.pod))
            .collect();
        let mut lines: Vec<usize> = seen.iter().map(|h| h.line).collect();
        if let Some(h) = seen.iter().find(|h| h.printed != h.pod) {
            return Some(Finding::new(
                check,
                Verdict::Fail,
                format!("hostname in {} printed {} (line {})", h.pod, h.printed, h.line),
                lines,
            ));
        }
        let mut parts = Vec::new();
        if !seen.is_empty() {
            let list: Vec<String> = seen.iter().map(|h| format!("{} (line {})", h.printed, h.line)).collect();
            parts.push(format!("each pod's hostname is its name: {}", list.join(", ")));
        }
        // Snapshots: ordinals from 0 with no gap, created in ordinal order by their AGEs. They
        // confirm the naming; a gap or another order proves nothing (a pod may be being
        // replaced), so they never fail.
        for listing in self.listings() {
            let ordinals: Vec<u32> = listing.keys().copied().collect();
            if ordinals.len() < 2 || ordinals.iter().enumerate().any(|(i, k)| *k != i as u32) {
                continue;
            }
            let rows: Vec<&&SourcedRow<'_>> = listing.values().collect();
            let aged = rows.windows(2).all(|w| matches!((w[0].row.age, w[1].row.age), (Some(a), Some(b)) if a.lo >= b.hi));
            let names: Vec<&str> = rows.iter().map(|r| r.row.name).collect();
            let first = rows[0].line;
            let last = rows[rows.len() - 1].line;
            lines.extend([first, last]);
            parts.push(format!(
                "lines {first}-{last} list {} with no gap from ordinal 0{}",
                names.join(", "),
                if aged { ", their AGEs falling with the ordinal: created in ordinal order" } else { "" }
            ));
            break;
        }
        if parts.is_empty() {
            return None;
        }
        Some(Finding::new(check, Verdict::Pass, parts.join("; "), lines))
    }

    /// Snapshots before and after pods went away: the highest ordinals went, the others kept
    /// their IP and restart count and did not get younger. A snapshot cannot tell a scale-down
    /// from a replacement under way, nor see a pod replaced between two listings if it did not
    /// get younger than it was, so this confirms or is inconclusive; it never fails.
    fn survivors_unchanged(&self) -> Option<Finding> {
        let check = CheckName::SurvivorsUnchanged;
        let listings = self.listings();
        let deletions: Vec<usize> = self.removals().iter().filter(|(_, r)| r.is_none()).map(|(l, _)| *l).collect();
        for pair in listings.windows(2) {
            let (before, after) = (&pair[0], &pair[1]);
            let (Some(b0), Some(a0)) = (before.values().next(), after.values().next()) else { continue };
            if deletions.iter().any(|d| *d > b0.line && *d < a0.line) || after.len() >= before.len() || after.is_empty() {
                continue;
            }
            if !after.keys().all(|k| before.contains_key(k)) {
                continue;
            }
            let lines = vec![b0.line, a0.line];
            let kept: Vec<u32> = after.keys().copied().collect();
            let lowest = kept.iter().enumerate().all(|(i, k)| *k == i as u32);
            let removed: Vec<String> =
                before.keys().filter(|k| !after.contains_key(k)).map(|k| format!("{}-{k}", self.set)).collect();
            if !lowest {
                return Some(Finding::new(
                    check,
                    Verdict::Inconclusive,
                    format!(
                        "between the listings at lines {} and {} {} went away but not the highest ordinals: a snapshot cannot tell a scale-down from a replacement under way",
                        b0.line,
                        a0.line,
                        removed.join(", ")
                    ),
                    lines,
                ));
            }
            let mut changed = Vec::new();
            for (k, a) in after {
                let b = before[k];
                if b.row.ip.is_some() && a.row.ip.is_some() && b.row.ip != a.row.ip {
                    changed.push(format!("{} changed IP (line {} to line {})", a.row.name, b.line, a.line));
                } else if a.row.restarts > b.row.restarts {
                    changed.push(format!("{} restarted (line {} to line {})", a.row.name, b.line, a.line));
                } else if matches!((b.row.age, a.row.age), (Some(x), Some(y)) if y.hi <= x.lo) {
                    changed.push(format!("{} is younger at line {} than at line {}", a.row.name, a.line, b.line));
                }
            }
            if let Some(first) = changed.first() {
                return Some(Finding::new(
                    check,
                    Verdict::Inconclusive,
                    format!("{first}: it may have been replaced between the two listings, which the transcript does not show"),
                    lines,
                ));
            }
            let names: Vec<String> = kept.iter().map(|k| format!("{}-{k}", self.set)).collect();
            return Some(Finding::new(
                check,
                Verdict::Pass,
                format!(
                    "between the listings at lines {} and {} {} went away and {} stayed with the same IPs, no restart, and no younger",
                    b0.line,
                    a0.line,
                    removed.join(", "),
                    names.join(", ")
                ),
                lines,
            ));
        }
        None
    }

    /// `curl`/`wget` of a pod of the set, by its IP or its DNS name, and what it printed.
    fn pod_http(&self) -> Option<Finding> {
        let check = CheckName::PodHttp;
        let mut passes = Vec::new();
        let mut unknown = Vec::new();
        let mut lines = Vec::new();
        for &i in &self.session.fetching {
            let c = &self.facts.commands[i];
            let words = c.words();
            let Some(at) = words.iter().position(|w| matches!(*w, "curl" | "wget")) else { continue };
            let Some(target) = words[at + 1..].iter().find(|w| !w.starts_with('-')) else { continue };
            let host = target.trim_start_matches("http://").split(['/', ':']).next().unwrap_or_default();
            let pod = if host.parse::<std::net::IpAddr>().is_ok() {
                self.pod_with_ip_near(host, c.line)
            } else {
                host.split('.').next().filter(|p| self.is_pod(p)).map(|p| (p.to_owned(), None))
            };
            let Some((pod, ip_line)) = pod else { continue };
            let end = self.facts.commands.get(i + 1).map_or(self.session.lines.len(), |n| n.line - 1);
            let output: Vec<&str> =
                self.session.lines[c.line.min(end)..end].iter().map(|l| l.trim()).filter(|l| !l.is_empty()).take(50).collect();
            lines.push(c.line);
            lines.extend(ip_line);
            let via = ip_line.map(|l| format!(", {pod}'s IP at line {l}")).unwrap_or_default();
            let failed = [
                "curl: (",
                "Failed to connect",
                "Could not resolve",
                "can't connect",
                "Connection refused",
                "timed out",
                "bad address",
            ];
            match output.first() {
                Some(first) if !output.iter().any(|l| failed.iter().any(|f| l.contains(f))) => {
                    lines.push(c.line + 1);
                    passes.push(format!("{target} (line {}{via}) answered: {first}", c.line));
                }
                Some(first) => unknown.push(format!("{target} (line {}{via}) did not answer: {first}", c.line)),
                None => {}
            }
        }
        if let Some(first) = unknown.first() {
            return Some(Finding::new(
                check,
                Verdict::Inconclusive,
                format!("{first} (the pod may not have been serving yet)"),
                lines,
            ));
        }
        (!passes.is_empty()).then(|| Finding::new(check, Verdict::Pass, passes.join("; "), lines))
    }

    /// The pod of the set `-o wide` printed with `ip` nearest to `line`.
    fn pod_with_ip_near(&self, ip: &str, line: usize) -> Option<(String, Option<usize>)> {
        self.pods
            .iter()
            .filter(|r| r.row.ip == Some(ip))
            .min_by_key(|r| r.line.abs_diff(line))
            .map(|r| (r.row.name.to_owned(), Some(r.line)))
    }

    /// Pods with generated names beside the set's ordinal names. Confirms; never fails.
    fn deployment_contrast(&self) -> Option<Finding> {
        let first = self.pods.first()?;
        let (name, line) = self.session.generated.first()?;
        let deployment = replica_set_pod(name).unwrap_or_default();
        let with_ip: Vec<String> = self
            .facts
            .services
            .iter()
            .filter(|s| s.cluster_ip != "None" && s.kind == "ClusterIP" && s.name != "kubernetes")
            .map(|s| format!("{} has cluster IP {} (line {})", s.name, s.cluster_ip, s.line))
            .collect();
        let services = if with_ip.is_empty() { String::new() } else { format!("; Service {}", with_ip.join(", ")) };
        Some(Finding::new(
            CheckName::DeploymentContrast,
            Verdict::Pass,
            format!(
                "{}'s pods are named by ordinal ({}, line {}); {name} (line {line}) has the generated name of a Deployment {deployment}'s ReplicaSet{services}",
                self.set, first.row.name, first.line
            ),
            vec![first.line, *line],
        ))
    }

    fn pvc_naming(&self) -> Option<Finding> {
        let check = CheckName::PvcNaming;
        if self.claims.is_empty() {
            return None;
        }
        let mut lines: Vec<usize> = self.claims.iter().map(|(.., r)| r.line).collect();
        let mut failures = Vec::new();
        // One volume, one claim, within a listing.
        let mut by_volume: BTreeMap<(usize, &str), Vec<&ClaimRow>> = BTreeMap::new();
        for (.., row) in &self.claims {
            if let Some(v) = &row.volume {
                by_volume.entry((row.table, v.as_str())).or_default().push(row);
            }
        }
        for ((_, volume), rows) in &by_volume {
            if rows.len() > 1 {
                let names: Vec<String> = rows.iter().map(|r| format!("{} (line {})", r.name, r.line)).collect();
                failures.push(format!("claims {} are bound to one volume {volume}", names.join(" and ")));
            }
        }
        // Every existing pod has its claims in a full listing.
        let tables: BTreeSet<usize> = self.claims.iter().map(|(.., c)| c.table).collect();
        // The set's pods as last shown before each table, swept in line order.
        let mut last: BTreeMap<&str, &SourcedRow<'_>> = BTreeMap::new();
        let mut next = 0;
        for table in tables {
            let Some(command_line) = self.full_listing(table) else { continue };
            let rows = self.facts.claims_of_table(table);
            let table_line = rows.first().map_or(command_line, |c| c.line);
            let listed: BTreeSet<&str> = rows.iter().map(|c| c.name.as_str()).collect();
            while next < self.pods.len() && self.pods[next].line < table_line {
                last.insert(self.pods[next].row.name, self.pods[next]);
                next += 1;
            }
            for (pod, row) in last.iter().filter(|(_, r)| !r.row.terminating()) {
                if self.changed_between(row.line, command_line) {
                    continue;
                }
                for t in &self.templates {
                    let expected = format!("{t}-{pod}");
                    if !listed.contains(expected.as_str()) {
                        lines.extend([row.line, command_line]);
                        failures.push(format!(
                            "{pod} existed (line {}) but the claim listing at line {command_line} has no {expected}",
                            row.line
                        ));
                    }
                }
            }
        }
        // Both sides of a binding: the volume a Bound claim names, printed in the same output,
        // names that claim back.
        let mut confirmed: BTreeMap<&str, usize> = BTreeMap::new();
        for (.., row) in &self.claims {
            let Some(volume) = &row.volume else { continue };
            let command = self.facts.command_before(row.line).map(|c| c.line);
            for v in self.facts.volumes.iter().filter(|v| v.name == *volume && v.status == "Bound") {
                let Some(claim) = v.claim.as_deref().and_then(|c| c.split_once('/')).map(|(_, n)| n) else { continue };
                if claim == row.name {
                    lines.push(v.line);
                    confirmed.entry(row.name.as_str()).or_insert(v.line);
                } else if command.is_some() && self.facts.command_before(v.line).map(|c| c.line) == command {
                    lines.extend([row.line, v.line]);
                    failures.push(format!(
                        "claim {} is bound to {volume} (line {}) but {volume} is bound to {claim} in the same output (line {})",
                        row.name, row.line, v.line
                    ));
                }
            }
        }
        if let Some(first) = failures.first() {
            let more = if failures.len() > 1 { format!(" (and {} more)", failures.len() - 1) } else { String::new() };
            return Some(Finding::new(check, Verdict::Fail, format!("{first}{more}"), lines));
        }
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for (.., row) in &self.claims {
            names.insert(row.name.as_str(), row.status.as_str());
        }
        let list: Vec<String> = names.iter().map(|(n, s)| format!("{n} ({s})")).collect();
        let binding = if confirmed.is_empty() {
            String::new()
        } else {
            let named: Vec<String> = confirmed.iter().map(|(c, l)| format!("{c} (line {l})")).collect();
            format!("; each volume listed names its claim back: {}", named.join(", "))
        };
        Some(Finding::new(
            check,
            Verdict::Pass,
            format!("each pod's claim is named <template>-<pod>: {}{binding}", list.join(", ")),
            lines,
        ))
    }

    /// Scale-downs and deletions of the set: (line, `Some(replicas)` or `None` for a deletion).
    fn removals(&self) -> &[(usize, Option<u32>)] {
        &self.removals
    }

    fn find_removals(set: &str, facts: &Facts, scaling: &[usize]) -> Vec<(usize, Option<u32>)> {
        let mut out = Vec::new();
        let set_word = |w: &str| matches!(w, "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps");
        for c in scaling.iter().map(|i| &facts.commands[*i]).filter(|c| c.text.contains(set)) {
            let w = c.words();
            let names_set = w.iter().any(|x| *x == set || x.strip_suffix(set).is_some_and(|r| r.ends_with('/')));
            let about_sets = w.iter().any(|x| set_word(x) || x.split('/').next().is_some_and(set_word));
            if w.contains(&"scale") && names_set && about_sets {
                let replicas = w.iter().enumerate().find_map(|(i, x)| {
                    x.strip_prefix("--replicas=")
                        .map(str::to_owned)
                        .or_else(|| (*x == "--replicas").then(|| w.get(i + 1).map(|v| (*v).to_owned())).flatten())
                });
                if let Some(n) = replicas.and_then(|r| r.parse().ok()) {
                    out.push((c.line, Some(n)));
                }
            }
        }
        for (kind, name, verb, line) in &facts.results {
            if kind.starts_with("statefulset") && name == set && verb == "deleted" {
                out.push((*line, None));
            }
        }
        out.sort_unstable();
        out
    }

    fn pvc_retention(&self) -> Option<Finding> {
        let check = CheckName::PvcRetention;
        if self.templates.is_empty() {
            return None;
        }
        let mut passes = Vec::new();
        let mut failures = Vec::new();
        let mut unknown = Vec::new();
        let mut lines = Vec::new();
        for &(at, replicas) in self.removals() {
            let case = match replicas {
                Some(n) => {
                    let before = self.pods.iter().filter(|r| r.line < at).filter_map(|r| ordinal_of(r.row.name, self.set)).max();
                    if before.is_none_or(|h| h < n) {
                        continue;
                    }
                    format!("the scale-down to {n} (line {at})")
                }
                None => format!("the deletion of the set (line {at})"),
            };
            let (policy, shown) = if replicas.is_some() {
                ("whenScaled: Delete", self.session.deletes_when_scaled)
            } else {
                ("whenDeleted: Delete", self.session.deletes_when_deleted)
            };
            if shown {
                unknown.push(format!("the session shows `{policy}`: the claims of {case} are not judged against Retain"));
                continue;
            }
            // Expected after: the claims listed before, since the set was last deleted (an
            // earlier set of the same name may have had other templates, or none), and the
            // claims of every pod of the set seen in that span, for the templates it shows.
            let since = self.removals().iter().filter(|(l, r)| r.is_none() && *l < at).map(|(l, _)| *l).max().unwrap_or(0);
            let mut expected: BTreeMap<String, usize> = BTreeMap::new();
            let mut templates = BTreeSet::new();
            for (t, _, row) in self.claims.iter().filter(|(.., r)| r.line > since && r.line < at) {
                expected.insert(row.name.clone(), row.line);
                templates.insert(t.as_str());
            }
            for r in self.pods.iter().filter(|r| r.line > since && r.line < at) {
                for t in &templates {
                    expected.entry(format!("{t}-{}", r.row.name)).or_insert(r.line);
                }
            }
            // The first full listing after, with no claim deleted in between.
            let after = self
                .facts
                .claim_tables
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_some_and(|c| c > at))
                .find_map(|(table, _)| self.full_listing(table).map(|c| (table, c)));
            let Some((table, command_line)) = after else { continue };
            let deletes_claims = self.facts.commands_between(at, command_line).any(|c| {
                let w = c.words();
                w.contains(&"delete")
                    && w.iter().any(|x| {
                        x.split(',').any(|k| {
                            matches!(k, "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" | "namespace" | "ns" | "all")
                        }) || x.starts_with("pvc/")
                    })
            });
            if deletes_claims {
                unknown.push(format!("claims were deleted by a command between {case} and the listing at line {command_line}"));
                continue;
            }
            let rows: BTreeMap<&str, &ClaimRow> =
                self.facts.claims_of_table(table).iter().map(|c| (c.name.as_str(), c)).collect();
            lines.push(at);
            for (name, since) in &expected {
                match rows.get(name.as_str()) {
                    None => {
                        lines.extend([*since, command_line]);
                        failures.push(format!(
                            "claim {name} (line {since}) is missing from the listing at line {command_line} after {case}"
                        ));
                    }
                    Some(row) => {
                        lines.push(row.line);
                        if let Some(earlier) = self.claims.iter().rev().find(|(.., r)| r.line < at && r.name == *name)
                            && let (Some(v0), Some(v1)) = (&earlier.2.volume, &row.volume)
                            && v0 != v1
                        {
                            failures.push(format!(
                                "claim {name} was bound to {v0} (line {}) and to {v1} after {case} (line {}): a new claim",
                                earlier.2.line, row.line
                            ));
                        }
                    }
                }
            }
            if !expected.is_empty() {
                passes.push(format!(
                    "after {case} the claims {} were still listed (line {command_line})",
                    expected.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if let Some(first) = failures.first() {
            let more = if failures.len() > 1 { format!(" (and {} more)", failures.len() - 1) } else { String::new() };
            return Some(Finding::new(check, Verdict::Fail, format!("{first}{more}"), lines));
        }
        if let Some(first) = unknown.first() {
            return Some(Finding::new(check, Verdict::Inconclusive, first.clone(), lines));
        }
        (!passes.is_empty()).then(|| {
            Finding::new(check, Verdict::Pass, format!("{} (the default retention policy, Retain)", passes.join("; ")), lines)
        })
    }

    fn reattach(&self) -> Option<Finding> {
        let check = CheckName::Reattach;
        let mentioned: Vec<&(String, usize)> = self
            .facts
            .claim_names
            .iter()
            .filter(|(name, _)| {
                self.templates
                    .iter()
                    .any(|t| name.strip_prefix(t.as_str()).and_then(|r| r.strip_prefix('-')).is_some_and(|p| self.is_pod(p)))
            })
            .collect();
        if mentioned.is_empty() {
            return None;
        }
        let mut lines: Vec<usize> = mentioned.iter().map(|(_, l)| *l).collect();
        let mut old = Vec::new();
        let mut unknown = Vec::new();
        for (name, line) in &mentioned {
            match self.claims.iter().find(|(.., r)| r.name == *name && r.line < *line) {
                Some((.., r)) => {
                    lines.push(r.line);
                    old.push(format!("{name} (listed at line {})", r.line));
                }
                None => {
                    unknown.push(format!("{name} (line {line}) was not listed before: whether it is an old claim is not shown"))
                }
            }
        }
        if let Some(first) = unknown.first() {
            return Some(Finding::new(check, Verdict::Inconclusive, first.clone(), lines));
        }
        Some(Finding::new(check, Verdict::Pass, format!("the pods mount their earlier claims: {}", old.join(", ")), lines))
    }

    fn static_shortage(&self) -> Option<Finding> {
        let check = CheckName::StaticShortage;
        let pending: Vec<&(String, String, &ClaimRow)> = self.claims.iter().filter(|(.., r)| r.status == "Pending").collect();
        let described: Vec<_> = self
            .facts
            .descriptions
            .iter()
            .filter(|d| self.claims.iter().any(|(.., r)| r.name == d.name) && d.status == "Pending")
            .collect();
        if pending.is_empty() && described.is_empty() {
            return None;
        }
        let mut lines: Vec<usize> = pending.iter().map(|(.., r)| r.line).collect();
        // A pod Running and Ready in the same output as its own Pending claim.
        for (_, pod, row) in &pending {
            let command = self.facts.command_before(row.line).map(|c| c.line);
            if let Some(p) = self.pods.iter().find(|r| {
                r.row.name == *pod
                    && r.row.all_ready()
                    && r.row.status == "Running"
                    && self.facts.command_before(r.line).map(|c| c.line) == command
                    && command.is_some()
            }) {
                lines.push(p.line);
                return Some(Finding::new(
                    check,
                    Verdict::Fail,
                    format!(
                        "{pod} is Running and Ready (line {}) while its claim {} is Pending (line {})",
                        p.line, row.name, row.line
                    ),
                    lines,
                ));
            }
        }
        let explained: Vec<String> = described
            .iter()
            .filter_map(|d| {
                let (_, line) = d.events.iter().find(|(reason, _)| reason == "ProvisioningFailed")?;
                lines.extend([d.line, *line]);
                Some(format!("{} is Pending with a ProvisioningFailed event (line {line})", d.name))
            })
            .collect();
        if explained.is_empty() {
            return Some(Finding::new(
                check,
                Verdict::Inconclusive,
                "a claim of the set is Pending and the session shows no event explaining it".to_owned(),
                lines,
            ));
        }
        Some(Finding::new(check, Verdict::Pass, explained.join("; "), lines))
    }
}
