//! The plan: a scenario's objects made concrete for one run.
//!
//! Every run gets a namespace of its own, and every object it creates carries the harness's
//! labels. Cluster-scoped objects (a static PersistentVolume) get run-unique names, and the
//! references to them are rewritten: a static volume's `storageClassName` becomes run-unique,
//! and so does the class in every claim (template) that names it, so that parallel runs cannot
//! bind each other's volumes. Images go through the image map (by default the frozen
//! `k8s.gcr.io/` is served from `registry.k8s.io/`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::manifest::Object;

/// Label naming the tool that created an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "sts-conformance";
/// Label carrying the run id.
pub const RUN_LABEL: &str = "sts-conformance/run";
/// Label carrying the scenario name.
pub const SCENARIO_LABEL: &str = "sts-conformance/scenario";

/// The default image map: the frozen registry to its successor.
pub const DEFAULT_IMAGE_MAP: &[(&str, &str)] = &[("k8s.gcr.io/", "registry.k8s.io/")];

/// How runs are made concrete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Short run id (lowercase alphanumerics), unique per run.
    pub run_id: String,
    /// Namespace prefix.
    pub namespace_prefix: String,
    /// Image prefix rewrites, applied in order; the first matching prefix wins.
    pub image_map: Vec<(String, String)>,
    /// Storage class for claims that rely on dynamic provisioning (replacing the class they
    /// name, or filling in a missing one), when the cluster's default does not fit.
    pub storage_class: Option<String>,
    /// Run in this existing namespace (prepared earlier) instead of creating one.
    pub existing_namespace: Option<String>,
    /// Extra labels for the namespace and every object.
    pub extra_labels: BTreeMap<String, String>,
}

impl PlanOptions {
    /// Options with the default image map and prefix.
    #[must_use]
    pub fn new(run_id: impl Into<String>) -> Self {
        Self {
            run_id: run_id.into(),
            namespace_prefix: "stsc".into(),
            image_map: DEFAULT_IMAGE_MAP.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(),
            storage_class: None,
            existing_namespace: None,
            extra_labels: BTreeMap::new(),
        }
    }
}

impl PlanOptions {
    /// `image` after the image map: the first entry whose FROM is a prefix of it rewrites it.
    #[must_use]
    pub fn map_image(&self, image: &str) -> String {
        for (from, to) in &self.image_map {
            if let Some(rest) = image.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        image.to_owned()
    }
}

/// One scenario run's concrete names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The run's namespace.
    pub namespace: String,
    /// Labels every created object carries.
    pub labels: BTreeMap<String, String>,
    /// Cluster-scoped object renames: scenario name → run name.
    pub renames: BTreeMap<String, String>,
    /// Storage class renames for static volumes: scenario class → run class.
    pub class_renames: BTreeMap<String, String>,
    options: PlanOptions,
}

