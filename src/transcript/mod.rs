//! `kubectl get pods -w` transcripts → timelines the checks can judge.
//!
//! A transcript is weaker evidence than a watch: no UIDs, no owners, no revisions, and lines
//! cut by whoever pasted it. The conversion therefore states each inference it makes, and
//! marks the timelines it builds as [`Timeline::partial`] so the checks treat a pod the
//! transcript never mentions as *unknown*, not as absent.
//!
//! **Sessions.** A pod-table header that follows anything other than a pod row (a prompt, prose,
//! another table) starts a new session: what happened between two sessions was not watched,
//! so each session is judged on its own. A header repeated directly after rows continues the
//! session (kubectl reprints headers).
//!
//! **The initial listing.** `kubectl get pods -w` first lists every pod, then prints one line
//! per change. The listing is the rows from the session's header up to the first pod printed
//! a second time (or the first `MODIFIED`/`DELETED` event).
//!
//! **Creation.** A pod's first line is its creation when it shows a pod starting (Pending,
//! ContainerCreating, Init:…, PodInitializing, an image-pull or config wait) with no container
//! ready and no restart, and it comes after the listing (kubectl prints a pod it did not list
//! only when it is added). A pod first seen otherwise already existed: in the listing, from the
//! session's start; after the listing, its state before its first line is unknown. A listed pod
//! that is starting, however young, is *not* a creation: it may be a replacement that a
//! roll-out or a deletion began before the watch, and what its predecessors were when it was
//! created is not in the transcript.
//!
//! **Where the listing ends.** The API server lists pods in key order (namespace, then name, as
//! strings), so a row whose name sorts before the previous row's is a watch event: the listing
//! ended before it. So does a pod printed a second time, or a `MODIFIED`/`DELETED` event. When
//! kubectl said `No resources found` just before the header, the listing was empty and every
//! row is an event. A pod first seen `Terminating` (listed or not) begins
//! terminating at that line: the update that starts a termination only sets the deletion
//! timestamp, so before it the pod was in the same READY state, not terminating. (Two pods
//! listed as terminating are therefore judged as terminating at once — which they were.)
//!
//! **Incarnations.** A pod name seen again after it terminated and came back, or whose AGE goes
//! backwards, is a new pod under the same name (a new UID, `name#2`), judged as created at
//! the first line that shows it.
//!
//! **Deletion.** With `--output-watch-events`, `DELETED` is exact. Without, a terminating pod's
//! last line is its deletion when no container is ready any more (kubectl prints the deletion
//! as one last line in the final state); a pod whose last line still has ready containers is
//! left terminating. A pod that comes back under the same name was deleted before it did.

mod parse;
pub mod rules;
pub mod session;

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

pub use parse::{Age, Column, Line, Row, WatchEvent, default_columns, parse_age};

use crate::timeline::{Change, Entry, Event, PodObs, PodSpecObs, Timeline, ordinal_of, pod_phase};

/// A parsed transcript: its pod rows, grouped in sessions, and the lines that were not rows.
#[derive(Debug, Clone, Default)]
pub struct Transcript<'t> {
    /// Pod rows in order.
    pub rows: Vec<SourcedRow<'t>>,
    /// Sessions in order.
    pub sessions: Vec<Session>,
    /// 1-based numbers of the lines that were neither pod rows nor pod-table headers.
    pub skipped: Vec<usize>,
}

/// A pod row with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedRow<'t> {
    /// 1-based line number.
    pub line: usize,
    /// Index of its session in [`Transcript::sessions`].
    pub session: usize,
    /// Whether the row belongs to the session's initial listing.
    pub listing: bool,
    /// The row.
    pub row: Row<'t>,
}

/// One uninterrupted stretch of watch output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Line of its header (or of its first row when it has none).
    pub line: usize,
    /// Whether its header has an EVENT column (`--output-watch-events`).
    pub watch_events: bool,
}

/// A StatefulSet-like group of pods: `<name>-<ordinal>` in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Family {
    /// Namespace, when the transcript has a NAMESPACE column.
    pub namespace: Option<String>,
    /// The StatefulSet name the pods are named after.
    pub name: String,
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The timeline of one family in one session, with the transcript line of each entry.
#[derive(Debug, Clone)]
pub struct FamilyHistory {
    /// Line the session starts at.
    pub session_line: usize,
    /// The entries, marked partial.
    pub timeline: Timeline,
    /// `lines[seq]` is the transcript line entry `seq` comes from.
    pub lines: Vec<usize>,
    /// The first entry of the judged window; those before it describe the pods that existed
    /// when the session began.
    pub start: usize,
}

