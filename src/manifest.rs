//! Kubernetes manifests: YAML files parsed into k8s-openapi types, with errors that point at
//! `file:line:column`.
//!
//! Every document is parsed twice: into a JSON value (to know every field the author wrote) and
//! into its k8s-openapi type by `apiVersion`/`kind`. k8s-openapi ignores fields it does not know,
//! so a field present in the first and absent from the second's serialization is reported as
//! unknown — the way `kubectl apply` (strict field validation) rejects a misspelled field.
//! Then the object is checked for what the API server would refuse (a selector that does not
//! match the template, a StatefulSet without containers, …).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use k8s_openapi::api::{
    apps::v1::{DaemonSet, Deployment, StatefulSet},
    batch::v1::{CronJob, Job},
    core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, PodTemplateSpec, Secret, Service},
};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

pub use crate::input::InputError;

/// The parser options used for manifests: YAML 1.1 octal (`defaultMode: 0644` is 420), as
/// kubectl reads it.
fn manifest_options() -> serde_saphyr::Options {
    serde_saphyr::options! { legacy_octal_numbers: true }
}

/// Splits a multi-document YAML text into (first line of the document, text) pairs, skipping
/// empty documents.
#[must_use]
pub fn split_documents(text: &str) -> Vec<(u64, String)> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut start = 1u64;
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            docs.push((start, std::mem::take(&mut current)));
            start = i as u64 + 2;
            continue;
        }
        current.push_str(line);
        current.push('\n');
    }
    docs.push((start, current));
    docs.into_iter().filter(|(_, d)| d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))).collect()
}

/// A Kubernetes object of a kind the harness handles.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Object {
    /// `apps/v1 StatefulSet`.
    StatefulSet(StatefulSet),
    /// `apps/v1 Deployment`.
    Deployment(Deployment),
    /// `apps/v1 DaemonSet` (parsed and validated; no scenario runs it yet).
    DaemonSet(DaemonSet),
    /// `batch/v1 Job` (parsed and validated; no scenario runs it yet).
    Job(Job),
    /// `batch/v1 CronJob` (parsed and validated; no scenario runs it yet).
    CronJob(CronJob),
    /// `v1 Service`.
    Service(Service),
    /// `v1 Pod`.
    Pod(Pod),
    /// `v1 PersistentVolume` (cluster-scoped).
    PersistentVolume(PersistentVolume),
    /// `v1 PersistentVolumeClaim`.
    PersistentVolumeClaim(PersistentVolumeClaim),
    /// `v1 Secret`.
    Secret(Secret),
    /// `v1 ConfigMap`.
    ConfigMap(ConfigMap),
}

