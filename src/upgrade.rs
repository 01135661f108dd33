//! Cluster upgrade validation: `upgrade prepare` before an upgrade, `upgrade verify` after.
//!
//! **prepare** creates the upgrade workload — the seed StatefulSets that have volumes (001's and
//! 002's `web`), each in its own labelled namespace — waits until Ready, writes a random token
//! into each pod's volume, and records a [`Baseline`] (pod names, claim names and UIDs, volumes,
//! tokens, DNS names, server version) in a ConfigMap of the namespace, so that `verify` can run
//! from another machine. Nothing is cleaned up.
//!
//! **verify** finds the prepared namespaces, and checks against the baseline that every pod name
//! is back and Ready (identity is the name, not the UID), mounts the claim with the same UID
//! bound to the same volume, reads back its token; that each pod's DNS record resolves to its
//! current address and the headless Service has no cluster IP; then exercises the StatefulSet on
//! the new version with the ordinary checks (scale up and down, a rolling update, a pod deletion).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    checks::{CheckName, Verdict},
    manifest::{self, Manifest, Object},
    runner::{ClaimVerdict, ScenarioReport},
    scenario::{Action, Expectation, ResolvedStep, Scenario, Until},
    timeline::{ProbeObs, View},
};

/// Name of the ConfigMap holding the baseline in each prepared namespace.
pub const BASELINE_CONFIG_MAP: &str = "sts-conformance-upgrade-baseline";
/// Its data key.
pub const BASELINE_KEY: &str = "baseline.json";
/// Label on prepared namespaces and their objects.
pub const UPGRADE_LABEL: &str = "sts-conformance/upgrade";
/// The value of [`Baseline::format`].
pub const FORMAT: &str = "sts-conformance-upgrade-baseline";

/// The claims `upgrade verify` judges.
pub const CLAIMS: [&str; 6] =
    ["upgrade-identity", "upgrade-storage", "upgrade-data", "upgrade-dns", "upgrade-order", "upgrade-rollout"];

/// Why an upgrade workload could not be prepared, or its baselines not be found.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// A seed manifest of the workloads cannot be read.
    #[error(transparent)]
    Manifest(#[from] crate::input::InputError),
    /// The workload is not one `prepare` can use.
    #[error("{workload}: {why}")]
    Workload {
        /// The workload.
        workload: String,
        /// What it lacks.
        why: &'static str,
    },
    /// `prepare`'s run did not finish, or left no token in a pod.
    #[error("{0}")]
    Prepare(String),
    /// A stored baseline cannot be read back.
    #[error("configmap {BASELINE_CONFIG_MAP}{}: {why}", .namespace.as_deref().map(|n| format!(" in {n}")).unwrap_or_default())]
    Baseline {
        /// Its namespace, when known.
        namespace: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// The baseline could not be made into a ConfigMap of the run.
    #[error("the baseline's ConfigMap: {0}")]
    Object(#[from] crate::manifest::ObjectError),
    /// The cluster refused or failed a request.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
}

/// One workload of the upgrade: a seed StatefulSet with volumes and its Service.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Its name (`seed-001-web`), also the scenario name.
    pub name: String,
    /// The manifests.
    pub manifests: Vec<Manifest>,
}

impl Workload {
    fn set(&self) -> Option<&k8s_openapi::api::apps::v1::StatefulSet> {
        self.manifests.iter().find_map(|m| match &m.object {
            Object::StatefulSet(s) => Some(s),
            _ => None,
        })
    }
}

/// The upgrade workloads, read from the scenarios directory's seed manifests.
///
/// # Errors
/// A manifest cannot be read.
pub fn workloads(scenarios: &Path) -> Result<Vec<Workload>, UpgradeError> {
    let sources: [(&str, &[&str]); 2] = [
        ("seed-001-web", &["seed-001/headless-service.yaml", "seed-001/statefulset.yaml"]),
        ("seed-002-web", &["seed-002/nginx-statefulset.yaml"]),
    ];
    let mut out = Vec::new();
    for (name, files) in sources {
        let mut manifests = Vec::new();
        for file in files {
            manifests.extend(manifest::load_file(&scenarios.join(file))?);
        }
        out.push(Workload { name: name.into(), manifests });
    }
    Ok(out)
}

/// What `prepare` recorded about one pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodBaseline {
    /// Pod name.
    pub name: String,
    /// Its UID then (it may change: identity is the name).
    pub uid: String,
    /// Volume name in the pod → claim name.
    pub claims: BTreeMap<String, String>,
    /// Claim name → claim UID.
    pub claim_uids: BTreeMap<String, String>,
    /// Claim name → bound volume.
    pub volumes: BTreeMap<String, String>,
    /// The file the token is in.
    pub token_path: String,
    /// The token.
    pub token: String,
    /// Its fully qualified DNS name.
    pub dns_name: String,
}