enum Table {
    /// No header yet: rows in kubectl's default columns are accepted.
    None,
    /// A pod table with these columns.
    Pods(Vec<Column>),
    /// Another table: its rows are skipped.
    Other,
}

/// Parses a transcript. Never fails: what is not a pod row is listed in `skipped`.
#[must_use]
pub fn parse(text: &str) -> Transcript<'_> {
    let mut transcript = Transcript::default();
    // At most a row a line: reserved once (pages never written are never resident), so a long
    // transcript is not copied each time the rows outgrow their vector.
    transcript.rows.reserve_exact(text.lines().count());
    let mut table = Table::None;
    // Whether something other than a pod row came since the last row (true at the start).
    let mut interrupted = true;
    let mut seen: BTreeSet<(Option<&str>, &str)> = BTreeSet::new();
    let mut listing = true;
    // The row before, in this session: the listing is in key order.
    let mut previous: Option<(Option<&str>, &str)> = None;
    let default = default_columns();
    // kubectl said `No resources found` just before: the watch listed nothing, so its first
    // rows are events.
    let mut nothing_listed = false;
    for (index, text) in text.lines().enumerate() {
        let number = index + 1;
        let columns = match &table {
            Table::None => Some(default.as_slice()),
            Table::Pods(c) => Some(c.as_slice()),
            Table::Other => None,
        };
        match parse::classify(text, columns) {
            Line::PodHeader(columns) => {
                if interrupted || transcript.sessions.is_empty() {
                    transcript.sessions.push(Session { line: number, watch_events: columns.contains(&Column::Event) });
                    seen.clear();
                    previous = None;
                    listing = !nothing_listed;
                    interrupted = false;
                }
                table = Table::Pods(columns);
                nothing_listed = false;
            }
            Line::OtherHeader => {
                nothing_listed = false;
                table = Table::Other;
                interrupted = true;
                transcript.skipped.push(number);
            }
            Line::Row(row) => {
                if interrupted && matches!(table, Table::None) {
                    transcript.sessions.push(Session { line: number, watch_events: false });
                    seen.clear();
                    previous = None;
                    listing = !nothing_listed;
                }
                interrupted = false;
                nothing_listed = false;
                // Once a session's listing has ended it stays ended: only a listing needs the
                // keys it has seen.
                if listing {
                    let key = (row.namespace, row.name);
                    let out_of_order = previous.as_ref().is_some_and(|p| key < *p);
                    if out_of_order
                        || seen.contains(&key)
                        || matches!(row.event, Some(WatchEvent::Modified | WatchEvent::Deleted))
                    {
                        listing = false;
                    } else {
                        seen.insert(key);
                        previous = Some(key);
                    }
                }
                let session = transcript.sessions.len() - 1;
                transcript.rows.push(SourcedRow { line: number, session, listing, row });
            }
            Line::Other => {
                // A comment inside a table does not end the session; a new header after it does.
                interrupted = true;
                if text.contains("No resources found") {
                    nothing_listed = true;
                } else if !text.trim().is_empty() {
                    nothing_listed = false;
                }
                transcript.skipped.push(number);
            }
        }
    }
    transcript
}

/// Characters of the random suffixes Kubernetes generates (`k8s.io/apimachinery/pkg/util/rand`).
const RANDOM_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Whether `base-suffix` looks like a generated name (ReplicaSet, Job, DaemonSet pod) whose
/// random 5-character suffix happens to be all digits, rather than a StatefulSet ordinal.
fn generated_suffix(suffix: &str) -> bool {
    suffix.len() == 5 && suffix.chars().all(|c| RANDOM_ALPHABET.contains(c))
}

impl<'t> Transcript<'t> {
    /// The StatefulSet-like families, in name order: pods named `<name>-<ordinal>` (an ordinal
    /// without a leading zero). A name whose last part could be a 5-character random suffix
    /// that happens to be all digits (`my-deploy-6b7f9c-24567`) joins a family only when other
    /// pods show that family (`web-24567` beside `web-0`).
    #[must_use]
    pub fn families(&self) -> Vec<Family> {
        self.rows_by_family().into_keys().collect()
    }