/// The kinds the harness reads, as `(apiVersion, kind)`.
pub const SUPPORTED_KINDS: &[(&str, &str)] = &[
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Service"),
    ("v1", "Pod"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
];

impl Object {
    /// `kind`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Object::StatefulSet(_) => "StatefulSet",
            Object::Deployment(_) => "Deployment",
            Object::DaemonSet(_) => "DaemonSet",
            Object::Job(_) => "Job",
            Object::CronJob(_) => "CronJob",
            Object::Service(_) => "Service",
            Object::Pod(_) => "Pod",
            Object::PersistentVolume(_) => "PersistentVolume",
            Object::PersistentVolumeClaim(_) => "PersistentVolumeClaim",
            Object::Secret(_) => "Secret",
            Object::ConfigMap(_) => "ConfigMap",
        }
    }

    /// The API group of the kind (`apps`, `batch`; empty for the core group).
    #[must_use]
    pub fn group(&self) -> &'static str {
        match self {
            Object::StatefulSet(_) | Object::Deployment(_) | Object::DaemonSet(_) => "apps",
            Object::Job(_) | Object::CronJob(_) => "batch",
            _ => "",
        }
    }

    /// `metadata.name` (empty when missing; validation rejects that).
    #[must_use]
    pub fn name(&self) -> &str {
        let meta = match self {
            Object::StatefulSet(o) => &o.metadata,
            Object::Deployment(o) => &o.metadata,
            Object::DaemonSet(o) => &o.metadata,
            Object::Job(o) => &o.metadata,
            Object::CronJob(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Pod(o) => &o.metadata,
            Object::PersistentVolume(o) => &o.metadata,
            Object::PersistentVolumeClaim(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::ConfigMap(o) => &o.metadata,
        };
        meta.name.as_deref().unwrap_or("")
    }

    /// Whether the kind is cluster-scoped (its name must be made unique per run).
    #[must_use]
    pub fn cluster_scoped(&self) -> bool {
        matches!(self, Object::PersistentVolume(_))
    }

    /// The object as JSON, with `apiVersion` and `kind`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let result = match self {
            Object::StatefulSet(o) => serde_json::to_value(o),
            Object::Deployment(o) => serde_json::to_value(o),
            Object::DaemonSet(o) => serde_json::to_value(o),
            Object::Job(o) => serde_json::to_value(o),
            Object::CronJob(o) => serde_json::to_value(o),
            Object::Service(o) => serde_json::to_value(o),
            Object::Pod(o) => serde_json::to_value(o),
            Object::PersistentVolume(o) => serde_json::to_value(o),
            Object::PersistentVolumeClaim(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ConfigMap(o) => serde_json::to_value(o),
        };
        // Serializing a k8s-openapi type into a JSON value cannot fail: it has no maps with
        // non-string keys and no custom serializers that error.
        result.unwrap_or(Value::Null)
    }

    /// Parses a JSON object of a supported kind (after a patch, for instance).
    ///
    /// # Errors
    /// The kind is not supported, or the JSON does not fit its type.
    pub fn from_json(value: Value) -> Result<Self, ObjectError> {
        let api_version = value.get("apiVersion").and_then(Value::as_str).unwrap_or("").to_owned();
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or("").to_owned();
        fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ObjectError> {
            serde_json::from_value(v).map_err(ObjectError::Invalid)
        }
        Ok(match (api_version.as_str(), kind.as_str()) {
            ("apps/v1", "StatefulSet") => Object::StatefulSet(typed(value)?),
            ("apps/v1", "Deployment") => Object::Deployment(typed(value)?),
            ("apps/v1", "DaemonSet") => Object::DaemonSet(typed(value)?),
            ("batch/v1", "Job") => Object::Job(typed(value)?),
            ("batch/v1", "CronJob") => Object::CronJob(typed(value)?),
            ("v1", "Service") => Object::Service(typed(value)?),
            ("v1", "Pod") => Object::Pod(typed(value)?),
            ("v1", "PersistentVolume") => Object::PersistentVolume(typed(value)?),
            ("v1", "PersistentVolumeClaim") => Object::PersistentVolumeClaim(typed(value)?),
            ("v1", "Secret") => Object::Secret(typed(value)?),
            ("v1", "ConfigMap") => Object::ConfigMap(typed(value)?),
            _ => return Err(ObjectError::Unsupported(unsupported(&api_version, &kind))),
        })
    }
}

/// Why a JSON object is not an [`Object`].
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Its apiVersion and kind are not among [`SUPPORTED_KINDS`].
    #[error("{0}")]
    Unsupported(String),
    /// It does not fit its kind's type.
    #[error("{0}")]
    Invalid(#[source] serde_json::Error),
}

fn unsupported(api_version: &str, kind: &str) -> String {
    let known: Vec<String> = SUPPORTED_KINDS.iter().map(|(a, k)| format!("{a} {k}")).collect();
    format!("{api_version} {kind} is not a kind the harness handles (it handles: {})", known.join(", "))
}

/// One document of a manifest file, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file it came from.
    pub file: PathBuf,
    /// The document's first line in that file.
    pub line: u64,
    /// The object.
    pub object: Object,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// Parses every document of a manifest file.
