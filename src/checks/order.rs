//! Order checks: creation, termination and replacement order of a StatefulSet's pods.
//!
//! Kubernetes documents, for `podManagementPolicy: OrderedReady`: pods are created in order
//! 0..N-1, "before a scaling operation is applied to a Pod, all of its predecessors must be
//! Running and Ready", and "before a Pod is terminated, all of its successors must be completely
//! shut down". For `RollingUpdate`: pods are updated "in the same order as Pod termination (from
//! the largest ordinal to the smallest)", waiting "until an updated Pod is Running and Ready
//! prior to updating its predecessor"; pods below the partition are not updated.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    ops::Bound::{Excluded, Unbounded},
    sync::Arc,
};

use super::{CheckName, Outcome, Policy, Verdict, Window};
use crate::timeline::{Change, Entry, Event, PodObs, SetObs, View, ordinal_of};

/// A pod of the target set that is added at `entry` (a new name or a new UID). A pod that first
/// shows up in a `Modified` entry (a transcript's first sighting of a pod that already existed)
/// was not created there.
fn created<'a>(window: &Window<'_>, view: &View, entry: &'a Entry) -> Option<(u32, &'a PodObs)> {
    created_after(window, |name| view.pods.get(name).map(|p| &**p), entry)
}

/// [`created`], given the latest earlier observation of a pod by its name (`before`), for a
/// check that follows the pods without a whole [`View`].
pub(super) fn created_after<'a, 'v>(
    window: &Window<'_>,
    before: impl FnOnce(&str) -> Option<&'v PodObs>,
    entry: &'a Entry,
) -> Option<(u32, &'a PodObs)> {
    let Event::Pod { change, pod } = &entry.event else { return None };
    if *change != Change::Added || !pod.belongs_to(window.target) {
        return None;
    }
    let ordinal = pod.ordinal_in(window.target)?;
    let new = before(&pod.name).is_none_or(|old| old.uid != pod.uid);
    new.then_some((ordinal, pod))
}

/// A pod of the target set that begins terminating at `entry`: its deletion timestamp appears,
/// or it disappears without one having been seen.
fn begins_terminating<'a>(window: &Window<'_>, view: &View, entry: &'a Entry) -> Option<(u32, &'a PodObs)> {
    begins_terminating_after(window, |name| view.pods.get(name).map(|p| &**p), entry)
}

/// [`begins_terminating`], given the latest earlier observation of a pod by its name.
pub(super) fn begins_terminating_after<'a, 'v>(
    window: &Window<'_>,
    before: impl FnOnce(&str) -> Option<&'v PodObs>,
    entry: &'a Entry,
) -> Option<(u32, &'a PodObs)> {
    let Event::Pod { change, pod } = &entry.event else { return None };
    if !pod.belongs_to(window.target) {
        return None;
    }
    let ordinal = pod.ordinal_in(window.target)?;
    let before = before(&pod.name).filter(|old| old.uid == pod.uid || pod.uid.is_empty());
    let was_terminating = before.is_some_and(|old| old.terminating);
    let now = match change {
        Change::Deleted => before.is_some(),
        Change::Added | Change::Modified => pod.terminating,
    };
    (now && !was_terminating).then_some((ordinal, pod))
}

/// The target set's pods by ordinal, kept up to date while a window is replayed, so that the
/// order rules cost a lookup per entry rather than a scan of every pod.
struct SetState {
    pods: BTreeMap<u32, Arc<PodObs>>,
    /// Ordinals of the pods that are Running and Ready.
    ready: ReadyCounts,
}

impl SetState {
    /// The state of `view` (just before `entries`), ready to follow `entries`.
    fn of(view: &View, target: &str, entries: &[Entry]) -> Self {
        let mut ordinals: Vec<u32> = view.pods.values().filter_map(|p| p.ordinal_in(target)).collect();
        ordinals.extend(entries.iter().filter_map(|e| match &e.event {
            Event::Pod { pod, .. } => pod.ordinal_in(target),
            _ => None,
        }));
        let mut state = Self { pods: BTreeMap::new(), ready: ReadyCounts::new(ordinals) };
        for pod in view.pods.values() {
            state.put(pod, target);
        }
        state
    }

    fn put(&mut self, pod: &Arc<PodObs>, target: &str) {
        let Some(k) = pod.ordinal_in(target).filter(|_| pod.belongs_to(target)) else { return };
        self.ready.set(k, pod.running_and_ready());
        self.pods.insert(k, Arc::clone(pod));
    }

    /// Marks, for a partial history replayed from entry `at`, the pods whose state is unknown
    /// until their first mention (which is after `at` and not their creation).
    fn track_unknown(&mut self, mentions: &FirstMentions<'_>, target: &str, at: usize) {
        for (name, (seq, created)) in &mentions.0 {
            if *seq >= at
                && !created
                && let Some(k) = ordinal_of(name, target)
            {
                self.ready.set_unknown(k, true);
            }
        }
    }

    fn apply(&mut self, event: &Event, target: &str) {
        let Event::Pod { change, pod } = event else { return };
        // Mentioned now: from the next entry on, its state is known.
        if let Some(k) = pod.ordinal_in(target) {
            self.ready.set_unknown(k, false);
        }
        match change {
            Change::Deleted => {
                if let Some(k) = pod.ordinal_in(target)
                    && self.pods.get(&k).is_some_and(|p| p.name == pod.name)
                {
                    self.pods.remove(&k);
                    self.ready.set(k, false);
                }
            }
            Change::Added | Change::Modified => self.put(pod, target),
        }
    }

    /// Pods `from..k` all exist and are Running and Ready.
    fn all_ready_between(&self, from: u32, k: u32) -> bool {
        self.ready.all_between(from, k)
    }

    /// The pods with an ordinal above `k`, up to (not including) `upper`.
    fn above(&self, k: u32, upper: u32) -> impl Iterator<Item = (&u32, &Arc<PodObs>)> {
        self.pods.range((Excluded(k), Unbounded)).take_while(move |(j, _)| **j < upper)
    }
}

/// 0/1 flags over positions `0..n` in a Fenwick tree: how many are set before a position, and
/// which is the next one set, in log n.
struct Flags {
    on: Vec<bool>,
    /// 1-based Fenwick tree of `on`.
    tree: Vec<u32>,
}

impl Flags {
    /// `n` flags, all set to `on`, built in linear time.
    fn new(n: usize, on: bool) -> Self {
        let mut tree = vec![0; n + 1];
        if on {
            for i in 1..tree.len() {
                tree[i] += 1;
                let parent = i + (i & i.wrapping_neg());
                if parent < tree.len() {
                    tree[parent] += tree[i];
                }
            }
        }
        Self { on: vec![on; n], tree }
    }

    fn get(&self, position: usize) -> bool {
        self.on.get(position).copied().unwrap_or(false)
    }

