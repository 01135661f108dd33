//! The commands the probe pod runs for DNS and HTTP, and the parsing of what they print.
//!
//! DNS goes through `nslookup` inside a pod of the namespace, so it uses the pod's resolver and
//! search path exactly as the documents' `kubectl run … busybox nslookup` did. Both output
//! dialects are read: busybox (`Address 1: 10.0.0.7 web-0.nginx…` up to 1.28, `Address: 10.0.0.7`
//! after) and bind-utils (`Address: 10.0.0.7`, the server as `10.96.0.10#53`).

use crate::cluster::ProbeError;

/// The probe pod's image when `--probe-image` does not say otherwise: busybox 1.28, as in the
/// seed documents and the Kubernetes DNS debugging guide.
pub const DEFAULT_PROBE_IMAGE: &str = "busybox:1.28";

/// `nslookup` of `name` as the pod's own resolver would look it up: through the search path
/// and `ndots` of the pod's `/etc/resolv.conf` (resolv.conf(5)), asking each candidate as a
/// fully qualified name and printing the answer of the first that resolves, or else the failure
/// of the first (the namespace's own name, the most telling).
///
/// The search is done here rather than left to `nslookup`: busybox up to 1.28 looked names up
/// through libc and so used the search path, but later busybox `nslookup` (the one Debian and
/// current images ship) asks a name with a dot in it (`web-0.nginx`) only as it is, which no
/// pod's resolver does. Doing the search in the probe gives every image the pod's answer.
#[must_use]
pub fn nslookup_argv(name: &str) -> Vec<String> {
    let script = r#"name=$1
conf=${RESOLV_CONF:-/etc/resolv.conf}
search=$(sed -n 's/^search[[:space:]]*//p' "$conf" 2>/dev/null | tail -n 1)
ndots=$(sed -n 's/^options.*ndots:\([0-9]*\).*/\1/p' "$conf" 2>/dev/null | tail -n 1)
dots=$(printf '%s' "$name" | tr -cd . | wc -c)
case "$name" in
  *.) candidates=$name ;;
  *)
    expanded=""
    for domain in $search; do expanded="$expanded $name.$domain."; done
    if [ "$dots" -lt "${ndots:-1}" ]; then candidates="$expanded $name."; else candidates="$name. $expanded"; fi ;;
esac
first=""
for candidate in $candidates; do
  out=$(nslookup "$candidate" 2>&1)
  if printf '%s\n' "$out" | grep -q '^Name:'; then printf '%s\n' "$out"; exit 0; fi
  [ -n "$first" ] || first=$out
done
printf '%s\n' "$first"
exit 1"#;
    vec!["sh".into(), "-c".into(), script.into(), "sh".into(), name.into()]
}

/// The addresses `nslookup` printed for the name asked, sorted; or why there are none.
///
/// # Errors
/// When the name does not resolve (`NXDOMAIN`, `can't resolve`, no address printed).
pub fn parse_nslookup(output: &str) -> Result<Vec<String>, ProbeError> {
    let failure = output.lines().find(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("nxdomain") || l.contains("can't resolve") || l.contains("can't find") || l.contains("no answer")
    });
    let mut addresses = Vec::new();
    let mut in_answer = false;
    for line in output.lines().map(str::trim) {
        if line.starts_with("Name:") {
            in_answer = true;
            continue;
        }
        if !in_answer {
            continue; // the server's own address comes first
        }
        let Some(rest) = line.strip_prefix("Address") else { continue };
        // `Address 1: 10.0.0.7 host`, `Address: 10.0.0.7`, `Addresses: …`
        let value = rest.split_once(':').map_or("", |(_, v)| v).trim();
        if let Some(ip) = value.split_whitespace().next()
            && ip.parse::<std::net::IpAddr>().is_ok()
        {
            addresses.push(ip.to_owned());
        }
    }
    if addresses.is_empty() {
        // Else the probe's own last words (`nslookup: write to '10.96.0.10': Connection refused`).
        let last = || {
            output
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty() && !l.starts_with("Server:") && !l.starts_with("Address"))
                .map(str::to_owned)
        };
        let why = failure.map(|l| l.trim().to_owned()).or_else(last).unwrap_or_else(|| "no address in the answer".to_owned());
        return Err(ProbeError::Answered(why));
    }
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

