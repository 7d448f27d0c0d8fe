//! `/session`: the customer's view. Sign in (or create an account), request a session, and
//! follow it on the ActiveSessionBanner: requested → staff assigned → live → gone.

pub mod api;
pub mod auth;
pub mod banner;
pub mod request;
pub mod signin;

use concierge_wire::config::AppConfig;
use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use concierge_wire::model::{SessionRow, SessionStatus};
use leptos::prelude::*;
use serde_json::Map;

use crate::sync::{self, LiveQuerySpec, QueryStatus};
use auth::{AppRole, Auth, AuthApi, AuthUser};
use banner::ActiveSessionBanner;
use signin::SignInCard;

pub const CUSTOMER_STORAGE_KEY: &str = "concierge.auth.customer";

/// Starts this page's sync engine (unless the shell already did) and its auth state.
pub fn provide_page_services(config: &AppConfig, storage_key: &'static str) -> (Auth, api::Rest) {
    if sync::use_sync_engine().is_none() {
        sync::provide_sync_engine(
            config,
            crate::boot::api_base(config),
            config.anon_key.clone(),
        );
    }
    let base = crate::boot::api_base(config);
    let auth = Auth::provide(
        storage_key,
        AuthApi {
            base: base.clone(),
            anon_key: config.anon_key.clone(),
        },
    );
    (
        auth,
        api::Rest {
            base,
            anon_key: config.anon_key.clone(),
        },
    )
}

/// The customer's newest sessions (the rules return only their own; the filter says so too,
/// which keeps the realtime subscription narrow).
pub fn my_sessions_spec(user_id: &str) -> LiveQuerySpec {
    LiveQuerySpec::new("sessions")
        .filter(Filter::new(
            "customer_id",
            FilterOp::Eq,
            FilterValue::One(user_id.to_owned()),
        ))
        .order_by("created_at", true)
        .limit(10)
        .version_column("updated_at")
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let config = expect_context::<AppConfig>();
    let (auth, rest) = provide_page_services(&config, CUSTOMER_STORAGE_KEY);
    let rest = StoredValue::new(rest);
    let user = signed_in_user(auth);

    view! {
        <main class="page session-page">
            <header class="topbar">
                <a class="topbar__brand" href="/session">"Concierge"</a>
                {move || user.get().map(|u| view! { <ConnectionPill/> <AccountChip auth=auth user=u/> })}
            </header>
            {move || match user.get() {
                Some(u) if u.role == AppRole::Customer => view! { <CustomerHome auth=auth rest=rest user_id=u.id/> }.into_any(),
                Some(_) => view! {
                    <section class="panel">
                        <h1>"You are signed in as staff"</h1>
                        <p>"This page is for customers. Open the " <a href="/staff">"staff console"</a> " instead, or sign out."</p>
                    </section>
                }.into_any(),
                _ => view! {
                    <>
                        // The banner's live region exists before anything is requested.
                        <ActiveSessionBanner active=Signal::derive(|| None) ending=Signal::derive(|| false)
                            message=Signal::derive(|| None) on_end=Callback::new(|_| {})/>
                        <SignInCard auth=auth title="Talk to the hotel team"
                            subtitle="Sign in to request a chat, a video call or a concierge appointment, and follow it live."
                            allow_sign_up=true/>
                    </>
                }.into_any(),
            }}
        </main>
    }
}

/// Quiet connection state for signed-in pages: live (realtime), polling, or reconnecting.
#[component]
pub fn ConnectionPill() -> impl IntoView {
    let d = sync::use_sync_diagnostics();
    let state = move || d.with(|d| d.connection);
    view! {
        <span class="conn" data-testid="connection"
            data-state=move || connection_key(state())>
            <span class="conn__dot" aria-hidden="true"></span>
            {move || sync::connection_label(state())}
        </span>
    }
}

/// The pill's `data-state`: the state's name in lower case. A plain match, not
/// `format!("{:?}").to_lowercase()`, which pulls the Unicode case tables into the wasm.
fn connection_key(state: sync::ConnectionState) -> &'static str {
    match state {
        sync::ConnectionState::Live => "live",
        sync::ConnectionState::Connecting => "connecting",
        sync::ConnectionState::Reconnecting => "reconnecting",
        sync::ConnectionState::Polling => "polling",
        sync::ConnectionState::Offline => "offline",
    }
}

/// Who is signed in, changing only when the user does. Views branch on this, not on the
/// session itself: a token refresh replaces the session, and must not remount the page (a
/// remount drops the live query and starts over from "Loading").
pub fn signed_in_user(auth: Auth) -> Memo<Option<AuthUser>> {
    Memo::new(move |_| auth.session.with(|s| s.as_ref().map(|s| s.user.clone())))
}

#[component]
pub fn AccountChip(auth: Auth, user: AuthUser) -> impl IntoView {
    let label = user.name.clone().unwrap_or_else(|| user.email.clone());
    view! {
        <div class="account">
            <span class="account__name" data-testid="account-name">{label}</span>
            <button class="button button--ghost button--small" data-testid="sign-out"
                on:click=move |_| leptos::task::spawn_local(async move { auth.sign_out().await })>
                "Sign out"
            </button>
        </div>
    }
}

