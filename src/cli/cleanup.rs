//! `cleanup`: delete what earlier runs left behind, and only that.

use std::path::PathBuf;

use clap::Args;

use super::{ExitCode, connect};
use crate::live;

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

/// `cleanup`: lists (and unless --dry-run deletes) what earlier runs left behind.
pub(super) fn cleanup(args: &CleanupArgs) -> ExitCode {
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(code) => return code,
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