///
/// # Errors
/// The first problem found, located: invalid YAML, a missing or unsupported kind, a field of
/// the wrong type, an unknown field, or an object the API server would reject.
pub fn parse_file(file: &Path, text: &str) -> Result<Vec<Manifest>, InputError> {
    split_documents(text)
        .into_iter()
        .map(|(line, doc)| parse_document(file, line, &doc).map(|object| Manifest { file: file.to_owned(), line, object }))
        .collect()
}

/// Reads and parses a manifest file.
///
/// # Errors
/// The file cannot be read, or [`parse_file`] fails.
pub fn load_file(file: &Path) -> Result<Vec<Manifest>, InputError> {
    let text = crate::input::read(file)?;
    parse_file(file, &text)
}

fn parse_document(file: &Path, first_line: u64, doc: &str) -> Result<Object, InputError> {
    let offset = first_line - 1;
    let options = manifest_options();
    let meta: TypeMeta =
        serde_saphyr::from_str_with_options(doc, options.clone()).map_err(|e| InputError::from_yaml(file, offset, &e))?;
    let (Some(api_version), Some(kind)) = (meta.api_version, meta.kind) else {
        return Err(InputError::at(file, first_line, 1, "the document has no apiVersion and kind"));
    };
    fn typed<T: DeserializeOwned>(file: &Path, offset: u64, doc: &str, options: serde_saphyr::Options) -> Result<T, InputError> {
        serde_saphyr::from_str_with_options(doc, options).map_err(|e| InputError::from_yaml(file, offset, &e))
    }
    let o = options.clone();
    let object = match (api_version.as_str(), kind.as_str()) {
        ("apps/v1", "StatefulSet") => Object::StatefulSet(typed(file, offset, doc, o)?),
        ("apps/v1", "Deployment") => Object::Deployment(typed(file, offset, doc, o)?),
        ("apps/v1", "DaemonSet") => Object::DaemonSet(typed(file, offset, doc, o)?),
        ("batch/v1", "Job") => Object::Job(typed(file, offset, doc, o)?),
        ("batch/v1", "CronJob") => Object::CronJob(typed(file, offset, doc, o)?),
        ("v1", "Service") => Object::Service(typed(file, offset, doc, o)?),
        ("v1", "Pod") => Object::Pod(typed(file, offset, doc, o)?),
        ("v1", "PersistentVolume") => Object::PersistentVolume(typed(file, offset, doc, o)?),
        ("v1", "PersistentVolumeClaim") => Object::PersistentVolumeClaim(typed(file, offset, doc, o)?),
        ("v1", "Secret") => Object::Secret(typed(file, offset, doc, o)?),
        ("v1", "ConfigMap") => Object::ConfigMap(typed(file, offset, doc, o)?),
        _ => {
            let line = find_key_line(doc, &["kind"]).map_or(first_line, |l| l + offset);
            return Err(InputError::at(file, line, 1, unsupported(&api_version, &kind)));
        }
    };
    let raw: Value = serde_saphyr::from_str_with_options(doc, options).map_err(|e| InputError::from_yaml(file, offset, &e))?;
    if let Some(path) = unknown_fields(&raw, &object.to_json(), &mut Vec::new()) {
        let line = find_key_line(doc, &path).map_or(first_line, |l| l + offset);
        return Err(InputError::at(file, line, 1, format!("unknown field `{}` in {kind}", path.join("."))));
    }
    if let Err((path, message)) = check_object(&object) {
        let keys: Vec<&str> = path.split('.').collect();
        let line = find_key_line(doc, &keys).map_or(first_line, |l| l + offset);
        return Err(InputError::at(file, line, 1, format!("{kind} {}: {message}", object.name())));
    }
    Ok(object)
}

