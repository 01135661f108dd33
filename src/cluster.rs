//! The one interface the runner talks to, at the level of intent.
//!
//! Two implementations: the built-in simulated cluster ([`crate::sim::SimCluster`]) and the
//! live backend on kube-rs. The runner performs actions and then pulls observations until the
//! step's condition holds; it never asks the backend whether a guarantee held — the checks
//! decide that from the observations alone.

pub use crate::timeline::ProbeError;
use crate::{
    manifest::Object,
    timeline::{Event, HttpResponse},
};

/// A failure of the cluster or its environment (not of a guarantee), typed so that a caller
/// can tell a refusal from a conflict, a throttled request, a broken connection or a timeout.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The API server answered with an error status.
    #[error("{doing}: {}", describe_status(*.code, .message))]
    Api {
        /// What the harness was doing.
        doing: String,
        /// HTTP status code (403, 409, 429, …).
        code: u16,
        /// The status's reason (`Forbidden`, `AlreadyExists`, …).
        reason: String,
        /// The API server's message.
        message: String,
        /// The client's error.
        #[source]
        source: Option<Box<kube::Error>>,
    },
    /// The API server could not be reached, or the connection broke.
    #[error("{doing}: cannot reach the API server: {source}")]
    Transport {
        /// What the harness was doing.
        doing: String,
        /// The client's error.
        #[source]
        source: Box<kube::Error>,
    },
    /// A request got no answer in time.
    #[error("{doing}: no answer from the API server within {}s", .after.as_secs())]
    Timeout {
        /// What the harness was doing.
        doing: String,
        /// How long it waited.
        after: std::time::Duration,
    },
    /// The run cannot observe its namespace: its watches could not start.
    #[error("{0}")]
    Watch(String),
    /// Cleanup could not remove everything the run created; says what is left and why.
    #[error("{0}")]
    Cleanup(String),
    /// The cluster refused the action for a reason of its own (the simulated cluster's
    /// refusals, a client that could not be built, a request the client could not make).
    #[error("{0}")]
    Refused(String),
}

/// An API status in words a user can act on.
fn describe_status(code: u16, message: &str) -> String {
    match code {
        401 => "401 Unauthorized — the kubeconfig's credentials were refused (expired token?)".to_owned(),
        403 => format!("403 Forbidden — {message}"),
        404 => format!("404 Not Found — {message}"),
        409 => format!("409 Conflict — {message}"),
        410 => format!("410 Gone — {message}"),
        422 => format!("rejected by the API server — {message}"),
        429 => format!("429 Too Many Requests — the API server is throttling: {message}"),
        code => format!("HTTP {code} — {message}"),
    }
}

impl ClusterError {
    /// The error as a probe's result: a refusal that says something of the cluster (a request
    /// the API server judged and refused: not found, not allowed by the API, invalid) is an
    /// answer; one that says only that the harness could not ask (unreachable, not authorized,
    /// a conflict or throttle that did not settle, a server error) is a call not made.
    #[must_use]
    pub fn into_probe_error(self) -> ProbeError {
        match self.code() {
            Some(code) if (400..500).contains(&code) && ![401, 403, 409, 429].contains(&code) => {
                ProbeError::Answered(self.to_string())
            }
            _ => ProbeError::not_run(self.to_string()),
        }
    }

    /// The error of a kube request made while `doing`.
    #[must_use]
    pub fn kube(doing: impl Into<String>, error: kube::Error) -> Self {
        let doing = doing.into();
        match error {
            kube::Error::Api(status) => Self::Api {
                doing,
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
                source: Some(Box::new(kube::Error::Api(status))),
            },
            e @ (kube::Error::HyperError(_) | kube::Error::Service(_)) => Self::Transport { doing, source: Box::new(e) },
            other => Self::Refused(format!("{doing}: {other}")),
        }
    }

    /// The HTTP status code, when the API server answered.
    #[must_use]
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: throttling, an API server that is restarting or
    /// overloaded, a broken connection, no answer.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { code, .. } => matches!(code, 429 | 500 | 502 | 503 | 504),
            Self::Transport { .. } | Self::Timeout { .. } => true,
            Self::Watch(_) | Self::Cleanup(_) | Self::Refused(_) => false,
        }
    }
}

