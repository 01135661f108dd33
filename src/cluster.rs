//! The one interface the runner talks to, at the level of intent.
//!
//! Two implementations: the built-in simulated cluster ([`crate::sim::SimCluster`]) and the
//! live backend on kube-rs. The runner performs actions and then pulls observations until the
//! step's condition holds; it never asks the backend whether a guarantee held — the checks
//! decide that from the observations alone.

use crate::{
    manifest::Object,
    timeline::{Event, HttpResponse},
};

/// A failure of the cluster or its environment (not of a guarantee).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(pub String);

/// What `exec` runs inside a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecCommand {
    /// `hostname`.
    Hostname,
    /// Write `content` to `path` (creating or replacing it).
    Write {
        /// File.
        path: String,
        /// Text.
        content: String,
    },
    /// Print the file at `path`.
    Read {
        /// File.
        path: String,
    },
}

impl ExecCommand {
    /// The command line a container runs for it (`sh -c` with positional arguments, so no
    /// content is ever interpreted by the shell).
    #[must_use]
    pub fn argv(&self) -> Vec<String> {
        match self {
            ExecCommand::Hostname => vec!["hostname".into()],
            ExecCommand::Write { path, content } => vec![
                "sh".into(),
                "-c".into(),
                "printf '%s\\n' \"$1\" > \"$2\" && sync".into(),
                "sh".into(),
                content.clone(),
                path.clone(),
            ],
            ExecCommand::Read { path } => vec!["cat".into(), "--".into(), path.clone()],
        }
    }
}

/// The answer to an HTTP probe: where the connection went, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The address the URL's host resolved to.
    pub address: Option<String>,
    /// Status and body, or the error.
    pub response: Result<HttpResponse, String>,
}

/// A cluster the runner can act on and observe.
#[allow(async_fn_in_trait)]
pub trait Cluster {
    /// Milliseconds since the run started (virtual on the simulated cluster).
    fn now_ms(&self) -> u64;

    /// Creates the run's namespace with the run's labels.
    async fn create_namespace(
        &mut self,
        namespace: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), ClusterError>;

    /// Uses a namespace the harness prepared earlier (an upgrade workload) instead of creating
    /// one: checks that it carries the harness's labels, and reports the objects in it as
    /// observations, as a watch's initial list does.
    async fn attach_namespace(
        &mut self,
        namespace: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), ClusterError>;

    /// The data of a ConfigMap in the namespace, if it exists.
    async fn read_config_map(&mut self, name: &str) -> Result<Option<std::collections::BTreeMap<String, String>>, ClusterError>;

    /// Creates or updates an object (server-side apply).
    async fn apply(&mut self, object: &Object) -> Result<(), ClusterError>;

    /// Sets a StatefulSet's replicas through the scale subresource.
    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), ClusterError>;

    /// Sets one container's image in a StatefulSet's template.
    async fn set_image(&mut self, set: &str, container: &str, image: &str) -> Result<(), ClusterError>;

    /// Merge-patches a StatefulSet.
    async fn patch_statefulset(&mut self, set: &str, merge: &serde_json::Value) -> Result<(), ClusterError>;

    /// Deletes a pod (default grace period).
    async fn delete_pod(&mut self, pod: &str) -> Result<(), ClusterError>;

    /// Deletes a StatefulSet (background cascade, as `kubectl delete`).
    async fn delete_statefulset(&mut self, set: &str) -> Result<(), ClusterError>;

    /// Runs a command in a pod's first container; stdout, or the error.
    async fn exec(&mut self, pod: &str, command: &ExecCommand) -> Result<String, String>;

    /// Resolves a name from a pod in the namespace: addresses, or the error (`NXDOMAIN`).
    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, String>;

    /// HTTP GET `url` from `from` (a pod of the scenario) or the harness's probe pod.
    async fn http_get(&mut self, from: Option<&str>, url: &str) -> HttpAnswer;

    /// The next observation, waiting until `deadline_ms` at the latest (then `None`).
    async fn next_observation(&mut self, deadline_ms: u64) -> Option<(u64, Event)>;

    /// The state of the run's namespace, for a person explaining a failure: events, pods with
    /// their state and conditions, container logs, claims and volumes. Never fails: what cannot
    /// be collected is said in the text.
    async fn diagnostics(&mut self) -> String;

    /// Deletes everything the run created.
    async fn cleanup(&mut self) -> Result<(), ClusterError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_passes_content_as_an_argument_not_as_script() {
        let argv = ExecCommand::Write { path: "/d/f".into(), content: "a'; rm -rf /".into() }.argv();
        assert_eq!(argv[2], "printf '%s\\n' \"$1\" > \"$2\" && sync");
        assert_eq!(argv[4], "a'; rm -rf /");
        assert_eq!(argv[5], "/d/f");
    }
}
