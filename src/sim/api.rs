//! The simulated cluster behind the [`Cluster`] interface: what the API server accepts and
//! refuses, and the actions and observations the runner asks for.

use std::{cmp::Reverse, collections::BTreeMap, sync::Arc};

use serde_json::Value;

use super::{DEFAULT_STORAGE_CLASS, Fault, SimCluster, Task, delay, statefulset::SimSet};
use crate::{
    cluster::{Cluster, ClusterError, ExecCommand, HttpAnswer, Observe, ProbeError},
    manifest::Object,
    timeline::{ApiAnswer, ApiCall, Change, ClaimObs, Event, PodObs, PodSpecObs, ServiceObs, SetObs, VolumeObs},
};

impl SimCluster {
    pub(super) fn apply_set(&mut self, set: k8s_openapi::api::apps::v1::StatefulSet) -> Result<(), ClusterError> {
        let name = set.metadata.name.clone().unwrap_or_default();
        match self.sets.get_mut(&name) {
            Some(existing) => {
                let old = existing.obj.spec.clone().unwrap_or_default();
                let new = set.spec.clone().unwrap_or_default();
                forbid_immutable(&name, &old, &new)?;
                if old != new {
                    // As the API server does: every change of the spec is a new generation.
                    existing.obj.metadata.generation = Some(existing.obj.metadata.generation.unwrap_or(1) + 1);
                }
                // The new template becomes the update revision when the controller observes it.
                existing.obj.spec = Some(new);
                existing.obj.metadata.labels = set.metadata.labels.clone();
            }
            None => {
                let uid = self.new_uid();
                let mut sim = SimSet::new(set, uid);
                sim.obs.resource_version = Some(self.next_version());
                self.emit(Event::StatefulSet { change: Change::Added, set: Box::new(sim.obs.clone()) });
                self.sets.insert(name.clone(), sim);
            }
        }
        self.update_set_status(&name);
        self.schedule(delay::CONTROLLER, Task::Reconcile(name));
        Ok(())
    }
}