/// The first path present (and not empty) in `raw` but absent from `typed`.
fn unknown_fields(raw: &Value, typed: &Value, path: &mut Vec<String>) -> Option<Vec<String>> {
    match (raw, typed) {
        (Value::Object(r), Value::Object(t)) => {
            for (key, value) in r {
                path.push(key.clone());
                match t.get(key) {
                    None if !is_empty(value) => return Some(path.clone()),
                    None => {}
                    Some(tv) => {
                        if let Some(found) = unknown_fields(value, tv, path) {
                            return Some(found);
                        }
                    }
                }
                path.pop();
            }
            None
        }
        (Value::Array(r), Value::Array(t)) => {
            for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                path.push(i.to_string());
                if let Some(found) = unknown_fields(rv, tv, path) {
                    return Some(found);
                }
                path.pop();
            }
            None
        }
        _ => None,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The 0-based line (within `doc`) of the last key of `path`, found by walking the keys in
/// order (array indexes are skipped); a best effort to point at a field.
fn find_key_line(doc: &str, path: &[impl AsRef<str>]) -> Option<u64> {
    let mut from = 0;
    let mut found = None;
    let lines: Vec<&str> = doc.lines().collect();
    for key in path {
        let key = key.as_ref();
        if key.parse::<usize>().is_ok() {
            continue;
        }
        let pos = lines[from..].iter().position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:")) || t.starts_with(&format!("\"{key}\":"))
        })?;
        from += pos;
        found = Some(from as u64 + 1);
    }
    found
}

/// Whether `name` is a DNS-1123 label (lowercase alphanumerics and `-`, at most 63).
#[must_use]
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Whether `name` is a DNS-1123 subdomain (labels joined by dots, at most 253).
#[must_use]
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

