//! Node: its installation's prefix, and the package tree of the script it runs.

use super::{Resolver, file_name};
use std::path::Path;

/// Directories above a script searched for its `package.json`.
const MAX_PACKAGE_DEPTH: usize = 8;

impl Resolver<'_> {
    /// `node`: its installation's prefix (when it carries `lib/node_modules`), and the package
    /// tree of the script it runs (its first argument that is not an option; a relative one is
    /// relative to the directory mcp-sandbox runs in, as it is for the tool).
    pub(super) fn node(&mut self, program: &Path, args: &[String]) {
        let Some(real) = self.fs.canonical(program) else { return };
        if !file_name(&real).starts_with("node") {
            return;
        }
        if let Some(prefix) = real.parent().and_then(Path::parent)
            && self.fs.is_dir(&prefix.join("lib/node_modules"))
        {
            self.add(prefix.to_path_buf(), "Node installation (lib/node_modules)".into());
        }
        if let Some(script) = args.iter().find(|a| !a.starts_with('-')).and_then(|a| self.absolute(a)) {
            self.script(&script, true);
        }
    }

    /// A script's package tree: the nearest directory above it with a `package.json`; when that
    /// package is installed in a `node_modules` directory, that whole directory (its
    /// dependencies are its siblings there). A script in no package (or in one that may not be
    /// granted, the home directory) is granted alone when `alone` (`node SCRIPT`: the script is
    /// the tool's code; a `#!` script is shown as the program already).
    pub(super) fn script(&mut self, script: &Path, alone: bool) {
        let Some(real) = self.fs.canonical(script) else { return };
        let package =
            real.ancestors().skip(1).take(MAX_PACKAGE_DEPTH).find(|d| self.fs.is_file(&d.join("package.json")));
        let granted = match package {
            Some(package) => {
                let modules = package.ancestors().skip(1).take(2).find(|d| file_name(d) == "node_modules");
                match modules {
                    Some(m) => self
                        .add(m.to_path_buf(), format!("Node packages (the script's package {})", file_name(package))),
                    None => self.add(package.to_path_buf(), "Node package (its package.json and node_modules)".into()),
                }
            }
            None => false,
        };
        if !granted && alone && self.fs.is_file(&real) {
            self.add(real, "the script node runs".into());
        }
    }
}
