//! The container image (the top-level `Dockerfile`) run by a real engine (podman): `serve` in it
//! answers the official Python SDK over streamable HTTP; the native and WebAssembly `c2-beacon`
//! tools run in it with every layer on and reach nothing undeclared, and reach a host listener
//! when granted; under the engine's defaults the sandbox refuses with one line naming the
//! options; each call `deploy/seccomp.json` adds to the engine's default is needed.
//!
//! Run by `./dev image` (which installs podman, runc and mmdebstrap, makes the runtime base with
//! `deploy/bases.sh runtime` and runs these with `--ignored`): the image is built from this test
//! build's own binaries (`--target prebuilt`), so no second compilation is needed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use support::{DnsSink, TcpSink, UdpSink, native_tool, python, root, s, tool};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");
const IMAGE: &str = "localhost/mcp-sandbox:test";
/// The options README "Deployment" documents, and the one line names.
const OPTIONS: &str = "--security-opt seccomp=deploy/seccomp.json --security-opt systempaths=unconfined";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// `podman run --rm` with what this machine needs of every container (runc: crun refuses the
/// hybrid cgroup layout here; ulimits within the host's hard limits), then `opts`.
fn podman_run(opts: &[&str]) -> Command {
    let mut c = Command::new("podman");
    c.args(["run", "--rm", "--runtime", &env_or("MCP_SANDBOX_TEST_OCI_RUNTIME", "runc")]);
    c.args(["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]);
    c.args(opts);
    c
}

/// The documented options, with the shipped profile's real path.
fn confined() -> Vec<String> {
    let profile = root().join("deploy/seccomp.json");
    vec![
        "--security-opt".into(),
        format!("seccomp={}", s(&profile)),
        "--security-opt".into(),
        "systempaths=unconfined".into(),
    ]
}

/// The image: `MCP_SANDBOX_TEST_IMAGE` if set (`./dev image --full` passes the one `podman
/// build .` made), else built once per test binary from this build's binaries on the runtime base.
fn image() -> &'static str {
    static GIVEN: OnceLock<Option<String>> = OnceLock::new();
    if let Some(given) = GIVEN.get_or_init(|| std::env::var("MCP_SANDBOX_TEST_IMAGE").ok().filter(|i| !i.is_empty())) {
        return given;
    }
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let base = env_or("MCP_SANDBOX_TEST_RUNTIME_BASE", "localhost/mcp-sandbox-base:runtime");
        let have = Command::new("podman").args(["image", "exists", &base]).status();
        assert!(have.is_ok_and(|s| s.success()), "podman or the image {base} missing: run ./dev image");
        let ctx = tempfile::tempdir().unwrap();
        let bin = PathBuf::from(BIN);
        for name in ["mcp-sandbox", "mcp-sandbox-init"] {
            std::fs::copy(bin.with_file_name(name), ctx.path().join(name)).unwrap();
        }
        let out = Command::new("podman")
            .args(["build", "--quiet", "--runtime", &env_or("MCP_SANDBOX_TEST_OCI_RUNTIME", "runc")])
            .args(["--target", "prebuilt", "--build-arg", &format!("RUNTIME={base}"), "-t", IMAGE, "-f"])
            .arg(root().join("Dockerfile"))
            .arg(ctx.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "podman build failed: {}", String::from_utf8_lossy(&out.stderr));
    });
    IMAGE
}

