//! Storage in the sim: the PersistentVolume binder (dynamic provisioning through the default
//! class, static volumes matched by class and size, `ProvisioningFailed` for a class that does
//! not exist), the release of a deleted claim's volume, and the files written to volumes and to
//! pods' own filesystems.

use super::{DEFAULT_STORAGE_CLASS, Fault, SimCluster, SimPod, Task, delay};
use crate::timeline::{Change, ClaimObs, Event, KubeEventObs, VolumeObs};

impl SimCluster {
    pub(super) fn delete_claim(&mut self, name: &str) {
        let Some(claim) = self.claims.remove(name) else { return };
        self.emit(Event::Claim { change: Change::Deleted, claim: Box::new(claim.clone()) });
        if let Some(volume) = &claim.volume
            && let Some((obs, dynamic)) = self.volumes.get(volume).cloned()
        {
            if dynamic {
                self.volumes.remove(volume);
                self.emit(Event::Volume { change: Change::Deleted, volume: Box::new(obs) });
            } else {
                let released = VolumeObs { phase: "Released".into(), ..obs };
                self.volumes.insert(volume.clone(), (released.clone(), false));
                self.emit(Event::Volume { change: Change::Modified, volume: Box::new(released) });
            }
        }
    }

    /// Creates a volume for `claim` of class `class` (dynamic provisioning); returns its name.
    pub(super) fn provision(&mut self, claim: &ClaimObs, class: &str) -> String {
        let name = format!("pvc-{}", claim.uid);
        let obs = VolumeObs {
            name: name.clone(),
            phase: "Bound".into(),
            storage_class: Some(class.to_owned()),
            capacity: claim.request.clone(),
            claim: None,
        };
        self.volumes.insert(name.clone(), (obs, true));
        name
    }

    /// The PersistentVolume binder for one claim.
    pub(super) fn bind_claim(&mut self, name: &str) {
        let Some(claim) = self.claims.get(name).cloned() else { return };
        if claim.phase == "Bound" {
            return;
        }
        let class = claim.storage_class.clone().unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into());
        let request = claim.request.as_deref().map_or(0, quantity_bytes);
        let static_match = || {
            self.volumes
                .values()
                .filter(|(v, _)| v.phase == "Available" && v.storage_class.as_deref() == Some(class.as_str()))
                .filter(|(v, _)| v.capacity.as_deref().map_or(0, quantity_bytes) >= request)
                .map(|(v, _)| v.name.clone())
                .next()
        };
        let volume_name = if class == DEFAULT_STORAGE_CLASS {
            Some(self.provision(&claim, &class))
        } else {
            match static_match() {
                None if self.has(Fault::StaticShortageBindsAnyway) => Some(self.provision(&claim, &class)),
                found => found,
            }
        };
        let Some(volume_name) = volume_name else {
            if self.warned.insert(name.to_owned()) {
                self.emit(Event::from(KubeEventObs {
                    kind: "Warning".into(),
                    reason: "ProvisioningFailed".into(),
                    object: format!("PersistentVolumeClaim/{name}"),
                    message: format!("storageclass.storage.k8s.io \"{class}\" not found"),
                }));
            }
            self.schedule(delay::RETRY, Task::BindClaim(name.to_owned()));
            return;
        };
        let namespace = self.namespace.clone();
        if let Some((volume, dynamic)) = self.volumes.get(&volume_name).cloned() {
            let volume = VolumeObs { phase: "Bound".into(), claim: Some(format!("{namespace}/{name}")), ..volume };
            let change = if dynamic { Change::Added } else { Change::Modified };
            self.volumes.insert(volume_name.clone(), (volume.clone(), dynamic));
            self.emit(Event::Volume { change, volume: Box::new(volume) });
        }
        let bound = ClaimObs { phase: "Bound".into(), volume: Some(volume_name), ..claim };
        self.claims.insert(name.to_owned(), bound.clone());
        self.emit(Event::Claim { change: Change::Modified, claim: Box::new(bound) });
        let waiting: Vec<(String, String)> = self
            .pods
            .values()
            .filter(|p| p.obs.spec.claims.values().any(|c| c == name))
            .map(|p| (p.obs.name.to_string(), p.obs.uid.to_string()))
            .collect();
        for (pod, uid) in waiting {
            self.schedule(delay::SCHEDULE, Task::Kubelet(pod, uid));
        }
    }

    pub(super) fn storage_key(&self, pod: &SimPod, path: &str) -> String {
        let mounts = pod.spec.containers.first().and_then(|c| c.volume_mounts.clone()).unwrap_or_default();
        let mount = mounts
            .iter()
            .filter(|m| path == m.mount_path || path.starts_with(&format!("{}/", m.mount_path.trim_end_matches('/'))))
            .max_by_key(|m| m.mount_path.len());
        match mount {
            Some(m) => match pod.obs.spec.claims.get(&m.name).and_then(|c| self.claims.get(c)).and_then(|c| c.volume.clone()) {
                Some(volume) => format!("volume/{volume}"),
                None => format!("pod/{}/{}", pod.obs.uid, m.name),
            },
            None => format!("pod/{}", pod.obs.uid),
        }
    }

    pub(super) fn read_file(&self, pod: &SimPod, path: &str) -> Option<String> {
        self.files.get(&self.storage_key(pod, path)).and_then(|f| f.get(path)).cloned()
    }
}

/// Bytes of a quantity like `1Gi`, `100Mi`, `20M`, `1024` (0 when unreadable).
fn quantity_bytes(q: &str) -> u64 {
    let q = q.trim();
    let split = q.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(q.len());
    let (number, unit) = q.split_at(split);
    let n: f64 = number.parse().unwrap_or(0.0);
    let factor: f64 = match unit {
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => 1.0,
    };
    (n * factor) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn quantities() {
        assert_eq!(quantity_bytes("1Gi"), 1 << 30);
        assert_eq!(quantity_bytes("100Mi"), 100 << 20);
        assert!(quantity_bytes("100Mi") >= quantity_bytes("20Mi"));
        assert_eq!(quantity_bytes("junk"), 0);
    }
}
