//! `mcp-sandbox learn` (run a tool confined and observed; write its profile and the
//! least-privilege policy derived from it) and `mcp-sandbox profile show|diff`.

use super::fail;
use super::run::{PolicyArgs, report_runtime, report_status, runtime, sandbox_builder, tool_path};
use crate::profile::{DeriveOptions, Profile, derive_policy, diff};
use crate::{Call, Error, Output, Stdin};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct LearnArgs {
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// The profile to add this run to (created if missing; runs accumulate)
    #[arg(long, short = 'p', value_name = "FILE")]
    profile: Option<PathBuf>,
    /// Union these profiles in before deriving the policy (repeatable)
    #[arg(long, value_name = "FILE")]
    merge: Vec<PathBuf>,
    /// Write the derived policy here [default: stdout]
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Limits are the observed peaks times this
    #[arg(long, default_value_t = 2.0, value_name = "FACTOR")]
    headroom: f64,
    /// This many files seen in one directory make the directory the grant
    #[arg(long, default_value_t = 3, value_name = "N")]
    collapse_at: usize,
    /// Never grant a directory with fewer path components than this whole (`/home/u` has 2)
    #[arg(long, default_value_t = 2, value_name = "N")]
    min_depth: usize,
    /// Show the tool only what the flags grant, not the read-only view of the host (minus
    /// sensitive paths) it sees by default while learning
    #[arg(long)]
    no_host_view: bool,
    /// Network attempts the flags do not allow, while learning: recorded, then refused
    /// (`refuse`), or recorded and carried out (`allow`: to any address, by HTTP(S) for native
    /// tools; names still need declaring)
    #[arg(long, value_enum, default_value_t = LearnNet::Refuse, value_name = "MODE")]
    learn_net: LearnNet,
    /// Treat TOOL as a native program (detected automatically for ELF files and #! scripts)
    #[arg(long)]
    native: bool,
    /// The tool, then its arguments (everything after TOOL goes to the tool untouched)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "TOOL")]
    command: Vec<String>,
}

/// What happens to a learning tool's network attempts beyond its flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LearnNet {
    /// Recorded, then refused.
    Refuse,
    /// Recorded and carried out.
    Allow,
}

/// The endpoints `--learn-net allow` adds: every address, by any port. A native tool's
/// connections go through a relay per declared TCP port (at most `native::net::MAX_RELAYS`),
/// so it gets every address by HTTP and HTTPS, through the sandbox's proxy, which serves any
/// port; a WebAssembly tool's sockets are checked one by one, so it gets TCP and UDP too.
/// Names are not covered (a name must be declared to be resolved): `(endpoint, native)`.
const LEARN_NET_ALLOW: &[(&str, bool)] = &[
    ("http://0.0.0.0/0:*", true),
    ("https://0.0.0.0/0:*", true),
    ("http://[::/0]:*", true),
    ("https://[::/0]:*", true),
    ("tcp://0.0.0.0/0:*", false),
    ("tcp://[::/0]:*", false),
    ("udp://0.0.0.0/0:*", false),
    ("udp://[::/0]:*", false),
];

/// Behaviour profiles for `serve`: [`WatchFlags`] and the pins file quarantined tools go to.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    flags: WatchFlags,
    /// The pins file quarantined tools are recorded in [default: $XDG_STATE_HOME/mcp-sandbox/pins.json]
    #[arg(long, value_name = "FILE")]
    pins: Option<PathBuf>,
}

/// Behaviour profiles, the same flags for `serve` and `proxy` (whose `--pins` is its own).
#[derive(Debug, Args)]
pub struct WatchFlags {
    /// Judge every call against this profile (written by `learn` or `--learn`; one profile or
    /// an array, each naming its tool; repeatable): each deviation is an `anomaly` audit event
    #[arg(long, value_name = "FILE")]
    profile: Vec<PathBuf>,
    /// Learn every call into this profile file (one profile per tool; extended if it exists)
    #[arg(long, value_name = "FILE")]
    learn: Option<PathBuf>,
    /// Withhold a tool with a high-severity anomaly (from tools/list and calls) until approved
    /// with `mcp-sandbox pins approve`
    #[arg(long, requires = "profile")]
    quarantine: bool,
}