    /// The rows of each of [`Transcript::families`], in order: what
    /// [`Transcript::histories_of`] builds a family's histories from.
    #[must_use]
    pub fn rows_by_family(&self) -> BTreeMap<Family, Vec<&SourcedRow<'t>>> {
        let clear: BTreeSet<(Option<&str>, &str)> =
            self.rows.iter().filter_map(|r| Some((r.row.namespace, family_of(r.row.name)?))).collect();
        // Keyed by borrowed names (ordered as `Family` is): no name is copied per row.
        let mut families: BTreeMap<(Option<&str>, &str), Vec<&SourcedRow<'t>>> = BTreeMap::new();
        for r in &self.rows {
            let base = family_of(r.row.name).or_else(|| {
                let (base, suffix) = r.row.name.rsplit_once('-')?;
                let ordinal = !base.is_empty() && ordinal_of(r.row.name, base).is_some() && generated_suffix(suffix);
                (ordinal && clear.contains(&(r.row.namespace, base))).then_some(base)
            });
            if let Some(base) = base {
                families.entry((r.row.namespace, base)).or_default().push(r);
            }
        }
        families
            .into_iter()
            .map(|((namespace, name), rows)| (Family { namespace: namespace.map(str::to_owned), name: name.to_owned() }, rows))
            .collect()
    }

    /// Every family with its histories, one timeline per session in which it appears.
    #[must_use]
    pub fn all_histories(&self) -> Vec<(Family, Vec<FamilyHistory>)> {
        self.rows_by_family().into_iter().map(|(family, rows)| (family, self.histories_of(&rows))).collect()
    }

    /// The histories of a family from its rows (in order), one timeline per session.
    #[must_use]
    pub fn histories_of(&self, rows: &[&SourcedRow<'t>]) -> Vec<FamilyHistory> {
        let mut by_session: BTreeMap<usize, Vec<&SourcedRow<'t>>> = BTreeMap::new();
        for r in rows {
            by_session.entry(r.session).or_default().push(r);
        }
        by_session.into_iter().map(|(session, rows)| Builder::new(&self.sessions[session]).build(&rows)).collect()
    }

    /// The rows named `<family>-<ordinal>` in the family's namespace, in order.
    fn rows_of<'s>(&'s self, family: &'s Family) -> impl Iterator<Item = &'s SourcedRow<'t>> {
        self.rows
            .iter()
            .filter(|r| r.row.namespace == family.namespace.as_deref() && ordinal_of(r.row.name, &family.name).is_some())
    }

    /// Whether any pod row is of `family` (what [`Transcript::histories`] would build from).
    #[must_use]
    pub fn shows(&self, family: &Family) -> bool {
        self.rows_of(family).next().is_some()
    }

    /// The history of `family`, one timeline per session in which it appears. The family need
    /// not be one [`Transcript::families`] found (a name given by the user).
    #[must_use]
    pub fn histories(&self, family: &Family) -> Vec<FamilyHistory> {
        let rows: Vec<&SourcedRow<'t>> = self.rows_of(family).collect();
        self.histories_of(&rows)
    }
}

/// The family name of a pod name, when it is `<name>-<ordinal>` and not a generated name.
fn family_of(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('-')?;
    if base.is_empty() || ordinal_of(name, base).is_none() || generated_suffix(suffix) {
        return None;
    }
    Some(base)
}

/// The phase kubectl's STATUS implies (`previous` for `Terminating`, which hides it).
fn phase_of(status: &str, previous: Option<&str>) -> Cow<'static, str> {
    let phase = match status {
        "Running" | "CrashLoopBackOff" | "NotReady" => "Running",
        "Terminating" => return previous.map_or("Running".into(), pod_phase),
        "Completed" | "Succeeded" => "Succeeded",
        "Error" | "Failed" | "OOMKilled" | "Evicted" | "ContainerStatusUnknown" | "StartError" => "Failed",
        "Pending"
        | "ContainerCreating"
        | "PodInitializing"
        | "ErrImagePull"
        | "ImagePullBackOff"
        | "ErrImageNeverPull"
        | "CreateContainerConfigError"
        | "CreateContainerError"
        | "InvalidImageName"
        | "SchedulingGated" => "Pending",
        s if s.starts_with("Init:") => "Pending",
        _ => "Unknown",
    };
    phase.into()
}

/// A row that shows a pod starting: nothing ready, no restart, not terminating, phase Pending.
fn starting(row: &Row) -> bool {
    row.ready == 0 && row.restarts == 0 && !row.terminating() && phase_of(row.status, None) == "Pending"
}