/// The sample tools and their manifests, read-only at /srv/mcp (the manifests' relative paths
/// hold there as in the repository).
fn mounts() -> Vec<String> {
    native_tool("c2-beacon.c");
    tool("c2-beacon");
    let mut v = Vec::new();
    for (dir, at) in [("tools", "/srv/mcp/tools"), ("sample-tools", "/srv/mcp/sample-tools")] {
        v.push("-v".to_string());
        v.push(format!("{}:{at}:ro", s(&root().join(dir))));
    }
    v
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

fn ran(o: Output) -> Ran {
    Ran {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `mcp-sandbox ARGS` in the image, on the host's network (so that the supervisor's relays
/// dial the host's loopback listeners), with `opts` as the engine's options.
fn in_image(opts: &[String], args: &[&str]) -> Ran {
    let image = image();
    let mut c = podman_run(&["--network", "host"]);
    c.args(opts).args(mounts()).arg(image).args(args);
    ran(c.output().unwrap())
}

const NATIVE: &str = "/srv/mcp/sample-tools/target/native/c2-beacon";
const WASM: &str = "/srv/mcp/sample-tools/target/wasm32-wasip2/release/c2-beacon.wasm";

/// Both executors, three channels (TCP, UDP, a DNS look-up of a name carrying data): with
/// nothing declared each is blocked and no listener receives anything (the resolver is not even
/// asked); with the endpoints granted, the same tool's beacon reaches the TCP and UDP listeners
/// and its look-up the resolver. No layer is degraded on the way.
#[test]
#[ignore = "needs podman and the runtime base image: ./dev image"]
fn the_beacons_reach_nothing_undeclared_and_the_listeners_when_granted() {
    for beacon in [NATIVE, WASM] {
        let tcp = TcpSink::start("127.0.0.1");
        let udp = UdpSink::start();
        let dns = DnsSink::start(None);
        let (t, u, resolver) = (tcp.addr.to_string(), udp.addr.to_string(), dns.addr.to_string());
        let channels = ["--tcp-ip", &t, "--udp", &u, "--dns", "exfil.test"];
        let mut args = vec!["run", "--resolver", &resolver, beacon];
        args.extend(channels);
        let r = in_image(&confined(), &args);
        // A native tool's datagram to an undeclared address is sent into its own network
        // namespace (`udp: ok`) and goes nowhere: the listener judges, not the tool's word.
        assert!(r.stderr.lines().any(|l| l.contains("denied:") && l.contains("udp://")), "{beacon}: {}", r.stderr);
        for ch in ["tcp-ip: blocked", "dns: blocked"] {
            assert!(r.stdout.contains(ch), "{beacon}: {ch}: {}", r.stdout);
        }
        assert!(!r.stderr.contains("degraded"), "{beacon}: {}", r.stderr);
        assert!(tcp.received().is_empty(), "{beacon}: the TCP listener received something undeclared");
        assert!(udp.received().is_empty(), "{beacon}: the UDP listener received something undeclared");
        assert!(dns.questions().is_empty(), "{beacon}: the resolver was asked an undeclared name");
        let udp_grant = format!("udp://{u}");
        let mut args = vec!["run", "--resolver", &resolver, "--allow-net", &t, "--allow-net", &udp_grant];
        args.extend(["--allow-net", "*.exfil.test:443", beacon]);
        args.extend(channels);
        let r = in_image(&confined(), &args);
        assert_eq!(r.code, 0, "{beacon}: granted, the beacon must get through: {}{}", r.stdout, r.stderr);
        assert!(!r.stderr.contains("degraded"), "{beacon}: {}", r.stderr);
        assert!(tcp.received().contains("beacon:c2-beacon"), "{beacon}: the granted TCP beacon did not arrive");
        assert!(udp.received().iter().any(|d| d.contains("beacon:c2-beacon")), "{beacon}: no granted UDP beacon");
        assert!(dns.questions().iter().any(|q| q.starts_with("736563726574.exfil.test")), "{beacon}: no look-up");
    }
}

/// Inside the image the native sandbox still holds its own view: the tool sees no file the
/// grant does not name (the image's /etc/passwd is replaced by the sandbox's own), while the
/// granted file is read.
#[test]
#[ignore = "needs podman and the runtime base image: ./dev image"]
fn a_native_tool_in_the_image_sees_only_its_grant() {
    let data = "/srv/mcp/sample-tools/data/hello.txt";
    let r = in_image(&confined(), &["run", "--allow-read", data, "/bin/cat", data]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "Hello from a granted file.\n"), "{}", r.stderr);
    let r = in_image(&confined(), &["run", "/bin/cat", data]);
    assert_ne!(r.code, 0, "read without a grant: {}", r.stdout);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    let r = in_image(&confined(), &["run", "/bin/cat", "/etc/passwd"]);
    assert!(!r.stdout.contains("mcp:x:10001"), "the image's own accounts are visible: {}", r.stdout);
}

/// Each refusal under the engine's defaults is one line on stderr naming the options to add,
/// and nothing runs; with them (the test above) it runs.
#[test]
#[ignore = "needs podman and the runtime base image: ./dev image"]
fn under_the_engines_defaults_the_sandbox_refuses_in_one_line_naming_the_options() {
    let sink = TcpSink::start("127.0.0.1");
    let target = format!("127.0.0.1:{}", sink.addr.port());
    let seccomp_only = confined()[..2].to_vec();
    for opts in [vec![], seccomp_only] {
        let r = in_image(&opts, &["run", "--allow-net", &target, NATIVE, "--tcp-ip", &target]);
        let lines: Vec<&str> = r.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(r.code, 125, "{opts:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(lines.len(), 1, "{opts:?}: one line: {}", r.stderr);
        assert!(lines[0].contains(OPTIONS), "{opts:?}: {}", lines[0]);
        assert!(r.stdout.is_empty(), "{opts:?}: the tool ran: {}", r.stdout);
    }
    assert!(sink.received().is_empty(), "a refused sandbox let the tool run");
}

/// `deploy/seccomp.json` is what `deploy/seccomp.py` writes from this engine's default, and each
/// call it adds is needed: without it the sandbox refuses (and says how to fix it).
#[test]
#[ignore = "needs podman and the runtime base image: ./dev image"]
fn each_call_the_profile_adds_is_needed() {
    let generator = root().join("deploy/seccomp.py");
    let shipped = root().join("deploy/seccomp.json");
    let check = Command::new("python3").arg(&generator).arg("--check").arg("-o").arg(&shipped).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let profile: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&shipped).unwrap()).unwrap();
    let added: Vec<String> = profile["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["comment"].as_str().is_some_and(|c| c.starts_with("mcp-sandbox:")))
        .flat_map(|r| r["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()))
        .collect();
    assert!(!added.is_empty(), "the profile adds nothing to the engine's default");
    let dir = tempfile::tempdir().unwrap();
    for name in &added {
        let without = dir.path().join(format!("without-{name}.json"));
        let made =
            Command::new("python3").arg(&generator).args(["--without", name, "-o"]).arg(&without).output().unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let opts = [
            "--security-opt".into(),
            format!("seccomp={}", s(&without)),
            "--security-opt".into(),
            "systempaths=unconfined".into(),
        ];
        let r = in_image(&opts, &["run", "/bin/true"]);
        assert_eq!(r.code, 125, "without {name} the sandbox was built: {}", r.stderr);
        assert!(r.stderr.contains(OPTIONS), "without {name}: {}", r.stderr);
    }
    let r = in_image(&confined(), &["run", "/bin/true"]);
    assert_eq!(r.code, 0, "with every addition: {}", r.stderr);
}

/// Removes the named container when dropped (the test may panic while it runs).
struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("podman").args(["rm", "--force", "--time", "0", &self.0]).output();
    }
}

/// `serve --listen` in the image, published on a host loopback port through the engine's own
/// network (not the host's), with a bearer token: the official Python SDK lists and calls tools.
#[test]
#[ignore = "needs podman and the runtime base image: ./dev image"]
fn serve_in_the_image_answers_the_python_sdk_over_streamable_http() {
    let image = image();
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "container-test-token\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let name = format!("mcp-sandbox-test-serve-{}", std::process::id());
    let _gone = Container(name.clone());
    let mut c = podman_run(&["--name", &name, "-p", &format!("127.0.0.1:{port}:8931")]);
    c.args(confined()).args(mounts());
    c.args(["-v", &format!("{}:/run/secrets/mcp-token:ro", s(&token)), image]);
    c.args([
        "serve",
        "--tools",
        "/srv/mcp/tools",
        "--listen",
        "0.0.0.0:8931",
        "--token-file",
        "/run/secrets/mcp-token",
    ]);
    let mut child = c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("serve exited in the container").unwrap();
        if line.starts_with("mcp-sandbox: serving MCP at http://") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let out = Command::new(python())
        .arg(root().join("tests/mcp/client.py"))
        .args(["http", &format!("http://127.0.0.1:{port}/mcp"), "/srv/mcp/sample-tools/data/hello.txt"])
        .arg("container-test-token")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "client failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let tools: Vec<&str> = v["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(tools.contains(&"echo-json") && tools.contains(&"read-file") && tools.contains(&"line-count"), "{tools:?}");
    assert_eq!(v["echo"]["structured"]["echo"]["message"], "from python", "{v}");
    assert_eq!(v["read"]["text"], "Hello from a granted file.\n", "{v}");
    assert_eq!(v["read_outside"]["is_error"], true, "{v}");
    assert!(!v["read_outside"]["text"].as_str().unwrap().contains("root:"), "{v}");
    // Without the token the gateway refuses (the front door holds inside the container too).
    let bare = Command::new(python())
        .arg(root().join("tests/mcp/client.py"))
        .args(["http", &format!("http://127.0.0.1:{port}/mcp"), "/srv/mcp/sample-tools/data/hello.txt"])
        .output()
        .unwrap();
    assert!(!bare.status.success(), "served without the token: {}", String::from_utf8_lossy(&bare.stdout));
    let _ = child.kill();
    let _ = child.wait();
}
