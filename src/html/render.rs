//! The report's markup (maud), from [`Chart`](super::chart::Chart)s.

use std::collections::BTreeMap;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::{Chart, LaneKind, Pinned, chart, draw};
use crate::{
    analyze::Drawing,
    checks::Verdict,
    runner::ScenarioReport,
    timeline::{Entry, Timeline},
};

/// Width of the lane labels, in px.
const LABEL_W: u64 = 170;
/// Width of the time axis, in px.
const PLOT_W: u64 = 1000;
/// Height of a lane, in px.
const LANE_H: u64 = 16;
/// Space between lanes, in px.
const GAP: u64 = 4;
/// Height of the step band header, in px.
const HEAD_H: u64 = 22;

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 36px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
td, th { border: 1px solid #d4d8e0; padding: 3px 8px; text-align: left; vertical-align: top; }
.v-pass { color: #18794e; } .v-fail { color: #c62828; font-weight: 600; }
.v-inconclusive { color: #b26a00; } .v-not-applicable, .v-skipped { color: #6b7280; }
svg { display: block; margin: 8px 0; } svg text { font: 11px system-ui, sans-serif; fill: #1d2330; }
.legend span { display: inline-block; margin-right: 12px; } .legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; }
"#;

/// A state's fill colour.
fn fill(kind: LaneKind, state: &str) -> &'static str {
    match (kind, state) {
        (LaneKind::Set, _) => "#c7d2fe",
        (LaneKind::Claim, "Bound") => "#a7f3d0",
        (LaneKind::Claim, "Lost") => "#fca5a5",
        (LaneKind::Claim, _) => "#fde68a",
        (_, "Ready") => "#34d399",
        (_, "Running") => "#93c5fd",
        (_, "Terminating") => "#9ca3af",
        (_, "Failed") => "#f87171",
        (_, "Succeeded") => "#d1d5db",
        (_, "Pending") => "#fde68a",
        _ => "#fcd34d",
    }
}

fn mark_colour(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "#18794e",
        Verdict::Fail => "#c62828",
        Verdict::Inconclusive => "#b26a00",
        _ => "#6b7280",
    }
}

fn verdict_class(verdict: Verdict) -> String {
    format!("v-{}", verdict.as_str())
}

/// The whole report for `reports`, as one HTML document.
#[must_use]
pub fn report(title: &str, reports: &[ScenarioReport]) -> String {
    page(title, &html! { @for r in reports { (scenario(r)) } })
}

/// A transcript's sessions drawn, as one HTML document: a section per family and session.
#[must_use]
pub fn transcript_report(title: &str, drawings: &[Drawing]) -> String {
    let sections = html! {
        @for d in drawings {
            @let pinned: Vec<Pinned<'_>> = d.outcomes.iter().map(|o| Pinned { step: 0, target: &d.family, outcome: o }).collect();
            section data-scenario=(format!("{}@{}", d.family, d.session_line)) {
                h2 { (d.family) " — session at line " (d.session_line) }
                table {
                    tr { th { "check" } th { "verdict" } th { "detail" } }
                    @for o in &d.outcomes {
                        tr { td { (o.check) } td class=(verdict_class(o.verdict)) { (o.verdict) } td { (o.detail) } }
                    }
                }
                // A transcript has no clock, only order: one entry per unit of the axis.
                @let ordered = Timeline {
                    entries: d.timeline.entries.iter().map(|e| Entry { at_ms: e.seq as u64 * 1000, ..e.clone() }).collect(),
                    ..d.timeline.clone()
                };
                (svg(&draw(&ordered, &[], &pinned, Some(&d.lines)), Some(&d.lines)))
            }
        }
    };
    page(title, &sections)
}

fn page(title: &str, sections: &Markup) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { (title) }
                p.legend {
                    @for (name, colour) in [("Pending", fill(LaneKind::Pod, "Pending")), ("ContainerCreating, other waits", fill(LaneKind::Pod, "ContainerCreating")), ("Running", fill(LaneKind::Pod, "Running")), ("Ready", fill(LaneKind::Pod, "Ready")), ("Terminating", fill(LaneKind::Pod, "Terminating")), ("Failed", fill(LaneKind::Pod, "Failed")), ("claim Bound", fill(LaneKind::Claim, "Bound"))] {
                        span { i style={ "background:" (colour) } {} (name) }
                    }
                    span { "marks: " b style="color:#18794e" { "◆ pass " } b style="color:#c62828" { "◆ fail " } b style="color:#b26a00" { "◆ inconclusive" } }
                }
                (sections)
            }
        }
    };
    page.into_string()
}

