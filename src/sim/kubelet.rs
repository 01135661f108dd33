//! The scheduler and the kubelet of the sim's one node: a pod is scheduled once its claims are
//! Bound, its containers start unless a Secret it needs is missing, it becomes Ready, and it
//! terminates gracefully; a removed pod's claims go as the retention policy says. And the
//! node-by-node upgrade that drains every pod in turn.

use std::sync::Arc;

use k8s_openapi::api::core::v1::PodSpec;

use super::{DEFAULT_STORAGE_CLASS, Fault, SimCluster, SimPod, Task, UpgradeFault, delay, statefulset};
use crate::timeline::{Change, ClaimObs, Event, PodObs, PodSpecObs};

impl SimCluster {
    /// A node-by-node upgrade: every pod is drained (deleted) and comes back through its
    /// controller, one at a time, each Ready before the next; volumes are untouched — unless
    /// `faults` say otherwise.
    pub fn upgrade_nodes(&mut self, faults: &[UpgradeFault]) {
        let renamed = faults.contains(&UpgradeFault::PodRenamed);
        let names: Vec<String> = self.pods.keys().cloned().collect();
        for (i, name) in names.iter().enumerate() {
            let Some(pod) = self.pods.get(name).map(|p| p.obs.clone()) else { continue };
            if faults.contains(&UpgradeFault::VolumeLost) {
                for claim in pod.spec.claims.values() {
                    if let Some(volume) = self.claims.get(claim).and_then(|c| c.volume.clone()) {
                        self.files.remove(&format!("volume/{volume}"));
                    }
                }
            }
            if renamed && i == 0 {
                // The first drained pod comes back under another name.
                self.faults.insert(Fault::RecreatedRenamed);
                self.user_deleted.insert(name.clone());
            }
            self.begin_pod_deletion(name);
            let until = self.clock + 60_000;
            self.run_until(until);
            self.faults.remove(&Fault::RecreatedRenamed);
            if faults.contains(&UpgradeFault::DnsStale)
                && let (Some(host), Some(ip)) = (pod.spec.hostname.clone(), pod.ip.clone())
            {
                self.stale_dns.entry(host).or_insert_with(|| ip.to_string());
            }
        }
        if faults.contains(&UpgradeFault::ClaimRebound) {
            let claims: Vec<String> = self.claims.keys().cloned().collect();
            for name in claims {
                let Some(mut claim) = self.claims.get(&name).cloned() else { continue };
                let class = claim.storage_class.clone().unwrap_or_else(|| DEFAULT_STORAGE_CLASS.into());
                let fresh = ClaimObs { uid: format!("{}-rebound", claim.uid), ..claim.clone() };
                let volume = self.provision(&fresh, &class);
                claim.volume = Some(volume);
                self.claims.insert(name, claim);
            }
        }
        self.outbox.clear();
    }

    pub(super) fn add_pod(&mut self, mut obs: PodObs, spec: PodSpec, grace_seconds: Option<i64>) {
        let facts = Arc::make_mut(&mut obs.spec);
        facts.images = spec.containers.iter().filter_map(|c| c.image.clone()).collect();
        facts.secret_refs = crate::scenario::secret_refs(&spec).into_iter().map(|(s, k)| format!("{s}/{k}")).collect();
        // The sim shortens grace periods: what matters is that termination takes time.
        let grace_ms = grace_seconds.map_or(delay::TERMINATION, |s| u64::try_from(s).unwrap_or(0).min(1) * delay::TERMINATION);
        let name = obs.name.to_string();
        let uid = obs.uid.to_string();
        self.pods.insert(name.clone(), SimPod { obs: obs.clone(), spec, grace_ms, ready_since: None });
        self.emit(Event::Pod { change: Change::Added, pod: obs.into() });
        self.schedule(delay::SCHEDULE, Task::Kubelet(name, uid));
    }