fn labels_match(selector: Option<&BTreeMap<String, String>>, labels: Option<&BTreeMap<String, String>>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else { return false };
    let empty = BTreeMap::new();
    let labels = labels.unwrap_or(&empty);
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

fn validate_template(template: &PodTemplateSpec, claim_templates: &[String]) -> Result<(), (String, String)> {
    let Some(spec) = &template.spec else {
        return Err(("spec.template.spec".into(), "the pod template has no spec".into()));
    };
    validate_pod_spec(spec, claim_templates, "spec.template.spec")
}

fn validate_pod_spec(
    spec: &k8s_openapi::api::core::v1::PodSpec,
    claim_templates: &[String],
    at: &str,
) -> Result<(), (String, String)> {
    if spec.containers.is_empty() {
        return Err((format!("{at}.containers"), "no containers".into()));
    }
    let volumes: Vec<&str> = spec.volumes.iter().flatten().map(|v| v.name.as_str()).collect();
    for container in &spec.containers {
        if !is_dns_label(&container.name) {
            return Err((format!("{at}.containers.name"), format!("container name {:?} is not a DNS label", container.name)));
        }
        if container.image.as_deref().is_none_or(str::is_empty) {
            return Err((format!("{at}.containers.image"), format!("container {} has no image", container.name)));
        }
        for mount in container.volume_mounts.iter().flatten() {
            if !volumes.contains(&mount.name.as_str()) && !claim_templates.contains(&mount.name) {
                return Err((
                    format!("{at}.containers.volumeMounts.name"),
                    format!(
                        "container {} mounts volume {}, which is neither a volume nor a claim template",
                        container.name, mount.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `spec.replicas`: not negative (the API server's rule) and within the harness's limit.
fn check_replicas(replicas: Option<i32>) -> Result<(), (String, String)> {
    let Some(replicas) = replicas else { return Ok(()) };
    if replicas < 0 {
        return Err(("spec.replicas".into(), "replicas must not be negative".into()));
    }
    crate::limits::check_replicas(i64::from(replicas)).map_err(|e| ("spec.replicas".into(), e.to_string()))
}

/// What the API server would reject, as (field path, message).
/// What the API server's validation would refuse in `object`, as (field path, why) — the rules
/// `load_file` holds every manifest to, and objects made otherwise (a scenario's patches).
pub fn check_object(object: &Object) -> Result<(), (String, String)> {
    let name = object.name();
    let name_ok =
        if object.kind() == "StatefulSet" || object.kind() == "Service" { is_dns_label(name) } else { is_dns_subdomain(name) };
    if !name_ok {
        return Err(("metadata.name".into(), format!("{name:?} is not a valid name (lowercase letters, digits and '-')")));
    }
    match object {
        Object::StatefulSet(set) => {
            let Some(spec) = &set.spec else { return Err(("spec".into(), "no spec".into())) };
            if !labels_match(spec.selector.match_labels.as_ref(), spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()))
            {
                return Err((
                    "spec.selector".into(),
                    "selector.matchLabels is empty or does not match the template's labels".into(),
                ));
            }
            check_replicas(spec.replicas)?;
            let claim_templates: Vec<String> =
                spec.volume_claim_templates.iter().flatten().map(|t| t.metadata.name.clone().unwrap_or_default()).collect();
            if claim_templates.iter().any(|t| !is_dns_label(t)) {
                return Err(("spec.volumeClaimTemplates".into(), "every claim template needs a name".into()));
            }
            if let Some(policy) = &spec.pod_management_policy
                && policy != "OrderedReady"
                && policy != "Parallel"
            {
                return Err(("spec.podManagementPolicy".into(), format!("{policy:?} is not OrderedReady or Parallel")));
            }
            if let Some(kind) = spec.update_strategy.as_ref().and_then(|s| s.type_.as_deref())
                && kind != "RollingUpdate"
                && kind != "OnDelete"
            {
                return Err(("spec.updateStrategy.type".into(), format!("{kind:?} is not RollingUpdate or OnDelete")));
            }
            validate_template(&spec.template, &claim_templates)
        }
        Object::Deployment(d) => {
            let Some(spec) = &d.spec else { return Err(("spec".into(), "no spec".into())) };
            check_replicas(spec.replicas)?;
            if !labels_match(spec.selector.match_labels.as_ref(), spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()))
            {
                return Err((
                    "spec.selector".into(),
                    "selector.matchLabels is empty or does not match the template's labels".into(),
                ));
            }
            validate_template(&spec.template, &[])
        }
        Object::DaemonSet(d) => {
            let Some(spec) = &d.spec else { return Err(("spec".into(), "no spec".into())) };
            if !labels_match(spec.selector.match_labels.as_ref(), spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref()))
            {
                return Err((
                    "spec.selector".into(),
                    "selector.matchLabels is empty or does not match the template's labels".into(),
                ));
            }
            validate_template(&spec.template, &[])
        }
        Object::Job(j) => {
            let Some(spec) = &j.spec else { return Err(("spec".into(), "no spec".into())) };
            let restart = spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
            if restart != Some("OnFailure") && restart != Some("Never") {
                return Err((
                    "spec.template.spec.restartPolicy".into(),
                    "a Job's restartPolicy must be OnFailure or Never".into(),
                ));
            }
            validate_template(&spec.template, &[])
        }
        Object::CronJob(c) => {
            let Some(spec) = &c.spec else { return Err(("spec".into(), "no spec".into())) };
            if let Err(crate::cron::ScheduleError::Invalid { reason, .. }) =
                crate::cron::Schedule::parse(&spec.schedule, spec.time_zone.as_deref())
            {
                return Err(("spec.schedule".into(), format!("{:?} is not a cron schedule: {reason}", spec.schedule)));
            }
            let template = spec.job_template.spec.as_ref().map(|j| &j.template);
            let restart = template.and_then(|t| t.spec.as_ref()).and_then(|s| s.restart_policy.as_deref());
            if restart != Some("OnFailure") && restart != Some("Never") {
                return Err((
                    "spec.jobTemplate.spec.template.spec.restartPolicy".into(),
                    "a Job's restartPolicy must be OnFailure or Never".into(),
                ));
            }
            template.map_or(Ok(()), |t| validate_template(t, &[]))
        }
        Object::Service(s) => {
            let spec = s.spec.as_ref();
            let headless = spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None");
            if !headless && spec.and_then(|s| s.ports.as_ref()).is_none_or(Vec::is_empty) {
                return Err(("spec.ports".into(), "a Service that is not headless needs at least one port".into()));
            }
            Ok(())
        }
        Object::Pod(p) => match &p.spec {
            None => Err(("spec".into(), "no spec".into())),
            Some(spec) => validate_pod_spec(spec, &[], "spec"),
        },
        Object::PersistentVolume(pv) => {
            let capacity = pv.spec.as_ref().and_then(|s| s.capacity.as_ref()).and_then(|c| c.get("storage"));
            if capacity.is_none() {
                return Err(("spec.capacity".into(), "a PersistentVolume needs spec.capacity.storage".into()));
            }
            Ok(())
        }
        Object::PersistentVolumeClaim(_) | Object::Secret(_) | Object::ConfigMap(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Manifest>, InputError> {
        parse_file(Path::new("m.yaml"), text)
    }

    const STS: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: nginx\n  selector:\n    matchLabels: {app: nginx}\n  template:\n    metadata:\n      labels: {app: nginx}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n";

    #[test]
    fn parses_multi_document_files_with_their_lines() {
        let text = format!("apiVersion: v1\nkind: Service\nmetadata: {{name: nginx}}\nspec:\n  clusterIP: None\n---\n{STS}");
        let manifests = parse(&text).unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].object.kind(), "Service");
        assert_eq!(manifests[1].line, 7);
        assert_eq!(manifests[1].object.name(), "web");
    }

    #[test]
    fn reports_wrong_types_at_their_line() {
        let text = format!("# c\n---\n{}", STS.replace("  serviceName: nginx\n", "  serviceName: nginx\n  replicas: three\n"));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.line, 9, "{err}");
        assert!(err.to_string().starts_with("m.yaml:9:"), "{err}");
    }

    #[test]
    fn replicas_beyond_the_limit_are_refused_at_their_line() {
        let text = STS.replace("  serviceName: nginx\n", "  serviceName: nginx\n  replicas: 2147483647\n");
        let err = parse(&text).unwrap_err();
        assert!(err.to_string().starts_with("m.yaml:7:"), "{err}");
        assert!(err.message.contains("more than the 10000"), "{err}");
        assert!(parse(&STS.replace("  serviceName: nginx\n", "  serviceName: nginx\n  replicas: 10000\n")).is_ok());
    }

    #[test]
    fn reports_unknown_fields() {
        let err = parse(&STS.replace("  serviceName: nginx\n", "  serviceName: nginx\n  replica: 3\n")).unwrap_err();
        assert_eq!(err.line, 7, "{err}");
        assert!(err.message.contains("unknown field `spec.replica`"), "{err}");
    }

    #[test]
    fn rejects_what_the_api_server_would() {
        let err = parse(&STS.replace("labels: {app: nginx}", "labels: {app: other}")).unwrap_err();
        assert!(err.message.contains("does not match"), "{err}");
        assert_eq!(err.line, 7);
        let missing = STS.replace("  selector:\n    matchLabels: {app: nginx}\n", "");
        assert!(parse(&missing).unwrap_err().message.contains("selector"));
        let err = parse("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: x}\n").unwrap_err();
        assert!(err.message.contains("not a kind the harness handles"), "{err}");
        let err = parse(
            &STS.replace("      - name: nginx\n", "      - name: nginx\n        volumeMounts: [{name: www, mountPath: /x}]\n"),
        )
        .unwrap_err();
        assert!(err.message.contains("mounts volume www"), "{err}");
    }

    #[test]
    fn reads_legacy_octal_like_kubectl() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox, volumeMounts: [{name: v, mountPath: /v}]}]\n  volumes:\n  - name: v\n    secret: {secretName: s, defaultMode: 0644}\n";
        let manifests = parse(text).unwrap();
        let Object::Pod(pod) = &manifests[0].object else { panic!("a pod") };
        let mode = pod.spec.as_ref().unwrap().volumes.as_ref().unwrap()[0].secret.as_ref().unwrap().default_mode;
        assert_eq!(mode, Some(420));
    }
}
