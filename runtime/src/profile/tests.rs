use super::*;
use crate::policy::Policy;
use crate::policy::endpoint::Endpoint;
use crate::policy::file::PolicyFile;
use std::path::Path;

fn obs(reads: &[&str], dials: &[(Proto, &str, u16)]) -> Observation {
    Observation {
        reads: reads.iter().map(|s| s.to_string()).collect(),
        dials: dials.iter().map(|(p, h, port)| Dial { proto: *p, host: h.to_string(), port: *port }).collect(),
        wall_ms: 120,
        output_bytes: 300,
        processes: 1,
        ..Observation::default()
    }
}

fn learned() -> Profile {
    let mut p = Profile::new("reader");
    for f in ["a.txt", "b.txt", "c.txt"] {
        let path = format!("/srv/data/docs/{f}");
        let mut o = obs(&[&path, "/srv/data/index.json"], &[(Proto::Tcp, "api.example.org", 443)]);
        o.names.insert("api.example.org".into());
        o.origins.insert("https://api.example.org:443".into());
        p.learn(&o);
    }
    p
}

fn options() -> DeriveOptions {
    DeriveOptions {
        collapse: Collapse { home: Some("/home/u".into()), ..Collapse::default() },
        implicit: vec!["/usr".into(), "/tmp".into()],
        ..DeriveOptions::default()
    }
}

#[test]
fn learning_counts_calls_and_keeps_peaks() {
    let p = learned();
    assert_eq!(p.calls, 3);
    assert_eq!(p.reads["/srv/data/index.json"], 3);
    assert_eq!(p.reads["/srv/data/docs/a.txt"], 1);
    assert_eq!(p.dials["tcp://api.example.org:443"], 3);
    assert_eq!(p.peaks.wall_ms, Peak { max: 120, total: 360 });
}

#[test]
fn profiles_round_trip_and_refuse_other_versions() {
    let p = learned();
    let text = p.to_json();
    assert_eq!(Profile::from_json(&text, "p.json").unwrap(), p);
    let other = text.replace("\"version\": 1", "\"version\": 9");
    let e = Profile::from_json(&other, "p.json").unwrap_err().to_string();
    assert!(e.contains("p.json") && e.contains("version 9"), "{e}");
    assert!(Profile::from_json("{", "p.json").is_err());
}

#[test]
fn merging_is_the_union_of_both() {
    let mut a = learned();
    let mut b = Profile::new("reader");
    b.learn(&obs(&["/srv/other"], &[(Proto::Udp, "10.0.0.1", 53)]));
    a.merge(&b);
    assert_eq!(a.calls, 4);
    assert!(a.reads.contains_key("/srv/other") && a.dials.contains_key("udp://10.0.0.1:53"));
}

#[test]
fn many_files_collapse_to_their_directory_never_above_the_depth() {
    let c = Collapse { home: Some("/home/u".into()), ..Collapse::default() };
    let files = ["/srv/data/docs/a", "/srv/data/docs/b", "/srv/data/docs/c", "/srv/x"].map(String::from);
    let g = c.apply(files.iter());
    assert_eq!(g.keys().collect::<Vec<_>>(), ["/srv/data/docs", "/srv/x"]);
    assert_eq!(g["/srv/data/docs"], 3);
    // Three top-level entries: `/` has depth 0 and is never granted whole.
    let top = ["/a", "/b", "/c"].map(String::from);
    assert_eq!(c.apply(top.iter()).len(), 3);
}

#[test]
fn a_directory_over_a_sensitive_path_is_never_granted_whole() {
    let c = Collapse { home: Some("/home/u".into()), ..Collapse::default() };
    let files = ["/home/u/.bashrc", "/home/u/.profile", "/home/u/notes", "/home/u/.ssh/id_rsa"].map(String::from);
    let g = c.apply(files.iter());
    assert!(!g.contains_key("/home/u"), "{g:?}");
    assert!(!g.contains_key("/home/u/.ssh/id_rsa"), "sensitive paths are left out: {g:?}");
    assert_eq!(g.len(), 3);
    assert_eq!(sensitive_reason("/home/u/.ssh/id_rsa", Some("/home/u")), Some("SSH private keys and known hosts"));
    assert_eq!(sensitive_reason("/home/u/.sshfoo", Some("/home/u")), None);
}

