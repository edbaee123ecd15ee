//! The throw-away write layer of a learning sandbox, for WebAssembly tools: WASI has no
//! overlay, so each writable directory of the grant is copied into a private directory (mode
//! 0700, under the host's temporary directory, removed when the call ends) that is preopened
//! at the directory's path. The tool reads and writes the copy; the host's directory is never
//! written. The copy is bounded ([`MAX_LAYER_BYTES`], [`MAX_LAYER_ENTRIES`]): a directory
//! beyond either is refused, with the path named, before the tool starts.
//!
//! Read-only grants (the learning view of the host) are preopened as they are: a write there
//! is recorded (`observe`), then refused by the preopen.

use crate::error::{Error, Result};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The most bytes of regular files one learning call copies into its write layer.
pub const MAX_LAYER_BYTES: u64 = 256 << 20;

/// The most entries (files, directories, links) one learning call copies into its write layer.
pub const MAX_LAYER_ENTRIES: usize = 20_000;

/// The copies of one call; removed when dropped (the copies only, never the originals).
#[derive(Debug, Default)]
pub(crate) struct Layer {
    root: Option<PathBuf>,
    bytes: u64,
    entries: usize,
}

impl Drop for Layer {
    fn drop(&mut self) {
        if let Some(r) = &self.root {
            let _ = std::fs::remove_dir_all(r);
        }
    }
}

fn refuse(path: &Path, reason: String) -> Error {
    Error::PrepareGrant { path: path.into(), reason }
}

impl Layer {
    /// A private copy of the directory `source` (a grant's descriptor, through `/proc`) whose
    /// host path is `path`, for the `n`th writable directory of `invocation`.
    pub fn copy(&mut self, source: &Path, path: &Path, invocation: &str, n: usize) -> Result<PathBuf> {
        let root = match &self.root {
            Some(r) => r.clone(),
            None => {
                let r = std::env::temp_dir().join(format!("mcp-sandbox-layer-{invocation}"));
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&r)
                    .map_err(|e| refuse(path, format!("cannot make the learning write layer {}: {e}", r.display())))?;
                self.root = Some(r.clone());
                r
            }
        };
        let to = root.join(n.to_string());
        self.tree(source, &to, path)?;
        Ok(to)
    }

    fn count(&mut self, path: &Path, bytes: u64) -> Result<()> {
        self.entries += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        if self.entries > MAX_LAYER_ENTRIES || self.bytes > MAX_LAYER_BYTES {
            return Err(refuse(
                path,
                format!(
                    "too large to copy into the learning write layer (more than {MAX_LAYER_ENTRIES} entries or {} in all, MAX_LAYER_ENTRIES/MAX_LAYER_BYTES); learn with a smaller directory granted writable",
                    crate::policy::units::format_size(MAX_LAYER_BYTES)
                ),
            ));
        }
        Ok(())
    }

    /// Copies directories, regular files and symbolic links (as links: the preopen confines
    /// where they lead); other entries (sockets, devices) are left out.
    fn tree(&mut self, from: &Path, to: &Path, shown: &Path) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let io = |e: std::io::Error| refuse(shown, format!("copy into the learning write layer: {e}"));
        self.count(shown, 0)?;
        std::fs::DirBuilder::new().mode(0o700).create(to).map_err(io)?;
        for entry in std::fs::read_dir(from).map_err(io)? {
            let entry = entry.map_err(io)?;
            let (src, dst) = (entry.path(), to.join(entry.file_name()));
            let shown = shown.join(entry.file_name());
            let kind = entry.file_type().map_err(io)?;
            if kind.is_dir() {
                self.tree(&src, &dst, &shown)?;
            } else if kind.is_file() {
                self.count(&shown, entry.metadata().map_err(io)?.len())?;
                std::fs::copy(&src, &dst).map_err(io)?;
            } else if kind.is_symlink() {
                self.count(&shown, 0)?;
                std::os::unix::fs::symlink(std::fs::read_link(&src).map_err(io)?, &dst).map_err(io)?;
            }
        }
        let mode = std::fs::metadata(from).map_err(io)?.permissions().mode();
        // The copy stays ours to remove: owner rights kept, the rest as the original.
        std::fs::set_permissions(to, std::fs::Permissions::from_mode((mode & 0o7777) | 0o700)).map_err(io)
    }
}
