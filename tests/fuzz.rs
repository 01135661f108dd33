//! Fuzzing the three inputs users feed the harness: scenarios with their manifests,
//! transcripts, and timeline files (`run --output-dir`).
//!
//! Each case starts from a real input — the scenarios under `scenarios/`, the transcripts under
//! `tests/fixtures/transcripts/`, a timeline recorded from a scenario on the simulated cluster —
//! or from arbitrary bytes, and applies a few structured mutations: numbers replaced by huge or
//! negative ones, lines deleted, duplicated or swapped, bytes inserted (invalid UTF-8, `\r`,
//! NUL), truncation. The property: reading and judging the result returns a report or a located
//! error, never a panic — and, since the suite runs it without a timeout, never a hang.
//!
//! `cargo test --test fuzz` runs a few hundred cases per input; for a longer run,
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz` (`.ci/run` runs a bounded count).

use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use proptest::prelude::*;
use sts_conformance::{
    analyze::{self, Options},
    input, record,
    runner::{self, RunSettings},
    scenario,
    sim::SimCluster,
};

/// Numbers that break arithmetic and allocation sized by a value.
const HOSTILE_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "18446744073709551615",
    "99999999999999999999999999",
    "1e308",
];

/// One structured mutation.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the n-th run of digits with a hostile number.
    Number(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Insert(usize, Vec<u8>),
    Truncate(usize),
    FlipByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = prop::collection::vec(
        prop_oneof![Just(0xffu8), Just(b'\r'), Just(0u8), Just(b'\n'), Just(b'-'), Just(b' '), any::<u8>()],
        1..8,
    );
    prop_oneof![
        3 => (any::<usize>(), 0..HOSTILE_NUMBERS.len()).prop_map(|(n, k)| Mutation::Number(n, k)),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (any::<usize>(), bytes).prop_map(|(at, b)| Mutation::Insert(at, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(at, b)| Mutation::FlipByte(at, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutation: &Mutation) -> Vec<u8> {
    let len = bytes.len().max(1);
    match mutation {
        Mutation::Number(n, k) => {
            let runs: Vec<(usize, usize)> = digit_runs(&bytes);
            if let Some((start, end)) = runs.get(n % runs.len().max(1)).copied() {
                bytes.splice(start..end, HOSTILE_NUMBERS[*k].bytes());
            }
            bytes
        }
        Mutation::DeleteLine(n) | Mutation::DuplicateLine(n) => {
            let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let i = n % lines.len();
            if matches!(mutation, Mutation::DeleteLine(_)) {
                lines.remove(i);
            } else {
                lines.insert(i, lines[i].clone());
            }
            lines.join(&b'\n')
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<Vec<u8>> = bytes.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join(&b'\n')
        }
        Mutation::Insert(at, inserted) => {
            let at = at % (bytes.len() + 1);
            bytes.splice(at..at, inserted.iter().copied());
            bytes
        }
        Mutation::Truncate(at) => {
            bytes.truncate(at % len);
            bytes
        }
        Mutation::FlipByte(at, b) => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *b;
            }
            bytes
        }
    }
}

fn digit_runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes.iter().enumerate() {
        match (b.is_ascii_digit(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, bytes.len()));
    }
    runs
}

fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::from(dir)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The files of one directory: (name, contents).
type Files = Vec<(String, Vec<u8>)>;

/// Scenario directories: each scenario file with the manifests beside it.
fn scenario_corpus() -> &'static [(PathBuf, Files)] {
    static CORPUS: OnceLock<Vec<(PathBuf, Files)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let scenarios = scenario::discover(&[PathBuf::from("scenarios")]).expect("scenarios/");
        scenarios
            .into_iter()
            .map(|file| {
                let dir = file.parent().expect("a directory").to_path_buf();
                let files = files_under(dir.to_str().expect("utf-8"))
                    .into_iter()
                    .filter(|f| f.parent() == Some(dir.as_path()))
                    .map(|f| (f.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&f).unwrap()))
                    .collect();
                (file, files)
            })
            .collect()
    })
}

fn transcript_corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        files_under("tests/fixtures/transcripts")
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "txt"))
            .map(|f| std::fs::read(f).unwrap())
            .collect()
    })
}

/// A timeline file recorded from seed-002 on the simulated cluster.
fn timeline_corpus() -> &'static [u8] {
    static CORPUS: OnceLock<Vec<u8>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let file = Path::new("scenarios/seed-002/lifecycle.scenario.yaml");
        let scenario = scenario::load(file).expect("seed-002");
        let plan = sts_conformance::plan::Plan::new(
            &scenario.name,
            &runner::scenario_objects(&scenario),
            sts_conformance::plan::PlanOptions::new("fuzz01"),
        );
        let settings = RunSettings::default();
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let report = rt.block_on(async {
            let mut cluster = SimCluster::new(&settings.cluster_domain);
            runner::run_scenario(&mut cluster, &scenario, &plan, &settings, &mut runner::quiet).await
        });
        let header = record::Header::of(&report, &scenario, &settings.cluster_domain);
        let mut out = Vec::new();
        record::write(&mut out, &header, &report.timeline).expect("in memory");
        out
    })
}

/// Reads a transcript as `analyze` does and judges it.
fn analyze_transcript(bytes: &[u8]) {
    let text = input::decode_lossy(bytes);
    match analyze::transcript(&text, &Options::default()) {
        Ok(report) => drop(analyze::render_text(&report)),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// Reads a timeline file as `analyze` does and judges it.
fn analyze_timeline(bytes: &[u8]) {
    let text = input::decode_lossy(bytes);
    let Ok((header, timeline)) = record::read(Path::new("timeline.jsonl"), &text) else { return };
    let steps = header.step_reports();
    let judged = runner::judge_expectations(&header.expectations, &timeline, &header.namespace, &header.cluster_domain, &steps);
    drop(runner::claim_verdicts_for(&header.claims, &header.expectations, &judged, &steps));
}

/// Writes a scenario directory and validates it as `validate` does.
fn validate(files: &Files, scenario_name: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    match scenario::discover(&[dir.path().to_path_buf()]) {
        Ok(found) => {
            for file in found {
                if let Err(errors) = scenario::load(&file) {
                    for e in &errors.0 {
                        assert!(e.file.starts_with(dir.path()), "an error outside the input: {e}");
                    }
                }
            }
        }
        Err(e) => assert!(e.file.starts_with(dir.path()), "{scenario_name}: an error outside the input: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn transcripts_never_panic(pick in any::<usize>(), mutations in prop::collection::vec(mutation(), 1..5)) {
        let corpus = transcript_corpus();
        let mut bytes = corpus[pick % corpus.len()].clone();
        for m in &mutations {
            bytes = apply(bytes, m);
        }
        analyze_transcript(&bytes);
    }

    #[test]
    fn arbitrary_bytes_as_a_transcript_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        analyze_transcript(&bytes);
    }

    #[test]
    fn timeline_files_never_panic(mutations in prop::collection::vec(mutation(), 1..5)) {
        let mut bytes = timeline_corpus().to_vec();
        for m in &mutations {
            bytes = apply(bytes, m);
        }
        analyze_timeline(&bytes);
    }

    #[test]
    fn scenarios_and_manifests_never_panic(
        pick in any::<usize>(),
        target in any::<usize>(),
        mutations in prop::collection::vec(mutation(), 1..5),
    ) {
        let corpus = scenario_corpus();
        let (file, files) = &corpus[pick % corpus.len()];
        let mut files = files.clone();
        let i = target % files.len();
        for m in &mutations {
            files[i].1 = apply(std::mem::take(&mut files[i].1), m);
        }
        validate(&files, &file.display().to_string());
    }
}

#[test]
fn the_corpus_is_not_empty_and_reads_cleanly() {
    assert!(scenario_corpus().len() >= 5);
    assert!(transcript_corpus().len() >= 5);
    // Seeds 003 and 004 print no kubectl output that analyze reads (their sessions are prose,
    // manifests and other workloads): the rest are analyzable.
    let analyzable =
        transcript_corpus().iter().filter(|b| analyze::transcript(&input::decode_lossy(b), &Options::default()).is_ok()).count();
    assert!(analyzable >= 6, "{analyzable} analyzable fixtures");
    let text = input::decode_lossy(timeline_corpus());
    record::read(Path::new("timeline.jsonl"), &text).expect("the recorded timeline reads back");
}
