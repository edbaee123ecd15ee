//! `mcp-sandbox learn`: a real Python program observed over varied runs; the policy derived
//! from its profile runs it again with no denial (sufficient) and refuses what the learning
//! grant allowed but the program never did (tight), judged by what the program printed, what
//! the HTTP listener received and the audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
use std::path::PathBuf;
use support::*;

/// Reads the file it is given, appends a line to `out/log.txt`, fetches a URL, and with a
/// second file argument reads that one too.
const TOOL: &str = r#"#!/usr/bin/env python3
import sys, os, urllib.request
base = os.path.dirname(os.path.abspath(__file__))
print("read:", open(sys.argv[1]).read().strip())
with open(os.path.join(base, "out", "log.txt"), "a") as f:
    f.write(sys.argv[1] + "\n")
print("fetched:", urllib.request.urlopen(sys.argv[2], timeout=10).read().decode())
for extra in sys.argv[3:]:
    try:
        print("extra:", open(extra).read().strip())
    except OSError as e:
        print("extra refused:", e.errno)
"#;

struct Workspace {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("data")).unwrap();
        std::fs::create_dir_all(root.join("out")).unwrap();
        for f in ["a", "b", "c", "d"] {
            std::fs::write(root.join("data").join(format!("{f}.txt")), format!("content {f}")).unwrap();
        }
        std::fs::write(root.join("secret.txt"), "TOP-SECRET").unwrap();
        let tool = root.join("tool.py");
        std::fs::write(&tool, TOOL).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        Workspace { _dir: dir, root }
    }

    fn path(&self, rel: &str) -> String {
        s(&self.root.join(rel)).to_string()
    }
}

fn learn(w: &Workspace, grant: &[String], args: &[String]) -> Run {
    let profile = w.path("tool.profile.json");
    let policy = w.path("tool.toml");
    let mut a: Vec<String> = vec!["learn".into(), "-p".into(), profile, "-o".into(), policy];
    a.extend(grant.iter().cloned());
    a.push(w.path("tool.py"));
    a.extend(args.iter().cloned());
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    run(&refs)
}

#[test]
fn a_learned_policy_runs_the_program_without_denial_and_grants_nothing_unobserved() {
    let w = Workspace::new();
    let sink = HttpSink::start(None);
    let url = format!("http://127.0.0.1:{}/doc", sink.addr.port());
    let origin = format!("http://127.0.0.1:{}", sink.addr.port());
    // A broad learning grant: the whole workspace readable (secret included), out/ writable.
    let grant = vec![
        "--no-host-view".to_string(),
        format!("--allow-read={}", s(&w.root)),
        format!("--allow-write={}", w.path("out")),
        format!("--allow-net={origin}"),
    ];
    for f in ["a", "b", "c"] {
        let r = learn(&w, &grant, &[w.path(&format!("data/{f}.txt")), url.clone()]);
        assert_eq!(r.code, 0, "learning run {f}: {}", r.stderr);
        assert!(r.stdout.contains(&format!("read: content {f}")), "{}", r.stdout);
    }
    let policy = std::fs::read_to_string(w.root.join("tool.toml")).unwrap();
    let data = format!("\"{}\",  # observed: read 3 paths under it", w.path("data"));
    assert!(policy.contains(&data), "the data files collapse to their directory:\n{policy}");
    // The log was written into the throw-away layer, never on the host: it is granted through
    // its directory, which exists there.
    assert!(policy.contains(&format!("write = [\n    \"{}\"", w.path("out"))), "{policy}");
    assert!(!w.root.join("out/log.txt").exists(), "learning never wrote the host");
    assert!(policy.contains(&format!("\"{origin}\",  # observed: HTTP to this origin, in 3 calls")), "{policy}");
    assert!(!policy.contains(&format!("\"{}\",", s(&w.root))), "the learning grant is not copied:\n{policy}");
    assert!(!policy.contains("secret.txt"), "{policy}");

    // Sufficient: a fourth file of the same directory, no denial, the request arrives.
    let before = sink.requests().len();
    let p = w.path("tool.toml");
    let r = run(&["run", "--policy", &p, &w.path("tool.py"), &w.path("data/d.txt"), &url]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("read: content d") && r.stdout.contains("fetched: hello from"), "{}", r.stdout);
    assert!(r.events("deny").is_empty(), "no denial under the derived policy: {:?}", r.events("deny"));
    assert_eq!(sink.requests().len(), before + 1, "the listener received the request");

    // Tight: the secret the learning grant exposed (positive control) is refused by the policy.
    let secret = w.path("secret.txt");
    let mut learning = vec!["run".to_string()];
    learning.extend(grant.iter().filter(|g| *g != "--no-host-view").cloned());
    learning.extend([w.path("tool.py"), w.path("data/a.txt"), url.clone(), secret.clone()]);
    let refs: Vec<&str> = learning.iter().map(String::as_str).collect();
    let open = run(&refs);
    assert!(open.stdout.contains("extra: TOP-SECRET"), "control: the learning grant reads it: {}", open.stdout);
    let r = run(&["run", "--policy", &p, &w.path("tool.py"), &w.path("data/a.txt"), &url, &secret]);
    assert!(r.stdout.contains("extra refused:"), "{}", r.stdout);
    assert!(!r.stdout.contains("TOP-SECRET"), "{}", r.stdout);
}

