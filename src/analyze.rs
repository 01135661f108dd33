//! `analyze`: judge a `kubectl get pods -w` transcript with the same checks as a live run.
//!
//! Each StatefulSet-like family of pods is judged in each session of the transcript (see
//! [`crate::transcript`]); a check's verdicts over the sessions combine into one: `fail` if any
//! session fails, else `inconclusive` if any is, else `pass` if any passes, else
//! `not-applicable`. Evidence is given as transcript line numbers.

use serde::Serialize;

use crate::{
    checks::{self, CheckName, Outcome, Policy, Verdict, Window},
    timeline::{Change, Event, PodObs},
    transcript::{Family, FamilyHistory, rules, session},
};

/// The checks a transcript can feed: they need only pod names, states and order.
pub const TRANSCRIPT_CHECKS: [CheckName; 4] =
    [CheckName::OrderedCreation, CheckName::ReverseTermination, CheckName::ReverseRollout, CheckName::ParallelBurst];

/// What to judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Judge only this family (StatefulSet name).
    pub statefulset: Option<String>,
    /// The pod management policy to assume.
    pub policy: Policy,
    /// Checks to judge besides the policy's default (ordered-creation for OrderedReady).
    pub expect: Vec<CheckName>,
}

/// Why a transcript cannot be analyzed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyzeError {
    /// A check was asked for that a transcript cannot feed.
    #[error("--expect {0}: a pod transcript holds only pod names, states and their order; checks it can judge: {list}", list = TRANSCRIPT_CHECKS.map(CheckName::as_str).join(", "))]
    UnsupportedCheck(CheckName),
    /// `--statefulset` names a set the transcript shows nothing of.
    #[error("--statefulset {name}: the transcript shows no pod, claim or StatefulSet row of {name}{}", if seen.is_empty() { String::new() } else { format!(" (it shows {})", seen.join(", ")) })]
    NoSuchSet {
        /// The name asked for.
        name: String,
        /// The sets the transcript does show.
        seen: Vec<String>,
    },
    /// The input holds kubectl output, but no pod, claim or StatefulSet of any set.
    #[error(
        "no StatefulSet found: no pod named <set>-<ordinal> (an ordinal is at most 2147483647), claim or StatefulSet row in the {0} lines read"
    )]
    NoSets(usize),
    /// No line of the input is a `kubectl get pods` row.
    #[error(
        "no kubectl output found ({0} lines read): expected a terminal session or `kubectl get pods -w` output (pod, claim, volume, service or StatefulSet tables, nslookup answers, hostname outputs)"
    )]
    NoRows(usize),
}

/// One check's combined verdict for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The check.
    pub check: CheckName,
    /// Combined verdict.
    pub verdict: Verdict,
    /// Transcript lines that prove it, ascending.
    pub lines: Vec<usize>,
    /// What the check found, with line numbers.
    pub detail: String,
}

/// What the transcript shows a family doing, whatever the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// Pods created during a session.
    pub created: usize,
    /// Pods that began terminating during a session.
    pub terminated: usize,
    /// Most pods created and not yet Running and Ready at one time.
    pub max_starting_together: usize,
    /// Most pods terminating at one time.
    pub max_terminating_together: usize,
}

/// The verdicts for one family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyReport {
    /// StatefulSet name.
    pub name: String,
    /// Namespace, when the transcript shows one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its pods, by ordinal.
    pub pods: Vec<String>,
    /// Lines of the sessions it appears in.
    pub sessions: Vec<usize>,
    /// What it did.
    pub observed: Observed,
    /// The checks, in the order asked.
    pub checks: Vec<CheckReport>,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per family.
    pub statefulsets: Vec<FamilyReport>,
    /// Lines read as nothing: not pod rows, not pod-table headers, not the rest of a session
    /// (commands, other tables, nslookup answers, hostnames, `describe pvc`, kubectl's results).
    pub skipped_lines: Vec<usize>,
}

