//! The command line: `run`, `validate`, `list`, `analyze`, `selftest`, `cleanup`, `upgrade`
//! (`prepare`, `verify`), `sim` (the simulated cluster's saved state), `schema` and `rbac`.
//!
//! Exit codes (one table, applied in one place — [`ExitCode`]):
//! 0 every claim held; 1 a claim failed or a step could not complete; 2 bad input (scenario,
//! manifest, flags); 3 cluster or environment problem.

use std::{
    io::{IsTerminal, Read},
    path::{Path, PathBuf},
};

use clap::{Args, Parser, Subcommand, ValueEnum};

mod upgrade;

use crate::{
    analyze,
    checks::{CheckName, Policy},
    live, outputs,
    plan::PlanOptions,
    progress::{Mode, Printer},
    record, report,
    runner::{self, RunSettings, ScenarioReport},
    scenario::{self, Scenario},
    selftest as self_test,
    sim::{Fault, SimCluster},
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

/// `cleanup` options.
#[derive(Debug, Args)]
pub struct CleanupArgs {
    /// List what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Kubeconfig file (default: $KUBECONFIG — several files separated by `:` are merged as
    /// kubectl does — then ~/.kube/config, then the in-cluster service account).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current one).
    #[arg(long)]
    pub context: Option<String>,
}

/// `selftest` options.
#[derive(Debug, Args)]
pub struct SelftestArgs {
    /// Scenario files or directories.
    #[arg(long, default_value = "scenarios")]
    pub scenarios: Vec<PathBuf>,
    /// Test only this fault (repeatable; default: all), a scenario fault or an upgrade fault.
    #[arg(long = "fault", value_name = "NAME")]
    pub faults: Vec<String>,
    /// List the faults and the checks each is meant to break, and exit.
    #[arg(long)]
    pub list: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse()
}

/// `analyze` options.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The transcript or timeline.jsonl file; `-` reads standard input.
    pub file: PathBuf,
    /// Judge only the pods of this StatefulSet (`<NAME>-<ordinal>`).
    #[arg(long, value_name = "NAME")]
    pub statefulset: Option<String>,
    /// The pod management policy to assume (transcripts do not show it).
    #[arg(long, value_enum, default_value_t = PolicyArg::Ordered)]
    pub policy: PolicyArg,
    /// Also judge this check (repeatable): reverse-termination, reverse-rollout, parallel-burst.
    #[arg(long, value_name = "CHECK", value_parser = parse_check)]
    pub expect: Vec<CheckName>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// `--policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// OrderedReady: creation order is judged.
    Ordered,
    /// Parallel: no creation order; the observed parallelism is reported.
    Parallel,
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

fn parse_check(text: &str) -> Result<CheckName, String> {
    text.parse()
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs.
    Json,
}

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
        Command::Run(args) => run(&args),
        Command::Analyze(args) => analyze_file(&args),
        Command::Selftest(args) => selftest(&args),
        Command::Cleanup(args) => cleanup(&args),
        Command::Upgrade(command) => upgrade::upgrade(&command),
        Command::Sim(command) => upgrade::sim(&command),
    }
}

fn analyze_file(args: &AnalyzeArgs) -> ExitCode {
    // A FIFO is read like a file here: `analyze <(kubectl get pods -w)` passes one.
    let mut bytes = Vec::new();
    let read = if args.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(&args.file).map(|b| bytes = b)
    };
    if let Err(e) = read {
        crate::errln!("error: cannot read {}: {e}", args.file.display());
        return ExitCode::BadInput;
    }
    let text = crate::input::decode_lossy(&bytes);
    drop(bytes);
    if record::looks_like_timeline(&text) {
        return analyze_timeline(args, &text);
    }
    let options = analyze::Options {
        statefulset: args.statefulset.clone(),
        policy: match args.policy {
            PolicyArg::Ordered => Policy::Ordered,
            PolicyArg::Parallel => Policy::Parallel,
        },
        expect: args.expect.clone(),
    };
    let report = match analyze::transcript(&text, &options) {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: {}: {e}", args.file.display());
            return ExitCode::BadInput;
        }
    };
    match args.output {
        Output::Json => crate::outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Output::Text => crate::out!("{}", analyze::render_text(&report)),
    }
    if report.failed() { ExitCode::ClaimFailed } else { ExitCode::Pass }
}