    fn set(&mut self, position: usize, on: bool) {
        if position >= self.on.len() || self.on[position] == on {
            return;
        }
        self.on[position] = on;
        let mut i = position + 1;
        while i < self.tree.len() {
            if on {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
    }

    /// How many of the first `n` positions are set.
    fn count_before(&self, n: usize) -> usize {
        let (mut i, mut sum) = (n.min(self.on.len()), 0usize);
        while i > 0 {
            sum += self.tree[i] as usize;
            i &= i - 1;
        }
        sum
    }

    /// The first position at or after `from` that is set (`n` when none is).
    fn next_on(&self, from: usize) -> usize {
        let wanted = self.count_before(from) + 1;
        // The largest n with count_before(n) < wanted, by binary lifting: position n is it.
        let (mut at, mut left) = (0usize, wanted);
        let mut step = self.tree.len().next_power_of_two();
        while step > 0 {
            let next = at + step;
            if next < self.tree.len() && (self.tree[next] as usize) < left {
                at = next;
                left -= self.tree[next] as usize;
            }
            step /= 2;
        }
        at.min(self.on.len())
    }
}

/// What is known of each ordinal the history names, as flags over the ordinals in ascending
/// order, so that "are 0..k all Ready?" and "which is the next one that is not?" cost log n
/// whatever the ordinals' values.
struct ReadyCounts {
    /// Every ordinal the history names, ascending.
    ordinals: Vec<u32>,
    /// The pod is not Running and Ready (or does not exist).
    not_ready: Flags,
    /// A partial history has not mentioned the pod yet, and its first mention is not its
    /// creation: its state is unknown. Always also `not_ready`.
    unknown: Vec<bool>,
    /// `not_ready` and not `unknown`: the pods that block their successors.
    blocking: Flags,
    /// Exempt from the rule (reverse-termination's condemned pods, which may be in any state):
    /// set once, before the replay.
    exempt: Vec<bool>,
    /// `not_ready` and not `exempt`.
    unsettled_exempt: Flags,
    /// `blocking` and not `exempt`.
    blocking_exempt: Flags,
}

impl ReadyCounts {
    fn new(mut ordinals: Vec<u32>) -> Self {
        ordinals.sort_unstable();
        ordinals.dedup();
        let n = ordinals.len();
        Self {
            ordinals,
            not_ready: Flags::new(n, true),
            unknown: vec![false; n],
            blocking: Flags::new(n, true),
            exempt: vec![false; n],
            unsettled_exempt: Flags::new(n, true),
            blocking_exempt: Flags::new(n, true),
        }
    }

    /// Exempts ordinals `ks` (those the history names) from blocking, when asked with `exempt`.
    fn exempt(&mut self, ks: impl IntoIterator<Item = u32>) {
        for k in ks {
            if let Some(position) = self.position(k) {
                self.exempt[position] = true;
                self.update(position);
            }
        }
    }

    /// The flags of the pods that are not Ready (`exempt`: and not exempt).
    fn unsettled(&self, exempt: bool) -> &Flags {
        if exempt { &self.unsettled_exempt } else { &self.not_ready }
    }

    fn position(&self, k: u32) -> Option<usize> {
        self.ordinals.binary_search(&k).ok()
    }

    /// The first position whose ordinal is `k` or more.
    fn position_from(&self, k: u32) -> usize {
        self.ordinals.partition_point(|o| *o < k)
    }

    fn update(&mut self, position: usize) {
        let not_ready = self.not_ready.get(position);
        let blocking = not_ready && !self.unknown[position];
        let exempt = self.exempt[position];
        self.blocking.set(position, blocking);
        self.unsettled_exempt.set(position, not_ready && !exempt);
        self.blocking_exempt.set(position, blocking && !exempt);
    }

    fn set(&mut self, k: u32, ready: bool) {
        // Every ordinal of the history is named by construction.
        let Some(position) = self.position(k) else { return };
        self.not_ready.set(position, !ready);
        self.update(position);
    }

    fn set_unknown(&mut self, k: u32, unknown: bool) {
        let Some(position) = self.position(k) else { return };
        if self.unknown[position] != unknown {
            self.unknown[position] = unknown;
            self.update(position);
        }
    }

    #[cfg(test)]
    fn is_unknown(&self, k: u32) -> bool {
        self.position(k).is_some_and(|p| self.unknown[p])
    }

    /// Every ordinal `from..k` is Ready: the history names exactly `k - from` ordinals there
    /// (so none is missing), and all of them are Ready.
    fn all_between(&self, from: u32, k: u32) -> bool {
        if from >= k {
            return true;
        }
        let (first, below) = (self.position_from(from), self.position_from(k));
        below - first == (k - from) as usize && self.not_ready.count_before(below) == self.not_ready.count_before(first)
    }

    /// The end of the run of ordinals from `j` on that are named without a gap: the position
    /// after its last one (`position_from(j)` when `j` is not named).
    fn run_end(&self, j: u32) -> usize {
        let pos = self.position_from(j);
        if self.ordinals.get(pos) != Some(&j) {
            return pos;
        }
        // Positions from `pos` whose ordinals run on from `j` without a gap: those where
        // `ordinal - position` stays `j - pos` (it never falls: the ordinals are distinct).
        let base = u64::from(j) - pos as u64;
        let (mut lo, mut hi) = (pos, self.ordinals.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if u64::from(self.ordinals[mid]) - mid as u64 == base {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The ordinals from `j` on that are named without a gap and all Ready (`exempt`: or
    /// exempt): the ordinal after them (`j` itself when `j` is not one of them).
    fn skip_settled(&self, j: u32, exempt: bool) -> u32 {
        let pos = self.position_from(j);
        let run_end = self.run_end(j);
        if run_end == pos {
            return j;
        }
        let first_unsettled = self.unsettled(exempt).next_on(pos);
        if first_unsettled < run_end {
            self.ordinals[first_unsettled]
        } else {
            // Within u32: the run's last ordinal is one of `ordinals`.
            self.ordinals[run_end - 1] + 1
        }
    }

    /// The first named ordinal at or after `j` whose pod blocks (known and not Running and
    /// Ready; `exempt`: and not exempt), if any.
    fn next_blocking(&self, j: u32, exempt: bool) -> Option<u32> {
        let flags = if exempt { &self.blocking_exempt } else { &self.blocking };
        self.ordinals.get(flags.next_on(self.position_from(j))).copied()
    }

    /// How many ordinals in `from..to` are named and Ready (`exempt`: or exempt).
    fn settled_in(&self, from: u32, to: u32, exempt: bool) -> usize {
        let (a, b) = (self.position_from(from), self.position_from(to));
        let unsettled = self.unsettled(exempt);
        (b - a) - (unsettled.count_before(b) - unsettled.count_before(a))
    }
}

/// Replays `window`, handing each entry with the state just before it: the whole view and
/// the target set's pods.
///
/// With `mentions` (a partial history's), the state also knows which pods are unknown.
///
/// The ordinals in `exempt` may be in any state when asked (`predecessors_among`'s `exempt`).
fn replay_set<'a>(
    window: &Window<'a>,
    mentions: Option<&FirstMentions<'_>>,
    exempt: &BTreeSet<u32>,
    mut f: impl FnMut(&View, &SetState, &'a Entry),
) {
    let mut set: Option<SetState> = None;
    window.replay(|view, entry| {
        let state = set.get_or_insert_with(|| {
            let mut state = SetState::of(view, window.target, &window.timeline.entries);
            if let Some(mentions) = mentions {
                state.track_unknown(mentions, window.target, entry.seq);
            }
            state.ready.exempt(exempt.iter().copied());
            state
        });
        f(view, state, entry);
        state.apply(&entry.event, window.target);
    });
}

/// What a history says about a pod at one point.
enum Known<'v> {
    /// It existed in this state, or (`None`) it did not exist.
    Pod(Option<&'v PodObs>),
    /// The history cannot say: a partial history (a transcript) that does not mention the pod
    /// before this point, nor shows it being created later.
    Unknown,
}

/// The first entry of each pod name, and whether it shows the pod being created.
struct FirstMentions<'t>(foldhash::HashMap<&'t str, (usize, bool)>);

impl<'t> FirstMentions<'t> {
    fn of(window: &Window<'t>) -> Self {
        let mut first = foldhash::HashMap::default();
        if window.timeline.partial {
            for entry in &window.timeline.entries {
                if let Event::Pod { change, pod } = &entry.event {
                    first.entry(pod.name.as_ref()).or_insert((entry.seq, *change == Change::Added));
                }
            }
        }
        Self(first)
    }

    /// The state of pod `name` in `view`, the state just before entry `at`.
    fn state<'v>(&self, window: &Window<'_>, view: &'v View, name: &str, at: usize) -> Known<'v> {
        if let Some(pod) = view.pods.get(name) {
            return Known::Pod(Some(pod));
        }
        if !window.timeline.partial {
            return Known::Pod(None);
        }
        match self.0.get(name) {
            // Mentioned before and gone since, or created later: it did not exist.
            Some((seq, _)) if *seq < at => Known::Pod(None),
            Some((_, true)) => Known::Pod(None),
            _ => Known::Unknown,
        }
    }
}

/// Where each pod name of the window is added, to tell a replacement (the pod terminates and
/// comes back under its name) from a removal.
struct Additions(BTreeMap<String, Vec<usize>>);

impl Additions {
    fn of(window: &Window<'_>) -> Self {
        let mut added: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for entry in window.entries() {
            if let Event::Pod { change: Change::Added, pod } = &entry.event {
                added.entry(pod.name.to_string()).or_default().push(entry.seq);
            }
        }
        Self(added)
    }

    /// Whether pod `name` is added again after entry `seq`.
    fn comes_back(&self, name: &str, seq: usize) -> bool {
        self.0.get(name).is_some_and(|seqs| seqs.last().is_some_and(|last| *last > seq))
    }
}

/// What the history says of pods 0..k of the target just before entry `at`.
#[derive(Default)]
struct Predecessors<'v> {
    /// The first that is not Running and Ready: its name and state (`None`: it did not exist).
    blocking: Option<(String, Option<&'v PodObs>)>,
    /// Those whose state a partial history cannot tell (before the blocking one), by name or
    /// as ranges of names: the first [`Predecessors::NAMED`].
    unknown: Vec<String>,
    /// How many more there are.
    more_unknown: usize,
}

fn predecessors<'v>(
    window: &Window<'_>,
    mentions: &FirstMentions<'_>,
    set: &SetState,
    view: &'v View,
    k: u32,
    at: usize,
) -> Predecessors<'v> {
    // The set's first ordinal (`spec.ordinals.start`) as known then: the pods below it are
    // never its predecessors.
    let start = view.sets.get(window.target).map_or(0, |s| s.start_ordinal);
    predecessors_among(window, mentions, set, view, k, at, start..u32::MAX, false)
}

/// [`predecessors`], for the ordinals in `among` below `k` (`exempt`: but the exempt ones,
/// [`SetState::exempt`]).
///
/// The walk jumps from one pod that may block to the next (indexed: log n each), counting on
/// the way the ones a partial history cannot tell, so its cost follows the history's size and
/// not the ordinals' values (`web-4294967295`) nor how many pods lie below `k`.
#[allow(clippy::too_many_arguments)]
fn predecessors_among<'v>(
    window: &Window<'_>,
    mentions: &FirstMentions<'_>,
    set: &SetState,
    view: &'v View,
    k: u32,
    at: usize,
    among: std::ops::Range<u32>,
    exempt: bool,
) -> Predecessors<'v> {
    let mut found = Predecessors::default();
    if set.all_ready_between(among.start, k) {
        return found;
    }
    let limit = k.min(among.end);
    let counts = &set.ready;
    let name = |j: u32| format!("{}-{j}", window.target);
    let partial = window.timeline.partial;
    let mut j = among.start;
    while j < limit {
        // The next pod known not to be Running and Ready (and not exempt). A complete history
        // knows every pod: an ordinal it never names did not exist, and blocks too; in a
        // partial one it is unknown.
        let mut candidate = counts.next_blocking(j, exempt).map_or(limit, |b| b.min(limit));
        if !partial {
            let run = counts.skip_settled(j, exempt);
            if counts.position(run).is_none() {
                candidate = candidate.min(run);
            }
        } else {
            let unknown = (candidate - j) as usize - counts.settled_in(j, candidate, exempt);
            if unknown > 0 {
                found.note_unknown(counts, j, candidate, unknown, exempt, &name);
            }
        }
        j = candidate;
        if j >= limit {
            break;
        }
        match mentions.state(window, view, &name(j), at) {
            Known::Pod(Some(p)) if p.running_and_ready() => {}
            Known::Pod(state) => {
                found.blocking = Some((name(j), state));
                return found;
            }
            Known::Unknown => found.note_unknown(counts, j, j + 1, 1, exempt, &name),
        }
        j += 1;
    }
    found
}

impl Predecessors<'_> {
    /// Most entries of [`Predecessors::unknown`]: the rest are only counted.
    const NAMED: usize = 8;

