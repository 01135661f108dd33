//! The StatefulSet API surface, as upstream's Conformance specs exercise it ("should have a
//! working scale subresource", "should validate Statefulset Status endpoints", "should list,
//! patch and delete a collection of StatefulSets"), judged against the watch rather than
//! against a second read.
//!
//! An answer about one StatefulSet carries the `resourceVersion` of the object it describes (a
//! Scale carries its StatefulSet's), and the watch delivers every version of the object: so the
//! answer must agree with the watch's observation of that very version. That is exact — no
//! polling, no tolerance — and a version the watch never showed says nothing either way
//! (`inconclusive`). A list or a delete-collection answers about a moment, which the watch shows
//! a little late: its names must equal the matching StatefulSets of some state the watch shows
//! from the answer's arrival to [`LAG_MS`] after.

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckName, Outcome, Verdict, Window, findings::Findings};
use crate::timeline::{ApiAnswer, ApiCall, Event, ProbeObs, SetObs, View};

/// How long after an answer arrives the watch may still be showing the state it answered
/// about: watch events arrive within moments of the change.
pub(super) const LAG_MS: u64 = 5_000;

/// **api-surface** — every answer the API server gave to a request about the scenario's
/// StatefulSets agrees with the watch:
/// - `GET …/scale`: `spec.replicas` and `status.replicas` are those of the StatefulSet at the
///   Scale's version; `PUT`/`PATCH …/scale` answer with the replicas sent, and the StatefulSet at
///   that version has them;
/// - `GET …/status`: `status.replicas`, `readyReplicas` and `observedGeneration` are the
///   StatefulSet's at that version; `PUT`/`PATCH …/status` keep the condition sent, and the watch
///   shows it at the answer's version (the status is watchable);
/// - a list by labels names exactly the StatefulSets that carry them; a delete-collection
///   removes exactly those (each seen deleted by the window's end, no other deleted in it).
///
/// An answer the API server refused is a failure unless it was a refusal to the harness
/// (authorization, a conflict, a throttle, a server error: the call did not decide anything).
pub(super) fn api_surface(window: &Window<'_>) -> Outcome {
    let check = CheckName::ApiSurface;
    let mut found = Findings::default();
    let mut proofs: Vec<(String, Vec<usize>)> = Vec::new();
    // Lists whose LAG_MS is still running, and those done with.
    let mut open: Vec<Listed<'_>> = Vec::new();
    let mut lists: Vec<Listed<'_>> = Vec::new();
    let versions = versions(window);
    let mut any = false;
    // One pass: each list's candidate states are the state when its answer arrived and each
    // state the watch then shows within LAG_MS (a state holds from its entry to the next).
    let mut previous_at: Option<u64> = None;
    let end = window.replay(|view, entry| {
        if let Some(t) = previous_at {
            let (still, done): (Vec<_>, Vec<_>) = open.drain(..).partition(|l| t <= l.at + LAG_MS);
            lists.extend(done);
            open = still;
            for listed in &mut open {
                listed.consider(view);
            }
        }
        if let Some(ProbeObs::Api { request, answer }) = entry.event.probe() {
            any = true;
            match (request, answer) {
                (ApiCall::List { labels } | ApiCall::DeleteCollection { labels }, Ok(answer)) => {
                    let mut listed = Listed::new(entry.seq, entry.at_ms, request, labels, answer);
                    listed.consider(view);
                    open.push(listed);
                }
                (request, Ok(answer)) => {
                    set_answer(&versions, &mut found, &mut proofs, (entry.seq, &request.describe()), request, answer);
                }
                (request, Err(e)) if e.answered() => {
                    found.violation(format!("{} (#{}) was refused: {e}", request.describe(), entry.seq), vec![entry.seq]);
                }
                (request, Err(e)) => {
                    found.unknown(format!("{} (#{}) could not be made: {e}", request.describe(), entry.seq), vec![entry.seq]);
                }
            }
        }
        previous_at = Some(entry.at_ms);
    });
    if !any {
        return Outcome::new(check, Verdict::NotApplicable, "no request about a StatefulSet in the step", vec![]);
    }
    for listed in &mut open {
        if previous_at.is_some_and(|t| t <= listed.at + LAG_MS) {
            listed.consider(&end);
        }
    }
    lists.extend(open);
    lists.sort_by_key(|l| l.seq);
    for listed in lists {
        let (seq, what) = (listed.seq, listed.request.describe());
        let deleting = matches!(listed.request, ApiCall::DeleteCollection { .. });
        // A delete-collection may answer with a Status instead of the list: its effect decides.
        let decided = listed.agreed || (deleting && listed.names.is_empty());
        if !decided {
            found.violation(
                format!(
                    "{what} (#{seq}) answered {:?}; the StatefulSets with those labels were {:?}",
                    listed.names, listed.at_answer
                ),
                vec![seq],
            );
        } else if deleting {
            deleted_exactly(window, &mut found, &mut proofs, (seq, &what), &listed.at_answer, &listed.present);
        } else {
            proofs.push((format!("{what} named {:?}, as the watch shows", listed.names), vec![seq]));
        }
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    super::findings::proven(check, &proofs).unwrap_or_else(|| Outcome::new(check, Verdict::NotApplicable, "", vec![]))
}

/// A list (or delete-collection) answer, and what the watch showed around it.
struct Listed<'t> {
    seq: usize,
    at: u64,
    request: &'t ApiCall,
    labels: &'t BTreeMap<String, String>,
    names: BTreeSet<String>,
    /// The matching StatefulSets when the answer arrived.
    at_answer: BTreeSet<String>,
    /// Every StatefulSet present when the answer arrived.
    present: BTreeSet<String>,
    /// Some candidate state's matching StatefulSets equal the names answered.
    agreed: bool,
    considered: bool,
}

