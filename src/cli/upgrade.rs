//! `upgrade prepare`, `upgrade verify` and `sim upgrade`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{ExitCode, connect, run_id, runtime};
use crate::{
    live, outputs,
    plan::PlanOptions,
    progress::{Mode, Printer},
    report,
    runner::{RunSettings, ScenarioReport},
    sim::{SimWorld, UpgradeFault},
    upgrade::{self, Baseline},
};

/// `upgrade` subcommands.
#[derive(Debug, Subcommand)]
pub enum UpgradeCommand {
    /// Before an upgrade: create the upgrade workload, write tokens, record a baseline.
    Prepare(UpgradeArgs),
    /// After an upgrade: check identity, storage, data and DNS against the baseline, then
    /// exercise the StatefulSets with the ordinary checks.
    Verify(VerifyArgs),
}

/// Options of both `upgrade` subcommands.
#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Use the simulated cluster whose state is in --sim-state.
    #[arg(long, requires = "sim_state")]
    pub sim: bool,
    /// The simulated cluster's state file (created by prepare, read and updated by the others).
    #[arg(long, value_name = "FILE")]
    pub sim_state: Option<PathBuf>,
    /// Also write the baselines to (prepare) or read them from (verify) this JSON file,
    /// instead of the ConfigMaps in the prepared namespaces.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Where the seed manifests are.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: PathBuf,
    /// Cluster DNS domain.
    #[arg(long, default_value = "cluster.local", value_parser = super::parse_dns_subdomain)]
    pub cluster_domain: String,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current one).
    #[arg(long)]
    pub context: Option<String>,
    /// Image of the DNS/HTTP probe pod.
    #[arg(long, value_name = "IMAGE", default_value = live::DEFAULT_PROBE_IMAGE, value_parser = super::parse_image)]
    pub probe_image: String,
    /// Rewrite image prefixes, as `run --image-map` (the workload's and the probe's images).
    #[arg(long = "image-map", value_name = "FROM=TO|@FILE", env = super::IMAGE_MAP_ENV)]
    pub image_map: Vec<String>,
    /// Print only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `upgrade verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What prepare also took.
    #[command(flatten)]
    pub common: UpgradeArgs,
    /// Delete the prepared namespaces after verifying.
    #[arg(long)]
    pub cleanup: bool,
    /// Write a JUnit XML report.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write DIR/<workload>/timeline.jsonl, verdicts.json (and diagnostics.txt on failure).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `sim` subcommands.
#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Upgrade the simulated cluster node by node: every pod drained and recreated, volumes
    /// untouched, a new server version.
    Upgrade {
        /// The simulated cluster's state file.
        #[arg(long, value_name = "FILE")]
        sim_state: PathBuf,
        /// Make the upgrade misbehave (repeatable).
        #[arg(long = "sim-fault", value_name = "NAME", value_parser = parse_upgrade_fault)]
        faults: Vec<UpgradeFault>,
    },
}

fn parse_upgrade_fault(text: &str) -> Result<UpgradeFault, String> {
    text.parse()
}

/// Runs `sim upgrade`.
pub fn sim(command: &SimCommand) -> ExitCode {
    let SimCommand::Upgrade { sim_state, faults } = command;
    let mut world = match SimWorld::load(sim_state) {
        Ok(w) => w,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    };
    if world.clusters.is_empty() {
        crate::errln!("error: {}: the simulated cluster is empty (run `upgrade prepare --sim` first)", sim_state.display());
        return ExitCode::BadInput;
    }
    let from = world.server_version.clone();
    world.upgrade(faults);
    for fault in faults {
        crate::outln!("injected upgrade fault {}: {}", fault.name(), fault.description());
    }
    crate::outln!(
        "upgraded the simulated cluster from {from} to {}: {} namespaces drained pod by pod",
        world.server_version,
        world.clusters.len()
    );
    match world.save(sim_state) {
        Ok(()) => ExitCode::Pass,
        Err(e) => {
            crate::errln!("error: {e}");
            ExitCode::Environment
        }
    }
}

/// Runs `upgrade prepare` or `upgrade verify`.
pub fn upgrade(command: &UpgradeCommand) -> ExitCode {
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match command {
        UpgradeCommand::Prepare(args) => runtime.block_on(prepare(args)),
        UpgradeCommand::Verify(args) => runtime.block_on(verify(args)),
    }
}

