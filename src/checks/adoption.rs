//! Adoption and release, as upstream's "should adopt matching orphans and release non-matching
//! pods" spec checks: the controller claims its pods by name and selector
//! (`getPodsForStatefulSet`: `ClaimPods` filtered by `isMemberOf`). A pod named for the set
//! whose labels match the selector and that has no controller is adopted (the set becomes its
//! controlling owner); a pod the set controls whose labels no longer match is released (the
//! set's owner reference is removed). Pods being deleted are left alone.

use std::collections::BTreeMap;

use super::{CheckName, Outcome, Verdict, Window, findings::Findings};
use crate::timeline::{Change, Event};

/// How long a pod may wait to be adopted or released before that is a failure: the controller
/// acts on the pod's own update (`updatePod` enqueues the sets it may belong to), within moments.
pub(super) const DECIDE_MS: u64 = 30_000;

/// What the controller owes a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owed {
    /// An orphan that matches: adopt it.
    Adopt,
    /// A pod it controls that no longer matches: release it.
    Release,
}

impl Owed {
    fn describe(self) -> &'static str {
        match self {
            Owed::Adopt => "orphaned with matching labels",
            Owed::Release => "controlled by the set with labels that no longer match its selector",
        }
    }
}

/// Since when a pod has been owed something: (what, entry, time, already reported).
type Episode = (Owed, usize, u64, bool);

/// **adoption** — every pod named for the set that has no controller while its labels match the
/// set's selector is adopted (the set becomes its controller), and every pod the set controls
/// whose labels stop matching is released (it keeps no controller), within [`DECIDE_MS`]; a
/// pod still owed that at the window's end after [`DECIDE_MS`] fails, earlier it is
/// `inconclusive`. `pass` needs an adoption or a release seen; not applicable when no pod was
/// orphaned or stopped matching. A selector with `matchExpressions` is not judged here
/// (`inconclusive` where it would matter).
pub(super) fn adoption(window: &Window<'_>) -> Outcome {
    let check = CheckName::Adoption;
    let mine = format!("StatefulSet/{}", window.target);
    let mut found = Findings::default();
    let mut proofs: Vec<(String, Vec<usize>)> = Vec::new();
    let mut owed: BTreeMap<String, Episode> = BTreeMap::new();
    let mut unjudged = None;
    window.replay(|view, entry| {
        let Event::Pod { change, pod } = &entry.event else { return };
        if pod.ordinal_in(window.target).is_none() {
            return;
        }
        let name = pod.name.to_string();
        if *change == Change::Deleted || pod.terminating {
            owed.remove(&name);
            return;
        }
        let Some(set) = view.sets.get(window.target) else { return };
        let owner = pod.spec.owner.as_deref();
        let Some(matches) = set.selects(pod) else {
            if owner.is_none() || !pod.spec.labels.is_empty() {
                unjudged.get_or_insert(entry.seq);
            }
            return;
        };
        let wanted = match owner {
            None if matches => Some(Owed::Adopt),
            Some(o) if o == mine && !matches => Some(Owed::Release),
            _ => None,
        };
        match (wanted, owed.get_mut(&name)) {
            (Some(w), Some(episode)) if episode.0 == w => {
                if !episode.3 && entry.at_ms.saturating_sub(episode.2) > DECIDE_MS {
                    episode.3 = true;
                    found.violation(late(&name, *episode, entry.at_ms), vec![episode.1, entry.seq]);
                }
            }
            (Some(w), _) => {
                owed.insert(name, (w, entry.seq, entry.at_ms, false));
            }
            (None, Some(_)) => {
                let (was, seq, at, _) = owed.remove(&name).expect("present");
                let done = match was {
                    Owed::Adopt => owner == Some(mine.as_str()),
                    Owed::Release => owner.is_none(),
                };
                if done {
                    let verb = if was == Owed::Adopt { "adopted" } else { "released" };
                    let after = entry.at_ms.saturating_sub(at) as f64 / 1000.0;
                    proofs.push((
                        format!("{name}, {} (#{seq}), was {verb} {after:.1} s later (#{})", was.describe(), entry.seq),
                        vec![seq, entry.seq],
                    ));
                }
            }
            (None, None) => {}
        }
    });
    let end = window.end_ms();
    for (name, episode) in &owed {
        if episode.3 {
            continue;
        }
        if end.saturating_sub(episode.2) > DECIDE_MS {
            found.violation(late(name, *episode, end), vec![episode.1]);
        } else {
            found.unknown(
                format!(
                    "{name}, {} (#{}), was neither adopted nor released {:.1} s later, when the step ended",
                    episode.0.describe(),
                    episode.1,
                    end.saturating_sub(episode.2) as f64 / 1000.0
                ),
                vec![episode.1],
            );
        }
    }
    if let Some(seq) = unjudged
        && proofs.is_empty()
    {
        found.unknown(
            format!("the set's selector has matchExpressions (#{seq}): whether its pods match is not judged"),
            vec![seq],
        );
    }
    if let Some(outcome) = found.outcome(check, window) {
        return outcome;
    }
    super::findings::proven(check, &proofs).unwrap_or_else(|| {
        Outcome::new(check, Verdict::NotApplicable, "no pod of the set was orphaned or stopped matching its selector", vec![])
    })
}