/// Everything `prepare` recorded about one workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Baseline {
    /// Always [`FORMAT`].
    pub format: String,
    /// The workload.
    pub workload: String,
    /// Its namespace.
    pub namespace: String,
    /// The run that prepared it.
    pub run_id: String,
    /// The StatefulSet.
    pub statefulset: String,
    /// Its governing Service.
    pub service: String,
    /// Replicas.
    pub replicas: u32,
    /// The API server's version when prepared.
    pub server_version: String,
    /// One entry per pod.
    pub pods: Vec<PodBaseline>,
}

fn step(index: usize, action: Action, until: Vec<Until>, expect: Vec<Expectation>) -> ResolvedStep {
    ResolvedStep { index, line: 0, action, until, timeout: Duration::from_secs(600), settle: Duration::ZERO, expect }
}

fn expect(check: CheckName, target: &str, claim: &str) -> Expectation {
    Expectation { check, target: target.into(), claims: vec![claim.into()], body: None }
}

fn ready(set: &str, n: u32) -> Until {
    Until { statefulset: Some(set.into()), ready: Some(n), ..Until::default() }
}

/// The mount path of the volume from claim template `template` in the set's first container.
fn token_dir(set: &k8s_openapi::api::apps::v1::StatefulSet) -> Option<String> {
    let spec = set.spec.as_ref()?;
    let template = spec.volume_claim_templates.as_ref()?.first()?.metadata.name.clone()?;
    let container = spec.template.spec.as_ref()?.containers.first()?;
    container.volume_mounts.iter().flatten().find(|m| m.name == template).map(|m| m.mount_path.clone())
}

const TOKEN_FILE: &str = "sts-conformance-upgrade-token";

/// The scenario `prepare` runs: apply, wait until Ready, write a token into every pod's volume,
/// look up the DNS names.
///
/// # Errors
/// The workload has no StatefulSet with a volume.
pub fn prepare_scenario(workload: &Workload) -> Result<Scenario, UpgradeError> {
    let lacks = |why| UpgradeError::Workload { workload: workload.name.clone(), why };
    let set = workload.set().ok_or_else(|| lacks("no StatefulSet"))?;
    let name = set.metadata.name.clone().unwrap_or_default();
    let replicas = set.spec.as_ref().and_then(|s| s.replicas).map_or(1, |r| u32::try_from(r).unwrap_or(0));
    let dir = token_dir(set).ok_or_else(|| lacks("the StatefulSet mounts no claim template"))?;
    let mut steps = vec![step(
        0,
        Action::Apply(workload.manifests.iter().map(|m| m.object.clone()).collect()),
        vec![ready(&name, replicas)],
        vec![],
    )];
    for k in 0..replicas {
        let action =
            Action::WriteToken { pod: format!("{name}-{k}"), path: format!("{dir}/{TOKEN_FILE}"), prefix: "upgrade".into() };
        steps.push(step(steps.len(), action, vec![], vec![]));
    }
    steps.push(step(steps.len(), Action::Dns(name.clone()), vec![], vec![]));
    Ok(Scenario {
        name: workload.name.clone(),
        description: format!("upgrade workload {}: created and recorded before the upgrade", workload.name),
        claims: vec![],
        file: PathBuf::new(),
        steps,
        manifests: workload.manifests.clone(),
    })
}

