//! The live backend: the [`Cluster`] interface on a real cluster through kube-rs.
//!
//! Every action maps to one API call a reader can follow to what `kubectl` would do:
//!
//! | runner action | API call |
//! |---|---|
//! | create namespace | `POST /api/v1/namespaces` with the run's labels |
//! | apply | server-side apply: `PATCH …?fieldManager=sts-conformance&force=true` (`application/apply-patch+yaml`) |
//! | scale | `PATCH /apis/apps/v1/namespaces/NS/statefulsets/NAME/scale` (merge patch of `spec.replicas`) |
//! | set image | strategic merge patch of the container in `spec.template` |
//! | patch | merge patch of the StatefulSet |
//! | delete pod / StatefulSet | `DELETE` (the StatefulSet with `propagationPolicy=Background`, as `kubectl delete`) |
//! | exec (`hostname`, write/read a token) | `pods/exec` over a websocket |
//! | DNS, HTTP | `pods/exec` of `nslookup` / `curl`/`wget` in a probe pod of the namespace |
//! | observe | watches of pods, claims, StatefulSets, services, secrets, events in the namespace and of volumes |
//! | cleanup | `DELETE` of the namespace and of the run's labelled volumes, each re-read first |

mod api_calls;
mod cleanup;
mod connect;
mod convert;
mod preflight;
mod probe;
mod watch;

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment, StatefulSet},
    batch::v1::{CronJob, Job},
    core::v1::{ConfigMap, Event as CoreEvent, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service},
};
use kube::{
    Api, Client, Resource,
    api::{AttachParams, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams},
    core::ApiResource,
    runtime::watcher,
};
use serde_json::json;
use tokio::{sync::mpsc, task::JoinHandle};

use self::watch::{Stamped, Translator, events};
pub use self::{
    cleanup::{Leftover, leftovers, remove_leftovers},
    connect::{EnvironmentError, client, explain, requests_sent},
    preflight::{Findings, Permission, cluster_role, permissions},
    probe::DEFAULT_PROBE_IMAGE,
};
use crate::{
    cluster::{Cluster, ClusterError, ExecCommand, HttpAnswer, Observe, ProbeError},
    manifest::Object,
    plan::{MANAGED_BY, MANAGED_BY_LABEL, RUN_LABEL, SCENARIO_LABEL},
    timeline::{Event, HttpResponse},
};

/// The field manager of every server-side apply.
pub const FIELD_MANAGER: &str = "sts-conformance";
/// Name of the probe pod the harness creates in each namespace for DNS and HTTP.
pub const PROBE_POD: &str = "sts-conformance-probe";

/// How long one command inside a pod may take.
const EXEC_BOUND: Duration = Duration::from_secs(60);

/// How long one API request may take before the harness gives up on it (the client itself sets
/// no read timeout, so a stalled request would otherwise hang).
const REQUEST_BOUND: Duration = Duration::from_secs(30);

/// How often a transient failure (429, 5xx, a broken connection, no answer) is tried again.
const RETRIES: u32 = 6;

/// How long the first list of every watch may take before the run gives up on the namespace.
const LIST_BOUND: Duration = Duration::from_secs(60);

/// Makes one API request, bounded by [`REQUEST_BOUND`], and tries it again with a growing delay
/// while its failure is transient. `retried_404_ok`: a 404 after a retry means an earlier try
/// succeeded (a deletion whose answer was lost), not a failure.
async fn request<T, F, Fut>(doing: &str, retried_404_ok: Option<T>, mut make: F) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut delay = Duration::from_millis(250);
    let mut fallback = retried_404_ok;
    let mut attempt = 0;
    loop {
        let error = match tokio::time::timeout(REQUEST_BOUND, make()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(e)) => ClusterError::kube(doing, e),
            Err(_) => ClusterError::Timeout { doing: doing.to_owned(), after: REQUEST_BOUND },
        };
        if attempt > 0
            && error.code() == Some(404)
            && let Some(value) = fallback.take()
        {
            return Ok(value);
        }
        if !error.is_transient() || attempt == RETRIES {
            return Err(error);
        }
        tracing::debug!(%error, attempt, "transient failure; trying again");
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
        attempt += 1;
    }
}

/// How long cleanup waits for the namespace to go before reporting it stuck.
const NAMESPACE_DELETION_BOUND: Duration = Duration::from_secs(120);

