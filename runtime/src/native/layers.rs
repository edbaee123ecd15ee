//! Which confinement layers this host can enforce, decided before anything runs. A missing
//! layer refuses the run (exit 125, the layer named) unless the caller allowed a degraded
//! sandbox, in which case each missing layer is audited and reported.
//!
//! A probe that fails for lack of resources (the server out of descriptors or memory) proves
//! nothing about the kernel: the run is refused with that said, and a retry suggested, never
//! a degraded run (which would be the wrong fix, and is not offered).

use super::landlock;
use ::landlock::{ABI, Access, AccessFs, CompatLevel, Compatible, Ruleset, RulesetAttr};

/// Facts about the host that decide which layers hold.
#[derive(Debug, Clone)]
pub struct HostFacts {
    pub landlock_abi: i32,
    pub user_namespaces: bool,
    /// A probe that could not be run for lack of resources: what ran out.
    pub unchecked: Option<Unchecked>,
}

/// A layer whose probe failed for lack of resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    pub layer: &'static str,
    pub errno: i32,
}

/// A layer that cannot be enforced here (or not be checked now).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub layer: &'static str,
    pub why: String,
    pub fix: &'static str,
    /// Without it there is no sandbox at all, degraded or not.
    pub essential: bool,
    /// The layer could not be checked (its probe ran out of resources): it says nothing about
    /// the kernel.
    pub unchecked: bool,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.unchecked {
            return write!(f, "cannot check {}: {}; {}", self.layer, self.why, self.fix);
        }
        write!(f, "{} cannot be enforced: {}; {}", self.layer, self.why, self.fix)
    }
}

/// Errors that mean "no resources now", not "no such feature".
fn exhausted(errno: i32) -> bool {
    matches!(errno, libc::EMFILE | libc::ENFILE | libc::ENOMEM)
}

/// The Landlock ABI the kernel offers (0 without Landlock), found by creating (and dropping) a
/// ruleset per ABI, newest first; `Err(errno)` when creating one failed for lack of resources.
fn landlock_abi() -> Result<i32, i32> {
    let abis = [ABI::V8, ABI::V7, ABI::V6, ABI::V5, ABI::V4, ABI::V3, ABI::V2, ABI::V1];
    for (abi, n) in abis.into_iter().zip((1..=8).rev()) {
        let made = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(abi))
            .and_then(|r| r.create());
        match made {
            Ok(_) => return Ok(n),
            Err(e) => {
                let errno = *::landlock::Errno::from(e);
                if exhausted(errno) {
                    return Err(errno);
                }
            }
        }
    }
    Ok(0)
}

impl HostFacts {
    pub fn probe() -> Self {
        let mut unchecked = None;
        // The quick probe cannot tell a kernel without Landlock from a process without a free
        // descriptor; when it finds too little, the careful one tells them apart.
        let mut landlock_abi = landlock::kernel_abi();
        if landlock_abi < landlock::REQUIRED as i32 {
            landlock_abi = match self::landlock_abi() {
                Ok(abi) => abi,
                Err(errno) => {
                    unchecked = Some(Unchecked { layer: "Landlock", errno });
                    0
                }
            };
        }
        let user_namespaces = match std::fs::read_to_string("/proc/sys/user/max_user_namespaces") {
            Ok(max) => max.trim().parse::<u64>().map_or(true, |n| n > 0),
            Err(e) => {
                if let Some(errno) = e.raw_os_error().filter(|e| exhausted(*e)) {
                    unchecked.get_or_insert(Unchecked { layer: "namespaces", errno });
                }
                true
            }
        };
        HostFacts { landlock_abi, user_namespaces, unchecked }
    }
}

/// The layers these facts leave unenforced, most important first.
pub fn missing(h: &HostFacts) -> Vec<Missing> {
    if let Some(u) = &h.unchecked {
        let what = match u.errno {
            libc::EMFILE => "out of file descriptors (EMFILE: this process has its limit open)",
            libc::ENFILE => "out of file descriptors (ENFILE: the system has its limit open)",
            _ => "out of memory (ENOMEM)",
        };
        return vec![Missing {
            layer: u.layer,
            why: what.into(),
            fix: "the server is short of resources right now, not of a kernel feature; retry when running calls have ended",
            essential: true,
            unchecked: true,
        }];
    }
    let mut out = Vec::new();
    if !h.user_namespaces {
        out.push(Missing {
            layer: "namespaces",
            why: "user namespaces are disabled (user.max_user_namespaces = 0)".into(),
            fix: "enable them, or use a WebAssembly tool",
            essential: true,
            unchecked: false,
        });
    }
    if h.landlock_abi < landlock::REQUIRED as i32 {
        out.push(Missing {
            layer: "landlock",
            why: format!(
                "this kernel offers Landlock ABI {}, native tools need {}",
                h.landlock_abi,
                landlock::REQUIRED as i32
            ),
            fix: "use a newer kernel (in a container whose seccomp profile refuses Landlock: --security-opt seccomp=deploy/seccomp.json), or pass --allow-degraded to run without it",
            essential: false,
            unchecked: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(abi: i32, userns: bool) -> HostFacts {
        HostFacts { landlock_abi: abi, user_namespaces: userns, unchecked: None }
    }

    #[test]
    fn decides_which_layers_are_missing() {
        assert!(missing(&facts(7, true)).is_empty());
        assert!(missing(&facts(6, true)).is_empty());
        let m = missing(&facts(3, true));
        assert_eq!(m.iter().map(|m| m.layer).collect::<Vec<_>>(), ["landlock"]);
        assert!(!m[0].essential);
        assert!(m[0].to_string().contains("Landlock ABI 3"));
        assert!(missing(&facts(7, false))[0].essential);
    }

    #[test]
    fn a_probe_out_of_resources_says_so_and_never_suggests_degrading() {
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOMEM] {
            let mut h = facts(0, true);
            h.unchecked = Some(Unchecked { layer: "Landlock", errno });
            let m = missing(&h);
            assert_eq!(m.len(), 1);
            assert!(m[0].essential, "--allow-degraded must not run past it");
            let line = m[0].to_string();
            assert!(line.starts_with("cannot check Landlock: out of "), "{line}");
            assert!(line.contains("retry") && !line.contains("degraded") && !line.contains("ABI"), "{line}");
        }
    }

    /// The real probe with this process out of descriptors (a child, so that the test runner
    /// keeps its own): it must report the shortage, not "ABI 0".
    #[test]
    fn the_real_probe_reports_running_out_of_descriptors() {
        if landlock_abi().unwrap_or(0) == 0 {
            eprintln!("skipped: no Landlock on this kernel, nothing to tell apart");
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .args(["--exact", "native::layers::tests::probe_child", "--nocapture", "--include-ignored"])
            .env("MCP_SANDBOX_PROBE_CHILD", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("PROBE: cannot check Landlock: out of file descriptors"), "{text}");
    }

    #[test]
    #[ignore = "run by the_real_probe_reports_running_out_of_descriptors in a child"]
    fn probe_child() {
        if std::env::var_os("MCP_SANDBOX_PROBE_CHILD").is_none() {
            return;
        }
        // Fill the descriptor table, then probe.
        let mut held = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            held.push(f);
        }
        let m = missing(&HostFacts::probe());
        drop(held);
        println!("PROBE: {}", m.first().map(ToString::to_string).unwrap_or_default());
    }
}
