//! The least-privilege policy a profile implies, written in the policy file format with a
//! comment per entry saying what was observed.
//!
//! Tight: nothing is granted that no call did, beyond the documented collapsing of many files
//! into their directory ([`Collapse`]) and the headroom over observed peaks. Sufficient: a
//! tool run again under it, doing what it did while learning, meets no denial.

use super::paths::{Collapse, covered, is_under, sensitive_reason};
use super::{Dial, Profile, Proto};
use crate::policy::units::format_size;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Floors under derived limits: a peak measured on a short run says little about the next.
/// A timeout of at least 5 s (an interpreter's start-up varies by seconds on a loaded host).
const TIMEOUT_FLOOR_MS: u64 = 5_000;
/// At least 32 MiB of memory (an interpreter's start-up alone can take that).
const MEMORY_FLOOR: u64 = 32 << 20;
/// At least 64 KiB of output (a result's size varies with its arguments).
const OUTPUT_FLOOR: u64 = 64 << 10;

/// How a policy is derived.
#[derive(Debug, Clone)]
pub struct DeriveOptions {
    pub collapse: Collapse,
    /// Limits are the observed peak times this (at least the floors above).
    pub headroom: f64,
    /// Paths granted without a policy entry (the system view, the tool's own runtime, the
    /// sandbox's private `/tmp`): observations under them need no grant.
    pub implicit: Vec<String>,
    /// What the learning runs were granted, when known: `(path, writable, executable)`. A path
    /// observed outside it was refused while learning; it is listed with the flag that would
    /// grant it, not granted (the tool ran without it). `None`: every observed path counts.
    pub granted: Option<Vec<(String, bool, bool)>>,
    /// The learning runs saw a read-only view of the host and no network beyond the flags
    /// (`learn`'s default): a refused write or connection is what the tool needs (it could not
    /// have been granted while learning), so it is granted, unless sensitive.
    pub discover: bool,
    /// Directories granted in place of files created below them (the files were written in
    /// the learning layer, so only the directory exists on the host): not evidence that the
    /// tool used the content of the directory above them.
    pub made: Vec<String>,
}

impl Default for DeriveOptions {
    fn default() -> Self {
        DeriveOptions {
            collapse: Collapse::default(),
            headroom: 2.0,
            implicit: Vec::new(),
            granted: None,
            discover: false,
            made: Vec::new(),
        }
    }
}

fn scaled(peak: u64, headroom: f64, floor: u64) -> u64 {
    // Float precision is irrelevant at these magnitudes; saturate rather than wrap.
    let v = (peak as f64 * headroom).ceil();
    let v = if v.is_finite() && v < u64::MAX as f64 { v as u64 } else { u64::MAX };
    v.max(floor)
}

fn round_up(v: u64, unit: u64) -> u64 {
    v.div_ceil(unit).saturating_mul(unit)
}

fn toml_str(s: &str) -> String {
    // A TOML basic string: JSON's escaping is a subset TOML accepts.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

fn calls(n: u64) -> String {
    format!("{n} call{}", if n == 1 { "" } else { "s" })
}

/// What one derived grant list looks like before it is written.
struct Entries(Vec<(String, String)>);

impl Entries {
    fn write(&self, out: &mut String, key: &str) {
        if self.0.is_empty() {
            return;
        }
        let _ = writeln!(out, "{key} = [");
        for (value, note) in &self.0 {
            let _ = writeln!(out, "    {},  # {note}", toml_str(value));
        }
        let _ = writeln!(out, "]");
    }
}

/// How observed paths are used, for matching them with the learning grant.
#[derive(Clone, Copy)]
enum Verb {
    Read,
    Write,
    Exec,
}

impl Verb {
    fn past(self) -> &'static str {
        match self {
            Verb::Read => "read",
            Verb::Write => "wrote",
            Verb::Exec => "executed",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Verb::Read => "--allow-read",
            Verb::Write => "--allow-write",
            Verb::Exec => "--allow-exec",
        }
    }
}

/// Whether the learning grant let the tool use `path` so.
fn was_granted(o: &DeriveOptions, path: &str, verb: Verb) -> bool {
    let Some(granted) = &o.granted else { return true };
    granted.iter().any(|(g, write, exec)| {
        is_under(path, g)
            && match verb {
                Verb::Read => true,
                Verb::Write => *write,
                Verb::Exec => *exec,
            }
    })
}

