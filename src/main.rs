//! The `sts-conformance` command.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() -> std::process::ExitCode {
    let cli = sts_conformance::cli::Cli::parse();
    let level = match cli.verbose {
        0 => "sts_conformance=warn",
        1 => "sts_conformance=debug",
        _ => "sts_conformance=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
    let code = sts_conformance::cli::main_with(cli);
    sts_conformance::console::flush();
    if sts_conformance::console::failed() {
        // Output was lost (a full disk, an I/O error): the run's result was not delivered.
        return std::process::ExitCode::from(2);
    }
    std::process::ExitCode::from(code as u8)
}