/// The baseline of a prepared workload, from its run's history.
///
/// # Errors
/// The run did not finish (a step failed) or wrote no token to a pod.
pub fn baseline(
    report: &ScenarioReport,
    workload: &Workload,
    server_version: &str,
    cluster_domain: &str,
) -> Result<Baseline, UpgradeError> {
    if let Some(step) = report.steps.iter().find(|s| s.error.is_some()) {
        return Err(UpgradeError::Prepare(format!(
            "{}: step {} ({}) failed: {}",
            report.scenario,
            step.index + 1,
            step.action,
            step.error.clone().unwrap_or_default()
        )));
    }
    let set = workload.set().ok_or_else(|| UpgradeError::Workload { workload: workload.name.clone(), why: "no StatefulSet" })?;
    let name = set.metadata.name.clone().unwrap_or_default();
    let service = set.spec.as_ref().and_then(|s| s.service_name.clone()).unwrap_or_default();
    let view = report.timeline.view_at(report.timeline.len());
    let mut tokens = BTreeMap::new();
    for entry in &report.timeline.entries {
        if let Some(ProbeObs::Write { pod, path, content, result: Ok(()), .. }) = entry.event.probe() {
            tokens.insert(pod.clone(), (path.clone(), content.clone()));
        }
    }
    let mut pods = Vec::new();
    for (_, pod) in view.set_pods(&name) {
        let (token_path, token) = tokens
            .get(&*pod.name)
            .cloned()
            .ok_or_else(|| UpgradeError::Prepare(format!("no token was written to {}", pod.name)))?;
        let claim_uids = pod.spec.claims.values().filter_map(|c| Some((c.clone(), view.claims.get(c)?.uid.clone()))).collect();
        let volumes = pod.spec.claims.values().filter_map(|c| Some((c.clone(), view.claims.get(c)?.volume.clone()?))).collect();
        pods.push(PodBaseline {
            name: pod.name.to_string(),
            uid: pod.uid.to_string(),
            claims: pod.spec.claims.clone(),
            claim_uids,
            volumes,
            token_path,
            token,
            dns_name: format!("{}.{service}.{}.svc.{cluster_domain}", pod.name, report.namespace),
        });
    }
    Ok(Baseline {
        format: FORMAT.into(),
        workload: workload.name.clone(),
        namespace: report.namespace.clone(),
        run_id: report.run_id.clone(),
        statefulset: name,
        service,
        replicas: u32::try_from(pods.len()).unwrap_or(0),
        server_version: server_version.into(),
        pods,
    })
}

/// The ConfigMap that stores `baseline` in its namespace.
///
/// # Errors
/// Serialization fails (not expected).
pub fn baseline_config_map(baseline: &Baseline) -> Result<Object, UpgradeError> {
    // A Baseline is strings, numbers and string maps: it always serializes.
    let text = serde_json::to_string_pretty(baseline).unwrap_or_default();
    Ok(Object::from_json(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": BASELINE_CONFIG_MAP},
        "data": {BASELINE_KEY: text}
    }))?)
}

/// Reads a baseline back from a ConfigMap's data.
///
/// # Errors
/// The key is missing or does not hold a baseline.
pub fn baseline_from_config_map(data: &BTreeMap<String, String>) -> Result<Baseline, UpgradeError> {
    let bad = |why: String| UpgradeError::Baseline { namespace: None, why };
    let text = data.get(BASELINE_KEY).ok_or_else(|| bad(format!("has no key {BASELINE_KEY}")))?;
    let baseline: Baseline = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if baseline.format != FORMAT {
        return Err(bad(format!("format {:?}, expected {FORMAT:?}", baseline.format)));
    }
    Ok(baseline)
}