/// Judges a recorded timeline again: the file says which checks, steps and targets.
fn analyze_timeline(args: &AnalyzeArgs, text: &str) -> ExitCode {
    if args.statefulset.is_some() || !args.expect.is_empty() || args.policy != PolicyArg::Ordered {
        crate::errln!(
            "error: {}: a timeline file names its own checks; --statefulset, --policy and --expect apply to transcripts only",
            args.file.display()
        );
        return ExitCode::BadInput;
    }
    let (header, timeline) = match record::read(&args.file, text) {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    };
    let steps = header.step_reports();
    let judged = runner::judge_expectations(&header.expectations, &timeline, &header.namespace, &header.cluster_domain, &steps);
    let claims = runner::claim_verdicts_for(&header.claims, &header.expectations, &judged, &steps);
    let report = ScenarioReport {
        scenario: header.scenario,
        namespace: header.namespace,
        run_id: header.run_id,
        steps,
        judged,
        claims,
        diagnostics: None,
        cleanup_error: None,
        timeline,
    };
    match args.output {
        Output::Json => crate::outln!("{}", serde_json::to_string_pretty(&report::verdicts_json(&report)).unwrap_or_default()),
        Output::Text => crate::out!("{}", report::summary_table(std::slice::from_ref(&report), 160)),
    }
    if report.failed() { ExitCode::ClaimFailed } else { ExitCode::Pass }
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

/// The `--image-map` entries, files expanded; errors name the file and line.
///
/// # Errors
/// An entry that is not FROM=TO, or a file that cannot be read.
pub fn image_map(entries: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut map = Vec::new();
    let parse = |text: &str, origin: &str| match text.split_once('=') {
        Some((from, to)) if !from.trim().is_empty() => Ok((from.trim().to_owned(), to.trim().to_owned())),
        _ => Err(format!("{origin}: {text:?}: expected FROM=TO")),
    };
    for entry in entries {
        match entry.strip_prefix('@') {
            Some(file) => {
                let text = std::fs::read_to_string(file).map_err(|e| format!("--image-map @{file}: {e}"))?;
                for (n, line) in text.lines().enumerate() {
                    let line = line.split('#').next().unwrap_or("").trim();
                    if !line.is_empty() {
                        map.push(parse(line, &format!("{file}:{}", n + 1))?);
                    }
                }
            }
            None => map.push(parse(entry, "--image-map")?),
        }
    }
    Ok(map)
}

fn run(args: &RunArgs) -> ExitCode {
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
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return ExitCode::Environment;
        }
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
            &mut printer,
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

fn selftest(args: &SelftestArgs) -> ExitCode {
    let mut faults = Vec::new();
    let mut upgrade_faults = Vec::new();
    for name in &args.faults {
        match (name.parse::<Fault>(), name.parse::<crate::sim::UpgradeFault>()) {
            (Ok(f), _) => faults.push(f),
            (_, Ok(f)) => upgrade_faults.push(f),
            (Err(e), Err(_)) => {
                crate::errln!(
                    "error: --fault {name}: {e} (or an upgrade fault: {})",
                    crate::sim::UpgradeFault::ALL.map(|f| f.name()).join(", ")
                );
                return ExitCode::BadInput;
            }
        }
    }
    if args.faults.is_empty() {
        faults = Fault::ALL.to_vec();
        upgrade_faults = crate::sim::UpgradeFault::ALL.to_vec();
    }
    if args.list {
        for fault in &faults {
            let checks: Vec<&str> = fault.breaks().iter().map(|c| c.as_str()).collect();
            crate::outln!("{:30} {} (breaks {})", fault.name(), fault.description(), checks.join(", "));
        }
        for fault in &upgrade_faults {
            crate::outln!("{:30} {} (breaks {})", fault.name(), fault.description(), fault.breaks().join(", "));
        }
        return ExitCode::Pass;
    }
    let scenarios = match load_all(&args.scenarios) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let selected: Vec<&Scenario> = scenarios.iter().collect();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_time().build() {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return ExitCode::Environment;
        }
    };
    let settings = RunSettings::default();
    let mut report = runtime.block_on(self_test::run(&selected, &faults, &settings));
    // The upgrade workloads come from the seed manifests of the scenarios directory.
    if let Some(dir) = args.scenarios.iter().find(|p| p.is_dir()) {
        let result = crate::upgrade::workloads(dir)
            .and_then(|workloads| runtime.block_on(self_test::run_upgrade(&workloads, &upgrade_faults, &settings, &mut report)));
        if let Err(e) = result {
            crate::errln!("error: the upgrade self-test could not run: {e}");
            return ExitCode::BadInput;
        }
    }
    match args.output {
        Output::Json => crate::outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Output::Text => crate::out!("{}", self_test::render_text(&report)),
    }
    if report.ok() { ExitCode::Pass } else { ExitCode::ClaimFailed }
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
    let reports = runner::run_many(selected, options, settings, usize::from(args.parallel), connect, printer).await;
    interrupts.abort();
    if crate::interrupt::requested() {
        return Err(ExitCode::Environment);
    }
    Ok(reports)
}

/// `cleanup`: lists (and unless --dry-run deletes) what earlier runs left behind.
fn cleanup(args: &CleanupArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: cannot start the async runtime: {e}");
            return ExitCode::Environment;
        }
    };
    runtime.block_on(async {
        let client = match connect(args.kubeconfig.as_deref(), args.context.as_deref()).await {
            Ok(c) => c,
            Err(code) => return code,
        };
        let leftovers = match live::leftovers(&client).await {
            Ok(l) => l,
            Err(e) => {
                crate::errln!("error: {e}");
                return ExitCode::Environment;
            }
        };
        if leftovers.is_empty() {
            crate::outln!("nothing to clean up: no namespace or volume is labelled app.kubernetes.io/managed-by=sts-conformance");
            return ExitCode::Pass;
        }
        if args.dry_run {
            for l in &leftovers {
                crate::outln!("would delete {} {} (run {})", l.kind, l.name, l.run);
            }
            return ExitCode::Pass;
        }
        for line in live::remove_leftovers(&client, &leftovers).await {
            crate::outln!("{line}");
        }
        ExitCode::Pass
    })
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
        let err = super::image_map(&entries).expect_err("line 2 is broken");
        assert!(err.contains("map.txt:2") && err.contains("expected FROM=TO"), "{err}");
    }
}
