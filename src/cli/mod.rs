//! The command line: `run`, `validate`, `list`, `analyze`, `selftest`, `cleanup`, `upgrade`
//! (`prepare`, `verify`), `sim` (the simulated cluster's saved state), `schema` and `rbac`.
//!
//! Exit codes (one table, applied in one place — [`ExitCode`]):
//! 0 every claim held; 1 a claim failed or a step could not complete; 2 bad input (scenario,
//! manifest, flags); 3 cluster or environment problem.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

mod analyze;
mod cleanup;
mod run;
mod selftest;
mod upgrade;

pub use self::{
    analyze::{AnalyzeArgs, PolicyArg},
    cleanup::CleanupArgs,
    run::RunArgs,
    selftest::SelftestArgs,
};

use crate::{
    live, report,
    scenario::{self, Scenario},
    sim::Fault,
};

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Every claim held.
    Pass = 0,
    /// A claim failed, or a step could not complete.
    ClaimFailed = 1,
    /// Bad input: scenario, manifest or flags.
    BadInput = 2,
    /// The cluster or the environment is not usable.
    Environment = 3,
}

/// Proves, claim by claim and with evidence from the cluster's own history, that StatefulSets
/// behave as Kubernetes documents.
#[derive(Debug, Parser)]
#[command(name = "sts-conformance", version, about)]
pub struct Cli {
    /// Log what the harness does to stderr (-v debug, -vv trace); `RUST_LOG` overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenarios against the current kubeconfig context, or the simulated cluster (--sim).
    Run(Box<RunArgs>),
    /// Check scenarios and their manifests offline.
    Validate {
        /// Scenario files or directories.
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// List scenarios, or (--claims) which scenarios cover each documented claim.
    List {
        /// Scenario files or directories.
        #[arg(long, default_value = "scenarios")]
        scenarios: Vec<PathBuf>,
        /// List claims and their covering scenarios.
        #[arg(long)]
        claims: bool,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Judge a `kubectl get pods -w` transcript, or a timeline file written by `run --output-dir`.
    Analyze(AnalyzeArgs),
    /// Prove the checks on the simulated cluster: every scenario must pass, and each fault
    /// must be caught by the check meant for it and by no other.
    Selftest(SelftestArgs),
    /// Delete what earlier runs left behind (namespaces and volumes labelled as the harness's).
    Cleanup(CleanupArgs),
    /// Cluster upgrade validation: `prepare` before the upgrade, `verify` after.
    #[command(subcommand)]
    Upgrade(upgrade::UpgradeCommand),
    /// Act on the simulated cluster's saved state (`sim upgrade`).
    #[command(subcommand)]
    Sim(upgrade::SimCommand),
    /// Print the JSON Schema of the scenario format (for editors).
    Schema,
    /// Print a ClusterRole granting exactly what a run needs (the table preflight checks).
    Rbac {
        /// The ClusterRole's name.
        #[arg(long, default_value = "sts-conformance")]
        name: String,
    },
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse()
}

/// A DNS subdomain (a cluster domain, a storage class name), as the API server requires.
pub(crate) fn parse_dns_subdomain(text: &str) -> Result<String, String> {
    if crate::manifest::is_dns_subdomain(text) {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not a DNS subdomain (lowercase letters, digits, '-' and '.')"))
    }
}

/// An image reference: not empty, no whitespace.
pub(crate) fn parse_image(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        Err(format!("{text:?} is not an image reference"))
    } else {
        Ok(text.to_owned())
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// Runs the command line; returns the exit code.
pub fn main_with(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate { paths } => match load_all(&paths) {
            Ok(scenarios) => {
                crate::outln!("{} scenarios valid", scenarios.len());
                ExitCode::Pass
            }
            Err(code) => code,
        },
        Command::List { scenarios, claims, output } => list(&scenarios, claims, output),
        Command::Schema => {
            let schema = schemars::schema_for!(scenario::ScenarioDoc);
            crate::outln!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
            ExitCode::Pass
        }
        Command::Rbac { name } => {
            crate::out!("{}", live::cluster_role(&name));
            ExitCode::Pass
        }
        Command::Run(args) => run::run(&args),
        Command::Analyze(args) => analyze::analyze_file(&args),
        Command::Selftest(args) => selftest::selftest(&args),
        Command::Cleanup(args) => cleanup::cleanup(&args),
        Command::Upgrade(command) => upgrade::upgrade(&command),
        Command::Sim(command) => upgrade::sim(&command),
    }
}

/// Loads every scenario under `paths`, printing every error; exit code 2 on any.
fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let files = scenario::discover(paths).map_err(|e| {
        crate::errln!("error: {e}");
        ExitCode::BadInput
    })?;
    if files.is_empty() {
        crate::errln!("error: no scenario files (kind: Scenario) under {paths:?}");
        return Err(ExitCode::BadInput);
    }
    let mut scenarios = Vec::new();
    let mut failed = false;
    for file in files {
        match scenario::load(&file) {
            Ok(s) => scenarios.push(s),
            Err(errors) => {
                failed = true;
                for e in errors.0 {
                    crate::errln!("error: {e}");
                }
            }
        }
    }
    let mut names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        crate::errln!("error: two scenarios are named {}", w[0]);
        failed = true;
    }
    if failed { Err(ExitCode::BadInput) } else { Ok(scenarios) }
}

