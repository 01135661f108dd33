//! Whole terminal sessions: what a pasted session shows besides pod tables.
//!
//! People paste whole sessions — prompts, prose, several commands and their outputs. This
//! module finds, line by line and without trusting layout, the outputs the claims need:
//!
//! - **Commands**: a line whose text after a shell prompt (`$ `, `# `, `user@host:~$ `,
//!   `/ # `) starts with `kubectl`, `nslookup`, `hostname`, `for` or `cat`. Prose that merely
//!   begins with `#` is not a command unless a known program follows.
//! - **Tables** of Services, PersistentVolumeClaims, PersistentVolumes and StatefulSets, by
//!   their headers (`kubectl get svc|pvc|pv|sts`, and each table of `get all`, `get pod,pv,pvc`);
//!   a `kind/` prefix (`persistentvolumeclaim/www-web-0`) is removed. Cells may be empty (a
//!   Pending claim has no VOLUME), so rows are read from the left up to the first cell that can
//!   be empty, never by position.
//! - **nslookup answers** in the BusyBox 1.28 form (`Name:` then `Address 1: IP name`) and
//!   the newer BusyBox/bind form (`Name:` then `Address: IP`); the server's own address block
//!   (`Server:` and the address after it) is not an answer. `can't find`/`can't resolve` is an
//!   answer without addresses.
//! - **hostname outputs**: the single word printed after `kubectl exec POD -- hostname` (or
//!   `sh -c 'hostname'`), and after a `for i in …; do kubectl exec "NAME-$i" -- … hostname; done`
//!   loop, one word per iteration.
//! - **claimName lines** (`kubectl get pod -o yaml | grep claim`), and **`describe pvc`**
//!   blocks: the claim, its status and its events' reasons.

/// A command line of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// 1-based line.
    pub line: usize,
    /// The command without its prompt.
    pub text: String,
}

impl Command {
    /// The command's words.
    #[must_use]
    pub fn words(&self) -> Vec<&str> {
        self.text.split_whitespace().collect()
    }
}

/// A row of a Service table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRow {
    /// 1-based line.
    pub line: usize,
    /// Service name.
    pub name: String,
    /// TYPE.
    pub kind: String,
    /// CLUSTER-IP as printed (`None` for a headless Service).
    pub cluster_ip: String,
}

/// A row of a PersistentVolumeClaim table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    /// 1-based line.
    pub line: usize,
    /// Index of the table (rows of one table come from one listing).
    pub table: usize,
    /// Claim name.
    pub name: String,
    /// STATUS (`Bound`, `Pending`, `Lost`, `Terminating`).
    pub status: String,
    /// VOLUME, when Bound.
    pub volume: Option<String>,
}

/// A row of a PersistentVolume table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRow {
    /// 1-based line.
    pub line: usize,
    /// Volume name.
    pub name: String,
    /// STATUS.
    pub status: String,
    /// CLAIM as `namespace/name`, when bound.
    pub claim: Option<String>,
}

/// A row of a StatefulSet table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetRow {
    /// 1-based line.
    pub line: usize,
    /// StatefulSet name.
    pub name: String,
    /// Ready pods.
    pub ready: u32,
    /// Desired pods.
    pub desired: u32,
}

/// One nslookup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    /// Line of the `Name:` (or of the error).
    pub line: usize,
    /// The name asked for: the `nslookup` command's argument when the session shows it, else
    /// the answer's `Name:`.
    pub query: String,
    /// The answer's addresses with their lines (empty: the name was not found).
    pub addresses: Vec<(String, usize)>,
    /// Names printed beside the addresses (BusyBox 1.28 prints the reverse name).
    pub fqdns: Vec<String>,
}

/// A `hostname` printed inside a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostname {
    /// Line of the output.
    pub line: usize,
    /// The pod the command ran in.
    pub pod: String,
    /// What it printed.
    pub printed: String,
}

