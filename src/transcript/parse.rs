//! Line-level parsing of `kubectl get pods` tables: headers, rows, AGE and READY values.
//!
//! kubectl aligns columns with a tab writer, but each watch line is aligned on its own and
//! copy-pasted logs often collapse the padding to single spaces, so rows are split on
//! whitespace and matched against the columns the last header named — never by position.

use std::fmt;

/// A column of `kubectl get pods` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// `EVENT` (`--output-watch-events`): ADDED, MODIFIED, DELETED.
    Event,
    /// `NAMESPACE` (`-A`).
    Namespace,
    /// `NAME`.
    Name,
    /// `READY` as `n/m`.
    Ready,
    /// `STATUS`.
    Status,
    /// `RESTARTS`, possibly `3 (5m ago)`.
    Restarts,
    /// `AGE`.
    Age,
    /// `IP` (`-o wide`).
    Ip,
    /// `NODE` (`-o wide`).
    Node,
    /// Any other column (`NOMINATED NODE`, `READINESS GATES`, `-L` label columns, `LABELS`).
    Other(String),
}

/// What a line of a transcript is.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'t> {
    /// The header of a pod table, with its columns.
    PodHeader(Vec<Column>),
    /// The header of another table (services, claims, …): its rows are not pods.
    OtherHeader,
    /// A pod row.
    Row(Row<'t>),
    /// Anything else: prompts, prose, blank lines, rows that do not parse.
    Other,
}

/// A watch event type from `--output-watch-events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEvent {
    /// ADDED.
    Added,
    /// MODIFIED.
    Modified,
    /// DELETED.
    Deleted,
}

/// One parsed pod row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row<'t> {
    /// The EVENT column, when present.
    pub event: Option<WatchEvent>,
    /// The NAMESPACE column, when present.
    pub namespace: Option<&'t str>,
    /// Pod name (a `pod/` prefix removed).
    pub name: &'t str,
    /// Ready containers.
    pub ready: u32,
    /// All containers.
    pub containers: u32,
    /// STATUS as printed.
    pub status: &'t str,
    /// Container restarts.
    pub restarts: u32,
    /// AGE, or `None` for `<invalid>` (a clock skew between kubectl and the server).
    pub age: Option<Age>,
    /// IP, when `-o wide` printed one.
    pub ip: Option<&'t str>,
    /// Node, when `-o wide` printed one.
    pub node: Option<&'t str>,
}

impl Row<'_> {
    /// All containers ready (and there is at least one).
    #[must_use]
    pub fn all_ready(&self) -> bool {
        self.containers > 0 && self.ready == self.containers
    }

    /// STATUS is `Terminating`: the pod has a deletion timestamp.
    #[must_use]
    pub fn terminating(&self) -> bool {
        self.status == "Terminating"
    }
}

/// An AGE value as an interval of seconds: kubectl truncates (`42m` is anything from 42m0s to
/// 42m59s), so `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age {
    /// At least this many seconds.
    pub lo: u64,
    /// Fewer than this many seconds.
    pub hi: u64,
}

impl fmt::Display for Age {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s..{}s", self.lo, self.hi)
    }
}

/// A text that is not an AGE as kubectl prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an age")]
pub struct NotAnAge(pub String);

/// Parses an AGE as kubectl prints it (`0s`, `19s`, `6m19s`, `42m`, `2h5m`, `3d`, `3d4h`, `2y30d`).
/// `<invalid>` gives `Ok(None)`.
///
/// # Errors
/// When the text is not an age.
pub fn parse_age(text: &str) -> Result<Option<Age>, NotAnAge> {
    if text == "<invalid>" {
        return Ok(None);
    }
    let mut total = 0u64;
    let mut last_unit = None;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3_600,
            'd' => 86_400,
            'y' => 365 * 86_400,
            _ => return Err(NotAnAge(text.to_owned())),
        };
        if digits.is_empty() || last_unit.is_some_and(|u| u <= unit) {
            return Err(NotAnAge(text.to_owned()));
        }
        let n: u64 = digits.parse().map_err(|_| NotAnAge(text.to_owned()))?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
        last_unit = Some(unit);
    }
    match last_unit {
        Some(unit) if digits.is_empty() => Ok(Some(Age { lo: total, hi: total.saturating_add(unit) })),
        _ => Err(NotAnAge(text.to_owned())),
    }
}