#[test]
fn the_derived_policy_parses_and_grants_what_was_observed_only() {
    let mut p = learned();
    let mut o = obs(&["/usr/lib/python3/os.py", "/home/u/.ssh/id_rsa"], &[(Proto::Udp, "10.1.2.3", 5353)]);
    o.writes.insert("/srv/out/result.json".into());
    o.memory = 40 << 20;
    p.learn(&o);
    let text = derive_policy(&p, &options());
    // The format and every endpoint and limit validate (paths are opened by the builder, and
    // these do not exist here: the integration tests run derived policies for real).
    let file: PolicyFile = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for e in &file.network.allow {
        assert!(e.get_ref().parse::<Endpoint>().is_ok(), "{}", e.get_ref());
    }
    let limits = PolicyFile { limits: file.limits, ..PolicyFile::default() };
    assert!(Policy::builder().parsed(&limits, &text, Path::new("/tmp/derived.toml"), Path::new("/")).is_ok(), "{text}");
    assert!(text.contains("\"/srv/data/docs\",  # observed: read 3 paths under it"), "{text}");
    assert!(text.contains("\"/srv/data/index.json\""), "{text}");
    assert!(text.contains("write = [\n    \"/srv/out/result.json\""), "{text}");
    assert!(text.contains("\"https://api.example.org\""), "{text}");
    assert!(text.contains("\"tcp://api.example.org:443\""), "{text}");
    assert!(text.contains("\"udp://10.1.2.3:5353\""), "{text}");
    assert!(!text.contains("\"/usr"), "implicit paths are not granted: {text}");
    assert!(!text.contains("\"/home/u/.ssh"), "{text}");
    assert!(text.contains("/home/u/.ssh/id_rsa (read): never granted"), "{text}");
    assert!(text.contains("timeout = \"5s\"") && text.contains("memory = \"80MiB\""), "{text}");
}

#[test]
fn calls_inside_the_profile_raise_nothing() {
    let b = Baseline::new(learned(), options());
    // Another file of a directory read while learning, the same endpoint.
    let mut o = obs(&["/srv/data/docs/zzz.txt"], &[(Proto::Tcp, "api.example.org", 443)]);
    o.names.insert("api.example.org".into());
    o.reads.insert("/usr/lib/libc.so".into());
    assert_eq!(judge(&b, &o), vec![]);
}

#[test]
fn each_deviation_is_named_with_its_severity() {
    let b = Baseline::new(learned(), options());
    let mut o = obs(&["/srv/secret/plan.txt", "/home/u/.aws/credentials"], &[(Proto::Tcp, "203.0.113.9", 443)]);
    o.names.insert("exfil.example.net".into());
    o.execs.insert("/bin/sh".into());
    o.denials.insert("net.connect 203.0.113.9:443".into());
    o.output_bytes = 300 * 1000;
    let a = judge(&b, &o);
    let kinds: Vec<(AnomalyKind, Severity)> = a.iter().map(|x| (x.kind, x.severity)).collect();
    for want in [
        (AnomalyKind::NewName, Severity::High),
        (AnomalyKind::NewEndpoint, Severity::High),
        (AnomalyKind::NewRead, Severity::Medium),
        (AnomalyKind::NewRead, Severity::High),
        (AnomalyKind::NewExec, Severity::High),
        (AnomalyKind::Refusal, Severity::High),
        (AnomalyKind::Output, Severity::High),
    ] {
        assert!(kinds.contains(&want), "{want:?} missing from {a:#?}");
    }
    assert_eq!(a[0].severity, Severity::High, "most severe first");
}

#[test]
fn an_envelope_is_judged_against_peak_headroom_and_floor() {
    let b = Baseline::new(learned(), options());
    let mut o = obs(&[], &[]);
    o.wall_ms = 1_900; // under the 2 s floor
    assert!(judge(&b, &o).is_empty());
    o.wall_ms = 2_100; // 17× the learned 120 ms
    assert_eq!((judge(&b, &o)[0].kind, judge(&b, &o)[0].severity), (AnomalyKind::WallTime, Severity::High));
    let mut slow = learned();
    let mut peak = obs(&[], &[]);
    peak.wall_ms = 1_500;
    slow.learn(&peak);
    let b = Baseline::new(slow, options());
    o.wall_ms = 3_100; // beyond 2× the peak, not 10×
    assert_eq!((judge(&b, &o)[0].kind, judge(&b, &o)[0].severity), (AnomalyKind::WallTime, Severity::Medium));
}

#[test]
fn memory_beyond_the_learned_peak_with_headroom_is_an_anomaly_unless_unmeasured() {
    let mut p = learned();
    let mut peak = obs(&[], &[]);
    peak.memory = 40 << 20;
    p.learn(&peak);
    let b = Baseline::new(p, options());
    let mut o = obs(&[], &[]);
    o.memory = 80 << 20; // exactly the peak × 2: inside
    assert!(judge(&b, &o).is_empty(), "{:?}", judge(&b, &o));
    o.memory = 100 << 20;
    let a = judge(&b, &o);
    assert_eq!((a[0].kind, a[0].severity), (AnomalyKind::Memory, Severity::Medium), "{a:?}");
    assert!(a[0].detail.contains("2.5× the learned peak"), "{a:?}");
    // A call whose memory could not be measured (0) is not judged on it; nor is any call
    // against a profile learned without a measure.
    o.memory = 0;
    assert!(judge(&b, &o).is_empty());
    let unmeasured = Baseline::new(learned(), options());
    o.memory = 500 << 20;
    assert!(judge(&unmeasured, &o).iter().all(|a| a.kind != AnomalyKind::Memory));
}