impl Report {
    /// Whether any check failed.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.statefulsets.iter().flat_map(|s| &s.checks).any(|c| c.verdict == Verdict::Fail)
    }
}

/// The checks judged under `options`.
///
/// # Errors
/// When a requested check cannot be judged from a transcript.
pub fn checks_for(options: &Options) -> Result<Vec<CheckName>, AnalyzeError> {
    let mut list = Vec::new();
    if options.policy == Policy::Ordered {
        list.push(CheckName::OrderedCreation);
    }
    for check in &options.expect {
        if !TRANSCRIPT_CHECKS.contains(check) {
            return Err(AnalyzeError::UnsupportedCheck(*check));
        }
        if !list.contains(check) {
            list.push(*check);
        }
    }
    Ok(list)
}

/// Analyzes transcript `text`.
///
/// # Errors
/// When a requested check cannot be judged from a transcript, or the text holds no pod row.
pub fn transcript(text: &str, options: &Options) -> Result<Report, AnalyzeError> {
    let checks = checks_for(options)?;
    // The pod rows and the rest of the session are read from the same text independently:
    // on two threads, so a long transcript costs the longer of the two, not their sum.
    let (parsed, facts) = std::thread::scope(|scope| {
        let facts = scope.spawn(|| session::parse(text));
        let parsed = crate::transcript::parse(text);
        (parsed, facts.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
    });
    if parsed.rows.is_empty() && facts.is_empty() {
        return Err(AnalyzeError::NoRows(text.lines().count()));
    }
    let session = rules::Session::new(&parsed, &facts, text);
    // The families' rows, grouped once (when every family is judged).
    let mut grouped = options.statefulset.is_none().then(|| parsed.rows_by_family());
    // Which families are judged, before any history is built.
    let families: Vec<Family> = match &options.statefulset {
        // A name the user gives is judged even when no family-like name matched it, as long
        // as the session shows something of it.
        Some(name) => {
            let all = parsed.families();
            let mut found: Vec<Family> = all.iter().filter(|f| &f.name == name).cloned().collect();
            if found.is_empty() {
                found.push(Family { namespace: None, name: name.clone() });
            }
            if !found.iter().any(|f| parsed.shows(f)) && !session.mentions(name) {
                let mut seen: Vec<String> = all.into_iter().map(|f| f.name).collect();
                seen.extend(facts.sets.iter().map(|s| s.name.clone()));
                seen.sort();
                seen.dedup();
                return Err(AnalyzeError::NoSuchSet { name: name.clone(), seen });
            }
            found
        }
        None => {
            let mut all: Vec<Family> = grouped.iter().flat_map(|g| g.keys().cloned()).collect();
            // Sets the session shows only as StatefulSet rows or through their claims.
            for name in facts.sets.iter().map(|s| &s.name) {
                if !all.iter().any(|f| &f.name == name) {
                    all.push(Family { namespace: None, name: name.clone() });
                }
            }
            all.sort();
            all
        }
    };
    if families.is_empty() {
        return Err(AnalyzeError::NoSets(text.lines().count()));
    }
    let only_set = families.len() == 1;
    // The session's findings first, and the lines nothing read: then the session's indexes
    // are freed before the histories are built, and the rows before the checks replay them
    // (the rows, the histories and the indexes are most of a long transcript's memory).
    let session_findings: Vec<Vec<rules::Finding>> =
        families.iter().map(|family| rules::judge(&family.name, only_set, &session)).collect();
    let mut read = facts.read.iter().peekable();
    let skipped_lines = parsed
        .skipped
        .iter()
        .copied()
        .filter(|line| {
            while read.next_if(|r| **r < *line).is_some() {}
            read.peek().is_none_or(|r| **r != *line)
        })
        .collect();
    drop(session);
    drop(facts);
    let histories: Vec<Vec<FamilyHistory>> = families
        .iter()
        .map(|family| match grouped.as_mut().and_then(|g| g.remove(family)) {
            Some(rows) => parsed.histories_of(&rows),
            None => parsed.histories(family),
        })
        .collect();
    drop(grouped);
    drop(parsed);
    let statefulsets = families
        .iter()
        .zip(histories)
        .zip(session_findings)
        .map(|((family, histories), findings)| {
            let mut report = judge_family(family, &histories, &checks, options.policy);
            report.checks.extend(findings.into_iter().map(|f| CheckReport {
                check: f.check,
                verdict: f.verdict,
                lines: f.lines,
                detail: f.detail,
            }));
            report
        })
        .collect();
    Ok(Report { statefulsets, skipped_lines })
}

fn judge_family(family: &Family, histories: &[FamilyHistory], checks: &[CheckName], policy: Policy) -> FamilyReport {
    let observing = || {
        let mut observed = Observed::default();
        for history in histories {
            observe(history, &family.name, &mut observed);
        }
        (observed, pods_of(histories, &family.name))
    };
    let judging = || -> Vec<CheckReport> {
        checks
            .iter()
            .map(|check| {
                let outcomes: Vec<(&FamilyHistory, Outcome)> =
                    histories.iter().map(|h| (h, checks::evaluate(*check, &window(h, &family.name, policy)))).collect();
                combine(*check, &outcomes, &family.name)
            })
            .collect()
    };
    // A long history is read on a second thread while the checks replay it (both only read);
    // a short one is not worth a thread (a transcript may hold thousands of families).
    let entries: usize = histories.iter().map(|h| h.timeline.len()).sum();
    let ((observed, pods), checks) = if entries < 50_000 {
        (observing(), judging())
    } else {
        std::thread::scope(|scope| {
            let observed = scope.spawn(observing);
            let checks = judging();
            (observed.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), checks)
        })
    };
    FamilyReport {
        name: family.name.clone(),
        namespace: family.namespace.clone(),
        pods,
        sessions: histories.iter().map(|h| h.session_line).collect(),
        observed,
        checks,
    }
}

