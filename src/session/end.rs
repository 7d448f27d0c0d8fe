//! The customer ending their session, optimistically: the banner goes at once; a refusal
//! brings it back with an explanation, and a fresh read shows the truth.

use concierge_wire::model::{SessionRow, SessionStatus};
use leptos::prelude::*;
use serde_json::Map;

use super::api::Sessions;
use crate::auth::Auth;

/// The end in flight (if any) and the last refusal, as the banner needs them.
#[derive(Clone, Copy)]
pub struct EndSession {
    action: Action<SessionRow, ()>,
    /// A rollback explanation and the session it belongs to.
    refusal: RwSignal<Option<(String, String)>>,
}

/// A pending request is cancelled; one that staff took up is completed.
fn end_status(current: SessionStatus) -> SessionStatus {
    if current == SessionStatus::Pending {
        SessionStatus::Cancelled
    } else {
        SessionStatus::Completed
    }
}

impl EndSession {
    /// `refresh`: re-read the sessions after a refusal.
    pub fn new(auth: Auth, sessions: StoredValue<Sessions>, refresh: Callback<()>) -> EndSession {
        let refusal = RwSignal::new(None::<(String, String)>);
        let action = Action::new_local(move |s: &SessionRow| {
            let s = s.clone();
            async move {
                let token = auth.fresh_token().await;
                let r = sessions
                    .get_value()
                    .transition(token, &s.id, s.status, end_status(s.status), Map::new())
                    .await;
                let why = match r {
                    // Stays hidden: the live row (terminal now) keeps it hidden for good.
                    Ok(Some(_)) => return,
                    // The session moved on meanwhile (e.g. staff started it): show the truth.
                    Ok(None) => {
                        "The session changed before it could be ended. Please try again.".into()
                    }
                    Err(e) => format!(
                        "Could not end the session — it is still active. The server said: {e}"
                    ),
                };
                refusal.try_set(Some((s.id.clone(), why)));
                refresh.run(());
            }
        });
        EndSession { action, refusal }
    }

    /// Ends `s`, unless an end is already in flight.
    pub fn end(&self, s: SessionRow) {
        if self.action.pending().get_untracked() {
            return;
        }
        self.refusal.set(None);
        self.action.dispatch_local(s);
    }

    /// The id of the session being ended, while the request is in flight.
    pub fn ending(&self) -> Signal<Option<String>> {
        let action = self.action;
        Signal::derive(move || {
            if action.pending().get() {
                action.input().with(|s| s.as_ref().map(|s| s.id.clone()))
            } else {
                None
            }
        })
    }

    /// A new session was requested: an old explanation no longer applies.
    pub fn forget_refusal(&self) {
        self.refusal.set(None);
    }

    /// The explanation for `active`, if the last refusal was about it: once that session is no
    /// longer the active one (staff ended it, another tab did), the explanation is stale.
    pub fn message(&self, active: Memo<Option<SessionRow>>) -> Signal<Option<String>> {
        let refusal = self.refusal;
        Signal::derive(move || {
            refusal.with(|r| {
                let (id, text) = r.as_ref()?;
                active.with(|a| a.as_ref().filter(|a| &a.id == id).map(|_| text.clone()))
            })
        })
    }
}
