//! The HTML report in a real browser (headless Chromium, Debian's `chromium`): every pod lane
//! and verdict mark the report's model holds is in the DOM the browser built, for every sim
//! scenario, a failing run and a recorded real-node timeline drawn by `analyze --html`;
//! screenshots are kept under `target/browser/` (CI keeps them as artifacts).
//!
//! Ignored by default (it needs `chromium`): `cargo test --test browser -- --ignored`.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use sts_conformance::{record, runner::ScenarioReport};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sts-conformance")
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    std::fs::create_dir_all(&dir).expect("artifact dir");
    dir
}

/// The DOM Chromium builds from `page`.
fn dom(page: &Path) -> String {
    let started = Instant::now();
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (apt-get install chromium)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{}: DOM in {:.2} s", page.display(), started.elapsed().as_secs_f64());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn screenshot(page: &Path, png: &Path) {
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1300,1500"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success() && png.exists(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A run's reports, read back from its output directory.
fn reports(dir: &Path) -> Vec<ScenarioReport> {
    let mut out = Vec::new();
    let mut scenarios: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").path()).filter(|p| p.is_dir()).collect();
    scenarios.sort();
    for scenario in scenarios {
        let path = scenario.join("timeline.jsonl");
        let (header, timeline) = record::read(&path, &std::fs::read_to_string(&path).expect("timeline")).expect("readable");
        out.push(record::judged_again(header, timeline));
    }
    out
}

/// Every pod, claim and StatefulSet the timeline shows has its lane in the scenario's section of
/// the DOM, and every judged check a verdict mark per evidence entry (one at its step's end
/// when it cites none) — counted from the history and the verdicts, not from the report's model.
fn assert_drawn(dom: &str, reports: &[ScenarioReport]) {
    use sts_conformance::timeline::Event;
    for report in reports {
        let start = dom
            .find(&format!("data-scenario=\"{}\"", report.scenario))
            .unwrap_or_else(|| panic!("no section for {}", report.scenario));
        let section = &dom[start..dom[start..].find("</section>").map_or(dom.len(), |e| start + e)];
        for entry in &report.timeline.entries {
            let lane = match &entry.event {
                Event::Pod { pod, .. } => format!("pod/{}", pod.name),
                Event::Claim { claim, .. } => format!("claim/{}", claim.name),
                Event::StatefulSet { set, .. } => format!("statefulset/{}", set.name),
                _ => continue,
            };
            assert!(section.contains(&format!("data-lane=\"{lane}\"")), "{}: no lane {lane}", report.scenario);
        }
        let expected: usize = report
            .judged
            .iter()
            .map(|j| j.outcome.evidence.iter().filter(|e| **e < report.timeline.entries.len()).count().max(1))
            .sum();
        assert_eq!(section.matches("data-mark=").count(), expected, "{}: verdict marks in the DOM", report.scenario);
        for j in &report.judged {
            let mark = format!("data-mark=\"{}\" data-verdict=\"v-{}\"", j.outcome.check, j.outcome.verdict.as_str());
            assert!(section.contains(&mark), "{}: {mark}", report.scenario);
        }
    }
}

#[test]
#[ignore = "needs chromium"]
fn every_sim_scenarios_report_shows_its_lanes_and_verdict_marks_in_a_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status =
        Command::new(bin()).args(["run", "--sim", "--quiet", "--output-dir"]).arg(dir.path()).output().expect("run").status;
    assert!(status.success());
    let page = dir.path().join("report.html");
    let reports = reports(dir.path());
    assert!(reports.len() > 20, "{} scenarios", reports.len());
    assert_drawn(&dom(&page), &reports);
    std::fs::copy(&page, artifacts().join("report-sim.html")).expect("copy");
    screenshot(&page, &artifacts().join("report-sim.png"));
}

#[test]
#[ignore = "needs chromium"]
fn a_failing_run_pins_its_failure_in_red() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(bin())
        .args(["run", "--sim", "--quiet", "--scenario", "seed-002-lifecycle", "--sim-fault", "rollout-upward", "--output-dir"])
        .arg(dir.path())
        .output()
        .expect("run")
        .status;
    assert!(!status.success(), "the fault fails a claim");
    let page = dir.path().join("report.html");
    let dom = dom(&page);
    assert_drawn(&dom, &reports(dir.path()));
    assert!(dom.contains("data-mark=\"reverse-rollout\" data-verdict=\"v-fail\""), "the failure is pinned");
    screenshot(&page, &artifacts().join("report-fail.png"));
}

#[test]
#[ignore = "needs chromium"]
fn analyze_draws_a_recorded_real_node_timeline() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines/seed-002-unhealthy.real-node.jsonl");
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("analyze.html");
    let status = Command::new(bin()).arg("analyze").arg(&fixture).arg("--html").arg(&page).output().expect("analyze").status;
    assert!(status.success());
    let scenario = dir.path().join("seed-002-unhealthy");
    std::fs::create_dir_all(&scenario).expect("dir");
    std::fs::copy(&fixture, scenario.join("timeline.jsonl")).expect("copy");
    assert_drawn(&dom(&page), &reports(dir.path()));
    screenshot(&page, &artifacts().join("analyze-real-node.png"));
}