/// An AGE that is certainly smaller than the previous one: a new pod under the same name.
fn age_went_back(previous: Option<Age>, now: Option<Age>) -> bool {
    matches!((previous, now), (Some(p), Some(n)) if n.hi <= p.lo)
}

struct Incarnation {
    /// Which incarnation of its name it is: 1 for the first.
    number: u32,
    /// The pod as its latest line shows it (shared with that line's entry).
    pod: Arc<PodObs>,
    /// What the reading of the next line needs of the latest one.
    last: LastLine,
    /// Index in `Builder::entries` of its latest entry.
    last_entry: usize,
    gone: bool,
}

/// The facts of a pod's latest line that decide how the next line reads.
#[derive(Clone, Copy)]
struct LastLine {
    age: Option<Age>,
    terminating: bool,
    ready: u32,
}

impl LastLine {
    fn of(row: &Row) -> Self {
        Self { age: row.age, terminating: row.terminating(), ready: row.ready }
    }
}

struct Builder<'a> {
    session: &'a Session,
    /// Entries before the judged window, pods known to exist since the session began, and the
    /// line of each.
    prelude: Vec<Entry>,
    prelude_lines: Vec<usize>,
    /// The judged entries (their `seq` is set when the prelude is put before them) and the
    /// line of each: built in the vector the timeline keeps, so it is never copied whole.
    entries: Vec<Entry>,
    lines: Vec<usize>,
    /// The latest incarnation of each name, keyed by the name its pods share.
    current: foldhash::HashMap<Arc<str>, Incarnation>,
    /// A transcript shows no pod's metadata or spec: every observation shares this empty one.
    spec: Arc<PodSpecObs>,
    /// The statuses, addresses and node names seen so far: a line repeats one of the few there
    /// are, and shares it.
    strings: foldhash::HashSet<Arc<str>>,
}

impl<'a> Builder<'a> {
    fn new(session: &'a Session) -> Self {
        Self {
            session,
            prelude: Vec::new(),
            prelude_lines: Vec::new(),
            entries: Vec::new(),
            lines: Vec::new(),
            current: foldhash::HashMap::default(),
            spec: Arc::default(),
            strings: foldhash::HashSet::default(),
        }
    }

    /// `text`, shared with every other line that shows it.
    fn shared(&mut self, text: &str) -> Arc<str> {
        if let Some(known) = self.strings.get(text) {
            return Arc::clone(known);
        }
        let new: Arc<str> = text.into();
        self.strings.insert(Arc::clone(&new));
        new
    }

    /// The pod `row` shows; `name` and `uid` are shared with its other lines.
    fn observe(&mut self, row: &Row, name: Arc<str>, uid: Arc<str>, previous_phase: Option<&str>) -> PodObs {
        PodObs {
            name,
            uid,
            phase: phase_of(row.status, previous_phase),
            ready: row.all_ready(),
            terminating: row.terminating(),
            waiting: (!matches!(row.status, "Running" | "Terminating" | "Completed")).then(|| self.shared(row.status)),
            restarts: row.restarts,
            ip: row.ip.map(|ip| self.shared(ip)),
            node: row.node.map(|node| self.shared(node)),
            spec: Arc::clone(&self.spec),
        }
    }

    fn push(&mut self, change: Change, pod: Arc<PodObs>, line: usize) -> usize {
        self.entries.push(Entry { seq: 0, at_ms: 0, event: Event::Pod { change, pod } });
        self.lines.push(line);
        self.entries.len() - 1
    }

    /// Records that the pod existed as `pod` when the session began (seen at `line`).
    fn existed(&mut self, pod: Arc<PodObs>, line: usize) {
        self.prelude.push(Entry { seq: 0, at_ms: 0, event: Event::Pod { change: Change::Added, pod } });
        self.prelude_lines.push(line);
    }