fn list(paths: &[PathBuf], claims: bool, output: Output) -> ExitCode {
    let scenarios = match load_all(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if claims {
        let coverage = report::coverage(&scenarios);
        match output {
            Output::Json => {
                let items: Vec<serde_json::Value> =
                    coverage.iter().map(|(id, names)| serde_json::json!({"claim": id, "scenarios": names})).collect();
                crate::outln!("{}", serde_json::to_string_pretty(&items).unwrap_or_default());
            }
            Output::Text => {
                for (id, names) in coverage {
                    let required = crate::claims::find(id).is_some_and(|c| c.required);
                    let names = if names.is_empty() {
                        if required { "NOT COVERED".into() } else { "(later)".into() }
                    } else {
                        names.join(", ")
                    };
                    crate::outln!("{id:24} {names}");
                }
            }
        }
    } else {
        match output {
            Output::Json => {
                let items: Vec<serde_json::Value> = scenarios
                    .iter()
                    .map(
                        |s| serde_json::json!({"name": s.name, "description": s.description, "claims": s.claims, "file": s.file}),
                    )
                    .collect();
                crate::outln!("{}", serde_json::to_string_pretty(&items).unwrap_or_default());
            }
            Output::Text => {
                for s in &scenarios {
                    crate::outln!("{:28} {} ({} steps; claims {})", s.name, s.description, s.steps.len(), s.claims.join(", "));
                }
            }
        }
    }
    ExitCode::Pass
}

/// The variable that gives `--image-map` when the flag is absent (`ci/testbed.sh env` sets it).
pub const IMAGE_MAP_ENV: &str = "STS_CONFORMANCE_IMAGE_MAP";

/// Why `--image-map` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ImageMapError {
    /// An `@FILE` that cannot be read.
    #[error("--image-map @{file}: {source}")]
    Unreadable {
        /// The file as given.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An entry that is not FROM=TO; `origin` is `--image-map` or `FILE:LINE`.
    #[error("{origin}: {text:?}: expected FROM=TO")]
    Entry {
        /// Where the entry is.
        origin: String,
        /// The entry.
        text: String,
    },
}

/// The `--image-map` entries, files expanded; errors name the file and line.
///
/// # Errors
/// An entry that is not FROM=TO, or a file that cannot be read.
pub fn image_map(entries: &[String]) -> Result<Vec<(String, String)>, ImageMapError> {
    let mut map = Vec::new();
    let parse = |text: &str, origin: &dyn Fn() -> String| match text.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() => Ok((from.trim().to_owned(), to.trim().to_owned())),
        _ => Err(ImageMapError::Entry { origin: origin(), text: text.to_owned() }),
    };
    for entry in entries {
        match entry.strip_prefix('@') {
            Some(file) => {
                let text = std::fs::read_to_string(file)
                    .map_err(|source| ImageMapError::Unreadable { file: file.to_owned(), source })?;
                for (n, line) in text.lines().enumerate() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if !line.is_empty() {
                        map.push(parse(line, &|| format!("{file}:{}", n + 1))?);
                    }
                }
            }
            None => map.push(parse(entry, &|| "--image-map".to_owned())?),
        }
    }
    Ok(map)
}

/// The async runtime a subcommand runs on (one thread: the work is I/O and the sim's virtual
/// clock), or the exit code for a machine that cannot start one.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        crate::errln!("error: cannot start the async runtime: {e}");
        ExitCode::Environment
    })
}

/// A client for the kubeconfig context, or the reason printed and exit code 3.
pub(crate) async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<kube::Client, ExitCode> {
    match live::client(kubeconfig, context).await {
        Ok(client) => Ok(client),
        Err(e) => {
            crate::errln!("error: {e}");
            // Nothing exists yet to clean up, and a credential plugin that never returned may
            // still hold a thread the runtime would wait for on its way out.
            std::process::exit(ExitCode::Environment as i32);
        }
    }
}

/// A short random run id: 6 lowercase alphanumerics.
pub(crate) fn run_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..6).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn image_map_files_and_entries_expand_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("map.txt");
        std::fs::write(&file, "# mirrors\nregistry.k8s.io/ = mirror.local/k8s/\n\ndocker.io/=mirror.local/hub/ # hub\n")
            .expect("write");
        let entries = vec!["a/=b/".to_owned(), format!("@{}", file.display())];
        let map = super::image_map(&entries).expect("valid");
        assert_eq!(map[1], ("registry.k8s.io/".to_owned(), "mirror.local/k8s/".to_owned()));
        assert_eq!(map.len(), 3);
        std::fs::write(&file, "ok/=fine/\nbroken\n").expect("write");
        let err = super::image_map(&entries).expect_err("line 2 is broken").to_string();
        assert!(err.contains("map.txt:2") && err.contains("expected FROM=TO"), "{err}");
    }
}
