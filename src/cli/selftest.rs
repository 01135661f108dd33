//! `selftest`: every fault of the simulated cluster caught by the check meant for it.

use std::path::PathBuf;

use clap::Args;

use super::{ExitCode, Output, load_all};
use crate::{runner::RunSettings, scenario::Scenario, selftest as self_test, sim::Fault};

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

pub(super) fn selftest(args: &SelftestArgs) -> ExitCode {
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
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let settings = RunSettings::default();
    let mut report = runtime.block_on(self_test::run(&selected, &faults, &settings));
    // The upgrade workloads come from the seed manifests of the scenarios directory.
    if let Some(dir) = args.scenarios.iter().find(|p| p.is_dir()) {
        let result = crate::upgrade::workloads(dir)
            .map_err(self_test::SelftestError::from)
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
