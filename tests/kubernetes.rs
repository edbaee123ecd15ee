//! The Kubernetes manifests (`deploy/kubernetes/`), rendered by `kubectl kustomize` and each
//! object validated against the Kubernetes schemas (PyPI `kubernetes-validate`, strict: an
//! unknown field is an error). No cluster runs here: this proves the manifests are what the API
//! server would accept and say what the README says, not that a cluster runs them.
//!
//! Run by `./dev image` (which installs the validator into `target/k8s-venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The oldest Kubernetes the manifests are for: user namespaces (`hostUsers`) and image volumes.
const KUBERNETES: &str = "1.33.0";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> PathBuf {
    let v = root().join("target/k8s-venv/bin/kubernetes-validate");
    assert!(v.exists(), "{} missing: run ./dev image (it installs kubernetes-validate there)", v.display());
    v
}

/// `kubectl kustomize DIR`, as the objects it renders (YAML documents to JSON with Python's
/// yaml module, which the validator's venv holds).
fn render(dir: &Path) -> (String, Vec<Value>) {
    let out = Command::new("kubectl").arg("kustomize").arg(dir).output();
    let out = out.unwrap_or_else(|e| panic!("kubectl: {e}: install kubectl (https://kubernetes.io/docs/tasks/tools/)"));
    assert!(out.status.success(), "kubectl kustomize: {}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    let py = root().join("target/k8s-venv/bin/python");
    let mut child = Command::new(py)
        .args(["-c", "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), yaml.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (yaml, serde_json::from_slice(&out.stdout).unwrap())
}

/// Validates a YAML file of objects; the validator's output when it refuses.
fn validate(file: &Path) -> Result<(), String> {
    let out =
        Command::new(validator()).args(["--strict", "--kubernetes-version", KUBERNETES]).arg(file).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() { Ok(()) } else { Err(text) }
}

fn kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}

#[test]
#[ignore = "needs kubectl and the validator: ./dev image"]
fn every_rendered_object_validates_against_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let (yaml, objects) = render(&root().join("deploy/kubernetes"));
    let kinds: Vec<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    for k in ["Namespace", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget", "NetworkPolicy"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let file = dir.path().join("rendered.yaml");
    std::fs::write(&file, &yaml).unwrap();
    validate(&file).unwrap_or_else(|e| panic!("the rendered manifests do not validate:\n{e}"));
    // Each source file alone as well (what `kubectl apply -f` without kustomize would send).
    for entry in std::fs::read_dir(root().join("deploy/kubernetes")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("kustomization.yaml") {
            validate(&p).unwrap_or_else(|e| panic!("{} does not validate:\n{e}", p.display()));
        }
    }
}

/// The control: the validator refuses what the API server would (an unknown field, a wrong
/// type), so that its passing above means something.
#[test]
#[ignore = "needs kubectl and the validator: ./dev image"]
fn the_validator_refuses_a_broken_deployment() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(root().join("deploy/kubernetes/deployment.yaml")).unwrap();
    for (what, from, to) in [
        ("a wrong type", "hostUsers: false", "hostUsers: \"no\""),
        (
            "an unknown field",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: true\n            readOnlyEverything: true",
        ),
        ("a count that is not a number", "replicas: 2", "replicas: two"),
    ] {
        assert!(good.contains(from), "{from}");
        let file = dir.path().join("broken.yaml");
        std::fs::write(&file, good.replacen(from, to, 1)).unwrap();
        assert!(validate(&file).is_err(), "the validator accepted {what}");
    }
}

/// What the README and deploy/README.md promise of the Deployment is what it says.
#[test]
#[ignore = "needs kubectl and the validator: ./dev image"]
fn the_deployment_keeps_every_layer_and_the_documented_settings() {
    let (_, objects) = render(&root().join("deploy/kubernetes"));
    let d = kind(&objects, "Deployment");
    let pod = &d["spec"]["template"]["spec"];
    assert!(d["spec"]["replicas"].as_u64().unwrap() >= 2);
    assert_eq!(pod["hostUsers"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "Localhost");
    assert_eq!(pod["securityContext"]["seccompProfile"]["localhostProfile"], "mcp-sandbox/seccomp.json");
    let c = &pod["containers"][0];
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert!(sc["capabilities"]["add"].is_null(), "no capability is added");
    assert!(sc["privileged"].is_null() || sc["privileged"] == false);
    assert_eq!(sc["procMount"], "Unmasked");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    for r in ["requests", "limits"] {
        assert!(c["resources"][r]["cpu"].is_string() && c["resources"][r]["memory"].is_string(), "{r}");
    }
    let args: Vec<&str> = c["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(args[0], "serve");
    for a in [
        "--audit=-",
        "--token-file=/run/secrets/mcp-sandbox/token",
        "--tools=/etc/mcp-sandbox/tools",
        "--approved-pins=/etc/mcp-sandbox/tools/approved-pins.json",
    ] {
        assert!(args.contains(&a), "{a} missing: {args:?}");
    }
    assert!(!args.iter().any(|a| a.contains("allow-degraded")), "{args:?}");
    // The token from a Secret, the tools from the generated ConfigMap, both read-only.
    let volumes = pod["volumes"].as_array().unwrap();
    let cm = kind(&objects, "ConfigMap");
    let cm_name = cm["metadata"]["name"].as_str().unwrap();
    assert!(cm_name.starts_with("mcp-sandbox-tools-"), "a content-hashed name: {cm_name}");
    assert!(volumes.iter().any(|v| v["configMap"]["name"] == cm_name));
    assert!(volumes.iter().any(|v| v["secret"]["secretName"] == "mcp-sandbox-token"));
    for m in c["volumeMounts"].as_array().unwrap() {
        let writable = ["/var/lib/mcp-sandbox", "/tmp"].contains(&m["mountPath"].as_str().unwrap());
        assert_eq!(m["readOnly"] == true, !writable, "{m}");
    }
    // The manifests and, beside them, the approved pins naming exactly those tools.
    let data = cm["data"].as_object().unwrap();
    assert!(data.keys().all(|k| k.ends_with(".toml") || k == "approved-pins.json"), "{cm}");
    let approved: Value = serde_json::from_str(data["approved-pins.json"].as_str().unwrap()).unwrap();
    let mut pinned: Vec<&String> = approved["tools"].as_object().unwrap().keys().collect();
    let mut manifests: Vec<String> = data.keys().filter_map(|k| k.strip_suffix(".toml")).map(String::from).collect();
    pinned.sort();
    manifests.sort();
    assert_eq!(pinned, manifests.iter().collect::<Vec<_>>(), "each manifest is approved, and nothing else");
    // The Service, PDB and NetworkPolicy select the Deployment's pods.
    let labels = &d["spec"]["template"]["metadata"]["labels"];
    for k in ["Service", "PodDisruptionBudget", "NetworkPolicy"] {
        let o = kind(&objects, k);
        let sel = if k == "Service" { &o["spec"]["selector"] } else { &o["spec"]["podSelector"]["matchLabels"] };
        let sel = if k == "PodDisruptionBudget" { &o["spec"]["selector"]["matchLabels"] } else { sel };
        for (key, value) in sel.as_object().unwrap() {
            assert_eq!(&labels[key], value, "{k} selects {key}={value}");
        }
    }
}
