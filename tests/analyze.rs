//! `analyze` on real transcripts: the seed documents' `kubectl get pods -w` outputs judge as
//! their documents describe, and copies with the order broken fail naming the check and lines.

mod common;

use sts_conformance::{
    analyze::{self, CheckReport, Options},
    checks::{self, CheckName, Policy, Verdict},
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
    assert!(report.skipped_lines.contains(&1) && report.skipped_lines.contains(&171));
    // Commands and what kubectl reported are read, not skipped.
    assert!(!report.skipped_lines.contains(&173) && !report.skipped_lines.contains(&174));

    let report = analyze::transcript(DOCUMENT_000, &all).expect("analyzable");
    let names: Vec<&str> = report.statefulsets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["sfs-test01"]);
    // Snapshots only: no order is shown (the rest of the session is judged in `whole_sessions`).
    let order = analyze::TRANSCRIPT_CHECKS;
    assert!(
        report.statefulsets[0].checks.iter().filter(|c| order.contains(&c.check)).all(|c| c.verdict == Verdict::NotApplicable)
    );
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
    // Line 1 is the command: read, not skipped.
    assert!(report.skipped_lines.is_empty(), "{:?}", report.skipped_lines);
}

#[test]
fn statefulset_filter_and_unknown_names() {
    let options = Options { statefulset: Some("nope".into()), ..Options::default() };
    let error = analyze::transcript(SCALE_002, &options).unwrap_err();
    assert_eq!(error, analyze::AnalyzeError::NoSuchSet { name: "nope".into(), seen: vec!["web".into()] });
    assert!(error.to_string().contains("(it shows web)"), "{error}");
    let options = Options { statefulset: Some("web".into()), ..Options::default() };
    let report = analyze::transcript(SCALE_002, &options).expect("analyzable");
    assert_eq!(report.statefulsets.len(), 1);
}

#[test]
fn ordinals_no_statefulset_can_have_are_not_a_set() {
    // 99999999999 is beyond any ordinal (an int32): the transcript shows no StatefulSet.
    let text = "NAME              READY   STATUS    RESTARTS   AGE\nweb-99999999999   0/1     Pending   0          1s\n";
    let error = analyze::transcript(text, &Options::default()).unwrap_err();
    assert!(matches!(error, analyze::AnalyzeError::NoSets(2)), "{error}");
    // The largest ordinal is judged, at the cost of its lines, not of its value.
    let text = "NAME              READY   STATUS    RESTARTS   AGE\nweb-2147483647    0/1     Pending   0          0s\nweb-2147483647    0/1     ContainerCreating   0   1s\n";
    let report = analyze::transcript(text, &Options::default()).expect("analyzable");
    assert_eq!(report.statefulsets[0].name, "web");
}

fn cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    common::run(common::hermetic(), args, stdin)
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
    assert!(
        json["skipped_lines"].as_array().is_some_and(|l| l.contains(&serde_json::json!(7)) && !l.contains(&serde_json::json!(1)))
    );

    let (code, out, _) = cli(&["analyze", "-"], &created_too_early());
    assert_eq!(code, 1);
    assert!(out.contains("ordered-creation") && out.contains("FAIL") && out.contains("lines 10-11"), "{out}");

    let (code, _, err) = cli(&["analyze", "-"], "hello\nworld\n");
    assert_eq!(code, 2);
    assert!(err.contains("no kubectl output found"), "{err}");
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
        if !scenario.is_dir() {
            continue; // report.html
        }
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
    use sts_conformance::{record, timeline::Event};
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf-8 path");
    let (code, _, err) = cli(&["run", "--sim", "--quiet", "--scenario", "seed-001-practice", "--output-dir", out], "");
    assert_eq!(code, 0, "{err}");
    let path = dir.path().join("seed-001-practice/timeline.jsonl");
    let (header, mut timeline) = record::read(&path, &std::fs::read_to_string(&path).expect("file")).expect("readable");
    // Move web-1's creation to just after web-0's: before web-0 was Ready.
    fn added(e: &sts_conformance::timeline::Entry, name: &str) -> bool {
        matches!(&e.event, Event::Pod { change: sts_conformance::timeline::Change::Added, pod } if &*pod.name == name)
    }
    let web0 = timeline.entries.iter().position(|e| added(e, "web-0")).expect("web-0 created");
    let web1 = timeline.entries.iter().position(|e| added(e, "web-1")).expect("web-1 created");
    let entry = timeline.entries.remove(web1);
    timeline.entries.insert(web0 + 1, entry);
    for (seq, e) in timeline.entries.iter_mut().enumerate() {
        e.seq = seq;
    }
    let claims = claims_of(&header, &timeline);
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

/// Whole terminal sessions: the seed documents fed whole, and copies with one fact broken.
mod whole_sessions {
    use super::*;