#[test]
#[ignore = "needs chromium"]
fn analyze_draws_each_session_of_a_seed_transcript() {
    use sts_conformance::{analyze, checks::Policy, timeline::Event};
    let transcript = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/transcripts/seed-002-document.txt");
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("transcript.html");
    let status = Command::new(bin()).arg("analyze").arg(&transcript).arg("--html").arg(&page).output().expect("analyze").status;
    assert!(status.success());
    let dom = dom(&page);
    let options = analyze::Options { statefulset: None, policy: Policy::Ordered, expect: vec![] };
    let drawings = analyze::drawings(&std::fs::read_to_string(&transcript).expect("transcript"), &options).expect("sessions");
    assert!(drawings.len() > 3, "{} sessions", drawings.len());
    for d in &drawings {
        let id = format!("data-scenario=\"{}@{}\"", d.family, d.session_line);
        let start = dom.find(&id).unwrap_or_else(|| panic!("no section {id}"));
        let section = &dom[start..dom[start..].find("</section>").map_or(dom.len(), |e| start + e)];
        for entry in &d.timeline.entries {
            if let Event::Pod { pod, .. } = &entry.event {
                assert!(section.contains(&format!("data-lane=\"pod/{}\"", pod.name)), "{id}: no lane for {}", pod.name);
            }
        }
        let marks: usize = d.outcomes.iter().map(|o| o.evidence.len().max(1)).sum();
        assert_eq!(section.matches("data-mark=").count(), marks, "{id}");
        // Hovering names transcript lines.
        assert!(section.contains("<title>") && section.contains(": pod ") && section.contains("line "), "{id}");
    }
    screenshot(&page, &artifacts().join("analyze-transcript.png"));
}

/// 300 pods created one by one and then removed: the report stays small and loads at once.
#[test]
#[ignore = "needs chromium"]
fn a_300_pod_report_stays_small() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("dir");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/seed-002/nginx-statefulset.yaml");
    std::fs::copy(&manifest, scenarios.join("nginx-statefulset.yaml")).expect("copy");
    std::fs::write(
        scenarios.join("big.scenario.yaml"),
        "apiVersion: sts-conformance/v1alpha1\nkind: Scenario\nmetadata: {name: big}\nspec:\n  description: three hundred pods\n  claims: [002-scale-up]\n  manifests: [nginx-statefulset.yaml]\n  timeout: 120m\n  steps:\n  - apply: {manifests: [nginx-statefulset.yaml]}\n    until: {statefulset: web, ready: 3}\n  - scale: {statefulset: web, replicas: 300}\n    until: {statefulset: web, ready: 300}\n    expect:\n      ordered-creation: [002-scale-up]\n  - scale: {statefulset: web, replicas: 0}\n    until: {statefulset: web, pods: 0}\n",
    )
    .expect("scenario");
    let out = dir.path().join("out");
    let status = Command::new(bin())
        .args(["run", "--sim", "--quiet", "--scenarios"])
        .arg(&scenarios)
        .arg("--output-dir")
        .arg(&out)
        .output()
        .expect("run")
        .status;
    assert!(status.success());
    let page = out.join("report.html");
    let size = std::fs::metadata(&page).expect("report").len();
    eprintln!("300-pod report: {:.2} MB", size as f64 / 1e6);
    assert!(size < 5_000_000, "{size} bytes");
    assert_drawn(&dom(&page), &reports(&out));
}

/// Without a browser: `run --output-dir` writes the report beside the scenario directories, and
/// it fetches nothing.
#[test]
fn a_run_writes_a_self_contained_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new(bin())
        .args(["run", "--sim", "--quiet", "--scenario", "seed-002-lifecycle", "--output-dir"])
        .arg(dir.path())
        .output()
        .expect("run")
        .status;
    assert!(status.success());
    let page = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    for fetches in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!page.contains(fetches), "{fetches}");
    }
    assert_drawn(&page, &reports(dir.path()));
}

/// The report of a run already made — `STS_REPORT_DIR` names its output directory (CI sets it
/// to the testbed's and the real node's runs); without it, a sim run of seed-002-lifecycle.
#[test]
#[ignore = "needs chromium"]
fn the_report_of_a_run_shows_every_lane_and_mark() {
    let made;
    let dir = match std::env::var_os("STS_REPORT_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            made = tempfile::tempdir().expect("tempdir");
            let status = Command::new(bin())
                .args(["run", "--sim", "--quiet", "--scenario", "seed-002-lifecycle", "--output-dir"])
                .arg(made.path())
                .output()
                .expect("run")
                .status;
            assert!(status.success());
            made.path().to_path_buf()
        }
    };
    let page = dir.join("report.html");
    assert!(page.is_file(), "{} was not written", page.display());
    let reports = reports(&dir);
    assert!(!reports.is_empty(), "{}: no scenario directories", dir.display());
    assert_drawn(&dom(&page), &reports);
    let name = dir.parent().and_then(Path::file_name).map_or_else(|| "run".to_owned(), |n| n.to_string_lossy().into_owned());
    screenshot(&page, &artifacts().join(format!("report-{name}.png")));
}