    /// A pod a controller makes from its template: `<owner name>-<5 random characters>`, owned
    /// by `Kind/name`, with `labels` added to the template's, for `target_node` when it is one.
    pub(super) fn create_controlled_pod(
        &mut self,
        owner: (&str, &str),
        template: &k8s_openapi::api::core::v1::PodTemplateSpec,
        labels: &[(&str, String)],
        target_node: Option<String>,
    ) {
        let spec = template.spec.clone().unwrap_or_default();
        let grace = spec.termination_grace_period_seconds;
        let mut all = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        all.extend(labels.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let obs = PodObs {
            name: format!("{}-{}", owner.1, self.random_suffix(5)).into(),
            uid: self.new_uid().into(),
            phase: "Pending".into(),
            spec: Arc::new(PodSpecObs {
                owner: Some(format!("{}/{}", owner.0, owner.1)),
                labels: all,
                target_node,
                ..PodSpecObs::default()
            }),
            ..PodObs::default()
        };
        self.add_pod(obs, spec, grace);
    }

    pub(super) fn update_pod(&mut self, name: &str, f: impl FnOnce(&mut PodObs)) {
        let Some(pod) = self.pods.get_mut(name) else { return };
        let before = pod.obs.clone();
        f(&mut pod.obs);
        if pod.obs.ready != before.ready {
            pod.ready_since = pod.obs.ready.then_some(self.clock);
        }
        if pod.obs != before {
            let obs = pod.obs.clone();
            self.emit(Event::Pod { change: Change::Modified, pod: obs.clone().into() });
            self.pod_changed(&obs);
        }
    }

    /// Controllers watching pods react to a change of one of theirs.
    pub(super) fn pod_changed(&mut self, pod: &PodObs) {
        match pod.spec.owner.as_deref().and_then(|o| o.split_once('/')) {
            Some(("StatefulSet", set)) => self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned())),
            Some(("DaemonSet", ds)) => self.schedule(delay::CONTROLLER, Task::ReconcileDaemonSet(ds.to_owned())),
            Some(("Job", job)) => self.schedule(delay::CONTROLLER, Task::ReconcileJob(job.to_owned())),
            Some(("ReplicaSet", rs)) => {
                if let Some(d) = self.deployments.iter().find(|(_, d)| d.replica_set == rs).map(|(n, _)| n.clone()) {
                    self.schedule(delay::CONTROLLER, Task::ReconcileDeployment(d));
                }
            }
            _ => {}
        }
    }

    pub(super) fn begin_pod_deletion(&mut self, name: &str) {
        let Some(pod) = self.pods.get(name) else { return };
        if pod.obs.terminating {
            return;
        }
        let (uid, grace) = (pod.obs.uid.to_string(), pod.grace_ms);
        self.update_pod(name, |p| {
            p.terminating = true;
            p.ready = false;
        });
        self.schedule(grace, Task::Remove(name.to_owned(), uid));
    }

    /// The kubelet's next move for a pod.
    pub(super) fn kubelet(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| &*p.obs.uid == uid && !p.obs.terminating).cloned() else { return };
        let obs = &pod.obs;
        let job_pod = obs.spec.owner.as_deref().is_some_and(|o| o.starts_with("Job/"));
        if obs.node.is_none() {
            let bound = obs.spec.claims.values().all(|c| self.claims.get(c).is_some_and(|c| c.phase == "Bound"));
            if bound {
                // A DaemonSet's pod goes to the node it was made for; every other to the first worker.
                let node = obs.spec.target_node.clone().unwrap_or_else(|| "sim-node-1".into());
                self.update_pod(name, |p| {
                    p.node = Some(node.into());
                    p.waiting = Some("ContainerCreating".into());
                });
                self.schedule(delay::CONTAINER_START, Task::Kubelet(name.to_owned(), uid.to_owned()));
            }
            return;
        }
        if obs.phase == "Pending" {
            let missing = obs.spec.secret_refs.iter().any(|r| {
                let (secret, key) = r.split_once('/').unwrap_or((r, ""));
                !self.secrets.get(secret).is_some_and(|keys| keys.iter().any(|k| k == key))
            });
            if missing {
                self.update_pod(name, |p| p.waiting = Some("CreateContainerConfigError".into()));
                self.schedule(delay::RETRY, Task::Kubelet(name.to_owned(), uid.to_owned()));
                return;
            }
            self.counter += 1;
            let ip = format!("10.244.{}.{}", self.counter / 250, self.counter % 250 + 2);
            self.update_pod(name, |p| {
                p.phase = "Running".into();
                p.waiting = None;
                p.ip = Some(ip.into());
            });
            self.schedule(delay::READINESS, Task::Kubelet(name.to_owned(), uid.to_owned()));
        } else if obs.phase == "Running" && !obs.ready {
            if !self.probe_passes(&pod) {
                // Not Ready until the file its probe reads is back (`Task::Probe`).
                return;
            }
            self.update_pod(name, |p| p.ready = true);
            if job_pod {
                let runs = run_time_ms(&pod.spec).unwrap_or(delay::READINESS);
                self.schedule(runs, Task::Kubelet(name.to_owned(), uid.to_owned()));
            }
        } else if obs.phase == "Running" && job_pod {
            // A Job's container runs to its exit: a success unless its command exits otherwise.
            let failed = exit_code(&pod.spec) != 0;
            if failed && pod.spec.restart_policy.as_deref() == Some("OnFailure") {
                // The kubelet restarts the container in place, and it runs again.
                self.update_pod(name, |p| {
                    p.restarts += 1;
                    p.ready = false;
                });
                self.schedule(delay::READINESS, Task::Kubelet(name.to_owned(), uid.to_owned()));
                return;
            }
            let phase = if failed { "Failed" } else { "Succeeded" };
            self.update_pod(name, |p| {
                p.phase = phase.into();
                p.ready = false;
            });
        }
    }

    /// A file of `pod` was moved: its readiness probe sees it after the probe's period times
    /// its threshold (failure or success), as the kubelet's prober would.
    pub(super) fn file_moved(&mut self, pod: &SimPod) {
        let Some(probe) = pod.spec.containers.first().and_then(|c| c.readiness_probe.as_ref()) else { return };
        let period = u64::try_from(probe.period_seconds.unwrap_or(10)).unwrap_or(10).max(1);
        let threshold = if self.probe_passes(pod) { probe.success_threshold } else { probe.failure_threshold };
        let threshold = u64::try_from(threshold.unwrap_or(1)).unwrap_or(1).max(1);
        self.schedule(period * threshold * 1000, Task::Probe(pod.obs.name.to_string(), pod.obs.uid.to_string()));
    }

    /// Whether `pod`'s readiness probe passes: an `httpGet` probe fails when the file it
    /// fetches (a moved-away path ending in its URL path) is gone, an `exec` probe when its
    /// command names a moved-away path; a pod without a probe, or with a TCP one, passes.
    fn probe_passes(&self, pod: &SimPod) -> bool {
        let Some(probe) = pod.spec.containers.first().and_then(|c| c.readiness_probe.as_ref()) else { return true };
        let uid = pod.obs.uid.to_string();
        let moved = self.moved_away.range((uid.clone(), String::new())..).take_while(|(u, _)| *u == uid).map(|(_, p)| p);
        let url = probe.http_get.as_ref().and_then(|h| h.path.as_deref());
        let command = probe.exec.as_ref().and_then(|e| e.command.as_ref());
        for path in moved {
            if url.is_some_and(|u| !u.is_empty() && u != "/" && path.ends_with(u)) {
                return false;
            }
            if command.is_some_and(|words| words.iter().any(|w| w.contains(path.as_str()))) {
                return false;
            }
        }
        true
    }

    /// The readiness probe of a running pod, run again: Ready follows its answer.
    pub(super) fn probe_readiness(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| &*p.obs.uid == uid).cloned() else { return };
        let job_pod = pod.obs.spec.owner.as_deref().is_some_and(|o| o.starts_with("Job/"));
        if pod.obs.phase != "Running" || pod.obs.terminating || job_pod {
            return;
        }
        let ready = self.probe_passes(&pod);
        self.update_pod(name, |p| p.ready = ready);
    }

    /// The kubelet ends a pod whose `activeDeadlineSeconds` ran out: phase Failed
    /// (`DeadlineExceeded`), its containers stopped.
    pub(super) fn deadline_exceeded(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| &*p.obs.uid == uid) else { return };
        if pod.obs.terminating || matches!(&*pod.obs.phase, "Failed" | "Succeeded") {
            return;
        }
        self.update_pod(name, |p| {
            p.phase = "Failed".into();
            p.ready = false;
            p.waiting = None;
        });
    }

    pub(super) fn remove_pod(&mut self, name: &str, uid: &str) {
        let Some(pod) = self.pods.get(name).filter(|p| p.obs.uid == uid.into()).cloned() else { return };
        self.pods.remove(name);
        self.files.remove(&format!("pod/{uid}"));
        self.moved_away.retain(|(u, _)| u != uid);
        self.emit(Event::Pod { change: Change::Deleted, pod: pod.obs.clone().into() });
        // Retention: claims of a pod removed by scale-down go under whenScaled: Delete,
        // all claims of a deleted set under whenDeleted: Delete.
        if let Some(set_name) = pod.obs.spec.owner.as_deref().and_then(|o| o.strip_prefix("StatefulSet/")) {
            let ordinal = statefulset::pod_ordinal(&pod.obs, set_name).unwrap_or(0);
            let (scaled_away, kept) = match self.sets.get(set_name) {
                Some(set) => (!set.ordinals().contains(&ordinal), set.ordinals().contains(&ordinal)),
                None => (false, false),
            };
            let scaled_delete = self.sets.get(set_name).is_some_and(statefulset::SimSet::when_scaled_delete);
            let delete_claims = (scaled_away && (scaled_delete || self.has(Fault::ClaimsDeletedOnScaleDown)))
                || (kept && self.has(Fault::FreshClaimOnRecreate));
            if delete_claims {
                for claim in pod.obs.spec.claims.values() {
                    self.delete_claim(claim);
                }
            }
            if kept && self.has(Fault::DataLostOnRecreate) {
                let volumes: Vec<String> =
                    pod.obs.spec.claims.values().filter_map(|c| self.claims.get(c).and_then(|c| c.volume.clone())).collect();
                for volume in volumes {
                    self.files.remove(&format!("volume/{volume}"));
                }
            }
        }
        self.pod_changed(&pod.obs);
    }
}

/// The words of a container's command and arguments, split as a shell splits simple commands.
fn words(spec: &k8s_openapi::api::core::v1::PodSpec) -> Vec<&str> {
    let Some(container) = spec.containers.first() else { return Vec::new() };
    container
        .command
        .iter()
        .chain(container.args.iter())
        .flatten()
        .flat_map(|w| w.split(|c: char| c.is_whitespace() || c == ';'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The exit status of a container whose command ends with `exit N` or `false` (as busybox's
/// shell runs it); 0 otherwise.
fn exit_code(spec: &k8s_openapi::api::core::v1::PodSpec) -> i32 {
    let words = words(spec);
    match words.as_slice() {
        [.., "exit", n] => n.parse().unwrap_or(1),
        [.., "false"] => 1,
        _ => 0,
    }
}

/// How long a container that runs `sleep N` (in its command or arguments, as busybox's shell
/// runs it) keeps running: N seconds; `None` for any other command, which exits at once.
fn run_time_ms(spec: &k8s_openapi::api::core::v1::PodSpec) -> Option<u64> {
    let words = words(spec);
    let at = words.iter().position(|w| *w == "sleep")?;
    words.get(at + 1)?.parse::<u64>().ok().map(|s| s.saturating_mul(1000))
}