const DEFAULT_COLUMNS: [Column; 5] = [Column::Name, Column::Ready, Column::Status, Column::Restarts, Column::Age];

/// The columns of `kubectl get pods` without options, for rows seen before any header.
#[must_use]
pub fn default_columns() -> Vec<Column> {
    DEFAULT_COLUMNS.to_vec()
}

/// Classifies one line, given the columns of the pod table it may belong to.
#[must_use]
pub fn classify<'t>(text: &'t str, columns: Option<&[Column]>) -> Line<'t> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.is_empty() {
        return Line::Other;
    }
    if let Some(header) = header(&tokens) {
        return header;
    }
    match columns {
        Some(columns) => row(&tokens, columns).map_or(Line::Other, Line::Row),
        None => Line::Other,
    }
}

fn header(tokens: &[&str]) -> Option<Line<'static>> {
    let is_header_word =
        |t: &&str| t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_()/.".contains(c)) && t.len() > 1;
    if !tokens.contains(&"NAME") || !tokens.iter().all(is_header_word) {
        return None;
    }
    let mut columns = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let two = tokens.get(i + 1).map(|next| format!("{} {next}", tokens[i]));
        if let Some(two) = two.filter(|t| t == "NOMINATED NODE" || t == "READINESS GATES") {
            columns.push(Column::Other(two));
            i += 2;
            continue;
        }
        columns.push(match tokens[i] {
            "EVENT" => Column::Event,
            "NAMESPACE" => Column::Namespace,
            "NAME" => Column::Name,
            "READY" => Column::Ready,
            "STATUS" => Column::Status,
            "RESTARTS" => Column::Restarts,
            "AGE" => Column::Age,
            "IP" => Column::Ip,
            "NODE" => Column::Node,
            other => Column::Other(other.to_owned()),
        });
        i += 1;
    }
    let required = [Column::Name, Column::Ready, Column::Status, Column::Restarts, Column::Age];
    let positions: Option<Vec<usize>> = required.iter().map(|c| columns.iter().position(|x| x == c)).collect();
    match positions {
        Some(p) if p.windows(2).all(|w| w[0] < w[1]) => Some(Line::PodHeader(columns)),
        _ => Some(Line::OtherHeader),
    }
}

fn row<'t>(tokens: &[&'t str], columns: &[Column]) -> Option<Row<'t>> {
    let mut row = Row {
        event: None,
        namespace: None,
        name: "",
        ready: 0,
        containers: 0,
        status: "",
        restarts: 0,
        age: None,
        ip: None,
        node: None,
    };
    let mut rest = tokens.iter().copied();
    let mut seen_age = false;
    for column in columns {
        let Some(token) = rest.next() else {
            // Trailing columns may be missing only after AGE (a wide row cut short).
            return seen_age.then_some(row);
        };
        match column {
            Column::Event => {
                row.event = Some(match token {
                    "ADDED" => WatchEvent::Added,
                    "MODIFIED" => WatchEvent::Modified,
                    "DELETED" => WatchEvent::Deleted,
                    _ => return None,
                });
            }
            Column::Namespace => row.namespace = Some(token),
            Column::Name => {
                let name = token.strip_prefix("pod/").unwrap_or(token);
                if !is_object_name(name) {
                    return None;
                }
                row.name = name;
            }
            Column::Ready => {
                let (ready, all) = token.split_once('/')?;
                row.ready = ready.parse().ok()?;
                row.containers = all.parse().ok()?;
                if row.ready > row.containers {
                    return None;
                }
            }
            Column::Status => {
                if !token.chars().all(|c| c.is_ascii_alphanumeric() || ":/-_".contains(c)) {
                    return None;
                }
                row.status = token;
            }
            Column::Restarts => {
                row.restarts = token.parse().ok()?;
                // `3 (5m ago)`: the time of the last restart, two more tokens.
                let mut peek = rest.clone();
                if peek.next().is_some_and(|t| t.starts_with('(')) {
                    if !peek.next().is_some_and(|t| t.ends_with(')')) {
                        return None;
                    }
                    rest = peek;
                }
            }
            Column::Age => {
                row.age = parse_age(token).ok()?;
                seen_age = true;
            }
            Column::Ip => row.ip = (token != "<none>").then_some(token),
            Column::Node => row.node = (token != "<none>").then_some(token),
            Column::Other(_) => {}
        }
    }
    // Extra tokens are tolerated only for label columns (`--show-labels` may hold anything).
    let labels_last = matches!(columns.last(), Some(Column::Other(c)) if c == "LABELS");
    if rest.next().is_some() && !labels_last {
        return None;
    }
    Some(row)
}