/// A `describe pvc` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDescription {
    /// Line of `Name:`.
    pub line: usize,
    /// Claim name.
    pub name: String,
    /// `Status:`.
    pub status: String,
    /// Event reasons with their lines (`ProvisioningFailed`, …).
    pub events: Vec<(String, usize)>,
}

/// What a session shows besides pod tables.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Command lines.
    pub commands: Vec<Command>,
    /// Service rows.
    pub services: Vec<ServiceRow>,
    /// Claim rows.
    pub claims: Vec<ClaimRow>,
    /// The command line each claim table was printed by, when shown: `tables[i]`.
    pub claim_tables: Vec<Option<usize>>,
    /// Volume rows.
    pub volumes: Vec<VolumeRow>,
    /// StatefulSet rows.
    pub sets: Vec<SetRow>,
    /// nslookup answers.
    pub dns: Vec<DnsAnswer>,
    /// hostname outputs.
    pub hostnames: Vec<Hostname>,
    /// `claimName:` lines.
    pub claim_names: Vec<(String, usize)>,
    /// `describe pvc` blocks.
    pub descriptions: Vec<ClaimDescription>,
    /// `kind/name created|deleted|configured|scaled` lines kubectl printed: (kind, name, verb, line).
    pub results: Vec<(String, String, String, usize)>,
    /// Every line read as one of the above, ascending.
    pub read: Vec<usize>,
}

impl Facts {
    /// Whether the session shows anything besides pod tables.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
            && self.claims.is_empty()
            && self.volumes.is_empty()
            && self.sets.is_empty()
            && self.dns.is_empty()
            && self.hostnames.is_empty()
            && self.claim_names.is_empty()
            && self.descriptions.is_empty()
    }

    /// The last command at or before `line`.
    #[must_use]
    pub fn command_before(&self, line: usize) -> Option<&Command> {
        let at = self.commands.partition_point(|c| c.line <= line);
        at.checked_sub(1).map(|i| &self.commands[i])
    }

    /// The command on `line`, if there is one.
    #[must_use]
    pub fn command_at(&self, line: usize) -> Option<&Command> {
        self.command_before(line).filter(|c| c.line == line)
    }

    /// The rows of claim table `table` (rows are in table order).
    #[must_use]
    pub fn claims_of_table(&self, table: usize) -> &[ClaimRow] {
        let start = self.claims.partition_point(|c| c.table < table);
        let end = self.claims.partition_point(|c| c.table <= table);
        &self.claims[start..end]
    }

    /// Commands strictly between two lines.
    pub fn commands_between(&self, from: usize, to: usize) -> impl Iterator<Item = &Command> {
        let start = self.commands.partition_point(|c| c.line <= from);
        self.commands[start..].iter().take_while(move |c| c.line < to)
    }
}

const PROGRAMS: [&str; 8] = ["kubectl", "nslookup", "hostname", "for", "cat", "k", "curl", "wget"];