    const DOCUMENT_001: &str = include_str!("fixtures/transcripts/seed-001-document.txt");
    const DOCUMENT_003: &str = include_str!("fixtures/transcripts/seed-003-document.txt");
    const DOCUMENT_004: &str = include_str!("fixtures/transcripts/seed-004-document.txt");

    fn all() -> Options {
        expect(&[CheckName::ReverseTermination, CheckName::ReverseRollout])
    }

    /// The verdicts other than not-applicable for set `set`.
    fn verdicts(text: &str, set: &str) -> Vec<(CheckName, Verdict)> {
        let report = analyze::transcript(text, &all()).expect("analyzable");
        assert!(!report.failed(), "{}", analyze::render_text(&report));
        let family = report.statefulsets.iter().find(|s| s.name == set).expect("set found");
        family.checks.iter().filter(|c| c.verdict != Verdict::NotApplicable).map(|c| (c.check, c.verdict)).collect()
    }

    fn report_of(text: &str, set: &str, check: CheckName) -> CheckReport {
        let report = analyze::transcript(text, &all()).expect("analyzable");
        let family = report.statefulsets.iter().find(|s| s.name == set).expect("set found");
        family.checks.iter().find(|c| c.check == check).expect("judged").clone()
    }

    #[test]
    fn seed_000_judges_the_headless_service_claim_names_and_the_static_shortage() {
        assert_eq!(
            verdicts(DOCUMENT_000, "sfs-test01"),
            [
                (CheckName::HeadlessService, Verdict::Pass),
                (CheckName::StableIdentity, Verdict::Pass),
                (CheckName::SurvivorsUnchanged, Verdict::Pass),
                (CheckName::PodHttp, Verdict::Pass),
                (CheckName::PvcNaming, Verdict::Pass),
                (CheckName::StaticShortage, Verdict::Pass)
            ]
        );
        let kept = report_of(DOCUMENT_000, "sfs-test01", CheckName::SurvivorsUnchanged);
        assert!(kept.detail.contains("sfs-test01-2 went away and sfs-test01-0, sfs-test01-1 stayed"), "{}", kept.detail);
        let http = report_of(DOCUMENT_000, "sfs-test01", CheckName::PodHttp);
        assert!(
            http.detail.starts_with("192.168.131.87 (line 203, sfs-test01-0's IP at line 192) answered: <!DOCTYPE html>"),
            "{}",
            http.detail
        );
        let bound = report_of(DOCUMENT_000, "sfs-test01", CheckName::PvcNaming);
        assert!(
            bound.detail.contains("each volume listed names its claim back: sfs-vol01-sfs-test01-0 (line 305)"),
            "{}",
            bound.detail
        );
        let shortage = report_of(DOCUMENT_000, "sfs-test01", CheckName::StaticShortage);
        assert!(
            shortage.detail.contains("sfs-vol01-sfs-test01-1 is Pending with a ProvisioningFailed event (line 395)"),
            "{}",
            shortage.detail
        );
    }

    #[test]
    fn seed_001_judges_the_creation_order_and_the_headless_service() {
        assert_eq!(
            verdicts(DOCUMENT_001, "web"),
            [(CheckName::OrderedCreation, Verdict::Pass), (CheckName::HeadlessService, Verdict::Pass)]
        );
    }

    #[test]
    fn seed_002_judges_every_claim_it_shows() {
        assert_eq!(
            verdicts(DOCUMENT_002, "web"),
            [
                (CheckName::OrderedCreation, Verdict::Pass),
                (CheckName::ReverseTermination, Verdict::Pass),
                (CheckName::ReverseRollout, Verdict::Pass),
                (CheckName::HeadlessService, Verdict::Pass),
                (CheckName::Dns, Verdict::Pass),
                (CheckName::StableIdentity, Verdict::Pass),
                (CheckName::PvcNaming, Verdict::Pass),
                (CheckName::PvcRetention, Verdict::Pass),
                (CheckName::Reattach, Verdict::Pass),
            ]
        );
    }

    #[test]
    fn documents_without_cluster_output_say_so() {
        for text in [DOCUMENT_003, DOCUMENT_004] {
            let error = analyze::transcript(text, &all()).expect_err("nothing to judge");
            assert!(error.to_string().contains("no kubectl output found"), "{error}");
        }
    }

    #[test]
    fn a_wrong_claim_name_fails_pvc_naming() {
        let broken = edit_line(DOCUMENT_002, 123, "www-web-1 ", "www-web1  ");
        let c = report_of(&broken, "web", CheckName::PvcNaming);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(c.detail.contains("web-1 existed (line 110) but the claim listing at line 120 has no www-web-1"), "{}", c.detail);
        assert!(c.lines.contains(&110) && c.lines.contains(&120), "{:?}", c.lines);
    }

