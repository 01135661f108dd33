//! The chart of one scenario run, as data: a lane per pod, claim and StatefulSet with the
//! states it went through as segments, the steps as bands, and each judged check's verdict
//! pinned at its evidence. Built from the same timeline the checks judge, so the simulated
//! cluster, the testbed and a real cluster draw alike.

use std::collections::BTreeMap;

use crate::{
    checks::{Outcome, Verdict},
    runner::{Judged, StepReport},
    timeline::{Change, Event, PodObs, Timeline},
};

/// What a lane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LaneKind {
    /// A StatefulSet: its replicas and revisions.
    Set,
    /// A pod: its phases.
    Pod,
    /// A PersistentVolumeClaim: its phases.
    Claim,
}

/// One state held over a span of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// From (ms on the timeline's clock).
    pub from_ms: u64,
    /// To (ms).
    pub to_ms: u64,
    /// The state's class (`Ready`, `Pending`, `Terminating`, …), which picks its colour.
    pub state: String,
    /// What hovering shows: the entry that began it (time, object, phase, revision).
    pub title: String,
}

/// One object's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lane {
    /// `pod/web-0`, `claim/www-web-0`, `statefulset/web`: unique in a chart.
    pub key: String,
    /// What it shows.
    pub kind: LaneKind,
    /// The object's name.
    pub label: String,
    /// Its states, in time order, without overlaps.
    pub segments: Vec<Segment>,
}

/// A verdict pinned at one entry of its evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// The lane it sits on.
    pub lane: String,
    /// When (ms).
    pub at_ms: u64,
    /// The check's verdict.
    pub verdict: Verdict,
    /// The check's name.
    pub check: String,
    /// What hovering shows: step, check, verdict, detail, entry.
    pub title: String,
}

/// A step's span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// Step index, from 0.
    pub index: usize,
    /// From (ms).
    pub from_ms: u64,
    /// To (ms).
    pub to_ms: u64,
    /// What the step did.
    pub action: String,
}

/// A scenario's chart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chart {
    /// Set lanes, then pod lanes (by set and ordinal), then claim lanes.
    pub lanes: Vec<Lane>,
    /// Verdict marks.
    pub marks: Vec<Mark>,
    /// Step bands.
    pub steps: Vec<Band>,
    /// The chart's start (ms): its first entry (a scenario of a parallel run starts late on the
    /// run's clock).
    pub start_ms: u64,
    /// The chart's end (ms): the last entry or step end.
    pub end_ms: u64,
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// A pod's state for the chart.
fn pod_state(pod: &PodObs) -> String {
    if pod.terminating {
        "Terminating".into()
    } else if pod.phase == "Running" && pod.ready {
        "Ready".into()
    } else if let Some(waiting) = &pod.waiting {
        waiting.to_string()
    } else {
        pod.phase.to_string()
    }
}

/// Lanes under construction: each lane's open segment.
#[derive(Default)]
struct Builder {
    lanes: BTreeMap<String, Lane>,
    /// The open segment of each lane: (state, identity, from, title). The identity (a UID)
    /// separates two incarnations in the same state: a recreated pod starts a new bar.
    open: BTreeMap<String, (String, String, u64, String)>,
}

impl Builder {
    fn set(&mut self, key: &str, kind: LaneKind, label: &str, at: u64, state: Option<(String, String, String)>) {
        let lane = self.lanes.entry(key.to_owned()).or_insert_with(|| Lane {
            key: key.to_owned(),
            kind,
            label: label.to_owned(),
            segments: Vec::new(),
        });
        let same = |(s, id, ..): &(String, String, u64, String)| state.as_ref().is_some_and(|(s2, id2, _)| s == s2 && id == id2);
        if self.open.get(key).is_some_and(same) {
            return;
        }
        if let Some((state, _, from, title)) = self.open.remove(key) {
            lane.segments.push(Segment { from_ms: from, to_ms: at, state, title });
        }
        if let Some((state, identity, title)) = state {
            self.open.insert(key.to_owned(), (state, identity, at, title));
        }
    }

    fn finish(mut self, end: u64) -> Vec<Lane> {
        for key in self.open.keys().cloned().collect::<Vec<_>>() {
            let kind = self.lanes[&key].kind;
            let label = self.lanes[&key].label.clone();
            self.set(&key, kind, &label, end, None);
        }
        let mut lanes: Vec<Lane> = self.lanes.into_values().collect();
        // Sets, then pods by set and ordinal (web-2 before web-10), then claims.
        lanes.sort_by_cached_key(|l| (l.kind, natural(&l.label)));
        lanes
    }
}