#[test]
fn refused_attempts_are_listed_with_the_flag_that_grants_them_and_following_it_works() {
    let w = Workspace::new();
    let sink = HttpSink::start(None);
    let url = format!("http://127.0.0.1:{}/doc", sink.addr.port());
    let a = w.path("data/a.txt");
    let r = learn(&w, &["--no-host-view".into()], &[a.clone(), url.clone()]);
    assert_ne!(r.code, 0, "nothing granted: the program fails while learning");
    let policy = std::fs::read_to_string(w.root.join("tool.toml")).unwrap();
    assert!(!policy.contains("[filesystem]"), "a refused attempt is not granted:\n{policy}");
    let fix = format!("--allow-read {a}");
    assert!(policy.contains(&fix), "the comment names the flag:\n{policy}");
    // Following the comment: the file is read, and the next refusal (the log) is named.
    std::fs::remove_file(w.root.join("tool.profile.json")).unwrap();
    let r = learn(&w, &["--no-host-view".into(), format!("--allow-read={a}")], &[a.clone(), url]);
    assert!(r.stdout.contains("read: content a"), "{}", r.stdout);
    let policy = std::fs::read_to_string(w.root.join("tool.toml")).unwrap();
    assert!(policy.contains(&format!("read = [\n    \"{a}\"")), "{policy}");
    // The log does not exist yet: its directory is what a grant can name.
    assert!(policy.contains(&format!("--allow-write {}", w.path("out"))), "{policy}");
}

