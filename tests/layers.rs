//! The modules' dependencies point one way: each module of `src/` uses only modules below it in
//! [`LAYERS`], never one above it or beside it. Read from the sources (tests excepted: a test may
//! use whatever it needs), so a new upward arrow fails here with the line that makes it.

use std::{collections::BTreeMap, path::Path};

/// The crate's top-level modules, from the bottom up. A module may use the ones before it.
const LAYERS: &[&str] = &[
    // Leaves: no other module of the crate.
    "limits",
    "console",
    "interrupt",
    "claims",
    "input",
    "cron",
    // What was observed, and what it is judged by.
    "timeline",
    "manifest",
    "checks",
    "plan",
    "scenario",
    "capability",
    // The cluster interface and its two implementations.
    "cluster",
    "sim",
    "live",
    // Transcripts and their analysis.
    "transcript",
    "analyze",
    // Running scenarios, and what a run leaves.
    "runner",
    "progress",
    "junit",
    "report",
    "record",
    "snapshot",
    "html",
    "outputs",
    // Features made of all of the above, and the command line.
    "upgrade",
    "selftest",
    "cli",
];

/// `text` without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or_default();
    text.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// The crate modules `code` names: the first segment after each `crate::`, and in a
/// `use crate::{…}` group the first segment of each of its items.
fn used_modules(code: &str) -> Vec<(String, usize)> {
    let mut used = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Items at depth 0 of the group.
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        used.extend(first_segment(&group[start..i]).map(|m| (m, line_of(at))));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        used.extend(first_segment(&group[start..i]).map(|m| (m, line_of(at))));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            used.extend(first_segment(rest).map(|m| (m, line_of(at))));
        }
    }
    used
}

fn first_segment(path: &str) -> Option<String> {
    let name: String = path.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn no_module_uses_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut files = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && path.file_name().is_some_and(|n| n != "tests.rs") {
                files.push(path);
            }
        }
    }
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let top = relative.components().next().expect("a component").as_os_str().to_string_lossy();
        let module = top.trim_end_matches(".rs");
        if module == "main" || module == "lib" {
            continue;
        }
        let Some(&own) = rank.get(module) else {
            wrong.push(format!("src/{}: module {module} is not in LAYERS", relative.display()));
            continue;
        };
        seen += 1;
        let code = code_of(&std::fs::read_to_string(&file).expect("readable"));
        for (used, line) in used_modules(&code) {
            // Macros exported at the crate root (`crate::outln!`) and `self` are no modules.
            let Some(&other) = rank.get(used.as_str()) else { continue };
            if other >= own && used != module {
                wrong.push(format!("src/{}:{line}: {module} uses {used}, which is not below it", relative.display()));
            }
        }
    }
    assert!(seen > 40, "the sources were read ({seen} files)");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_reader_finds_uses_in_paths_and_groups() {
    let code = "use crate::{checks::{self, Verdict}, timeline::View};\nfn f() { crate::sim::SimCluster::new(); }";
    let found: Vec<String> = used_modules(code).into_iter().map(|(m, _)| m).collect();
    assert_eq!(found, ["checks", "timeline", "sim"]);
    assert_eq!(code_of("use crate::a; // crate::b\n#[cfg(test)]\nmod tests { use crate::c; }"), "use crate::a; ");
}