impl<'t> Listed<'t> {
    fn new(seq: usize, at: u64, request: &'t ApiCall, labels: &'t BTreeMap<String, String>, answer: &ApiAnswer) -> Self {
        Self {
            seq,
            at,
            request,
            labels,
            names: answer.names.iter().cloned().collect(),
            at_answer: BTreeSet::new(),
            present: BTreeSet::new(),
            agreed: false,
            considered: false,
        }
    }

    fn consider(&mut self, view: &View) {
        let matching = matching(view, self.labels);
        if !self.considered {
            self.considered = true;
            self.at_answer = matching.clone();
            self.present = view.sets.keys().cloned().collect();
        }
        self.agreed |= matching == self.names;
    }
}

/// The StatefulSets of `view` that carry every one of `labels`.
fn matching(view: &View, labels: &BTreeMap<String, String>) -> BTreeSet<String> {
    view.sets.values().filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(v))).map(|s| s.name.clone()).collect()
}

/// A delete-collection removed the StatefulSets that matched when it answered, and no other
/// one in the window.
fn deleted_exactly(
    window: &Window<'_>,
    found: &mut Findings,
    proofs: &mut Vec<(String, Vec<usize>)>,
    (seq, what): (usize, &str),
    wanted: &BTreeSet<String>,
    present: &BTreeSet<String>,
) {
    let mut gone: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in window.entries().iter().filter(|e| e.seq > seq) {
        if let Event::StatefulSet { change, set } = &entry.event
            && (*change == crate::timeline::Change::Deleted || set.terminating)
        {
            gone.entry(set.name.as_str()).or_insert(entry.seq);
        }
    }
    let mut evidence = vec![seq];
    for (name, at) in &gone {
        if !wanted.contains(*name) && present.contains(*name) {
            found.violation(format!("{what} (#{seq}) also deleted {name} (#{at}), whose labels do not match"), vec![seq, *at]);
        }
        evidence.push(*at);
    }
    let left: Vec<&String> = wanted.iter().filter(|n| !gone.contains_key(n.as_str())).collect();
    if !left.is_empty() {
        found.shortfall(format!("{what} (#{seq}): {left:?} not deleted by the step's end"), vec![seq]);
        return;
    }
    proofs.push((format!("{what} deleted {wanted:?} and nothing else"), evidence));
}