/// What `exec` runs inside a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecCommand {
    /// `hostname`.
    Hostname,
    /// Write `content` to `path` (creating or replacing it).
    Write {
        /// Absolute path of the file inside the pod's first container.
        path: String,
        /// What the file holds afterwards.
        content: String,
    },
    /// Print the file at `path`.
    Read {
        /// Absolute path of the file inside the pod's first container.
        path: String,
    },
    /// Move the file at `path` to `<path>.unready`, so that a readiness probe that depends on
    /// it fails; done already when only `<path>.unready` is there, an error when neither is.
    MoveAway {
        /// Absolute path of the file inside the pod's first container.
        path: String,
    },
    /// Move `<path>.unready` back to `path`, when it is there (a pod created since the file was
    /// moved away has its own).
    MoveBack {
        /// Absolute path of the file inside the pod's first container.
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
            ExecCommand::MoveAway { path } => {
                vec![
                    "sh".into(),
                    "-c".into(),
                    "if [ -e \"$1.unready\" ] && [ ! -e \"$1\" ]; then exit 0; fi; mv -f -- \"$1\" \"$1.unready\"".into(),
                    "sh".into(),
                    path.clone(),
                ]
            }
            ExecCommand::MoveBack { path } => vec![
                "sh".into(),
                "-c".into(),
                "if [ -e \"$1.unready\" ]; then mv -f -- \"$1.unready\" \"$1\"; fi".into(),
                "sh".into(),
                path.clone(),
            ],
        }
    }
}

/// `http://HOST:PORT/PATH`, with an IPv6 address in brackets as URLs require.
#[must_use]
pub fn http_url(host: &str, port: u16, path: &str) -> String {
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("http://[{host}]:{port}{path}")
    } else {
        format!("http://{host}:{port}{path}")
    }
}

/// Host (without brackets), port (80 when absent) and path of an `http://` URL.
#[must_use]
pub fn parse_http_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, 80),
        }
    };
    (!host.is_empty()).then(|| (host.to_owned(), port, path))
}

/// The answer to an HTTP probe: where the connection went, and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The address the URL's host resolved to.
    pub address: Option<String>,
    /// Status and body, or why there is none.
    pub response: Result<HttpResponse, ProbeError>,
}

