//! `analyze`: judge a `kubectl get pods -w` transcript, or a timeline file written by a run.

use std::{io::Read, path::PathBuf};

use clap::{Args, ValueEnum};

use super::{ExitCode, Output};
use crate::{
    analyze,
    checks::{CheckName, Policy},
    record, report,
};

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
    /// Also draw the history as an HTML report written to this file: a timeline file, or each
    /// session of a transcript (hovering names the transcript line).
    #[arg(long, value_name = "OUT")]
    pub html: Option<PathBuf>,
}

/// `--policy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyArg {
    /// OrderedReady: creation order is judged.
    Ordered,
    /// Parallel: no creation order; the observed parallelism is reported.
    Parallel,
}

fn parse_check(text: &str) -> Result<CheckName, String> {
    text.parse()
}

pub(super) fn analyze_file(args: &AnalyzeArgs) -> ExitCode {
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
    if let Some(out) = &args.html {
        let drawn = analyze::drawings(&text, &options)
            .map(|d| crate::html::transcript_report(&format!("sts-conformance analyze {}", args.file.display()), &d));
        let written = match drawn {
            Ok(page) => std::fs::write(out, page).map_err(|e| format!("cannot write {}: {e}", out.display())),
            Err(e) => Err(format!("{}: {e}", args.file.display())),
        };
        if let Err(e) = written {
            crate::errln!("error: {e}");
            return ExitCode::BadInput;
        }
    }
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
    let report = record::judged_again(header, timeline);
    if let Some(out) = &args.html {
        let title = format!("sts-conformance analyze {}", args.file.display());
        if let Err(e) = std::fs::write(out, crate::html::report(&title, std::slice::from_ref(&report))) {
            crate::errln!("error: cannot write {}: {e}", out.display());
            return ExitCode::BadInput;
        }
    }
    match args.output {
        Output::Json => crate::outln!("{}", serde_json::to_string_pretty(&report::verdicts_json(&report)).unwrap_or_default()),
        Output::Text => crate::out!("{}", report::summary_table(std::slice::from_ref(&report), 160)),
    }
    if report.failed() { ExitCode::ClaimFailed } else { ExitCode::Pass }
}