/// Fields of a StatefulSet spec the API server lets an update change.
fn forbid_immutable(
    name: &str,
    old: &k8s_openapi::api::apps::v1::StatefulSetSpec,
    new: &k8s_openapi::api::apps::v1::StatefulSetSpec,
) -> Result<(), ClusterError> {
    let mut a = old.clone();
    let mut b = new.clone();
    for spec in [&mut a, &mut b] {
        spec.replicas = None;
        spec.template = Default::default();
        spec.update_strategy = None;
        spec.persistent_volume_claim_retention_policy = None;
        spec.min_ready_seconds = None;
        spec.ordinals = None;
    }
    if a != b {
        return Err(ClusterError::Refused(format!(
            "StatefulSet.apps \"{name}\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than \
             'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        )));
    }
    Ok(())
}

impl Cluster for SimCluster {
    fn now_ms(&self) -> u64 {
        self.clock
    }

    async fn create_namespace(&mut self, namespace: &str, _labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        self.namespace = namespace.to_owned();
        Ok(())
    }

    async fn attach_namespace(&mut self, namespace: &str, _labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        if self.namespace != namespace {
            return Err(ClusterError::Refused(format!("namespaces \"{namespace}\" not found in the simulated cluster's state")));
        }
        self.relist();
        Ok(())
    }

    async fn observe(&mut self, what: Observe) -> Result<(), ClusterError> {
        match what {
            Observe::Nodes => self.report_nodes(),
            // The simulated API reports its CronJobs from the start.
            Observe::CronJobs => {}
        }
        Ok(())
    }

    async fn read_config_map(&mut self, name: &str) -> Result<Option<BTreeMap<String, String>>, ClusterError> {
        Ok(self.config_maps.get(name).cloned())
    }

    async fn apply(&mut self, object: &Object) -> Result<(), ClusterError> {
        // The API server's validation, as far as the harness knows its rules.
        if let Err((path, why)) = crate::manifest::check_object(object)
            && !self.has(Fault::InvalidObjectAccepted)
        {
            let (kind, name) = (object.kind(), object.name());
            // As the API server names it: `Job.batch`.
            let group = if object.group().is_empty() { String::new() } else { format!(".{}", object.group()) };
            return Err(ClusterError::Api {
                doing: format!("applying {kind} {name}"),
                code: 422,
                reason: "Invalid".into(),
                message: format!("{kind}{group} \"{name}\" is invalid: {path}: {why}"),
                source: None,
            });
        }
        match object.clone() {
            Object::StatefulSet(set) => self.apply_set(set)?,
            Object::Service(service) => {
                let name = object.name().to_owned();
                let spec = service.spec.unwrap_or_default();
                let cluster_ip = match spec.cluster_ip.as_deref() {
                    Some("None") if !self.has(Fault::HeadlessGetsClusterIp) => Some("None".to_owned()),
                    _ => match self.services.get(&name) {
                        Some(existing) => existing.cluster_ip.clone(),
                        None => {
                            self.counter += 1;
                            Some(format!("10.96.{}.{}", self.counter / 250, self.counter % 250 + 1))
                        }
                    },
                };
                let obs = ServiceObs { name: name.clone(), cluster_ip, selector: spec.selector.unwrap_or_default() };
                let change = if self.services.contains_key(&name) { Change::Modified } else { Change::Added };
                self.service_ports
                    .insert(name.clone(), spec.ports.iter().flatten().filter_map(|p| u16::try_from(p.port).ok()).collect());
                self.services.insert(name, obs.clone());
                self.emit(Event::Service { change, service: Box::new(obs) });
            }
            Object::Secret(secret) => {
                let keys: Vec<String> = secret
                    .data
                    .iter()
                    .flat_map(|d| d.keys())
                    .chain(secret.string_data.iter().flat_map(|d| d.keys()))
                    .cloned()
                    .collect();
                let name = object.name().to_owned();
                let change = if self.secrets.contains_key(&name) { Change::Modified } else { Change::Added };
                self.secrets.insert(name.clone(), keys.clone());
                self.emit(Event::Secret { change, name, keys });
            }
            Object::PersistentVolume(pv) => {
                let spec = pv.spec.unwrap_or_default();
                let obs = VolumeObs {
                    name: object.name().to_owned(),
                    phase: "Available".into(),
                    storage_class: spec.storage_class_name,
                    capacity: spec.capacity.and_then(|c| c.get("storage").map(|q| q.0.clone())),
                    claim: None,
                };
                self.volumes.insert(obs.name.clone(), (obs.clone(), false));
                self.emit(Event::Volume { change: Change::Added, volume: Box::new(obs) });
            }
            Object::Pod(pod) => {
                let name = object.name().to_owned();
                if self.pods.contains_key(&name) {
                    return Err(ClusterError::Refused(format!("pods \"{name}\" already exists and pods are immutable")));
                }
                let spec = pod.spec.unwrap_or_default();
                let obs = PodObs {
                    name: name.into(),
                    uid: self.new_uid().into(),
                    phase: "Pending".into(),
                    spec: Arc::new(PodSpecObs { labels: pod.metadata.labels.unwrap_or_default(), ..Default::default() }),
                    ..PodObs::default()
                };
                let grace = spec.termination_grace_period_seconds;
                self.add_pod(obs, spec, grace);
            }
            Object::Deployment(d) => self.apply_deployment(object.name().to_owned(), d.spec.unwrap_or_default()),
            Object::PersistentVolumeClaim(c) => {
                let spec = c.spec.unwrap_or_default();
                let obs = ClaimObs {
                    name: object.name().to_owned(),
                    uid: self.new_uid(),
                    phase: "Pending".into(),
                    storage_class: spec.storage_class_name.or_else(|| Some(DEFAULT_STORAGE_CLASS.into())),
                    request: spec.resources.and_then(|r| r.requests).and_then(|r| r.get("storage").map(|q| q.0.clone())),
                    ..ClaimObs::default()
                };
                self.claims.insert(obs.name.clone(), obs.clone());
                self.emit(Event::Claim { change: Change::Added, claim: Box::new(obs.clone()) });
                self.schedule(delay::SCHEDULE, Task::BindClaim(obs.name));
            }
            Object::ConfigMap(map) => {
                self.config_maps.insert(object.name().to_owned(), map.data.unwrap_or_default());
            }
            Object::DaemonSet(set) => self.apply_daemon_set(set),
            Object::Job(job) => self.apply_job(job)?,
            Object::CronJob(cron) => self.apply_cron_job(cron)?,
        }
        Ok(())
    }

    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), ClusterError> {
        let sim = self.sets.get(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        if self.has(Fault::ScalePastUnready) && replicas > sim.replicas() {
            // A readiness probe of pod 0 fails for a while (legitimate); the fault is that the
            // controller goes on scaling.
            let first = format!("{set}-0");
            if let Some(uid) = self.pods.get(&first).map(|p| p.obs.uid.to_string()) {
                self.update_pod(&first, |p| p.ready = false);
                self.schedule(5 * delay::READINESS, Task::Kubelet(first, uid));
            }
        }
        let sim =
            self.sets.get_mut(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        if let Some(spec) = sim.obj.spec.as_mut() {
            let wanted = Some(i32::try_from(replicas).unwrap_or(i32::MAX));
            if spec.replicas != wanted {
                spec.replicas = wanted;
                sim.obj.metadata.generation = Some(sim.obj.metadata.generation.unwrap_or(1) + 1);
            }
        }
        self.update_set_status(set);
        self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned()));
        Ok(())
    }

    async fn set_image(&mut self, set: &str, container: &str, image: &str) -> Result<(), ClusterError> {
        let sim =
            self.sets.get_mut(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        let spec = sim.obj.spec.as_mut().and_then(|s| s.template.spec.as_mut());
        let target = spec.and_then(|s| s.containers.iter_mut().find(|c| c.name == container));
        let Some(target) = target else {
            return Err(ClusterError::Refused(format!("unable to find container named \"{container}\" in {set}")));
        };
        if target.image.as_deref() != Some(image) {
            target.image = Some(image.to_owned());
            sim.obj.metadata.generation = Some(sim.obj.metadata.generation.unwrap_or(1) + 1);
        }
        self.update_set_status(set);
        self.schedule(delay::CONTROLLER, Task::Reconcile(set.to_owned()));
        Ok(())
    }

    async fn patch_statefulset(&mut self, set: &str, merge: &Value) -> Result<Option<i64>, ClusterError> {
        let sim = self.sets.get(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        let mut json = serde_json::to_value(&sim.obj).map_err(|e| ClusterError::Refused(e.to_string()))?;
        json["apiVersion"] = "apps/v1".into();
        json["kind"] = "StatefulSet".into();
        crate::scenario::merge_patch(&mut json, merge);
        let patched: k8s_openapi::api::apps::v1::StatefulSet = serde_json::from_value(json)
            .map_err(|e| ClusterError::Refused(format!("the patch does not fit a StatefulSet: {e}")))?;
        self.apply_set(patched)?;
        Ok(self.sets.get(set).and_then(|s| s.obj.metadata.generation))
    }

    async fn fail_pod(&mut self, pod: &str) -> Result<(), ClusterError> {
        let uid = self
            .pods
            .get(pod)
            .map(|p| p.obs.uid.to_string())
            .ok_or_else(|| ClusterError::Refused(format!("pods \"{pod}\" not found")))?;
        // activeDeadlineSeconds 1 on a pod started long ago: its kubelet acts on its next sync.
        self.schedule(1000, Task::Deadline(pod.to_owned(), uid));
        Ok(())
    }

    async fn delete_pod(&mut self, pod: &str) -> Result<(), ClusterError> {
        if !self.pods.contains_key(pod) {
            return Err(ClusterError::Refused(format!("pods \"{pod}\" not found")));
        }
        self.user_deleted.insert(pod.to_owned());
        self.begin_pod_deletion(pod);
        Ok(())
    }

    async fn patch_pod(&mut self, pod: &str, merge: &Value) -> Result<(), ClusterError> {
        if !self.pods.contains_key(pod) {
            return Err(ClusterError::Refused(format!("pods \"{pod}\" not found")));
        }
        let meta = merge.get("metadata");
        let labels = meta.and_then(|m| m.get("labels"));
        let owners = meta.and_then(|m| m.get("ownerReferences"));
        self.update_pod(pod, |p| {
            let spec = Arc::make_mut(&mut p.spec);
            match labels {
                Some(Value::Object(changes)) => {
                    for (k, v) in changes {
                        match v.as_str() {
                            Some(v) => spec.labels.insert(k.clone(), v.to_owned()),
                            None => spec.labels.remove(k),
                        };
                    }
                }
                Some(Value::Null) => spec.labels.clear(),
                _ => {}
            }
            if let Some(owners) = owners {
                // The controller among them, as `Kind/name` (none: an orphan).
                spec.owner = owners.as_array().into_iter().flatten().find_map(|o| {
                    if o.get("controller") != Some(&Value::Bool(true)) {
                        return None;
                    }
                    Some(format!("{}/{}", o.get("kind")?.as_str()?, o.get("name")?.as_str()?))
                });
            }
        });
        // `updatePod`: the sets the pod may belong to look again (an orphan has no owner to tell).
        let named: Vec<String> =
            self.sets.keys().filter(|set| crate::timeline::ordinal_of(pod, set).is_some()).cloned().collect();
        for set in named {
            self.schedule(delay::CONTROLLER, Task::Reconcile(set));
        }
        Ok(())
    }

    async fn call_api(&mut self, request: &ApiCall) -> Result<ApiAnswer, ProbeError> {
        let not_found = |set: &str| ProbeError::Answered(format!("statefulsets.apps \"{set}\" not found"));
        let answer = |obs: &SetObs| ApiAnswer {
            resource_version: obs.resource_version.clone(),
            spec_replicas: Some(obs.replicas),
            status_replicas: obs.status_replicas,
            ready_replicas: Some(obs.ready_replicas),
            observed_generation: obs.observed_generation,
            conditions: obs.conditions.clone(),
            names: Vec::new(),
        };
        let selected = |sim: &Self, labels: &BTreeMap<String, String>| -> Vec<String> {
            let ignore = sim.has(Fault::ListIgnoresLabels);
            sim.sets
                .values()
                .filter(|s| ignore || labels.iter().all(|(k, v)| s.obs.labels.get(k) == Some(v)))
                .map(|s| s.obs.name.clone())
                .collect()
        };
        match request {
            ApiCall::GetScale { set } | ApiCall::GetStatus { set } => {
                self.sets.get(set).map(|s| answer(&s.obs)).ok_or_else(|| not_found(set))
            }
            ApiCall::UpdateScale { set, replicas } | ApiCall::PatchScale { set, replicas } => {
                if !self.sets.contains_key(set) {
                    return Err(not_found(set));
                }
                if !self.has(Fault::ScaleWriteIgnored) {
                    self.scale(set, *replicas).await.map_err(|e| ProbeError::Answered(e.to_string()))?;
                }
                let mut said = self.sets.get(set).map(|s| answer(&s.obs)).ok_or_else(|| not_found(set))?;
                said.spec_replicas = Some(*replicas);
                Ok(said)
            }
            ApiCall::UpdateStatus { set, condition } | ApiCall::PatchStatus { set, condition } => {
                let dropped = self.has(Fault::StatusWriteDropped);
                // The controller's own status write, if one is due, is a version of its own.
                self.update_set_status(set);
                let sim = self.sets.get_mut(set).ok_or_else(|| not_found(set))?;
                if !dropped && !sim.conditions.contains(condition) {
                    sim.conditions.push(condition.clone());
                }
                self.update_set_status(set);
                let mut said = self.sets.get(set).map(|s| answer(&s.obs)).ok_or_else(|| not_found(set))?;
                if !said.conditions.contains(condition) {
                    said.conditions.push(condition.clone());
                }
                Ok(said)
            }
            ApiCall::List { labels } => Ok(ApiAnswer { names: selected(self, labels), ..Default::default() }),
            ApiCall::DeleteCollection { labels } => {
                let names = selected(self, labels);
                for name in &names {
                    self.delete_statefulset(name).await.map_err(|e| ProbeError::Answered(e.to_string()))?;
                }
                Ok(ApiAnswer { names, ..Default::default() })
            }
        }
    }

    async fn delete_statefulset(&mut self, set: &str) -> Result<(), ClusterError> {
        let sim = self.sets.remove(set).ok_or_else(|| ClusterError::Refused(format!("statefulsets.apps \"{set}\" not found")))?;
        self.emit(Event::StatefulSet { change: Change::Deleted, set: Box::new(sim.obs.clone()) });
        if sim.when_deleted_delete() {
            let prefixes: Vec<String> = sim.obs.claim_templates.iter().map(|t| format!("{t}-{set}-")).collect();
            let claims: Vec<String> =
                self.claims.keys().filter(|c| prefixes.iter().any(|p| c.starts_with(p.as_str()))).cloned().collect();
            for claim in claims {
                self.delete_claim(&claim);
            }
        }
        self.schedule(delay::GC, Task::CollectSet(set.to_owned()));
        Ok(())
    }

    async fn exec(&mut self, pod: &str, command: &ExecCommand) -> Result<String, ProbeError> {
        let target = self.running_pod(pod)?.clone();
        match command {
            ExecCommand::Hostname if self.has(Fault::HostnameIsNodeName) => {
                Ok(target.obs.node.as_deref().unwrap_or("sim-node-1").to_owned())
            }
            ExecCommand::Hostname => Ok(target.obs.spec.hostname.clone().unwrap_or_else(|| target.obs.name.to_string())),
            ExecCommand::Write { path, content } => {
                let key = self.storage_key(&target, path);
                self.files.entry(key).or_default().insert(path.clone(), format!("{content}\n"));
                Ok(String::new())
            }
            ExecCommand::Read { path } => self
                .read_file(&target, path)
                .ok_or_else(|| ProbeError::Answered(format!("cat: can't open '{path}': No such file or directory"))),
            ExecCommand::MoveAway { path } => {
                // Moved away already: nothing to do (the shell command exits 0 too).
                if self.moved_away.insert((target.obs.uid.to_string(), path.clone())) {
                    self.file_moved(&target);
                }
                Ok(String::new())
            }
            ExecCommand::MoveBack { path } => {
                if self.moved_away.remove(&(target.obs.uid.to_string(), path.clone())) {
                    self.file_moved(&target);
                }
                Ok(String::new())
            }
        }
    }

    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, ProbeError> {
        self.lookup(name)
    }

    async fn http_get(&mut self, from: Option<&str>, url: &str) -> HttpAnswer {
        if let Some(from) = from
            && let Err(e) = self.running_pod(from)
        {
            return HttpAnswer { address: None, response: Err(e) };
        }
        let Some((host, port, path)) = crate::cluster::parse_http_url(url) else {
            return HttpAnswer { address: None, response: Err(ProbeError::not_run(format!("malformed URL {url}"))) };
        };
        let address = if host.parse::<std::net::IpAddr>().is_ok() {
            host
        } else {
            match self.lookup(&host) {
                Ok(addresses) => addresses[0].clone(),
                Err(e) => return HttpAnswer { address: None, response: Err(e) },
            }
        };
        let server = self
            .pods
            .values()
            .find(|p| p.obs.ip.as_deref() == Some(address.as_str()) && p.obs.phase == "Running" && !p.obs.terminating);
        let response = match server {
            Some(pod) => self.serve(pod, port, &path),
            None => Err(ProbeError::Answered(format!("connect to {address}:{port} failed: No route to host"))),
        };
        HttpAnswer { address: Some(address), response }
    }

    async fn next_observation(&mut self, deadline_ms: u64) -> Option<(u64, Event)> {
        loop {
            if let Some(observed) = self.outbox.pop_front() {
                return Some(observed);
            }
            match self.queue.peek() {
                Some(Reverse((at, _, _))) if *at <= deadline_ms => {
                    let Reverse((at, _, task)) = self.queue.pop()?;
                    self.clock = self.clock.max(at);
                    self.run_task(task);
                }
                _ => {
                    self.clock = self.clock.max(deadline_ms);
                    return None;
                }
            }
        }
    }

    async fn diagnostics(&mut self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("namespace {} on the simulated cluster (virtual time {} ms)\n", self.namespace, self.clock);
        if !self.faults.is_empty() {
            let faults: Vec<&str> = self.faults.iter().map(|f| f.name()).collect();
            let _ = writeln!(out, "injected faults: {}", faults.join(", "));
        }
        let _ = writeln!(out, "\nwarning events:");
        for name in &self.warned {
            let _ = writeln!(out, "  PersistentVolumeClaim/{name}: ProvisioningFailed");
        }
        let _ = writeln!(out, "\npods:");
        for pod in self.pods.values() {
            let _ = writeln!(out, "  {}", pod.obs);
        }
        let _ = writeln!(out, "  (the simulated cluster runs no containers, so there are no container logs)");
        let _ = writeln!(out, "\nclaims:");
        for c in self.claims.values() {
            let _ = writeln!(out, "  {}", c);
        }
        let _ = writeln!(out, "\nvolumes:");
        for (v, dynamic) in self.volumes.values() {
            let _ = writeln!(out, "  {} dynamic={dynamic}", v);
        }
        let _ = writeln!(out, "\nstatefulsets:");
        for set in self.sets.values() {
            let _ = writeln!(out, "  {:?}", set.obs);
        }
        out
    }

    async fn cleanup(&mut self) -> Result<(), ClusterError> {
        if self.keep {
            return Ok(());
        }
        self.volumes.clear();
        self.sets.clear();
        self.pods.clear();
        self.claims.clear();
        self.services.clear();
        self.secrets.clear();
        self.deployments.clear();
        self.daemon_sets.clear();
        self.jobs.clear();
        self.cron_jobs.clear();
        self.queue.clear();
        self.outbox.clear();
        Ok(())
    }
}