/// Signed in as a customer: the banner, and the request form when nothing is active.
#[component]
fn CustomerHome(auth: Auth, rest: StoredValue<api::Rest>, user_id: String) -> impl IntoView {
    let sessions = sync::use_live_query::<SessionRow>(my_sessions_spec(&user_id));
    let rows = sessions.rows;
    let status = sessions.status;
    let sessions = StoredValue::new(sessions);
    // Optimistic end: the session id being ended hides at once; a refusal brings it back.
    let ending = RwSignal::new(None::<String>);
    // A rollback explanation belongs to one session: once that session is no longer the
    // active one (staff ended it, another tab did), the explanation is stale and goes.
    let refusal = RwSignal::new(None::<(String, String)>);
    let active = Memo::new(move |_| {
        let hidden = ending.get();
        rows.with(|rs| {
            rs.iter()
                .find(|s| s.status.is_active() && Some(&s.id) != hidden.as_ref())
                .cloned()
        })
    });
    let message = Signal::derive(move || {
        refusal.with(|r| {
            let (id, text) = r.as_ref()?;
            active.with(|a| a.as_ref().filter(|a| &a.id == id).map(|_| text.clone()))
        })
    });
    let loaded = Memo::new(move |prev: Option<&bool>| {
        prev.copied().unwrap_or(false) || status.with(|s| *s == QueryStatus::Ready)
    });

    let end = Callback::new(move |s: SessionRow| {
        if ending.get_untracked().is_some() {
            return;
        }
        let to = if s.status == SessionStatus::Pending {
            SessionStatus::Cancelled
        } else {
            SessionStatus::Completed
        };
        refusal.set(None);
        ending.set(Some(s.id.clone()));
        leptos::task::spawn_local(async move {
            let token = auth.fresh_token().await;
            let r = rest
                .get_value()
                .transition(token, &s.id, s.status, to, Map::new())
                .await;
            match r {
                Ok(Some(_)) => {
                    // Stay hidden; the live row (terminal now) keeps it hidden for good.
                    ending.try_set(None);
                }
                Ok(None) => {
                    // The session moved on meanwhile (e.g. staff started it): show the truth.
                    ending.try_set(None);
                    refusal.try_set(Some((
                        s.id.clone(),
                        "The session changed before it could be ended. Please try again.".into(),
                    )));
                    sessions.with_value(|q| q.refresh());
                }
                Err(e) => {
                    ending.try_set(None);
                    refusal.try_set(Some((
                        s.id.clone(),
                        format!(
                            "Could not end the session — it is still active. The server said: {e}"
                        ),
                    )));
                    sessions.with_value(|q| q.refresh());
                }
            }
        });
    });
    // Owned here, not by the form: the form is gone as soon as the banner shows.
    let on_created = Callback::new(move |_: SessionRow| {
        refusal.set(None);
        sessions.with_value(|q| q.refresh());
    });
    // While the PATCH is in flight the banner is already gone (optimistic).
    let shown = Signal::derive(move || {
        if ending.get().is_some() {
            None
        } else {
            active.get()
        }
    });

    view! {
        <ActiveSessionBanner active=shown ending=Signal::derive(move || ending.get().is_some())
            message=message on_end=end/>
        {move || match status.get() {
            QueryStatus::Error(e) if !loaded.get() => Some(view! {
                <p class="notice notice--error" role="alert">"Could not load your sessions: " {e}</p>
            }.into_any()),
            _ => None,
        }}
        // Two `Show`s, not one with a fallback that reads `loaded`: a fallback is rendered
        // once per flip of `when`, so a page whose first answer holds an active session
        // (`when` stays false) kept its "Loading…" forever.
        <Show when=move || !loaded.get()>
            <p class="muted" aria-busy="true">"Loading your sessions…"</p>
        </Show>
        <Show when=move || loaded.get() && shown.get().is_none() && ending.get().is_none()>
            <request::RequestForm auth=auth rest=rest on_created=on_created/>
        </Show>
        <History rows=rows/>
    }
}

/// Finished sessions, newest first (a short record, so the customer sees it really ended).
#[component]
fn History(rows: Signal<Vec<SessionRow>>) -> impl IntoView {
    let ended = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .filter(|s| !s.status.is_active())
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || ended.with(|e| !e.is_empty())>
            <section class="history" aria-labelledby="history-title">
                <h2 id="history-title" class="history__title">"Earlier sessions"</h2>
                <ul class="history__list">
                    <For each=move || ended.get() key=|s| (s.id.clone(), s.updated_at.clone()) let:s>
                        <li class="history__item">
                            <span class="history__kind">{banner::kind_label(s.kind)}</span>
                            <span class="history__topic">{s.topic.clone().unwrap_or_default()}</span>
                            <span class=format!("pill pill--{}", s.status.as_str())>{s.status.as_str()}</span>
                        </li>
                    </For>
                </ul>
            </section>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::connection_key;
    use crate::sync::ConnectionState;

    #[test]
    fn connection_key_is_the_state_name_in_lower_case() {
        for state in [
            ConnectionState::Live,
            ConnectionState::Connecting,
            ConnectionState::Reconnecting,
            ConnectionState::Polling,
            ConnectionState::Offline,
        ] {
            assert_eq!(connection_key(state), format!("{state:?}").to_lowercase());
        }
    }
}
