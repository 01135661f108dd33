//! Preflight: before anything is created, check that the cluster can run the scenarios —
//! reachable, the harness's own permissions (every missing one reported, not just the first),
//! a StorageClass for the claims that need one, cluster DNS.

use k8s_openapi::api::{
    authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec},
    core::v1::Service,
    storage::v1::StorageClass,
};
use kube::{Api, Client, api::PostParams};

use super::connect::explain;

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

/// Everything a run does, as permissions (namespaced ones are asked for all namespaces, since
/// the run's namespace does not exist yet).
pub const PERMISSIONS: &[Permission] = &[
    p("create", "", "namespaces", ""),
    p("get", "", "namespaces", ""),
    p("delete", "", "namespaces", ""),
    p("list", "", "namespaces", ""),
    p("create", "", "pods", ""),
    p("get", "", "pods", ""),
    p("list", "", "pods", ""),
    p("watch", "", "pods", ""),
    p("delete", "", "pods", ""),
    p("patch", "", "pods", ""),
    p("create", "", "pods", "exec"),
    p("get", "", "pods", "log"),
    p("create", "apps", "statefulsets", ""),
    p("patch", "apps", "statefulsets", ""),
    p("get", "apps", "statefulsets", ""),
    p("list", "apps", "statefulsets", ""),
    p("watch", "apps", "statefulsets", ""),
    p("delete", "apps", "statefulsets", ""),
    p("patch", "apps", "statefulsets", "scale"),
    p("create", "apps", "deployments", ""),
    p("patch", "apps", "deployments", ""),
    p("create", "", "services", ""),
    p("patch", "", "services", ""),
    p("list", "", "services", ""),
    p("watch", "", "services", ""),
    p("create", "", "secrets", ""),
    p("patch", "", "secrets", ""),
    p("list", "", "secrets", ""),
    p("watch", "", "secrets", ""),
    p("create", "", "configmaps", ""),
    p("patch", "", "configmaps", ""),
    p("list", "", "persistentvolumeclaims", ""),
    p("watch", "", "persistentvolumeclaims", ""),
    p("create", "", "persistentvolumes", ""),
    p("patch", "", "persistentvolumes", ""),
    p("get", "", "persistentvolumes", ""),
    p("list", "", "persistentvolumes", ""),
    p("watch", "", "persistentvolumes", ""),
    p("delete", "", "persistentvolumes", ""),
    p("list", "", "events", ""),
    p("watch", "", "events", ""),
    p("list", "storage.k8s.io", "storageclasses", ""),
];

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
}

/// Runs every check; never creates or changes anything.
///
/// `classes` are the storage classes the scenarios' claims need a provisioner for (`None`: the
/// cluster's default class).
pub async fn run(client: &Client, classes: &[Option<String>]) -> Findings {
    let mut findings = Findings::default();
    match client.apiserver_version().await {
        Ok(info) => findings.server_version = info.git_version,
        Err(e) => {
            // Nothing else can work; say so once.
            findings
                .problems
                .push(format!("{}. Is the cluster running? (`kubectl cluster-info`)", explain("contacting the API server", &e)));
            return findings;
        }
    }
    findings.problems.extend(missing_permissions(client).await);
    findings.problems.extend(storage_classes(client, classes).await);
    findings.problems.extend(cluster_dns(client).await);
    findings
}

/// Asks the API server, once per permission, whether this user has it.
pub async fn missing_permissions(client: &Client) -> Vec<String> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut missing = Vec::new();
    for permission in PERMISSIONS {
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
        match api.create(&PostParams::default(), &review).await {
            Ok(answer) if answer.status.as_ref().is_some_and(|s| s.allowed) => {}
            Ok(_) => missing.push(format!("missing permission: {permission} (grant it to the user or service account in RBAC)")),
            Err(e) => missing.push(explain(&format!("checking permission {permission}"), &e)),
        }
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

async fn cluster_dns(client: &Client) -> Vec<String> {
    let api: Api<Service> = Api::namespaced(client.clone(), "kube-system");
    match api.get_opt("kube-dns").await {
        Ok(Some(_)) => vec![],
        Ok(None) => vec!["no cluster DNS: Service kube-system/kube-dns not found (install CoreDNS)".into()],
        Err(e) => vec![explain("looking for cluster DNS (kube-system/kube-dns)", &e)],
    }
}