#[test]
fn profiles_show_and_diff_what_a_tool_did() {
    let w = Workspace::new();
    let sink = HttpSink::start(None);
    let other = HttpSink::start(None);
    let grant = |o: &HttpSink| {
        vec![
            "--no-host-view".to_string(),
            format!("--allow-read={}", w.path("data")),
            format!("--allow-write={}", w.path("out")),
            format!("--allow-net=http://127.0.0.1:{}", o.addr.port()),
        ]
    };
    let url = |o: &HttpSink| format!("http://127.0.0.1:{}/", o.addr.port());
    assert_eq!(learn(&w, &grant(&sink), &[w.path("data/a.txt"), url(&sink)]).code, 0);
    let old = w.root.join("old.json");
    std::fs::rename(w.root.join("tool.profile.json"), &old).unwrap();
    assert_eq!(learn(&w, &grant(&other), &[w.path("data/a.txt"), url(&other)]).code, 0);
    let new = w.root.join("tool.profile.json");
    let shown = run(&["profile", "show", s(&new)]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains(&w.path("data/a.txt")), "{}", shown.stdout);
    let d = run(&["profile", "diff", s(&old), s(&new)]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(d.stdout.contains(&format!("+ http://127.0.0.1:{}", other.addr.port())), "{}", d.stdout);
    assert!(d.stdout.contains(&format!("- http://127.0.0.1:{}", sink.addr.port())), "{}", d.stdout);
    let bad = w.root.join("bad.json");
    std::fs::write(&bad, "{\"version\": 7}").unwrap();
    let r = run(&["profile", "show", s(&bad)]);
    assert_eq!(r.code, 125);
    assert!(r.stderr.contains("bad.json") && r.stderr.lines().count() == 1, "{}", r.stderr);
}

/// Sample components: read-file, write-file and tcp-ping learned under broad grants; each
/// derived policy runs its tool again (the file is read, written, the listener receives) and
/// refuses what the learning grant allowed beyond (the control: the learning grant allows it).
#[test]
fn sample_components_learn_policies_that_are_sufficient_and_tight() {
    let w = Workspace::new();
    let a = w.path("data/a.txt");
    let secret = w.path("secret.txt");
    let policy = w.path("tool.toml");
    let learn_tool = |tool: &str, grant: &[String], args: &[&str]| {
        let mut v: Vec<String> = vec!["learn".into(), "--no-host-view".into(), "-o".into(), policy.clone()];
        v.extend(grant.iter().cloned());
        v.push(s(&support::tool(tool)).to_string());
        v.extend(args.iter().map(|x| x.to_string()));
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        let r = run(&refs);
        assert_eq!(r.code, 0, "{tool}: {}", r.stderr);
        std::fs::read_to_string(&policy).unwrap()
    };
    let under = |tool: &str, flags: &[String], args: &[&str]| {
        let mut v: Vec<String> = vec!["run".into()];
        v.extend(flags.iter().cloned());
        v.push(s(&support::tool(tool)).to_string());
        v.extend(args.iter().map(|x| x.to_string()));
        let refs: Vec<&str> = v.iter().map(String::as_str).collect();
        run(&refs)
    };
    let derived = vec![format!("--policy={policy}")];

    // read-file: the workspace readable while learning; the policy names the file read.
    let broad = vec![format!("--allow-read={}", s(&w.root))];
    let text = learn_tool("read-file", &broad, &[&a]);
    assert!(text.contains(&format!("\"{a}\",  # observed: read it")), "{text}");
    let r = under("read-file", &derived, &[&a]);
    assert!(r.code == 0 && r.stdout.contains("content a") && r.events("deny").is_empty(), "{r:?}");
    assert!(under("read-file", &broad, &[&secret]).stdout.contains("TOP-SECRET"), "control");
    let r = under("read-file", &derived, &[&secret]);
    assert!(r.code != 0 && !r.stdout.contains("TOP-SECRET"), "{r:?}");

    // write-file: out/ writable while learning; the policy names the file written.
    let out = w.path("out/x.txt");
    let broad = vec![format!("--allow-write={}", s(&w.root))];
    let text = learn_tool("write-file", &broad, &[&out, "one"]);
    // The file was created in the throw-away layer, so it does not exist on the host: the
    // grant is its nearest directory that does.
    assert!(text.contains(&format!("write = [\n    \"{}\"", w.path("out"))), "{text}");
    let r = under("write-file", &derived, &[&out, "two"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap().trim(), "two");
    let elsewhere = w.path("data/planted.txt");
    assert_eq!(under("write-file", &broad, &[&elsewhere, "x"]).code, 0, "control");
    std::fs::remove_file(&elsewhere).unwrap();
    assert_ne!(under("write-file", &derived, &[&elsewhere, "x"]).code, 0);
    assert!(!std::path::Path::new(&elsewhere).exists());

    // tcp-ping: two endpoints granted while learning, one used.
    let used = TcpSink::start("127.0.0.1");
    let other = TcpSink::start("127.0.0.1");
    let broad = vec![
        format!("--allow-net=tcp://127.0.0.1:{}", used.addr.port()),
        format!("--allow-net=tcp://127.0.0.1:{}", other.addr.port()),
    ];
    let (to_used, to_other) = (used.addr.to_string(), other.addr.to_string());
    let text = learn_tool("tcp-ping", &broad, &[&to_used, "learning"]);
    assert!(text.contains(&format!("\"tcp://{to_used}\",  # observed: TCP to it")), "{text}");
    assert!(!text.contains(&to_other), "{text}");
    let r = under("tcp-ping", &derived, &[&to_used, "again"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(used.received().contains("again"));
    assert_eq!(under("tcp-ping", &broad, &[&to_other, "control"]).code, 0);
    assert!(other.received().contains("control"), "control: the learning grant reaches it");
    under("tcp-ping", &derived, &[&to_other, "refused"]);
    assert!(!other.received().contains("refused"), "the policy does not");
}

/// A program that carries on past each failure: reads its file, tries a key, appends to a log,
/// fetches a URL; says what worked.
const RESILIENT: &str = r#"#!/usr/bin/env python3
import sys, os, urllib.request
base = os.path.dirname(os.path.abspath(__file__))
print("read:", open(sys.argv[1]).read().strip())
for what, act in [
    ("key", lambda: open(sys.argv[3]).read()),
    ("log", lambda: open(os.path.join(base, "out", "log.txt"), "a").write(sys.argv[1] + "\n")),
    ("fetch", lambda: urllib.request.urlopen(sys.argv[2], timeout=10).read().decode()),
]:
    try:
        print(what, "ok:", act())
    except Exception as e:
        print(what, "failed:", e)
"#;

/// With no flags, the program learns from a read-only view of the host: what it read is
/// granted, a file it tried to create is granted through its directory, the endpoint it tried
/// is declared; the policy then runs it with no denial. The view hides sensitive paths (a key
/// under `~/.ssh`, readable on the host: the control) and never writes to the host (its writes
/// land in a throw-away layer).
#[test]
fn with_no_flags_learning_discovers_what_the_program_needs_from_a_read_only_host_view() {
    let w = Workspace::new();
    let tool = w.root.join("resilient.py");
    std::fs::write(&tool, RESILIENT).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = w.root.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "PRIVATE-KEY").unwrap();
    let key = s(&home.join(".ssh/id_rsa")).to_string();
    let sink = HttpSink::start(None);
    let url = format!("http://127.0.0.1:{}/doc", sink.addr.port());
    let (p, a) = (w.path("tool.toml"), w.path("data/a.txt"));
    let r = support::run_env(&["learn", "--verbose", "-o", &p, s(&tool), &a, &url, &key], &[("HOME", s(&home))]);
    assert!(r.stdout.contains("read: content a"), "the view shows the data: {}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("key failed") && !r.stdout.contains("PRIVATE-KEY"), "hidden: {}", r.stdout);
    assert!(std::fs::read_to_string(&key).unwrap().contains("PRIVATE-KEY"), "control: the host reads it");
    // The log is written, into the throw-away layer: the program carries on, the host is untouched.
    assert!(r.stdout.contains("log ok") && r.stdout.contains("fetch failed"), "{}", r.stdout);
    assert!(!w.root.join("out/log.txt").exists(), "nothing written to the host while learning");
    assert!(sink.requests().is_empty(), "nothing sent while learning");
    let policy = std::fs::read_to_string(&p).unwrap();
    assert!(policy.contains(&format!("\"{a}\",")), "{policy}");
    assert!(policy.contains(&format!("\"{}\",  # observed: wrote it", w.path("out"))), "{policy}");
    assert!(policy.contains(&format!("127.0.0.1:{}", sink.addr.port())), "{policy}");
    assert!(!policy.contains("id_rsa\","), "never granted: {policy}");
    // Run under it: the file is read, the log written, the request arrives, no denial.
    let r = run(&["run", "--policy", &p, s(&tool), &a, &url, &key]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("log ok") && r.stdout.contains("fetch ok"), "{}", r.stdout);
    assert!(std::fs::read_to_string(w.root.join("out/log.txt")).unwrap().contains("a.txt"));
    assert_eq!(sink.requests().len(), 1);
    let denied: Vec<_> = r.events("deny").into_iter().filter(|e| !e["target"].to_string().contains("id_rsa")).collect();
    assert!(denied.is_empty(), "no denial but the key's: {denied:?}");
}