/// Paths of `map` granted through `collapse`, minus implicit ones; sensitive ones and those
/// refused while learning reported.
fn path_entries(map: &BTreeMap<String, u64>, o: &DeriveOptions, verb: Verb, refused: &mut Vec<String>) -> Entries {
    let home = o.collapse.home.as_deref();
    let mut keep: Vec<&String> = Vec::new();
    for p in map.keys() {
        if o.implicit.iter().any(|i| is_under(p, i)) {
            continue;
        }
        if let Some(reason) = sensitive_reason(p, home) {
            refused.push(format!("{p} ({}): never granted: {reason}", verb.past()));
            continue;
        }
        let needed = o.discover && matches!(verb, Verb::Write);
        if !was_granted(o, p, verb) && !needed {
            refused.push(format!(
                "{p} ({}, refused while learning): if the tool needs it, {} {p}",
                verb.past(),
                verb.flag()
            ));
            continue;
        }
        keep.push(p);
    }
    let grants = o.collapse.apply(keep);
    let verb = verb.past();
    Entries(
        grants
            .into_iter()
            .map(|(g, n)| {
                let seen: u64 = map.iter().filter(|(p, _)| is_under(p, &g)).map(|(_, c)| *c).max().unwrap_or(0);
                let what = if n > 1 { format!("{verb} {n} paths under it") } else { format!("{verb} it") };
                (g, format!("observed: {what}, in up to {}", calls(seen)))
            })
            .collect(),
    )
}

/// The narrowest `allow` entries that cover what was dialled and asked of the HTTP proxy.
/// A refused network attempt (`connect X`, `http request to X`) as what it tried to reach.
fn refused_target(denial: &str) -> Option<(bool, String)> {
    if let Some(t) = denial.strip_prefix("http request to ") {
        return Some((true, t.to_string()));
    }
    let t = denial.strip_prefix("connect ")?;
    if t.is_empty() {
        return None;
    }
    Some((false, if t.contains("://") { t.to_string() } else { format!("tcp://{t}") }))
}

fn net_entries(p: &Profile, o: &DeriveOptions) -> Entries {
    let mut dials: BTreeMap<(String, u16), (BTreeSet<Proto>, u64)> = BTreeMap::new();
    let mut origins = p.origins.clone();
    let mut refused_dials = BTreeMap::new();
    if o.discover {
        for (d, n) in &p.denials {
            match refused_target(d) {
                Some((true, origin)) => *origins.entry(origin).or_default() += n,
                Some((false, dial)) => *refused_dials.entry(dial).or_default() += n,
                None => {}
            }
        }
    }
    for (key, n) in p.dials.iter().chain(&refused_dials) {
        if let Some(d) = parse_dial(key) {
            let e = dials.entry((d.host, d.port)).or_default();
            e.0.insert(d.proto);
            e.1 = e.1.max(*n);
        }
    }
    let mut out = Vec::new();
    for (origin, n) in &origins {
        out.push((origin_entry(origin), format!("observed: HTTP to this origin, in {}", calls(*n))));
    }
    for ((host, port), (protos, n)) in dials {
        let h = if host.contains(':') { format!("[{host}]") } else { host };
        let (value, what) = match (protos.contains(&Proto::Tcp), protos.contains(&Proto::Udp)) {
            (true, true) => (format!("{h}:{port}"), "TCP and UDP"),
            (false, true) => (format!("udp://{h}:{port}"), "UDP"),
            _ => (format!("tcp://{h}:{port}"), "TCP"),
        };
        out.push((value, format!("observed: {what} to it, in {}", calls(n))));
    }
    Entries(out)
}

/// `https://host:443` → `https://host` (the default port is implied by the scheme).
fn origin_entry(origin: &str) -> String {
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if let Some(rest) = origin.strip_prefix(scheme)
            && let Some(host) = rest.strip_suffix(port)
        {
            return format!("{scheme}{host}");
        }
    }
    origin.to_string()
}

/// Parses a dial's display form back (`tcp://host:port`, `udp://[v6]:port`).
pub(super) fn parse_dial(key: &str) -> Option<Dial> {
    let (proto, rest) = if let Some(r) = key.strip_prefix("tcp://") {
        (Proto::Tcp, r)
    } else {
        (Proto::Udp, key.strip_prefix("udp://")?)
    };
    let (host, port) = rest.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Some(Dial { proto, host, port: port.parse().ok()? })
}

/// The flag that would allow a refused network attempt (`connect X`, `http request to X`).
fn net_fix(denial: &str) -> String {
    let target = denial.strip_prefix("connect ").or_else(|| denial.strip_prefix("http request to "));
    match target {
        Some(t) if !t.is_empty() => format!(": if the tool needs it, --allow-net {t}"),
        _ if denial.starts_with("lookup ") => ": if the tool needs it, declare the name with the port it dials".into(),
        _ => String::new(),
    }
}