/// The scenario `verify` runs in a prepared namespace: wait until Ready, read every token, look
/// up DNS, then scale up and down, roll, and delete a pod.
#[must_use]
pub fn verify_scenario(baseline: &Baseline) -> Scenario {
    let set = baseline.statefulset.as_str();
    let n = baseline.replicas;
    let mut steps = vec![step(
        0,
        Action::Wait,
        vec![ready(set, n)],
        vec![
            expect(CheckName::StableIdentity, set, "upgrade-identity"),
            expect(CheckName::HeadlessService, set, "upgrade-dns"),
            expect(CheckName::PvcNaming, set, "upgrade-storage"),
        ],
    )];
    for pod in &baseline.pods {
        steps.push(step(steps.len(), Action::ReadToken { pod: pod.name.clone(), path: pod.token_path.clone() }, vec![], vec![]));
    }
    steps.push(step(steps.len(), Action::Dns(set.into()), vec![], vec![expect(CheckName::Dns, set, "upgrade-dns")]));
    steps.push(step(
        steps.len(),
        Action::Scale { set: set.into(), replicas: n + 1 },
        vec![ready(set, n + 1)],
        vec![expect(CheckName::OrderedCreation, set, "upgrade-order")],
    ));
    steps.push(step(
        steps.len(),
        Action::Scale { set: set.into(), replicas: n },
        vec![Until { statefulset: Some(set.into()), pods: Some(n), ..Until::default() }],
        vec![expect(CheckName::ReverseTermination, set, "upgrade-order")],
    ));
    steps.push(step(
        steps.len(),
        Action::Patch {
            set: set.into(),
            merge: json!({"spec": {"template": {"metadata": {"annotations": {"sts-conformance/upgrade-verify": "rollout"}}}}}),
        },
        vec![Until { statefulset: Some(set.into()), rolled_out: Some(true), ..Until::default() }],
        vec![expect(CheckName::ReverseRollout, set, "upgrade-rollout")],
    ));
    if let Some(first) = baseline.pods.first() {
        let probe = format!("{}.verify", first.token_path);
        steps.push(step(
            steps.len(),
            Action::WriteToken { pod: first.name.clone(), path: probe.clone(), prefix: "verify".into() },
            vec![],
            vec![],
        ));
        steps.push(step(
            steps.len(),
            Action::DeletePod(first.name.clone()),
            vec![ready(set, n)],
            vec![expect(CheckName::Reattach, set, "upgrade-storage"), expect(CheckName::StableIdentity, set, "upgrade-identity")],
        ));
        steps.push(step(
            steps.len(),
            Action::ReadToken { pod: first.name.clone(), path: probe },
            vec![],
            vec![expect(CheckName::Persistence, set, "upgrade-data")],
        ));
    }
    Scenario {
        name: baseline.workload.clone(),
        description: format!("upgrade verification of {} in {}", baseline.workload, baseline.namespace),
        claims: CLAIMS.iter().map(|c| (*c).to_owned()).collect(),
        file: PathBuf::new(),
        steps,
        manifests: vec![],
    }
}

