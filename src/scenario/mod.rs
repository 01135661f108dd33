//! Scenarios: loading a scenario file with its manifests, validating it offline, and resolving
//! each step into an [`Action`] and [`Expectation`]s the runner can execute.
//!
//! Validation is everything that can be known without a cluster: the file parses (unknown
//! fields are errors), every manifest parses into its Kubernetes type, every reference resolves
//! (a step that scales `web` needs a StatefulSet `web`), every check and claim id exists, and
//! every Secret a pod reads is supplied by the scenario (each run has a namespace of its own).
//! Errors carry `file:line:column`.

pub mod format;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    time::Duration,
};

use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::PodSpec};
use serde_json::Value;

pub use format::{ScenarioDoc, Step, Until, Via};

use crate::{
    checks::{CheckName, TargetKind},
    claims,
    manifest::{self, InputError, Manifest, Object},
};

/// Default limit for a step's `until`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing: the step only waits for its `until`.
    Wait,
    /// Apply these objects (patches already merged).
    Apply(Vec<Object>),
    /// Apply these objects, which the API server must refuse as invalid.
    ApplyRefused(Vec<Object>),
    /// Set replicas.
    Scale {
        /// StatefulSet.
        set: String,
        /// New replica count.
        replicas: u32,
    },
    /// Change one container's image.
    SetImage {
        /// StatefulSet.
        set: String,
        /// Container.
        container: String,
        /// New image.
        image: String,
    },
    /// Merge-patch a StatefulSet (partition changes included).
    Patch {
        /// StatefulSet.
        set: String,
        /// The merge patch.
        merge: Value,
    },
    /// Delete a pod by name.
    DeletePod(String),
    /// Make a pod fail (its kubelet ends it: `activeDeadlineSeconds` 1).
    FailPod(String),
    /// Merge-patch a pod's labels or owner references.
    PatchPod {
        /// The pod.
        pod: String,
        /// The merge patch (only `metadata.labels` and `metadata.ownerReferences`).
        merge: Value,
    },
    /// Delete the first pod (by name) of a Deployment.
    DeleteDeploymentPod(String),
    /// Delete a StatefulSet.
    DeleteStatefulSet(String),
    /// Write a random token into a file.
    WriteToken {
        /// The pod to write in.
        pod: String,
        /// Absolute path of the file inside the pod (on the volume whose persistence is judged).
        path: String,
        /// Text written before the token.
        prefix: String,
    },
    /// Read a file back.
    ReadToken {
        /// The pod to read in.
        pod: String,
        /// Absolute path of the file inside the pod.
        path: String,
    },
    /// `hostname` in every pod of a set.
    Hostnames(String),
    /// DNS lookups for a set's Service and pods.
    Dns(String),
    /// HTTP GET every pod of a set.
    Http(format::Http),
    /// Move away the file a readiness probe depends on, so that the pods become unready.
    BreakReadiness(Readiness),
    /// Move the file back.
    RestoreReadiness(Readiness),
    /// Read and write a StatefulSet's scale and status subresources, and list StatefulSets by
    /// labels (upstream's Conformance API specs).
    ApiSurface {
        /// The StatefulSet.
        set: String,
        /// Labels to list by.
        labels: BTreeMap<String, String>,
    },
    /// Delete the StatefulSets that carry these labels in one request.
    DeleteCollection(BTreeMap<String, String>),
}

/// Whose readiness a step changes, and through which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The StatefulSet.
    pub set: String,
    /// One of its pods; `None`: every pod of the set that runs when the step does.
    pub pod: Option<String>,
    /// The file the readiness probe depends on (absolute, in the pod's first container).
    pub file: String,
}

impl Readiness {
    fn describe(&self) -> String {
        match &self.pod {
            Some(pod) => format!("{pod} ({})", self.file),
            None => format!("every pod of {} ({})", self.set, self.file),
        }
    }
}

