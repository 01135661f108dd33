//! Benchmarks (not tests): `cargo bench --bench engine`.
//!
//! - `analyze`: a generated 100,000-line `kubectl get pods -w` transcript — 100 StatefulSets of
//!   100 pods each scaling up, rolling and scaling down, lines interleaved, with unrelated pods
//!   mixed in — judged with ordered-creation, reverse-termination and reverse-rollout.
//!
//!   `parse` and `histories` time its first two stages alone.
//!
//! Each benchmark runs a few times and prints the best and the median wall time.

use std::time::{Duration, Instant};

use sts_conformance::{
    analyze::{self, Options},
    checks::CheckName,
};

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> String) {
    let mut times: Vec<Duration> = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let start = Instant::now();
        summary = f();
        times.push(start.elapsed());
    }
    times.sort();
    println!("{name:10} best {:>8.1} ms  median {:>8.1} ms  ({summary})", ms(times[0]), ms(times[times.len() / 2]));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One StatefulSet's life: ordered scale-up, a reverse rollout, a reverse scale-down.
fn life(set: &str, pods: u32) -> Vec<String> {
    let row = |k: u32, ready: &str, status: &str, age: &str| format!("{set}-{k}   {ready}   {status}   0   {age}");
    let mut lines = Vec::new();
    for k in 0..pods {
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "ContainerCreating", "1s"));
        lines.push(row(k, "1/1", "Running", "4s"));
    }
    for k in (0..pods).rev() {
        lines.push(row(k, "1/1", "Terminating", "5m"));
        lines.push(row(k, "0/1", "Terminating", "5m"));
        lines.push(row(k, "0/1", "Pending", "0s"));
        lines.push(row(k, "0/1", "ContainerCreating", "0s"));
        lines.push(row(k, "1/1", "Running", "6s"));
    }
    for k in (1..pods).rev() {
        lines.push(row(k, "1/1", "Terminating", "9m"));
        lines.push(row(k, "0/1", "Terminating", "9m"));
    }
    lines
}

fn transcript(lines_wanted: usize) -> String {
    let sets: Vec<Vec<String>> = (0..100).map(|i| life(&format!("set{i}"), 100)).collect();
    let mut out = vec!["NAME   READY   STATUS   RESTARTS   AGE".to_owned()];
    let longest = sets.iter().map(Vec::len).max().unwrap_or(0);
    'fill: for i in 0..longest {
        for set in &sets {
            if let Some(line) = set.get(i) {
                out.push(line.clone());
            }
            if out.len() % 97 == 0 {
                out.push("dns-test   0/1   Error   0   7m".to_owned());
            }
            if out.len() >= lines_wanted {
                break 'fill;
            }
        }
    }
    out.join("\n") + "\n"
}

fn main() {
    let text = transcript(100_000);
    let lines = text.lines().count();
    let options = Options { expect: vec![CheckName::ReverseTermination, CheckName::ReverseRollout], ..Options::default() };
    measure("parse", 3, || format!("{} rows", sts_conformance::transcript::parse(&text).rows.len()));
    let parsed = sts_conformance::transcript::parse(&text);
    measure("histories", 3, || format!("{}", parsed.all_histories().len()));
    measure("analyze", 5, || {
        let report = analyze::transcript(&text, &options).expect("analyzable");
        let failed = report.failed();
        format!("{lines} lines, {} StatefulSets, failed: {failed}", report.statefulsets.len())
    });
}