fn scenario(report: &ScenarioReport) -> Markup {
    let chart = chart(&report.timeline, &report.steps, &report.judged);
    html! {
        section data-scenario=(report.scenario) {
            h2 { (report.scenario) }
            table {
                tr { th { "claim" } th { "verdict" } th { "evidence" } }
                @for c in &report.claims {
                    tr { td { (c.claim) } td class=(verdict_class(c.verdict)) { (c.verdict) } td { (c.evidence) } }
                }
            }
            (svg(&chart, None))
            table {
                tr { th { "step" } th { "action" } th { "outcome" } th { "s" } }
                @for s in &report.steps {
                    tr {
                        td { (s.index + 1) } td { (s.action) }
                        td { (serde_json::to_value(s.outcome).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) @if let Some(e) = &s.error { ": " (e) } }
                        td { (format!("{:.1}", s.elapsed_ms as f64 / 1000.0)) }
                    }
                }
            }
        }
    }
}

/// The chart as SVG; with `lines`, the axis is a transcript's order (entry `i` at `i` s) and
/// names the line of each tick's entry.
fn svg(chart: &Chart, lines: Option<&[usize]>) -> Markup {
    let tick = |ms: u64| match lines {
        Some(lines) => lines.get((ms / 1000) as usize).map_or_else(String::new, |l| format!("line {l}")),
        None => format!("{}s", ms / 1000),
    };
    let span = chart.end_ms.saturating_sub(chart.start_ms).max(1);
    let x = |ms: u64| LABEL_W + ms.clamp(chart.start_ms, chart.end_ms).saturating_sub(chart.start_ms) * PLOT_W / span;
    let rows: BTreeMap<&str, u64> =
        chart.lanes.iter().enumerate().map(|(i, l)| (l.key.as_str(), HEAD_H + i as u64 * (LANE_H + GAP))).collect();
    let height = HEAD_H + chart.lanes.len() as u64 * (LANE_H + GAP) + 20;
    let width = LABEL_W + PLOT_W + 30;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) {
            @for (i, band) in chart.steps.iter().enumerate() {
                g data-step=(band.index + 1) {
                    rect x=(x(band.from_ms)) y="0" width=(x(band.to_ms).saturating_sub(x(band.from_ms)).max(1)) height=(height - 20)
                        fill=(if i % 2 == 0 { "#f3f4f6" } else { "#ffffff" }) {
                        title { (format!("step {}: {}", band.index + 1, band.action)) }
                    }
                    text x=(x(band.from_ms) + 2) y="14" { (band.index + 1) }
                }
            }
            @for lane in &chart.lanes {
                @let y = rows[lane.key.as_str()];
                g data-lane=(lane.key) {
                    text x="4" y=(y + LANE_H - 4) { (truncate(&lane.label)) }
                    @for s in &lane.segments {
                        rect x=(x(s.from_ms)) y=(y) width=(x(s.to_ms).saturating_sub(x(s.from_ms)).max(1)) height=(LANE_H)
                            fill=(fill(lane.kind, &s.state)) data-state=(s.state) {
                            title { (s.title) }
                        }
                    }
                }
            }
            @for m in &chart.marks {
                @let y = rows.get(m.lane.as_str()).copied().unwrap_or(0) + LANE_H / 2;
                @let cx = x(m.at_ms);
                path d=(format!("M{cx} {} L{} {y} L{cx} {} L{} {y} Z", y - 6, cx + 5, y + 6, cx - 5)) fill=(mark_colour(m.verdict))
                    stroke="#ffffff" data-mark=(m.check) data-verdict=(verdict_class(m.verdict)) data-on=(m.lane) {
                    title { (m.title) }
                }
            }
            @for ms in ticks(chart.start_ms, chart.end_ms) {
                text x=(x(ms)) y=(height - 6) { (tick(ms)) }
            }
        }
    }
}

/// Times for the axis: whole multiples of a round step, at most a dozen.
fn ticks(start_ms: u64, end_ms: u64) -> Vec<u64> {
    const STEPS_S: [u64; 12] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
    let span = end_ms.saturating_sub(start_ms);
    let step = STEPS_S.iter().map(|s| s * 1000).find(|s| span / s <= 12).unwrap_or_else(|| span.div_ceil(12).max(1));
    (start_ms.div_ceil(step)..=end_ms / step).map(|i| i * step).collect()
}

fn truncate(label: &str) -> String {
    if label.chars().count() > 26 { format!("{}…", label.chars().take(25).collect::<String>()) } else { label.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axis_has_round_ticks_and_at_most_a_dozen() {
        assert_eq!(ticks(0, 39_000), [0, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000]);
        assert_eq!(ticks(0, 500), [0]);
        assert_eq!(
            ticks(8_200, 20_000),
            [9_000, 10_000, 11_000, 12_000, 13_000, 14_000, 15_000, 16_000, 17_000, 18_000, 19_000, 20_000]
        );
        assert!(ticks(0, u64::MAX / 2).len() <= 13);
        assert_eq!(ticks(0, 7_200_000).len(), 13, "two hours: every 10 minutes");
    }

    #[test]
    fn the_page_is_self_contained() {
        let page = report("t <&>", &[]);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>t &lt;&amp;&gt;</title>"), "escaped");
        for fetches in ["<script", "<link", "src=", "href=", "url(", "@import"] {
            assert!(!page.contains(fetches), "{fetches}");
        }
    }
}
