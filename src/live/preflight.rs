//! Preflight: before anything is created, check that the cluster can run the scenarios —
//! reachable, the harness's own permissions (every missing one reported, not just the first,
//! from the one table of everything the backend does), a StorageClass for the claims that need
//! one — and find which capabilities it lacks (containers that run, cluster DNS).

use std::time::Duration;

use k8s_openapi::api::{
    authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec},
    core::v1::{Node, Service},
    discovery::v1::EndpointSlice,
    storage::v1::StorageClass,
};
use kube::{
    Api, Client,
    api::{ListParams, PostParams},
};

use super::connect::explain;
use crate::capability::{Capability, Missing};

/// One permission the harness needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permission {
    /// Verb (`create`, `watch`, …).
    pub verb: &'static str,
    /// API group (`""` for core).
    pub group: &'static str,
    /// Resource (`pods`), with its subresource when any.
    pub resource: &'static str,
    /// Subresource (`exec`, `scale`, `log`), or `""`.
    pub subresource: &'static str,
}

const fn p(verb: &'static str, group: &'static str, resource: &'static str, subresource: &'static str) -> Permission {
    Permission { verb, group, resource, subresource }
}

/// Verbs that server-side apply needs on a kind: `create` when the object is new, `patch`
/// when it exists.
const APPLY: [&str; 2] = ["create", "patch"];

/// Every kind `apply` accepts, as (group, resource): each scenario manifest, the probe pod,
/// the upgrade baseline ConfigMap.
pub const APPLIED: &[(&str, &str)] = &[
    ("apps", "statefulsets"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "services"),
    ("", "pods"),
    ("", "persistentvolumes"),
    ("", "persistentvolumeclaims"),
    ("", "secrets"),
    ("", "configmaps"),
];

/// The resources the live backend watches, each with a `list` then a `watch`.
pub const WATCHED: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "persistentvolumeclaims"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("", "services"),
    ("", "secrets"),
    ("", "events"),
    ("", "persistentvolumes"),
];

/// Every other request the harness makes, with what it is for.
const OTHER: &[(Permission, &str)] = &[
    (p("create", "", "namespaces", ""), "a namespace per scenario"),
    (p("get", "", "namespaces", ""), "cleanup re-reads a namespace's labels before deleting it; upgrade verify attaches"),
    (p("delete", "", "namespaces", ""), "cleanup"),
    (p("list", "", "namespaces", ""), "`cleanup` and `upgrade verify` find the harness's namespaces by label"),
    (p("watch", "", "namespaces", ""), "cleanup waits for its namespace to be gone"),
    (p("get", "", "pods", ""), "exec names the pod's first container"),
    (p("delete", "", "pods", ""), "deletePod steps"),
    (p("create", "", "pods", "exec"), "hostname, tokens, DNS and HTTP probes (websocket exec on 1.30+)"),
    (p("get", "", "pods", "exec"), "the same, on API servers before websocket exec was authorized as create"),
    (p("get", "", "pods", "log"), "diagnostics of a failed scenario"),
    (p("delete", "apps", "statefulsets", ""), "deleteStatefulSet steps"),
    (p("patch", "apps", "statefulsets", "scale"), "scale steps"),
    (p("get", "apps", "statefulsets", "scale"), "apiSurface steps: the scale subresource"),
    (p("update", "apps", "statefulsets", "scale"), "apiSurface steps: the scale subresource"),
    (p("get", "apps", "statefulsets", "status"), "apiSurface steps: the status subresource"),
    (p("update", "apps", "statefulsets", "status"), "apiSurface steps: the status subresource"),
    (p("patch", "apps", "statefulsets", "status"), "apiSurface steps: the status subresource"),
    (p("deletecollection", "apps", "statefulsets", ""), "deleteCollection steps"),
    (p("get", "", "configmaps", ""), "upgrade verify reads its baseline"),
    (p("get", "", "persistentvolumes", ""), "cleanup re-reads a volume's labels before deleting it"),
    (p("delete", "", "persistentvolumes", ""), "cleanup of the run's static volumes"),
    (p("list", "storage.k8s.io", "storageclasses", ""), "preflight: a class for the claims"),
    (p("get", "", "services", ""), "preflight: cluster DNS (kube-system/kube-dns)"),
    (p("list", "discovery.k8s.io", "endpointslices", ""), "preflight: cluster DNS has ready endpoints"),
    (p("list", "", "nodes", ""), "preflight: whether the nodes run containers; DaemonSet scenarios record the nodes"),
    (p("watch", "", "nodes", ""), "DaemonSet scenarios record the nodes (labels, taints) their placement is judged against"),
    (p("list", "apps", "daemonsets", ""), "DaemonSet scenarios watch their DaemonSet"),
    (p("watch", "apps", "daemonsets", ""), "DaemonSet scenarios watch their DaemonSet"),
    (p("list", "batch", "cronjobs", ""), "CronJob scenarios watch their CronJob"),
    (p("watch", "batch", "cronjobs", ""), "CronJob scenarios watch their CronJob"),
];

