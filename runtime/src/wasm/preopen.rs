//! Path grants as WASI preopens, each at the same path inside as on the host.
//!
//! What is preopened is the file or directory the grant's descriptor holds (opened when the
//! path was checked, `policy::path`), never the path looked up again: a directory is opened
//! through `/proc/self/fd/N` of that descriptor (wasmtime-wasi only takes a host path, and
//! the kernel follows that link to the object itself), and cap-std confines every access to
//! it (no `..` or symlink escapes). WASI can only preopen directories, so single-file grants
//! are staged: the files of one parent directory are hard-linked, from their descriptors, into
//! a private directory (mode 0700) that is preopened at the parent's path, so the tool sees
//! exactly those files there. A read-only file that cannot be hard-linked (another filesystem,
//! or `protected_hardlinks` for a file we do not own) is copied instead, from its descriptor
//! too; a writable one must be granted through its directory.

use crate::error::{Error, Result};
use crate::policy::{Access, PathRule};
use std::collections::BTreeMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// Staged single files; removed when dropped (the links only, never the originals).
#[derive(Debug, Default)]
pub(crate) struct Staging {
    root: Option<PathBuf>,
    /// The learning write layer's copies, removed with it.
    layer: super::layer::Layer,
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(r) = &self.root {
            let _ = std::fs::remove_dir_all(r);
        }
    }
}

fn perms(a: Access) -> FsPerms {
    match a {
        Access::Read => FsPerms::ReadOnly,
        Access::Write => FsPerms::ReadWrite,
    }
}

fn grant_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::PrepareGrant { path: path.into(), reason: reason.into() }
}

/// An error opening a grant's descriptor through `/proc/self/fd`, which needs `/proc`.
fn proc_err(path: &Path, e: impl std::fmt::Display) -> Error {
    if Path::new("/proc/self/fd").is_dir() {
        grant_err(path, e.to_string())
    } else {
        grant_err(path, "/proc is not mounted, and granted paths are opened through /proc/self/fd; mount /proc")
    }
}

/// Adds the preopens for `paths`; returns the staging area to keep alive for the run.
/// With `layer`, writable paths are private copies.
pub(crate) fn preopen(b: &mut WasiCtxBuilder, paths: &[PathRule], invocation: &str, layer: bool) -> Result<Staging> {
    let mut files: BTreeMap<PathBuf, Vec<&PathRule>> = BTreeMap::new();
    let mut staging = Staging::default();
    for (n, rule) in paths.iter().enumerate() {
        if rule.handle.is_dir() {
            let guest = rule.path.to_str().ok_or_else(|| grant_err(&rule.path, "path is not UTF-8"))?;
            let source = if layer && rule.access == Access::Write {
                staging.layer.copy(&rule.handle.proc_path(), &rule.path, invocation, n)?
            } else {
                rule.handle.proc_path()
            };
            b.preopened_dir(source, guest, perms(rule.access)).map_err(|e| proc_err(&rule.path, e))?;
        } else {
            let parent = rule.path.parent().unwrap_or(Path::new("/")).to_path_buf();
            files.entry(parent).or_default().push(rule);
        }
    }
    if files.is_empty() {
        return Ok(staging);
    }
    let root = std::env::temp_dir().join(format!("mcp-sandbox-{invocation}"));
    std::fs::DirBuilder::new().mode(0o700).create(&root).map_err(|e| grant_err(&root, e.to_string()))?;
    staging.root = Some(root.clone());
    for (i, (parent, rules)) in files.iter().enumerate() {
        let access = rules[0].access;
        if rules.iter().any(|r| r.access != access) {
            return Err(grant_err(
                parent,
                "mixes read-only and writable single files in one directory; grant them with the same access, or grant the directory",
            ));
        }
        let dir = root.join(i.to_string());
        std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| grant_err(&dir, e.to_string()))?;
        for r in rules {
            let name = r.path.file_name().ok_or_else(|| grant_err(&r.path, "no file name"))?;
            let link = dir.join(name);
            // linkat(2) through the descriptor's /proc link with AT_SYMLINK_FOLLOW: the file
            // the grant holds, whatever its name means now.
            let source = r.handle.proc_path();
            if layer && r.access == Access::Write {
                std::fs::copy(&source, &link).map_err(|e| proc_err(&r.path, e))?;
                continue;
            }
            let linked = rustix::fs::linkat(
                rustix::fs::CWD,
                &source,
                rustix::fs::CWD,
                &link,
                rustix::fs::AtFlags::SYMLINK_FOLLOW,
            );
            if let Err(e) = linked {
                if r.access == Access::Write {
                    return Err(grant_err(
                        &r.path,
                        format!(
                            "cannot stage a writable single file ({e}); grant its directory with --allow-write instead"
                        ),
                    ));
                }
                std::fs::copy(&source, &link).map_err(|e| proc_err(&r.path, e))?;
            }
        }
        let guest = parent.to_str().ok_or_else(|| grant_err(parent, "path is not UTF-8"))?;
        b.preopened_dir(&dir, guest, perms(access)).map_err(|e| grant_err(parent, e.to_string()))?;
    }
    Ok(staging)
}