    /// Records the `count` unknown ordinals of `from..to` (every ordinal there that is not
    /// Ready): named pod by pod, a run of five or more never-named ordinals as one range, up to
    /// [`Self::NAMED`] entries, the rest counted in [`Predecessors::more_unknown`]. Costs
    /// log n an entry, whatever the range's length.
    fn note_unknown(
        &mut self,
        counts: &ReadyCounts,
        from: u32,
        to: u32,
        count: usize,
        exempt: bool,
        name: &impl Fn(u32) -> String,
    ) {
        let mut covered = 0usize;
        let mut j = from;
        while j < to && self.unknown.len() < Self::NAMED {
            let pos = counts.position_from(j);
            if counts.ordinals.get(pos) != Some(&j) {
                // Never named up to the next named ordinal: a short run pod by pod, a long one
                // as a range.
                let next = counts.ordinals.get(pos).copied().unwrap_or(to).min(to);
                if next - j < 5 {
                    self.unknown.extend((j..next).map(name));
                } else {
                    self.unknown.push(format!("{}…{}", name(j), name(next - 1)));
                }
                covered += (next - j) as usize;
                j = next;
            } else if counts.unsettled(exempt).get(pos) {
                self.unknown.push(name(j));
                covered += 1;
                j += 1;
            } else {
                // A run of Ready (or exempt) pods.
                j = counts.skip_settled(j, exempt).min(to);
            }
        }
        self.more_unknown += count.saturating_sub(covered);
    }
}

/// The entries of each pod name, in order, indexed once per check when first asked: "the
/// latest entry of this pod before here" and "is it mentioned again" cost log n, not a scan of
/// the history.
struct PodEntries<'t> {
    entries: &'t [Entry],
    index: std::cell::OnceCell<HashMap<&'t str, Vec<usize>>>,
}

impl<'t> PodEntries<'t> {
    fn of(window: &Window<'t>) -> Self {
        Self { entries: &window.timeline.entries, index: std::cell::OnceCell::new() }
    }

    fn seqs(&self, name: &str) -> Option<&[usize]> {
        let index = self.index.get_or_init(|| {
            let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
            for entry in self.entries {
                if let Event::Pod { pod, .. } = &entry.event {
                    index.entry(pod.name.as_ref()).or_default().push(entry.seq);
                }
            }
            index
        });
        index.get(name).map(Vec::as_slice)
    }

    /// The latest entry in `[0, end)` that concerns pod `name`, for evidence.
    fn last_before(&self, name: &str, end: usize) -> Option<usize> {
        let seqs = self.seqs(name)?;
        seqs[..seqs.partition_point(|s| *s < end)].last().copied()
    }

    /// Whether pod `name` appears in an entry after `seq` in the window.
    fn mentioned_after(&self, window: &Window<'_>, name: &str, seq: usize) -> bool {
        self.seqs(name).is_some_and(|seqs| seqs.get(seqs.partition_point(|s| *s <= seq)).is_some_and(|s| *s < window.range.end))
    }
}

fn describe(pod: Option<&&PodObs>) -> String {
    match pod {
        None => "did not exist".into(),
        Some(p) if p.terminating => "was terminating".into(),
        Some(p) if p.phase != "Running" => format!("was {}", p.phase),
        Some(_) => "was Running but not Ready".into(),
    }
}

/// **ordered-creation** — with OrderedReady, every pod k > 0 of the set created in the window
/// first appears while each of pods 0..k-1 exists, is not terminating, and is Running and Ready.
/// Not applicable with Parallel or when no pod was created.
pub(super) fn ordered_creation(window: &Window<'_>) -> Outcome {
    let pod_entries = PodEntries::of(window);
    let check = CheckName::OrderedCreation;
    if window.policy() == Policy::Parallel {
        return Outcome::new(check, Verdict::NotApplicable, "the set is Parallel: no creation order is promised", vec![]);
    }
    let mentions = FirstMentions::of(window);
    let mut creations = Vec::new();
    let mut violations = Vec::new();
    let mut unknown: Vec<(String, usize)> = Vec::new();
    replay_set(window, Some(&mentions), &BTreeSet::new(), |view, set, entry| {
        let Some((k, pod)) = created(window, view, entry) else { return };
        creations.push((k, entry.seq));
        let found = predecessors(window, &mentions, set, view, k, entry.seq);
        if let Some((name, state)) = found.blocking {
            let mut evidence = vec![entry.seq];
            evidence.extend(pod_entries.last_before(&name, entry.seq));
            violations
                .push((format!("{} was created (#{}) while {name} {}", pod.name, entry.seq, describe(state.as_ref())), evidence));
            return;
        }
        let mut unseen = found.unknown;
        if found.more_unknown > 0 {
            unseen.push(format!("{} more", found.more_unknown));
        }
        // Only the first is reported: its message is built once, not for every creation.
        if !unseen.is_empty() && !unknown.is_empty() {
            unknown.push((String::new(), entry.seq));
        } else if !unseen.is_empty() {
            unknown.push((
                format!(
                    "{} was created (#{}) but the transcript shows nothing of {} before it",
                    pod.name,
                    entry.seq,
                    unseen.join(", ")
                ),
                entry.seq,
            ));
        }
    });
    if creations.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod of the set was created in this window", vec![]);
    }
    if let Some((detail, _)) = violations.first() {
        let evidence = violations.iter().flat_map(|(_, e)| e.iter().copied()).collect();
        let more = if violations.len() > 1 { format!(" (and {} more)", violations.len() - 1) } else { String::new() };
        return Outcome::new(check, Verdict::Fail, format!("{detail}{more}"), evidence);
    }
    if let Some((detail, _)) = unknown.first() {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{detail}, so whether they were Ready cannot be judged"),
            unknown.iter().map(|(_, s)| *s).collect(),
        );
    }
    let order: Vec<String> = creations.iter().map(|(k, _)| format!("{}-{k}", window.target)).collect();
    Outcome::new(
        check,
        Verdict::Pass,
        format!("created {} each after all predecessors were Running and Ready", order.join(", ")),
        creations.iter().map(|(_, s)| *s).collect(),
    )
}

/// Whether pod `k` may have been deleted by a rolling update rather than by a scale-down: the
/// set rolls with RollingUpdate, the pod is at or above the partition and not on the update
/// revision. The controller may have decided that replacement in a sync that began before the
/// scale-down was seen (`stateful_set_control.go` deletes "for update" the highest such pod).
fn update_candidate(view: &View, target: &str, k: u32, pod: &PodObs) -> Option<String> {
    let set = view.sets.get(target)?;
    let update = set.update_revision.as_deref()?;
    let revision = pod.revision()?;
    (set.update_strategy == "RollingUpdate" && k >= set.partition && revision != update)
        .then(|| format!("{} was on revision {revision} while the set rolled out {update}", pod.name))
}