/// Everything a run does, as permissions, each with what it is for — the one table preflight
/// asks about and `rbac` prints as a ClusterRole. Namespaced permissions are asked for all
/// namespaces, since a run's namespaces do not exist yet.
#[must_use]
pub fn permissions() -> Vec<(Permission, String)> {
    let mut out: Vec<(Permission, String)> = Vec::new();
    for &(group, resource) in APPLIED {
        for verb in APPLY {
            out.push((p(verb, group, resource, ""), "server-side apply".to_owned()));
        }
    }
    for &(group, resource) in WATCHED {
        for verb in ["list", "watch"] {
            out.push((p(verb, group, resource, ""), "the watches that record the timeline".to_owned()));
        }
    }
    out.extend(OTHER.iter().map(|(perm, why)| (*perm, (*why).to_owned())));
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|(perm, _)| seen.insert((perm.verb, perm.group, perm.resource, perm.subresource)));
    out
}

/// The table as a ClusterRole manifest (YAML) that grants exactly what a run needs.
#[must_use]
pub fn cluster_role(name: &str) -> String {
    use std::{collections::BTreeMap, fmt::Write as _};
    let mut rules: BTreeMap<(&str, String), Vec<&str>> = BTreeMap::new();
    for (perm, _) in permissions() {
        let resource = if perm.subresource.is_empty() {
            perm.resource.to_owned()
        } else {
            format!("{}/{}", perm.resource, perm.subresource)
        };
        let verbs = rules.entry((perm.group, resource)).or_default();
        if !verbs.contains(&perm.verb) {
            verbs.push(perm.verb);
        }
    }
    let mut out = format!(
        "# What sts-conformance needs, generated from its preflight table.\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {name}\nrules:\n"
    );
    for ((group, resource), mut verbs) in rules {
        verbs.sort_unstable();
        let _ = writeln!(
            out,
            "- apiGroups: [\"{group}\"]\n  resources: [\"{resource}\"]\n  verbs: [{}]",
            verbs.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
        );
    }
    out
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let group = if self.group.is_empty() { String::new() } else { format!(".{}", self.group) };
        let sub = if self.subresource.is_empty() { String::new() } else { format!("/{}", self.subresource) };
        write!(f, "{} {}{group}{sub}", self.verb, self.resource)
    }
}

/// What preflight found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// `major.minor` of the API server, e.g. `v1.33.1`.
    pub server_version: String,
    /// One line per problem, each saying what to do.
    pub problems: Vec<String>,
    /// Capabilities the cluster lacks, each with what was found.
    pub missing: Missing,
}

/// How long the first contact may take: a dead API server, or a credential plugin that never
/// returns, ends in an environment error instead of a hang.
const CONTACT_BOUND: Duration = Duration::from_secs(30);

/// How many access reviews are in flight at once.
const CONCURRENT_REVIEWS: usize = 8;

/// Runs every check; never creates or changes anything (access reviews only ask).
///
/// `classes` are the storage classes the scenarios' claims need a provisioner for (`None`: the
/// cluster's default class).
pub async fn run(client: &Client, classes: &[Option<String>]) -> Findings {
    let mut findings = Findings::default();
    match tokio::time::timeout(CONTACT_BOUND, client.apiserver_version()).await {
        Ok(Ok(info)) => findings.server_version = info.git_version,
        Ok(Err(e)) => {
            // Nothing else can work; say so once.
            findings
                .problems
                .push(format!("{}. Is the cluster running? (`kubectl cluster-info`)", explain("contacting the API server", &e)));
            return findings;
        }
        Err(_) => {
            findings.problems.push(format!(
                "contacting the API server: no answer within {}s (is it running? does the kubeconfig's credential plugin hang?)",
                CONTACT_BOUND.as_secs()
            ));
            return findings;
        }
    }
    let (permissions, classes, capabilities) =
        tokio::join!(missing_permissions(client), storage_classes(client, classes), capabilities(client));
    findings.problems.extend(permissions);
    findings.problems.extend(classes);
    findings.missing = capabilities;
    findings
}

