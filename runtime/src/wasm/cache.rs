//! The on-disk cache of compiled components, so the second run of a tool does not compile.
//!
//! Entries live at `$MCP_SANDBOX_CACHE` (default `$XDG_CACHE_HOME/mcp-sandbox`, else
//! `~/.cache/mcp-sandbox`), under a directory named for the wasmtime version and the
//! engine's compatibility hash, one file per tool digest. Loading a compiled artifact runs
//! its machine code, so the cache is only used when its directory belongs to us and nobody
//! else can write to it; otherwise we compile every time and say so once.

use crate::grant::ToolDigest;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The wasmtime major version pinned in Cargo.toml.
const WASMTIME_MAJOR: u32 = 48;

#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
}

/// The default cache root.
pub fn default_root() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("MCP_SANDBOX_CACHE").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("mcp-sandbox"))
}

/// Only our own, non-group/world-writable directories are trusted with machine code.
fn trusted(dir: &Path) -> Result<(), String> {
    let md = std::fs::symlink_metadata(dir).map_err(|e| e.to_string())?;
    if !md.is_dir() {
        return Err("not a directory".into());
    }
    if md.uid() != rustix::process::geteuid().as_raw() {
        return Err("owned by another user".into());
    }
    if md.permissions().mode() & 0o022 != 0 {
        return Err("writable by group or others".into());
    }
    Ok(())
}

impl ComponentCache {
    /// Opens (creating, mode 0700) the cache for this engine under `root`.
    pub fn open(root: &Path, engine: &Engine) -> Result<Self, String> {
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        // The compatibility hash covers the wasmtime version and every compiler setting; the
        // major version in the name is for people looking at the directory.
        let dir = root.join(format!("wasmtime-{WASMTIME_MAJOR}-{:016x}", h.finish()));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        for d in [root, dir.as_path()] {
            trusted(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        Ok(ComponentCache { dir })
    }

    fn entry(&self, digest: &ToolDigest) -> PathBuf {
        self.dir.join(format!("{}.cwasm", digest.hex()))
    }

    /// A previously compiled component, if present and loadable.
    pub fn get(&self, engine: &Engine, digest: &ToolDigest) -> Option<Component> {
        let path = self.entry(digest);
        let md = std::fs::symlink_metadata(&path).ok()?;
        if !md.is_file() || md.uid() != rustix::process::geteuid().as_raw() || md.permissions().mode() & 0o022 != 0 {
            return None;
        }
        // SAFETY: `deserialize_file` trusts the file to be an artifact wasmtime produced. The
        // file lives in a directory that only this user can write (checked in `open`), was
        // written by `put` below through an atomic rename, is a regular file owned by us and
        // not group/world-writable (checked just above), and is keyed by the wasmtime
        // version and engine compatibility hash; wasmtime itself also checks the header.
        unsafe { Component::deserialize_file(engine, &path) }.ok()
    }

    /// Stores a compiled component (best effort: a cache that cannot be written is not an error).
    pub fn put(&self, component: &Component, digest: &ToolDigest) {
        let Ok(bytes) = component.serialize() else {
            return;
        };
        let tmp = self.dir.join(format!(".{}.{}.tmp", digest.hex(), std::process::id()));
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(&bytes).and_then(|()| f.sync_all()));
        if written.is_ok() {
            let _ = std::fs::rename(&tmp, self.entry(digest));
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

use std::os::unix::fs::OpenOptionsExt;
