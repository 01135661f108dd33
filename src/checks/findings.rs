//! What an end-state check found wrong, kept in two kinds: what contradicts the claim whenever
//! it is seen, and what only a settled cluster must show.
//!
//! A step that ended before its condition held ([`Window::ended_early`]: a wait that timed
//! out, an interrupted run, a failed action) shows where the harness stopped watching, not where
//! the controllers stopped. A pod named wrongly there is still named wrongly; a pod, claim or
//! deletion *missing* there may only not have happened yet — a missing scheduler, a slow
//! provisioner, a node that cannot pull an image leave a conformant StatefulSet controller
//! exactly so. Such shortfalls are failures only when the step's condition held, and make the
//! verdict inconclusive otherwise.
//!
//! A third kind is what the harness could not find out: a probe that could not run (the exec
//! refused, the probe pod not running) says nothing about the claim, so it makes the verdict
//! inconclusive, never failed.

use super::{CheckName, Outcome, Verdict, Window};

/// Violations and shortfalls, turned into one [`Outcome`] (or none, when nothing was found).
#[derive(Debug, Default)]
pub(super) struct Findings {
    /// Contradicts the claim however long one waits, with the entries that show it.
    violations: Vec<(String, Vec<usize>)>,
    /// An end state not reached; more time could have reached it.
    shortfalls: Vec<(String, Vec<usize>)>,
    /// Evidence the harness could not gather.
    unknowns: Vec<(String, Vec<usize>)>,
}

impl Findings {
    /// Something the controller did that the claim rules out.
    pub(super) fn violation(&mut self, detail: impl Into<String>, evidence: Vec<usize>) {
        self.violations.push((detail.into(), evidence));
    }

    /// Something a settled cluster must show and the window's end does not.
    pub(super) fn shortfall(&mut self, detail: impl Into<String>, evidence: Vec<usize>) {
        self.shortfalls.push((detail.into(), evidence));
    }

    /// Something the harness meant to observe and could not (a probe that did not run).
    pub(super) fn unknown(&mut self, detail: impl Into<String>, evidence: Vec<usize>) {
        self.unknowns.push((detail.into(), evidence));
    }

    /// Whether nothing was found yet.
    pub(super) fn is_empty(&self) -> bool {
        self.violations.is_empty() && self.shortfalls.is_empty() && self.unknowns.is_empty()
    }

    /// `Fail` on any violation; on shortfalls, `Fail` when the window's step reached its
    /// condition and `Inconclusive` when it ended early; `Inconclusive` on anything unknown;
    /// `None` when nothing was found.
    pub(super) fn outcome(self, check: CheckName, window: &Window<'_>) -> Option<Outcome> {
        if !self.violations.is_empty() {
            return Some(summarize(check, Verdict::Fail, "", &self.violations));
        }
        if !self.shortfalls.is_empty() {
            return Some(if window.ended_early {
                summarize(
                    check,
                    Verdict::Inconclusive,
                    "the step ended before its condition held, so its end state cannot be judged: ",
                    &self.shortfalls,
                )
            } else {
                summarize(check, Verdict::Fail, "", &self.shortfalls)
            });
        }
        if !self.unknowns.is_empty() {
            return Some(summarize(check, Verdict::Inconclusive, "not observed: ", &self.unknowns));
        }
        None
    }
}

/// `Fail` on the first of `violations` in full with a count of the others and every
/// violation's evidence (as [`Findings::outcome`] words it); `None` when there are none — for
/// checks that keep their findings in order as they replay a history.
pub(super) fn failed(check: CheckName, violations: &[(String, Vec<usize>)]) -> Option<Outcome> {
    (!violations.is_empty()).then(|| summarize(check, Verdict::Fail, "", violations))
}

/// `Pass` on every one of `proofs`, joined with `; `, with all their evidence; `None` when there
/// are none.
pub(super) fn proven(check: CheckName, proofs: &[(String, Vec<usize>)]) -> Option<Outcome> {
    if proofs.is_empty() {
        return None;
    }
    let detail: Vec<&str> = proofs.iter().map(|(d, _)| d.as_str()).collect();
    let evidence = proofs.iter().flat_map(|(_, e)| e.iter().copied()).collect();
    Some(Outcome::new(check, Verdict::Pass, detail.join("; "), evidence))
}

/// The first finding in full, a count of the others, and every finding's evidence.
fn summarize(check: CheckName, verdict: Verdict, preface: &str, found: &[(String, Vec<usize>)]) -> Outcome {
    let (first, _) = &found[0];
    let more = match found.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    let evidence = found.iter().flat_map(|(_, e)| e.iter().copied()).collect();
    Outcome::new(check, verdict, format!("{preface}{first}{more}"), evidence)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::History;
    use super::*;

    fn judged(findings: Findings, ended_early: bool) -> Option<Outcome> {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        let window = if ended_early { h.early_window(0) } else { h.step_window(0) };
        findings.outcome(CheckName::StableIdentity, &window)
    }

    #[test]
    fn nothing_found_is_no_outcome() {
        assert_eq!(judged(Findings::default(), false), None);
        assert_eq!(judged(Findings::default(), true), None);
    }

    #[test]
    fn a_violation_fails_however_the_step_ended() {
        for early in [false, true] {
            let mut f = Findings::default();
            f.shortfall("web-1 is missing", vec![]);
            f.violation("a pod is named wrongly", vec![4]);
            f.violation("another", vec![2]);
            let out = judged(f, early).expect("an outcome");
            assert_eq!(out.verdict, Verdict::Fail);
            assert_eq!(out.detail, "a pod is named wrongly (and 1 more)");
            assert_eq!(out.evidence, vec![2, 4]);
        }
    }

    #[test]
    fn a_shortfall_fails_only_after_a_step_that_reached_its_condition() {
        let shortfall = || {
            let mut f = Findings::default();
            f.shortfall("web-1 is missing", vec![3]);
            f
        };
        let settled = judged(shortfall(), false).expect("an outcome");
        assert_eq!((settled.verdict, settled.detail.as_str()), (Verdict::Fail, "web-1 is missing"));
        let early = judged(shortfall(), true).expect("an outcome");
        assert_eq!(early.verdict, Verdict::Inconclusive);
        assert!(early.detail.ends_with("cannot be judged: web-1 is missing"), "{}", early.detail);
        assert_eq!(early.evidence, vec![3]);
    }

    #[test]
    fn an_unknown_is_inconclusive_unless_something_decides() {
        for early in [false, true] {
            let mut f = Findings::default();
            f.unknown("`hostname` could not run in web-1", vec![5]);
            let out = judged(f, early).expect("an outcome");
            assert_eq!(out.verdict, Verdict::Inconclusive);
            assert_eq!(out.detail, "not observed: `hostname` could not run in web-1");
            assert_eq!(out.evidence, vec![5]);
        }
        let mut f = Findings::default();
        f.unknown("`hostname` could not run in web-1", vec![5]);
        f.shortfall("web-2 is missing", vec![3]);
        assert_eq!(judged(f, false).expect("an outcome").verdict, Verdict::Fail, "a settled shortfall still decides");
        let mut f = Findings::default();
        f.unknown("`hostname` could not run in web-1", vec![5]);
        f.violation("a pod is named wrongly", vec![4]);
        assert_eq!(judged(f, true).expect("an outcome").verdict, Verdict::Fail, "a violation still decides");
    }
}