/// **reverse-termination** — with OrderedReady, when pod k begins terminating no pod of the set
/// with a higher ordinal exists any more (so termination runs from the highest ordinal down,
/// one at a time, each after the previous one is gone), and pods 0..k-1 are Running and Ready.
pub(super) fn reverse_termination(window: &Window<'_>) -> Outcome {
    let pod_entries = PodEntries::of(window);
    let check = CheckName::ReverseTermination;
    if window.policy() == Policy::Parallel {
        return Outcome::new(check, Verdict::NotApplicable, "the set is Parallel: no termination order is promised", vec![]);
    }
    let mentions = FirstMentions::of(window);
    // Without the StatefulSet's spec (a transcript), a pod that terminates and comes back was
    // replaced, not scaled away: reverse-rollout judges those.
    let additions = window.set_after().is_none().then(|| Additions::of(window));
    // Without the spec (a transcript), the pods that stay are those that never terminate here.
    let mut condemned = BTreeSet::new();
    window.replay(|view, entry| {
        if let Some((k, _)) = begins_terminating(window, view, entry) {
            condemned.insert(k);
        }
    });
    let mut unjudged = BTreeSet::new();
    // Unknown predecessors beyond those named, at the termination with the most.
    let mut unjudged_more = 0;
    let mut terminations = Vec::new();
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let mut by_update: Vec<(String, usize)> = Vec::new();
    let mut unshown: Vec<(String, usize)> = Vec::new();
    replay_set(window, Some(&mentions), &condemned, |view, set, entry| {
        let Some((k, pod)) = begins_terminating(window, view, entry) else { return };
        if additions.as_ref().is_some_and(|a| a.comes_back(&pod.name, entry.seq)) {
            return;
        }
        terminations.push((k, entry.seq));
        // The pods the spec keeps are not successors to wait for: with `spec.ordinals.start`
        // raised, the pods below the start are condemned while kept ones lie above them.
        let kept = view.sets.get(window.target).map(SetObs::ordinals);
        let condemned_above = set.above(k, u32::MAX).find(|(j, _)| !kept.as_ref().is_some_and(|r| r.contains(j)));
        if let Some((j, higher)) = condemned_above {
            if let Some(why) = update_candidate(view, window.target, k, pod) {
                by_update.push((why, entry.seq));
                return;
            }
            // A partial history (a transcript) may not show a deletion: a terminating pod that is
            // never printed again after this may have been gone already. Only a later line about
            // it proves it was still there.
            if higher.terminating && window.timeline.partial && !pod_entries.mentioned_after(window, &higher.name, entry.seq) {
                let shown = pod_entries.last_before(&higher.name, entry.seq);
                unshown.push((
                    format!(
                        "{} began terminating (#{}) after the last line of {} (#{}), which still shows it terminating: its deletion is not shown, so whether it was gone cannot be told",
                        pod.name,
                        entry.seq,
                        higher.name,
                        shown.unwrap_or(entry.seq)
                    ),
                    entry.seq,
                ));
                return;
            }
            let state = if higher.terminating { "still terminating" } else { "still present" };
            let mut evidence = vec![entry.seq];
            evidence.extend(pod_entries.last_before(&higher.name, entry.seq));
            violations.push((
                format!("{} began terminating (#{}) while {}-{j} was {state}", pod.name, entry.seq, window.target),
                evidence,
            ));
            return;
        }
        // The controller waits for the pods that stay (ordinals below the new replica count) to
        // be Running and Ready; a condemned predecessor may be in any state
        // (`processReplica` then `processCondemned` in stateful_set_control.go).
        let found = match view.sets.get(window.target) {
            // For a condemned pod, every kept one, below or above it (with a raised start
            // ordinal the kept pods lie above the condemned ones); for a kept pod, those below.
            Some(spec) => {
                let kept = spec.ordinals();
                let upto = if kept.contains(&k) { k } else { kept.end };
                predecessors_among(window, &mentions, set, view, upto, entry.seq, kept, false)
            }
            None => predecessors_among(window, &mentions, set, view, k, entry.seq, 0..u32::MAX, true),
        };
        unjudged.extend(found.unknown);
        unjudged_more = unjudged_more.max(found.more_unknown);
        if let Some((name, state)) = found.blocking {
            let mut evidence = vec![entry.seq];
            evidence.extend(pod_entries.last_before(&name, entry.seq));
            violations.push((
                format!(
                    "{} began terminating (#{}) while its predecessor {name} {}",
                    pod.name,
                    entry.seq,
                    describe(state.as_ref())
                ),
                evidence,
            ));
        }
    });
    if terminations.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod of the set terminated in this window", vec![]);
    }
    if let Some((detail, _)) = violations.first() {
        let evidence = violations.iter().flat_map(|(_, e)| e.iter().copied()).collect();
        return Outcome::new(check, Verdict::Fail, detail.clone(), evidence);
    }
    if let Some((why, _)) = unshown.first() {
        return Outcome::new(check, Verdict::Inconclusive, why.clone(), unshown.iter().map(|(_, seq)| *seq).collect());
    }
    if let Some((why, _)) = by_update.first() {
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("{why}: it may have been replaced by the update rather than scaled down, so the order cannot be judged"),
            by_update.iter().map(|(_, seq)| *seq).collect(),
        );
    }
    let order: Vec<String> = terminations.iter().map(|(k, _)| format!("{}-{k}", window.target)).collect();
    let unjudged = if unjudged.is_empty() {
        String::new()
    } else {
        let mut names: Vec<String> = unjudged.into_iter().collect();
        if unjudged_more > 0 {
            names.push(format!("at least {unjudged_more} more"));
        }
        format!(" (the transcript never shows {}: not judged whether it was Ready)", names.join(", "))
    };
    Outcome::new(
        check,
        Verdict::Pass,
        format!("terminated {} in turn, each after its successors were gone{unjudged}", order.join(", ")),
        terminations.iter().map(|(_, s)| *s).collect(),
    )
}

/// **parallel-burst** — with Parallel, the controller launches (and terminates) pods without
/// waiting (`stateful_set_control.go`: with a non-monotonic policy one sync creates every missing
/// pod and deletes every condemned one, whatever their readiness). The proof is one pod created
/// while a predecessor (a lower ordinal) was not Running and Ready, or one pod that began
/// terminating while a successor (a higher ordinal) still existed: OrderedReady never does that.
///
/// It fails only where pods are held unready: a creation or deletion the spec asked for, left
/// undone for `unhealthy::BURST_STALL_MS` (20 s) while a pod of the set was unready, is a controller
/// that waits for readiness. How fast pods become Ready decides nothing: a burst is not instant
/// (the controller issues its requests in growing batches under its client's rate limit, so in
/// a large set later pods come after earlier ones are Ready), so pods that came one after the
/// other, each once the previous was Ready (gone), are `inconclusive`, as are pods Ready as soon
/// as seen. Each direction needs two or more pods.
pub(super) fn parallel_burst(window: &Window<'_>) -> Outcome {
    let check = CheckName::ParallelBurst;
    if window.policy() != Policy::Parallel {
        return Outcome::new(check, Verdict::NotApplicable, "the set is not Parallel", vec![]);
    }
    if let Some((detail, evidence)) = super::unhealthy::parallel_stall(window) {
        return Outcome::new(
            check,
            Verdict::Fail,
            format!("{detail}: the controller waited for readiness, which Parallel never does"),
            evidence,
        );
    }
    let mut creations = Burst::default();
    let mut terminations = Burst::default();
    // Per pod UID: when it was created, and when it became Ready after being seen not Ready.
    let mut created_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut ready_after_wait: BTreeMap<String, usize> = BTreeMap::new();
    // Per pod UID: when it began terminating, and when it was gone after being seen terminating.
    let mut terminating_at: BTreeMap<String, usize> = BTreeMap::new();
    let mut gone_after_wait: BTreeMap<u32, (String, usize)> = BTreeMap::new();
    window.replay(|view, entry| {
        let pods = view.set_pods(window.target);
        if let Some((k, pod)) = created(window, view, entry) {
            creations.count += 1;
            let start = view.sets.get(window.target).map_or(0, |s| s.start_ordinal.min(k));
            let unready = crate::timeline::first_ordinal_not(&pods, start..k, |p| p.running_and_ready() && !p.terminating);
            if let Some(i) = unready {
                creations.proof.get_or_insert_with(|| {
                    (
                        format!(
                            "{} was created (#{}) while {}-{i} was not Running and Ready",
                            pod.name, entry.seq, window.target
                        ),
                        entry.seq,
                    )
                });
            } else if let Some((p, at)) =
                k.checked_sub(1).and_then(|i| pods.get(&i)).and_then(|p| Some((p, *ready_after_wait.get(&*p.uid)?)))
            {
                creations.waited.push((
                    format!("{} was created (#{}) only after {} became Ready (#{at})", pod.name, entry.seq, p.name),
                    vec![at, entry.seq],
                ));
            }
            created_at.insert(pod.uid.to_string(), entry.seq);
        }
        if let Some((k, pod)) = begins_terminating(window, view, entry) {
            terminations.count += 1;
            let successor = pods.iter().find(|(o, p)| **o > k && p.uid != pod.uid).map(|(_, p)| p.name.clone());
            match successor {
                Some(next) => {
                    terminations.proof.get_or_insert_with(|| {
                        (format!("{} began terminating (#{}) while {next} still existed", pod.name, entry.seq), entry.seq)
                    });
                }
                None => {
                    if let Some((name, at)) = gone_after_wait.get(&(k + 1)) {
                        terminations.waited.push((
                            format!("{} began terminating (#{}) only after {name} was gone (#{at})", pod.name, entry.seq),
                            vec![*at, entry.seq],
                        ));
                    }
                }
            }
            terminating_at.insert(pod.uid.to_string(), entry.seq);
        }
        if let Event::Pod { change, pod } = &entry.event {
            let before = view.pods.get(&pod.name).filter(|old| old.uid == pod.uid);
            if created_at.contains_key(&*pod.uid) && pod.running_and_ready() && before.is_some_and(|old| !old.running_and_ready())
            {
                ready_after_wait.entry(pod.uid.to_string()).or_insert(entry.seq);
            }
            if *change == Change::Deleted
                && terminating_at.get(&*pod.uid).is_some_and(|at| *at < entry.seq)
                && let Some(k) = pod.ordinal_in(window.target)
            {
                gone_after_wait.insert(k, (pod.name.to_string(), entry.seq));
            }
        }
    });
    let judged = [("created", creations), ("terminated", terminations)].map(|(what, b)| (what, b.judge(what)));
    if judged.iter().all(|(_, j)| j.is_none()) {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            "fewer than two pods were created or terminated in this window",
            vec![],
        );
    }
    let verdict = |v: Verdict| judged.iter().filter_map(move |(what, j)| j.as_ref().filter(|j| j.0 == v).map(|j| (*what, j)));
    let details: Vec<String> = verdict(Verdict::Pass).map(|(_, (_, detail, _))| detail.clone()).collect();
    if !details.is_empty() {
        let evidence = verdict(Verdict::Pass).flat_map(|(_, (_, _, e))| e.iter().copied()).collect();
        return Outcome::new(check, Verdict::Pass, details.join("; "), evidence);
    }
    match verdict(Verdict::Inconclusive).next() {
        Some((what, (_, detail, evidence))) => {
            Outcome::new(check, Verdict::Inconclusive, format!("pods {what} in order, {detail}"), evidence.clone())
        }
        None => Outcome::new(check, Verdict::NotApplicable, "no pod of the set was created or terminated", vec![]),
    }
}