/// Runs preflight (`preflight::run`): what the cluster can do and what the run may do.
pub async fn preflight(client: &Client, classes: &[Option<String>]) -> Findings {
    preflight::run(client, classes).await
}

/// A run's view of a real cluster.
pub struct LiveCluster {
    client: Client,
    namespace: String,
    labels: BTreeMap<String, String>,
    probe_image: String,
    started: Instant,
    tx: mpsc::UnboundedSender<Stamped>,
    rx: mpsc::UnboundedReceiver<Stamped>,
    watches: Vec<JoinHandle<()>>,
    /// How far each watch has come, by resource, for the barrier before the first action.
    progress: Vec<(&'static str, tokio::sync::watch::Receiver<watch::Progress>)>,
    probe_ready: bool,
    /// Cluster-scoped objects the run created, by kind and name.
    cluster_scoped: BTreeSet<(String, String)>,
    /// Leave everything in place after the run (`--keep`).
    keep: bool,
}

impl LiveCluster {
    /// A backend on `client` whose probe pod runs `probe_image`.
    #[must_use]
    pub fn new(client: Client, probe_image: &str) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self {
            client,
            namespace: String::new(),
            labels: BTreeMap::new(),
            probe_image: probe_image.to_owned(),
            started: Instant::now(),
            tx,
            rx,
            watches: Vec::new(),
            progress: Vec::new(),
            probe_ready: false,
            cluster_scoped: BTreeSet::new(),
            keep: false,
        }
    }

    /// The same backend, leaving the run's objects in place at cleanup (`--keep`).
    #[must_use]
    pub fn keeping(mut self, keep: bool) -> Self {
        self.keep = keep;
        self
    }

    fn api<K: Resource<Scope = k8s_openapi::NamespaceResourceScope>>(&self) -> Api<K>
    where
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn watch<K>(&mut self, api: Api<K>, config: watcher::Config, translator: Translator<K>)
    where
        K: Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
    {
        let (progress, seen) = tokio::sync::watch::channel(translator.progress());
        self.progress.push((translator.resource(), seen));
        let task = watch::run(api, config, translator, self.started, self.tx.clone(), progress);
        self.watches.push(tokio::spawn(task));
    }

    /// Waits until every watch has completed its first list, so that nothing the first action
    /// causes can be missed; past `bound`, names the watches that did not start and why.
    async fn watches_listed(&mut self, bound: Duration) -> Result<(), ClusterError> {
        let all =
            futures::future::join_all(self.progress.iter_mut().map(|(_, seen)| seen.wait_for(|p| *p == watch::Progress::Listed)));
        if tokio::time::timeout(bound, all).await.is_ok() {
            return Ok(());
        }
        let stuck: Vec<String> = self
            .progress
            .iter()
            .filter_map(|(resource, seen)| match &*seen.borrow() {
                watch::Progress::Listed => None,
                watch::Progress::Starting(None) => Some(format!("{resource} (no answer)")),
                watch::Progress::Starting(Some(e)) => Some(format!("{resource} ({e})")),
            })
            .collect();
        Err(ClusterError::Watch(format!(
            "the watches of {} did not list within {}s; nothing was done in the namespace",
            stuck.join(", "),
            bound.as_secs()
        )))
    }

    fn start_watches(&mut self) {
        let config = watcher::Config::default;
        self.watch(self.api::<Pod>(), config(), Translator::new("pods", events::pod));
        self.watch(self.api::<PersistentVolumeClaim>(), config(), Translator::new("persistentvolumeclaims", events::claim));
        self.watch(self.api::<StatefulSet>(), config(), Translator::new("statefulsets", events::statefulset));
        self.watch(self.api::<Job>(), config(), Translator::new("jobs", events::job));
        self.watch(self.api::<Service>(), config(), Translator::new("services", events::service));
        self.watch(self.api::<Secret>(), config(), Translator::new("secrets", events::secret));
        self.watch(self.api::<CoreEvent>(), config(), Translator::new("events", events::kube_event));
        // Volumes are cluster-scoped: this scenario's own (labelled with the run and the
        // scenario: the scenarios of one run share its id, and a volume of another scenario has
        // no place in this one's history — seen on the testbed); dynamic ones show up through
        // their claims.
        let selector = volume_selector(&self.labels);
        let volumes: Api<PersistentVolume> = Api::all(self.client.clone());
        self.watch(volumes, watcher::Config::default().labels(&selector), Translator::new("persistentvolumes", events::volume));
    }

