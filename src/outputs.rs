//! Files a run writes: the output directory, JUnit XML, normalized snapshots — and the
//! comparison of a run against stored snapshots.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use crate::{junit, record, report, runner::ScenarioReport, scenario::Scenario, snapshot};

/// Writes `DIR/<scenario>/timeline.jsonl`, `verdicts.json`, and, when the run failed,
/// `diagnostics.txt`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_output_dir(dir: &Path, scenario: &Scenario, report: &ScenarioReport, cluster_domain: &str) -> std::io::Result<()> {
    let dir = dir.join(&report.scenario);
    std::fs::create_dir_all(&dir)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("timeline.jsonl"))?);
    record::write(&mut file, &record::Header::of(report, scenario, cluster_domain), &report.timeline)?;
    file.flush()?;
    let verdicts = serde_json::to_string_pretty(&report::verdicts_json(report)).map_err(std::io::Error::other)?;
    std::fs::write(dir.join("verdicts.json"), verdicts + "\n")?;
    if let Some(diagnostics) = &report.diagnostics {
        std::fs::write(dir.join("diagnostics.txt"), diagnostics)?;
    }
    Ok(())
}

/// Writes the JUnit XML of a run to `path`.
///
/// # Errors
/// When the file cannot be written.
pub fn write_junit(path: &Path, reports: &[ScenarioReport]) -> std::io::Result<()> {
    let xml = junit::report("sts-conformance", reports).to_string().map_err(std::io::Error::other)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, xml)
}

/// The file a scenario's normalized timeline is kept in under `dir`.
#[must_use]
pub fn snapshot_path(dir: &Path, scenario: &str) -> PathBuf {
    dir.join(format!("{scenario}.txt"))
}

/// The normalized timeline of a scenario run.
#[must_use]
pub fn normalized(report: &ScenarioReport) -> String {
    snapshot::normalize(&report.timeline, &report.namespace, &report.run_id)
}

/// Writes each scenario's normalized timeline to `DIR/<scenario>.txt`.
///
/// # Errors
/// When a file cannot be written.
pub fn write_snapshots(dir: &Path, reports: &[ScenarioReport]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for report in reports {
        std::fs::write(snapshot_path(dir, &report.scenario), normalized(report))?;
    }
    Ok(())
}

/// How one scenario compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Identical.
    Same,
    /// Different: a unified diff, stored (`-`) against this run (`+`).
    Differs(String),
    /// No snapshot stored for the scenario.
    Missing(PathBuf),
}

/// Compares each scenario's normalized timeline with `DIR/<scenario>.txt`.
///
/// # Errors
/// When a stored snapshot exists but cannot be read.
pub fn compare(dir: &Path, reports: &[ScenarioReport]) -> std::io::Result<Vec<(String, Comparison)>> {
    let mut out = Vec::new();
    for report in reports {
        let path = snapshot_path(dir, &report.scenario);
        let comparison = if path.is_file() {
            let stored = std::fs::read_to_string(&path)?;
            let now = normalized(report);
            if stored == now {
                Comparison::Same
            } else {
                let diff = similar::TextDiff::from_lines(&stored, &now);
                let text = diff
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("{} (stored)", path.display()), &format!("{} (this run)", report.scenario))
                    .to_string();
                Comparison::Differs(text)
            }
        } else {
            Comparison::Missing(path)
        };
        out.push((report.scenario.clone(), comparison));
    }
    Ok(out)
}