/// One direction (creations or terminations) of a [`parallel_burst`] window.
#[derive(Default)]
struct Burst {
    count: usize,
    /// The first event out of OrderedReady's order: proof of a burst.
    proof: Option<(String, usize)>,
    /// Events that came only after a wait OrderedReady would have made (or a rate-limited
    /// burst: they prove nothing).
    waited: Vec<(String, Vec<usize>)>,
}

impl Burst {
    /// `None` with fewer than two events; else the verdict, its detail and evidence. `what`:
    /// "created" or "terminated".
    fn judge(self, what: &str) -> Option<(Verdict, String, Vec<usize>)> {
        if self.count < 2 {
            return None;
        }
        Some(match (self.proof, self.waited.first()) {
            (Some((detail, seq)), _) => {
                (Verdict::Pass, format!("{} pods {what} without waiting for each other: {detail}", self.count), vec![seq])
            }
            (None, Some((detail, evidence))) => (
                Verdict::Inconclusive,
                format!(
                    "{detail}: a burst under the controller's rate limit can look like that too (hold a pod unready to tell)"
                ),
                evidence.clone(),
            ),
            (None, None) => (
                Verdict::Inconclusive,
                "each already Ready (gone) when seen: the history cannot tell a burst from waiting".to_owned(),
                vec![],
            ),
        })
    }
}

/// **reverse-rollout** — with RollingUpdate, a pod k at or above the partition is replaced
/// (begins terminating) only while every pod of the set with a higher ordinal is Running, Ready
/// and updated; at the end every pod at or above the partition is on the update revision; and
/// no pod below the partition ends on the update revision unless it was on it before — a pod
/// below the partition may be deleted (by anyone) but must come back on its old revision.
/// "Updated" means on the update revision when the history has revisions, else replaced
/// earlier in the window (a transcript, where a replacement is a pod that terminates and comes
/// back under its name).
pub(super) fn reverse_rollout(window: &Window<'_>) -> Outcome {
    let pod_entries = PodEntries::of(window);
    let check = CheckName::ReverseRollout;
    let before = window.view_before();
    let after = window.view_after();
    let set = after.sets.get(window.target);
    if set.is_some_and(|s| s.update_strategy == "OnDelete") {
        return Outcome::new(check, Verdict::NotApplicable, "the set uses OnDelete: the controller replaces nothing", vec![]);
    }
    if let Some(budget) = set.and_then(SetObs::max_unavailable_count).filter(|b| *b > 1) {
        return Outcome::new(
            check,
            Verdict::NotApplicable,
            format!(
                "maxUnavailable {budget}: the controller may replace {budget} pods at once; max-unavailable judges this roll-out"
            ),
            vec![],
        );
    }
    // The partition counts from the start ordinal: the first ordinal it protects.
    let partition = set.map_or(0, SetObs::partition_ordinal);
    let start = set.map_or(0, |s| s.start_ordinal);
    let update_revision = set.and_then(|s| s.update_revision.clone());
    let mut replaced: BTreeSet<u32> = BTreeSet::new();
    let mut replacements = Vec::new();
    let mut below: Vec<(u32, usize)> = Vec::new();
    let mut violations: Vec<(String, Vec<usize>)> = Vec::new();
    let updated = |pod: &PodObs, ordinal: u32, replaced: &BTreeSet<u32>| match &update_revision {
        Some(rev) => pod.revision() == Some(rev.as_str()),
        None => replaced.contains(&ordinal),
    };
    // Without revisions (a transcript), a replacement is a pod that terminates and comes back;
    // one that does not come back was removed (a scale-down), which is not a rollout.
    let additions = update_revision.is_none().then(|| Additions::of(window));
    let mut assumed: BTreeSet<String> = BTreeSet::new();
    replay_set(window, None, &BTreeSet::new(), |view, pods, entry| {
        // A pod that reappears after terminating completes a replacement.
        if let Some((k, _)) = created(window, view, entry)
            && replacements.iter().any(|(r, _)| *r == k)
        {
            replaced.insert(k);
        }
        let Some((k, pod)) = begins_terminating(window, view, entry) else { return };
        if additions.as_ref().is_some_and(|a| !a.comes_back(&pod.name, entry.seq)) {
            return;
        }
        if set.is_some_and(|s| !s.ordinals().contains(&k)) {
            // Outside the set's ordinals: removed by a scale-down, not replaced.
            return;
        }
        if k < partition {
            // Judged by the revision it comes back on, below.
            below.push((k, entry.seq));
            return;
        }
        replacements.push((k, entry.seq));
        let upper = set.map_or(u32::MAX, |s| s.ordinals().end);
        // Successors up to the replica count (none when k is beyond it, as in a scale-down).
        for (j, successor) in pods.above(k, upper) {
            // Without revisions, a successor this window never replaced may have been updated
            // before it began (a roll-out under way, a canary): only its replacement later in the
            // window proves it was not updated yet.
            if successor.running_and_ready()
                && !updated(successor, *j, &replaced)
                && additions.as_ref().is_some_and(|a| !a.comes_back(&successor.name, entry.seq))
            {
                assumed.insert(successor.name.to_string());
                continue;
            }
            if !(successor.running_and_ready() && updated(successor, *j, &replaced)) {
                let state = if !successor.running_and_ready() { "not yet Running and Ready" } else { "not yet updated" };
                let mut evidence = vec![entry.seq];
                evidence.extend(pod_entries.last_before(&successor.name, entry.seq));
                violations
                    .push((format!("{} was replaced (#{}) while {} was {state}", pod.name, entry.seq, successor.name), evidence));
                return;
            }
        }
    });
    // Completeness and the partition, when the history knows the revision to reach. A step
    // that ended early (the harness stopped waiting) shows no end state: what is not done
    // there is unfinished, not wrong.
    let mut restored = Vec::new();
    let mut unfinished = None;
    if let (Some(rev), Some(set)) = (&update_revision, set) {
        let pods = after.set_pods(window.target);
        let before_completeness = violations.len();
        // The pods present, and one line for each run of missing ordinals: the cost follows
        // the history, not the replica count.
        let mut expected = partition;
        let end = set.ordinals().end;
        for (&ordinal, pod) in pods.range(partition..end.max(partition)) {
            if ordinal > expected {
                violations.push((format!("{}-{expected} did not exist at the end", window.target), vec![]));
            }
            expected = ordinal + 1;
            match pod {
                pod if pod.revision() == Some(rev.as_str()) && pod.running_and_ready() => {}
                pod if pod.revision() != Some(rev.as_str()) => {
                    let evidence = pod_entries.last_before(&pod.name, window.range.end).into_iter().collect();
                    violations.push((
                        format!("{} was still on revision {} at the end, not {rev}", pod.name, pod.revision().unwrap_or("?")),
                        evidence,
                    ));
                }
                pod => {
                    let evidence = pod_entries.last_before(&pod.name, window.range.end).into_iter().collect();
                    violations.push((format!("{} was on {rev} but not Running and Ready at the end", pod.name), evidence));
                }
            }
        }
        if expected < end {
            violations.push((format!("{}-{expected} did not exist at the end", window.target), vec![]));
        }
        if window.ended_early && violations.len() > before_completeness {
            unfinished = violations.drain(before_completeness..).next().map(|(detail, _)| detail);
        }
        let old = before.set_pods(window.target);
        for (ordinal, pod) in pods.range(start..partition.max(start)) {
            let was = old.get(ordinal).and_then(|p| p.revision());
            let evidence: Vec<usize> = pod_entries.last_before(&pod.name, window.range.end).into_iter().collect();
            if pod.revision() == Some(rev.as_str()) && was != Some(rev.as_str()) {
                violations.push((
                    format!(
                        "{} (ordinal {ordinal}) is below the partition {partition} but moved to the update revision {rev} (#{})",
                        pod.name,
                        evidence.first().copied().unwrap_or(0)
                    ),
                    evidence,
                ));
            } else if below.iter().any(|(k, _)| k == ordinal) {
                restored.push((pod.name.clone(), pod.revision().unwrap_or("?").to_owned(), evidence));
            }
        }
    }
    if let Some((detail, _)) = violations.first() {
        let evidence = violations.iter().flat_map(|(_, e)| e.iter().copied()).collect();
        return Outcome::new(check, Verdict::Fail, detail.clone(), evidence);
    }
    if let Some(detail) = unfinished {
        let evidence = replacements.iter().map(|(_, seq)| *seq).collect();
        return Outcome::new(
            check,
            Verdict::Inconclusive,
            format!("the step ended before the roll-out did ({detail}); what was replaced followed the order"),
            evidence,
        );
    }
    if replacements.is_empty() && restored.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod of the set was replaced in this window", vec![]);
    }
    let mut parts = Vec::new();
    if !replacements.is_empty() {
        let order: Vec<String> = replacements.iter().map(|(k, _)| format!("{}-{k}", window.target)).collect();
        parts.push(format!(
            "replaced {} from the highest ordinal down{}, each after the previous one was Running and Ready",
            order.join(", "),
            if partition > 0 { format!(" to the partition {partition}") } else { String::new() }
        ));
    }
    for (name, revision, _) in &restored {
        parts.push(format!("{name}, below the partition {partition}, came back on its revision {revision}"));
    }
    if !assumed.is_empty() {
        let names: Vec<&str> = assumed.iter().map(String::as_str).collect();
        parts.push(format!(
            "{} {} not replaced in this window: taken as updated before it began (a roll-out under way or a canary)",
            names.join(", "),
            if names.len() == 1 { "was" } else { "were" }
        ));
    }
    let evidence = replacements.iter().map(|(_, s)| *s).chain(restored.iter().flat_map(|(_, _, e)| e.iter().copied())).collect();
    Outcome::new(check, Verdict::Pass, parts.join("; "), evidence)
}

