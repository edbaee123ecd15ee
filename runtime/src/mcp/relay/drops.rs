//! Server messages the proxy dropped, counted and reported up to a bound, and answers of its
//! own the server did not read.

use super::{MAX_DROPS_REPORTED, Relay, lock};
use crate::audit::{Capability, EventKind};

impl Relay {
    /// A dropped server message: on stderr and in the audit log, up to a bound.
    pub(super) fn dropped(&self, why: &str) {
        let n = {
            let mut state = lock(&self.state);
            state.dropped += 1;
            state.dropped
        };
        if n <= MAX_DROPS_REPORTED {
            eprintln!("mcp-sandbox: proxy: dropped a message from the server: {why}");
            self.audit.emit(
                EventKind::Deny,
                Some(Capability::McpTool),
                Some("message from the server".into()),
                Some(why.into()),
                None,
            );
        } else if n == MAX_DROPS_REPORTED + 1 {
            let note = format!(
                "more than {MAX_DROPS_REPORTED} messages from the server dropped: further ones are counted, not reported one by one"
            );
            eprintln!("mcp-sandbox: proxy: {note}");
            self.audit.emit(
                EventKind::Limit,
                Some(Capability::McpTool),
                Some("message from the server".into()),
                Some(note),
                None,
            );
        }
    }

    /// An answer of the proxy's to the server could not be queued (the server does not read).
    pub fn server_not_reading(&self) {
        let why = "the server is not reading its input: an answer of the proxy's to it was dropped";
        eprintln!("mcp-sandbox: proxy: {why}");
        self.audit.emit(
            EventKind::Limit,
            Some(Capability::McpTool),
            Some("message to the server".into()),
            Some(why.into()),
            None,
        );
    }

    /// Audits the count of dropped messages not reported one by one, and judges what the server
    /// did after its last call (at the end of a session).
    pub fn finish(&self) {
        self.watch_finish();
        let n = lock(&self.state).dropped;
        if n > MAX_DROPS_REPORTED {
            let why = format!("{n} messages from the server dropped in this session");
            eprintln!("mcp-sandbox: proxy: {why}");
            self.audit.emit(
                EventKind::Deny,
                Some(Capability::McpTool),
                Some("message from the server".into()),
                Some(why),
                None,
            );
        }
    }
}
