//! `mcp-sandbox pins lock` (writes the approved pins of a tools directory) and the
//! `serve --approved-pins` start-up (`crate::mcp::approved`).

use super::fail;
use crate::error::{Error, Result};
use crate::mcp::ToolSet;
use crate::mcp::ToolSpec;
use crate::mcp::approved::{self, ApprovedFile};
use crate::mcp::manifest::manifest_paths;
use std::path::Path;

/// `pins lock --tools DIR [--out FILE|-]`: every manifest of `dir` must load (a tool that does
/// not is not approved silently: the lock fails); the file goes to stdout, or atomically to
/// `out`.
pub fn lock(dir: &Path, out: Option<&Path>) -> i32 {
    match lock_inner(dir, out) {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

fn lock_inner(dir: &Path, out: Option<&Path>) -> Result<()> {
    let mut tools = Vec::new();
    for path in manifest_paths(dir)? {
        let spec = ToolSpec::load(&path)?;
        if tools.iter().any(|(s, _): &(ToolSpec, _)| s.name == spec.name) {
            return Err(Error::DuplicateTool(spec.name));
        }
        let digest = approved::artifact_digest(&spec)?;
        tools.push((spec, digest));
    }
    let text = ApprovedFile::lock(&tools).to_text();
    match out.filter(|p| p.as_os_str() != "-") {
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| Error::Serve(format!("cannot write the approved pins to stdout: {e}")))
        }
        Some(path) => {
            let fail = |e: std::io::Error| Error::Approved {
                path: path.into(),
                reason: format!("cannot write it: {e}"),
                hint: "check that its directory exists and is writable, or leave out --out to print it".into(),
            };
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(format!(".tmp.{}", std::process::id()));
            std::fs::write(&tmp, &text).map_err(fail)?;
            std::fs::rename(&tmp, path).map_err(fail)?;
            eprintln!("mcp-sandbox: approved {} tool(s) into {}", tools.len(), path.display());
            Ok(())
        }
    }
}

/// `serve --approved-pins FILE` (read by then: a file it cannot use refused the start):
/// withholds what it does not approve, one stderr line each.
pub fn serve(tools: &mut ToolSet, approved: &ApprovedFile, file: &Path, dir: &Path) {
    let found = tools.approve(approved, file, dir);
    for (_, reason) in &found.withheld {
        eprintln!("mcp-sandbox: {reason}");
    }
    for name in &found.missing {
        eprintln!(
            "mcp-sandbox: warning: approved tool `{name}` is not in {} (its manifest is missing or did not load)",
            dir.display()
        );
    }
}