/// **survivors-unchanged** — the pods a scale-down keeps (ordinal below the final replica
/// count) are untouched: never terminating, same UID, same IP, no new restart.
pub(super) fn survivors_unchanged(window: &Window<'_>) -> Outcome {
    let check = CheckName::SurvivorsUnchanged;
    let before = window.view_before();
    let Some(kept) = window.set_after().map(SetObs::ordinals) else {
        return Outcome::new(check, Verdict::NotApplicable, "the StatefulSet is not in the history", vec![]);
    };
    let survivors: Vec<&PodObs> =
        before.set_pods(window.target).into_iter().filter(|(k, _)| kept.contains(k)).map(|(_, p)| p).collect();
    if survivors.is_empty() {
        return Outcome::new(check, Verdict::NotApplicable, "no pod existed before the window to survive it", vec![]);
    }
    let mut violations = Vec::new();
    for entry in window.entries() {
        let Event::Pod { change, pod } = &entry.event else { continue };
        let Some(old) = survivors.iter().find(|s| s.name == pod.name) else { continue };
        let what = if pod.uid != old.uid {
            Some("was recreated".to_owned())
        } else if *change == Change::Deleted || pod.terminating {
            Some("was terminated".to_owned())
        } else if pod.restarts > old.restarts {
            Some(format!("restarted ({} -> {})", old.restarts, pod.restarts))
        } else if pod.ip.is_some() && pod.ip != old.ip {
            Some("changed its IP".to_owned())
        } else {
            None
        };
        if let Some(what) = what {
            violations.push((format!("{} {what} (#{})", pod.name, entry.seq), entry.seq));
        }
    }
    if let Some((detail, _)) = violations.first() {
        return Outcome::new(check, Verdict::Fail, detail.clone(), violations.iter().map(|(_, s)| *s).collect());
    }
    let names: Vec<&str> = survivors.iter().map(|p| p.name.as_ref()).collect();
    Outcome::new(check, Verdict::Pass, format!("{} kept their UID, IP and restart count", names.join(", ")), vec![])
}

#[cfg(test)]
mod tests {
    use super::super::{evaluate, fixture::History};
    use super::*;
    use crate::timeline::Timeline;

    fn verdict(h: &History, check: CheckName) -> Outcome {
        evaluate(check, &h.step_window(0))
    }

    fn verdict_at(h: &History, step: usize, check: CheckName) -> Outcome {
        evaluate(check, &h.step_window(step))
    }

    #[test]
    fn ordered_creation_passes_when_each_waits_for_ready() {
        let mut h = History::new().set(3, "OrderedReady");
        h.step(0);
        h.bring_up(3);
        let out = verdict(&h, CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert_eq!(out.evidence.len(), 3);
    }

    #[test]
    fn ready_counts_answer_for_any_prefix() {
        let mut counts = ReadyCounts::new(vec![4, 0, 2, 1, 2, 7]);
        assert!(counts.all_between(0, 0));
        assert!(!counts.all_between(0, 1));
        for k in [0, 1, 2] {
            counts.set(k, true);
        }
        assert!(counts.all_between(0, 3));
        // 3 is never named: 0..4 cannot all be Ready.
        counts.set(4, true);
        assert!(!counts.all_between(0, 4) && !counts.all_between(0, 5));
        counts.set(1, false);
        assert!(counts.all_between(0, 1) && !counts.all_between(0, 2));
        counts.set(1, true);
        counts.set(1, true);
        assert!(counts.all_between(0, 3));
        assert!(!counts.all_between(0, u32::MAX));
        assert_eq!(counts.skip_settled(0, false), 3, "0..3 named and Ready, 3 never named");
        assert_eq!(counts.skip_settled(3, false), 3);
        assert_eq!(counts.skip_settled(4, false), 5, "4 Ready, 5 never named");
        assert_eq!(counts.skip_settled(7, false), 7, "7 not Ready");
        counts.set(1, false);
        assert_eq!(counts.skip_settled(0, false), 1);
        assert_eq!(counts.not_ready.next_on(0), 1);
        assert_eq!(counts.not_ready.next_on(2), 4, "position 4 is ordinal 7");
        counts.set(7, true);
        assert_eq!(counts.not_ready.next_on(2), 5, "none: the length");
        // An ordinal the history never names changes nothing (none is, by construction).
        counts.set(3, true);
        assert!(!counts.all_between(0, 5));
    }

    /// The walk before the unknown pods were indexed: every ordinal visited, one by one.
    fn predecessors_reference(
        window: &Window<'_>,
        mentions: &FirstMentions<'_>,
        view: &View,
        k: u32,
        at: usize,
        except: &BTreeSet<u32>,
    ) -> (Option<String>, BTreeSet<u32>) {
        let mut unknown = BTreeSet::new();
        for j in (0..k).filter(|j| !except.contains(j)) {
            match mentions.state(window, view, &format!("{}-{j}", window.target), at) {
                Known::Pod(Some(p)) if p.running_and_ready() => {}
                Known::Pod(_) => return (Some(format!("{}-{j}", window.target)), unknown),
                Known::Unknown => {
                    unknown.insert(j);
                }
            }
        }
        (None, unknown)
    }

    #[test]
    fn the_indexed_walk_agrees_with_visiting_every_ordinal() {
        // Random histories, mostly partial (transcripts), of up to 12 ordinals: pods created, first seen
        // Running, made Ready or not, deleted. At every creation, the blocking pod and the
        // number of unknown ones must be what a visit of every ordinal finds.
        let (mut with_unknown, mut blocked) = (0, 0);
        let mut x = 11u64;
        let mut next = |n: u64| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % n
        };
        for _ in 0..600 {
            // A quarter of them complete histories (a watch's).
            let mut timeline = Timeline { partial: next(4) != 0, ..Timeline::default() };
            for _ in 0..(5 + next(30)) {
                let k = next(12) as u32;
                let change = [Change::Added, Change::Modified, Change::Modified, Change::Deleted][next(4) as usize];
                let ready = next(2) == 0;
                let pod = PodObs {
                    name: format!("web-{k}").into(),
                    uid: format!("web-{k}").into(),
                    phase: if ready || next(2) == 0 { "Running" } else { "Pending" }.into(),
                    ready,
                    ..PodObs::default()
                };
                timeline.push(0, Event::Pod { change, pod: pod.into() });
            }
            let start = next(3) as usize;
            let window = Window {
                timeline: &timeline,
                range: start.min(timeline.len())..timeline.len(),
                target: "web",
                namespace: "",
                cluster_domain: "cluster.local",
                expect_body: None,
                default_policy: Policy::Ordered,
                ended_early: false,
                ended_at_ms: None,
            };
            let mentions = FirstMentions::of(&window);
            // Half the histories with exceptions among the pods they name (as reverse-termination
            // exempts its condemned pods).
            let named: BTreeSet<u32> = timeline
                .entries
                .iter()
                .filter_map(|e| match &e.event {
                    Event::Pod { pod, .. } => pod.ordinal_in("web"),
                    _ => None,
                })
                .collect();
            let except: BTreeSet<u32> =
                if next(2) == 0 { named.into_iter().filter(|_| next(3) == 0).collect() } else { BTreeSet::new() };
            replay_set(&window, Some(&mentions), &except, |view, set, entry| {
                let Event::Pod { pod, .. } = &entry.event else { return };
                let Some(k) = pod.ordinal_in("web") else { return };
                let found = predecessors_among(&window, &mentions, set, view, k, entry.seq, 0..u32::MAX, !except.is_empty());
                let (blocking, unknown) = predecessors_reference(&window, &mentions, view, k, entry.seq, &except);
                assert_eq!(found.blocking.as_ref().map(|(n, _)| n.clone()), blocking, "web-{k} at #{}", entry.seq);
                let named: usize = found
                    .unknown
                    .iter()
                    .map(|u| match u.split_once('…') {
                        Some((a, b)) => {
                            let ord = |n: &str| n.rsplit_once('-').and_then(|(_, o)| o.parse::<usize>().ok()).unwrap();
                            ord(b) - ord(a) + 1
                        }
                        None => 1,
                    })
                    .sum();
                let before_blocking = match &blocking {
                    Some(b) => {
                        let b: u32 = b.rsplit_once('-').unwrap().1.parse().unwrap();
                        unknown.range(..b).count()
                    }
                    None => unknown.len(),
                };
                assert_eq!(named + found.more_unknown, before_blocking, "web-{k} at #{}: {:?}", entry.seq, found.unknown);
                with_unknown += usize::from(before_blocking > 0);
                blocked += usize::from(blocking.is_some());
            });
        }
        assert!(
            with_unknown > 50 && blocked > 50,
            "the histories exercise both: {with_unknown} with unknown pods, {blocked} blocked"
        );
    }