    /// Starts a new incarnation of `row.name` at this row (`reborn`: it replaces an earlier one).
    fn begin(&mut self, r: &SourcedRow<'_>, reborn: bool) {
        let earlier = self.current.get_key_value(r.row.name);
        let n = earlier.map_or(1, |(_, inc)| inc.number + 1);
        let name: Arc<str> = earlier.map_or_else(|| r.row.name.into(), |(name, _)| Arc::clone(name));
        let uid = if n == 1 { Arc::clone(&name) } else { format!("{name}#{n}").into() };
        let pod = Arc::new(self.observe(&r.row, Arc::clone(&name), uid, None));
        let created = reborn || (starting(&r.row) && !r.listing);
        let deleted = r.row.event == Some(WatchEvent::Deleted);
        let entry = if created && !deleted {
            self.push(Change::Added, Arc::clone(&pod), r.line)
        } else if r.listing && !deleted && !r.row.terminating() {
            // Listed: it existed in this state when the session began.
            self.existed(Arc::clone(&pod), r.line);
            usize::MAX
        } else if r.row.terminating() || deleted {
            // Its termination (or deletion) is this line; before, the same pod, not terminating.
            let before = PodObs { terminating: false, ..(*pod).clone() };
            self.existed(before.into(), r.line);
            self.push(if deleted { Change::Deleted } else { Change::Modified }, Arc::clone(&pod), r.line)
        } else {
            // First seen after the listing in a state it changed to: before this line, unknown.
            self.push(Change::Modified, Arc::clone(&pod), r.line)
        };
        let incarnation = Incarnation { number: n, pod, last: LastLine::of(&r.row), last_entry: entry, gone: deleted };
        self.current.insert(name, incarnation);
    }

    /// Makes the last line of `inc` its deletion, when it is one: without watch events, kubectl
    /// prints a deletion as one last line of a terminating pod with no container ready. Whether
    /// it did.
    fn delete_at_last_line(session: &Session, entries: &mut [Entry], inc: &Incarnation) -> bool {
        if session.watch_events || !inc.last.terminating || inc.last.ready != 0 {
            return false;
        }
        match entries.get_mut(inc.last_entry) {
            Some(Entry { event: Event::Pod { change, .. }, .. }) => {
                *change = Change::Deleted;
                true
            }
            _ => false,
        }
    }

    /// Ends the incarnation of `name`, replaced at `line`, if it is not gone: its last line
    /// becomes its deletion when the deletion can be inferred, else a deletion is recorded at
    /// `line`.
    fn end(&mut self, name: &str, line: usize) {
        let Some(inc) = self.current.get_mut(name) else { return };
        if inc.gone {
            return;
        }
        inc.gone = true;
        if !Self::delete_at_last_line(self.session, &mut self.entries, inc) {
            let pod = Arc::clone(&inc.pod);
            self.push(Change::Deleted, pod, line);
        }
    }

    fn row(&mut self, r: &SourcedRow<'_>) {
        let Some(inc) = self.current.get(r.row.name) else {
            self.begin(r, false);
            return;
        };
        let reborn = inc.gone
            || (inc.pod.terminating && !r.row.terminating())
            || age_went_back(inc.last.age, r.row.age)
            || (r.row.event == Some(WatchEvent::Added) && !r.listing);
        if reborn {
            self.end(r.row.name, r.line);
            self.begin(r, true);
            return;
        }
        let last = Arc::clone(&inc.pod);
        let pod = Arc::new(self.observe(&r.row, Arc::clone(&last.name), Arc::clone(&last.uid), Some(&last.phase)));
        let deleted = r.row.event == Some(WatchEvent::Deleted);
        let entry = self.push(if deleted { Change::Deleted } else { Change::Modified }, Arc::clone(&pod), r.line);
        if let Some(inc) = self.current.get_mut(r.row.name) {
            *inc = Incarnation { number: inc.number, pod, last: LastLine::of(&r.row), last_entry: entry, gone: deleted };
        }
    }

    fn build(mut self, rows: &[&SourcedRow<'_>]) -> FamilyHistory {
        self.entries.reserve(rows.len());
        self.lines.reserve(rows.len());
        for r in rows {
            self.row(r);
        }
        // The pods still there at the end: a last line that shows a deletion is one.
        for inc in self.current.values_mut().filter(|inc| !inc.gone) {
            inc.gone = Self::delete_at_last_line(self.session, &mut self.entries, inc);
        }
        let start = self.prelude.len();
        let mut entries = self.entries;
        entries.splice(0..0, self.prelude);
        for (seq, entry) in entries.iter_mut().enumerate() {
            entry.seq = seq;
        }
        let mut lines = self.lines;
        lines.splice(0..0, self.prelude_lines);
        let timeline = Timeline { entries, partial: true };
        FamilyHistory { session_line: self.session.line, timeline, lines, start }
    }
}

#[cfg(test)]
mod tests;