/// An answer about one StatefulSet agrees with the watch's observation of its version.
fn set_answer(
    versions: &Versions<'_>,
    found: &mut Findings,
    proofs: &mut Vec<(String, Vec<usize>)>,
    (seq, what): (usize, &str),
    request: &ApiCall,
    answer: &ApiAnswer,
) {
    let set = request.set().unwrap_or_default();
    let sent = match request {
        ApiCall::UpdateScale { replicas, .. } | ApiCall::PatchScale { replicas, .. } => Some(*replicas),
        _ => None,
    };
    if let Some(n) = sent
        && answer.spec_replicas != Some(n)
    {
        found
            .violation(format!("{what} (#{seq}) answered spec.replicas {:?}, not the {n} sent", answer.spec_replicas), vec![seq]);
        return;
    }
    let condition = match request {
        ApiCall::UpdateStatus { condition, .. } | ApiCall::PatchStatus { condition, .. } => Some(condition.as_str()),
        _ => None,
    };
    if let Some(c) = condition
        && !answer.conditions.iter().any(|t| t == c)
    {
        found.violation(format!("{what} (#{seq}) answered without the condition {c} it was sent"), vec![seq]);
        return;
    }
    let Some(version) = answer.resource_version.as_deref() else {
        found.unknown(format!("{what} (#{seq}) answered with no resourceVersion to compare"), vec![seq]);
        return;
    };
    let Some(&(at, obs)) = versions.get(&(set, version)) else {
        found.unknown(format!("{what} (#{seq}): the watch never showed {set} at version {version}"), vec![seq]);
        return;
    };
    let mut differs: Vec<String> = Vec::new();
    let mut compare = |field: &str, said: Option<i64>, watched: Option<i64>| {
        if let (Some(said), Some(watched)) = (said, watched)
            && said != watched
        {
            differs.push(format!("{field} {said} (watch: {watched})"));
        }
    };
    let wide = |n: Option<u32>| n.map(i64::from);
    match request {
        ApiCall::GetScale { .. } | ApiCall::UpdateScale { .. } | ApiCall::PatchScale { .. } => {
            compare("spec.replicas", wide(answer.spec_replicas), Some(i64::from(obs.replicas)));
            compare("status.replicas", wide(answer.status_replicas), wide(obs.status_replicas));
        }
        _ => {
            compare("status.replicas", wide(answer.status_replicas), wide(obs.status_replicas));
            compare("status.readyReplicas", wide(answer.ready_replicas), Some(i64::from(obs.ready_replicas)));
            compare("status.observedGeneration", answer.observed_generation, obs.observed_generation);
        }
    }
    if let Some(c) = condition
        && !obs.conditions.iter().any(|t| t == c)
    {
        differs.push(format!("condition {c} (watch: {:?})", obs.conditions));
    }
    if differs.is_empty() {
        proofs.push((format!("{what} agreed with the watch at version {version}"), vec![seq, at]));
    } else {
        found.violation(
            format!(
                "{what} (#{seq}) at version {version} said {}: the StatefulSet at that version (#{at}) did not",
                differs.join(", ")
            ),
            vec![seq, at],
        );
    }
}

/// The watch's observation of each StatefulSet at each version, by (name, version): the first
/// entry showing it, anywhere in the history (the watch may show it after the answer arrived).
type Versions<'t> = std::collections::HashMap<(&'t str, &'t str), (usize, &'t SetObs)>;