/// The command on `text`, when it is a command line.
fn command(text: &str) -> Option<String> {
    let trimmed = text.trim();
    // The prompt ends at the last `$ `, `# ` or `> ` before a known program: the candidates
    // are the line and what follows each marker, walked without collecting them.
    let after = |marker: &'static str| {
        let mut rest = trimmed;
        std::iter::from_fn(move || {
            let at = rest.find(marker)?;
            rest = &rest[at + marker.len()..];
            Some(rest)
        })
    };
    std::iter::once(trimmed).chain(after("$ ")).chain(after("# ")).chain(after("> ")).find_map(|c| {
        let mut words = c.split_whitespace();
        let first = words.next()?;
        (PROGRAMS.contains(&first) && words.next().is_some() || first == "hostname" && c.trim() == "hostname")
            .then(|| c.trim().to_owned())
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Service,
    Claim,
    Volume,
    Set,
}

/// The kind of table `tokens` heads, and whether it has a NAMESPACE column first.
fn table_kind(tokens: &[&str]) -> Option<(Kind, bool)> {
    let (namespaced, rest) = match tokens.first() {
        Some(&"NAMESPACE") => (true, &tokens[1..]),
        _ => (false, tokens),
    };
    let starts = |words: &[&str]| rest.len() >= words.len() && rest[..words.len()] == *words;
    if starts(&["NAME", "TYPE", "CLUSTER-IP"]) {
        return Some((Kind::Service, namespaced));
    }
    if starts(&["NAME", "STATUS", "VOLUME", "CAPACITY"]) {
        return Some((Kind::Claim, namespaced));
    }
    if starts(&["NAME", "CAPACITY", "ACCESS", "MODES", "RECLAIM", "POLICY", "STATUS", "CLAIM"]) {
        return Some((Kind::Volume, namespaced));
    }
    if rest == ["NAME", "READY", "AGE"] || rest == ["NAME", "READY", "AGE", "CONTAINERS", "IMAGES"] {
        return Some((Kind::Set, namespaced));
    }
    None
}

/// A header of any table: every word upper case.
fn is_header(tokens: &[&str]) -> bool {
    let named = tokens.first() == Some(&"NAME") || tokens.first() == Some(&"NAMESPACE") && tokens.get(1) == Some(&"NAME");
    named && tokens.iter().all(|t| t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "-_()/.".contains(c)))
}

fn strip_kind<'t>(name: &'t str, prefixes: &[&str]) -> &'t str {
    prefixes.iter().find_map(|p| name.strip_prefix(p)).unwrap_or(name)
}

fn object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

