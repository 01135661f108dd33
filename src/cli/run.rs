//! `run`: the scenarios on the current cluster, or on the simulated one (`--sim`).

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
};

use clap::Args;

use super::{ExitCode, IMAGE_MAP_ENV, connect, image_map, load_all, parse_dns_subdomain, parse_fault, parse_image, run_id};
use crate::{
    live, outputs,
    plan::PlanOptions,
    progress::{Mode, Printer},
    report,
    runner::{self, RunSettings, ScenarioReport},
    scenario::Scenario,
    sim::{Fault, SimCluster},
};

/// `run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run on the built-in simulated cluster (no Kubernetes needed).
    #[arg(long)]
    pub sim: bool,
    /// Scenario files or directories.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: Vec<PathBuf>,
    /// Run only this scenario (repeatable).
    #[arg(long = "scenario", value_name = "NAME")]
    pub only: Vec<String>,
    /// Run only scenarios that cover this claim id (repeatable).
    #[arg(long = "claim", value_name = "ID")]
    pub claims: Vec<String>,
    /// Cluster DNS domain.
    #[arg(long, default_value = "cluster.local", value_parser = parse_dns_subdomain)]
    pub cluster_domain: String,
    /// Rewrite image prefixes, FROM=TO (repeatable), or @FILE with one FROM=TO per line (`#`
    /// comments); the first matching entry wins, and k8s.gcr.io/=registry.k8s.io/ is always
    /// on. The probe image is mapped too. Default: $STS_CONFORMANCE_IMAGE_MAP (one entry).
    #[arg(long = "image-map", value_name = "FROM=TO|@FILE", env = IMAGE_MAP_ENV)]
    pub image_map: Vec<String>,
    /// Storage class for claims that need dynamic provisioning.
    #[arg(long, value_parser = parse_dns_subdomain)]
    pub storage_class: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG — several files separated by `:` are merged as
    /// kubectl does — then ~/.kube/config, then the in-cluster service account).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current one).
    #[arg(long)]
    pub context: Option<String>,
    /// Write DIR/<scenario>/timeline.jsonl (the recorded history, readable by `analyze`),
    /// DIR/<scenario>/verdicts.json (claims, checks, verdicts, evidence) and, when the scenario
    /// failed, DIR/<scenario>/diagnostics.txt (the cluster's state before cleanup).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write a JUnit XML report: a test suite per scenario, a test case per claim.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write each scenario's normalized timeline to DIR/<scenario>.txt (a regression snapshot).
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    /// Compare each scenario's normalized timeline with DIR/<scenario>.txt; print the
    /// differences and exit 1 on any.
    #[arg(long, value_name = "DIR")]
    pub compare: Option<PathBuf>,
    /// Run up to N scenarios at once, each in its own namespace.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,
    /// Image of the pod that runs DNS and HTTP probes inside each namespace (needs `nslookup`,
    /// and `curl` or `wget`).
    #[arg(long, value_name = "IMAGE", default_value = live::DEFAULT_PROBE_IMAGE, value_parser = parse_image)]
    pub probe_image: String,
    /// Leave each scenario's namespace and objects in place (for debugging).
    #[arg(long)]
    pub keep: bool,
    /// Run on a cluster that lacks a capability some steps need (containers that run, cluster
    /// DNS): those steps do not run and their claims are reported `skipped` with the reason.
    /// Without it, a missing capability is an environment error (exit 3).
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Make the simulated cluster break one guarantee (repeatable; see `selftest --list`).
    #[arg(long = "sim-fault", value_name = "NAME", value_parser = parse_fault, requires = "sim")]
    pub sim_faults: Vec<Fault>,
    /// Print only the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

