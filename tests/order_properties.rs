//! Property tests of the order checks, end to end through the transcript parser: any
//! generated history that obeys a rule passes it, and any single injected violation fails it.
//! Histories vary in size, duplicate lines, `-o wide` columns and unrelated pods mixed in.

use proptest::prelude::*;
use sts_conformance::{
    analyze::{self, Options},
    checks::{CheckName, Policy, Verdict},
};

/// How a transcript is printed.
#[derive(Debug, Clone)]
struct Style {
    wide: bool,
    /// Extra copies of each pod's first line (kubectl often prints a state twice).
    repeats: Vec<u8>,
    /// Where unrelated lines go (indexes into the watch lines, modulo their count).
    noise: Vec<usize>,
}

fn style() -> impl Strategy<Value = Style> {
    (any::<bool>(), prop::collection::vec(0u8..3, 8), prop::collection::vec(0usize..100, 0..6))
        .prop_map(|(wide, repeats, noise)| Style { wide, repeats, noise })
}

fn row(style: &Style, name: &str, ready: &str, status: &str, age: &str) -> String {
    if style.wide {
        let ip = if status == "Pending" { "<none>".to_owned() } else { format!("10.1.0.{}", name.len()) };
        format!("{name:10} {ready:6} {status:18} 0   {age:6} {ip:12} node-a   <none>   <none>")
    } else {
        format!("{name:10} {ready:6} {status:18} 0   {age}")
    }
}

fn transcript(style: &Style, listing: &[String], mut watch: Vec<String>) -> String {
    let noise = [
        row(style, "dns-test", "1/1", "Running", "5m"),
        row(style, "dns-test", "0/1", "Error", "7m"),
        String::new(),
        row(style, "my-nginx-6b474476c4-x2k4z", "1/1", "Running", "2d"),
    ];
    for (i, at) in style.noise.iter().enumerate() {
        let at = if watch.is_empty() { 0 } else { at % (watch.len() + 1) };
        watch.insert(at, noise[i % noise.len()].clone());
    }
    let header = if style.wide {
        "NAME       READY  STATUS             RESTARTS   AGE    IP           NODE     NOMINATED NODE   READINESS GATES"
    } else {
        "NAME       READY  STATUS             RESTARTS   AGE"
    };
    let mut lines = vec!["$ kubectl get pods -w".to_owned()];
    if listing.is_empty() {
        // kubectl's word that the watch listed nothing: what follows are events.
        lines.push("No resources found in default namespace.".to_owned());
    }
    lines.push(header.to_owned());
    lines.extend(listing.iter().cloned());
    lines.extend(watch);
    lines.join("\n") + "\n"
}

fn listing(style: &Style, pods: std::ops::Range<u32>) -> Vec<String> {
    pods.map(|k| row(style, &format!("web-{k}"), "1/1", "Running", "3d")).collect()
}

/// Lines of each pod, in the order the rule requires.
type Blocks = Vec<Vec<String>>;

fn creations(style: &Style, pods: std::ops::Range<u32>) -> Blocks {
    pods.map(|k| {
        let name = format!("web-{k}");
        let mut block = vec![row(style, &name, "0/1", "Pending", "0s")];
        for _ in 0..style.repeats[k as usize % 8] {
            block.push(row(style, &name, "0/1", "Pending", "0s"));
        }
        block.push(row(style, &name, "0/1", "ContainerCreating", "1s"));
        block.push(row(style, &name, "1/1", "Running", "3s"));
        block
    })
    .collect()
}

fn terminations(style: &Style, pods: impl Iterator<Item = u32>) -> Blocks {
    pods.map(|k| {
        let name = format!("web-{k}");
        let mut block = vec![row(style, &name, "1/1", "Terminating", "3d")];
        for _ in 0..=style.repeats[k as usize % 8] {
            block.push(row(style, &name, "0/1", "Terminating", "3d"));
        }
        block
    })
    .collect()
}

fn replacements(style: &Style, pods: impl Iterator<Item = u32>) -> Blocks {
    let pods: Vec<u32> = pods.collect();
    let mut blocks = terminations(style, pods.iter().copied());
    for (block, k) in blocks.iter_mut().zip(&pods) {
        let name = format!("web-{k}");
        block.push(row(style, &name, "0/1", "Pending", "0s"));
        block.push(row(style, &name, "0/1", "ContainerCreating", "0s"));
        block.push(row(style, &name, "1/1", "Running", "5s"));
    }
    blocks
}

fn verdict(text: &str, policy: Policy, check: CheckName) -> (Verdict, String) {
    let options = Options { policy, expect: vec![check], ..Options::default() };
    let report = analyze::transcript(text, &options).expect("analyzable");
    let web = report.statefulsets.iter().find(|s| s.name == "web").expect("web");
    let c = web.checks.iter().find(|c| c.check == check).expect("judged");
    (c.verdict, format!("{}\n{text}", c.detail))
}