    #[test]
    fn an_answer_with_another_pods_ip_fails_dns() {
        let broken = edit_line(DOCUMENT_002, 143, "10.32.2.13", "10.32.2.12");
        let c = report_of(&broken, "web", CheckName::Dns);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(
            c.detail.contains("web-1.nginx.default.svc answered 10.32.2.12 (line 142), but web-1's IP is 10.32.2.13 (line 157)"),
            "{}",
            c.detail
        );
        assert!(c.lines.contains(&143), "{:?}", c.lines);
    }

    #[test]
    fn a_claim_missing_after_the_scale_down_fails_retention() {
        let mut lines: Vec<&str> = DOCUMENT_002.lines().collect();
        assert!(lines[230].starts_with("www-web-3 "), "{}", lines[230]);
        lines.remove(230);
        let broken = lines.join("\n") + "\n";
        let c = report_of(&broken, "web", CheckName::PvcRetention);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(
            c.detail.contains(
                "claim www-web-3 (line 186) is missing from the listing at line 226 after the scale-down to 1 (line 199)"
            ),
            "{}",
            c.detail
        );
    }

    const HOSTNAMES: &str = "\
$ for i in 0 1; do kubectl exec \"web-$i\" -- sh -c 'hostname'; done
web-0
web-1
$ kubectl get pods -o wide
NAME    READY   STATUS    RESTARTS   AGE   IP           NODE     NOMINATED NODE   READINESS GATES
web-0   1/1     Running   0          2m    10.244.0.5   node-1   <none>           <none>
web-1   1/1     Running   0          2m    10.244.0.6   node-1   <none>           <none>
";

    #[test]
    fn hostnames_are_the_pod_names() {
        let c = report_of(HOSTNAMES, "web", CheckName::StableIdentity);
        assert_eq!((c.verdict, c.lines.as_slice()), (Verdict::Pass, &[2, 3, 6, 7][..]), "{}", c.detail);
        let broken = HOSTNAMES.replacen("web-1\n", "web-0\n", 1);
        let c = report_of(&broken, "web", CheckName::StableIdentity);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(c.detail.contains("hostname in web-1 printed web-0 (line 3)"), "{}", c.detail);
    }

    #[test]
    fn a_service_lookup_answers_every_ready_pod() {
        let text = format!(
            "{HOSTNAMES}$ kubectl run -it --rm --image=busybox dns-test -- nslookup nginx\n\
             Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
             Name:\tnginx.default.svc.cluster.local\nAddress: 10.244.0.5\n\
             Name:\tnginx.default.svc.cluster.local\nAddress: 10.244.0.6\n\
             $ kubectl run -it --rm --image=busybox dns-test -- nslookup web-0.nginx\n\
             Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
             Name:\tweb-0.nginx.default.svc.cluster.local\nAddress: 10.244.0.5\n"
        );
        let c = report_of(&text, "web", CheckName::Dns);
        assert_eq!(c.verdict, Verdict::Pass, "{}", c.detail);
        assert!(c.detail.contains("nginx answered every Ready pod's IP"), "{}", c.detail);
        // A pod looked up while not found: not judged as broken.
        let missing = text.replace(
            "Name:\tweb-0.nginx.default.svc.cluster.local\nAddress: 10.244.0.5\n",
            "** server can't find web-0.nginx: NXDOMAIN\n",
        );
        assert_eq!(report_of(&missing, "web", CheckName::Dns).verdict, Verdict::Inconclusive);
    }

    #[test]
    fn a_running_pod_with_a_pending_claim_in_one_output_fails_and_a_delete_policy_is_not_judged() {
        let text = "\
$ kubectl get pod,pvc
NAME        READY   STATUS    RESTARTS   AGE
pod/db-0    1/1     Running   0          5m
pod/db-1    1/1     Running   0          1m
NAME                                STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE
persistentvolumeclaim/data-db-0     Bound     pv-0     1Gi        RWO            fast           5m
persistentvolumeclaim/data-db-1     Pending                                      fast           1m
";
        let c = report_of(text, "db", CheckName::StaticShortage);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(
            c.detail.contains("db-1 is Running and Ready (line 4) while its claim data-db-1 is Pending (line 7)"),
            "{}",
            c.detail
        );

        let scaled = "\
$ kubectl get pvc
NAME        STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE
data-db-0   Bound    pv-0     1Gi        RWO            fast           5m
data-db-1   Bound    pv-1     1Gi        RWO            fast           5m
$ kubectl scale sts db --replicas=1
statefulset.apps/db scaled
$ kubectl get pvc
NAME        STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE
data-db-0   Bound    pv-0     1Gi        RWO            fast           6m
";
        // The claim that went with db-1 is missing: under the default policy a failure...
        let with_pods = format!("NAME READY STATUS RESTARTS AGE\ndb-0 1/1 Running 0 5m\ndb-1 1/1 Running 0 5m\n{scaled}");
        let c = report_of(&with_pods, "db", CheckName::PvcRetention);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        // ...but not when the session shows the set asks for it.
        let policy = format!("  persistentVolumeClaimRetentionPolicy:\n    whenScaled: Delete\n{with_pods}");
        assert_eq!(report_of(&policy, "db", CheckName::PvcRetention).verdict, Verdict::Inconclusive);
        // A claim bound to another volume after the scale-down is a new claim.
        let rebound = with_pods.replace("data-db-0   Bound    pv-0     1Gi        RWO            fast           6m", "data-db-0   Bound    pv-9     1Gi        RWO            fast           6m\ndata-db-1   Bound    pv-1     1Gi        RWO            fast           6m");
        let c = report_of(&rebound, "db", CheckName::PvcRetention);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(c.detail.contains("claim data-db-0 was bound to pv-0"), "{}", c.detail);
    }

