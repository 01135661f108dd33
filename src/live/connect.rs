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
    // kube runs a kubeconfig's credential plugin (`exec`) synchronously while it builds the
    // client: on the blocking pool, so that a plugin that never returns is bounded too.
    let built = tokio::time::timeout(
        CLIENT_BOUND,
        tokio::task::spawn_blocking(move || {
            kube::client::ClientBuilder::try_from(config).map(|builder| builder.with_layer(&counting()).build())
        }),
    )
    .await;
    match built {
        Ok(Ok(Ok(client))) => Ok(client),
        Ok(Ok(Err(e))) => Err(EnvironmentError(format!("cannot build a Kubernetes client: {e}"))),
        Ok(Err(e)) => Err(EnvironmentError(format!("cannot build a Kubernetes client: {e}"))),
        Err(_) => Err(EnvironmentError(format!(
            "the kubeconfig's credential plugin did not answer within {}s; nothing was created",
            CLIENT_BOUND.as_secs()
        ))),
    }
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
