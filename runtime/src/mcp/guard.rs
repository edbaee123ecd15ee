//! What `serve`, `proxy` and `vet` hand to the vetting engine (`crate::vet`), which works on
//! plain data: the capabilities a policy grants, in its terms.

use crate::policy::{Access, Policy};
use crate::vet::Capabilities;

/// What `policy` grants, as vetting sees it.
pub fn capabilities(policy: &Policy) -> Capabilities {
    let paths = |a: Access| -> Vec<String> {
        policy.paths.iter().filter(|p| p.access == a).map(|p| p.path.display().to_string()).collect()
    };
    Capabilities {
        network: policy.endpoints.iter().map(ToString::to_string).collect(),
        reads: paths(Access::Read),
        writes: paths(Access::Write),
        env: policy.env.iter().map(|e| e.name().to_string()).collect(),
    }
}
