//! The commands the probe pod runs for DNS and HTTP, and the parsing of what they print.
//!
//! DNS goes through `nslookup` inside a pod of the namespace, so it uses the pod's resolver and
//! search path exactly as the documents' `kubectl run … busybox nslookup` did. Both output
//! dialects are read: busybox (`Address 1: 10.0.0.7 web-0.nginx…` up to 1.28, `Address: 10.0.0.7`
//! after) and bind-utils (`Address: 10.0.0.7`, the server as `10.96.0.10#53`).

/// The probe pod's image when `--probe-image` does not say otherwise: busybox 1.28, as in the
/// seed documents and the Kubernetes DNS debugging guide — later busybox `nslookup` ignores the
/// pod's search path, so short names (`web-0.nginx`) would not resolve.
pub const DEFAULT_PROBE_IMAGE: &str = "busybox:1.28";

/// `nslookup NAME`.
#[must_use]
pub fn nslookup_argv(name: &str) -> Vec<String> {
    vec!["nslookup".into(), name.into()]
}

/// The addresses `nslookup` printed for the name asked, sorted; or why there are none.
///
/// # Errors
/// When the name does not resolve (`NXDOMAIN`, `can't resolve`, no address printed).
pub fn parse_nslookup(output: &str) -> Result<Vec<String>, String> {
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
        return Err(failure.map_or_else(|| "no address in the answer".to_owned(), |l| l.trim().to_owned()));
    }
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

/// A shell command that fetches `url` and prints the body, then a last line `HTTP <status>`;
/// curl when the image has it, else busybox wget.
#[must_use]
pub fn http_argv(url: &str) -> Vec<String> {
    let script = r#"if command -v curl >/dev/null 2>&1; then
  curl -sS -m 10 -o - -w '\nHTTP %{http_code}\n' "$1"
else
  out=$(wget -S -T 10 -O - "$1" 2>&1); code=$?
  body=$(printf '%s\n' "$out" | grep -v '^  [A-Za-z-]*[:/ ]' | grep -v '^Connecting to' | grep -v '^wget: ')
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
pub fn parse_http(output: &str) -> Result<(u16, String), String> {
    let trimmed = output.trim_end();
    let (body, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let status = last.strip_prefix("HTTP ").and_then(|s| s.trim().parse::<u16>().ok());
    match status {
        Some(0) | None => Err(format!("no HTTP answer: {}", last.trim())),
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

    #[test]
    fn failures_say_why() {
        let busybox = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n** server can't find web-9.nginx: NXDOMAIN\n";
        assert_eq!(parse_nslookup(busybox), Err("** server can't find web-9.nginx: NXDOMAIN".to_owned()));
        let old = "Server:    10.0.0.10\nAddress 1: 10.0.0.10\n\nnslookup: can't resolve 'web-9.nginx'\n";
        assert!(parse_nslookup(old).unwrap_err().contains("can't resolve"));
        assert!(parse_nslookup("").is_err());
    }

    #[test]
    fn http_output_splits_into_status_and_body() {
        assert_eq!(parse_http("Hello World!\nmyapp-sts-0\n\nHTTP 200\n"), Ok((200, "Hello World!\nmyapp-sts-0\n".to_owned())));
        assert!(parse_http("curl: (7) Failed to connect\nHTTP 000\n").is_err());
        assert!(parse_http("").is_err());
    }
}