/// Judges the run of [`verify_scenario`] against the baseline and folds the result into its
/// claim verdicts: a claim the baseline comparison breaks fails, with the evidence.
pub fn judge(baseline: &Baseline, report: &mut ScenarioReport) {
    let timeline = &report.timeline;
    // The state once the first step (pods back and Ready) ended.
    let first = timeline.step_range(0).map_or(timeline.len(), |r| r.end);
    let view: View = timeline.view_at(first);
    let mut failures: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    // What could not be observed (a read whose exec did not run): inconclusive, not failed.
    let mut unknown: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for pod in &baseline.pods {
        match view.pods.get(pod.name.as_str()) {
            Some(now) if now.running_and_ready() => {}
            Some(_) => {
                failures.entry("upgrade-identity").or_default().push(format!("{} is back but not Running and Ready", pod.name))
            }
            None => {
                failures.entry("upgrade-identity").or_default().push(format!("{} did not come back under its name", pod.name))
            }
        }
        let Some(now) = view.pods.get(pod.name.as_str()) else { continue };
        for (volume, claim) in &pod.claims {
            if now.spec.claims.get(volume) != Some(claim) {
                failures.entry("upgrade-storage").or_default().push(format!("{} no longer mounts {claim} as {volume}", pod.name));
                continue;
            }
            let current = view.claims.get(claim);
            if current.map(|c| &c.uid) != pod.claim_uids.get(claim) {
                failures.entry("upgrade-storage").or_default().push(format!("claim {claim} is a new claim (UID changed)"));
            } else if current.and_then(|c| c.volume.as_ref()) != pod.volumes.get(claim) {
                failures.entry("upgrade-storage").or_default().push(format!(
                    "claim {claim} was bound to {} and is now bound to {}",
                    pod.volumes.get(claim).map_or("-", String::as_str),
                    current.and_then(|c| c.volume.as_deref()).unwrap_or("-")
                ));
            }
        }
    }
    let mut read = BTreeMap::new();
    for entry in &timeline.entries {
        if let Some(ProbeObs::Read { pod, path, content, .. }) = entry.event.probe() {
            // The first read that ran: one that could not run says nothing of the data.
            let first = read.entry((pod.clone(), path.clone())).or_insert_with(|| content.clone());
            if matches!(first, Err(e) if !e.answered()) {
                *first = content.clone();
            }
        }
    }
    for pod in &baseline.pods {
        match read.get(&(pod.name.clone(), pod.token_path.clone())) {
            Some(Ok(text)) if text.trim() == pod.token.trim() => {}
            Some(Ok(_)) => failures
                .entry("upgrade-data")
                .or_default()
                .push(format!("{}:{} holds something else than the token written before", pod.name, pod.token_path)),
            Some(Err(e)) if !e.answered() => unknown
                .entry("upgrade-data")
                .or_default()
                .push(format!("{}:{} could not be read (the probe did not run): {e}", pod.name, pod.token_path)),
            Some(Err(e)) => failures
                .entry("upgrade-data")
                .or_default()
                .push(format!("{}:{} could not be read: {e}", pod.name, pod.token_path)),
            None => {}
        }
    }
    for claim in &mut report.claims {
        if let Some(reasons) = failures.get(claim.claim.as_str()) {
            claim.verdict = Verdict::Fail;
            claim.evidence = format!("against the baseline from {}: {}", baseline.server_version, reasons.join("; "));
        } else if let Some(reasons) = unknown.get(claim.claim.as_str())
            && claim.verdict != Verdict::Fail
        {
            claim.verdict = Verdict::Inconclusive;
            claim.evidence = format!("against the baseline from {}: {}", baseline.server_version, reasons.join("; "));
        }
    }
}

/// Claim verdicts for a workload whose verification could not start.
#[must_use]
pub fn unverifiable(reason: &str) -> Vec<ClaimVerdict> {
    CLAIMS.iter().map(|c| ClaimVerdict { claim: (*c).into(), verdict: Verdict::Inconclusive, evidence: reason.into() }).collect()
}

/// Prepares one workload on `cluster` (which must keep what it creates): runs
/// [`prepare_scenario`], records the baseline and stores it in the namespace's ConfigMap.
///
/// # Errors
/// The workload did not come up, or the baseline could not be stored.
pub async fn prepare<C: crate::cluster::Cluster>(
    cluster: &mut C,
    workload: &Workload,
    options: &crate::plan::PlanOptions,
    settings: &crate::runner::RunSettings,
    server_version: &str,
    progress: &mut dyn FnMut(crate::runner::ProgressEvent),
) -> Result<(Baseline, ScenarioReport), UpgradeError> {
    let scenario = prepare_scenario(workload)?;
    let mut options = options.clone();
    options.extra_labels.insert(UPGRADE_LABEL.into(), "prepared".into());
    let plan = crate::plan::Plan::new(&scenario.name, &crate::runner::scenario_objects(&scenario), options);
    let report = crate::runner::run_scenario(cluster, &scenario, &plan, settings, progress).await;
    let baseline = baseline(&report, workload, server_version, &settings.cluster_domain)?;
    let map = plan.concrete(&baseline_config_map(&baseline)?)?;
    cluster.apply(&map).await.map_err(|e| UpgradeError::Prepare(format!("storing the baseline in {}: {e}", plan.namespace)))?;
    Ok((baseline, report))
}