/// The policy file text for `profile`.
pub fn derive_policy(p: &Profile, o: &DeriveOptions) -> String {
    let mut refused = Vec::new();
    let mut out = format!(
        "# Derived by `mcp-sandbox learn` from {} of `{}`. Review before use: every entry says\n\
         # what was observed; anything not listed is denied.\nversion = 1\n",
        calls(p.calls),
        p.tool
    );
    // A path both read and written is granted for writing only.
    let write = path_entries(&p.writes, o, Verb::Write, &mut refused);
    let written: BTreeSet<String> = write.0.iter().map(|(g, _)| g.clone()).collect();
    let mut reads: BTreeMap<String, u64> =
        p.reads.iter().filter(|(r, _)| !covered(r, &written)).map(|(k, v)| (k.clone(), *v)).collect();
    // A listed directory is granted when the tool also used entries directly in it (it works
    // with that directory's content); a listing alone (an interpreter scanning its script's
    // directory) is not: the tool ran without it.
    for (dir, n) in &p.lists {
        let implicit = |x: &str| o.implicit.iter().any(|i| is_under(x, i));
        let used =
            p.reads.keys().chain(p.writes.keys().filter(|w| !o.made.contains(w))).any(|x| {
                !implicit(x) && std::path::Path::new(x).parent().is_some_and(|d| d == std::path::Path::new(dir))
            });
        if implicit(dir) || covered(dir, &written) {
            continue;
        }
        if used {
            reads.insert(dir.clone(), *n);
        } else if sensitive_reason(dir, o.collapse.home.as_deref()).is_none() {
            refused
                .push(format!("{dir} (listed, nothing in it used): if the tool needs the listing, --allow-read {dir}"));
        }
    }
    let read = path_entries(&reads, o, Verb::Read, &mut refused);
    let exec = path_entries(&p.execs, o, Verb::Exec, &mut refused);
    if !(read.0.is_empty() && write.0.is_empty() && exec.0.is_empty()) {
        out.push_str("\n[filesystem]\n");
        read.write(&mut out, "read");
        write.write(&mut out, "write");
        exec.write(&mut out, "exec");
    }
    let net = net_entries(p, o);
    if !net.0.is_empty() {
        out.push_str("\n[network]\n");
        net.write(&mut out, "allow");
    }
    let unused: Vec<&String> = p.names.keys().filter(|n| !net.0.iter().any(|(e, _)| e.contains(n.as_str()))).collect();
    if !p.env.is_empty() {
        out.push_str("\n[env]\n");
        let env = Entries(p.env.iter().map(|(k, n)| (k.clone(), format!("observed: read in {}", calls(*n)))).collect());
        env.write(&mut out, "allow");
    }
    let pk = &p.peaks;
    let h = o.headroom;
    out.push_str("\n[limits]\n");
    let t = round_up(scaled(pk.wall_ms.max, h, TIMEOUT_FLOOR_MS), 1_000);
    let _ = writeln!(out, "timeout = \"{}s\"  # observed peak {} ms, ×{h} headroom", t / 1_000, pk.wall_ms.max);
    if pk.memory.max > 0 {
        let m = round_up(scaled(pk.memory.max, h, MEMORY_FLOOR), 1 << 20);
        let _ = writeln!(
            out,
            "memory = \"{}\"  # observed peak {}, ×{h} headroom",
            format_size(m),
            format_size(pk.memory.max)
        );
    }
    // Output is measured when it is captured (`serve`); a peak of 0 says nothing.
    if pk.output_bytes.max > 0 {
        let b = round_up(scaled(pk.output_bytes.max, h, OUTPUT_FLOOR), 1 << 10);
        let _ =
            writeln!(out, "output = \"{}\"  # observed peak {} B, ×{h} headroom", format_size(b), pk.output_bytes.max);
    }
    // (In discovery, refused connections became entries above.)
    let listed_denials: Vec<(&String, &u64)> =
        p.denials.iter().filter(|(d, _)| !(o.discover && refused_target(d).is_some())).collect();
    if !unused.is_empty() || !refused.is_empty() || !listed_denials.is_empty() {
        out.push_str("\n# Observed but not granted:\n");
        for n in unused {
            let _ = writeln!(out, "#   name {n}: looked up, never dialled");
        }
        for r in refused {
            let _ = writeln!(out, "#   {r}");
        }
        for (d, n) in listed_denials {
            let _ = writeln!(out, "#   refused while learning: {d} ({}){}", calls(*n), net_fix(d));
        }
    }
    out
}
