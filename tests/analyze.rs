//! `analyze` on real transcripts: the seed documents' `kubectl get pods -w` outputs judge as
//! their documents describe, and copies with the order broken fail naming the check and lines.

use std::process::Command;

use sts_conformance::{
    analyze::{self, CheckReport, Options},
    checks::{CheckName, Policy, Verdict},
};

const CREATE_001: &str = include_str!("fixtures/transcripts/seed-001-create.txt");
const SCALE_002: &str = include_str!("fixtures/transcripts/seed-002-scale.txt");
const ROLLOUT_002: &str = include_str!("fixtures/transcripts/seed-002-rollout.txt");
const DOCUMENT_000: &str = include_str!("fixtures/transcripts/seed-000-document.txt");
const DOCUMENT_002: &str = include_str!("fixtures/transcripts/seed-002-document.txt");

fn expect(checks: &[CheckName]) -> Options {
    Options { expect: checks.to_vec(), ..Options::default() }
}

/// The report of check `check` for family `web`.
fn judged(text: &str, options: &Options, check: CheckName) -> CheckReport {
    let report = analyze::transcript(text, options).expect("analyzable");
    let web = report.statefulsets.iter().find(|s| s.name == "web").expect("web found");
    web.checks.iter().find(|c| c.check == check).expect("check judged").clone()
}

/// `text` with its 1-based line `from` moved to sit before line `to`.
fn move_line(text: &str, from: usize, to: usize) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let line = lines.remove(from - 1);
    let at = if to > from { to - 2 } else { to - 1 };
    lines.insert(at, line);
    lines.join("\n") + "\n"
}

/// `text` with `find` replaced by `with` on 1-based line `n` only.
fn edit_line(text: &str, n: usize, find: &str, with: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[n - 1].contains(find), "line {n} is {:?}", lines[n - 1]);
    lines[n - 1] = lines[n - 1].replacen(find, with, 1);
    lines.join("\n") + "\n"
}

#[test]
fn seed_001_shows_ordered_creation() {
    let c = judged(CREATE_001, &Options::default(), CheckName::OrderedCreation);
    assert_eq!((c.verdict, c.lines.as_slice()), (Verdict::Pass, &[11][..]), "{}", c.detail);
}

#[test]
fn seed_002_scale_up_is_ordered_and_scale_down_reverse() {
    let options = expect(&[CheckName::ReverseTermination]);
    let up = judged(SCALE_002, &options, CheckName::OrderedCreation);
    assert_eq!((up.verdict, up.lines.as_slice()), (Verdict::Pass, &[23, 28][..]), "{}", up.detail);
    let down = judged(SCALE_002, &options, CheckName::ReverseTermination);
    assert_eq!((down.verdict, down.lines.as_slice()), (Verdict::Pass, &[42, 46, 50, 54][..]), "{}", down.detail);
    assert!(down.detail.starts_with("terminated web-4, web-3, web-2, web-1"), "{}", down.detail);
}

#[test]
fn seed_002_rolling_update_goes_from_the_highest_ordinal_down() {
    let options = expect(&[CheckName::ReverseRollout, CheckName::ReverseTermination]);
    let rollout = judged(ROLLOUT_002, &options, CheckName::ReverseRollout);
    assert_eq!((rollout.verdict, rollout.lines.as_slice()), (Verdict::Pass, &[8, 16, 24][..]), "{}", rollout.detail);
    assert!(rollout.detail.contains("web-2, web-1, web-0"), "{}", rollout.detail);
    // Replacements are not a scale-down: no termination order applies to them.
    assert_eq!(judged(ROLLOUT_002, &options, CheckName::ReverseTermination).verdict, Verdict::NotApplicable);
    assert_eq!(judged(ROLLOUT_002, &options, CheckName::OrderedCreation).verdict, Verdict::Pass);
}