pub(super) fn run(args: &RunArgs) -> ExitCode {
    let image_map = match image_map(&args.image_map) {
        Ok(map) => map,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    };
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(code) => return code,
    };
    for name in &args.only {
        if !scenarios.iter().any(|s| &s.name == name) {
            crate::errln!("error: no scenario named {name} (see `sts-conformance list`)");
            return ExitCode::BadInput;
        }
    }
    for id in &args.claims {
        if crate::claims::find(id).is_none() {
            crate::errln!("error: unknown claim id {id} (see `sts-conformance list --claims`)");
            return ExitCode::BadInput;
        }
    }
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| args.only.is_empty() || args.only.contains(&s.name))
        .filter(|s| args.claims.is_empty() || s.claims.iter().any(|c| args.claims.contains(c)))
        .collect();
    if let Some(dir) = &args.compare
        && !dir.is_dir()
    {
        crate::errln!("error: --compare {}: no such directory (write snapshots there first with --snapshots)", dir.display());
        return ExitCode::BadInput;
    }
    if let Err(e) = prepare_outputs(args) {
        crate::errln!("error: {e}");
        return ExitCode::BadInput;
    }
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let mut settings = RunSettings { cluster_domain: args.cluster_domain.clone(), ..RunSettings::default() };
    let mut printer = Printer::new(Mode::detect(args.quiet));
    let run_id = run_id();
    let mut options = PlanOptions::new(run_id);
    options.image_map.splice(0..0, image_map.iter().cloned());
    options.storage_class = args.storage_class.clone();
    let parallel = usize::from(args.parallel);
    let reports: Vec<ScenarioReport> = if args.sim {
        if !args.quiet {
            crate::outln!(
                "Running {} scenarios on the simulated cluster (a test double: a pass here says nothing about a real cluster).",
                selected.len()
            );
            for fault in &args.sim_faults {
                crate::outln!("Injected fault {fault}: {}.", fault.description());
            }
        }
        runtime.block_on(runner::run_many(
            &selected,
            &options,
            &settings,
            parallel,
            || SimCluster::new(&settings.cluster_domain).with_faults(args.sim_faults.iter().copied()),
            &mut |e| printer.report(e),
        ))
    } else {
        match runtime.block_on(run_live(args, &selected, &options, &mut settings, &mut printer)) {
            Ok(reports) => reports,
            Err(code) => return code,
        }
    };
    drop(printer);
    if let Err(code) = write_files(args, &selected, &reports, &settings) {
        return code;
    }
    let width = if std::io::stdout().is_terminal() { 100 } else { 160 };
    crate::out!("\n{}", report::summary_table(&reports, width));
    for r in reports.iter().filter(|r| r.cleanup_error.is_some()) {
        crate::errln!("error: cleanup of {} failed: {}", r.namespace, r.cleanup_error.as_deref().unwrap_or_default());
    }
    // A failed claim says the most; a cleanup that failed is an environment problem, never a
    // failed claim.
    let mut code = if reports.iter().any(ScenarioReport::failed) {
        ExitCode::ClaimFailed
    } else if reports.iter().any(|r| r.cleanup_error.is_some()) {
        ExitCode::Environment
    } else {
        ExitCode::Pass
    };
    if let Some(dir) = &args.compare {
        match outputs::compare(dir, &reports) {
            Ok(comparisons) => {
                let differing = print_comparisons(&comparisons);
                if differing > 0 {
                    code = ExitCode::ClaimFailed;
                }
            }
            Err(e) => {
                crate::errln!("error: cannot read the snapshots in {}: {e}", dir.display());
                return ExitCode::BadInput;
            }
        }
    }
    code
}

/// Makes the directories `--output-dir` and `--snapshots` name, and checks that `--junit` can
/// be written, before anything runs: a typo in a path is bad input found in a second, not after
/// a run's minutes on a cluster.
fn prepare_outputs(args: &RunArgs) -> Result<(), String> {
    for (flag, dir) in [("--output-dir", &args.output_dir), ("--snapshots", &args.snapshots)] {
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| format!("{flag} {}: cannot create the directory: {e}", dir.display()))?;
        }
    }
    if let Some(file) = &args.junit {
        if file.is_dir() {
            return Err(format!("--junit {}: is a directory, not a file", file.display()));
        }
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !parent.is_dir() {
            return Err(format!("--junit {}: no such directory {}", file.display(), parent.display()));
        }
    }
    Ok(())
}

/// Writes what `--output-dir`, `--junit` and `--snapshots` ask for.
fn write_files(
    args: &RunArgs,
    selected: &[&Scenario],
    reports: &[ScenarioReport],
    settings: &RunSettings,
) -> Result<(), ExitCode> {
    // A write error is one line and exit 2, as for standard output (`console`).
    let fail = |what: &Path, e: std::io::Error| {
        crate::errln!("error: cannot write {}: {e}", what.display());
        ExitCode::BadInput
    };
    if let Some(dir) = &args.output_dir {
        for (scenario, report) in selected.iter().zip(reports) {
            outputs::write_output_dir(dir, scenario, report, &settings.cluster_domain).map_err(|e| fail(dir, e))?;
        }
        let page = dir.join("report.html");
        std::fs::write(&page, crate::html::report("sts-conformance run", reports)).map_err(|e| fail(&page, e))?;
    }
    if let Some(file) = &args.junit {
        outputs::write_junit(file, reports).map_err(|e| fail(file, e))?;
    }
    if let Some(dir) = &args.snapshots {
        outputs::write_snapshots(dir, reports).map_err(|e| fail(dir, e))?;
    }
    Ok(())
}