/// What only some scenarios need recorded, so that a user whose permissions stop short of it
/// loses nothing elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observe {
    /// The cluster's nodes (labels, taints, schedulability) and the namespace's DaemonSets: a
    /// DaemonSet's placement is judged against the nodes.
    Nodes,
    /// The namespace's CronJobs (schedule, policies, status).
    CronJobs,
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

    /// From now on, also report `what` as observations, for a scenario that needs it (see
    /// [`Observe`]); reports what exists as a watch's initial list does before it returns.
    async fn observe(&mut self, what: Observe) -> Result<(), ClusterError>;

    /// The data of a ConfigMap in the namespace, if it exists.
    async fn read_config_map(&mut self, name: &str) -> Result<Option<std::collections::BTreeMap<String, String>>, ClusterError>;

    /// Creates or updates an object (server-side apply).
    async fn apply(&mut self, object: &Object) -> Result<(), ClusterError>;

    /// Sets a StatefulSet's replicas through the scale subresource.
    async fn scale(&mut self, set: &str, replicas: u32) -> Result<(), ClusterError>;

    /// Sets one container's image in a StatefulSet's template.
    async fn set_image(&mut self, set: &str, container: &str, image: &str) -> Result<(), ClusterError>;

    /// Merge-patches a StatefulSet; returns its `metadata.generation` after the patch, when the
    /// cluster reports one.
    async fn patch_statefulset(&mut self, set: &str, merge: &serde_json::Value) -> Result<Option<i64>, ClusterError>;

    /// Deletes a pod (default grace period).
    async fn delete_pod(&mut self, pod: &str) -> Result<(), ClusterError>;

    /// Makes a pod fail: sets its `spec.activeDeadlineSeconds` to 1 (a field a pod's update may
    /// set), so that its kubelet ends it with phase Failed, reason `DeadlineExceeded`.
    async fn fail_pod(&mut self, pod: &str) -> Result<(), ClusterError>;

    /// Merge-patches a pod (its labels or owner references: what scenario validation allows).
    async fn patch_pod(&mut self, pod: &str, merge: &serde_json::Value) -> Result<(), ClusterError>;

    /// Deletes a StatefulSet (background cascade, as `kubectl delete`).
    async fn delete_statefulset(&mut self, set: &str) -> Result<(), ClusterError>;

    /// Makes one request about the namespace's StatefulSets (a subresource, a list, a
    /// delete-collection) and reports what the API server answered: the facts of the object or
    /// list returned, a refusal ([`ProbeError::Answered`]), or why no answer came
    /// ([`ProbeError::NotRun`]: unreachable, not authorized, a conflict that did not settle).
    async fn call_api(&mut self, request: &crate::timeline::ApiCall) -> Result<crate::timeline::ApiAnswer, ProbeError>;

    /// Runs a command in a pod's first container; stdout, or the error.
    async fn exec(&mut self, pod: &str, command: &ExecCommand) -> Result<String, ProbeError>;

    /// Resolves a name from a pod in the namespace: addresses, or the error (`NXDOMAIN`).
    async fn resolve(&mut self, name: &str) -> Result<Vec<String>, ProbeError>;

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
    fn urls_bracket_ipv6_and_parse_back() {
        assert_eq!(http_url("10.0.0.7", 80, "/"), "http://10.0.0.7:80/");
        assert_eq!(http_url("fd00:10:244::7", 8080, "x"), "http://[fd00:10:244::7]:8080/x");
        assert_eq!(parse_http_url("http://[fd00:10:244::7]:8080/x"), Some(("fd00:10:244::7".into(), 8080, "/x".into())));
        assert_eq!(parse_http_url("http://[fd00::1]/"), Some(("fd00::1".into(), 80, "/".into())));
        assert_eq!(parse_http_url("http://web-0.nginx:8080/x"), Some(("web-0.nginx".into(), 8080, "/x".into())));
        assert_eq!(parse_http_url("http://10.0.0.1"), Some(("10.0.0.1".into(), 80, "/".into())));
        assert_eq!(parse_http_url("http://[fd00::1"), None);
        assert_eq!(parse_http_url("ftp://x"), None);
    }

    #[test]
    fn write_passes_content_as_an_argument_not_as_script() {
        let argv = ExecCommand::Write { path: "/d/f".into(), content: "a'; rm -rf /".into() }.argv();
        assert_eq!(argv[2], "printf '%s\\n' \"$1\" > \"$2\" && sync");
        assert_eq!(argv[4], "a'; rm -rf /");
        assert_eq!(argv[5], "/d/f");
    }

    /// Runs `command` as a container's shell would (`sh` here), in a scratch file system.
    fn run(command: &ExecCommand) -> bool {
        let argv = command.argv();
        std::process::Command::new(&argv[0]).args(&argv[1..]).status().expect("sh runs").success()
    }

    #[test]
    fn a_file_moved_away_comes_back_and_moving_twice_is_harmless() {
        let dir = tempfile::tempdir().expect("scratch dir");
        let file = dir.path().join("index page.html");
        std::fs::write(&file, "hi").expect("written");
        let path = file.to_string_lossy().into_owned();
        let away = dir.path().join("index page.html.unready");
        assert!(run(&ExecCommand::MoveAway { path: path.clone() }));
        assert!(!file.exists() && away.exists());
        // Already away (a pod held unready once more): done, not an error.
        assert!(run(&ExecCommand::MoveAway { path: path.clone() }));
        assert!(run(&ExecCommand::MoveBack { path: path.clone() }));
        assert_eq!(std::fs::read_to_string(&file).expect("back"), "hi");
        assert!(!away.exists());
        // Nothing to move back (a pod created since): done.
        assert!(run(&ExecCommand::MoveBack { path: path.clone() }));
        // Neither there: the probe's file is not where the scenario says.
        assert!(!run(&ExecCommand::MoveAway { path: dir.path().join("missing").to_string_lossy().into_owned() }));
    }
}