/// A sort key that orders `web-2` before `web-10`.
fn natural(name: &str) -> (String, u64) {
    match name.rsplit_once('-') {
        Some((stem, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (stem.to_owned(), n.parse().unwrap_or(u64::MAX))
        }
        _ => (name.to_owned(), 0),
    }
}

/// The lane an entry's object is drawn on, if it has one.
fn lane_of(event: &Event) -> Option<String> {
    match event {
        Event::Pod { pod, .. } => Some(format!("pod/{}", pod.name)),
        Event::Claim { claim, .. } => Some(format!("claim/{}", claim.name)),
        Event::StatefulSet { set, .. } => Some(format!("statefulset/{}", set.name)),
        _ => None,
    }
}

/// A verdict to pin on a chart: its step, the object it judged, the outcome.
#[derive(Debug, Clone, Copy)]
pub struct Pinned<'a> {
    /// Step index, from 0.
    pub step: usize,
    /// The StatefulSet (or other object) judged.
    pub target: &'a str,
    /// The check's outcome, whose evidence names entries.
    pub outcome: &'a Outcome,
}

/// The chart of a run: its timeline, steps and judged checks.
#[must_use]
pub fn chart(timeline: &Timeline, steps: &[StepReport], judged: &[Judged]) -> Chart {
    let pinned: Vec<Pinned<'_>> =
        judged.iter().map(|j| Pinned { step: j.step, target: &j.target, outcome: &j.outcome }).collect();
    draw(timeline, steps, &pinned, None)
}

