//! One live query: its store, poller and channel; when and how it fetches; the realtime edges
//! that demand a fresh snapshot; and what it last emitted to its view.

use concierge_wire::realtime::topic_for;
use serde_json::Value;

use crate::Millis;
use crate::channel::Channel;
use crate::config::EngineConfig;
use crate::io::{Action, FetchError};
use crate::poller::{FetchReason, Gate, Poller};
use crate::spec::{Endpoint, FetchId, LiveQuerySpec, QueryId};
use crate::status::{ChannelStatus, QueryState, QueryStatus};
use crate::store::Store;

/// Where and as whom the engine reaches the server; numbers the fetches of every query.
pub(crate) struct Backend {
    pub endpoint: Endpoint,
    /// The signed-in user's JWT; `None`: anonymous.
    pub token: Option<String>,
    next_fetch: u64,
}

impl Backend {
    pub fn new(endpoint: Endpoint) -> Backend {
        Backend {
            endpoint,
            token: None,
            next_fetch: 0,
        }
    }

    /// What channels join with: the user's JWT, else the anon key (as supabase-js does).
    pub fn access_token(&self) -> String {
        self.token
            .clone()
            .unwrap_or_else(|| self.endpoint.anon_key.clone())
    }
}

/// A spec is checked once, when subscribed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Validity {
    Valid,
    /// Never fetched or subscribed: a bad spec is a programming error, shown as the
    /// query's error.
    Invalid(String),
}

/// A fetch's answer, as the engine needs to know it.
pub(crate) struct Finished {
    /// Why it failed; `None` on success.
    pub error: Option<String>,
    /// A resync that waited for this fetch to finish.
    pub queued: Option<FetchReason>,
}

pub(crate) struct LiveQuery {
    id: QueryId,
    pub spec: LiveQuerySpec,
    validity: Validity,
    pub store: Store,
    pub poller: Poller,
    pub channel: Option<Channel>,
    /// Whether realtime was confirmed at the end of the previous input (edge detection).
    was_live: bool,
    loaded: bool,
    emitted_revision: Option<u64>,
    emitted_state: Option<QueryState>,
}

impl LiveQuery {
    /// A query with its poller and, if realtime is on and the spec is valid, its channel (not
    /// joined yet).
    pub fn new(id: QueryId, spec: LiveQuerySpec, cfg: &EngineConfig) -> LiveQuery {
        let validity = match spec.validate() {
            Ok(()) => Validity::Valid,
            Err(e) => Validity::Invalid(e.to_string()),
        };
        let channel = (validity == Validity::Valid && cfg.realtime_enabled).then(|| {
            let topic = topic_for(&format!("concierge-{}-{}", spec.table, id.0));
            Channel::new(topic, spec.realtime_bindings(), cfg.channel())
        });
        LiveQuery {
            id,
            store: Store::new(spec.clone()),
            spec,
            validity,
            poller: cfg.poller(),
            channel,
            was_live: false,
            loaded: false,
            emitted_revision: None,
            emitted_state: None,
        }
    }

    pub fn state(&self) -> QueryState {
        let status = match (&self.validity, &self.poller.last_error, self.loaded) {
            (Validity::Invalid(e), _, _) | (Validity::Valid, Some(e), _) => {
                QueryStatus::Error(e.clone())
            }
            (Validity::Valid, None, true) => QueryStatus::Ready,
            (Validity::Valid, None, false) => QueryStatus::Loading,
        };
        QueryState {
            status,
            channel: self
                .channel
                .as_ref()
                .map_or(ChannelStatus::Idle, Channel::status),
        }
    }

    /// The earliest moment this query needs a tick.
    pub fn deadline(&self) -> Option<Millis> {
        [
            self.poller.deadline(),
            self.channel.as_ref().and_then(Channel::deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A fresh snapshot is wanted now for `reason`: the fetch to start, unless one is in flight
    /// (it is then queued behind it), the page is hidden, or the spec is invalid.
    pub fn resync(
        &mut self,
        now: Millis,
        reason: FetchReason,
        hidden: bool,
        backend: &mut Backend,
    ) -> Option<Action> {
        if self.validity != Validity::Valid || !self.poller.resync(now, reason, hidden) {
            return None;
        }
        self.start_fetch(now, reason, backend)
    }

    /// The poller's tick, if due: the fetch to start unless realtime or hiding skips it.
    pub fn tick(&mut self, now: Millis, hidden: bool, backend: &mut Backend) -> Option<Action> {
        let gate = Gate {
            hidden,
            realtime_live: self.was_live,
        };
        let reason = self.poller.tick(now, gate)?;
        self.start_fetch(now, reason, backend)
    }

    fn start_fetch(
        &mut self,
        now: Millis,
        reason: FetchReason,
        backend: &mut Backend,
    ) -> Option<Action> {
        if self.poller.in_flight().is_some() {
            return None;
        }
        backend.next_fetch += 1;
        let fetch = FetchId(backend.next_fetch);
        self.poller.started(now, fetch, reason, self.store.mark());
        Some(Action::Fetch {
            query: self.id,
            fetch,
            request: backend
                .endpoint
                .rest_request(&self.spec, backend.token.as_deref()),
        })
    }

    /// Applies a fetch's answer (rows, or why not). `None`: a late answer to a cancelled or
    /// superseded request, ignored.
    pub fn finish_fetch(
        &mut self,
        now: Millis,
        fetch: FetchId,
        outcome: Result<Vec<Value>, String>,
    ) -> Option<Finished> {
        let f = self.poller.in_flight().filter(|f| f.id == fetch)?;
        let poll_result = match outcome {
            Ok(rows) => {
                let changed = self.store.apply_snapshot(f.mark, rows);
                self.loaded = true;
                Ok(changed)
            }
            Err(e) => Err(e),
        };
        let error = poll_result.as_ref().err().cloned();
        let (_, queued) = self.poller.finished(now, fetch, poll_result)?;
        Some(Finished { error, queued })
    }

    /// Realtime confirmed or not, now; returns the new value when it changed. Gained: fetch
    /// once (Realtime does not replay what was missed); lost: fetch at once.
    pub fn edge(&mut self, socket_open: bool) -> Option<bool> {
        let live = socket_open && self.channel.as_ref().is_some_and(Channel::is_confirmed);
        if live == self.was_live {
            return None;
        }
        self.was_live = live;
        Some(live)
    }

    /// Emits the rows and the state if they changed since last emitted.
    pub fn emit(&mut self, out: &mut Vec<Action>) {
        let rev = self.store.revision();
        if self.loaded && self.emitted_revision != Some(rev) {
            self.emitted_revision = Some(rev);
            out.push(Action::Rows {
                query: self.id,
                rows: self.store.view(),
            });
        }
        let state = self.state();
        if self.emitted_state.as_ref() != Some(&state) {
            self.emitted_state = Some(state.clone());
            out.push(Action::QueryState {
                query: self.id,
                state,
            });
        }
    }
}

/// A fetch result as rows: the body must be a JSON array.
pub(crate) fn parse_rows(result: Result<String, FetchError>) -> Result<Vec<Value>, String> {
    let body = result.map_err(|e| e.to_string())?;
    match serde_json::from_str::<Value>(&body) {
        Ok(Value::Array(rows)) => Ok(rows),
        Ok(_) => Err("the server answered with something other than a list of rows".to_owned()),
        Err(e) => Err(format!("the server answered with invalid JSON: {e}")),
    }
}
