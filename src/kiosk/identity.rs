//! The kiosk's own identity, a new one for every guest.
//!
//! Each guest gets a fresh anonymous sign-in (GoTrue `POST /auth/v1/signup` with neither email
//! nor password, what supabase-js `signInAnonymously()` sends: the same call on hosted Supabase
//! and on concierge-server), and that user claims the guest's session id in `kiosk_sessions`.
//! The results written for the session then belong to it, and only its token reads them, over
//! REST and realtime: another kiosk, or anyone holding just the anon key, reads nothing.
//!
//! The tokens live in memory only, for as long as the guest's owner: nothing is stored, the
//! idle reset drops them (and signs that user out, best effort, so its refresh token dies on
//! the server too), and the next guest starts with a new user. While a guest is shown, its
//! access token is the sync engine's identity (REST polls send it, realtime joins and
//! `access_token` pushes carry it) and is refreshed before it expires, as the signed-in pages'
//! tokens are.

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;

use super::api;
use crate::auth::session::refresh_margin;
use crate::auth::{AuthApi, AuthSession};
use crate::http::HttpError;
use crate::sync::SyncEngine;

/// The first wait before trying again after a failed sign-in; it doubles up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// The wait before trying a failed refresh again (the token is still valid for a while).
const REFRESH_RETRY: Duration = Duration::from_secs(3);

/// One guest's kiosk user.
#[derive(Clone, Copy)]
pub struct GuestIdentity {
    session: RwSignal<Option<AuthSession>>,
    ready: Memo<bool>,
}

impl GuestIdentity {
    /// Signed in, and the guest's session is claimed. Changes once: refreshes do not toggle it.
    pub fn ready(&self) -> Signal<bool> {
        self.ready.into()
    }

    /// The current access token.
    pub fn access_token(&self) -> Option<String> {
        self.session
            .try_with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()))
            .flatten()
    }
}

/// Everything the sign-in, claim and refresh steps share.
#[derive(Clone)]
struct Steps {
    api: AuthApi,
    engine: SyncEngine,
    session_id: String,
    session: RwSignal<Option<AuthSession>>,
    /// The one pending wait (a retry or the next refresh), cleared with the guest.
    timer: StoredValue<Option<TimeoutHandle>>,
    owner: Owner,
    /// The guest cannot go on under this session id (its user is gone, or the id was taken).
    on_lost: Callback<()>,
}

/// Signs a new kiosk user in for `session_id` and claims it, for as long as the calling owner
/// (one guest) lives; `on_lost` runs when that cannot go on and the kiosk must start over.
pub fn use_guest_identity(session_id: String, on_lost: Callback<()>) -> GuestIdentity {
    let session = RwSignal::new(None::<AuthSession>);
    let ready = Memo::new(move |_| session.with(Option::is_some));
    let steps = Steps {
        api: AuthApi {
            backend: expect_context(),
        },
        engine: expect_context(),
        session_id,
        session,
        timer: StoredValue::new(None),
        owner: Owner::current().unwrap_or_default(),
        on_lost,
    };
    steps.clone().sign_in(None, RETRY_FIRST);
    // Runs after the guest's views (child owners) are gone, so its channel has been left.
    let Steps {
        api, engine, timer, ..
    } = steps;
    on_cleanup(move || {
        if let Some(h) = timer.try_update_value(Option::take).flatten() {
            h.clear();
        }
        engine.set_access_token(None);
        if let Some(old) = session.try_update_untracked(Option::take).flatten() {
            leptos::task::spawn_local(async move {
                if let Err(e) = api.sign_out(&old.access_token).await {
                    leptos::logging::warn!("kiosk sign-out: {e}");
                }
            });
        }
    });
    GuestIdentity { session, ready }
}

impl Steps {
    /// Runs `task` under the guest's owner: a reset cancels it.
    fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        self.owner
            .with(|| leptos::task::spawn_local_scoped_with_cancellation(task));
    }

    /// Runs `then` after `wait`, replacing any pending wait.
    fn after(&self, wait: Duration, then: impl FnOnce() + 'static) {
        if let Some(h) = self.timer.try_update_value(Option::take).flatten() {
            h.clear();
        }
        if let Ok(h) = set_timeout_with_handle(then, wait) {
            self.timer.try_set_value(Some(h));
        }
    }

    /// Signs in (unless `signed_in` is a user whose claim failed) and claims the session;
    /// tries again after `wait` on failure.
    fn sign_in(self, signed_in: Option<AuthSession>, wait: Duration) {
        let steps = self.clone();
        self.spawn(async move {
            let user = match signed_in {
                Some(s) => Ok(s),
                None => steps.api.sign_in_anonymously().await,
            };
            let claimed = match user {
                Ok(s) => {
                    let r =
                        api::claim_session(&steps.api.backend, &s.access_token, &steps.session_id)
                            .await;
                    r.map(|()| s.clone()).map_err(|e| (Some(s), e))
                }
                Err(e) => Err((None, e)),
            };
            match claimed {
                Ok(s) => steps.adopt(s),
                // Taken: by this user on an attempt whose answer was lost, or by someone else.
                // Either way a new session id is the way on.
                Err((_, HttpError::Refused(r))) if r.code == "23505" => steps.on_lost.run(()),
                Err((user, e)) => {
                    leptos::logging::warn!(
                        "kiosk sign-in failed, trying again in {} s: {e}",
                        wait.as_secs()
                    );
                    let next = (wait * 2).min(RETRY_MAX);
                    let again = steps.clone();
                    steps.after(wait, move || again.sign_in(user, next));
                }
            }
        });
    }

    /// `s` becomes the guest's user: the engine first (the guest's views subscribe as soon as
    /// `ready` turns, and must join with this token), then the refresh is scheduled.
    fn adopt(&self, s: AuthSession) {
        self.engine.set_access_token(Some(s.access_token.clone()));
        let margin = refresh_margin(&s, js_sys::Math::random());
        let wait = (s.expires_at as f64 - margin - crate::clock::now_ms() / 1000.0).max(0.0);
        self.session.try_set(Some(s));
        let steps = self.clone();
        self.after(Duration::from_millis((wait * 1000.0) as u64), move || {
            steps.refresh()
        });
    }

    fn refresh(self) {
        let Some(refresh_token) = self
            .session
            .try_with_untracked(|s| s.as_ref().map(|s| s.refresh_token.clone()))
            .flatten()
        else {
            return;
        };
        let steps = self.clone();
        self.spawn(async move {
            match steps.api.refresh(&refresh_token).await {
                Ok(next) => steps.adopt(next),
                Err(e) if e.is_session_dead() => {
                    leptos::logging::warn!("kiosk user ended: {e}");
                    steps.on_lost.run(());
                }
                Err(e) => {
                    leptos::logging::warn!("kiosk token refresh failed, retrying: {e}");
                    let again = steps.clone();
                    steps.after(REFRESH_RETRY, move || again.refresh());
                }
            }
        });
    }
}
