//! The wrapped server ended: every request in flight, held or later gets an error saying why.

use super::{InFlight, Relay, lock};
use crate::mcp::wire;
use serde_json::Value;

impl Relay {
    /// Whether [`Self::server_ended`] was called.
    pub fn has_ended(&self) -> bool {
        lock(&self.state).ended.is_some()
    }

    /// The server ended: every request in flight (and every later one) gets an error saying
    /// why, with `data` (its exit status and stderr tail) for programs.
    pub fn server_ended(&self, why: String, data: Value) -> Vec<Value> {
        let mut state = lock(&self.state);
        state.ended = Some((why.clone(), data.clone()));
        let mut pending: Vec<(u64, InFlight)> = state.in_flight.drain().collect();
        drop(state);
        pending.sort_by_key(|(k, _)| *k);
        for (pid, f) in &pending {
            self.call_ended(*pid, f.tool.as_deref(), "the server ended");
        }
        let held = self.held_ids().into_iter();
        pending
            .into_iter()
            .map(|(_, f)| f.client_id)
            .chain(held)
            .map(|id| ended_error(id, &why, data.clone()))
            .collect()
    }
}

pub(super) fn ended_error(id: Value, why: &str, data: Value) -> Value {
    let mut e = wire::error(id, wire::INTERNAL_ERROR, why);
    if let Some(err) = e.get_mut("error").and_then(Value::as_object_mut) {
        err.insert("data".into(), data);
    }
    e
}