impl Action {
    /// A short description for progress lines and the timeline's step markers.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Action::Wait => "wait".into(),
            Action::Apply(objects) => {
                let names: Vec<String> = objects.iter().map(|o| format!("{}/{}", o.kind(), o.name())).collect();
                format!("apply {}", names.join(", "))
            }
            Action::ApplyRefused(objects) => {
                let names: Vec<String> = objects.iter().map(|o| format!("{}/{}", o.kind(), o.name())).collect();
                format!("apply {}, which the API server must refuse", names.join(", "))
            }
            Action::Scale { set, replicas } => format!("scale {set} to {replicas}"),
            Action::SetImage { set, container, image } => format!("set image {set} {container}={image}"),
            Action::Patch { set, merge } => format!("patch {set} {merge}"),
            Action::DeletePod(pod) => format!("delete pod {pod}"),
            Action::FailPod(pod) => format!("fail pod {pod} (activeDeadlineSeconds 1)"),
            Action::PatchPod { pod, merge } => format!("patch pod {pod} {merge}"),
            Action::ApiSurface { set, .. } => format!("exercise the scale and status subresources of {set}, and a list"),
            Action::DeleteCollection(labels) => {
                let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("delete the statefulsets labelled {}", selector.join(","))
            }
            Action::DeleteDeploymentPod(d) => format!("delete one pod of deployment {d}"),
            Action::DeleteStatefulSet(set) => format!("delete statefulset {set}"),
            Action::WriteToken { pod, path, .. } => format!("write a token to {pod}:{path}"),
            Action::ReadToken { pod, path } => format!("read {pod}:{path}"),
            Action::Hostnames(set) => format!("run hostname in each pod of {set}"),
            Action::Dns(set) => format!("look up the DNS records of {set}"),
            Action::Http(h) => format!(
                "HTTP GET each pod of {} by {} on port {}",
                h.statefulset,
                if h.via == Via::Dns { "DNS name" } else { "IP" },
                h.port
            ),
            Action::BreakReadiness(r) => format!("break the readiness of {}", r.describe()),
            Action::RestoreReadiness(r) => format!("restore the readiness of {}", r.describe()),
        }
    }

    /// The StatefulSet the action is about, if any.
    #[must_use]
    pub fn set(&self) -> Option<&str> {
        match self {
            Action::Scale { set, .. }
            | Action::SetImage { set, .. }
            | Action::Patch { set, .. }
            | Action::DeleteStatefulSet(set)
            | Action::Hostnames(set)
            | Action::Dns(set)
            | Action::ApiSurface { set, .. } => Some(set),
            Action::Http(h) => Some(&h.statefulset),
            Action::BreakReadiness(r) | Action::RestoreReadiness(r) => Some(&r.set),
            Action::Apply(objects) => {
                let sets: Vec<&str> = objects.iter().filter(|o| o.kind() == "StatefulSet").map(Object::name).collect();
                (sets.len() == 1).then(|| sets[0])
            }
            Action::Wait
            | Action::ApplyRefused(_)
            | Action::DeletePod(_)
            | Action::FailPod(_)
            | Action::PatchPod { .. }
            | Action::DeleteCollection(_)
            | Action::DeleteDeploymentPod(_)
            | Action::WriteToken { .. }
            | Action::ReadToken { .. } => None,
        }
    }
}

/// A check to judge after a step.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The check.
    pub check: CheckName,
    /// The StatefulSet (or Deployment) it judges.
    pub target: String,
    /// Claim ids it proves.
    pub claims: Vec<String>,
    /// pod-http: text each answer must contain.
    pub body: Option<String>,
}

/// One check a step expects, with its step: what a run judges, and what a timeline file's
/// header lists so that the file alone says what to judge again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepExpectation {
    /// Step index.
    pub step: usize,
    /// The check.
    pub check: CheckName,
    /// What it judges.
    pub target: String,
    /// Claims it proves.
    pub claims: Vec<String>,
    /// pod-http: text the answers must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// A step ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStep {
    /// Index from 0.
    pub index: usize,
    /// Line of the step in the scenario file.
    pub line: u64,
    /// What it does.
    pub action: Action,
    /// What must hold before it ends.
    pub until: Vec<Until>,
    /// Limit for `until`.
    pub timeout: Duration,
    /// Observation time after `until` holds.
    pub settle: Duration,
    /// What to judge.
    pub expect: Vec<Expectation>,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// `metadata.name`.
    pub name: String,
    /// `spec.description`.
    pub description: String,
    /// The claim ids it proves.
    pub claims: Vec<String>,
    /// The scenario file.
    pub file: PathBuf,
    /// The steps.
    pub steps: Vec<ResolvedStep>,
    /// Every manifest document of the scenario.
    pub manifests: Vec<Manifest>,
}

impl Scenario {
    /// Every expectation of every step, in step order.
    #[must_use]
    pub fn expectations(&self) -> Vec<StepExpectation> {
        self.steps
            .iter()
            .flat_map(|step| {
                step.expect.iter().map(|e| StepExpectation {
                    step: step.index,
                    check: e.check,
                    target: e.target.clone(),
                    claims: e.claims.clone(),
                    body: e.body.clone(),
                })
            })
            .collect()
    }

    /// The StatefulSets the scenario's manifests declare, by name.
    #[must_use]
    pub fn statefulsets(&self) -> BTreeMap<&str, &StatefulSet> {
        self.manifests
            .iter()
            .filter_map(|m| match &m.object {
                Object::StatefulSet(s) => Some((m.object.name(), s)),
                _ => None,
            })
            .collect()
    }
}

/// Every problem found in a scenario (all of them, not just the first).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ScenarioErrors(pub Vec<InputError>);