/// Moves the first line of block `late` to just before the last line of block `early`.
fn start_before_end(blocks: &mut Blocks, early: usize, late: usize) -> Vec<String> {
    let first = blocks[late].remove(0);
    let mut lines = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if i == late && block.is_empty() {
            continue;
        }
        if i == early {
            lines.extend(block[..block.len() - 1].iter().cloned());
            lines.push(first.clone());
            lines.extend(block[block.len() - 1..].iter().cloned());
        } else {
            lines.extend(block.iter().cloned());
        }
    }
    lines
}

/// Blocks `i` and `i + 1` out of order: the second starts before the first ends (`overlap`),
/// or the two swap places.
fn disorder(blocks: &Blocks, i: usize, overlap: bool) -> Vec<String> {
    let mut broken = blocks.clone();
    if overlap {
        start_before_end(&mut broken, i, i + 1)
    } else {
        broken.swap(i, i + 1);
        broken.concat()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn ordered_scale_up_passes_and_an_early_creation_fails(
        style in style(), from in 0u32..4, more in 2u32..5, pick in 0usize..100,
    ) {
        let to = from + more;
        let blocks = creations(&style, from..to);
        let text = transcript(&style, &listing(&style, 0..from), blocks.concat());
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::OrderedCreation);
        prop_assert_eq!(v, Verdict::Pass, "{}", why);

        // Pod k appears before pod k-1 is Running and Ready (both created in the watch).
        let late = 1 + pick % (blocks.len() - 1);
        let mut broken = blocks.clone();
        let lines = start_before_end(&mut broken, late - 1, late);
        let text = transcript(&style, &listing(&style, 0..from), lines);
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::OrderedCreation);
        prop_assert_eq!(v, Verdict::Fail, "{}", why);
    }

    #[test]
    fn reverse_scale_down_passes_and_any_single_disorder_fails(
        style in style(), keep in 0u32..3, remove in 2u32..5, pick in 0usize..100, overlap in any::<bool>(),
    ) {
        let from = keep + remove;
        let blocks = terminations(&style, (keep..from).rev());
        let text = transcript(&style, &listing(&style, 0..from), blocks.concat());
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::ReverseTermination);
        prop_assert_eq!(v, Verdict::Pass, "{}", why);

        // The next pod begins terminating before this one is gone, or two neighbours
        // terminate in the wrong order.
        let lines = disorder(&blocks, pick % (blocks.len() - 1), overlap);
        let text = transcript(&style, &listing(&style, 0..from), lines);
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::ReverseTermination);
        prop_assert_eq!(v, Verdict::Fail, "{}", why);
    }

    #[test]
    fn reverse_rollout_passes_and_any_single_disorder_fails(
        style in style(), pods in 2u32..6, pick in 0usize..100, early in any::<bool>(),
    ) {
        let blocks = replacements(&style, (0..pods).rev());
        let text = transcript(&style, &listing(&style, 0..pods), blocks.concat());
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::ReverseRollout);
        prop_assert_eq!(v, Verdict::Pass, "{}", why);

        // The next replacement begins before the replaced pod is Running and Ready again, or a
        // lower ordinal is replaced before a higher one.
        let lines = disorder(&blocks, pick % (blocks.len() - 1), early);
        let text = transcript(&style, &listing(&style, 0..pods), lines);
        let (v, why) = verdict(&text, Policy::Ordered, CheckName::ReverseRollout);
        prop_assert_eq!(v, Verdict::Fail, "{}", why);
    }

    #[test]
    fn parallel_burst_passes_and_timing_alone_never_fails(
        style in style(), pods in 2u32..6, pick in 0usize..100,
    ) {
        let blocks = creations(&style, 0..pods);
        // All pods appear, then all become Ready.
        let mut lines: Vec<String> = blocks.iter().map(|b| b[0].clone()).collect();
        lines.extend(blocks.iter().flat_map(|b| b[1..].iter().cloned()));
        let text = transcript(&style, &[], lines);
        let (v, why) = verdict(&text, Policy::Parallel, CheckName::ParallelBurst);
        prop_assert_eq!(v, Verdict::Pass, "{}", why);

        // One pod appears only after the others became Ready (a create retried, or throttled):
        // the others, created together, still prove the burst — unless only two pods, one after
        // the other, which a controller that waits does, and a throttled burst can too.
        let late = 1 + pick % (blocks.len() - 1);
        let mut lines: Vec<String> = blocks.iter().enumerate().filter(|(i, _)| *i != late).map(|(_, b)| b[0].clone()).collect();
        lines.extend(blocks.iter().enumerate().filter(|(i, _)| *i != late).flat_map(|(_, b)| b[1..].iter().cloned()));
        lines.extend(blocks[late].iter().cloned());
        let text = transcript(&style, &[], lines);
        let (v, why) = verdict(&text, Policy::Parallel, CheckName::ParallelBurst);
        prop_assert_eq!(v, if pods == 2 { Verdict::Inconclusive } else { Verdict::Pass }, "{}", why);

        // Every pod only after its predecessor became Ready: waiting, or a throttled burst —
        // only pods held unready can tell (a transcript holds no spec to judge a stall by).
        let text = transcript(&style, &[], blocks.concat());
        let (v, why) = verdict(&text, Policy::Parallel, CheckName::ParallelBurst);
        prop_assert_eq!(v, Verdict::Inconclusive, "{}", why);
    }
}