/// The chart of a history with verdicts pinned; `lines[seq]`, when given, is the transcript
/// line entry `seq` was read from, which hovering names instead of the entry's number.
#[must_use]
pub fn draw(timeline: &Timeline, steps: &[StepReport], judged: &[Pinned<'_>], lines: Option<&[usize]>) -> Chart {
    let source = |seq: usize| match lines {
        Some(lines) => lines.get(seq).map_or_else(|| format!("#{seq}"), |l| format!("line {l}")),
        None => format!("#{seq}"),
    };
    let mut b = Builder::default();
    let mut markers: Vec<(usize, u64, String)> = Vec::new();
    for entry in &timeline.entries {
        let when = seconds(entry.at_ms);
        let at = entry.at_ms;
        match &entry.event {
            Event::Step { index, action } => markers.push((*index, at, action.clone())),
            Event::Pod { change, pod } => {
                let key = format!("pod/{}", pod.name);
                let state = (*change != Change::Deleted).then(|| {
                    let state = pod_state(pod);
                    let revision = pod.revision().map(|r| format!(", revision {r}")).unwrap_or_default();
                    let title = format!("{when} {}: pod {} {state}{revision}, uid {}", source(entry.seq), pod.name, pod.uid);
                    (state, pod.uid.to_string(), title)
                });
                b.set(&key, LaneKind::Pod, &pod.name, at, state);
            }
            Event::Claim { change, claim } => {
                let key = format!("claim/{}", claim.name);
                let state = (*change != Change::Deleted).then(|| {
                    let title = format!("{when} {}: claim {} {}", source(entry.seq), claim.name, claim.phase);
                    (claim.phase.clone(), claim.uid.clone(), title)
                });
                b.set(&key, LaneKind::Claim, &claim.name, at, state);
            }
            Event::StatefulSet { change, set } => {
                let key = format!("statefulset/{}", set.name);
                let state = (*change != Change::Deleted).then(|| {
                    let revision = set.update_revision.as_deref().unwrap_or("-");
                    let label = format!("replicas {}, ready {}, revision {revision}", set.replicas, set.ready_replicas);
                    let title = format!("{when} {}: statefulset {} {label}", source(entry.seq), set.name);
                    ("Set".to_owned(), label, title)
                });
                b.set(&key, LaneKind::Set, &set.name, at, state);
            }
            _ => {}
        }
    }
    let last = timeline.entries.last().map_or(0, |e| e.at_ms);
    let stepped: u64 = markers.first().map_or(0, |m| m.1) + steps.iter().map(|s| s.elapsed_ms).sum::<u64>();
    let start_ms = timeline.entries.first().map_or(0, |e| e.at_ms);
    let end_ms = last.max(stepped).max(start_ms + 1);
    let lanes = b.finish(end_ms);
    let bands = markers
        .iter()
        .enumerate()
        .map(|(i, (index, from, action))| {
            let to =
                markers.get(i + 1).map_or_else(|| steps.get(*index).map_or(end_ms, |s| from + s.elapsed_ms).max(*from), |m| m.1);
            Band { index: *index, from_ms: *from, to_ms: to.min(end_ms), action: action.clone() }
        })
        .collect::<Vec<_>>();
    let mut marks = Vec::new();
    for j in judged {
        let title_of = |entry: Option<usize>| {
            format!(
                "step {} {} {}: {}{}",
                j.step + 1,
                j.outcome.check,
                j.outcome.verdict,
                j.outcome.detail,
                entry.map(|e| format!(" ({})", source(e))).unwrap_or_default()
            )
        };
        let fallback = format!("statefulset/{}", j.target);
        let mut placed = false;
        for &seq in &j.outcome.evidence {
            let Some(entry) = timeline.entries.get(seq) else { continue };
            let lane = lane_of(&entry.event).unwrap_or_else(|| fallback.clone());
            marks.push(Mark {
                lane,
                at_ms: entry.at_ms,
                verdict: j.outcome.verdict,
                check: j.outcome.check.to_string(),
                title: title_of(Some(seq)),
            });
            placed = true;
        }
        if !placed {
            // No entry to point at: the verdict sits at its step's end.
            let at = bands.iter().find(|s| s.index == j.step).map_or(end_ms, |s| s.to_ms);
            marks.push(Mark {
                lane: fallback,
                at_ms: at,
                verdict: j.outcome.verdict,
                check: j.outcome.check.to_string(),
                title: title_of(None),
            });
        }
    }
    // A mark on a lane the history does not have (a check about a set never seen) gets one.
    let mut lanes = lanes;
    let mut known: std::collections::BTreeSet<String> = lanes.iter().map(|l| l.key.clone()).collect();
    for mark in &marks {
        if known.insert(mark.lane.clone()) {
            let label = mark.lane.split_once('/').map_or(mark.lane.as_str(), |(_, n)| n).to_owned();
            lanes.insert(0, Lane { key: mark.lane.clone(), kind: LaneKind::Set, label, segments: Vec::new() });
        }
    }
    Chart { lanes, marks, steps: bands, start_ms, end_ms }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckName, Outcome, fixture::History};

    fn history() -> History {
        History::new().set(1, "OrderedReady")
    }

    #[test]
    fn a_pod_lane_follows_its_states_and_a_recreated_pod_starts_a_new_bar() {
        let mut h = history();
        h.step(0);
        h.create("web-0");
        h.advance(1000);
        h.running("web-0");
        h.advance(1000);
        let ready = h.ready("web-0");
        h.advance(1000);
        h.terminate("web-0");
        h.advance(500);
        h.gone("web-0");
        h.advance(500);
        h.create("web-0");
        h.advance(1000);
        let judged = vec![Judged {
            step: 0,
            target: "web".into(),
            claims: vec![],
            outcome: Outcome {
                check: CheckName::OrderedCreation,
                verdict: Verdict::Pass,
                detail: "fine".into(),
                evidence: vec![ready],
            },
        }];
        let chart = chart(&h.timeline, &[], &judged);
        let pod = chart.lanes.iter().find(|l| l.key == "pod/web-0").expect("a lane for web-0");
        let states: Vec<&str> = pod.segments.iter().map(|s| s.state.as_str()).collect();
        assert_eq!(states, ["Pending", "Running", "Ready", "Terminating", "Pending"]);
        // Gone for 0.5 s between the two incarnations: no bar there.
        assert_eq!((pod.segments[3].to_ms, pod.segments[4].from_ms), (3500, 4000));
        assert_eq!(pod.segments[4].to_ms, chart.end_ms);
        assert!(pod.segments[2].title.contains("pod web-0 Ready"), "{}", pod.segments[2].title);
        let mark = &chart.marks[0];
        assert_eq!((mark.lane.as_str(), mark.at_ms, mark.verdict), ("pod/web-0", 2000, Verdict::Pass));
        assert!(mark.title.starts_with("step 1 ordered-creation pass: fine"), "{}", mark.title);
        assert_eq!(chart.steps.len(), 1);
    }

    #[test]
    fn lanes_come_sets_first_then_pods_by_ordinal_then_claims() {
        let mut h = history();
        h.step(0);
        for name in ["web-10", "web-2", "web-1"] {
            h.create(name);
        }
        let chart = chart(&h.timeline, &[], &[]);
        let keys: Vec<&str> = chart.lanes.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(keys, ["statefulset/web", "pod/web-1", "pod/web-2", "pod/web-10"]);
    }

    #[test]
    fn a_verdict_without_evidence_sits_on_its_sets_lane_at_its_steps_end() {
        let mut h = history();
        h.step(0);
        h.advance(2000);
        h.step(1);
        let judged = vec![Judged {
            step: 0,
            target: "db".into(),
            claims: vec![],
            outcome: Outcome {
                check: CheckName::Dns,
                verdict: Verdict::Inconclusive,
                detail: "not observed".into(),
                evidence: vec![],
            },
        }];
        let chart = chart(&h.timeline, &[], &judged);
        assert_eq!((chart.marks[0].lane.as_str(), chart.marks[0].at_ms), ("statefulset/db", 2000));
        assert!(chart.lanes.iter().any(|l| l.key == "statefulset/db"), "the mark gets a lane");
    }
}