/// The pod names in `histories`, by ordinal.
fn pods_of(histories: &[FamilyHistory], target: &str) -> Vec<String> {
    let mut pods: foldhash::HashMap<u32, &str> = foldhash::HashMap::default();
    for entry in histories.iter().flat_map(|h| &h.timeline.entries) {
        if let Event::Pod { pod, .. } = &entry.event
            && let Some(ordinal) = pod.ordinal_in(target)
        {
            pods.entry(ordinal).or_insert(&pod.name);
        }
    }
    let mut pods: Vec<(u32, &str)> = pods.into_iter().collect();
    pods.sort_unstable();
    pods.into_iter().map(|(_, name)| name.to_owned()).collect()
}

/// One session of one family, ready to draw: its history, the transcript line of each entry,
/// and the outcome of each check judged on it.
#[derive(Debug, Clone)]
pub struct Drawing {
    /// The family (StatefulSet name).
    pub family: String,
    /// The transcript line the session starts at.
    pub session_line: usize,
    /// The history read from the session.
    pub timeline: crate::timeline::Timeline,
    /// `lines[seq]` is the transcript line entry `seq` comes from.
    pub lines: Vec<usize>,
    /// Each check's outcome on this session (evidence names entries of `timeline`).
    pub outcomes: Vec<Outcome>,
}