fn late(name: &str, (owed, seq, at, _): Episode, now: u64) -> String {
    let verb = if owed == Owed::Adopt { "adopted" } else { "released" };
    format!("{name}, {} (#{seq}), was still not {verb} {:.1} s later", owed.describe(), now.saturating_sub(at) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::fixture::History;
    use super::*;

    fn history() -> History {
        let mut h = History::new().set(1, "OrderedReady");
        h.update_set(|s| s.selector = Some([("app".to_owned(), "nginx".to_owned())].into()));
        h.create_ready("web-0");
        h.modify("web-0", |p| {
            let spec = Arc::make_mut(&mut p.spec);
            spec.owner = Some("StatefulSet/web".into());
            spec.labels.insert("app".into(), "nginx".into());
        });
        h.step(0);
        h
    }

    fn owner(h: &mut History, owner: Option<&str>) -> usize {
        h.modify("web-0", |p| Arc::make_mut(&mut p.spec).owner = owner.map(str::to_owned))
    }

    fn label(h: &mut History, app: Option<&str>) -> usize {
        h.modify("web-0", |p| {
            let labels = &mut Arc::make_mut(&mut p.spec).labels;
            match app {
                Some(app) => labels.insert("app".into(), app.into()),
                None => labels.remove("app"),
            };
        })
    }

    #[test]
    fn an_orphan_is_adopted_and_a_mismatched_pod_released() {
        let mut h = history();
        owner(&mut h, None);
        h.advance(200);
        owner(&mut h, Some("StatefulSet/web"));
        h.advance(1000);
        label(&mut h, None);
        h.advance(200);
        owner(&mut h, None);
        let out = adoption(&h.step_window(0));
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(out.detail.contains("was adopted 0.2 s later"), "{}", out.detail);
        assert!(out.detail.contains("was released 0.2 s later"), "{}", out.detail);
    }

    #[test]
    fn an_orphan_left_alone_fails_after_the_limit_and_is_inconclusive_before() {
        let mut h = history();
        owner(&mut h, None);
        h.advance(DECIDE_MS + 1);
        h.ready("web-0");
        let out = adoption(&h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("still not adopted"), "{}", out.detail);
        let mut h = history();
        owner(&mut h, None);
        h.advance(1000);
        assert_eq!(adoption(&h.step_window(0)).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_mismatched_pod_kept_fails() {
        let mut h = history();
        label(&mut h, Some("other"));
        h.advance(DECIDE_MS + 1);
        h.ready("web-0");
        let out = adoption(&h.step_window(0));
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("still not released"), "{}", out.detail);
    }

    #[test]
    fn a_released_pod_left_orphan_and_a_deleted_one_are_fine() {
        // Released, and then nothing: not owed anything.
        let mut h = history();
        label(&mut h, None);
        owner(&mut h, None);
        h.advance(DECIDE_MS * 2);
        h.ready("web-0");
        assert_eq!(adoption(&h.step_window(0)).verdict, Verdict::Pass);
        // An orphan being deleted is not adopted.
        let mut h = history();
        owner(&mut h, None);
        h.terminate("web-0");
        h.advance(DECIDE_MS * 2);
        assert_eq!(adoption(&h.step_window(0)).verdict, Verdict::NotApplicable);
    }

    #[test]
    fn nothing_owed_is_not_applicable() {
        let h = history();
        assert_eq!(adoption(&h.step_window(0)).verdict, Verdict::NotApplicable);
    }
}