#[test]
fn diff_names_what_a_new_version_does() {
    let old = learned();
    let mut new = learned();
    new.learn(&obs(&["/srv/data/index.json"], &[(Proto::Tcp, "collector.example.net", 8443)]));
    let d = diff(&old, &new);
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].added, ["tcp://collector.example.net:8443"]);
    assert!(d.render().contains("+ tcp://collector.example.net:8443"));
    assert!(diff(&old, &old).is_empty());
}

#[test]
fn a_listed_directory_is_granted_only_when_entries_in_it_were_used() {
    let mut p = Profile::new("lister");
    let mut o = obs(&["/srv/app/data/one.txt"], &[]);
    o.lists.insert("/srv/app/data".into());
    o.lists.insert("/srv/app".into());
    p.learn(&o);
    let text = derive_policy(&p, &options());
    assert!(text.contains("\"/srv/app/data\",  #"), "{text}");
    assert!(!text.contains("\"/srv/app\",  #"), "{text}");
    assert!(
        text.contains("/srv/app (listed, nothing in it used): if the tool needs the listing, --allow-read /srv/app")
    );
    let b = Baseline::new(p, options());
    let mut call = obs(&[], &[]);
    call.lists.insert("/srv/other".into());
    assert_eq!(judge(&b, &call)[0].kind, AnomalyKind::NewRead);
}

#[test]
fn the_host_view_hides_sensitive_paths_other_homes_and_kernel_trees() {
    use std::collections::BTreeMap;
    let tree: BTreeMap<&str, Vec<(&str, EntryKind)>> = BTreeMap::from([
        (
            "/",
            vec![
                ("/etc", EntryKind::Dir),
                ("/home", EntryKind::Dir),
                ("/proc", EntryKind::Dir),
                ("/srv", EntryKind::Dir),
                ("/usr", EntryKind::Dir),
                ("/bin", EntryKind::Other),
                ("/root", EntryKind::Dir),
            ],
        ),
        ("/etc", vec![("/etc/hosts", EntryKind::File), ("/etc/shadow", EntryKind::File), ("/etc/ssl", EntryKind::Dir)]),
        ("/etc/ssl", vec![("/etc/ssl/certs", EntryKind::Dir), ("/etc/ssl/private", EntryKind::Dir)]),
        ("/home", vec![("/home/u", EntryKind::Dir), ("/home/v", EntryKind::Dir)]),
        (
            "/home/u",
            vec![
                ("/home/u/.ssh", EntryKind::Dir),
                ("/home/u/project", EntryKind::Dir),
                ("/home/u/.bashrc", EntryKind::File),
            ],
        ),
    ]);
    let list = |d: &str| tree.get(d).map(|v| v.iter().map(|(p, k)| (p.to_string(), *k)).collect()).unwrap_or_default();
    let view = host_view(Some("/home/u"), &["/usr".to_string()], &[], &list);
    assert_eq!(view, ["/etc/hosts", "/etc/ssl/certs", "/home/u/project", "/home/u/.bashrc", "/srv"], "{view:?}");
    // The superuser learning: its own home is shown, minus its secrets.
    let tree_root: BTreeMap<&str, Vec<(&str, EntryKind)>> = BTreeMap::from([
        ("/", vec![("/root", EntryKind::Dir)]),
        ("/root", vec![("/root/.ssh", EntryKind::Dir), ("/root/work", EntryKind::Dir)]),
    ]);
    let list =
        |d: &str| tree_root.get(d).map(|v| v.iter().map(|(p, k)| (p.to_string(), *k)).collect()).unwrap_or_default();
    assert_eq!(host_view(Some("/root"), &[], &[], &list), ["/root/work"]);
}

#[test]
fn the_shared_tmp_shows_only_what_the_tool_is_pointed_at() {
    use std::collections::BTreeMap;
    let tree: BTreeMap<&str, Vec<(&str, EntryKind)>> = BTreeMap::from([
        ("/", vec![("/tmp", EntryKind::Dir)]),
        (
            "/tmp",
            vec![("/tmp/work", EntryKind::Dir), ("/tmp/other-user", EntryKind::Dir), ("/tmp/x.sock", EntryKind::Other)],
        ),
    ]);
    let list = |d: &str| tree.get(d).map(|v| v.iter().map(|(p, k)| (p.to_string(), *k)).collect()).unwrap_or_default();
    assert_eq!(host_view(None, &[], &["/tmp/work/in.json".to_string()], &list), ["/tmp/work"]);
    assert!(host_view(None, &[], &[], &list).is_empty());
}
