//! Watches of the run's namespace feeding the timeline.
//!
//! One `kube::runtime::watcher` per resource type; each delivers its objects in
//! resourceVersion order, and every event is stamped on arrival. A watch that restarts (410
//! Gone, a dropped connection, a desync) re-lists: the restart is recorded as a
//! [`Event::Gap`] — order checks spanning it are then inconclusive — and objects that vanished
//! while the watch was down are recorded as deleted.

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use futures::StreamExt;
use kube::{
    Api, Resource,
    runtime::watcher::{self, Event as WatchEvent},
};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc::UnboundedSender;

use crate::timeline::{Change, Event};

/// A timeline event with its arrival time in milliseconds since the run began.
pub type Stamped = (u64, Event);

/// Turns one resource's watch events into timeline events.
pub struct Translator<K> {
    resource: &'static str,
    convert: fn(&K, Change) -> Event,
    /// UID → name of every object seen, to tell Added from Modified and find missed deletions.
    known: BTreeMap<String, K>,
    /// Objects seen during the current (re-)list.
    relist: Option<BTreeMap<String, K>>,
    /// Whether the first list completed: any later list is a restart.
    listed: bool,
    /// A gap was recorded and the re-list that closes it has not finished.
    gap_open: bool,
}

fn uid_of<K: Resource>(object: &K) -> String {
    object.meta().uid.clone().unwrap_or_else(|| object.meta().name.clone().unwrap_or_default())
}

impl<K: Resource + Clone> Translator<K> {
    /// A translator for `resource` (its name in gap entries) using `convert`.
    pub fn new(resource: &'static str, convert: fn(&K, Change) -> Event) -> Self {
        Self { resource, convert, known: BTreeMap::new(), relist: None, listed: false, gap_open: false }
    }

    fn applied(&mut self, object: &K) -> Event {
        let change = if self.known.insert(uid_of(object), object.clone()).is_some() { Change::Modified } else { Change::Added };
        (self.convert)(object, change)
    }

    /// The timeline events for one watch event (or error).
    pub fn translate(&mut self, event: Result<WatchEvent<K>, watcher::Error>) -> Vec<Event> {
        match event {
            Ok(WatchEvent::Apply(object)) => vec![self.applied(&object)],
            Ok(WatchEvent::Delete(object)) => {
                self.known.remove(&uid_of(&object));
                vec![(self.convert)(&object, Change::Deleted)]
            }
            Ok(WatchEvent::Init) => {
                self.relist = Some(BTreeMap::new());
                if self.listed && !self.gap_open {
                    self.gap_open = true;
                    vec![Event::Gap { resource: self.resource.into(), reason: "the watch restarted and re-listed".into() }]
                } else {
                    vec![]
                }
            }
            Ok(WatchEvent::InitApply(object)) => {
                if let Some(relist) = &mut self.relist {
                    relist.insert(uid_of(&object), object.clone());
                }
                vec![self.applied(&object)]
            }
            Ok(WatchEvent::InitDone) => {
                self.listed = true;
                self.gap_open = false;
                let seen = self.relist.take().unwrap_or_default();
                let gone: Vec<String> = self.known.keys().filter(|uid| !seen.contains_key(*uid)).cloned().collect();
                gone.into_iter()
                    .filter_map(|uid| self.known.remove(&uid))
                    .map(|object| (self.convert)(&object, Change::Deleted))
                    .collect()
            }
            Err(_) if self.gap_open => vec![],
            Err(e) => {
                self.gap_open = true;
                vec![Event::Gap { resource: self.resource.into(), reason: e.to_string() }]
            }
        }
    }
}

/// Runs a watch of `api` until the receiver is dropped, sending what it observes.
pub async fn run<K>(
    api: Api<K>,
    config: watcher::Config,
    mut translator: Translator<K>,
    started: Instant,
    out: UnboundedSender<Stamped>,
) where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut stream = watcher::watcher(api, config).boxed();
    while let Some(event) = stream.next().await {
        let at = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        for event in translator.translate(event) {
            if out.send((at, event)).is_err() {
                return;
            }
        }
    }
}

/// Conversions from each watched type to a timeline event.
pub mod events {
    use k8s_openapi::api::{
        apps::v1::StatefulSet,
        core::v1::{Event as CoreEvent, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service},
    };

    use super::{Arc, Change, Event};
    use crate::live::convert;

    /// A pod change.
    pub fn pod(pod: &Pod, change: Change) -> Event {
        Event::Pod { change, pod: Arc::new(convert::pod(pod)) }
    }
    /// A claim change.
    pub fn claim(claim: &PersistentVolumeClaim, change: Change) -> Event {
        Event::Claim { change, claim: convert::claim(claim) }
    }
    /// A volume change.
    pub fn volume(volume: &PersistentVolume, change: Change) -> Event {
        Event::Volume { change, volume: convert::volume(volume) }
    }
    /// A service change.
    pub fn service(service: &Service, change: Change) -> Event {
        Event::Service { change, service: convert::service(service) }
    }
    /// A StatefulSet change.
    pub fn statefulset(set: &StatefulSet, change: Change) -> Event {
        Event::StatefulSet { change, set: convert::statefulset(set) }
    }
    /// A Secret change: its key names only, never its values.
    pub fn secret(secret: &Secret, change: Change) -> Event {
        let keys =
            secret.data.iter().flat_map(|d| d.keys()).chain(secret.string_data.iter().flat_map(|d| d.keys())).cloned().collect();
        Event::Secret { change, name: secret.metadata.name.clone().unwrap_or_default(), keys }
    }
    /// A Kubernetes Event (only additions matter; updates repeat the same event).
    pub fn kube_event(event: &CoreEvent, _change: Change) -> Event {
        Event::KubeEvent(convert::event(event))
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::Pod;

    use super::*;

    fn pod(uid: &str, phase: &str) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-0", "uid": uid, "namespace": "ns"},
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
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_relist_is_a_gap_and_finds_missed_deletions() {
        let mut t = Translator::new("pods", events::pod);
        let mut all = Vec::new();
        all.extend(t.translate(Ok(WatchEvent::Init)));
        all.extend(t.translate(Ok(WatchEvent::InitApply(pod("u1", "Running")))));
        all.extend(t.translate(Ok(WatchEvent::InitDone)));
        all.extend(t.translate(Ok(WatchEvent::Apply(pod("u1", "Running")))));
        all.extend(t.translate(Ok(WatchEvent::Apply(pod("u2", "Pending")))));
        // 410 Gone: the watcher re-lists; u1 vanished meanwhile.
        all.extend(t.translate(Ok(WatchEvent::Init)));
        all.extend(t.translate(Ok(WatchEvent::InitApply(pod("u2", "Running")))));
        all.extend(t.translate(Ok(WatchEvent::InitDone)));
        assert_eq!(
            changes(&all),
            [
                "Added u1 Running",
                "Modified u1 Running",
                "Added u2 Pending",
                "gap pods",
                "Modified u2 Running",
                "Deleted u1 Running"
            ]
        );
    }
}