impl WatchArgs {
    /// The watch these flags ask for; `server` names the session in the pins file.
    pub fn build(&self, server: String) -> crate::Result<crate::mcp::watch::Watch> {
        self.flags.build(server, self.pins.as_deref())
    }
}

impl WatchFlags {
    /// Whether any of the flags was given.
    pub fn any(&self) -> bool {
        !self.profile.is_empty() || self.learn.is_some()
    }

    /// The watch these flags ask for; `server` names the session in the pins file `pins`.
    pub fn build(&self, server: String, pins: Option<&Path>) -> crate::Result<crate::mcp::watch::Watch> {
        let mut profiles = Vec::new();
        for f in &self.profile {
            profiles.extend(crate::mcp::watch::read_profiles(f)?);
        }
        let mut options = DeriveOptions { implicit: crate::native::provided_paths(), ..DeriveOptions::default() };
        options.collapse.home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
        let quarantine = if self.quarantine {
            let pins = match pins {
                Some(p) => p.to_path_buf(),
                None => crate::mcp::pins::PinStore::default_path().ok_or_else(|| Error::Pins {
                    path: PathBuf::from("pins.json"),
                    reason: "no state directory ($XDG_STATE_HOME or $HOME) for the default pins file".into(),
                    hint: "give one with --pins FILE",
                })?,
            };
            Some(crate::mcp::watch::Quarantine { pins, server })
        } else {
            None
        };
        crate::mcp::watch::Watch::new(profiles, &options, self.learn.clone(), quarantine)
    }
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print what a profile shows the tool doing
    Show {
        /// The profile file
        file: PathBuf,
    },
    /// Print what NEW shows the tool doing that OLD does not, and the reverse
    Diff {
        /// The earlier profile
        old: PathBuf,
        /// The later profile
        new: PathBuf,
    },
    /// Print the least-privilege policy a profile implies
    Policy {
        /// The profile file
        file: PathBuf,
    },
}

fn read_profile(path: &Path) -> crate::Result<Profile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::ParseProfile { origin: path.display().to_string(), reason: e.to_string() })?;
    Profile::from_json(&text, &path.display().to_string())
}

fn write(path: &Path, text: &str, what: &str) -> crate::Result<()> {
    std::fs::write(path, text).map_err(|e| Error::RunTool(format!("write the {what} {}: {e}", path.display())))
}

/// What a derived policy need not grant: what the sandbox provides anyway, and the tool's own
/// program and runtime. Paths that do not exist on this host cannot be granted and are left out
/// of the copy the policy is derived from (they stay in the profile, for monitoring).
fn options(a: &LearnArgs, tool: &crate::Tool, policy: &crate::Policy) -> DeriveOptions {
    let mut implicit = crate::native::provided_paths();
    implicit.push(tool.path().to_string_lossy().into_owned());
    implicit.extend(tool.runtime().iter().map(|d| d.path.to_string_lossy().into_owned()));
    let granted = policy
        .paths
        .iter()
        .map(|r| (r.path.to_string_lossy().into_owned(), r.access == crate::policy::Access::Write, r.exec))
        .collect();
    let mut o = DeriveOptions {
        headroom: a.headroom,
        implicit,
        granted: Some(granted),
        discover: !a.no_host_view,
        ..DeriveOptions::default()
    };
    o.collapse.at = a.collapse_at.max(1);
    o.collapse.min_depth = a.min_depth;
    o.collapse.home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
    o
}

