//! Connecting to a cluster like kubectl does, and saying clearly why it failed.

use std::{path::Path, time::Duration};

use kube::{
    Client, Config,
    config::{KubeConfigOptions, Kubeconfig},
};

/// Why the harness cannot use the cluster (exit code 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EnvironmentError(pub String);

/// A client for the current kubeconfig context (or `context`), from `kubeconfig` when given,
/// else `$KUBECONFIG` / `~/.kube/config`, else the in-cluster service account.
///
/// # Errors
/// No kubeconfig, an unknown context, an unreadable file, or a client that cannot be built.
pub async fn client(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Client, EnvironmentError> {
    client_within(kubeconfig, context, CLIENT_BOUND).await
}

/// [`client`], with the bound on building it (a credential plugin runs meanwhile).
async fn client_within(kubeconfig: Option<&Path>, context: Option<&str>, bound: Duration) -> Result<Client, EnvironmentError> {
    let options = KubeConfigOptions { context: context.map(str::to_owned), ..KubeConfigOptions::default() };
    let config: Result<Config, String> = match kubeconfig {
        Some(path) => match Kubeconfig::read_from(path) {
            Ok(file) => Config::from_custom_kubeconfig(file, &options).await.map_err(|e| e.to_string()),
            Err(e) => Err(format!("cannot read kubeconfig {}: {e}", path.display())),
        },
        None if context.is_some() => Config::from_kubeconfig(&options).await.map_err(|e| e.to_string()),
        None => Config::infer().await.map_err(|e| e.to_string()),
    };
    let mut config = config.map_err(|e| {
        EnvironmentError(format!(
            "no usable Kubernetes cluster: {e}.\nCreate one with `kind create cluster` or `minikube start`, \
             choose one with --kubeconfig/--context, or run on the simulated cluster with --sim."
        ))
    })?;
    config.connect_timeout = Some(Duration::from_secs(5));
    let children_before = children();
    // kube runs a kubeconfig's credential plugin (`exec`) synchronously while it builds the
    // client: on the blocking pool, so that a plugin that never returns is bounded too.
    let built = tokio::time::timeout(
        bound,
        tokio::task::spawn_blocking(move || {
            kube::client::ClientBuilder::try_from(config).map(|builder| builder.with_layer(&counting()).build())
        }),
    )
    .await;
    match built {
        Ok(Ok(Ok(client))) => Ok(client),
        Ok(Ok(Err(e))) => Err(EnvironmentError(format!("cannot build a Kubernetes client: {e}"))),
        Ok(Err(e)) => Err(EnvironmentError(format!("cannot build a Kubernetes client: {e}"))),
        Err(_) => {
            // The plugin is a process this run started: it is stopped, not left behind.
            let stopped = stop(children().difference(&children_before));
            Err(EnvironmentError(format!(
                "the kubeconfig's credential plugin did not answer within {}s ({stopped} process stopped); nothing was created",
                bound.as_secs()
            )))
        }
    }
}

/// The PIDs of this process's children (Linux `/proc`; empty elsewhere).
fn children() -> std::collections::BTreeSet<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else { return std::collections::BTreeSet::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
                stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok()) == Some(me)
            })
        })
        .collect()
}

/// Sends SIGTERM to each of `pids` (children this process started); how many were signalled.
fn stop<'p>(pids: impl Iterator<Item = &'p u32>) -> usize {
    pids.filter(|pid| {
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
    .count()
}

/// Requests sent to the API server by every client [`client`] built in this process.
static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The number of requests clients from [`client`] have sent to the API server so far (each
/// watch counts once, however long it runs; each retry counts again).
#[must_use]
pub fn requests_sent() -> u64 {
    REQUESTS.load(std::sync::atomic::Ordering::Relaxed)
}

/// A layer that counts each request as it is sent.
fn counting() -> tower::util::MapRequestLayer<fn(http::Request<kube::client::Body>) -> http::Request<kube::client::Body>> {
    fn count(request: http::Request<kube::client::Body>) -> http::Request<kube::client::Body> {
        REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        request
    }
    tower::util::MapRequestLayer::new(count as fn(_) -> _)
}

/// How long building a client may take (a credential plugin runs meanwhile).
pub const CLIENT_BOUND: Duration = Duration::from_secs(30);

/// A kube error in words a user can act on; `doing` says what the harness was doing.
#[must_use]
pub fn explain(doing: &str, error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => match status.code {
            401 => format!("{doing}: 401 Unauthorized — the kubeconfig's credentials were refused (expired token?)"),
            403 => format!("{doing}: 403 Forbidden — {}", status.message),
            404 => format!("{doing}: 404 Not Found — {}", status.message),
            409 => format!("{doing}: 409 Conflict — {}", status.message),
            410 => format!("{doing}: 410 Gone — {}", status.message),
            422 => format!("{doing}: rejected by the API server — {}", status.message),
            code => format!("{doing}: HTTP {code} — {}", status.message),
        },
        kube::Error::HyperError(e) => format!("{doing}: cannot reach the API server: {e}"),
        kube::Error::Service(e) => format!("{doing}: cannot reach the API server: {e}"),
        other => format!("{doing}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_credential_plugin_that_never_answers_is_bounded_and_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("plugin-ran");
        let plugin = dir.path().join("plugin.sh");
        std::fs::write(&plugin, format!("#!/bin/sh\ntouch {}\nexec sleep 600\n", marker.display())).unwrap();
        std::process::Command::new("chmod").args(["+x", plugin.to_str().unwrap()]).status().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:1\"}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {}\n      interactiveMode: Never\n",
                plugin.display()
            ),
        )
        .unwrap();
        let before = children();
        let Err(error) = client_within(Some(&kubeconfig), None, Duration::from_secs(2)).await else {
            panic!("a client was built without credentials")
        };
        assert!(error.0.contains("did not answer within 2s (1 process stopped)"), "{error}");
        assert!(marker.exists(), "the plugin ran");
        // The plugin is gone (reaped by the thread that waited for it): no child of ours is left.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while children().difference(&before).next().is_some() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(children().difference(&before).count(), 0);
    }
}
