//! Watches of the run's namespace feeding the timeline.
//!
//! One `kube::runtime::watcher` per resource type (with kube's default backoff, so a failing
//! API server is retried, not hammered); each delivers its objects in resourceVersion order,
//! and every event is stamped on arrival.
//!
//! What a watch failure means depends on what follows it (kube-runtime's `watcher`): after an
//! error the watcher *resumes* from the last resourceVersion it saw, and the API server replays
//! every change since — nothing is lost; only when that version has expired (410 Gone) does it
//! list again (`Init`, `InitApply`…, `InitDone`), and changes in between may be lost. So an
//! error opens an [`Event::Gap`], and the gap closes with an [`Event::GapEnd`] as soon as the
//! watch is known to be continuous again: at its next event (resumed) or at the end of the
//! re-list. A re-list is buffered until `InitDone` and compared with what was known by UID, so
//! an object deleted and recreated under the same name while the watch was down is recorded as
//! deleted, then added.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Instant,
};

use futures::StreamExt;
use kube::{
    Api, Resource,
    runtime::{
        WatchStreamExt,
        watcher::{self, Event as WatchEvent},
    },
};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc::UnboundedSender, watch};

use crate::timeline::{Change, Event};

/// A timeline event with its arrival time in milliseconds since the run began.
pub type Stamped = (u64, Event);

/// How far a watch has come, for the barrier before a run's first action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Its first list has not completed; the last error, if any.
    Starting(Option<String>),
    /// Its first list completed: from here on it misses nothing unnoticed.
    Listed,
}

/// Turns one resource's watch events into timeline events.
pub struct Translator<K> {
    resource: &'static str,
    convert: fn(&K, Change) -> Event,
    /// Every object the timeline holds, by UID.
    known: BTreeMap<String, K>,
    /// The objects of a list in progress, in the order listed.
    relist: Option<Vec<K>>,
    /// Whether the first list completed: any later list is a re-list.
    listed: bool,
    /// A gap was recorded and has not been closed.
    gap_open: bool,
    /// The last error, while the first list has not completed.
    last_error: Option<String>,
}

fn uid_of<K: Resource>(object: &K) -> String {
    object.meta().uid.clone().unwrap_or_else(|| object.meta().name.clone().unwrap_or_default())
}

fn version_of<K: Resource>(object: &K) -> Option<&str> {
    object.meta().resource_version.as_deref()
}

impl<K: Resource + Clone> Translator<K> {
    /// A translator for `resource` (its name in gap entries) using `convert`.
    pub fn new(resource: &'static str, convert: fn(&K, Change) -> Event) -> Self {
        Self { resource, convert, known: BTreeMap::new(), relist: None, listed: false, gap_open: false, last_error: None }
    }

    /// The resource it translates, as named in gap entries.
    #[must_use]
    pub fn resource(&self) -> &'static str {
        self.resource
    }

    /// How far the watch has come.
    #[must_use]
    pub fn progress(&self) -> Progress {
        if self.listed { Progress::Listed } else { Progress::Starting(self.last_error.clone()) }
    }

    fn applied(&mut self, object: &K) -> Event {
        let change = if self.known.insert(uid_of(object), object.clone()).is_some() { Change::Modified } else { Change::Added };
        (self.convert)(object, change)
    }

    /// Closes an open gap: the watch delivers again from where it was.
    fn resumed(&mut self, out: &mut Vec<Event>) {
        if self.gap_open && self.relist.is_none() {
            self.gap_open = false;
            out.push(Event::GapEnd { resource: self.resource.into(), relisted: false });
        }
    }

    /// The end of a list: what vanished (by UID), then what is new or changed, in list order.
    fn list_done(&mut self) -> Vec<Event> {
        let listed = self.relist.take().unwrap_or_default();
        let seen: BTreeSet<String> = listed.iter().map(uid_of).collect();
        let mut out: Vec<Event> = Vec::new();
        let gone: Vec<String> = self.known.keys().filter(|uid| !seen.contains(*uid)).cloned().collect();
        for uid in gone {
            if let Some(object) = self.known.remove(&uid) {
                out.push((self.convert)(&object, Change::Deleted));
            }
        }
        for object in &listed {
            let unchanged =
                self.known.get(&uid_of(object)).is_some_and(|k| version_of(k).is_some() && version_of(k) == version_of(object));
            if !unchanged {
                out.push(self.applied(object));
            }
        }
        if self.gap_open {
            self.gap_open = false;
            out.push(Event::GapEnd { resource: self.resource.into(), relisted: true });
        }
        self.listed = true;
        self.last_error = None;
        out
    }

    /// The timeline events for one watch event (or error).
    pub fn translate(&mut self, event: Result<WatchEvent<K>, watcher::Error>) -> Vec<Event> {
        let mut out = Vec::new();
        match event {
            Ok(WatchEvent::Apply(object)) => {
                self.resumed(&mut out);
                out.push(self.applied(&object));
            }
            Ok(WatchEvent::Delete(object)) => {
                self.resumed(&mut out);
                self.known.remove(&uid_of(&object));
                out.push((self.convert)(&object, Change::Deleted));
            }
            Ok(WatchEvent::Init) => {
                self.relist = Some(Vec::new());
                if self.listed && !self.gap_open {
                    self.gap_open = true;
                    out.push(Event::Gap { resource: self.resource.into(), reason: "the watch had to list again".into() });
                }
            }
            Ok(WatchEvent::InitApply(object)) => match &mut self.relist {
                Some(relist) => relist.push(object),
                // kube never sends InitApply outside a list; keep the object rather than drop it.
                None => out.push(self.applied(&object)),
            },
            Ok(WatchEvent::InitDone) => out = self.list_done(),
            Err(e) => {
                if !self.listed {
                    self.last_error = Some(e.to_string());
                } else if !self.gap_open {
                    self.gap_open = true;
                    out.push(Event::Gap { resource: self.resource.into(), reason: e.to_string() });
                }
            }
        }
        out
    }
}