/// The sessions of a transcript, each with its checks judged, for drawing (`analyze --html`).
/// The pod rows only: the session findings that cite lines rather than entries are in the
/// text and JSON reports.
///
/// # Errors
/// As [`transcript`]: a check a transcript cannot feed, no pod rows, no such StatefulSet.
pub fn drawings(text: &str, options: &Options) -> Result<Vec<Drawing>, AnalyzeError> {
    let checks = checks_for(options)?;
    let parsed = crate::transcript::parse(text);
    if parsed.rows.is_empty() {
        return Err(AnalyzeError::NoRows(text.lines().count()));
    }
    let all = parsed.families();
    let families: Vec<&Family> = all.iter().filter(|f| options.statefulset.as_ref().is_none_or(|n| &f.name == n)).collect();
    if let Some(name) = options.statefulset.as_ref().filter(|_| families.is_empty()) {
        return Err(AnalyzeError::NoSuchSet { name: name.clone(), seen: all.iter().map(|f| f.name.clone()).collect() });
    }
    let mut out = Vec::new();
    for family in families {
        for history in parsed.histories(family) {
            let outcomes = checks.iter().map(|c| checks::evaluate(*c, &window(&history, &family.name, options.policy))).collect();
            out.push(Drawing {
                family: family.name.clone(),
                session_line: history.session_line,
                timeline: history.timeline,
                lines: history.lines,
                outcomes,
            });
        }
    }
    Ok(out)
}

fn window<'a>(history: &'a FamilyHistory, target: &'a str, policy: Policy) -> Window<'a> {
    Window {
        timeline: &history.timeline,
        range: history.start..history.timeline.len(),
        target,
        namespace: "",
        cluster_domain: "cluster.local",
        expect_body: None,
        default_policy: policy,
        ended_early: false,
        ended_at_ms: None,
    }
}

/// Counts creations and terminations, and the most of each under way at once.
///
/// The pods starting and terminating are counted once, then kept up to date as each entry
/// changes one pod: linear in the history. Each pod's latest state is borrowed from its entry
/// (what a [`crate::timeline::View`] holds, without copying a name per line).
fn observe(history: &FamilyHistory, target: &str, observed: &mut Observed) {
    /// (starting, terminating) as 0 or 1.
    fn counts(pod: &PodObs) -> (usize, usize) {
        (usize::from(!pod.terminating && !pod.running_and_ready()), usize::from(pod.terminating))
    }
    let entries = &history.timeline.entries;
    let mut pods: foldhash::HashMap<&str, &PodObs> = foldhash::HashMap::default();
    /// Applies one pod entry; the pod's state before it.
    fn put<'h>(pods: &mut foldhash::HashMap<&'h str, &'h PodObs>, change: Change, pod: &'h PodObs) -> Option<&'h PodObs> {
        if change == Change::Deleted { pods.remove(pod.name.as_ref()) } else { pods.insert(pod.name.as_ref(), pod) }
    }
    for entry in &entries[..history.start.min(entries.len())] {
        if let Event::Pod { change, pod } = &entry.event {
            put(&mut pods, *change, pod);
        }
    }
    let (mut starting, mut terminating) = pods.values().map(|p| counts(p)).fold((0, 0), |(s, t), (ds, dt)| (s + ds, t + dt));
    for entry in entries.get(history.start..).unwrap_or_default() {
        let Event::Pod { change, pod } = &entry.event else { continue };
        let old = put(&mut pods, *change, pod);
        if pod.ordinal_in(target).is_some() {
            if *change == Change::Added && old.is_none_or(|o| o.uid != pod.uid) {
                observed.created += 1;
            }
            if pod.terminating && !old.is_some_and(|o| o.terminating && o.uid == pod.uid) {
                observed.terminated += 1;
            }
        }
        if let Some((s, t)) = old.map(counts) {
            starting -= s;
            terminating -= t;
        }
        if *change != Change::Deleted {
            let (s, t) = counts(pod);
            starting += s;
            terminating += t;
        }
        observed.max_starting_together = observed.max_starting_together.max(starting);
        observed.max_terminating_together = observed.max_terminating_together.max(terminating);
    }
}