/// Asks the API server about every permission of [`permissions`], several at a time; one line
/// per permission the user lacks.
pub async fn missing_permissions(client: &Client) -> Vec<String> {
    use futures::StreamExt;
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let table = permissions();
    let answers: Vec<Option<String>> = futures::stream::iter(table.iter())
        .map(|(permission, why)| {
            let api = api.clone();
            async move {
                let review = SelfSubjectAccessReview {
                    spec: SelfSubjectAccessReviewSpec {
                        resource_attributes: Some(ResourceAttributes {
                            verb: Some(permission.verb.into()),
                            group: Some(permission.group.into()),
                            resource: Some(permission.resource.into()),
                            subresource: (!permission.subresource.is_empty()).then(|| permission.subresource.into()),
                            ..ResourceAttributes::default()
                        }),
                        ..SelfSubjectAccessReviewSpec::default()
                    },
                    ..SelfSubjectAccessReview::default()
                };
                let answer = tokio::time::timeout(CONTACT_BOUND, api.create(&PostParams::default(), &review)).await;
                match answer {
                    Ok(Ok(answer)) if answer.status.as_ref().is_some_and(|s| s.allowed) => None,
                    Ok(Ok(_)) => Some(format!("missing permission: {permission} (for {why})")),
                    Ok(Err(e)) => Some(explain(&format!("checking permission {permission}"), &e)),
                    Err(_) => Some(format!("checking permission {permission}: no answer within {}s", CONTACT_BOUND.as_secs())),
                }
            }
        })
        .buffered(CONCURRENT_REVIEWS)
        .collect()
        .await;
    let missing: Vec<String> = answers.into_iter().flatten().collect();
    if missing.iter().any(|m| m.starts_with("missing permission")) {
        let mut out = missing;
        out.push("`sts-conformance rbac` prints a ClusterRole that grants exactly what a run needs".into());
        return out;
    }
    missing
}

async fn storage_classes(client: &Client, needed: &[Option<String>]) -> Vec<String> {
    if needed.is_empty() {
        return vec![];
    }
    let classes = match Api::<StorageClass>::all(client.clone()).list(&Default::default()).await {
        Ok(list) => list.items,
        Err(e) => return vec![explain("listing storage classes", &e)],
    };
    let default = classes.iter().any(|c| {
        c.metadata.annotations.as_ref().is_some_and(|a| {
            a.get("storageclass.kubernetes.io/is-default-class").is_some_and(|v| v == "true")
                || a.get("storageclass.beta.kubernetes.io/is-default-class").is_some_and(|v| v == "true")
        })
    });
    let mut problems = Vec::new();
    for class in needed {
        match class {
            None if !default => problems.push(
                "no default StorageClass: the scenarios' claims need dynamic provisioning; mark one default or pass --storage-class"
                    .to_owned(),
            ),
            Some(name) if !classes.iter().any(|c| c.metadata.name.as_deref() == Some(name.as_str())) => {
                problems.push(format!("StorageClass {name} does not exist (the scenarios' claims or --storage-class name it)"));
            }
            _ => {}
        }
    }
    problems
}

/// The annotation kwok puts on the nodes it simulates.
pub const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// Which capabilities the cluster lacks: containers that run (no node that takes a pod without
/// tolerations is a kwok node), cluster DNS (`kube-system/kube-dns` with a ready endpoint).
pub async fn capabilities(client: &Client) -> Missing {
    let mut missing = Missing::new();
    match Api::<Node>::all(client.clone()).list(&Default::default()).await {
        Ok(nodes) => {
            // Where a pod without tolerations can go: schedulable, and no NoSchedule or
            // NoExecute taint (a tainted kwok node beside real ones runs none of them).
            let schedulable: Vec<&Node> = nodes
                .items
                .iter()
                .filter(|n| !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))
                .filter(|n| {
                    !n.spec
                        .iter()
                        .flat_map(|s| s.taints.iter().flatten())
                        .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
                })
                .collect();
            let simulated: Vec<&str> = schedulable
                .iter()
                .filter(|n| n.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(KWOK_NODE_ANNOTATION)))
                .filter_map(|n| n.metadata.name.as_deref())
                .collect();
            if schedulable.is_empty() {
                missing.insert(
                    Capability::Containers,
                    "no node takes a pod without tolerations (every node is cordoned or tainted)".into(),
                );
            } else if !simulated.is_empty() {
                missing.insert(
                    Capability::Containers,
                    format!("nodes {} are simulated by kwok and run no containers", simulated.join(", ")),
                );
            }
        }
        Err(e) => {
            missing.insert(Capability::Containers, explain("listing nodes", &e));
        }
    }
    let services: Api<Service> = Api::namespaced(client.clone(), "kube-system");
    match services.get_opt("kube-dns").await {
        Ok(Some(_)) => {
            let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), "kube-system");
            let selector = ListParams::default().labels("kubernetes.io/service-name=kube-dns");
            match slices.list(&selector).await {
                Ok(list) => {
                    let ready = list
                        .items
                        .iter()
                        .flat_map(|s| s.endpoints.iter())
                        .any(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true) && !e.addresses.is_empty());
                    if !ready {
                        missing.insert(Capability::ClusterDns, "Service kube-system/kube-dns has no ready endpoint".into());
                    }
                }
                Err(e) => {
                    missing.insert(Capability::ClusterDns, explain("listing the endpoints of kube-system/kube-dns", &e));
                }
            }
        }
        Ok(None) => {
            missing.insert(Capability::ClusterDns, "Service kube-system/kube-dns not found (no cluster DNS)".into());
        }
        Err(e) => {
            missing.insert(Capability::ClusterDns, explain("looking for cluster DNS (kube-system/kube-dns)", &e));
        }
    }
    missing
}