#[test]
fn whole_documents_judge_without_failure_and_list_what_they_skip() {
    let all = expect(&[CheckName::ReverseTermination, CheckName::ReverseRollout]);
    let report = analyze::transcript(DOCUMENT_002, &all).expect("analyzable");
    assert!(!report.failed(), "{}", analyze::render_text(&report));
    let web = &report.statefulsets[0];
    assert_eq!(web.pods, ["web-0", "web-1", "web-2", "web-3", "web-4"]);
    assert!(web.checks.iter().all(|c| c.verdict == Verdict::Pass), "{}", analyze::render_text(&report));
    assert!(report.skipped_lines.contains(&1) && report.skipped_lines.contains(&174));

    let report = analyze::transcript(DOCUMENT_000, &all).expect("analyzable");
    let names: Vec<&str> = report.statefulsets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sfs-test01"]);
    assert!(report.statefulsets[0].checks.iter().all(|c| c.verdict == Verdict::NotApplicable));
}

/// Seed 001 with web-0 still creating when web-1 appears.
fn created_too_early() -> String {
    edit_line(CREATE_001, 10, "1/1     Running            ", "0/1     ContainerCreating  ")
}

#[test]
fn creation_before_the_predecessor_is_ready_fails() {
    let c = judged(&created_too_early(), &Options::default(), CheckName::OrderedCreation);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.lines, [10, 11]);
    assert!(c.detail.contains("web-1 was created (line 11) while web-0 was Pending"), "{}", c.detail);
}

#[test]
fn running_but_not_ready_is_not_ready() {
    let broken = edit_line(CREATE_001, 10, "1/1", "0/1");
    let c = judged(&broken, &Options::default(), CheckName::OrderedCreation);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("Running but not Ready"), "{}", c.detail);
}

#[test]
fn scale_up_past_an_unready_pod_fails() {
    let broken = move_line(SCALE_002, 28, 27);
    let c = judged(&broken, &Options::default(), CheckName::OrderedCreation);
    assert_eq!(c.verdict, Verdict::Fail);
    assert_eq!(c.lines, [26, 27]);
    assert!(c.detail.contains("web-4 was created (line 27) while web-3"), "{}", c.detail);
}

#[test]
fn termination_out_of_order_fails() {
    // web-3's four lines first, then web-4's.
    let mut broken = SCALE_002.to_owned();
    for _ in 0..4 {
        broken = move_line(&broken, 49, 42);
    }
    let c = judged(&broken, &expect(&[CheckName::ReverseTermination]), CheckName::ReverseTermination);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("web-3 began terminating (line 42) while web-4 was still present"), "{}", c.detail);
    assert!(c.lines.contains(&42) && c.lines.contains(&46), "{:?}", c.lines);
}

#[test]
fn two_pods_terminating_at_once_fails() {
    // web-3 starts terminating before web-4's last line (its deletion).
    let broken = move_line(SCALE_002, 46, 45);
    let c = judged(&broken, &expect(&[CheckName::ReverseTermination]), CheckName::ReverseTermination);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("web-3 began terminating (line 45) while web-4 was still terminating"), "{}", c.detail);
}

#[test]
fn forward_rollout_fails() {
    // Swap the names web-0 and web-2 in the replacement part: web-0 is replaced first.
    let mut lines: Vec<String> = ROLLOUT_002.lines().map(String::from).collect();
    for line in &mut lines[7..] {
        *line = line.replace("web-2", "web-X").replace("web-0", "web-2").replace("web-X", "web-0");
    }
    let broken = lines.join("\n") + "\n";
    let c = judged(&broken, &expect(&[CheckName::ReverseRollout]), CheckName::ReverseRollout);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("web-0 was replaced (line 8) while web-1 was not yet updated"), "{}", c.detail);
}

#[test]
fn replacement_before_the_previous_one_is_ready_again_fails() {
    let broken = move_line(ROLLOUT_002, 15, 17);
    let c = judged(&broken, &expect(&[CheckName::ReverseRollout]), CheckName::ReverseRollout);
    assert_eq!(c.verdict, Verdict::Fail);
    assert!(c.detail.contains("web-1 was replaced (line 15) while web-2 was not yet Running and Ready"), "{}", c.detail);
    assert_eq!(c.lines, [14, 15]);
}

/// A watch whose listing holds one unrelated pod and has ended: the rows after it are events.
const WATCHING: &str = "NAME READY STATUS RESTARTS AGE\nother-0 1/1 Running 0 5m\nother-0 1/1 Running 0 5m\n";