/// `n/m`.
fn fraction(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Parses the facts of a whole session.
#[must_use]
pub fn parse(text: &str) -> Facts {
    let mut facts = Facts::default();
    let mut table: Option<(Kind, bool)> = None;
    let lines: Vec<&str> = text.lines().collect();
    // Hostname outputs still expected: (pod names in order) after an exec command.
    let mut pending_hostnames: std::collections::VecDeque<String> = std::collections::VecDeque::new();
    // The nslookup answer being read: server block or answer.
    let mut dns = DnsState::default();
    let mut describing: Option<ClaimDescription> = None;
    // One buffer for every line's words.
    let mut tokens: Vec<&str> = Vec::new();
    for (index, raw) in lines.iter().enumerate() {
        let number = index + 1;
        tokens.clear();
        tokens.extend(raw.split_whitespace());
        if let Some(cmd) = command(raw) {
            finish_description(&mut describing, &mut facts);
            dns.finish(&mut facts);
            table = None;
            pending_hostnames = hostname_pods(&cmd, lines.len() - index).into();
            dns.query = nslookup_target(&cmd).map(str::to_owned);
            facts.commands.push(Command { line: number, text: cmd });
            facts.read.push(number);
            continue;
        }
        if tokens.is_empty() {
            finish_description(&mut describing, &mut facts);
            table = None;
            dns.blank();
            continue;
        }
        if let Some(pod) = pending_hostnames.front().cloned() {
            if tokens.len() == 1 && object_name(tokens[0]) {
                facts.hostnames.push(Hostname { line: number, pod, printed: tokens[0].to_owned() });
                pending_hostnames.pop_front();
                facts.read.push(number);
                continue;
            }
            pending_hostnames.clear();
        }
        if is_header(&tokens) {
            finish_description(&mut describing, &mut facts);
            table = table_kind(&tokens);
            if table.is_some_and(|(k, _)| k == Kind::Claim) {
                facts.claim_tables.push(facts.command_before(number).map(|c| c.line));
            }
            if table.is_some() {
                facts.read.push(number);
            }
            continue;
        }
        if dns.line(raw, &tokens, number, &mut facts) || describe_line(raw, &tokens, number, &mut describing, &mut facts) {
            facts.read.push(number);
            continue;
        }
        if let Some(rest) = raw.trim().strip_prefix("claimName:") {
            let name = rest.trim();
            if object_name(name) {
                facts.claim_names.push((name.to_owned(), number));
                facts.read.push(number);
            }
            continue;
        }
        if let Some(result) = result_line(&tokens, number) {
            facts.results.push(result);
            facts.read.push(number);
            continue;
        }
        if let Some((kind, namespaced)) = table {
            let cells = if namespaced { tokens.get(1..).unwrap_or_default() } else { &tokens[..] };
            if table_row(kind, cells, number, &mut facts) {
                facts.read.push(number);
            } else {
                table = None;
            }
        }
    }
    finish_description(&mut describing, &mut facts);
    dns.finish(&mut facts);
    facts
}

/// Reads one table row; `false` when it is not one.
fn table_row(kind: Kind, cells: &[&str], line: usize, facts: &mut Facts) -> bool {
    match kind {
        Kind::Service => {
            let [name, kind, ip, ..] = cells else { return false };
            let name = strip_kind(name, &["service/", "svc/"]);
            if !object_name(name) {
                return false;
            }
            facts.services.push(ServiceRow {
                line,
                name: name.to_owned(),
                kind: (*kind).to_owned(),
                cluster_ip: (*ip).to_owned(),
            });
        }
        Kind::Claim => {
            let [name, status, rest @ ..] = cells else { return false };
            let name = strip_kind(name, &["persistentvolumeclaim/", "pvc/"]);
            if !object_name(name) || !status.chars().all(|c| c.is_ascii_alphabetic()) {
                return false;
            }
            let volume = (*status == "Bound").then(|| rest.first().map(|v| (*v).to_owned())).flatten();
            let table = facts.claim_tables.len().saturating_sub(1);
            facts.claims.push(ClaimRow { line, table, name: name.to_owned(), status: (*status).to_owned(), volume });
        }
        Kind::Volume => {
            let [name, _capacity, _modes, _policy, status, rest @ ..] = cells else { return false };
            let name = strip_kind(name, &["persistentvolume/", "pv/"]);
            if !object_name(name) {
                return false;
            }
            let claim = rest.first().filter(|c| c.contains('/')).map(|c| (*c).to_owned());
            facts.volumes.push(VolumeRow { line, name: name.to_owned(), status: (*status).to_owned(), claim });
        }
        Kind::Set => {
            let [name, ready, ..] = cells else { return false };
            let name = strip_kind(name, &["statefulset.apps/", "statefulset/", "sts/"]);
            let Some((ready, desired)) = fraction(ready) else { return false };
            if !object_name(name) {
                return false;
            }
            facts.sets.push(SetRow { line, name: name.to_owned(), ready, desired });
        }
    }
    true
}

/// `statefulset.apps/web created`, `statefulset.apps "web" deleted`, `pod "web-0" deleted`.
fn result_line(tokens: &[&str], line: usize) -> Option<(String, String, String, usize)> {
    let verbs = ["created", "deleted", "configured", "scaled", "unchanged", "patched", "edited"];
    match tokens {
        [object, verb] if verbs.contains(verb) => {
            let (kind, name) = object.split_once('/')?;
            Some((kind.to_owned(), name.to_owned(), (*verb).to_owned(), line))
        }
        [kind, name, verb] if verbs.contains(verb) && name.starts_with('"') && name.ends_with('"') && name.len() > 2 => {
            Some(((*kind).to_owned(), name[1..name.len() - 1].to_owned(), (*verb).to_owned(), line))
        }
        _ => None,
    }
}

/// The values of a `for i in …` list: words, `{0..2}` and `$(seq 0 2)` (or `$(seq 3)`, from 1),
/// at most `limit` of them (the lines left to print them on).
fn loop_values(list: &str, limit: usize) -> Vec<String> {
    let range = |from: &str, to: &str| -> Option<Vec<String>> {
        let (from, to): (u64, u64) = (from.parse().ok()?, to.parse().ok()?);
        Some((from..=to).take(limit).map(|n| n.to_string()).collect())
    };
    let trimmed = list.trim();
    if let Some(inner) = trimmed.strip_prefix('{').and_then(|r| r.strip_suffix('}'))
        && let Some((a, b)) = inner.split_once("..")
    {
        return range(a, b).unwrap_or_default();
    }
    if let Some(inner) = trimmed.strip_prefix("$(seq").and_then(|r| r.strip_suffix(')')) {
        let bounds: Vec<&str> = inner.split_whitespace().collect();
        return match bounds.as_slice() {
            [to] => range("1", to),
            [from, to] => range(from, to),
            _ => None,
        }
        .unwrap_or_default();
    }
    trimmed.split_whitespace().take(limit).map(str::to_owned).collect()
}

/// The pods a command prints the hostname of, in order (at most `limit`).
fn hostname_pods(cmd: &str, limit: usize) -> Vec<String> {
    if !cmd.contains("hostname") || !cmd.contains("kubectl") || !cmd.contains("exec") {
        return Vec::new();
    }
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let Some(exec) = words.iter().position(|w| *w == "exec") else { return Vec::new() };
    // The pod: the first word after `exec` that is not an option.
    let mut pod = None;
    let mut i = exec + 1;
    while i < words.len() {
        let w = words[i].trim_matches(|c| c == '"' || c == '\'');
        if w == "--" {
            break;
        }
        if w.starts_with('-') {
            // Options with a separate value.
            if matches!(w, "-c" | "--container" | "-n" | "--namespace" | "--context") {
                i += 1;
            }
        } else if pod.is_none() {
            pod = Some(w.trim_start_matches("pod/").to_owned());
        }
        i += 1;
    }
    let Some(pod) = pod else { return Vec::new() };
    if let Some(var_at) = pod.find("${i}").or_else(|| pod.find("$i")) {
        // `for i in 0 1 2; do kubectl exec "web-$i" …`
        let var_len = if pod[var_at..].starts_with("${i}") { 4 } else { 2 };
        let Some(values) = cmd.strip_prefix("for i in").and_then(|r| r.split(';').next()) else { return Vec::new() };
        return loop_values(values, limit)
            .into_iter()
            .map(|v| format!("{}{v}{}", &pod[..var_at], &pod[var_at + var_len..]))
            .filter(|p| object_name(p))
            .collect();
    }
    if object_name(&pod) { vec![pod] } else { Vec::new() }
}

/// The name an `nslookup` command asks for.
/// The name a `nslookup` command looks up: its first argument that is not an option, unquoted.
pub(super) fn nslookup_target(cmd: &str) -> Option<&str> {
    let mut words = cmd.split_whitespace().skip_while(|w| *w != "nslookup").skip(1);
    words.find(|w| !w.starts_with('-')).map(|w| w.trim_matches(|c| c == '"' || c == '\''))
}

#[derive(Debug, Default)]
struct DnsState {
    /// The query of the last nslookup command.
    query: Option<String>,
    /// In the server block (after `Server:`, before the blank line).
    in_server: bool,
    answer: Option<DnsAnswer>,
}

impl DnsState {
    fn blank(&mut self) {
        self.in_server = false;
    }

    fn finish(&mut self, facts: &mut Facts) {
        if let Some(answer) = self.answer.take() {
            facts.dns.push(answer);
        }
        self.in_server = false;
    }

    /// Reads a line of nslookup output; `false` when it is not one.
    fn line(&mut self, raw: &str, tokens: &[&str], number: usize, facts: &mut Facts) -> bool {
        let text = raw.trim();
        if text.starts_with("Server:") && tokens.len() == 2 {
            self.finish(facts);
            self.in_server = true;
            return true;
        }
        if let Some(name) = text.strip_prefix("Name:").map(str::trim) {
            if name.contains(' ') || name.is_empty() || !name.contains('.') && self.query.is_none() {
                return false;
            }
            let query = self.query.clone().unwrap_or_else(|| name.to_owned());
            // The newer form repeats `Name:` before each address of one answer.
            if self.answer.as_ref().is_some_and(|a| a.query == query) {
                return true;
            }
            self.finish(facts);
            self.answer = Some(DnsAnswer { line: number, query, addresses: Vec::new(), fqdns: Vec::new() });
            return true;
        }
        if text.starts_with("Address") {
            // `Address 1: 10.1.2.3 name`, `Address: 10.1.2.3`, `Address:\t10.96.0.10#53`.
            let Some((_, value)) = text.split_once(':') else { return false };
            let mut words = value.split_whitespace();
            let Some(ip) = words.next() else { return false };
            let ip = ip.split('#').next().unwrap_or(ip);
            if self.in_server {
                return true;
            }
            if let Some(answer) = &mut self.answer
                && ip.parse::<std::net::IpAddr>().is_ok()
            {
                answer.addresses.push((ip.to_owned(), number));
                answer.fqdns.extend(words.next().map(str::to_owned));
                return true;
            }
            return false;
        }
        if (text.contains("can't find") || text.contains("can't resolve") || text.contains("NXDOMAIN"))
            && let Some(query) = self.query.clone()
        {
            self.finish(facts);
            facts.dns.push(DnsAnswer { line: number, query, addresses: Vec::new(), fqdns: Vec::new() });
            return true;
        }
        false
    }
}

/// Reads a line of `describe pvc` output; `false` when it is not one.
fn describe_line(
    raw: &str,
    tokens: &[&str],
    number: usize,
    describing: &mut Option<ClaimDescription>,
    facts: &mut Facts,
) -> bool {
    let text = raw.trim();
    if let Some(name) = text.strip_prefix("Name:").map(str::trim) {
        let describes_claim = facts.command_before(number).is_some_and(|c| {
            let w = c.words();
            w.contains(&"describe") && w.iter().any(|x| matches!(*x, "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims"))
        });
        if describes_claim && object_name(name) {
            finish_description(describing, facts);
            *describing =
                Some(ClaimDescription { line: number, name: name.to_owned(), status: String::new(), events: Vec::new() });
            return true;
        }
        return false;
    }
    let Some(d) = describing.as_mut() else { return false };
    if let Some(status) = text.strip_prefix("Status:") {
        status.trim().clone_into(&mut d.status);
        return true;
    }
    // Event rows: `Warning  ProvisioningFailed  3s (x20 over 4m37s)  persistentvolume-controller  …`.
    if let [kind, reason, ..] = tokens
        && matches!(*kind, "Normal" | "Warning")
    {
        d.events.push(((*reason).to_owned(), number));
        return true;
    }
    text.contains(':') || text.starts_with("----")
}

fn finish_description(describing: &mut Option<ClaimDescription>, facts: &mut Facts) {
    if let Some(d) = describing.take() {
        facts.descriptions.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_names_its_first_argument_unquoted() {
        assert_eq!(nslookup_target("kubectl exec -it dns -- nslookup web-0.nginx"), Some("web-0.nginx"));
        assert_eq!(nslookup_target("nslookup -type=a 'web-1.nginx'"), Some("web-1.nginx"));
        assert_eq!(nslookup_target("kubectl get pods"), None);
        assert_eq!(nslookup_target("nslookup"), None);
    }

    #[test]
    fn commands_follow_prompts_and_prose_is_not_one() {
        assert_eq!(
            command("assu@myserver01:~/work/ch09/ex12$ kubectl get all -o wide").as_deref(),
            Some("kubectl get all -o wide")
        );
        assert_eq!(command("# nslookup web-0.nginx.default.svc").as_deref(), Some("nslookup web-0.nginx.default.svc"));
        assert_eq!(command("$ kubectl get pvc").as_deref(), Some("kubectl get pvc"));
        assert_eq!(command("kubectl exec web-0 -- hostname").as_deref(), Some("kubectl exec web-0 -- hostname"));
        assert_eq!(command("# Headless Service 생성"), None);
        assert_eq!(command("root@nginx01:/# exit"), None);
    }

    #[test]
    fn hostname_commands_name_their_pods() {
        assert_eq!(hostname_pods("kubectl exec web-0 -- hostname", 9), ["web-0"]);
        assert_eq!(hostname_pods("kubectl exec -it pod/web-1 -c nginx -- sh -c 'hostname'", 9), ["web-1"]);
        let three = ["web-0", "web-1", "web-2"];
        assert_eq!(hostname_pods("for i in 0 1 2; do kubectl exec \"web-$i\" -- sh -c 'hostname'; done", 9), three);
        assert_eq!(hostname_pods("for i in {0..2}; do kubectl exec web-${i} -- hostname; done", 9), three);
        assert_eq!(hostname_pods("for i in $(seq 0 2); do kubectl exec web-$i -- hostname; done", 9), three);
        // A loop over a huge range costs what the lines left can show, not what it names.
        assert_eq!(hostname_pods("for i in $(seq 0 18446744073709551615); do kubectl exec web-$i -- hostname; done", 2).len(), 2);
        assert!(hostname_pods("kubectl exec web-0 -- cat /etc/hosts", 9).is_empty());
    }

    #[test]
    fn both_nslookup_forms_give_answers_without_the_server() {
        let old = "# nslookup web-0.nginx\nServer:    10.0.0.10\nAddress 1: 10.0.0.10 kube-dns.kube-system.svc.cluster.local\n\n\
                   Name:      web-0.nginx\nAddress 1: 10.1.0.5 web-0.nginx.default.svc.cluster.local\n";
        let f = parse(old);
        assert_eq!(f.dns.len(), 1);
        assert_eq!(f.dns[0].query, "web-0.nginx");
        assert_eq!(f.dns[0].addresses, [("10.1.0.5".to_owned(), 6)]);
        assert_eq!(f.dns[0].fqdns, ["web-0.nginx.default.svc.cluster.local"]);
        let new = "/ # nslookup nginx\nServer:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tnginx.default.svc.cluster.local\n\
                   Address: 10.244.0.5\nName:\tnginx.default.svc.cluster.local\nAddress: 10.244.0.6\n";
        let f = parse(new);
        assert_eq!(f.dns.len(), 1);
        let ips: Vec<&str> = f.dns[0].addresses.iter().map(|(ip, _)| ip.as_str()).collect();
        assert_eq!(ips, ["10.244.0.5", "10.244.0.6"]);
        assert_eq!(f.dns[0].query, "nginx");
        let missing = parse("/ # nslookup web-9.nginx\n** server can't find web-9.nginx: NXDOMAIN\n");
        assert_eq!(missing.dns.len(), 1);
        assert!(missing.dns[0].addresses.is_empty());
    }

    #[test]
    fn tables_of_get_all_and_claims_with_empty_cells() {
        let text = "$ kubectl get pod,pv,pvc -o wide\n\
NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE VOLUMEMODE\n\
persistentvolumeclaim/data-db-0 Bound pv-1 100Mi RWO slow <unset> 32m Filesystem\n\
persistentvolumeclaim/data-db-1 Pending slow <unset> 2m13s Filesystem\n\
NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR\n\
service/db ClusterIP None <none> 80/TCP 24s app=db\n\
NAME READY AGE CONTAINERS IMAGES\n\
statefulset.apps/db 1/2 30m nginx nginx:latest\n";
        let f = parse(text);
        assert_eq!(f.claims.len(), 2);
        assert_eq!(f.claims[0].volume.as_deref(), Some("pv-1"));
        assert_eq!((f.claims[1].status.as_str(), f.claims[1].volume.as_deref()), ("Pending", None));
        assert_eq!(f.claim_tables, [Some(1)]);
        assert_eq!(f.services[0].cluster_ip, "None");
        assert_eq!((f.sets[0].name.as_str(), f.sets[0].ready, f.sets[0].desired), ("db", 1, 2));
    }
}