/// The read-only view of the host a learning tool sees (`profile::host_view` over this host's
/// directories), minus what the sandbox provides anyway.
fn host_view(home: Option<&str>, own: &[String], named: &[String]) -> Vec<String> {
    use crate::profile::EntryKind;
    let list = |dir: &str| -> Vec<(String, EntryKind)> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
        entries
            .flatten()
            .map(|e| {
                let kind = match e.file_type() {
                    Ok(t) if t.is_dir() => EntryKind::Dir,
                    Ok(t) if t.is_file() => EntryKind::File,
                    _ => EntryKind::Other,
                };
                (e.path().to_string_lossy().into_owned(), kind)
            })
            .collect()
    };
    let mut skip = crate::native::provided_paths();
    skip.extend(own.iter().cloned());
    crate::profile::host_view(home, &skip, named, &list)
}

/// `p` with what exists on the host, and the directories granted in place of created files
/// (for [`DeriveOptions::made`]).
fn existing_only(p: &Profile) -> (Profile, Vec<String>) {
    let mut q = p.clone();
    // A read or run of a path that does not exist (a probe) needs no grant.
    q.reads.retain(|path, _| Path::new(path).exists());
    q.execs.retain(|path, _| Path::new(path).exists());
    // A file the tool created (in the throw-away layer while learning, so not on the host) is
    // granted through the nearest directory of its path that exists on the host: the tool made
    // what lies below it (`mkdir -p out/sub && write out/sub/x`).
    let mut writes = std::collections::BTreeMap::new();
    let mut made = Vec::new();
    let provided_paths = crate::native::provided_paths();
    let provided = |d: &Path| provided_paths.iter().any(|p| Path::new(p) == d);
    for (path, n) in &p.writes {
        let at = Path::new(path);
        let granted = if at.exists() {
            Some(at)
        } else {
            // Never a directory holding a sensitive path or a home, nor one of the top ones.
            let home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
            at.ancestors().skip(1).find(|d| d.is_dir()).filter(|d| {
                d.components().count() > 2
                    && !provided(d)
                    && !crate::profile::holds_sensitive(&d.to_string_lossy(), home.as_deref())
            })
        };
        if let Some(g) = granted {
            let g = g.to_string_lossy().into_owned();
            if g != *path {
                made.push(g.clone());
            }
            *writes.entry(g).or_default() += n;
        }
    }
    q.writes = writes;
    (q, made)
}