impl Plan {
    /// Plans a run of scenario `name` whose objects are `objects`.
    #[must_use]
    pub fn new(name: &str, objects: &[&Object], options: PlanOptions) -> Self {
        let mut namespace = format!("{}-{name}-{}", options.namespace_prefix, options.run_id);
        if namespace.len() > 63 {
            let keep = 63 - options.run_id.len() - 1;
            namespace = format!("{}-{}", namespace[..keep].trim_end_matches('-'), options.run_id);
        }
        if let Some(existing) = &options.existing_namespace {
            namespace.clone_from(existing);
        }
        let mut labels = BTreeMap::from([
            (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
            (RUN_LABEL.to_owned(), options.run_id.clone()),
            (SCENARIO_LABEL.to_owned(), name.to_owned()),
        ]);
        labels.extend(options.extra_labels.clone());
        let mut renames = BTreeMap::new();
        let mut class_renames = BTreeMap::new();
        for object in objects {
            if let Object::PersistentVolume(pv) = object {
                renames.insert(object.name().to_owned(), format!("{}-{}", object.name(), options.run_id));
                if let Some(class) = pv.spec.as_ref().and_then(|s| s.storage_class_name.clone()) {
                    class_renames.insert(class.clone(), format!("{class}-{}", options.run_id));
                }
            }
        }
        Self { namespace, labels, renames, class_renames, options }
    }

    /// Whether the run uses a namespace prepared earlier.
    #[must_use]
    pub fn attach(&self) -> bool {
        self.options.existing_namespace.is_some()
    }

    /// The run's id.
    #[must_use]
    pub fn run_id(&self) -> &str {
        &self.options.run_id
    }

    /// An image after the image map.
    #[must_use]
    pub fn image(&self, image: &str) -> String {
        self.options.map_image(image)
    }

    /// The name an object has in this run.
    #[must_use]
    pub fn name_of<'a>(&'a self, object: &'a Object) -> &'a str {
        self.renames.get(object.name()).map_or(object.name(), String::as_str)
    }

    /// The object as this run creates it: namespaced into the run's namespace (whatever the
    /// manifest says), labelled, renamed, storage classes and images rewritten.
    ///
    /// # Errors
    /// The rewritten object no longer parses (not expected for objects that validated).
    pub fn concrete(&self, object: &Object) -> Result<Object, crate::manifest::ObjectError> {
        let mut json = object.to_json();
        let meta = &mut json["metadata"];
        if object.cluster_scoped() {
            if let Some(map) = meta.as_object_mut() {
                map.remove("namespace");
            }
            meta["name"] = json!(self.name_of(object));
        } else {
            meta["namespace"] = json!(self.namespace);
        }
        for (k, v) in &self.labels {
            meta["labels"][k] = json!(v);
        }
        match object {
            Object::PersistentVolume(_) => {
                let spec = &mut json["spec"];
                if let Some(class) = spec["storageClassName"].as_str().and_then(|c| self.class_renames.get(c)) {
                    spec["storageClassName"] = json!(class);
                }
                if let Some(path) = spec["hostPath"]["path"].as_str() {
                    let base = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("volume");
                    spec["hostPath"]["path"] = json!(format!("/tmp/sts-conformance/{}/{base}", self.run_id()));
                }
                // A static volume must not be pre-bound to a claim of another namespace.
                if let Some(map) = spec.as_object_mut() {
                    map.remove("claimRef");
                }
            }
            Object::StatefulSet(_) => {
                if let Some(templates) = json["spec"]["volumeClaimTemplates"].as_array_mut() {
                    for template in templates {
                        self.rewrite_claim_spec(&mut template["spec"]);
                    }
                }
                self.rewrite_pod_spec(&mut json["spec"]["template"]["spec"]);
            }
            Object::PersistentVolumeClaim(_) => self.rewrite_claim_spec(&mut json["spec"]),
            Object::Deployment(_) | Object::DaemonSet(_) | Object::Job(_) => {
                self.rewrite_pod_spec(&mut json["spec"]["template"]["spec"]);
            }
            Object::CronJob(_) => self.rewrite_pod_spec(&mut json["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
            Object::Pod(_) => self.rewrite_pod_spec(&mut json["spec"]),
            Object::Service(_) | Object::Secret(_) | Object::ConfigMap(_) => {}
        }
        Object::from_json(json)
    }

    fn rewrite_claim_spec(&self, spec: &mut Value) {
        let class = spec["storageClassName"].as_str().map(str::to_owned);
        match class {
            Some(c) if self.class_renames.contains_key(&c) => spec["storageClassName"] = json!(self.class_renames[&c]),
            _ => {
                if let Some(override_class) = &self.options.storage_class {
                    spec["storageClassName"] = json!(override_class);
                }
            }
        }
    }

    fn rewrite_pod_spec(&self, spec: &mut Value) {
        for list in ["containers", "initContainers"] {
            if let Some(containers) = spec[list].as_array_mut() {
                for c in containers {
                    if let Some(image) = c["image"].as_str() {
                        c["image"] = json!(self.image(image));
                    }
                }
            }
        }
    }

    /// The storage classes the run's claims name that no static volume of the scenario backs:
    /// they need a provisioner in the cluster.
    #[must_use]
    pub fn dynamic_classes(&self, objects: &[&Object]) -> BTreeSet<Option<String>> {
        let mut classes = BTreeSet::new();
        for object in objects {
            let specs: Vec<Option<String>> = match object {
                Object::StatefulSet(s) => s
                    .spec
                    .iter()
                    .flat_map(|s| s.volume_claim_templates.iter().flatten())
                    .map(|t| t.spec.as_ref().and_then(|s| s.storage_class_name.clone()))
                    .collect(),
                Object::PersistentVolumeClaim(c) => vec![c.spec.as_ref().and_then(|s| s.storage_class_name.clone())],
                _ => vec![],
            };
            for class in specs {
                if class.as_ref().is_none_or(|c| !self.class_renames.contains_key(c)) {
                    classes.insert(self.options.storage_class.clone().or(class));
                }
            }
        }
        classes
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifest::parse_file;

    fn objects(text: &str) -> Vec<Object> {
        parse_file(Path::new("m.yaml"), text).unwrap().into_iter().map(|m| m.object).collect()
    }

    const PV: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv-a, namespace: default}\nspec:\n  capacity: {storage: 100Mi}\n  accessModes: [ReadWriteOnce]\n  storageClassName: local-a\n  hostPath: {path: /home/u/vol}\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web, namespace: kube-system}\nspec:\n  serviceName: s\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: c, image: k8s.gcr.io/nginx-slim:0.8, volumeMounts: [{name: d, mountPath: /d}]}]}\n  volumeClaimTemplates:\n  - metadata: {name: d}\n    spec: {accessModes: [ReadWriteOnce], storageClassName: local-a, resources: {requests: {storage: 20Mi}}}\n";

    #[test]
    fn cluster_scoped_objects_and_their_references_are_run_unique() {
        let objs = objects(PV);
        let refs: Vec<&Object> = objs.iter().collect();
        let plan = Plan::new("seed", &refs, PlanOptions::new("r1"));
        assert_eq!(plan.namespace, "stsc-seed-r1");
        let Object::PersistentVolume(pv) = plan.concrete(&objs[0]).unwrap() else { panic!() };
        assert_eq!(pv.metadata.name.as_deref(), Some("pv-a-r1"));
        assert_eq!(pv.metadata.namespace, None);
        let spec = pv.spec.unwrap();
        assert_eq!(spec.storage_class_name.as_deref(), Some("local-a-r1"));
        assert_eq!(spec.host_path.unwrap().path, "/tmp/sts-conformance/r1/vol");
        assert_eq!(pv.metadata.labels.unwrap()[RUN_LABEL], "r1");
        let Object::StatefulSet(set) = plan.concrete(&objs[1]).unwrap() else { panic!() };
        assert_eq!(set.metadata.namespace.as_deref(), Some("stsc-seed-r1"));
        let spec = set.spec.unwrap();
        assert_eq!(
            spec.volume_claim_templates.unwrap()[0].spec.as_ref().unwrap().storage_class_name.as_deref(),
            Some("local-a-r1")
        );
        assert_eq!(spec.template.spec.unwrap().containers[0].image.as_deref(), Some("registry.k8s.io/nginx-slim:0.8"));
        assert!(plan.dynamic_classes(&refs).is_empty());
    }

    #[test]
    fn long_namespaces_keep_the_run_id() {
        let plan = Plan::new(&"x".repeat(60), &[], PlanOptions::new("abc123"));
        assert!(plan.namespace.len() <= 63);
        assert!(plan.namespace.ends_with("-abc123"));
    }
}