async fn prepare(args: &UpgradeArgs) -> ExitCode {
    let workloads = match upgrade::workloads(&args.scenarios) {
        Ok(w) => w,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    };
    let settings = RunSettings { cluster_domain: args.cluster_domain.clone(), ..RunSettings::default() };
    let mut options = PlanOptions::new(run_id());
    match super::image_map(&args.image_map) {
        Ok(map) => drop(options.image_map.splice(0..0, map)),
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    }
    let mut printer = Printer::new(Mode::detect(args.quiet));
    let baselines = if let (true, Some(state)) = (args.sim, &args.sim_state) {
        let mut world = match SimWorld::load(state) {
            Ok(w) => w,
            Err(e) => {
                crate::errln!("error: {e}");
                return ExitCode::BadInput;
            }
        };
        let result = upgrade::sim_prepare(&mut world, &workloads, &options, &settings, &mut |e| printer.report(e)).await;
        if let Err(e) = world.save(state) {
            crate::errln!("error: {e}");
            return ExitCode::Environment;
        }
        result
    } else {
        let client = match connect(args.kubeconfig.as_deref(), args.context.as_deref()).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        let findings = live::preflight(&client, &[None]).await;
        if !findings.problems.is_empty() {
            crate::errln!("error: the cluster cannot run the upgrade workload; nothing was created:");
            for p in &findings.problems {
                crate::errln!("  - {p}");
            }
            return ExitCode::Environment;
        }
        let mut baselines = Vec::new();
        let mut failure = None;
        for workload in &workloads {
            let mut cluster = live::LiveCluster::new(client.clone(), &options.map_image(&args.probe_image)).keeping(true);
            match upgrade::prepare(&mut cluster, workload, &options, &settings, &findings.server_version, &mut |e| {
                printer.report(e)
            })
            .await
            {
                Ok((b, _)) => baselines.push(b),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(baselines),
        }
    };
    drop(printer);
    let baselines = match baselines {
        Ok(b) => b,
        Err(e) => {
            crate::errln!(
                "error: preparing the upgrade workload failed: {e}\n(`sts-conformance cleanup` removes what was created)"
            );
            return ExitCode::ClaimFailed;
        }
    };
    if let Some(file) = &args.baseline {
        let text = serde_json::to_string_pretty(&baselines).unwrap_or_default();
        if let Err(e) = std::fs::write(file, text + "\n") {
            crate::errln!("error: cannot write {}: {e}", file.display());
            return ExitCode::BadInput;
        }
    }
    for b in &baselines {
        crate::outln!(
            "prepared {} in namespace {}: statefulset {} ({} pods, tokens written), baseline in configmap {}",
            b.workload,
            b.namespace,
            b.statefulset,
            b.pods.len(),
            upgrade::BASELINE_CONFIG_MAP
        );
    }
    crate::outln!("Left running for the upgrade. Afterwards: sts-conformance upgrade verify");
    ExitCode::Pass
}

fn read_baseline_file(file: &std::path::Path) -> Result<Vec<Baseline>, String> {
    let text = crate::input::read(file).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a baseline file: {e}", file.display()))
}

async fn verify(args: &VerifyArgs) -> ExitCode {
    let common = &args.common;
    let settings = RunSettings { cluster_domain: common.cluster_domain.clone(), ..RunSettings::default() };
    let mut images = PlanOptions::new("");
    match super::image_map(&common.image_map) {
        Ok(map) => drop(images.image_map.splice(0..0, map)),
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    }
    let probe_image = images.map_image(&common.probe_image);
    let mut printer = Printer::new(Mode::detect(common.quiet));
    let from_file = match common.baseline.as_deref().map(read_baseline_file).transpose() {
        Ok(b) => b,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    };
    let results = if let (true, Some(state)) = (common.sim, &common.sim_state) {
        let mut world = match SimWorld::load(state) {
            Ok(w) => w,
            Err(e) => {
                crate::errln!("error: {e}");
                return ExitCode::BadInput;
            }
        };
        let baselines = match from_file {
            Some(b) => b,
            None => match upgrade::sim_baselines(&mut world).await {
                Ok(b) => b,
                Err(e) => {
                    crate::errln!("error: {e}");
                    return ExitCode::BadInput;
                }
            },
        };
        if baselines.is_empty() {
            crate::errln!(
                "error: nothing to verify: no prepared namespace in {} (run `upgrade prepare --sim` first)",
                state.display()
            );
            return ExitCode::BadInput;
        }
        let results = upgrade::sim_verify(&mut world, &baselines, &settings, args.cleanup, &mut |e| printer.report(e)).await;
        if let Err(e) = world.save(state) {
            crate::errln!("error: {e}");
            return ExitCode::Environment;
        }
        results
    } else {
        let client = match connect(common.kubeconfig.as_deref(), common.context.as_deref()).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        let baselines = match from_file {
            Some(b) => b,
            None => match upgrade::live_baselines(&client).await {
                Ok(b) => b,
                Err(e) => {
                    crate::errln!("error: {e}");
                    return ExitCode::Environment;
                }
            },
        };
        if baselines.is_empty() {
            crate::errln!(
                "error: nothing to verify: no namespace labelled {}=prepared (run `upgrade prepare` first)",
                upgrade::UPGRADE_LABEL
            );
            return ExitCode::BadInput;
        }
        let mut results = Vec::new();
        for baseline in &baselines {
            let mut cluster = live::LiveCluster::new(client.clone(), &probe_image).keeping(!args.cleanup);
            results.push(upgrade::verify(&mut cluster, baseline, &settings, &mut |e| printer.report(e)).await);
        }
        results
    };
    drop(printer);
    let reports: Vec<ScenarioReport> = results.iter().map(|(_, r)| r.clone()).collect();
    if let Some(dir) = &args.output_dir {
        for (scenario, report) in &results {
            if let Err(e) = outputs::write_output_dir(dir, scenario, report, &settings.cluster_domain) {
                crate::errln!("error: cannot write {}: {e}", dir.display());
                return ExitCode::BadInput;
            }
        }
    }
    if let Some(file) = &args.junit
        && let Err(e) = outputs::write_junit(file, &reports)
    {
        crate::errln!("error: cannot write {}: {e}", file.display());
        return ExitCode::BadInput;
    }
    crate::out!("\n{}", report::summary_table(&reports, 160));
    if reports.iter().any(ScenarioReport::failed) { ExitCode::ClaimFailed } else { ExitCode::Pass }
}