/// Runs a watch of `api` until the receiver is dropped, sending what it observes and telling
/// `progress` how far it has come.
pub async fn run<K>(
    api: Api<K>,
    config: watcher::Config,
    mut translator: Translator<K>,
    started: Instant,
    out: UnboundedSender<Stamped>,
    progress: watch::Sender<Progress>,
) where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    while let Some(event) = stream.next().await {
        let at = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Err(e) = &event {
            tracing::debug!(resource = translator.resource, error = %e, "watch error");
        }
        for event in translator.translate(event) {
            if out.send((at, event)).is_err() {
                return;
            }
        }
        progress.send_if_modified(|p| {
            let now = translator.progress();
            let changed = *p != now;
            *p = now;
            changed
        });
    }
}

/// Conversions from each watched type to a timeline event.
pub mod events {
    use k8s_openapi::api::{
        apps::v1::{DaemonSet, StatefulSet},
        batch::v1::{CronJob, Job},
        core::v1::{Event as CoreEvent, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service},
    };

    use super::{Arc, Change, Event};
    use crate::live::convert;

    /// A pod change.
    pub fn pod(pod: &Pod, change: Change) -> Event {
        Event::Pod { change, pod: Arc::new(convert::pod(pod)) }
    }
    /// A claim change.
    pub fn claim(claim: &PersistentVolumeClaim, change: Change) -> Event {
        Event::Claim { change, claim: Box::new(convert::claim(claim)) }
    }
    /// A volume change.
    pub fn volume(volume: &PersistentVolume, change: Change) -> Event {
        Event::Volume { change, volume: Box::new(convert::volume(volume)) }
    }
    /// A service change.
    pub fn service(service: &Service, change: Change) -> Event {
        Event::Service { change, service: Box::new(convert::service(service)) }
    }
    /// A StatefulSet change.
    pub fn statefulset(set: &StatefulSet, change: Change) -> Event {
        Event::StatefulSet { change, set: Box::new(convert::statefulset(set)) }
    }
    /// A node change: its scheduling facts.
    pub fn node(node: &Node, change: Change) -> Event {
        Event::Node { change, node: Box::new(crate::timeline::NodeObs::of(node)) }
    }
    /// A DaemonSet change.
    pub fn daemon_set(set: &DaemonSet, change: Change) -> Event {
        Event::DaemonSet { change, set: Box::new(crate::timeline::DaemonSetObs::of(set)) }
    }
    /// A Job change.
    pub fn job(job: &Job, change: Change) -> Event {
        Event::Job { change, job: Box::new(crate::timeline::JobObs::of(job)) }
    }
    /// A CronJob change.
    pub fn cron_job(cron: &CronJob, change: Change) -> Event {
        Event::CronJob { change, cron: Box::new(crate::timeline::CronJobObs::of(cron)) }
    }
    /// A Secret change: its key names only, never its values.
    pub fn secret(secret: &Secret, change: Change) -> Event {
        let keys =
            secret.data.iter().flat_map(|d| d.keys()).chain(secret.string_data.iter().flat_map(|d| d.keys())).cloned().collect();
        Event::Secret { change, name: secret.metadata.name.clone().unwrap_or_default(), keys }
    }
    /// A Kubernetes Event (only additions matter; updates repeat the same event).
    pub fn kube_event(event: &CoreEvent, _change: Change) -> Event {
        Event::KubeEvent(Box::new(convert::event(event)))
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;

    use super::*;

    fn pod(uid: &str, version: &str, phase: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-0", "uid": uid, "namespace": "ns", "resourceVersion": version},
            "status": {"phase": phase}
        }))
        .expect("pod")
    }

    fn changes(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Pod { change, pod } => format!("{change:?} {} {}", pod.uid, pod.phase),
                Event::Gap { resource, .. } => format!("gap {resource}"),
                Event::GapEnd { resource, relisted } => format!("gap end {resource} relisted={relisted}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn feed(t: &mut Translator<Pod>, events: Vec<Result<WatchEvent<Pod>, watcher::Error>>) -> Vec<String> {
        let mut all = Vec::new();
        for e in events {
            all.extend(t.translate(e));
        }
        changes(&all)
    }

    fn transient() -> watcher::Error {
        watcher::Error::NoResourceVersion
    }

    fn list(objects: Vec<Pod>) -> Vec<Result<WatchEvent<Pod>, watcher::Error>> {
        let mut events = vec![Ok(WatchEvent::Init)];
        events.extend(objects.into_iter().map(|p| Ok(WatchEvent::InitApply(p))));
        events.push(Ok(WatchEvent::InitDone));
        events
    }

    #[test]
    fn the_first_list_is_history_not_a_gap() {
        let mut t = Translator::new("pods", events::pod);
        assert_eq!(t.progress(), Progress::Starting(None));
        assert_eq!(feed(&mut t, list(vec![pod("u1", "1", "Running")])), ["Added u1 Running"]);
        assert_eq!(t.progress(), Progress::Listed);
    }

    #[test]
    fn errors_before_the_first_list_are_kept_for_the_barrier() {
        let mut t = Translator::new("pods", events::pod);
        assert!(feed(&mut t, vec![Err(transient())]).is_empty());
        assert!(matches!(t.progress(), Progress::Starting(Some(_))));
    }

    #[test]
    fn a_transient_error_then_a_resumed_watch_closes_the_gap_and_a_later_relist_opens_one() {
        let mut t = Translator::new("pods", events::pod);
        let mut events = list(vec![pod("u1", "1", "Pending")]);
        events.push(Err(transient()));
        events.push(Ok(WatchEvent::Apply(pod("u1", "2", "Running"))));
        // Later: the version expired (410), the watcher lists again; u1 is unchanged.
        events.push(Err(transient()));
        events.extend(list(vec![pod("u1", "2", "Running"), pod("u2", "3", "Pending")]));
        assert_eq!(
            feed(&mut t, events),
            [
                "Added u1 Pending",
                "gap pods",
                "gap end pods relisted=false",
                "Modified u1 Running",
                "gap pods",
                "Added u2 Pending",
                "gap end pods relisted=true",
            ]
        );
    }

    #[test]
    fn a_relist_without_an_error_is_still_a_gap() {
        let mut t = Translator::new("pods", events::pod);
        let mut events = list(vec![]);
        events.extend(list(vec![pod("u1", "5", "Running")]));
        assert_eq!(feed(&mut t, events), ["gap pods", "Added u1 Running", "gap end pods relisted=true"]);
    }

    #[test]
    fn a_pod_recreated_under_the_same_name_during_a_relist_is_deleted_then_added() {
        let mut t = Translator::new("pods", events::pod);
        let mut events = list(vec![pod("u1", "1", "Running")]);
        events.push(Err(transient()));
        events.extend(list(vec![pod("u2", "9", "Pending")]));
        let got = feed(&mut t, events);
        assert_eq!(got, ["Added u1 Running", "gap pods", "Deleted u1 Running", "Added u2 Pending", "gap end pods relisted=true"]);
        // And a view replaying them ends with the new pod, not with nothing.
        let mut view = crate::timeline::View::default();
        let mut t = Translator::new("pods", events::pod);
        let mut events = list(vec![pod("u1", "1", "Running")]);
        events.extend(list(vec![pod("u2", "9", "Pending")]));
        for e in events {
            for event in t.translate(e) {
                view.apply(&event);
            }
        }
        assert_eq!(view.pods["web-0"].uid, "u2".into());
    }

    #[test]
    fn repeated_errors_open_one_gap() {
        let mut t = Translator::new("pods", events::pod);
        let mut events = list(vec![]);
        events.extend([Err(transient()), Err(transient()), Err(transient())]);
        assert_eq!(feed(&mut t, events), ["gap pods"]);
    }
}