    #[test]
    fn snapshots_and_generated_names_confirm_but_never_fail() {
        let text = "\
$ kubectl get pods -o wide
NAME                                  READY   STATUS    RESTARTS   AGE   IP          NODE     NOMINATED NODE   READINESS GATES
my-nginx-deployment-6b474476c4-x2k4z  1/1     Running   0          2m    10.1.0.9    node-1   <none>           <none>
web-0                                 1/1     Running   0          9m    10.1.0.5    node-1   <none>           <none>
web-1                                 1/1     Running   0          8m    10.1.0.6    node-1   <none>           <none>
web-2                                 1/1     Running   0          7m    10.1.0.7    node-1   <none>           <none>
$ kubectl get pods -o wide
NAME                                  READY   STATUS    RESTARTS   AGE   IP          NODE     NOMINATED NODE   READINESS GATES
web-0                                 1/1     Running   0          10m   10.1.0.5    node-1   <none>           <none>
web-2                                 1/1     Running   0          8m    10.1.0.7    node-1   <none>           <none>
";
        let contrast = report_of(text, "web", CheckName::DeploymentContrast);
        assert_eq!(contrast.verdict, Verdict::Pass, "{}", contrast.detail);
        assert!(contrast.detail.contains("Deployment my-nginx-deployment's ReplicaSet"), "{}", contrast.detail);
        // web-1 went, not the highest ordinal: a replacement under way looks the same.
        let kept = report_of(text, "web", CheckName::SurvivorsUnchanged);
        assert_eq!(kept.verdict, Verdict::Inconclusive, "{}", kept.detail);
        // The highest went but web-0's IP changed: it may have been replaced in between.
        let moved = text
            .replace(
                "web-2                                 1/1     Running   0          8m    10.1.0.7",
                "web-1                                 1/1     Running   0          9m    10.1.0.6",
            )
            .replace(
                "web-0                                 1/1     Running   0          10m   10.1.0.5",
                "web-0                                 1/1     Running   0          10m   10.1.0.8",
            );
        let kept = report_of(&moved, "web", CheckName::SurvivorsUnchanged);
        assert_eq!(kept.verdict, Verdict::Inconclusive, "{}", kept.detail);
        assert!(kept.detail.contains("web-0 changed IP"), "{}", kept.detail);
    }

    #[test]
    fn a_pod_that_does_not_answer_http_is_inconclusive() {
        let text = format!(
            "{HOSTNAMES}root@client:/# curl 10.244.0.5\ncurl: (7) Failed to connect to 10.244.0.5 port 80: Connection refused\n"
        );
        let c = report_of(&text, "web", CheckName::PodHttp);
        assert_eq!(c.verdict, Verdict::Inconclusive, "{}", c.detail);
        let ok = format!("{HOSTNAMES}root@client:/# curl 10.244.0.5\n<html><title>Welcome to nginx!</title></html>\n");
        assert_eq!(report_of(&ok, "web", CheckName::PodHttp).verdict, Verdict::Pass);
    }
}

/// The claim verdicts of recorded timeline `path` after `change` edits its entries.
fn rejudged(
    path: &std::path::Path,
    change: impl Fn(&mut sts_conformance::timeline::Event),
) -> Vec<sts_conformance::runner::ClaimVerdict> {
    let (header, mut timeline) =
        sts_conformance::record::read(path, &std::fs::read_to_string(path).expect("file")).expect("readable");
    for entry in &mut timeline.entries {
        change(&mut entry.event);
    }
    claims_of(&header, &timeline)
}

/// The claim verdicts of `timeline` judged as its header says.
fn claims_of(
    header: &sts_conformance::record::Header,
    timeline: &sts_conformance::timeline::Timeline,
) -> Vec<sts_conformance::runner::ClaimVerdict> {
    use sts_conformance::runner;
    let judged = runner::judge_expectations(
        &header.expectations,
        timeline,
        &header.namespace,
        &header.cluster_domain,
        &header.step_reports(),
    );
    runner::claim_verdicts_for(&header.claims, &header.expectations, &judged, &header.step_reports())
}

