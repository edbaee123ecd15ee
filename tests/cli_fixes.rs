//! Small CLI behaviours from issue 11: `run` looks a bare name up in PATH, passes everything
//! after TOOL untouched (`--help` included), clap messages name what is missing, examples are
//! pasteable, `pins` subcommands have help.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-sandbox");

fn mcp_sandbox(args: &[&str]) -> Output {
    Command::new(BIN).args(args).current_dir(std::env::temp_dir()).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_passes_help_after_the_tool_to_the_tool() {
    let out = mcp_sandbox(&["run", "/bin/ls", "--help"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("--all") && !stdout.contains("capability"), "ls's help, not ours: {stdout}");
}

#[test]
fn run_looks_a_bare_name_up_in_path() {
    let out = mcp_sandbox(&["run", "ls", "-d", "/"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stdout.trim(), "/");
}

#[test]
fn proxy_without_arguments_names_the_missing_one() {
    let out = mcp_sandbox(&["proxy"]);
    assert_eq!(out.status.code(), Some(125));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("<COMMAND>"), "{stderr}");
    assert!(!stderr.contains(":;"), "{stderr}");
}

#[test]
fn help_examples_are_one_line_each() {
    for sub in ["run", "proxy", "serve", "vet"] {
        let help = text(&mcp_sandbox(&[sub, "--help"]).stdout);
        for line in help.lines().filter(|l| l.trim_start().starts_with("mcp-sandbox ")) {
            assert!(!line.trim_end().ends_with('\\'), "`{sub} --help`: {line}");
        }
    }
}

#[test]
fn pins_subcommands_have_help() {
    let help = text(&mcp_sandbox(&["pins", "approve", "--help"]).stdout);
    assert!(help.contains("The tools to approve") && help.contains("The pins file"), "{help}");
    let help = text(&mcp_sandbox(&["pins", "list", "--help"]).stdout);
    assert!(help.contains("The pins file"), "{help}");
}

#[test]
fn run_drops_only_a_separating_double_dash() {
    let out = mcp_sandbox(&["run", "/bin/echo", "--", "--x", "--"]);
    assert_eq!(text(&out.stdout).trim(), "--x --", "{}", text(&out.stderr));
}