    #[test]
    fn unknown_pods_neither_block_nor_count_as_ready() {
        // Named: 0, 1, 2, 4, 7. 1 is unknown (mentioned later), 2 and 7 not Ready, 0 and 4 Ready.
        let mut counts = ReadyCounts::new(vec![0, 1, 2, 4, 7]);
        counts.set(0, true);
        counts.set(4, true);
        counts.set_unknown(1, true);
        assert!(counts.is_unknown(1) && !counts.is_unknown(2));
        assert_eq!(counts.next_blocking(0, false), Some(2), "1 is unknown, not blocking");
        assert_eq!(counts.next_blocking(3, false), Some(7));
        assert_eq!(counts.next_blocking(8, false), None);
        assert_eq!(counts.settled_in(0, 8, false), 2);
        assert_eq!(counts.settled_in(1, 4, false), 0);
        counts.set_unknown(1, false);
        assert_eq!(counts.next_blocking(0, false), Some(1), "mentioned, not Ready: it blocks");
        counts.set(1, true);
        assert_eq!(counts.next_blocking(0, false), Some(2));
        assert_eq!(counts.settled_in(0, 3, false), 2);
        // Exempt 2 and 7: they no longer block, and count as settled when asked so.
        counts.exempt([2, 7]);
        assert_eq!(counts.next_blocking(0, true), None);
        assert_eq!(counts.next_blocking(0, false), Some(2));
        assert_eq!(counts.settled_in(0, 8, true), 5);
        assert_eq!(counts.skip_settled(0, true), 3, "0, 1, 2 settled, 3 never named");
    }

