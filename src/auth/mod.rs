//! Signing in against `/auth/v1` ([`api`]), keeping the session in `localStorage` so it
//! survives a reload ([`session`]), refreshing the access token before it expires, and handing
//! every new token to the sync engine so REST polls and the realtime channel use it.
//!
//! The root provides [`Accounts`] once: one [`Auth`] per area of the app (customer, staff:
//! separate storage keys, so one browser can hold both). A page of an area calls [`use_auth`];
//! while it is shown, that area's token is the engine's identity.
//!
//! Several tabs share one stored session. A refresh token can be used once (the server rotates
//! it and treats a second use as theft), so before refreshing a tab re-reads the store and
//! adopts a newer session another tab already got, and every tab follows `storage` events.

pub mod account;
pub mod api;
pub mod session;
pub mod signin;

use std::time::Duration;

use leptos::prelude::*;

pub use account::{AccountChip, signed_in_user};
pub use api::AuthApi;
pub use session::{AuthSession, AuthUser};
pub use signin::SignInCard;

use crate::clock::now_unix;
use crate::sync::SyncEngine;

/// The areas of the app a user signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `/session`: a hotel guest.
    Customer,
    /// `/staff`: the staff console.
    Staff,
}

impl Area {
    pub fn storage_key(self) -> &'static str {
        match self {
            Area::Customer => "concierge.auth.customer",
            Area::Staff => "concierge.auth.staff",
        }
    }
}

/// The signed-in state of one area of the app.
#[derive(Clone, Copy)]
pub struct Auth {
    pub session: RwSignal<Option<AuthSession>>,
    /// Set when a stored session could not be refreshed and the user must sign in again.
    pub expired_notice: RwSignal<Option<String>>,
    area: Area,
    /// Which area's page is shown, shared by both areas: only its token goes to the engine.
    shown: StoredValue<Option<Area>>,
    api: StoredValue<AuthApi>,
    engine: StoredValue<SyncEngine>,
}

/// Both areas' sign-ins, provided once at the root.
#[derive(Clone, Copy)]
pub struct Accounts {
    customer: Auth,
    staff: Auth,
}

impl Accounts {
    /// Loads the stored sessions, schedules their refreshes and follows other tabs, for as long
    /// as the calling owner (the root) lives.
    pub fn provide(api: AuthApi, engine: SyncEngine) -> Accounts {
        let shown = StoredValue::new(None);
        let api = StoredValue::new(api);
        let engine = StoredValue::new(engine);
        let accounts = Accounts {
            customer: Auth::start(Area::Customer, shown, api, engine),
            staff: Auth::start(Area::Staff, shown, api, engine),
        };
        provide_context(accounts);
        accounts
    }

    pub fn area(&self, area: Area) -> Auth {
        match area {
            Area::Customer => self.customer,
            Area::Staff => self.staff,
        }
    }
}

/// The sign-in of `area`, for a page of that area: from now until the page goes, the engine
/// reads with this area's token (and anonymously once the page is gone).
pub fn use_auth(area: Area) -> Auth {
    let auth = expect_context::<Accounts>().area(area);
    auth.shown.set_value(Some(area));
    // Synchronously, before the page's views subscribe: a first fetch with the anon key would
    // be refused.
    auth.push_token();
    on_cleanup(move || {
        // The next page may already have taken over.
        if auth.shown.try_get_value().flatten() == Some(area) {
            auth.shown.set_value(None);
            auth.engine.with_value(|e| e.set_access_token(None));
        }
    });
    auth
}

impl Auth {
    fn start(
        area: Area,
        shown: StoredValue<Option<Area>>,
        api: StoredValue<AuthApi>,
        engine: StoredValue<SyncEngine>,
    ) -> Auth {
        let key = area.storage_key();
        let stored =
            session::load(key).filter(|s| s.expires_at > now_unix() || !s.refresh_token.is_empty());
        let auth = Auth {
            session: RwSignal::new(stored),
            expired_notice: RwSignal::new(None),
            area,
            shown,
            api,
            engine,
        };
        auth.schedule_refreshes();
        // Another tab signed in, refreshed or signed out.
        let session = auth.session;
        let handle = window_event_listener(leptos::ev::storage, move |e| {
            if e.key().as_deref() != Some(key) {
                return;
            }
            let next = session::load(key);
            if session.with_untracked(|cur| *cur != next) {
                auth.adopt(next);
            }
        });
        on_cleanup(move || handle.remove());
        auth
    }