    async fn exec_output(&self, pod: &str, argv: Vec<String>) -> Result<String, ProbeError> {
        self.exec_bounded(pod, argv, false).await
    }

    /// What a probe command printed, whatever its exit status: a probe's failure is told by its
    /// output (`nslookup` exits 1 for NXDOMAIN and says so), which the parsers read. `Err` only
    /// when the command could not run.
    async fn probe_output(&self, pod: &str, argv: Vec<String>) -> Result<String, ProbeError> {
        self.exec_bounded(pod, argv, true).await
    }

    async fn exec_bounded(&self, pod: &str, argv: Vec<String>, any_status: bool) -> Result<String, ProbeError> {
        match tokio::time::timeout(EXEC_BOUND, self.exec_unbounded(pod, argv, any_status)).await {
            Ok(result) => result,
            Err(_) => Err(ProbeError::not_run(format!("exec in pod {pod} did not finish within {}s", EXEC_BOUND.as_secs()))),
        }
    }

    async fn exec_unbounded(&self, pod: &str, argv: Vec<String>, any_status: bool) -> Result<String, ProbeError> {
        let api: Api<Pod> = self.api();
        // Name the container: the API refuses an exec without one in a pod that has several
        // (sidecars). The first container is the workload's, as `kubectl exec` assumes.
        let spec = api.get(pod).await.map_err(|e| ProbeError::not_run(explain(&format!("reading pod {pod}"), &e)))?;
        let container = spec
            .spec
            .and_then(|s| s.containers.into_iter().next())
            .map(|c| c.name)
            .ok_or_else(|| ProbeError::not_run(format!("pod {pod} has no container to exec in")))?;
        let params = AttachParams::default().container(container).stdout(true).stderr(true).stdin(false);
        let mut process =
            api.exec(pod, argv, &params).await.map_err(|e| ProbeError::not_run(explain(&format!("exec in pod {pod}"), &e)))?;
        let stdout = process.stdout();
        let stderr = process.stderr();
        let status = process.take_status();
        let read = |stream: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>| async move {
            let mut text = String::new();
            if let Some(mut stream) = stream {
                let _ = tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut text).await;
            }
            text
        };
        let (out, err) = tokio::join!(
            read(stdout.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
            read(stderr.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>))
        );
        let status = match status {
            Some(status) => status.await,
            None => None,
        };
        let _ = process.join().await;
        match status {
            Some(s) if s.status.as_deref() == Some("Failure") => {
                let exited = s.reason.as_deref() == Some("NonZeroExitCode");
                if any_status && exited {
                    return Ok(format!("{out}{err}"));
                }
                let message = format!("{} {}", s.message.unwrap_or_default(), err.trim()).trim().to_owned();
                // The command ran and failed (`cat` of a missing file), or it never started.
                Err(if exited { ProbeError::Answered(message) } else { ProbeError::not_run(message) })
            }
            _ => Ok(out),
        }
    }

    /// Creates the probe pod once and waits (by watch) until it runs.
    async fn probe_pod(&mut self) -> Result<(), String> {
        if self.probe_ready {
            return Ok(());
        }
        let api: Api<Pod> = self.api();
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": PROBE_POD, "labels": self.labels},
            "spec": {
                "containers": [{"name": "probe", "image": self.probe_image, "command": ["sleep", "86400"]}],
                "terminationGracePeriodSeconds": 0,
                "restartPolicy": "Never"
            }
        }))
        .map_err(|e| e.to_string())?;
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(PROBE_POD, &params, &Patch::Apply(&pod)).await.map_err(|e| explain("creating the probe pod", &e))?;
        let running = kube::runtime::wait::await_condition(api, PROBE_POD, |p: Option<&Pod>| {
            p.and_then(|p| p.status.as_ref()).and_then(|s| s.phase.as_deref()) == Some("Running")
        });
        match tokio::time::timeout(Duration::from_secs(180), running).await {
            Ok(Ok(_)) => {
                self.probe_ready = true;
                Ok(())
            }
            Ok(Err(e)) => Err(format!("waiting for the probe pod: {e}")),
            Err(_) => Err(format!("the probe pod ({}) was not Running after 180s (image pull?)", self.probe_image)),
        }
    }
}