fn versions<'t>(window: &Window<'t>) -> Versions<'t> {
    let mut out = Versions::new();
    for entry in &window.timeline.entries {
        if let Event::StatefulSet { set, .. } = &entry.event
            && let Some(version) = set.resource_version.as_deref()
        {
            out.entry((set.name.as_str(), version)).or_insert((entry.seq, &**set));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture::History;
    use super::*;
    use crate::timeline::{Change, ProbeError};

    fn versioned(h: &mut History, version: &str, f: impl FnOnce(&mut SetObs)) -> usize {
        h.update_set(|s| {
            s.resource_version = Some(version.into());
            s.status_replicas = Some(s.replicas);
            f(s);
        })
    }

    fn call(h: &mut History, request: ApiCall, answer: Result<ApiAnswer, ProbeError>) -> usize {
        h.timeline.push(h.now, Event::from(ProbeObs::Api { request, answer }))
    }

    fn judge(h: &History) -> Outcome {
        api_surface(&h.step_window(0))
    }

    fn scale(version: &str, spec: u32, status: u32) -> ApiAnswer {
        ApiAnswer {
            resource_version: Some(version.into()),
            spec_replicas: Some(spec),
            status_replicas: Some(status),
            ..Default::default()
        }
    }

    fn set_named(h: &mut History, name: &str, labels: &[(&str, &str)], change: Change) -> usize {
        let set = SetObs {
            name: name.into(),
            uid: format!("uid-{name}"),
            labels: labels.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            ..Default::default()
        };
        h.timeline.push(h.now, Event::StatefulSet { change, set: Box::new(set) })
    }

    #[test]
    fn a_scale_answer_agrees_with_the_watch_at_its_version() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        versioned(&mut h, "11", |_| {});
        call(&mut h, ApiCall::GetScale { set: "web".into() }, Ok(scale("11", 2, 2)));
        call(&mut h, ApiCall::UpdateScale { set: "web".into(), replicas: 3 }, Ok(scale("12", 3, 2)));
        // The watch shows the written version after the answer arrived.
        h.advance(200);
        versioned(&mut h, "12", |s| {
            s.replicas = 3;
            s.status_replicas = Some(2);
        });
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
    }

    #[test]
    fn a_scale_write_the_object_does_not_show_fails() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, ApiCall::PatchScale { set: "web".into(), replicas: 3 }, Ok(scale("12", 3, 2)));
        versioned(&mut h, "12", |_| {});
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("spec.replicas 3 (watch: 2)"), "{}", out.detail);
    }

    #[test]
    fn an_answer_that_ignores_what_was_sent_fails_at_once() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, ApiCall::UpdateScale { set: "web".into(), replicas: 3 }, Ok(scale("12", 2, 2)));
        assert_eq!(judge(&h).verdict, Verdict::Fail);
    }

    #[test]
    fn a_version_the_watch_never_showed_decides_nothing() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, ApiCall::GetScale { set: "web".into() }, Ok(scale("99", 2, 2)));
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
    }

    #[test]
    fn a_status_condition_must_be_kept_and_watched() {
        let status = |version: &str, conditions: &[&str]| ApiAnswer {
            resource_version: Some(version.into()),
            status_replicas: Some(2),
            ready_replicas: Some(0),
            conditions: conditions.iter().map(|c| (*c).to_owned()).collect(),
            ..Default::default()
        };
        let request = ApiCall::UpdateStatus { set: "web".into(), condition: "X".into() };
        // Kept and watched.
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, request.clone(), Ok(status("5", &["X"])));
        versioned(&mut h, "5", |s| s.conditions = vec!["X".into()]);
        assert_eq!(judge(&h).verdict, Verdict::Pass);
        // Answered, but the stored object lacks it.
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, request.clone(), Ok(status("5", &["X"])));
        versioned(&mut h, "5", |_| {});
        let out = judge(&h);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("condition X"), "{}", out.detail);
        // Refused outright (not by authorization): the endpoint does not work.
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, request.clone(), Err(ProbeError::Answered("404 NotFound".into())));
        assert_eq!(judge(&h).verdict, Verdict::Fail);
        // Not made (forbidden, a conflict that did not settle): nothing decided.
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        call(&mut h, request, Err(ProbeError::not_run("403 Forbidden")));
        assert_eq!(judge(&h).verdict, Verdict::Inconclusive);
    }

    fn suite_api() -> BTreeMap<String, String> {
        [("suite".to_owned(), "api".to_owned())].into()
    }

    fn names(names: &[&str]) -> ApiAnswer {
        ApiAnswer { names: names.iter().map(|n| (*n).to_owned()).collect(), ..Default::default() }
    }

    /// Set `a` labelled `suite: api`, set `b` not; step 0 begins.
    fn base() -> History {
        let mut h = History::new();
        set_named(&mut h, "a", &[("suite", "api")], Change::Added);
        set_named(&mut h, "b", &[("suite", "other")], Change::Added);
        h.step(0);
        h
    }

    #[test]
    fn a_list_names_exactly_the_matching_sets_of_some_watched_state() {
        let labels = suite_api();
        let list = names;
        let mut h = base();
        call(&mut h, ApiCall::List { labels: labels.clone() }, Ok(list(&["a"])));
        assert_eq!(api_surface(&h.step_window(0)).verdict, Verdict::Pass);
        let mut h = base();
        call(&mut h, ApiCall::List { labels: labels.clone() }, Ok(list(&["a", "b"])));
        assert_eq!(api_surface(&h.step_window(0)).verdict, Verdict::Fail);
        // A set labelled just before the list, shown by the watch just after: agrees.
        let mut h = base();
        call(&mut h, ApiCall::List { labels: labels.clone() }, Ok(list(&["a", "b"])));
        h.advance(300);
        set_named(&mut h, "b", &[("suite", "api")], Change::Modified);
        assert_eq!(api_surface(&h.step_window(0)).verdict, Verdict::Pass);
        // ... but not one shown long after.
        let mut h = base();
        call(&mut h, ApiCall::List { labels }, Ok(list(&["a", "b"])));
        h.advance(LAG_MS + 1);
        set_named(&mut h, "b", &[("suite", "api")], Change::Modified);
        assert_eq!(api_surface(&h.step_window(0)).verdict, Verdict::Fail);
    }

    #[test]
    fn a_delete_collection_removes_exactly_the_matching_sets() {
        let labels = suite_api();
        let deleted = names;
        let mut h = base();
        call(&mut h, ApiCall::DeleteCollection { labels: labels.clone() }, Ok(deleted(&["a"])));
        set_named(&mut h, "a", &[("suite", "api")], Change::Deleted);
        let out = api_surface(&h.step_window(0));
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        // Another set deleted too.
        let mut h = base();
        call(&mut h, ApiCall::DeleteCollection { labels: labels.clone() }, Ok(deleted(&["a"])));
        set_named(&mut h, "a", &[("suite", "api")], Change::Deleted);
        set_named(&mut h, "b", &[("suite", "other")], Change::Deleted);
        let out = api_surface(&h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("also deleted b"), "{}", out.detail);
        // The matching set never goes.
        let mut h = base();
        call(&mut h, ApiCall::DeleteCollection { labels: labels.clone() }, Ok(deleted(&["a"])));
        assert_eq!(api_surface(&h.step_window(0)).verdict, Verdict::Fail);
        assert_eq!(api_surface(&h.early_window(0)).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn no_request_is_not_applicable() {
        let mut h = History::new().set(1, "OrderedReady");
        h.step(0);
        assert_eq!(judge(&h).verdict, Verdict::NotApplicable);
    }
}