    /// One refresh timer, re-armed whenever the session changes.
    fn schedule_refreshes(self) {
        let timer: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
        let session = self.session;
        Effect::new(move |_| {
            if let Some(h) = timer.try_update_value(|t| t.take()).flatten() {
                h.clear();
            }
            let Some(s) = session.get() else { return };
            let margin = session::refresh_margin(&s, js_sys::Math::random());
            let wait = (s.expires_at as f64 - margin - crate::clock::now_ms() / 1000.0).max(0.0);
            let h = set_timeout_with_handle(
                move || leptos::task::spawn_local(async move { self.refresh_now().await }),
                Duration::from_millis((wait * 1000.0) as u64),
            );
            if let Ok(h) = h {
                timer.set_value(Some(h));
            }
        });
        on_cleanup(move || {
            if let Some(h) = timer.try_update_value(|t| t.take()).flatten() {
                h.clear();
            }
        });
    }

    pub fn api(&self) -> AuthApi {
        self.api.get_value()
    }

    /// Hands this area's current token to the engine.
    fn push_token(&self) {
        let token = self
            .session
            .with_untracked(|s| s.as_ref().map(|s| s.access_token.clone()));
        self.give_engine(token);
    }

    /// `token` becomes the engine's identity, if this area's page is the one shown.
    fn give_engine(&self, token: Option<String>) {
        if self.shown.try_get_value().flatten() == Some(self.area) {
            self.engine.with_value(|e| e.set_access_token(token));
        }
    }

    /// Stores `s` (for other tabs and reloads) and makes it current.
    pub fn set(&self, s: Option<AuthSession>) {
        session::store(self.area.storage_key(), s.as_ref());
        self.expired_notice.set(None);
        self.adopt(s);
    }

    /// Makes `s` current: the sync engine first (REST and the realtime channel use the new
    /// token from the next request on), then the views.
    fn adopt(&self, s: Option<AuthSession>) {
        self.give_engine(s.as_ref().map(|s| s.access_token.clone()));
        self.session.set(s);
    }

    /// The current access token, refreshed first if it is about to expire.
    pub async fn fresh_token(&self) -> Option<String> {
        let s = self.session.get_untracked()?;
        if s.expires_at - now_unix() <= 5 {
            self.refresh_now().await;
        }
        self.session.get_untracked().map(|s| s.access_token)
    }

    /// Refreshes the session (or adopts the newer one another tab stored).
    pub async fn refresh_now(&self) {
        let Some(mine) = self.session.get_untracked() else {
            return;
        };
        let key = self.area.storage_key();
        if let Some(theirs) = session::load(key)
            && theirs.refresh_token != mine.refresh_token
            && theirs.expires_at >= mine.expires_at
        {
            self.adopt(Some(theirs));
            return;
        }
        match self.api().refresh(&mine.refresh_token).await {
            Ok(next) => self.set(Some(next)),
            Err(e) if e.is_session_dead() => {
                // A tab that lost the race may find the winner's session stored by now.
                if let Some(theirs) =
                    session::load(key).filter(|t| t.refresh_token != mine.refresh_token)
                {
                    self.adopt(Some(theirs));
                    return;
                }
                leptos::logging::warn!("session ended: {e}");
                self.set(None);
                self.expired_notice
                    .set(Some("Your sign-in has ended. Please sign in again.".into()));
            }
            Err(e) => {
                // Offline or a server hiccup: try again shortly, keep the user signed in.
                leptos::logging::warn!("token refresh failed, retrying: {e}");
                let auth = *self;
                let _ = set_timeout_with_handle(
                    move || leptos::task::spawn_local(async move { auth.refresh_now().await }),
                    Duration::from_secs(3),
                );
            }
        }
    }

    pub async fn sign_out(&self) {
        if let Some(s) = self.session.get_untracked() {
            // Best effort: the local sign-out happens whatever the server says.
            if let Err(e) = self.api().sign_out(&s.access_token).await {
                leptos::logging::warn!("sign-out: {e}");
            }
        }
        self.set(None);
    }
}