    #[test]
    fn ready_counts_agree_with_counting_on_any_history() {
        // A deterministic walk over ready/not-ready changes, checked against the plain count.
        let named: Vec<u32> = vec![0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 20];
        let mut counts = ReadyCounts::new(named.clone());
        let mut ready = BTreeSet::new();
        let mut x = 7u32;
        for _ in 0..2_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let k = named[(x >> 8) as usize % named.len()];
            let on = !(x >> 20).is_multiple_of(3);
            counts.set(k, on);
            if on {
                ready.insert(k);
            } else {
                ready.remove(&k);
            }
            for j in 0..22 {
                assert_eq!(
                    counts.all_between(0, j),
                    ready.range(..j).count() == j as usize,
                    "all_between(0, {j}) with {ready:?}"
                );
                for from in [1, 3, 7] {
                    let want = from >= j || ready.range(from..j).count() == (j - from) as usize;
                    assert_eq!(counts.all_between(from, j), want, "all_between({from}, {j}) with {ready:?}");
                }
                let expected = (j..).find(|o| !ready.contains(o)).unwrap();
                assert_eq!(counts.skip_settled(j, false), expected, "skip_settled({j}) with {ready:?}");
            }
        }
    }

    #[test]
    fn ordered_creation_fails_when_predecessor_running_but_not_ready() {
        let mut h = History::new().set(2, "OrderedReady");
        h.step(0);
        h.create("web-0");
        let running = h.running("web-0");
        let bad = h.create("web-1");
        let out = verdict(&h, CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-1 was created") && out.detail.contains("Running but not Ready"), "{}", out.detail);
        assert_eq!(out.evidence, vec![running, bad]);
    }

    #[test]
    fn ordered_creation_fails_when_a_predecessor_is_missing_or_terminating() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        h.terminate("web-0");
        h.create("web-2");
        let out = verdict(&h, CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-0 was terminating"), "{}", out.detail);
    }

    #[test]
    fn ordered_creation_is_not_applicable_without_creations_or_with_parallel() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        assert_eq!(verdict(&h, CheckName::OrderedCreation).verdict, Verdict::NotApplicable);
        let mut p = History::new().set(2, "Parallel");
        p.step(0);
        p.create("web-0");
        p.create("web-1");
        assert_eq!(verdict(&p, CheckName::OrderedCreation).verdict, Verdict::NotApplicable);
    }

    #[test]
    fn recreating_ordinal_zero_needs_no_predecessor() {
        let mut h = History::new().set(2, "OrderedReady");
        h.bring_up(2);
        h.step(0);
        h.terminate("web-0");
        h.gone("web-0");
        h.create("web-0");
        assert_eq!(verdict(&h, CheckName::OrderedCreation).verdict, Verdict::Pass);
    }

    fn scaled_down(order: &[&str], wait_for_gone: bool) -> History {
        let mut h = History::new().set(5, "OrderedReady");
        h.bring_up(5);
        h.step(0);
        h.update_set(|s| s.replicas = 1);
        let mut pending = Vec::new();
        for name in order {
            h.terminate(name);
            if wait_for_gone {
                h.gone(name);
            } else {
                pending.push(*name);
            }
        }
        for name in pending {
            h.gone(name);
        }
        h
    }

    #[test]
    fn reverse_termination_passes_from_the_top_one_at_a_time() {
        let h = scaled_down(&["web-4", "web-3", "web-2", "web-1"], true);
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("web-4, web-3, web-2, web-1"));
    }

    #[test]
    fn reverse_termination_does_not_wait_for_condemned_predecessors() {
        // Scale 5 -> 1 while web-2, itself condemned, is not Ready: the controller deletes web-4
        // anyway (processCondemned blocks only on the remaining replicas and on a terminating
        // condemned pod above); a conformant cluster must not fail.
        let mut h = History::new().set(5, "OrderedReady");
        h.bring_up(5);
        h.step(0);
        h.unready("web-2");
        h.update_set(|s| s.replicas = 1);
        for name in ["web-4", "web-3", "web-2", "web-1"] {
            h.terminate(name);
            h.gone(name);
        }
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        // But a pod that stays must be Ready before any deletion.
        let mut h = History::new().set(5, "OrderedReady");
        h.bring_up(5);
        h.step(0);
        h.unready("web-0");
        h.update_set(|s| s.replicas = 1);
        h.terminate("web-4");
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
        assert!(out.detail.contains("predecessor web-0"), "{}", out.detail);
    }

    #[test]
    fn a_pod_replaced_by_a_rolling_update_during_a_scale_down_is_not_blamed_on_it() {
        // Seen on kube-controller-manager v1.34.4: partition lowered to 0, then scaled to 0 at
        // once; the sync that saw only the partition deleted web-1 "for update" just as the
        // scale-down began, and the next deleted web-2 for the scale-down.
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.revision("web-2", "rev2");
        h.modify("web-2", |_| {});
        h.update_set(|s| s.update_revision = Some("rev2".into()));
        h.step(0);
        h.update_set(|s| s.replicas = 0);
        h.terminate("web-1");
        h.terminate("web-2");
        h.gone("web-2");
        h.gone("web-1");
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{out:?}");
        assert!(out.detail.contains("web-1 was on revision rev1 while the set rolled out rev2"), "{}", out.detail);
        // The same order without a roll-out in progress is a violation.
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| s.replicas = 0);
        h.terminate("web-1");
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
    }

    #[test]
    fn reverse_termination_fails_from_the_bottom() {
        let h = scaled_down(&["web-1", "web-2", "web-3", "web-4"], true);
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.starts_with("web-1 began terminating"), "{}", out.detail);
    }

    #[test]
    fn reverse_termination_fails_with_two_terminating_at_once() {
        let h = scaled_down(&["web-4", "web-3"], false);
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-4 was still terminating"), "{}", out.detail);
    }

    #[test]
    fn reverse_termination_waits_for_unready_predecessors() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.unready("web-0");
        h.terminate("web-2");
        let out = verdict(&h, CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("predecessor web-0"), "{}", out.detail);
    }

    #[test]
    fn parallel_burst_passes_when_all_start_together_and_fails_when_serial() {
        let mut h = History::new().set(3, "Parallel");
        h.step(0);
        for i in 0..3 {
            h.create(&format!("web-{i}"));
        }
        for i in 0..3 {
            h.ready(&format!("web-{i}"));
        }
        assert_eq!(verdict(&h, CheckName::ParallelBurst).verdict, Verdict::Pass);

        let mut s = History::new().set(3, "Parallel");
        s.step(0);
        s.bring_up(3);
        // One after the other, each once the previous was Ready: a throttled burst looks the
        // same, so timing alone never fails a cluster.
        let out = verdict(&s, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
        assert!(out.detail.contains("web-1 was created") && out.detail.contains("rate limit"), "{}", out.detail);
    }

    #[test]
    fn parallel_burst_fails_a_set_that_waits_for_a_pod_held_unready() {
        let mut h = History::new().set(1, "Parallel");
        h.bring_up(1);
        h.unready("web-0");
        h.advance(10_000);
        h.step(0);
        h.update_set(|s| s.replicas = 3);
        h.advance(25_000);
        h.ready("web-0");
        h.create("web-1");
        h.create("web-2");
        let out = verdict(&h, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-1 was not created") && out.detail.contains("25 s"), "{}", out.detail);

        // Created at once past the unready pod: the burst is proven.
        let mut ok = History::new().set(1, "Parallel");
        ok.bring_up(1);
        ok.unready("web-0");
        ok.step(0);
        ok.update_set(|s| s.replicas = 3);
        ok.create("web-1");
        ok.create("web-2");
        ok.advance(25_000);
        let out = verdict(&ok, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
    }

    #[test]
    fn a_rate_limited_burst_still_passes() {
        // A large Parallel set: the controller's requests are throttled, so later pods are
        // created after earlier ones became Ready. One out-of-order creation proves the burst.
        let mut h = History::new().set(4, "Parallel");
        h.step(0);
        h.create("web-0");
        h.create("web-1");
        h.ready("web-0");
        h.ready("web-1");
        h.create("web-2");
        h.ready("web-2");
        h.create("web-3");
        let out = verdict(&h, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(
            out.detail.contains("web-1 was created") && out.detail.contains("web-0 was not Running and Ready"),
            "{}",
            out.detail
        );
    }

    #[test]
    fn pods_ready_as_soon_as_seen_cannot_tell_a_burst_from_waiting() {
        // Each creation came after its predecessors were Ready, but none was ever seen not Ready.
        let mut instant = History::new().set(3, "Parallel");
        instant.step(0);
        for i in 0..3 {
            instant.create_ready(&format!("web-{i}"));
        }
        let out = verdict(&instant, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
    }

    #[test]
    fn a_rate_limited_scale_down_still_passes() {
        let mut h = History::new().set(3, "Parallel");
        h.bring_up(3);
        h.step(0);
        h.terminate("web-2");
        h.terminate("web-1");
        h.gone("web-2");
        h.gone("web-1");
        h.terminate("web-0");
        h.gone("web-0");
        let out = verdict(&h, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        assert!(
            out.detail.contains("web-1 began terminating") && out.detail.contains("while web-2 still existed"),
            "{}",
            out.detail
        );
    }

    #[test]
    fn parallel_burst_judges_terminations_too() {
        let mut h = History::new().set(3, "Parallel");
        h.bring_up(3);
        h.step(0);
        h.terminate("web-2");
        h.gone("web-2");
        h.terminate("web-1");
        h.gone("web-1");
        let out = verdict(&h, CheckName::ParallelBurst);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
        assert!(out.detail.contains("web-1 began terminating"), "{}", out.detail);
        // Both at once: the burst is proven.
        let mut b = History::new().set(3, "Parallel");
        b.bring_up(3);
        b.step(0);
        b.terminate("web-2");
        b.terminate("web-1");
        assert_eq!(verdict(&b, CheckName::ParallelBurst).verdict, Verdict::Pass);
    }

    /// Rolls pods in `order`, each replacement Ready before the next unless `eager`.
    fn rolled(order: &[u32], partition: u32, eager: bool) -> History {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| {
            s.partition = partition;
            s.current_revision = Some("rev1".into());
            s.update_revision = Some("rev2".into());
        });
        for k in order {
            let name = format!("web-{k}");
            h.terminate(&name);
            h.gone(&name);
            h.create(&name);
            h.revision(&name, "rev2");
            if eager {
                h.running(&name);
            } else {
                h.ready(&name);
            }
        }
        if eager {
            for k in order {
                h.ready(&format!("web-{k}"));
            }
        }
        h
    }

    /// A set whose `spec.ordinals.start` is 2: its pods are web-2, web-3, ….
    fn from_two(replicas: u32) -> History {
        let mut h = History::new().set(replicas, "OrderedReady");
        h.update_set(|s| s.start_ordinal = 2);
        h
    }

    #[test]
    fn order_counts_from_the_start_ordinal() {
        let mut h = from_two(2);
        h.step(0);
        h.create("web-2");
        h.ready("web-2");
        h.create("web-3");
        h.ready("web-3");
        let out = verdict(&h, CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        let out = verdict(&h, CheckName::StableIdentity);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);

        let mut early = from_two(2);
        early.step(0);
        early.create("web-2");
        early.create("web-3");
        let out = verdict(&early, CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-3 was created") && out.detail.contains("web-2"), "{}", out.detail);
    }

    #[test]
    fn raising_the_start_ordinal_removes_the_pods_below_it_once_the_kept_ones_are_ready() {
        // start 2 -> 3: web-4 is created, then web-2 (below the start) goes.
        let raised = |ready_first: bool| {
            let mut h = from_two(2);
            h.create("web-2");
            h.ready("web-2");
            h.create("web-3");
            h.ready("web-3");
            h.step(0);
            h.update_set(|s| s.start_ordinal = 3);
            h.create("web-4");
            if ready_first {
                h.ready("web-4");
            }
            h.terminate("web-2");
            h.gone("web-2");
            h
        };
        let out = verdict(&raised(true), CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        let out = verdict(&raised(true), CheckName::OrderedCreation);
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.detail);
        let out = verdict(&raised(false), CheckName::ReverseTermination);
        assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
        assert!(out.detail.contains("web-2 began terminating") && out.detail.contains("web-4"), "{}", out.detail);
    }

    #[test]
    fn reverse_rollout_passes_from_the_top() {
        let out = verdict(&rolled(&[2, 1, 0], 0, false), CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
    }

    #[test]
    fn reverse_rollout_fails_forward() {
        let out = verdict(&rolled(&[0, 1, 2], 0, false), CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.starts_with("web-0 was replaced"), "{}", out.detail);
    }

    #[test]
    fn reverse_rollout_fails_when_not_waiting_for_ready() {
        let out = verdict(&rolled(&[2, 1, 0], 0, true), CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-1 was replaced") && out.detail.contains("not yet Running and Ready"), "{}", out.detail);
    }

    #[test]
    fn reverse_rollout_respects_the_partition() {
        assert_eq!(verdict(&rolled(&[2], 2, false), CheckName::ReverseRollout).verdict, Verdict::Pass);
        let out = verdict(&rolled(&[2, 1], 2, false), CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(
            out.detail.contains("web-1 (ordinal 1) is below the partition 2 but moved to the update revision"),
            "{}",
            out.detail
        );
    }

    #[test]
    fn a_pod_below_the_partition_may_be_deleted_but_must_keep_its_revision() {
        let mut h = rolled(&[2], 2, false);
        h.step(1);
        h.terminate("web-0");
        h.gone("web-0");
        h.create("web-0");
        h.ready("web-0");
        let out = verdict_at(&h, 1, CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Pass, "{out:?}");
        assert!(out.detail.contains("web-0, below the partition 2, came back on its revision rev1"), "{}", out.detail);
        h.terminate("web-0");
        h.gone("web-0");
        h.create("web-0");
        h.revision("web-0", "rev2");
        h.ready("web-0");
        let out = verdict_at(&h, 1, CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Fail, "{out:?}");
    }

    #[test]
    fn a_scale_down_is_not_a_rollout() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| {
            s.replicas = 1;
            s.update_revision = Some("rev1".into());
        });
        for k in [2, 1] {
            h.terminate(&format!("web-{k}"));
            h.gone(&format!("web-{k}"));
        }
        assert_eq!(verdict(&h, CheckName::ReverseRollout).verdict, Verdict::NotApplicable);
    }

    #[test]
    fn pods_beyond_the_replica_count_and_huge_ordinals_do_not_panic() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| s.replicas = 0);
        for k in [2, 1, 0] {
            h.terminate(&format!("web-{k}"));
            h.gone(&format!("web-{k}"));
        }
        h.create("web-4294967295");
        h.terminate("web-4294967295");
        for check in CheckName::ALL {
            let _ = verdict(&h, check);
        }
    }

    #[test]
    fn reverse_rollout_fails_when_incomplete() {
        let out = verdict(&rolled(&[2, 1], 0, false), CheckName::ReverseRollout);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-0 was still on revision rev1"), "{}", out.detail);
    }

    #[test]
    fn an_unfinished_rollout_in_a_step_that_ended_early_is_inconclusive() {
        // The harness stopped waiting (the step timed out): the pods not yet replaced say
        // nothing against the controller, and those replaced were in order.
        let h = rolled(&[2, 1], 0, false);
        let window = h.early_window(0);
        let out = evaluate(CheckName::ReverseRollout, &window);
        assert_eq!(out.verdict, Verdict::Inconclusive, "{}", out.detail);
        assert!(out.detail.contains("ended before the roll-out") && out.detail.contains("web-0"), "{}", out.detail);
        // An order violation still fails, however the step ended.
        let h = rolled(&[1, 2], 0, false);
        let window = h.early_window(0);
        assert_eq!(evaluate(CheckName::ReverseRollout, &window).verdict, Verdict::Fail);
    }

    #[test]
    fn survivors_unchanged_catches_a_recreated_survivor() {
        let mut h = History::new().set(3, "OrderedReady");
        h.bring_up(3);
        h.step(0);
        h.update_set(|s| s.replicas = 2);
        h.terminate("web-2");
        h.gone("web-2");
        assert_eq!(verdict(&h, CheckName::SurvivorsUnchanged).verdict, Verdict::Pass);
        h.terminate("web-1");
        let out = verdict(&h, CheckName::SurvivorsUnchanged);
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(out.detail.contains("web-1 was terminated"));
    }
}