#[test]
fn pods_the_transcript_never_shows_make_creation_inconclusive() {
    let text = format!("{WATCHING}web-2 0/1 Pending 0 0s\nweb-2 1/1 Running 0 5s\n");
    let text = text.as_str();
    let c = judged(text, &Options::default(), CheckName::OrderedCreation);
    assert_eq!(c.verdict, Verdict::Inconclusive, "{}", c.detail);
    assert!(c.detail.contains("web-0, web-1"), "{}", c.detail);
}

#[test]
fn a_predecessor_created_later_is_a_failure_not_unknown() {
    let text = format!("{WATCHING}web-1 0/1 Pending 0 0s\nweb-0 0/1 Pending 0 0s\nweb-0 1/1 Running 0 3s\n");
    assert_eq!(judged(&text, &Options::default(), CheckName::OrderedCreation).verdict, Verdict::Fail);
    // Straight after the header, web-1 is listed: a snapshot of a pod created before the watch,
    // when web-0 may have existed (and been force-deleted since). web-0 sorts before web-1, so
    // its row is an event: the listing ended. Only web-0's creation is judged.
    let text = "NAME READY STATUS RESTARTS AGE\nweb-1 0/1 Pending 0 0s\nweb-0 0/1 Pending 0 0s\nweb-0 1/1 Running 0 3s\n";
    let c = judged(text, &Options::default(), CheckName::OrderedCreation);
    assert_eq!((c.verdict, c.lines.as_slice()), (Verdict::Pass, &[3][..]), "{}", c.detail);
}

#[test]
fn parallel_policy_reports_parallelism_instead_of_order() {
    let text = format!(
        "{WATCHING}web-0 0/1 Pending 0 0s\nweb-1 0/1 Pending 0 0s\nweb-2 0/1 Pending 0 0s\n\
         web-1 1/1 Running 0 4s\nweb-0 1/1 Running 0 4s\nweb-2 1/1 Running 0 5s\n"
    );
    let text = text.as_str();
    let options = Options { policy: Policy::Parallel, ..Options::default() };
    let report = analyze::transcript(text, &options).expect("analyzable");
    let web = report.statefulsets.iter().find(|s| s.name == "web").expect("web found");
    assert!(web.checks.is_empty());
    assert_eq!(web.observed.max_starting_together, 3);
    let burst = Options { policy: Policy::Parallel, expect: vec![CheckName::ParallelBurst], ..Options::default() };
    assert_eq!(judged(text, &burst, CheckName::ParallelBurst).verdict, Verdict::Pass);
    assert_eq!(judged(text, &Options::default(), CheckName::OrderedCreation).verdict, Verdict::Fail);
}

#[test]
fn other_statefulsets_wide_output_and_init_containers() {
    let text = "\
$ kubectl get pods -o wide -w
NAME      READY   STATUS     RESTARTS      AGE   IP           NODE     NOMINATED NODE   READINESS GATES
db-0      2/2     Running    1 (3h ago)    3d    10.244.1.5   node-1   <none>           <none>
cache-0   1/1     Running    0             3d    10.244.2.7   node-2   <none>           <none>
db-1      0/2     Pending    0             0s    <none>       <none>   <none>           <none>
db-1      0/2     Init:0/1   0             1s    <none>       node-2   <none>           <none>
db-1      0/2     PodInitializing   0      4s    10.244.2.9   node-2   <none>           <none>
db-1      1/2     Running    0             6s    10.244.2.9   node-2   <none>           <none>
db-2      0/2     Pending    0             0s    <none>       <none>   <none>           <none>
db-1      2/2     Running    0             9s    10.244.2.9   node-2   <none>           <none>
";
    let report = analyze::transcript(text, &Options::default()).expect("analyzable");
    let db = report.statefulsets.iter().find(|s| s.name == "db").expect("db");
    assert_eq!(db.checks[0].verdict, Verdict::Fail, "{}", analyze::render_text(&report));
    assert!(db.checks[0].detail.contains("db-2 was created (line 9) while db-1 was Running but not Ready"));
    let cache = report.statefulsets.iter().find(|s| s.name == "cache").expect("cache");
    assert_eq!(cache.checks[0].verdict, Verdict::NotApplicable);
    assert_eq!(report.skipped_lines, [1]);
}

