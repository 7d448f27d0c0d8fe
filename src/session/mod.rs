//! `/session`: the customer's view. Sign in (or create an account), request a session, and
//! follow it on the ActiveSessionBanner: requested → staff assigned → live → gone.

pub mod api;
pub mod banner;
pub mod end;
pub mod request;

use concierge_wire::Filter;
use concierge_wire::model::SessionRow;
use concierge_wire::{AppRole, AuthorRole};
use leptos::prelude::*;

use crate::auth::{AccountChip, Area, Auth, SignInCard, signed_in_user, use_auth};
use crate::conversation::{self, ConversationPanel, Dock, Sender};
use crate::http::Backend;
use crate::sync::{self, ConnectionPill, LiveQuerySpec, QueryStatus};
use api::Sessions;
use banner::ActiveSessionBanner;
use end::EndSession;

/// The customer's newest sessions (the rules return only their own; the filter says so too,
/// which keeps the realtime subscription narrow).
pub fn my_sessions_spec(user_id: &str) -> LiveQuerySpec {
    LiveQuerySpec::new("sessions")
        .filter(Filter::eq("customer_id", user_id))
        .order_by("created_at", true)
        .limit(10)
        .version_column("updated_at")
}

#[component]
pub fn SessionPage() -> impl IntoView {
    let auth = use_auth(Area::Customer);
    let sessions = StoredValue::new(Sessions::new(expect_context::<Backend>()));
    let user = signed_in_user(auth);

    view! {
        <main class="page session-page">
            <header class="topbar">
                <a class="topbar__brand" href="/session">"Concierge"</a>
                {move || user.get().map(|u| view! { <ConnectionPill/> <AccountChip auth=auth user=u/> })}
            </header>
            {move || match user.get() {
                Some(u) if u.role == AppRole::Customer => view! { <CustomerHome auth=auth sessions=sessions user_id=u.id/> }.into_any(),
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

/// Signed in as a customer: the banner, and the request form when nothing is active.
#[component]
fn CustomerHome(auth: Auth, sessions: StoredValue<Sessions>, user_id: String) -> impl IntoView {
    let query = sync::use_live_query::<SessionRow>(my_sessions_spec(&user_id));
    let rows = query.rows;
    let status = query.status;
    let loaded = query.loaded();
    let end = EndSession::new(auth, sessions, Callback::new(move |()| query.refresh()));
    // Optimistic end: the session being ended hides at once; a refusal brings it back.
    let ending = end.ending();
    let active = Memo::new(move |_| {
        let hidden = ending.get();
        rows.with(|rs| {
            rs.iter()
                .find(|s| s.status.is_active() && Some(&s.id) != hidden.as_ref())
                .cloned()
        })
    });
    let message = end.message(active);
    // Owned here, not by the form: the form is gone as soon as the banner shows.
    let on_created = Callback::new(move |_: SessionRow| {
        end.forget_refusal();
        query.refresh();
    });
    // While the PATCH is in flight the banner is already gone (optimistic).
    let shown = Signal::derive(move || {
        if ending.with(Option::is_some) {
            None
        } else {
            active.get()
        }
    });

    // The conversation follows the shown session (keyed by its id, so a status change keeps
    // it); the banner shows its unread count while it is collapsed.
    let chat_id = Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| s.id.clone())));
    let dock = Dock::new(true);

    view! {
        <ActiveSessionBanner active=shown ending=Signal::derive(move || ending.with(Option::is_some))
            message=message on_end=Callback::new(move |s| end.end(s)) dock=dock/>
        {move || chat_id.get().map(|id| view! { <CustomerChat session_id=id auth=auth dock=dock/> })}
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
        <Show when=move || loaded.get() && shown.with(Option::is_none) && ending.with(Option::is_none)>
            <request::RequestForm auth=auth sessions=sessions on_created=on_created/>
        </Show>
        <History rows=rows/>
    }
}

/// The conversation of the customer's open session, under the banner.
#[component]
fn CustomerChat(session_id: String, auth: Auth, dock: Dock) -> impl IntoView {
    let room = conversation::presence::use_session_room(
        &session_id,
        auth,
        AuthorRole::Customer,
        AuthorRole::Staff,
    );
    let chat = conversation::use_chat(session_id, AuthorRole::Customer, Sender::Signed(auth));
    conversation::track_unread(chat, dock);
    room.follow(chat);
    view! {
        <ConversationPanel chat title="Conversation".to_owned() dock placeholder="Write to the hotel team…"
            presence=room.line on_typed=room.on_typed
            empty_text="Write to us here. A member of staff answers; if they are busy, the concierge replies within seconds."/>
    }
}

/// Finished sessions, newest first (a short record, so the customer sees it really ended).
#[component]
fn History(rows: Signal<Vec<SessionRow>>) -> impl IntoView {
    let ended = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .filter(|s| s.status.is_ended())
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
