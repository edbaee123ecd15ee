//! Which confinement layers this host can enforce, decided before anything runs. A missing
//! layer refuses the run (exit 125, the layer named) unless the caller allowed a degraded
//! sandbox, in which case each missing layer is audited and reported.

use super::landlock;

/// Facts about the host that decide which layers hold.
#[derive(Debug, Clone, Copy)]
pub struct HostFacts {
    pub landlock_abi: i32,
    pub user_namespaces: bool,
}

/// A layer that cannot be enforced here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub layer: &'static str,
    pub why: String,
    pub fix: &'static str,
    /// Without it there is no sandbox at all, degraded or not.
    pub essential: bool,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} cannot be enforced: {}; {}", self.layer, self.why, self.fix)
    }
}

impl HostFacts {
    pub fn probe() -> Self {
        let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
        HostFacts {
            landlock_abi: landlock::kernel_abi(),
            user_namespaces: max.trim().parse::<u64>().map_or(true, |n| n > 0),
        }
    }
}

/// The layers these facts leave unenforced, most important first.
pub fn missing(h: &HostFacts) -> Vec<Missing> {
    let mut out = Vec::new();
    if !h.user_namespaces {
        out.push(Missing {
            layer: "namespaces",
            why: "user namespaces are disabled (user.max_user_namespaces = 0)".into(),
            fix: "enable them, or use a WebAssembly tool",
            essential: true,
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
            fix: "use a newer kernel, or pass --allow-degraded to run without it",
            essential: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(abi: i32, userns: bool) -> HostFacts {
        HostFacts { landlock_abi: abi, user_namespaces: userns }
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
}