#[test]
fn statefulset_filter_and_unknown_names() {
    let options = Options { statefulset: Some("nope".into()), ..Options::default() };
    let report = analyze::transcript(SCALE_002, &options).expect("analyzable");
    assert_eq!(report.statefulsets.len(), 1);
    assert_eq!(report.statefulsets[0].checks[0].verdict, Verdict::NotApplicable);
    assert!(report.statefulsets[0].checks[0].detail.contains("no pod named nope-<ordinal>"));
}

fn cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sts-conformance"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("writes");
    let out = child.wait_with_output().expect("finishes");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn cli_exit_codes_and_json() {
    let (code, out, _) = cli(&["analyze", "-", "--expect", "reverse-termination", "-o", "json"], SCALE_002);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["statefulsets"][0]["name"], "web");
    assert_eq!(json["statefulsets"][0]["checks"][1]["check"], "reverse-termination");
    assert_eq!(json["statefulsets"][0]["checks"][1]["verdict"], "pass");
    assert_eq!(json["statefulsets"][0]["checks"][1]["lines"], serde_json::json!([42, 46, 50, 54]));
    assert!(json["skipped_lines"].as_array().is_some_and(|l| l.contains(&serde_json::json!(1))));

    let (code, out, _) = cli(&["analyze", "-"], &created_too_early());
    assert_eq!(code, 1);
    assert!(out.contains("ordered-creation") && out.contains("FAIL") && out.contains("lines 10-11"), "{out}");

    let (code, _, err) = cli(&["analyze", "-"], "hello\nworld\n");
    assert_eq!(code, 2);
    assert!(err.contains("no `kubectl get pods` rows"), "{err}");
    let (code, _, err) = cli(&["analyze", "-", "--expect", "dns"], SCALE_002);
    assert_eq!(code, 2);
    assert!(err.contains("--expect dns"), "{err}");
    let (code, _, err) = cli(&["analyze", "-", "--expect", "orderd-creation"], SCALE_002);
    assert_eq!(code, 2);
    assert!(err.contains("unknown check"), "{err}");
    let (code, _, err) = cli(&["analyze", "/nonexistent/transcript.txt"], "");
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/transcript.txt"), "{err}");
}

#[test]
fn recorded_timelines_judge_again_to_the_same_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8 path");
    let (code, _, err) = cli(&["run", "--sim", "--quiet", "--output-dir", out], "");
    assert_eq!(code, 0, "{err}");
    let mut scenarios = 0;
    for entry in std::fs::read_dir(dir.path()).expect("output dir") {
        let scenario = entry.expect("entry").path();
        let timeline = scenario.join("timeline.jsonl");
        let recorded: serde_json::Value =
            serde_json::from_slice(&std::fs::read(scenario.join("verdicts.json")).expect("verdicts.json")).expect("json");
        let (code, out, err) = cli(&["analyze", timeline.to_str().expect("utf-8"), "-o", "json"], "");
        assert_eq!(code, 0, "{err}");
        let again: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(again["claims"], recorded["claims"], "{}", scenario.display());
        assert_eq!(again["judged"], recorded["judged"], "{}", scenario.display());
        scenarios += 1;
    }
    assert!(scenarios >= 7, "one directory per scenario, got {scenarios}");
}