/// Finds scenario files: each path is a file, or a directory searched recursively for
/// `*.yaml`/`*.yml` files that declare `kind: Scenario` at the top level.
///
/// Every such file in a directory is read, so one that cannot be (not UTF-8 or UTF-16, not a
/// regular file) is an error naming it rather than a scenario silently left out.
///
/// # Errors
/// A path does not exist, is not a regular file or directory, or cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else {
            crate::input::regular_file(path)?;
            found.push(path.clone());
        }
    }
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let entries = std::fs::read_dir(dir).map_err(|e| InputError::at(dir, 0, 0, format!("cannot read directory: {e}")))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, found)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            && declares_scenario(&crate::input::read(&path)?)
        {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether a YAML text has a top-level `kind: Scenario` (quoted or not, with or without a
/// comment after it).
#[must_use]
pub fn declares_scenario(text: &str) -> bool {
    text.lines().filter_map(|l| l.strip_prefix("kind:")).any(|value| {
        let value = value.split(" #").next().unwrap_or_default().trim();
        value.trim_matches(|c| c == '"' || c == '\'') == "Scenario"
    })
}

/// Loads and validates one scenario file.
///
/// # Errors
/// Every problem found, located.
pub fn load(file: &Path) -> Result<Scenario, ScenarioErrors> {
    let text = crate::input::read(file).map_err(|e| ScenarioErrors(vec![e]))?;
    parse(file, &text)
}

/// Parses and validates a scenario from its text (manifests are read relative to `file`).
///
/// # Errors
/// Every problem found, located.
pub fn parse(file: &Path, text: &str) -> Result<Scenario, ScenarioErrors> {
    let doc: ScenarioDoc = serde_saphyr::from_str(text).map_err(|e| ScenarioErrors(vec![InputError::from_yaml(file, 0, &e)]))?;
    Validator::new(file, text).run(doc)
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    dir: PathBuf,
    errors: Vec<InputError>,
    /// A manifest file did not load: what it declares is unknown, so "no manifest declares X"
    /// would be noise after the error that says why.
    manifests_failed: bool,
    /// Each StatefulSet as the steps so far last applied it (patches included).
    applied_sets: BTreeMap<String, StatefulSet>,
}

impl<'a> Validator<'a> {
    fn new(file: &'a Path, text: &'a str) -> Self {
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        Self { file, text, dir, errors: Vec::new(), manifests_failed: false, applied_sets: BTreeMap::new() }
    }

    /// Where `key:` is written in the block mapping whose first key is at `line`, `column` (a
    /// step): on that line (flow style), or on a later line at the mapping's indentation before
    /// the mapping ends. The mapping's own place when neither holds it.
    fn key_place(&self, line: u64, column: u64, key: &str) -> (u64, u64) {
        let needle = format!("{key}:");
        let first = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
        let indent = usize::try_from(column.saturating_sub(1)).unwrap_or(0);
        for (i, text) in self.text.lines().enumerate().skip(first) {
            let depth = text.len() - text.trim_start().len();
            if i == first {
                let after = text.get(indent..).unwrap_or_default();
                if let Some(at) = after
                    .match_indices(&needle)
                    .map(|(at, _)| at)
                    .find(|at| *at == 0 || after[..*at].ends_with(|c: char| c == '{' || c == ',' || c.is_whitespace()))
                {
                    return (line, (indent + at) as u64 + 1);
                }
                continue;
            }
            let blank = text.trim().is_empty() || text.trim_start().starts_with('#');
            if !blank && depth < indent {
                break;
            }
            if depth == indent && text.trim_start().starts_with(&needle) {
                return (i as u64 + 1, depth as u64 + 1);
            }
        }
        (line, column)
    }

    /// The place of the first key under the top-level `spec:`, for [`Self::key_place`].
    fn spec_place(&self) -> (u64, u64) {
        let mut lines = self.text.lines().enumerate().skip_while(|(_, l)| !l.starts_with("spec:")).skip(1);
        lines
            .find(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map_or((1, 1), |(i, l)| (i as u64 + 1, (l.len() - l.trim_start().len()) as u64 + 1))
    }

    fn error(&mut self, line: u64, column: u64, message: impl Into<String>) {
        self.errors.push(InputError::at(self.file, line, column, message));
    }

    /// An object the step names is not declared: an error, unless a manifest failed to load
    /// (it may be declared there).
    fn undeclared(&mut self, line: u64, column: u64, message: impl Into<String>) {
        if !self.manifests_failed {
            self.error(line, column, message);
        }
    }

    fn run(mut self, doc: ScenarioDoc) -> Result<Scenario, ScenarioErrors> {
        if doc.api_version != format::API_VERSION {
            self.error(1, 1, format!("apiVersion must be {}, not {:?}", format::API_VERSION, doc.api_version));
        }
        if doc.kind != "Scenario" {
            self.error(1, 1, format!("kind must be Scenario, not {:?}", doc.kind));
        }
        let name = doc.metadata.name.clone();
        if !manifest::is_dns_label(&name) || name.len() > 40 {
            self.error(1, 1, format!("metadata.name {name:?} must be a DNS label of at most 40 characters"));
        }
        let spec = self.spec_place();
        let default_timeout = self.duration(doc.spec.timeout.as_deref(), spec, "timeout", DEFAULT_TIMEOUT);

        // Manifests.
        let mut by_file: BTreeMap<String, Vec<Manifest>> = BTreeMap::new();
        for spanned in &doc.spec.manifests {
            let rel = &spanned.value;
            match manifest::load_file(&self.dir.join(rel)) {
                Ok(m) => {
                    by_file.insert(rel.clone(), m);
                }
                Err(e) => {
                    self.manifests_failed = true;
                    if e.line == 0 {
                        // The file could not be read at all: the place to fix is the line that
                        // names it.
                        let (line, column) = (spanned.referenced.line(), spanned.referenced.column());
                        self.error(line, column, format!("manifest {}: {}", e.file.display(), e.message));
                    } else {
                        self.errors.push(e);
                    }
                }
            }
        }
        let manifests: Vec<Manifest> = by_file.values().flatten().cloned().collect();
        self.check_secrets(&manifests);
        let known = Known::new(&manifests);

        // Claims.
        for id in &doc.spec.claims {
            if claims::find(id).is_none() {
                self.error(1, 1, format!("unknown claim id {id:?} (see `sts-conformance list --claims`)"));
            }
        }

        let mut steps = Vec::new();
        let mut expected_claims = BTreeSet::new();
        for (index, spanned) in doc.spec.steps.iter().enumerate() {
            let line = spanned.referenced.line();
            let column = spanned.referenced.column();
            let step = &spanned.value;
            let Some(action) = self.action(step, line, column, &by_file, &known) else { continue };
            let timeout = self.duration(step.timeout.as_deref(), (line, column), "timeout", default_timeout);
            let settle = self.duration(step.settle.as_deref(), (line, column), "settle", Duration::ZERO);
            for until in &step.until {
                self.check_until(until, line, column, &known);
            }
            let mut expect = Vec::new();
            for (check, args) in step.expect.iter().flat_map(|(check, many)| many.0.iter().map(move |args| (check, args))) {
                if args.claims.is_empty() {
                    // A check's verdict reaches the report, the exit code and JUnit through
                    // the claims it proves: one that proves none would be judged unseen.
                    self.error(
                        line,
                        column,
                        format!("step {}: `{check}` proves no claim; list the claims its verdict decides", index + 1),
                    );
                }
                for id in &args.claims {
                    if !doc.spec.claims.contains(id) {
                        self.error(line, column, format!("step {}: claim {id} is not listed in spec.claims", index + 1));
                    }
                    expected_claims.insert(id.clone());
                }
                let kind = check.target_kind();
                let target = match kind {
                    TargetKind::Deployment => args.deployment.clone().or_else(|| step_deployment(step, &known)),
                    TargetKind::DaemonSet => args.daemonset.clone().or_else(|| step_daemon_set(step, &known)),
                    TargetKind::Job => args.job.clone().or_else(|| step_job(step, &known)),
                    TargetKind::CronJob => args.cronjob.clone().or_else(|| step_cron_job(step, &known)),
                    TargetKind::Refused => args.object.clone().or_else(|| match &action {
                        Action::ApplyRefused(objects) if objects.len() == 1 => Some(objects[0].name().to_owned()),
                        _ => None,
                    }),
                    TargetKind::StatefulSet => args
                        .statefulset
                        .clone()
                        .or_else(|| action.set().map(str::to_owned))
                        .or_else(|| step.until.iter().find_map(|u| u.statefulset.clone()).or_else(|| known.only_set())),
                };
                let Some(target) = target else {
                    self.error(
                        line,
                        column,
                        format!("step {}: cannot tell which object `{check}` judges; name it with `{}:`", index + 1, kind.key()),
                    );
                    continue;
                };
                let exists = match kind {
                    TargetKind::Deployment => known.deployments.contains(&target),
                    TargetKind::DaemonSet => known.daemon_sets.contains(&target),
                    TargetKind::Job => known.jobs.contains(&target),
                    TargetKind::CronJob => known.cron_jobs.contains(&target),
                    TargetKind::Refused => {
                        matches!(&action, Action::ApplyRefused(objects) if objects.iter().any(|o| o.name() == target))
                    }
                    TargetKind::StatefulSet => known.sets.contains_key(&target),
                };
                if !exists {
                    self.undeclared(
                        line,
                        column,
                        if kind == TargetKind::Refused {
                            format!("step {}: `{check}` judges {target}, which no refused apply of the step sends", index + 1)
                        } else {
                            format!("step {}: `{check}` judges {target}, which no manifest of the scenario declares", index + 1)
                        },
                    );
                }
                expect.push(Expectation { check: *check, target, claims: args.claims.clone(), body: args.body.clone() });
            }
            steps.push(ResolvedStep { index, line, action, until: step.until.clone(), timeout, settle, expect });
        }
        for id in &doc.spec.claims {
            if !expected_claims.contains(id) {
                self.error(1, 1, format!("claim {id} is listed in spec.claims but no step's expect proves it"));
            }
        }
        if doc.spec.steps.is_empty() {
            self.error(1, 1, "the scenario has no steps");
        }
        if !self.errors.is_empty() {
            return Err(ScenarioErrors(self.errors));
        }
        Ok(Scenario {
            name,
            description: doc.spec.description,
            claims: doc.spec.claims,
            file: self.file.to_owned(),
            steps,
            manifests,
        })
    }

    /// Duration `key` of the mapping at `line`, `column`; errors are located at the key.
    fn duration(&mut self, text: Option<&str>, (line, column): (u64, u64), key: &str, default: Duration) -> Duration {
        match text.map(format::parse_duration) {
            None => default,
            Some(Ok(d)) => d,
            Some(Err(e)) => {
                let (line, column) = self.key_place(line, column, key);
                self.error(line, column, format!("{key}: {e}"));
                default
            }
        }
    }

    fn action(
        &mut self,
        step: &Step,
        line: u64,
        column: u64,
        by_file: &BTreeMap<String, Vec<Manifest>>,
        known: &Known,
    ) -> Option<Action> {
        let mut actions = Vec::new();
        if let Some(apply) = &step.apply {
            actions.push(self.apply(apply, line, column, by_file));
        }
        if let Some(s) = &step.scale {
            self.need_set(&s.statefulset, line, column, known);
            if let Err(e) = crate::limits::check_replicas(i64::from(s.replicas)) {
                self.error(line, column, format!("scale: {e}"));
            }
            actions.push(Some(Action::Scale { set: s.statefulset.clone(), replicas: s.replicas }));
        }
        if let Some(s) = &step.set_image {
            if let Some(set) = self.need_set(&s.statefulset, line, column, known)
                && !containers(set).contains(&s.container)
            {
                self.error(line, column, format!("StatefulSet {} has no container {}", s.statefulset, s.container));
            }
            actions.push(Some(Action::SetImage {
                set: s.statefulset.clone(),
                container: s.container.clone(),
                image: s.image.clone(),
            }));
        }
        if let Some(s) = &step.set_partition {
            self.need_set(&s.statefulset, line, column, known);
            let merge = serde_json::json!({"spec": {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": s.partition}}}});
            actions.push(Some(Action::Patch { set: s.statefulset.clone(), merge }));
        }
        if let Some(p) = &step.patch {
            let Some(set) = p.statefulset.clone().filter(|_| p.daemonset.is_none() && p.job.is_none() && p.cronjob.is_none())
            else {
                self.error(line, column, "patch: a step's patch applies to one StatefulSet; name it with `statefulset:`");
                return None;
            };
            self.need_set(&set, line, column, known);
            let merge = self.patch_value(p, line, column);
            if let Some(replicas) = merge.as_ref().and_then(|m| m.pointer("/spec/replicas"))
                && let Err(e) = replicas.as_i64().map_or(Ok(()), crate::limits::check_replicas)
            {
                self.error(line, column, format!("patch: {e}"));
            }
            actions.push(merge.map(|merge| Action::Patch { set, merge }));
        }
        if let Some(d) = &step.delete_pod {
            actions.push(match (&d.pod, &d.deployment) {
                (Some(pod), None) => {
                    self.need_pod(pod, line, column, known);
                    Some(Action::DeletePod(pod.clone()))
                }
                (None, Some(deployment)) => {
                    if !known.deployments.contains(deployment) {
                        self.undeclared(line, column, format!("no manifest of the scenario declares Deployment {deployment}"));
                    }
                    Some(Action::DeleteDeploymentPod(deployment.clone()))
                }
                _ => {
                    self.error(line, column, "deletePod needs exactly one of `pod` and `deployment`");
                    None
                }
            });
        }
        if let Some(f) = &step.fail_pod {
            self.need_pod(&f.pod, line, column, known);
            actions.push(Some(Action::FailPod(f.pod.clone())));
        }
        if let Some(p) = &step.patch_pod {
            self.need_pod(&p.pod, line, column, known);
            let metadata =
                p.merge.as_object().filter(|m| m.len() == 1).and_then(|m| m.get("metadata")).and_then(Value::as_object);
            let allowed = metadata.is_some_and(|m| {
                !m.is_empty()
                    && m.iter().all(|(k, v)| match k.as_str() {
                        "labels" => {
                            v.is_null() || v.as_object().is_some_and(|l| l.values().all(|v| v.is_null() || v.is_string()))
                        }
                        "ownerReferences" => v.is_null() || v.is_array(),
                        _ => false,
                    })
            });
            if allowed {
                actions.push(Some(Action::PatchPod { pod: p.pod.clone(), merge: p.merge.clone() }));
            } else {
                self.error(
                    line,
                    column,
                    format!(
                        "patchPod.merge: {} changes more than a pod's metadata.labels (strings or null) and metadata.ownerReferences, which is all a scenario may change in a pod",
                        p.merge
                    ),
                );
                actions.push(None);
            }
        }
        if let Some(a) = &step.api_surface {
            self.need_set(&a.statefulset, line, column, known);
            if a.labels.is_empty() {
                self.error(line, column, "apiSurface.labels: give at least one label to list by");
            }
            actions.push(Some(Action::ApiSurface { set: a.statefulset.clone(), labels: a.labels.clone() }));
        }
        if let Some(d) = &step.delete_collection {
            if d.labels.is_empty() {
                // An empty selector would select every StatefulSet of the namespace.
                self.error(line, column, "deleteCollection.labels: give at least one label; none would select every StatefulSet");
            }
            actions.push(Some(Action::DeleteCollection(d.labels.clone())));
        }
        if let Some(d) = &step.delete_stateful_set {
            self.need_set(&d.name, line, column, known);
            actions.push(Some(Action::DeleteStatefulSet(d.name.clone())));
        }
        if let Some(f) = &step.write_token {
            self.need_pod(&f.pod, line, column, known);
            self.need_absolute(&f.path, line, column);
            let prefix = f.prefix.clone().unwrap_or_else(|| format!("Hello from {}", f.pod));
            actions.push(Some(Action::WriteToken { pod: f.pod.clone(), path: f.path.clone(), prefix }));
        }
        if let Some(f) = &step.read_token {
            self.need_pod(&f.pod, line, column, known);
            self.need_absolute(&f.path, line, column);
            actions.push(Some(Action::ReadToken { pod: f.pod.clone(), path: f.path.clone() }));
        }
        if let Some(s) = &step.hostnames {
            self.need_set(&s.statefulset, line, column, known);
            actions.push(Some(Action::Hostnames(s.statefulset.clone())));
        }
        if let Some(s) = &step.dns {
            self.need_set(&s.statefulset, line, column, known);
            actions.push(Some(Action::Dns(s.statefulset.clone())));
        }
        if let Some(h) = &step.http {
            self.need_set(&h.statefulset, line, column, known);
            if let Some(from) = &h.from
                && !known.pods.contains(from)
            {
                self.undeclared(line, column, format!("http.from: no manifest of the scenario declares Pod {from}"));
            }
            actions.push(Some(Action::Http(h.clone())));
        }
        for (key, r, restore) in
            [("breakReadiness", &step.break_readiness, false), ("restoreReadiness", &step.restore_readiness, true)]
        {
            let Some(r) = r else { continue };
            let readiness = self.readiness(key, r, line, column, known);
            actions.push(readiness.map(|r| if restore { Action::RestoreReadiness(r) } else { Action::BreakReadiness(r) }));
        }
        match actions.len() {
            0 if step.until.is_empty() => {
                self.error(line, column, "a step needs an action (apply, scale, …) or an `until` to wait for");
                None
            }
            0 => Some(Action::Wait),
            1 => actions.pop().flatten(),
            _ => {
                self.error(line, column, "a step holds one action; split it into several steps");
                None
            }
        }
    }

    fn apply(
        &mut self,
        apply: &format::Apply,
        line: u64,
        column: u64,
        by_file: &BTreeMap<String, Vec<Manifest>>,
    ) -> Option<Action> {
        let mut objects: Vec<Object> = Vec::new();
        for rel in &apply.manifests {
            match by_file.get(rel) {
                Some(m) => objects.extend(m.iter().map(|m| m.object.clone())),
                None if self.manifests_failed => {}
                None => self.error(line, column, format!("apply: {rel} is not listed in spec.manifests")),
            }
        }
        for patch in &apply.patches {
            let Some(merge) = self.patch_value(patch, line, column) else { continue };
            let (kind, name) = match (&patch.statefulset, &patch.daemonset, &patch.job, &patch.cronjob) {
                (Some(set), None, None, None) => ("StatefulSet", set),
                (None, Some(set), None, None) => ("DaemonSet", set),
                (None, None, Some(job), None) => ("Job", job),
                (None, None, None, Some(cron)) => ("CronJob", cron),
                _ => {
                    self.error(
                        line,
                        column,
                        "apply: a patch names exactly one of `statefulset`, `daemonset`, `job` and `cronjob`",
                    );
                    continue;
                }
            };
            let Some(target) = objects.iter_mut().find(|o| o.kind() == kind && o.name() == name) else {
                self.error(line, column, format!("apply: no {kind} {name} among the applied manifests to patch"));
                continue;
            };
            let mut json = target.to_json();
            merge_patch(&mut json, &merge);
            match Object::from_json(json) {
                // What the API server would refuse, unless the step means it to.
                Ok(o) => match manifest::check_object(&o) {
                    Err((path, why)) if !apply.refused => {
                        self.error(line, column, format!("apply: the patch makes {kind} {name} invalid: {path}: {why}"));
                    }
                    _ => *target = o,
                },
                Err(e) => self.error(line, column, format!("apply: the patch makes {kind} {name} invalid: {e}")),
            }
        }
        if !apply.refused {
            for object in &objects {
                if let Object::StatefulSet(set) = object {
                    self.applied_sets.insert(object.name().to_owned(), set.clone());
                }
            }
        }
        Some(if apply.refused { Action::ApplyRefused(objects) } else { Action::Apply(objects) })
    }

    fn patch_value(&mut self, patch: &format::Patch, line: u64, column: u64) -> Option<Value> {
        match (&patch.merge, &patch.file, &patch.key) {
            (Some(merge), None, None) => Some(merge.clone()),
            (None, Some(file), Some(key)) => {
                let path = self.dir.join(file);
                let text = match crate::input::read(&path) {
                    Ok(t) => t,
                    Err(e) if e.line == 0 => {
                        self.error(line, column, format!("patch: {}: {}", path.display(), e.message));
                        return None;
                    }
                    Err(e) => {
                        self.errors.push(e);
                        return None;
                    }
                };
                let fragments: BTreeMap<String, Value> = match serde_saphyr::from_str(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        self.errors.push(InputError::from_yaml(&path, 0, &e));
                        return None;
                    }
                };
                match fragments.get(key) {
                    Some(v) => Some(v.clone()),
                    None => {
                        let keys: Vec<&String> = fragments.keys().collect();
                        self.error(line, column, format!("patch: {file} has no fragment {key:?} (it has {keys:?})"));
                        None
                    }
                }
            }
            _ => {
                self.error(line, column, "a patch needs either `merge`, or `file` and `key`");
                None
            }
        }
    }

    fn need_set<'k>(&mut self, name: &str, line: u64, column: u64, known: &'k Known) -> Option<&'k StatefulSet> {
        let set = known.sets.get(name);
        if set.is_none() {
            self.undeclared(line, column, format!("no manifest of the scenario declares StatefulSet {name}"));
        }
        set
    }

    /// `breakReadiness` / `restoreReadiness` (`key`): one pod or one StatefulSet, an absolute
    /// file, and a pod template (as last applied) with a readiness probe — without one, moving
    /// a file changes nothing the controller sees.
    fn readiness(&mut self, key: &str, r: &format::ReadinessRef, line: u64, column: u64, known: &Known) -> Option<Readiness> {
        self.need_absolute(&r.file, line, column);
        let set = match (&r.pod, &r.statefulset) {
            (Some(pod), None) => {
                let set = known.sets.keys().find(|s| crate::timeline::ordinal_of(pod, s).is_some()).cloned();
                if set.is_none() {
                    self.undeclared(
                        line,
                        column,
                        format!("{key}: pod {pod} is not <statefulset>-<ordinal> of a declared StatefulSet"),
                    );
                }
                set?
            }
            (None, Some(set)) => {
                self.need_set(set, line, column, known)?;
                set.clone()
            }
            _ => {
                self.error(line, column, format!("{key} needs exactly one of `pod` and `statefulset`"));
                return None;
            }
        };
        let template = self.applied_sets.get(&set).or_else(|| known.sets.get(&set));
        let probed = template
            .and_then(|s| s.spec.as_ref())
            .and_then(|s| s.template.spec.as_ref())
            .is_some_and(|p| p.containers.iter().any(|c| c.readiness_probe.is_some()));
        if !probed {
            self.error(
                line,
                column,
                format!("{key}: StatefulSet {set}'s pod template has no readinessProbe, so no file can make its pods unready"),
            );
        }
        Some(Readiness { set, pod: r.pod.clone(), file: r.file.clone() })
    }

    fn need_pod(&mut self, pod: &str, line: u64, column: u64, known: &Known) {
        let of_set = known.sets.keys().any(|s| crate::timeline::ordinal_of(pod, s).is_some());
        if !of_set && !known.pods.contains(pod) {
            self.undeclared(
                line,
                column,
                format!("pod {pod} is neither <statefulset>-<ordinal> of a declared StatefulSet nor a declared Pod"),
            );
        }
    }

    fn need_absolute(&mut self, path: &str, line: u64, column: u64) {
        if !path.starts_with('/') {
            self.error(line, column, format!("{path:?} is not an absolute path"));
        }
    }

    fn check_until(&mut self, until: &Until, line: u64, column: u64, known: &Known) {
        for (field, count) in
            [("ready", until.ready), ("pods", until.pods), ("unready", until.unready), ("pendingClaims", until.pending_claims)]
        {
            if let Some(Err(e)) = count.map(|n| crate::limits::check_replicas(i64::from(n))) {
                self.error(line, column, format!("until.{field}: {e}"));
            }
        }
        let counts = until.ready.is_some() || until.pods.is_some();
        let set_only =
            until.rolled_out.is_some() || until.pending_claims.is_some() || until.unready.is_some() || until.claimed.is_some();
        if let Some(cron) = &until.cronjob {
            if !known.cron_jobs.contains(cron) {
                self.undeclared(line, column, format!("until: no manifest of the scenario declares CronJob {cron}"));
            }
            let others = until.statefulset.is_some()
                || until.deployment.is_some()
                || until.daemonset.is_some()
                || until.pod.is_some()
                || until.job.is_some()
                || until.complete.is_some()
                || until.failed.is_some();
            match until.jobs {
                Some(n) if !counts && !set_only && !others => {
                    if let Err(e) = crate::limits::check_replicas(i64::from(n)) {
                        self.error(line, column, format!("until.jobs: {e}"));
                    }
                }
                _ => self.error(line, column, "until: a `cronjob` condition is `jobs: N`, and names nothing else"),
            }
            return;
        }
        if until.jobs.is_some() {
            self.error(line, column, "until: `jobs` applies to a `cronjob` only");
        }
        if let Some(job) = &until.job {
            if !known.jobs.contains(job) {
                self.undeclared(line, column, format!("until: no manifest of the scenario declares Job {job}"));
            }
            let others =
                until.statefulset.is_some() || until.deployment.is_some() || until.daemonset.is_some() || until.pod.is_some();
            let ended = matches!((until.complete, until.failed), (Some(true), None) | (None, Some(true)));
            if !ended || counts || set_only || others {
                self.error(
                    line,
                    column,
                    "until: a `job` condition is `complete: true` or `failed: true`, and names nothing else",
                );
            }
            return;
        }
        if until.complete.is_some() || until.failed.is_some() {
            self.error(line, column, "until: `complete` and `failed` apply to a `job` only");
        }
        match (&until.statefulset, &until.deployment, &until.daemonset, &until.pod) {
            (Some(set), None, None, None) => {
                self.need_set(set, line, column, known);
                if !counts && !set_only {
                    self.error(
                        line,
                        column,
                        "until names no condition (ready, pods, unready, rolledOut, pendingClaims, claimed)",
                    );
                }
            }
            (None, Some(d), None, None) => {
                if !known.deployments.contains(d) {
                    self.undeclared(line, column, format!("until: no manifest of the scenario declares Deployment {d}"));
                }
                if set_only {
                    self.error(
                        line,
                        column,
                        "until: rolledOut applies to StatefulSets and DaemonSets, unready, pendingClaims and claimed to StatefulSets only",
                    );
                }
                if !counts {
                    self.error(line, column, "until names no condition (ready, pods)");
                }
            }
            (None, None, Some(d), None) => {
                if !known.daemon_sets.contains(d) {
                    self.undeclared(line, column, format!("until: no manifest of the scenario declares DaemonSet {d}"));
                }
                if until.rolled_out != Some(true) || counts || until.pending_claims.is_some() {
                    self.error(
                        line,
                        column,
                        "until: a `daemonset` condition is `rolledOut: true` (its pod count follows the nodes, not a number)",
                    );
                }
            }
            (None, None, None, Some(pod)) => {
                if !known.pods.contains(pod) {
                    self.undeclared(line, column, format!("until: no manifest of the scenario declares Pod {pod}"));
                }
                if counts || set_only {
                    self.error(line, column, "until: a `pod` condition means Running and Ready and takes no counts");
                }
            }
            _ => self.error(
                line,
                column,
                "until needs exactly one of `statefulset`, `deployment`, `daemonset`, `job`, `cronjob` and `pod`",
            ),
        }
    }

    /// Every Secret key a pod template reads must come from a Secret of the scenario.
    fn check_secrets(&mut self, manifests: &[Manifest]) {
        let mut secrets: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for m in manifests {
            if let Object::Secret(s) = &m.object {
                let keys = s.data.iter().flat_map(|d| d.keys()).chain(s.string_data.iter().flat_map(|d| d.keys()));
                secrets.insert(m.object.name(), keys.cloned().collect());
            }
        }
        for m in manifests {
            for (secret, key) in pod_spec(&m.object).map(secret_refs).unwrap_or_default() {
                let ok = secrets.get(secret.as_str()).is_some_and(|keys| keys.contains(&key));
                if !ok {
                    self.errors.push(InputError::at(
                        &m.file,
                        m.line,
                        1,
                        format!(
                            "{} {} reads key {key} of Secret {secret}, which no manifest of the scenario supplies; \
                             each run has a namespace of its own, so the scenario must create it",
                            m.object.kind(),
                            m.object.name()
                        ),
                    ));
                }
            }
        }
    }
}

/// The names the scenario's manifests declare.
struct Known {
    sets: BTreeMap<String, StatefulSet>,
    deployments: BTreeSet<String>,
    daemon_sets: BTreeSet<String>,
    jobs: BTreeSet<String>,
    cron_jobs: BTreeSet<String>,
    pods: BTreeSet<String>,
}

impl Known {
    fn new(manifests: &[Manifest]) -> Self {
        let mut known = Known {
            sets: BTreeMap::new(),
            deployments: BTreeSet::new(),
            daemon_sets: BTreeSet::new(),
            jobs: BTreeSet::new(),
            cron_jobs: BTreeSet::new(),
            pods: BTreeSet::new(),
        };
        for m in manifests {
            match &m.object {
                Object::StatefulSet(s) => {
                    known.sets.insert(m.object.name().to_owned(), s.clone());
                }
                Object::Deployment(_) => {
                    known.deployments.insert(m.object.name().to_owned());
                }
                Object::DaemonSet(_) => {
                    known.daemon_sets.insert(m.object.name().to_owned());
                }
                Object::Job(_) => {
                    known.jobs.insert(m.object.name().to_owned());
                }
                Object::CronJob(_) => {
                    known.cron_jobs.insert(m.object.name().to_owned());
                }
                Object::Pod(_) => {
                    known.pods.insert(m.object.name().to_owned());
                }
                _ => {}
            }
        }
        known
    }

    fn only_set(&self) -> Option<String> {
        (self.sets.len() == 1).then(|| self.sets.keys().next().cloned()).flatten()
    }
}

fn step_deployment(step: &Step, known: &Known) -> Option<String> {
    step.delete_pod
        .as_ref()
        .and_then(|d| d.deployment.clone())
        .or_else(|| step.until.iter().find_map(|u| u.deployment.clone()))
        .or_else(|| (known.deployments.len() == 1).then(|| known.deployments.iter().next().cloned()).flatten())
}

fn step_daemon_set(step: &Step, known: &Known) -> Option<String> {
    step.until
        .iter()
        .find_map(|u| u.daemonset.clone())
        .or_else(|| (known.daemon_sets.len() == 1).then(|| known.daemon_sets.iter().next().cloned()).flatten())
}

fn step_job(step: &Step, known: &Known) -> Option<String> {
    step.until
        .iter()
        .find_map(|u| u.job.clone())
        .or_else(|| (known.jobs.len() == 1).then(|| known.jobs.iter().next().cloned()).flatten())
}

fn step_cron_job(step: &Step, known: &Known) -> Option<String> {
    step.until
        .iter()
        .find_map(|u| u.cronjob.clone())
        .or_else(|| (known.cron_jobs.len() == 1).then(|| known.cron_jobs.iter().next().cloned()).flatten())
}

fn containers(set: &StatefulSet) -> Vec<String> {
    set.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.iter().map(|c| c.name.clone()).collect())
        .unwrap_or_default()
}

/// The pod spec inside an object that runs pods.
#[must_use]
pub fn pod_spec(object: &Object) -> Option<&PodSpec> {
    match object {
        Object::StatefulSet(s) => s.spec.as_ref()?.template.spec.as_ref(),
        Object::Deployment(d) => d.spec.as_ref()?.template.spec.as_ref(),
        Object::DaemonSet(d) => d.spec.as_ref()?.template.spec.as_ref(),
        Object::Job(j) => j.spec.as_ref()?.template.spec.as_ref(),
        Object::Pod(p) => p.spec.as_ref(),
        _ => None,
    }
}

/// `(secret, key)` for every `env[].valueFrom.secretKeyRef` of every container.
#[must_use]
pub fn secret_refs(spec: &PodSpec) -> Vec<(String, String)> {
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .flat_map(|c| c.env.iter().flatten())
        .filter_map(|e| e.value_from.as_ref()?.secret_key_ref.as_ref())
        .map(|r| (r.name.clone(), r.key.clone()))
        .collect()
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests;
