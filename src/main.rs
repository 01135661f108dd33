//! The `sts-conformance` command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let code = sts_conformance::cli::main_with(sts_conformance::cli::Cli::parse());
    std::process::ExitCode::from(code as u8)
}