/// Verifies one prepared workload on `cluster` (attached to its namespace): runs
/// [`verify_scenario`] and judges it against the baseline.
pub async fn verify<C: crate::cluster::Cluster>(
    cluster: &mut C,
    baseline: &Baseline,
    settings: &crate::runner::RunSettings,
    progress: &mut dyn FnMut(crate::runner::ProgressEvent),
) -> (Scenario, ScenarioReport) {
    let scenario = verify_scenario(baseline);
    let mut options = crate::plan::PlanOptions::new(baseline.run_id.clone());
    options.existing_namespace = Some(baseline.namespace.clone());
    options.extra_labels.insert(UPGRADE_LABEL.into(), "prepared".into());
    let plan = crate::plan::Plan::new(&scenario.name, &[], options);
    let mut report = crate::runner::run_scenario(cluster, &scenario, &plan, settings, progress).await;
    judge(baseline, &mut report);
    (scenario, report)
}

/// `upgrade prepare` on the simulated cluster whose state is in `world`.
///
/// # Errors
/// A workload could not be prepared.
pub async fn sim_prepare(
    world: &mut crate::sim::SimWorld,
    workloads: &[Workload],
    options: &crate::plan::PlanOptions,
    settings: &crate::runner::RunSettings,
    progress: &mut dyn FnMut(crate::runner::ProgressEvent),
) -> Result<Vec<Baseline>, UpgradeError> {
    let mut baselines = Vec::new();
    for workload in workloads {
        let mut cluster = crate::sim::SimCluster::new(&settings.cluster_domain).keeping(true);
        let version = world.server_version.clone();
        let (baseline, _) = prepare(&mut cluster, workload, options, settings, &version, progress).await?;
        world.clusters.insert(baseline.namespace.clone(), cluster);
        baselines.push(baseline);
    }
    Ok(baselines)
}

/// The baselines stored in the simulated cluster's namespaces.
///
/// # Errors
/// A prepared namespace's ConfigMap does not hold a baseline.
pub async fn sim_baselines(world: &mut crate::sim::SimWorld) -> Result<Vec<Baseline>, UpgradeError> {
    use crate::cluster::Cluster as _;
    let mut out = Vec::new();
    for cluster in world.clusters.values_mut() {
        if let Some(data) = cluster.read_config_map(BASELINE_CONFIG_MAP).await? {
            out.push(baseline_from_config_map(&data).map_err(|e| e.in_namespace(cluster.namespace()))?);
        }
    }
    Ok(out)
}

/// The baselines of every namespace `upgrade prepare` left on a live cluster, from their
/// ConfigMaps.
///
/// # Errors
/// The namespaces cannot be listed, or a ConfigMap does not hold a baseline.
pub async fn live_baselines(client: &kube::Client) -> Result<Vec<Baseline>, UpgradeError> {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use kube::{Api, api::ListParams};

    use crate::{
        cluster::ClusterError,
        plan::{MANAGED_BY, MANAGED_BY_LABEL},
    };
    let selector = ListParams::default().labels(&format!("{UPGRADE_LABEL}=prepared,{MANAGED_BY_LABEL}={MANAGED_BY}"));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let list = namespaces.list(&selector).await.map_err(|e| ClusterError::kube("listing prepared namespaces", e))?;
    let mut baselines = Vec::new();
    for ns in list.items {
        let name = ns.metadata.name.clone().unwrap_or_default();
        let maps: Api<ConfigMap> = Api::namespaced(client.clone(), &name);
        let map = maps
            .get_opt(BASELINE_CONFIG_MAP)
            .await
            .map_err(|e| ClusterError::kube(format!("reading the baseline in {name}"), e))?
            .ok_or_else(|| UpgradeError::Baseline {
                namespace: Some(name.clone()),
                why: "missing, but the namespace is labelled prepared".into(),
            })?;
        baselines.push(baseline_from_config_map(&map.data.unwrap_or_default()).map_err(|e| e.in_namespace(&name))?);
    }
    Ok(baselines)
}

impl UpgradeError {
    /// The same error, for a baseline of namespace `namespace`.
    #[must_use]
    pub fn in_namespace(self, namespace: &str) -> Self {
        match self {
            Self::Baseline { namespace: None, why } => Self::Baseline { namespace: Some(namespace.to_owned()), why },
            other => other,
        }
    }
}