#[test]
fn a_recorded_timeline_with_the_order_broken_fails_on_the_claim() {
    use sts_conformance::{record, runner, timeline::Event};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8 path");
    let (code, _, err) = cli(&["run", "--sim", "--quiet", "--scenario", "seed-001-practice", "--output-dir", out], "");
    assert_eq!(code, 0, "{err}");
    let path = dir.path().join("seed-001-practice/timeline.jsonl");
    let (header, mut timeline) = record::read(&path, &std::fs::read_to_string(&path).expect("file")).expect("readable");
    // Move web-1's creation to just after web-0's: before web-0 was Ready.
    fn added(e: &sts_conformance::timeline::Entry, name: &str) -> bool {
        matches!(&e.event, Event::Pod { change: sts_conformance::timeline::Change::Added, pod } if pod.name == name)
    }
    let web0 = timeline.entries.iter().position(|e| added(e, "web-0")).expect("web-0 created");
    let web1 = timeline.entries.iter().position(|e| added(e, "web-1")).expect("web-1 created");
    let entry = timeline.entries.remove(web1);
    timeline.entries.insert(web0 + 1, entry);
    for (seq, e) in timeline.entries.iter_mut().enumerate() {
        e.seq = seq;
    }
    let judged = runner::judge_expectations(
        &header.expectations,
        &timeline,
        &header.namespace,
        &header.cluster_domain,
        &header.step_reports(),
    );
    let claims = runner::claim_verdicts_for(&header.claims, &header.expectations, &judged, &header.step_reports());
    let ordered = claims.iter().find(|c| c.claim == "001-ordered-create").expect("claim");
    assert_eq!(ordered.verdict, Verdict::Fail, "{}", ordered.evidence);
    assert!(ordered.evidence.contains("web-1 was created"), "{}", ordered.evidence);
}

/// Transcripts whose watch began in the middle of history, from how kubectl lists and then
/// prints changes: the listing is a snapshot, and nothing before it is known.
mod mid_history {
    use super::*;

    const HEADER: &str = "NAME    READY   STATUS              RESTARTS   AGE\n";

    fn all() -> Options {
        expect(&[CheckName::ReverseTermination, CheckName::ReverseRollout])
    }

    fn verdicts(body: &str) -> Vec<(CheckName, Verdict, String)> {
        let report = analyze::transcript(&format!("{HEADER}{body}"), &all()).expect("analyzable");
        let web = report.statefulsets.iter().find(|s| s.name == "web").expect("web found");
        web.checks.iter().map(|c| (c.check, c.verdict, c.detail.clone())).collect()
    }

    fn verdict(body: &str, check: CheckName) -> (Verdict, String) {
        verdicts(body).into_iter().find(|(c, ..)| *c == check).map(|(_, v, d)| (v, d)).expect("judged")
    }

    fn no_failure(body: &str) {
        for (check, v, detail) in verdicts(body) {
            assert_ne!(v, Verdict::Fail, "{check:?}: {detail}");
        }
    }

    /// A roll-out under way: web-2's replacement is already starting when the watch lists it.
    const MID_ROLLOUT: &str = "\
web-0   1/1     Running             0          10m
web-1   1/1     Running             0          10m
web-2   0/1     ContainerCreating   0          2s
web-2   1/1     Running             0          6s
web-1   1/1     Terminating         0          10m
web-1   0/1     Terminating         0          10m
web-1   0/1     Terminating         0          10m
web-1   0/1     Pending             0          0s
web-1   0/1     ContainerCreating   0          0s
web-1   1/1     Running             0          5s
web-0   1/1     Terminating         0          10m
web-0   0/1     Terminating         0          10m
web-0   0/1     Pending             0          0s
web-0   1/1     Running             0          4s
";

    #[test]
    fn a_rollout_under_way_passes_and_says_what_it_assumed() {
        no_failure(MID_ROLLOUT);
        let (v, detail) = verdict(MID_ROLLOUT, CheckName::ReverseRollout);
        assert_eq!(v, Verdict::Pass, "{detail}");
        assert!(detail.contains("web-2 was not replaced in this session: taken as updated"), "{detail}");
    }

    #[test]
    fn a_canary_raised_to_the_whole_set_does_not_fail() {
        // partition 2 was applied before the watch (web-2 updated then); lowering it replaces
        // web-1 and web-0 only.
        let body = "\
web-0   1/1     Running       0          10m
web-1   1/1     Running       0          10m
web-2   1/1     Running       0          3m
web-1   1/1     Terminating   0          10m
web-1   0/1     Terminating   0          10m
web-1   0/1     Pending       0          0s
web-1   1/1     Running       0          5s
web-0   1/1     Terminating   0          10m
web-0   0/1     Terminating   0          10m
web-0   0/1     Pending       0          0s
web-0   1/1     Running       0          4s
";
        no_failure(body);
        assert_eq!(verdict(body, CheckName::ReverseRollout).0, Verdict::Pass);
    }