/// A Kubernetes object name: lowercase alphanumerics, `-` and `.`, starting and ending
/// alphanumeric, at most 253 characters.
fn is_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 253
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("0s", 0, 1)]
    #[case("19s", 19, 20)]
    #[case("119s", 119, 120)]
    #[case("6m19s", 379, 380)]
    #[case("42m", 2_520, 2_580)]
    #[case("2h", 7_200, 10_800)]
    #[case("2h5m", 7_500, 7_560)]
    #[case("3d", 259_200, 345_600)]
    #[case("3d4h", 273_600, 277_200)]
    #[case("2y30d", 65_664_000, 65_750_400)]
    fn ages_parse_to_intervals(#[case] text: &str, #[case] lo: u64, #[case] hi: u64) {
        assert_eq!(parse_age(text), Ok(Some(Age { lo, hi })));
    }

    #[rstest]
    #[case("")]
    #[case("s")]
    #[case("5")]
    #[case("5x")]
    #[case("5s3m")]
    #[case("1m1m")]
    #[case("Running")]
    fn non_ages_are_rejected(#[case] text: &str) {
        assert!(parse_age(text).is_err(), "{text}");
    }

    #[test]
    fn invalid_age_is_unknown() {
        assert_eq!(parse_age("<invalid>"), Ok(None));
    }

    fn pod_header(text: &str) -> Vec<Column> {
        match classify(text, None) {
            Line::PodHeader(c) => c,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn wide_headers_join_two_word_columns() {
        let columns =
            pod_header("NAME       READY   STATUS    RESTARTS   AGE     IP           NODE   NOMINATED NODE   READINESS GATES");
        assert_eq!(columns.len(), 9);
        assert_eq!(columns[7], Column::Other("NOMINATED NODE".into()));
    }

    #[test]
    fn other_tables_are_not_pod_tables() {
        assert_eq!(
            classify("NAME        STATUS   VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE", None),
            Line::OtherHeader
        );
        assert_eq!(classify("NAME                   READY   AGE", None), Line::OtherHeader);
        assert_eq!(classify("Name:      web-0.nginx.default.svc", None), Line::Other);
    }

    #[test]
    fn rows_follow_their_header() {
        let columns = pod_header("EVENT NAMESPACE NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES");
        let Line::Row(row) = classify(
            "MODIFIED   prod   db-2   0/2   Init:0/2   3 (5m ago)   6m19s   10.1.2.3   node-a   <none>   <none>",
            Some(&columns),
        ) else {
            panic!("not a row")
        };
        assert_eq!(row.event, Some(WatchEvent::Modified));
        assert_eq!(row.namespace, Some("prod"));
        assert_eq!((row.name, row.ready, row.containers, row.status), ("db-2", 0, 2, "Init:0/2"));
        assert_eq!(row.restarts, 3);
        assert_eq!(row.age, Some(Age { lo: 379, hi: 380 }));
        assert_eq!((row.ip, row.node), (Some("10.1.2.3"), Some("node-a")));
    }

    #[rstest]
    #[case("web-0   1/1     Running   0          69s   extra")]
    #[case("web-0   3/1     Running   0          69s")]
    #[case("web-0   1/1     Running   x          69s")]
    #[case("web-0   1/1     Running   0          soon")]
    #[case("Web-0   1/1     Running   0          69s")]
    #[case("# nslookup web-0.nginx")]
    fn malformed_rows_are_other_lines(#[case] text: &str) {
        assert_eq!(classify(text, Some(&default_columns())), Line::Other, "{text}");
    }

    #[test]
    fn pod_prefix_and_short_wide_rows() {
        let columns = pod_header("NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES");
        let Line::Row(row) = classify("pod/sfs-test01-1 0/1 Pending 0 16s <none> <none> <none> <none>", Some(&columns)) else {
            panic!("not a row")
        };
        assert_eq!(row.name, "sfs-test01-1");
        assert_eq!(row.ip, None);
        assert!(matches!(classify("web-0 1/1 Running 0 5s", Some(&columns)), Line::Row(_)));
        assert_eq!(classify("web-0 1/1 Running 0", Some(&columns)), Line::Other);
    }
}