/// The API resource of an object kind.
fn resource_of(object: &Object) -> ApiResource {
    match object {
        Object::StatefulSet(_) => ApiResource::erase::<StatefulSet>(&()),
        Object::Deployment(_) => ApiResource::erase::<Deployment>(&()),
        Object::DaemonSet(_) => ApiResource::erase::<k8s_openapi::api::apps::v1::DaemonSet>(&()),
        Object::Job(_) => ApiResource::erase::<k8s_openapi::api::batch::v1::Job>(&()),
        Object::CronJob(_) => ApiResource::erase::<k8s_openapi::api::batch::v1::CronJob>(&()),
        Object::Service(_) => ApiResource::erase::<Service>(&()),
        Object::Pod(_) => ApiResource::erase::<Pod>(&()),
        Object::PersistentVolume(_) => ApiResource::erase::<PersistentVolume>(&()),
        Object::PersistentVolumeClaim(_) => ApiResource::erase::<PersistentVolumeClaim>(&()),
        Object::Secret(_) => ApiResource::erase::<Secret>(&()),
        Object::ConfigMap(_) => ApiResource::erase::<ConfigMap>(&()),
    }
}

impl Cluster for LiveCluster {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    async fn create_namespace(&mut self, namespace: &str, labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": namespace, "labels": labels}}))
            .map_err(|e| ClusterError::Refused(e.to_string()))?;
        let doing = format!("creating namespace {namespace}");
        // A retried creation that finds the namespace already there found its own first try
        // (the name is run-unique): 409 then means done.
        let post = PostParams::default();
        match request(&doing, None, || api.create(&post, &ns)).await {
            Ok(_) => {}
            Err(e) if e.code() == Some(409) => {
                let found = request(&doing, None, || api.get_opt(namespace)).await?;
                if !found.is_some_and(|n| managed(n.metadata.labels.as_ref(), labels.get(RUN_LABEL).map(String::as_str))) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
        self.namespace = namespace.to_owned();
        self.labels = labels.clone();
        self.start_watches();
        self.watches_listed(LIST_BOUND).await
    }

    async fn attach_namespace(&mut self, namespace: &str, labels: &BTreeMap<String, String>) -> Result<(), ClusterError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let found = request(&format!("reading namespace {namespace}"), None, || api.get_opt(namespace)).await?;
        match found {
            Some(ns) if managed(ns.metadata.labels.as_ref(), labels.get(RUN_LABEL).map(String::as_str)) => {}
            Some(_) => {
                return Err(ClusterError::Refused(format!(
                    "namespace {namespace} was not prepared by sts-conformance: left alone"
                )));
            }
            None => {
                return Err(ClusterError::Refused(format!("namespace {namespace} does not exist (was `upgrade prepare` run?)")));
            }
        }
        self.namespace = namespace.to_owned();
        self.labels = labels.clone();
        self.start_watches();
        self.watches_listed(LIST_BOUND).await
    }

    async fn observe(&mut self, what: Observe) -> Result<(), ClusterError> {
        match what {
            Observe::Nodes => {
                // Nodes are cluster-scoped and read only; the DaemonSets are the namespace's own.
                let nodes: Api<Node> = Api::all(self.client.clone());
                self.watch(nodes, watcher::Config::default(), Translator::new("nodes", events::node));
                let sets = self.api::<DaemonSet>();
                self.watch(sets, watcher::Config::default(), Translator::new("daemonsets", events::daemon_set));
            }
            Observe::CronJobs => {
                let crons = self.api::<CronJob>();
                self.watch(crons, watcher::Config::default(), Translator::new("cronjobs", events::cron_job));
            }
        }
        self.watches_listed(LIST_BOUND).await
    }

    async fn read_config_map(&mut self, name: &str) -> Result<Option<BTreeMap<String, String>>, ClusterError> {
        let api: Api<ConfigMap> = self.api();
        let map = request(&format!("reading configmap {name}"), None, || api.get_opt(name)).await?;
        Ok(map.map(|m| m.data.unwrap_or_default()))
    }

    async fn apply(&mut self, object: &Object) -> Result<(), ClusterError> {
        let resource = resource_of(object);
        let name = object.name().to_owned();
        let json = object.to_json();
        let api: Api<DynamicObject> = if object.cluster_scoped() {
            Api::all_with(self.client.clone(), &resource)
        } else {
            Api::namespaced_with(self.client.clone(), &self.namespace, &resource)
        };
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let patch = Patch::Apply(&json);
        let doing = format!("server-side apply of {}/{name}", object.kind());
        // Remember a cluster-scoped object before asking: a request whose answer is lost may
        // still have created it, and cleanup must then find it.
        if object.cluster_scoped() {
            self.cluster_scoped.insert((object.kind().to_owned(), name.clone()));
        }
        request(&doing, None, || api.patch(&name, &params, &patch)).await?;
        Ok(())
    }

    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), ClusterError> {
        let api: Api<StatefulSet> = self.api();
        let patch = Patch::Merge(json!({"spec": {"replicas": replicas}}));
        let params = PatchParams::default();
        request(&format!("scaling statefulset {set}"), None, || api.patch_scale(set, &params, &patch)).await?;
        Ok(())
    }