    #[test]
    fn a_rollout_in_the_wrong_order_still_fails_when_the_order_is_printed() {
        // web-0 is replaced first, then web-1: web-1 was not updated when web-0 was replaced.
        let body = "\
web-0   1/1     Running       0          10m
web-1   1/1     Running       0          10m
web-2   1/1     Running       0          3m
web-0   1/1     Terminating   0          10m
web-0   0/1     Terminating   0          10m
web-0   0/1     Pending       0          0s
web-0   1/1     Running       0          4s
web-1   1/1     Terminating   0          10m
web-1   0/1     Terminating   0          10m
web-1   0/1     Pending       0          0s
web-1   1/1     Running       0          5s
";
        let (v, detail) = verdict(body, CheckName::ReverseRollout);
        assert_eq!(v, Verdict::Fail, "{detail}");
        assert!(detail.contains("web-0 was replaced (line 5) while web-1 was not yet updated"), "{detail}");
    }

    #[test]
    fn a_scale_down_under_way_passes() {
        let body = "\
web-0   1/1     Running       0          40m
web-1   1/1     Running       0          40m
web-2   1/1     Running       0          40m
web-3   1/1     Running       0          10m
web-4   0/1     Terminating   0          10m
web-4   0/1     Terminating   0          10m
web-3   1/1     Terminating   0          10m
web-3   0/1     Terminating   0          10m
web-3   0/1     Terminating   0          10m
web-2   1/1     Terminating   0          40m
web-2   0/1     Terminating   0          40m
web-2   0/1     Terminating   0          40m
";
        no_failure(body);
        assert_eq!(verdict(body, CheckName::ReverseTermination).0, Verdict::Pass);
    }

    #[test]
    fn a_deletion_the_transcript_does_not_show_is_inconclusive_not_failed() {
        let body = "\
web-0   1/1     Running       0          40m
web-1   1/1     Running       0          40m
web-2   1/1     Running       0          40m
web-2   1/1     Terminating   0          40m
web-1   1/1     Terminating   0          40m
web-0   1/1     Terminating   0          40m
";
        let (v, detail) = verdict(body, CheckName::ReverseTermination);
        assert_eq!(v, Verdict::Inconclusive, "{detail}");
        assert!(detail.contains("its deletion is not shown"), "{detail}");
        // The same, with web-2 printed again after web-1 began terminating: it was still there.
        let broken = body.replace(
            "web-0   1/1     Terminating   0          40m\n",
            "web-2   0/1     Terminating   0          40m\nweb-0   1/1     Terminating   0          40m\n",
        );
        let (v, detail) = verdict(&broken, CheckName::ReverseTermination);
        assert_eq!(v, Verdict::Fail, "{detail}");
        assert!(detail.contains("web-1 began terminating (line 6) while web-2 was still terminating"), "{detail}");
    }

    #[test]
    fn a_creation_under_way_judges_only_what_follows_the_listing() {
        let body = "\
web-0   1/1     Running             0          20s
web-1   0/1     ContainerCreating   0          1s
web-1   1/1     Running             0          6s
web-2   0/1     Pending             0          0s
web-2   1/1     Running             0          4s
";
        let (v, detail) = verdict(body, CheckName::OrderedCreation);
        assert_eq!(v, Verdict::Pass, "{detail}");
        assert!(detail.starts_with("created web-2 "), "{detail}");
        // A young pod listed while its predecessor is not Ready is a snapshot, not a creation
        // seen: not judged. web-2's creation, which the watch printed, is.
        let unready = body
            .replace("web-0   1/1     Running             0          20s", "web-0   0/1     Running             0          20s");
        let report = analyze::transcript(&format!("{HEADER}{unready}"), &all()).expect("analyzable");
        let web = &report.statefulsets[0];
        let c = web.checks.iter().find(|c| c.check == CheckName::OrderedCreation).expect("judged");
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(c.detail.contains("web-2 was created (line 5) while web-0 was Running but not Ready"), "{}", c.detail);
    }
}