/// A DaemonSet's history as the real kube-controller-manager and kube-scheduler made it
/// (`tests/fixtures/timelines/`): the check agrees with the controller, and a copy in which
/// the template never gained its toleration shows the control-plane pod as misplaced.
#[test]
fn a_daemon_sets_real_history_passes_and_a_template_without_its_toleration_fails() {
    use sts_conformance::timeline::Event;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines/seed-004-daemonset.kwok.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8"), "-o", "json"], "");
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["claims"][0]["verdict"], "pass", "{out}");
    let toleration_step = &json["judged"][1]["detail"];
    assert!(toleration_step.as_str().is_some_and(|d| d.contains("each of the 3 nodes")), "{toleration_step}");

    let claims = rejudged(&path, |event| {
        if let Event::DaemonSet { set, .. } = event {
            set.placement.tolerations.clear();
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("was created for kwok-node-0, but kwok-node-0 has the taint"), "{}", claims[0].evidence);
}

/// A Job's history on the testbed's real node: the check agrees with the Job controller and
/// the kubelet, and the same history against a parallelism of 1 shows two pods at once.
#[test]
fn a_jobs_real_history_passes_and_fails_against_a_lower_parallelism() {
    use sts_conformance::timeline::Event;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines/seed-004-job-parallel.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("5 pods succeeded for 5 completions, at most 2 running at once"), "{out}");

    let claims = rejudged(&path, |event| {
        if let Event::Job { job, .. } = event {
            job.parallelism = 1;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("2 pods of backup-job ran at once"), "{}", claims[0].evidence);
}

/// CronJobs' history as the real kube-controller-manager made it on the testbed: the check
/// agrees with the CronJob controller under each policy, and the same history read as if the
/// Allow CronJob said Forbid shows its overlapping runs.
#[test]
fn a_cron_jobs_real_history_passes_and_fails_under_a_policy_it_did_not_have() {
    use sts_conformance::timeline::Event;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines/seed-004-cronjob.kwok.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8"), "-o", "json"], "");
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(json["claims"][0]["verdict"], "pass", "{out}");
    let details: Vec<&str> = json["judged"].as_array().expect("judged").iter().filter_map(|j| j["detail"].as_str()).collect();
    assert!(details.iter().any(|d| d.contains("Forbid: 1 of them waited")), "{details:?}");
    assert!(details.iter().any(|d| d.starts_with("daily-backup-replace") && d.contains("deleted for a new one")), "{details:?}");

    let claims = rejudged(&path, |event| {
        if let Event::CronJob { cron, .. } = event
            && cron.name == "daily-backup-allow"
        {
            cron.concurrency_policy = "Forbid".into();
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("still ran (concurrencyPolicy Forbid)"), "{}", claims[0].evidence);
}

/// The same CronJobs on the testbed's real node (the kubelet runs `sleep 90`), and the API
/// server's refusal of a Job with restartPolicy Always: both judged as recorded pass.
#[test]
fn the_real_nodes_cron_jobs_and_the_api_servers_refusal_pass_as_recorded() {
    use sts_conformance::timeline::Event;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines");
    let cron = dir.join("seed-004-cronjob.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", cron.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let refused = dir.join("seed-004-job-refused.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", refused.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("spec.template.spec.restartPolicy: Required value"), "{out}");
    // Without the API server's answer there is no evidence either way.
    let claims = rejudged(&refused, |event| {
        if let Event::Refused(r) = event {
            r.name = "something-else".into();
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Inconclusive, "{}", claims[0].evidence);
}

/// A Job whose pods always fail, on the testbed's real node: the Job controller retries within
/// backoffLimit and gives up; read against a lower limit, the last retry is one too many.
#[test]
fn a_failing_jobs_real_history_passes_and_fails_against_a_lower_backoff_limit() {
    use sts_conformance::timeline::Event;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines/seed-004-job-backoff.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("after 3 failed pods, backoffLimit 2"), "{out}");
    let claims = rejudged(&path, |event| {
        if let Event::Job { job, .. } = event {
            job.backoff_limit = 1;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(
        claims[0].evidence.contains("created after 2 pods of backup-job had failed, backoffLimit 1"),
        "{}",
        claims[0].evidence
    );
}

/// The history of `file` (`tests/fixtures/timelines/`), with its header.
fn fixture(file: &str) -> (std::path::PathBuf, sts_conformance::record::Header, sts_conformance::timeline::Timeline) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timelines").join(file);
    let (header, timeline) =
        sts_conformance::record::read(&path, &std::fs::read_to_string(&path).expect("file")).expect("readable");
    (path, header, timeline)
}

/// `check` on step `index` of `timeline`, for the StatefulSet `web`.
fn judge_step(timeline: &sts_conformance::timeline::Timeline, index: usize, check: CheckName) -> checks::Outcome {
    let range = timeline.step_range(index).expect("step recorded");
    let window = checks::Window {
        timeline,
        range,
        target: "web",
        namespace: "ns",
        cluster_domain: "cluster.local",
        expect_body: None,
        default_policy: checks::Policy::Ordered,
        ended_early: false,
        ended_at_ms: None,
    };
    checks::evaluate(check, &window)
}

/// Pods held unready on the real node (`breakReadiness`): the real kube-controller-manager
/// halts a scale-up and a scale-down while a pod is unready, removes an unready top pod first,
/// and recreates a deleted pod below an unready one — every claim passes. Read as if web-0
/// had never become Ready again, the creations of web-3 and web-4 went past an unready pod.
#[test]
fn unhealthy_pods_real_history_passes_and_a_controller_past_an_unready_pod_fails() {
    use sts_conformance::timeline::Event;
    let (path, _, timeline) = fixture("seed-002-unhealthy.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8"), "-o", "json"], "");
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let details: Vec<&str> = json["judged"].as_array().expect("judged").iter().filter_map(|j| j["detail"].as_str()).collect();
    for wanted in ["held while web-0 was not Ready, for 15 s", "which the set keeps", "removed first", "no deadlock"] {
        assert!(details.iter().any(|d| d.contains(wanted)), "{wanted}: {details:?}");
    }
    // web-0 never Ready again after its readiness was broken (step 2).
    let broken = timeline.step_range(1).expect("step 2").start;
    let mut never = timeline.clone();
    for entry in &mut never.entries[broken..] {
        if let Event::Pod { pod, .. } = &mut entry.event
            && &*pod.name == "web-0"
        {
            std::sync::Arc::make_mut(pod).ready = false;
        }
    }
    let out = judge_step(&never, 3, CheckName::HaltOnUnhealthy);
    assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
    assert!(out.detail.contains("web-3 was created") && out.detail.contains("web-0 was Running but not Ready"), "{}", out.detail);
}

/// A Parallel set on the real node scales up past a pod held unready and down with every pod
/// unready; read as if its pods had come 25 s after the scale, the controller waited.
#[test]
fn a_parallel_burst_real_history_passes_and_a_late_one_fails() {
    use sts_conformance::timeline::{Change, Event};
    let (path, _, timeline) = fixture("seed-002-burst-unhealthy.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8"), "-o", "json"], "");
    assert_eq!(code, 0, "{out}{err}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("json");
    let up = json["judged"][0]["detail"].as_str().unwrap_or_default();
    assert!(up.contains("web-1 was created") && up.contains("web-0 was not Running and Ready"), "{out}");
    let first_new = timeline
        .entries
        .iter()
        .position(|e| matches!(&e.event, Event::Pod { change: Change::Added, pod } if &*pod.name == "web-1"))
        .expect("web-1 created");
    let mut late = timeline.clone();
    for entry in &mut late.entries[first_new..] {
        entry.at_ms += 25_000;
    }
    let out = judge_step(&late, 2, CheckName::ParallelBurst);
    assert_eq!(out.verdict, Verdict::Fail, "{}", out.detail);
    assert!(out.detail.contains("web-1 was not created") && out.detail.contains("waited for readiness"), "{}", out.detail);
}

/// `spec.ordinals.start` set, raised, lowered and removed on the real node: every check counts
/// from the start and passes. Read as if the start were 0 (what the checks assumed before), the
/// set would have had the wrong pods: the verdict a conformant cluster used to get.
#[test]
fn a_start_ordinal_real_history_passes_and_counting_from_zero_would_fail_it() {
    use sts_conformance::timeline::Event;
    let (path, _, _) = fixture("e2e-start-ordinal.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event {
            set.start_ordinal = 0;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("had ordinals [2, 3] at the end, expected [0, 1]"), "{}", claims[0].evidence);
}

/// OnDelete on the real node: a template change replaces nothing, a pod deleted by hand and a
/// scale-up's new pod come on the update revision. Read as if the controller had deleted web-1
/// itself (its Event), or had brought it back on the old revision, it fails.
#[test]
fn an_on_delete_real_history_passes_and_a_controller_that_rolls_or_restores_fails() {
    use sts_conformance::timeline::Event;
    let (path, _, _) = fixture("e2e-on-delete.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let claims = rejudged(&path, |event| {
        if let Event::KubeEvent(e) = event
            && e.message == "create Pod web-1 in StatefulSet web successful"
        {
            e.reason = "SuccessfulDelete".into();
            e.message = "delete Pod web-1 in StatefulSet web successful".into();
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("the controller deleted web-1"), "{}", claims[0].evidence);
    let claims = rejudged(&path, |event| {
        if let Event::Pod { pod, .. } = event
            && pod.revision() == Some("web-7bf5c9f5bb")
            && &*pod.name == "web-1"
        {
            std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(pod).spec)
                .labels
                .insert("controller-revision-hash".into(), "web-756f465c5b".into());
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(
        claims[0].evidence.contains("web-1 was created on revision web-756f465c5b, not the update revision"),
        "{}",
        claims[0].evidence
    );
}

/// A roll-out and its roll-back on the real node: the way back reuses the first revision and
/// the status agrees with the pods. Read as if the controller had made a new revision for the
/// old template, or had left `currentReplicas` behind, it fails.
#[test]
fn a_rollback_real_history_passes_and_a_new_revision_or_a_stale_status_fails() {
    use sts_conformance::timeline::Event;
    let (path, _, timeline) = fixture("e2e-rollback.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    // The revision of the first template, as the status named it in step 1.
    let first = timeline
        .entries
        .iter()
        .find_map(|e| match &e.event {
            Event::StatefulSet { set, .. } if set.status_current() => set.update_revision.clone(),
            _ => None,
        })
        .expect("a revision");
    // The way back named a new revision (from generation 2 on, where the first one is named).
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event
            && set.generation > Some(1)
        {
            for revision in [&mut set.update_revision, &mut set.current_revision] {
                if revision.as_deref() == Some(first.as_str()) {
                    *revision = Some("web-0000000000".into());
                }
            }
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("made a new revision web-0000000000"), "{}", claims[0].evidence);
    // The last status counted one pod fewer on the current revision than there were.
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event
            && set.current_replicas == Some(3)
            && set.generation == Some(3)
        {
            set.current_replicas = Some(2);
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("currentReplicas 2, but 3 pods"), "{}", claims[0].evidence);
}

/// Retention Delete on the real node: a scale-down removes the removed pods' claims, deleting
/// the set removes the rest, and the kept claims name the set as owner. Read as if the
/// controller had never given them that owner, it fails.
#[test]
fn a_pvc_delete_real_history_passes_and_claims_without_the_set_as_owner_fail() {
    use sts_conformance::timeline::Event;
    let (path, _, _) = fixture("e2e-pvc-delete.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let claims = rejudged(&path, |event| {
        if let Event::Claim { claim, .. } = event
            && let Some(owners) = &mut claim.owners
        {
            owners.retain(|o| !o.starts_with("StatefulSet/"));
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("has no owner reference to StatefulSet/web"), "{}", claims[0].evidence);
}

/// minReadySeconds on the real node: each pod is created well after its predecessor has been
/// Ready 10 s. Read as if the set asked for 30 s, the same creations come too early.
#[test]
fn a_min_ready_real_history_passes_and_the_same_creations_under_a_longer_wait_fail() {
    use sts_conformance::timeline::Event;
    let (path, _, _) = fixture("e2e-min-ready.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event {
            set.min_ready_seconds = 30;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("became Ready (minReadySeconds 30)"), "{}", claims[0].evidence);
}

/// A failed pod on the real node: its kubelet fails web-1, the controller makes it again. Read
/// as if the new web-1 were the failed one still (one UID throughout), it was never replaced.
#[test]
fn a_failed_pod_real_history_passes_and_a_pod_never_replaced_fails() {
    use sts_conformance::timeline::Event;
    let (path, _, timeline) = fixture("e2e-failed-pod.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let failed_uid = timeline
        .entries
        .iter()
        .find_map(|e| match &e.event {
            Event::Pod { pod, .. } if &*pod.name == "web-1" && pod.phase == "Failed" => Some(pod.uid.clone()),
            _ => None,
        })
        .expect("web-1 failed");
    let claims = rejudged(&path, |event| {
        if let Event::Pod { pod, change } = event
            && &*pod.name == "web-1"
        {
            std::sync::Arc::make_mut(pod).uid = failed_uid.clone();
            if *change == sts_conformance::timeline::Change::Deleted {
                // Never gone: the same pod all along.
                *change = sts_conformance::timeline::Change::Modified;
            }
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("web-1 failed (#"), "{}", claims[0].evidence);
}

/// maxUnavailable 2 on the real node (feature gate on): pods replaced two at a time, highest
/// first. Read as if the set said 1, the second of each pair went while the first was out; read
/// without the field (a cluster without the gate), the claim is skipped, not failed.
#[test]
fn a_max_unavailable_real_history_passes_and_the_same_pairs_under_a_budget_of_one_fail() {
    use sts_conformance::timeline::Event;
    let (path, _, _) = fixture("e2e-max-unavailable.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event {
            set.max_unavailable = Some("1".into());
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("pods were unavailable already"), "{}", claims[0].evidence);
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event {
            set.max_unavailable = None;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Skipped, "{}", claims[0].evidence);
}

/// The API surface on the real node: every answer agrees with the watch at its version. Read
/// as if the object at the version a `PUT …/scale` answered still had the old replicas, or as if
/// the delete-collection had also removed the bystander, the claim fails.
#[test]
fn an_api_surface_real_history_passes_and_a_lost_scale_write_or_a_wider_delete_fails() {
    use sts_conformance::timeline::{ApiCall, Change, Event, ProbeObs};
    let (path, _, timeline) = fixture("e2e-api-surface.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    let written = timeline
        .entries
        .iter()
        .find_map(|e| match e.event.probe() {
            Some(ProbeObs::Api { request: ApiCall::UpdateScale { .. }, answer: Ok(a) }) => a.resource_version.clone(),
            _ => None,
        })
        .expect("a PUT of the scale subresource");
    let claims = rejudged(&path, |event| {
        if let Event::StatefulSet { set, .. } = event
            && set.resource_version.as_deref() == Some(written.as_str())
        {
            set.replicas = 1;
        }
    });
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("spec.replicas 2 (watch: 1)"), "{}", claims[0].evidence);
    // The bystander api-b deleted right after api-a.
    let (header, mut timeline) =
        sts_conformance::record::read(&path, &std::fs::read_to_string(&path).expect("file")).expect("readable");
    let deleted = timeline
        .entries
        .iter()
        .position(|e| matches!(&e.event, Event::StatefulSet { change: Change::Deleted, set } if set.name == "api-a"))
        .expect("api-a deleted");
    let bystander = timeline
        .entries
        .iter()
        .rev()
        .find_map(|e| match &e.event {
            Event::StatefulSet { set, .. } if set.name == "api-b" => Some(set.clone()),
            _ => None,
        })
        .expect("api-b seen");
    let at = timeline.entries[deleted].at_ms;
    timeline.entries.insert(
        deleted + 1,
        sts_conformance::timeline::Entry {
            seq: 0,
            at_ms: at,
            event: Event::StatefulSet { change: Change::Deleted, set: bystander },
        },
    );
    for (i, entry) in timeline.entries.iter_mut().enumerate() {
        entry.seq = i;
    }
    let claims = claims_of(&header, &timeline);
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("also deleted api-b"), "{}", claims[0].evidence);
}

/// Adoption and release on the real node: web-0 orphaned is adopted again within moments, made
/// not to match is released, and matching again is adopted. Read as if the controller had left
/// the orphan alone for a minute, the claim fails.
#[test]
fn an_adoption_real_history_passes_and_an_orphan_left_alone_fails() {
    use sts_conformance::timeline::Event;
    let (path, _, timeline) = fixture("e2e-adoption.real-node.jsonl");
    let (code, out, err) = cli(&["analyze", path.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{out}{err}");
    // The first entry that shows web-0 without an owner, and the adoption after it.
    let orphaned = timeline
        .entries
        .iter()
        .position(|e| matches!(&e.event, Event::Pod { pod, .. } if &*pod.name == "web-0" && pod.spec.owner.is_none()))
        .expect("web-0 orphaned");
    let (header, mut timeline) =
        sts_conformance::record::read(&path, &std::fs::read_to_string(&path).expect("file")).expect("readable");
    // Every observation of web-0 from the orphaning on shows it ownerless, and a minute passes
    // before the step's end.
    for entry in &mut timeline.entries[orphaned..] {
        if let Event::Pod { pod, .. } = &mut entry.event
            && &*pod.name == "web-0"
        {
            std::sync::Arc::make_mut(&mut std::sync::Arc::make_mut(pod).spec).owner = None;
        }
    }
    let step_end = timeline.entries[orphaned..].iter().position(|e| matches!(e.event, Event::Step { .. })).expect("next step");
    for entry in &mut timeline.entries[orphaned + step_end..] {
        entry.at_ms += 60_000;
    }
    let claims = claims_of(&header, &timeline);
    assert_eq!(claims[0].verdict, Verdict::Fail, "{}", claims[0].evidence);
    assert!(claims[0].evidence.contains("still not adopted"), "{}", claims[0].evidence);
}

#[test]
fn analyze_html_draws_a_transcript_and_refuses_an_unknown_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("t.html");
    let transcript = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/transcripts/seed-002-scale.txt");
    let (code, _, err) = cli(&["analyze", transcript, "--html", out.to_str().expect("utf-8")], "");
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&out).expect("written");
    assert!(page.contains("data-lane=\"pod/web-0\""), "a lane per pod");
    let (code, _, err) = cli(&["analyze", transcript, "--statefulset", "nope", "--html", out.to_str().expect("utf-8")], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nope"), "{err}");
}