/// Prints how each scenario compares with its snapshot; returns how many differ or are missing.
fn print_comparisons(comparisons: &[(String, outputs::Comparison)]) -> usize {
    let mut differing = 0;
    crate::outln!();
    for (scenario, comparison) in comparisons {
        match comparison {
            outputs::Comparison::Same => crate::outln!("{scenario}: same behaviour as the snapshot"),
            outputs::Comparison::Differs(diff) => {
                differing += 1;
                crate::outln!("{scenario}: BEHAVIOUR CHANGED (- stored, + this run)\n{diff}");
            }
            outputs::Comparison::Missing(path) => {
                differing += 1;
                crate::outln!("{scenario}: no snapshot at {}", path.display());
            }
        }
    }
    crate::outln!("{differing} of {} scenarios differ from the snapshots", comparisons.len());
    differing
}

/// Runs the scenarios on the cluster of the current kubeconfig context: connect, preflight
/// (nothing is created when it fails: exit 3), then the scenarios, with Ctrl-C cleaning up.
async fn run_live(
    args: &RunArgs,
    selected: &[&Scenario],
    options: &PlanOptions,
    settings: &mut RunSettings,
    printer: &mut Printer,
) -> Result<Vec<ScenarioReport>, ExitCode> {
    let client = connect(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
    let mut classes = std::collections::BTreeSet::new();
    for scenario in selected {
        let objects = runner::scenario_objects(scenario);
        classes.extend(crate::plan::Plan::new(&scenario.name, &objects, options.clone()).dynamic_classes(&objects));
    }
    let findings = live::preflight(&client, &classes.into_iter().collect::<Vec<_>>()).await;
    if !findings.problems.is_empty() {
        crate::errln!("error: the cluster cannot run the scenarios; nothing was created:");
        for problem in &findings.problems {
            crate::errln!("  - {problem}");
        }
        return Err(ExitCode::Environment);
    }
    let needing = crate::capability::claims_needing(selected, &findings.missing);
    if !needing.is_empty() && !args.skip_unsupported {
        crate::errln!("error: the cluster lacks what some claims need; nothing was created:");
        for (capability, claims) in &needing {
            crate::errln!("  - {capability}: {} — needed by {}", findings.missing[capability], claims.join(", "));
        }
        crate::errln!(
            "  Run on a cluster that has them, leave those claims out (--claim/--scenario), or pass --skip-unsupported to report them skipped."
        );
        return Err(ExitCode::Environment);
    }
    settings.skip = findings.missing.into_iter().filter(|(c, _)| needing.contains_key(c)).collect();
    if !args.quiet {
        for (capability, why) in &settings.skip {
            crate::outln!("Skipping the steps that need {capability}: {why} (--skip-unsupported).");
        }
        crate::outln!(
            "Running {} scenarios on Kubernetes {} (run {}, namespaces {}-<scenario>-{}).",
            selected.len(),
            findings.server_version,
            options.run_id,
            options.namespace_prefix,
            options.run_id
        );
    }
    // The first Ctrl-C stops the scenarios and cleans up; a second one aborts.
    let interrupts = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            crate::errln!("\ninterrupted: cleaning up what this run created (Ctrl-C again to abort)");
            crate::interrupt::request();
            if tokio::signal::ctrl_c().await.is_ok() {
                crate::errln!("aborted: `sts-conformance cleanup` removes what is left");
                std::process::exit(130);
            }
        }
    });
    let probe_image = options.map_image(&args.probe_image);
    let connect = || live::LiveCluster::new(client.clone(), &probe_image).keeping(args.keep);
    let reports =
        runner::run_many(selected, options, settings, usize::from(args.parallel), connect, &mut |e| printer.report(e)).await;
    interrupts.abort();
    if crate::interrupt::requested() {
        return Err(ExitCode::Environment);
    }
    Ok(reports)
}