    async fn set_image(&mut self, set: &str, container: &str, image: &str) -> Result<(), ClusterError> {
        let api: Api<StatefulSet> = self.api();
        let patch =
            Patch::Strategic(json!({"spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}}));
        let params = PatchParams::default();
        request(&format!("setting the image of {set}/{container}"), None, || api.patch(set, &params, &patch)).await?;
        Ok(())
    }

    async fn patch_statefulset(&mut self, set: &str, merge: &serde_json::Value) -> Result<Option<i64>, ClusterError> {
        let api: Api<StatefulSet> = self.api();
        let patch = Patch::Merge(merge);
        let params = PatchParams::default();
        let patched = request(&format!("patching statefulset {set}"), None, || api.patch(set, &params, &patch)).await?;
        Ok(patched.metadata.generation)
    }

    async fn delete_pod(&mut self, pod: &str) -> Result<(), ClusterError> {
        let api: Api<Pod> = self.api();
        request(&format!("deleting pod {pod}"), Some(()), || async {
            api.delete(pod, &DeleteParams::default()).await.map(|_| ())
        })
        .await
    }

    async fn fail_pod(&mut self, pod: &str) -> Result<(), ClusterError> {
        let api: Api<Pod> = self.api();
        let patch = serde_json::json!({"spec": {"activeDeadlineSeconds": 1}});
        let patch = Patch::Merge(&patch);
        let params = PatchParams::default();
        request(&format!("failing pod {pod} (activeDeadlineSeconds 1)"), None, || api.patch(pod, &params, &patch)).await?;
        Ok(())
    }

    async fn delete_statefulset(&mut self, set: &str) -> Result<(), ClusterError> {
        let api: Api<StatefulSet> = self.api();
        request(&format!("deleting statefulset {set}"), Some(()), || async {
            api.delete(set, &DeleteParams::background()).await.map(|_| ())
        })
        .await
    }

    async fn patch_pod(&mut self, pod: &str, merge: &serde_json::Value) -> Result<(), ClusterError> {
        let api: Api<Pod> = self.api();
        let (patch, params) = (Patch::Merge(merge), PatchParams::default());
        request(&format!("patching pod {pod}"), None, || api.patch(pod, &params, &patch)).await?;
        Ok(())
    }

    async fn call_api(&mut self, request: &crate::timeline::ApiCall) -> Result<crate::timeline::ApiAnswer, ProbeError> {
        api_calls::call(&self.api(), request).await
    }

    async fn exec(&mut self, pod: &str, command: &ExecCommand) -> Result<String, ProbeError> {
        self.exec_output(pod, command.argv()).await.map(|out| out.trim_end().to_owned())
    }

    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, ProbeError> {
        self.probe_pod().await.map_err(ProbeError::not_run)?;
        // nslookup exits non-zero for NXDOMAIN: its output says why.
        let text = self.probe_output(PROBE_POD, probe::nslookup_argv(name)).await?;
        probe::parse_nslookup(&text)
    }

    async fn http_get(&mut self, from: Option<&str>, url: &str) -> HttpAnswer {
        let host = crate::cluster::parse_http_url(url).map(|(host, _, _)| host).unwrap_or_default();
        let address = if host.parse::<std::net::IpAddr>().is_ok() {
            Some(host)
        } else {
            match self.resolve(&host).await {
                Ok(addresses) => addresses.first().cloned(),
                Err(e) => return HttpAnswer { address: None, response: Err(e) },
            }
        };
        let pod = match from {
            Some(pod) => pod.to_owned(),
            None => {
                if let Err(e) = self.probe_pod().await {
                    return HttpAnswer { address, response: Err(ProbeError::not_run(e)) };
                }
                PROBE_POD.to_owned()
            }
        };
        let response = self.probe_output(&pod, probe::http_argv(url)).await.and_then(|out| {
            probe::parse_http(&out).map(|(status, body)| HttpResponse { status, body: body.chars().take(2048).collect() })
        });
        HttpAnswer { address, response }
    }

    async fn next_observation(&mut self, deadline_ms: u64) -> Option<(u64, Event)> {
        let deadline = self.started + Duration::from_millis(deadline_ms);
        tokio::time::timeout_at(deadline.into(), self.rx.recv()).await.unwrap_or_default()
    }

    async fn diagnostics(&mut self) -> String {
        diagnostics(&self.client, &self.namespace).await
    }

    async fn cleanup(&mut self) -> Result<(), ClusterError> {
        for task in self.watches.drain(..) {
            task.abort();
        }
        if self.keep {
            tracing::info!(namespace = %self.namespace, "--keep: the run's objects are left in place");
            return Ok(());
        }
        let run = self.labels.get(RUN_LABEL).cloned().unwrap_or_default();
        cleanup::delete_run(&self.client, &self.namespace, &run, &self.cluster_scoped, NAMESPACE_DELETION_BOUND).await
    }
}

/// The namespace's state as text: events, pods (phase, conditions, container states, the last
/// lines of each container's log), claims, and the volumes bound to them.
pub async fn diagnostics(client: &Client, namespace: &str) -> String {
    use std::fmt::Write as _;
    let mut out = format!("namespace {namespace}\n");
    let lp = ListParams::default();
    let _ = writeln!(out, "\nevents:");
    match Api::<CoreEvent>::namespaced(client.clone(), namespace).list(&lp).await {
        Ok(list) => {
            for e in list.items {
                let o = convert::event(&e);
                let _ = writeln!(out, "  {} {} {}: {}", o.kind, o.reason, o.object, o.message);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  {}", explain("listing events", &e));
        }
    }
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let _ = writeln!(out, "\npods:");
    match pods.list(&lp).await {
        Ok(list) => {
            for pod in &list.items {
                let o = convert::pod(pod);
                let _ = writeln!(out, "  {}", o);
                for c in pod.status.iter().flat_map(|s| s.conditions.iter().flatten()) {
                    let _ = writeln!(out, "    condition {}={} {}", c.type_, c.status, c.message.clone().unwrap_or_default());
                }
                for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
                    let params =
                        LogParams { container: Some(container.name.clone()), tail_lines: Some(30), ..LogParams::default() };
                    match pods.log_stream(&o.name, &params).await {
                        Ok(stream) => {
                            let lines: Vec<String> = stream.lines().try_collect().await.unwrap_or_default();
                            let _ = writeln!(out, "    log {} (last {} lines):", container.name, lines.len());
                            for line in lines {
                                let _ = writeln!(out, "      {line}");
                            }
                        }
                        Err(e) => {
                            let _ = writeln!(out, "    log {}: {}", container.name, explain("reading the log", &e));
                        }
                    }
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  {}", explain("listing pods", &e));
        }
    }
    let _ = writeln!(out, "\nclaims:");
    let mut volumes = Vec::new();
    match Api::<PersistentVolumeClaim>::namespaced(client.clone(), namespace).list(&lp).await {
        Ok(list) => {
            for c in list.items.iter().map(convert::claim) {
                let _ = writeln!(out, "  {}", c);
                volumes.extend(c.volume);
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  {}", explain("listing claims", &e));
        }
    }
    let _ = writeln!(out, "\nvolumes:");
    let pv: Api<PersistentVolume> = Api::all(client.clone());
    for name in volumes {
        match pv.get_opt(&name).await {
            Ok(Some(v)) => {
                let _ = writeln!(out, "  {}", convert::volume(&v));
            }
            Ok(None) => {
                let _ = writeln!(out, "  {name}: gone");
            }
            Err(e) => {
                let _ = writeln!(out, "  {}", explain(&format!("reading volume {name}"), &e));
            }
        }
    }
    out
}

/// The label selector of one scenario run's own volumes.
fn volume_selector(labels: &BTreeMap<String, String>) -> String {
    [RUN_LABEL, SCENARIO_LABEL]
        .iter()
        .map(|key| format!("{key}={}", labels.get(*key).map_or("", String::as_str)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether an object's labels say the harness created it.
#[must_use]
pub fn managed(labels: Option<&BTreeMap<String, String>>, run: Option<&str>) -> bool {
    let Some(labels) = labels else { return false };
    labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
        && run.is_none_or(|run| labels.get(RUN_LABEL).map(String::as_str) == Some(run))
}

#[cfg(test)]
mod tests;