/// `upgrade verify` on the simulated cluster; with `cleanup`, the prepared namespaces go.
pub async fn sim_verify(
    world: &mut crate::sim::SimWorld,
    baselines: &[Baseline],
    settings: &crate::runner::RunSettings,
    cleanup: bool,
    progress: &mut dyn FnMut(crate::runner::ProgressEvent),
) -> Vec<(Scenario, ScenarioReport)> {
    let mut out = Vec::new();
    for baseline in baselines {
        let Some(cluster) = world.clusters.remove(&baseline.namespace) else {
            let scenario = verify_scenario(baseline);
            let report = ScenarioReport {
                scenario: baseline.workload.clone(),
                namespace: baseline.namespace.clone(),
                run_id: baseline.run_id.clone(),
                steps: vec![],
                judged: vec![],
                claims: unverifiable(&format!("namespace {} is not in the simulated cluster's state", baseline.namespace)),
                diagnostics: None,
                cleanup_error: None,
                timeline: crate::timeline::Timeline::new(),
            };
            out.push((scenario, report));
            continue;
        };
        let mut cluster = cluster.keeping(!cleanup);
        let result = verify(&mut cluster, baseline, settings, progress).await;
        if !cleanup {
            world.clusters.insert(baseline.namespace.clone(), cluster);
        }
        out.push(result);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::timeline::{Change, Event, PodObs, PodSpecObs, ProbeError, Timeline};

    /// A baseline of one pod, web-0, whose token "t1" is in /data/token.
    fn one_pod() -> Baseline {
        Baseline {
            format: FORMAT.into(),
            workload: "seed-001-web".into(),
            namespace: "ns".into(),
            run_id: "r".into(),
            statefulset: "web".into(),
            service: "nginx".into(),
            replicas: 1,
            server_version: "v1.33.0".into(),
            pods: vec![PodBaseline {
                name: "web-0".into(),
                uid: "u0".into(),
                claims: BTreeMap::new(),
                claim_uids: BTreeMap::new(),
                volumes: BTreeMap::new(),
                token_path: "/data/token".into(),
                token: "t1".into(),
                dns_name: "web-0.nginx.ns.svc.cluster.local".into(),
            }],
        }
    }

    /// web-0 back and Ready, then its token read as `content`; judged against [`one_pod`].
    fn judged(content: Result<String, ProbeError>) -> ClaimVerdict {
        let mut timeline = Timeline::new();
        timeline.push(0, Event::Step { index: 0, action: "wait".into() });
        let pod = PodObs {
            name: "web-0".into(),
            uid: "u1".into(),
            phase: "Running".into(),
            ready: true,
            spec: Arc::new(PodSpecObs { owner: Some("StatefulSet/web".into()), ..Default::default() }),
            ..PodObs::default()
        };
        timeline.push(1, Event::Pod { change: Change::Added, pod: pod.into() });
        timeline.push(2, Event::Step { index: 1, action: "read".into() });
        let read = ProbeObs::Read { pod: "web-0".into(), uid: "u1".into(), path: "/data/token".into(), content };
        timeline.push(3, Event::Probe(Box::new(read)));
        let mut report = ScenarioReport {
            scenario: "seed-001-web".into(),
            namespace: "ns".into(),
            run_id: "r".into(),
            steps: vec![],
            judged: vec![],
            claims: vec![ClaimVerdict { claim: "upgrade-data".into(), verdict: Verdict::Pass, evidence: String::new() }],
            diagnostics: None,
            cleanup_error: None,
            timeline,
        };
        judge(&one_pod(), &mut report);
        report.claims.remove(0)
    }

    #[test]
    fn a_token_read_back_passes_another_fails_and_a_read_that_did_not_run_decides_nothing() {
        assert_eq!(judged(Ok("t1".into())).verdict, Verdict::Pass);
        let lost = judged(Err(ProbeError::Answered("cat: can't open '/data/token': No such file or directory".into())));
        assert_eq!(lost.verdict, Verdict::Fail, "{lost:?}");
        let unrun = judged(Err(ProbeError::not_run("exec in pod web-0: 500 Internal Server Error")));
        assert_eq!(unrun.verdict, Verdict::Inconclusive, "{unrun:?}");
        assert!(unrun.evidence.contains("did not run"), "{}", unrun.evidence);
    }
}