pub fn command(a: LearnArgs) -> i32 {
    match learn(a) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn learn(a: LearnArgs) -> crate::Result<i32> {
    if !(a.headroom.is_finite() && a.headroom >= 1.0 && a.headroom <= 100.0) {
        return Err(Error::InvalidValue {
            origin: "--headroom".into(),
            what: "factor",
            value: a.headroom.to_string(),
            reason: "must be between 1 and 100".into(),
            hint: "e.g. --headroom 2".into(),
        });
    }
    // Learning never writes the host: the tool's writes land in a throw-away layer.
    let sandbox = sandbox_builder(a.policy.audit.as_ref(), a.policy.resolver.as_ref())?.write_layer(true).build()?;
    let mut command = a.command.iter().cloned();
    let name = command.next().unwrap_or_default();
    let mut args: Vec<String> = command.collect();
    if args.first().is_some_and(|x| x == "--") {
        args.remove(0);
    }
    let tool = sandbox.load_command(&tool_path(&name), &args, a.native)?;
    report_runtime(&tool, a.policy.verbose);
    let mut builder = a.policy.builder()?;
    let home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
    // The tool and its runtime are granted read+exec; the read-only view stays off them.
    let mut own = vec![tool.path().to_string_lossy().into_owned()];
    own.extend(tool.runtime().iter().map(|d| d.path.to_string_lossy().into_owned()));
    // In the shared /tmp, only what the tool is pointed at is shown.
    let mut named: Vec<String> = args.iter().filter(|x| x.starts_with('/')).cloned().collect();
    named.extend(own.iter().cloned());
    named.extend(std::env::current_dir().ok().map(|d| d.to_string_lossy().into_owned()));
    let view = if a.no_host_view { Vec::new() } else { host_view(home.as_deref(), &own, &named) };
    let mut shown = 0;
    // A native tool's view is writable into its throw-away layer (an overlay: cheap); a
    // WebAssembly tool's stays read-only (its layer is a copy: only the flags' writable
    // directories are copied), and a write there is recorded, then refused.
    let native = tool.is_native();
    for path in &view {
        // A path gone since it was listed (a temporary file) is simply not shown.
        let shown_now = if native { builder.allow_write(path).is_ok() } else { builder.allow_read(path).is_ok() };
        if shown_now {
            shown += 1;
            if a.policy.verbose {
                eprintln!("mcp-sandbox: learning view: read-only {path}");
            }
        }
    }
    if !a.no_host_view {
        eprintln!(
            "mcp-sandbox: learning with a read-only view of the host ({shown} trees; sensitive paths hidden); writes land in a throw-away layer"
        );
    }
    // What the learning grant is, before --learn-net widens it: the derived policy is judged
    // against this one.
    let declared = builder.build();
    if a.learn_net == LearnNet::Allow {
        for (endpoint, for_native) in LEARN_NET_ALLOW {
            if *for_native || !native {
                builder.allow_net(endpoint)?;
            }
        }
        eprintln!(
            "mcp-sandbox: learning with the network open to every address (--learn-net allow); names still need declaring"
        );
    }
    let policy = builder.build();
    let mut profile = match &a.profile {
        Some(p) if p.exists() => read_profile(p)?,
        _ => Profile::new(&tool_name(&name)),
    };
    let call = Call {
        args,
        stdin: Stdin::Inherit,
        output: Output::Inherit,
        allow_degraded: a.policy.allow_degraded,
        observe: true,
    };
    let outcome = runtime()?.block_on(sandbox.invoke(&tool, &policy, call))?;
    // A native sandbox that could not be set up (its write layer included) exits 125 before
    // the tool runs: nothing was learned, and nothing is written.
    if tool.is_native() && outcome.status == crate::Status::Exited(125) && outcome.observed.execs.is_empty() {
        return Err(Error::RunTool(
            "the learning sandbox could not be set up (the line above says which layer); nothing learned, no profile or policy written".into(),
        ));
    }
    report_status(&outcome.status);
    profile.learn(&outcome.observed);
    if let Some(p) = &a.profile {
        write(p, &(profile.to_json() + "\n"), "profile")?;
    }
    let mut all = profile.clone();
    for m in &a.merge {
        all.merge(&read_profile(m)?);
    }
    let (all, made) = existing_only(&all);
    let text = derive_policy(&all, &DeriveOptions { made, ..options(&a, &tool, &declared) });
    match &a.output {
        Some(p) => {
            write(p, &text, "policy")?;
            eprintln!(
                "mcp-sandbox: learned {} call(s) of `{}`; policy written to {}; review it, then: mcp-sandbox run --policy {} {name}",
                all.calls,
                all.tool,
                p.display(),
                p.display()
            );
        }
        None => print!("{text}"),
    }
    if !outcome.status.success() {
        eprintln!(
            "mcp-sandbox: the tool ended with status {} while learning: the profile holds what it did until then",
            outcome.status.exit_code()
        );
    }
    Ok(outcome.status.exit_code())
}

fn tool_name(command: &str) -> String {
    Path::new(command).file_name().map_or_else(|| command.to_string(), |n| n.to_string_lossy().into_owned())
}

pub fn profile(cmd: ProfileCommand) -> i32 {
    let r = match cmd {
        ProfileCommand::Show { file } => {
            crate::mcp::watch::read_profiles(&file).map(|ps| ps.iter().for_each(|p| print!("{}", p.render())))
        }
        ProfileCommand::Diff { old, new } => {
            read_profile(&old).and_then(|o| read_profile(&new).map(|n| print!("{}", diff(&o, &n).render())))
        }
        ProfileCommand::Policy { file } => read_profile(&file).map(|p| {
            let mut o = DeriveOptions { implicit: crate::native::provided_paths(), ..DeriveOptions::default() };
            o.collapse.home = std::env::var("HOME").ok().filter(|h| h.starts_with('/'));
            let (p, made) = existing_only(&p);
            o.made = made;
            print!("{}", derive_policy(&p, &o));
        }),
    };
    match r {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}
