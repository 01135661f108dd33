use super::*;
use crate::timeline::Change;

fn changes(history: &FamilyHistory) -> Vec<(usize, Change, String, bool)> {
    history
        .timeline
        .entries
        .iter()
        .zip(&history.lines)
        .filter_map(|(e, line)| match &e.event {
            Event::Pod { change, pod } => Some((*line, *change, pod.uid.to_string(), pod.terminating)),
            _ => None,
        })
        .collect()
}

fn web() -> Family {
    Family { namespace: None, name: "web".into() }
}

#[test]
fn prose_prompts_and_other_tables_are_skipped_with_line_numbers() {
    let text = "$ kubectl get pods -w\nNAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 5s\n\nNAME TYPE CLUSTER-IP\nnginx ClusterIP None\n";
    let t = parse(text);
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.skipped, vec![1, 4, 5, 6]);
}

#[test]
fn a_header_after_other_text_starts_a_session_and_a_repeated_one_does_not() {
    let text = "NAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 5s\nNAME READY STATUS RESTARTS AGE\nweb-1 0/1 Pending 0 0s\nprose\nNAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 9s\n";
    let t = parse(text);
    assert_eq!(t.sessions.iter().map(|s| s.line).collect::<Vec<_>>(), vec![1, 6]);
    assert_eq!(t.rows.iter().map(|r| r.session).collect::<Vec<_>>(), vec![0, 0, 1]);
}

#[test]
fn rows_without_a_header_use_the_default_columns() {
    let t = parse("web-0 0/1 Pending 0 0s\nweb-0 1/1 Running 0 3s\n");
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.sessions.len(), 1);
}

#[test]
fn the_listing_ends_at_the_first_repeated_pod() {
    let t = parse(include_str!("../../tests/fixtures/transcripts/seed-002-scale.txt"));
    let listing: Vec<(usize, bool)> = t.rows.iter().filter(|r| r.session == 1).map(|r| (r.line, r.listing)).take(6).collect();
    // Lines 15-19 of the fixture are the listing; line 20 prints dns-test again.
    assert_eq!(listing, vec![(16, true), (17, true), (18, true), (19, true), (20, false), (21, false)]);
}

#[test]
fn families_leave_out_unnumbered_and_generated_names() {
    let text = "NAME READY STATUS RESTARTS AGE\n\
                web-0 1/1 Running 0 5s\n\
                dns-test 1/1 Running 0 5s\n\
                my-nginx-deployment-6b474476c4-abcde 1/1 Running 0 5s\n\
                my-nginx-deployment-6b474476c4-24567 1/1 Running 0 5s\n\
                sfs-test01-2 1/1 Running 0 5s\n\
                web-01 1/1 Running 0 5s\n";
    let names: Vec<String> = parse(text).families().into_iter().map(|f| f.name).collect();
    assert_eq!(names, vec!["sfs-test01", "web"]);
}

#[test]
fn listed_pods_are_prelude_and_watch_creations_are_added() {
    let t = parse(include_str!("../../tests/fixtures/transcripts/seed-001-create.txt"));
    let h = &t.histories(&web())[0];
    assert_eq!(h.start, 1, "web-0 was listed already creating");
    assert_eq!(
        changes(h),
        vec![
            (9, Change::Added, "web-0".into(), false),
            (10, Change::Modified, "web-0".into(), false),
            (11, Change::Added, "web-1".into(), false),
            (12, Change::Modified, "web-1".into(), false),
        ]
    );
}

#[test]
fn terminations_are_inferred_from_the_last_unready_line() {
    let t = parse(include_str!("../../tests/fixtures/transcripts/seed-002-scale.txt"));
    let h = t.histories(&web()).pop().expect("scale-down session");
    let got = changes(&h);
    // web-4 was listed terminating; web-3..1 first show up terminating, so they existed before.
    assert_eq!(h.start, 4);
    let deletions: Vec<usize> = got.iter().filter(|c| c.1 == Change::Deleted).map(|c| c.0).collect();
    assert_eq!(deletions, vec![45, 49, 53, 57]);
}

#[test]
fn a_pod_that_comes_back_is_a_new_incarnation() {
    let t = parse(include_str!("../../tests/fixtures/transcripts/seed-002-rollout.txt"));
    let h = &t.histories(&web())[0];
    let uids: BTreeSet<String> = changes(h).into_iter().map(|c| c.2).collect();
    assert_eq!(uids, ["web-0", "web-0#2", "web-1", "web-1#2", "web-2", "web-2#2"].map(String::from).into());
}

#[test]
fn watch_events_make_deletions_exact() {
    let text = "EVENT NAME READY STATUS RESTARTS AGE\n\
                ADDED web-0 1/1 Running 0 5m\n\
                MODIFIED web-0 1/1 Terminating 0 5m\n\
                MODIFIED web-0 0/1 Terminating 0 5m\n\
                DELETED web-0 0/1 Terminating 0 5m\n";
    let h = &parse(text).histories(&web())[0];
    let got: Vec<Change> = changes(h).into_iter().map(|c| c.1).collect();
    assert_eq!(got, vec![Change::Added, Change::Modified, Change::Modified, Change::Deleted]);
}

#[test]
fn a_pod_still_ready_at_its_last_line_is_left_terminating() {
    let text = "NAME READY STATUS RESTARTS AGE\nweb-1 1/1 Running 0 5m\nweb-1 1/1 Running 0 5m\nweb-1 1/1 Terminating 0 5m\n";
    let h = &parse(text).histories(&web())[0];
    assert!(changes(h).iter().all(|c| c.1 != Change::Deleted));
}

#[test]
fn age_going_back_means_a_new_pod() {
    let text = "NAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 10m\nweb-0 1/1 Running 0 10m\nweb-0 1/1 Running 0 3s\n";
    let h = &parse(text).histories(&web())[0];
    let got: Vec<(Change, String)> = changes(h).into_iter().map(|c| (c.1, c.2)).collect();
    assert_eq!(got[got.len() - 2..], [(Change::Deleted, "web-0".into()), (Change::Added, "web-0#2".into())]);
}

#[test]
fn the_listing_ends_where_key_order_breaks_and_is_empty_after_no_resources_found() {
    let listing = |text: &str| -> Vec<bool> { parse(text).rows.iter().map(|r| r.listing).collect() };
    // Listed in key order (web-10 sorts before web-2), then web-1: an event.
    assert_eq!(
        listing(
            "NAME READY STATUS RESTARTS AGE\nweb-0 1/1 Running 0 5m\nweb-10 1/1 Running 0 5m\nweb-2 1/1 Running 0 5m\nweb-1 0/1 Pending 0 0s\n"
        ),
        [true, true, true, false]
    );
    let empty = "$ kubectl get pods -w\nNo resources found in default namespace.\nNAME READY STATUS RESTARTS AGE\nweb-0 0/1 Pending 0 0s\n";
    assert_eq!(listing(empty), [false]);
    // Only when it comes just before the header.
    let later = "No resources found in default namespace.\n$ kubectl apply -f web.yaml\nNAME READY STATUS RESTARTS AGE\nweb-0 0/1 Pending 0 0s\n";
    assert_eq!(listing(later), [true]);
}