/// A shell command that fetches `url` and prints the body, then a last line `HTTP <status>`;
/// curl when the image has it, else busybox wget. wget's 10 s bound is the shell's own, not
/// `-T`: Debian's static busybox 1.35 crashes (SIGSEGV) on `wget -T`.
#[must_use]
pub fn http_argv(url: &str) -> Vec<String> {
    let script = r#"if command -v curl >/dev/null 2>&1; then
  curl -sS -m 10 -o - -w '\nHTTP %{http_code}\n' "$1"
else
  out=$( (wget -q -S -O - "$1" 2>&1 & p=$!; (sleep 10; kill $p) >/dev/null 2>&1 & d=$!; wait $p; c=$?; kill $d 2>/dev/null; exit $c) ); code=$?
  body=$(printf '%s\n' "$out" | grep -v '^  [A-Za-z-]*[:/ ]' | grep -vx '  ' | grep -v '^Connecting to' | grep -v '^wget: ')
  status=$(printf '%s\n' "$out" | sed -n 's/^  HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
  printf '%s\nHTTP %s\n' "$body" "${status:-000}"
  exit $code
fi"#;
    vec!["sh".into(), "-c".into(), script.into(), "sh".into(), url.into()]
}

/// Splits what [`http_argv`] printed into the status and the body.
///
/// # Errors
/// When no status line is found (the request never got an answer).
pub fn parse_http(output: &str) -> Result<(u16, String), ProbeError> {
    let trimmed = output.trim_end();
    let (body, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let status = last.strip_prefix("HTTP ").and_then(|s| s.trim().parse::<u16>().ok());
    match status {
        Some(0) | None => Err(ProbeError::Answered(format!("no HTTP answer: {}", last.trim()))),
        Some(code) => Ok((code, body.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// busybox 1.28, as in the seed documents.
    const BUSYBOX_128: &str = "Server:    10.36.0.10\nAddress 1: 10.36.0.10 kube-dns.kube-system.svc.cluster.local\n\n\
        Name:      web-0.nginx.default.svc\nAddress 1: 10.32.2.12 web-0.nginx.default.svc.cluster.local\n";
    const BUSYBOX_136: &str = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n\
        Name:\tnginx.stsc-x.svc.cluster.local\nAddress: 10.244.1.7\nName:\tnginx.stsc-x.svc.cluster.local\nAddress: 10.244.2.3\n";
    const BIND: &str = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n\
        Name:\tweb-1.nginx.stsc-x.svc.cluster.local\nAddress: 10.244.2.3\n";

    #[test]
    fn every_nslookup_dialect_parses() {
        assert_eq!(parse_nslookup(BUSYBOX_128), Ok(vec!["10.32.2.12".to_owned()]));
        assert_eq!(parse_nslookup(BUSYBOX_136), Ok(vec!["10.244.1.7".to_owned(), "10.244.2.3".to_owned()]));
        assert_eq!(parse_nslookup(BIND), Ok(vec!["10.244.2.3".to_owned()]));
    }

    /// Runs the lookup script with a stand-in `nslookup` that knows `known` and the resolv.conf
    /// `conf`; returns what it printed and its exit status, and the names it was asked.
    fn lookup(name: &str, conf: &str, known: &str) -> (String, bool, Vec<String>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let asked = dir.path().join("asked");
        let fake = format!(
            "#!/bin/sh\necho \"$1\" >> {asked}\necho 'Server: 10.0.0.10'\n\
             if [ \"$1\" = '{known}' ]; then printf 'Name:\\t%s\\nAddress: 10.1.2.3\\n' \"$1\"; exit 0; fi\n\
             echo \"** server can't find $1: NXDOMAIN\"; exit 1\n",
            asked = asked.display()
        );
        let bin = dir.path().join("nslookup");
        std::fs::write(&bin, fake).expect("write fake");
        std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        std::fs::write(dir.path().join("resolv.conf"), conf).expect("write conf");
        let argv = nslookup_argv(name);
        let out = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
            .env("RESOLV_CONF", dir.path().join("resolv.conf"))
            .output()
            .expect("sh runs");
        let asked = std::fs::read_to_string(asked).unwrap_or_default().lines().map(str::to_owned).collect();
        (String::from_utf8_lossy(&out.stdout).into_owned(), out.status.success(), asked)
    }

    const POD_CONF: &str = "search ns.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n";

    #[test]
    fn lookups_follow_the_pods_search_path_and_ndots() {
        // Fewer dots than ndots: the search path first, in order; the first answer wins.
        let (out, ok, asked) = lookup("web-0.nginx", POD_CONF, "web-0.nginx.ns.svc.cluster.local.");
        assert!(ok, "{out}");
        assert_eq!(parse_nslookup(&out), Ok(vec!["10.1.2.3".to_owned()]));
        assert_eq!(asked, ["web-0.nginx.ns.svc.cluster.local."]);
        // A name only the last candidate (itself) answers: every search domain was tried first.
        let (_, ok, asked) = lookup("example.test", POD_CONF, "example.test.");
        assert!(ok);
        assert_eq!(asked.len(), 4, "{asked:?}");
        assert_eq!(asked[3], "example.test.");
        // At least ndots dots: the name as it is first.
        let (_, _, asked) = lookup("a.b.c.d.e.f", POD_CONF, "none.");
        assert_eq!(asked[0], "a.b.c.d.e.f.");
        // A fully qualified name is asked alone.
        let (_, _, asked) = lookup("web-0.nginx.ns.svc.cluster.local.", POD_CONF, "none.");
        assert_eq!(asked, ["web-0.nginx.ns.svc.cluster.local."]);
    }

    #[test]
    fn a_name_nothing_answers_reports_the_namespaces_own_failure() {
        let (out, ok, asked) = lookup("web-9.nginx", POD_CONF, "none.");
        assert!(!ok);
        assert_eq!(asked.len(), 4);
        assert_eq!(
            parse_nslookup(&out),
            Err(ProbeError::Answered("** server can't find web-9.nginx.ns.svc.cluster.local.: NXDOMAIN".to_owned()))
        );
    }

    #[test]
    fn failures_say_why() {
        let busybox = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find web-9.nginx: NXDOMAIN\n";
        assert_eq!(parse_nslookup(busybox), Err(ProbeError::Answered("** server can't find web-9.nginx: NXDOMAIN".to_owned())));
        let old = "Server:    10.0.0.10\nAddress 1: 10.0.0.10\n\nnslookup: can't resolve 'web-9.nginx'\n";
        assert!(parse_nslookup(old).unwrap_err().to_string().contains("can't resolve"));
        assert!(parse_nslookup("").is_err());
        // No DNS server answering: the probe's own words.
        let refused = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nnslookup: write to '10.96.0.10': Connection refused\n";
        assert_eq!(
            parse_nslookup(refused),
            Err(ProbeError::Answered("nslookup: write to '10.96.0.10': Connection refused".to_owned()))
        );
    }

    #[test]
    fn http_output_splits_into_status_and_body() {
        assert_eq!(parse_http("Hello World!\nmyapp-sts-0\n\nHTTP 200\n"), Ok((200, "Hello World!\nmyapp-sts-0\n".to_owned())));
        assert!(parse_http("curl: (7) Failed to connect\nHTTP 000\n").is_err());
        assert!(parse_http("").is_err());
    }
}