/// The combined verdict of one check over the sessions.
fn combine(check: CheckName, outcomes: &[(&FamilyHistory, Outcome)], target: &str) -> CheckReport {
    let rank = |v: Verdict| match v {
        Verdict::Fail => 3,
        Verdict::Inconclusive | Verdict::Skipped => 2,
        Verdict::Pass => 1,
        Verdict::NotApplicable => 0,
    };
    let Some(verdict) = outcomes.iter().map(|(_, o)| o.verdict).max_by_key(|v| rank(*v)) else {
        return CheckReport {
            check,
            verdict: Verdict::NotApplicable,
            lines: vec![],
            detail: format!("no pod named {target}-<ordinal> appears in the transcript"),
        };
    };
    let deciding: Vec<&(&FamilyHistory, Outcome)> = outcomes.iter().filter(|(_, o)| o.verdict == verdict).collect();
    let mut lines: Vec<usize> =
        deciding.iter().flat_map(|(h, o)| o.evidence.iter().filter_map(|seq| h.lines.get(*seq).copied())).collect();
    lines.sort_unstable();
    lines.dedup();
    let details: Vec<String> =
        deciding.iter().map(|(h, o)| with_lines(&o.detail, &h.lines).replace("in this window", "in this session")).collect();
    let detail = if details.windows(2).all(|w| w[0] == w[1]) {
        let plural = if deciding.len() > 1 { format!(" (in each of {} sessions)", deciding.len()) } else { String::new() };
        format!("{}{plural}", details[0])
    } else {
        let parts: Vec<String> =
            deciding.iter().zip(&details).map(|((h, _), d)| format!("session at line {}: {d}", h.session_line)).collect();
        parts.join("; ")
    };
    CheckReport { check, verdict, lines, detail }
}

/// Rewrites the entry references (`#12`) of a check's detail as transcript lines (`line 40`).
fn with_lines(detail: &str, lines: &[usize]) -> String {
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        let seq: Option<usize> = rest[at + 1..at + 1 + digits].parse().ok();
        match seq.and_then(|s| lines.get(s)) {
            Some(line) => out.push_str(&format!("line {line}")),
            None => out.push_str(&rest[at..at + 1 + digits]),
        }
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    out
}

/// Renders a report for people.
#[must_use]
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    for set in &report.statefulsets {
        let name = match &set.namespace {
            Some(ns) => format!("{ns}/{}", set.name),
            None => set.name.clone(),
        };
        let sessions: Vec<String> = set.sessions.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "{name}: pods {} (sessions at lines {})\n",
            if set.pods.is_empty() { "none".to_owned() } else { set.pods.join(", ") },
            if sessions.is_empty() { "-".to_owned() } else { sessions.join(", ") }
        ));
        for c in &set.checks {
            let lines = if c.lines.is_empty() { String::new() } else { format!(" [lines {}]", ranges(&c.lines)) };
            out.push_str(&format!("  {:20} {:15} {}{lines}\n", c.check.as_str(), c.verdict.as_str().to_uppercase(), c.detail));
        }
        let o = &set.observed;
        out.push_str(&format!(
            "  observed: {} created, {} terminated; at most {} starting and {} terminating at once\n",
            o.created, o.terminated, o.max_starting_together, o.max_terminating_together
        ));
    }
    if !report.skipped_lines.is_empty() {
        out.push_str(&format!(
            "skipped {} lines that are not kubectl output: {}\n",
            report.skipped_lines.len(),
            ranges(&report.skipped_lines)
        ));
    }
    out
}

/// `1, 2, 3, 7` → `1-3, 7`.
fn ranges(numbers: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_references_become_lines() {
        assert_eq!(
            with_lines("web-1 was created (#2) while web-0 (#1)", &[10, 11, 12]),
            "web-1 was created (line 12) while web-0 (line 11)"
        );
        assert_eq!(with_lines("see #9 and #x", &[1]), "see #9 and #x");
    }

    #[test]
    fn ranges_compress() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn checks_needing_more_than_pods_are_refused() {
        let options = Options { expect: vec![CheckName::Dns], ..Options::default() };
        assert_eq!(checks_for(&options), Err(AnalyzeError::UnsupportedCheck(CheckName::Dns)));
        let parallel = Options { policy: Policy::Parallel, ..Options::default() };
        assert_eq!(checks_for(&parallel), Ok(vec![]));
    }
}
