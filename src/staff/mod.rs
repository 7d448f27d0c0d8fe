//! `/staff`: the staff console. Staff sign in (accounts are made by an operator with
//! `concierge-server add-staff`), see pending requests and their own sessions live, and move
//! them along: accept → start → end. Which rows arrive is decided by the server's rules
//! (pending, or assigned to me); the console only sorts them.

use concierge_wire::model::SessionRow;
use concierge_wire::{AppRole, SessionStatus};
use leptos::prelude::*;
use serde_json::{Map, Value};

use crate::auth::{AccountChip, Area, Auth, SignInCard, signed_in_user, use_auth};
use crate::conversation::staff::StaffConversations;
use crate::http::Backend;
use crate::session::api::Sessions;
use crate::session::banner::{elapsed_text, kind_label, parse_ms};
use crate::sync::{self, ConnectionPill, LiveQuerySpec};

mod reservations;

/// Unfiltered on purpose: the row rules return exactly what this staff member may act on.
pub fn console_spec() -> LiveQuerySpec {
    LiveQuerySpec::new("sessions")
        .order_by("created_at", false)
        .limit(200)
        .version_column("updated_at")
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let auth = use_auth(Area::Staff);
    let sessions = StoredValue::new(Sessions::new(expect_context::<Backend>()));
    let user = signed_in_user(auth);
    view! {
        <main class="page staff-page">
            <header class="topbar">
                <a class="topbar__brand" href="/staff">"Concierge " <span class="topbar__tag">"Staff"</span></a>
                <ConnectionPill/>
                {move || user.get().map(|u| view! { <AccountChip auth=auth user=u/> })}
            </header>
            {move || match user.get() {
                Some(u) if u.role == AppRole::Staff => view! {
                    <Console auth=auth sessions=sessions me=u.id/>
                }.into_any(),
                Some(_) => view! {
                    <section class="panel">
                        <h1>"This account is not a staff account"</h1>
                        <p>"Customers follow their sessions on " <a href="/session">"their own page"</a>
                           ". Sign out to sign in with a staff account."</p>
                    </section>
                }.into_any(),
                None => view! {
                    <SignInCard auth=auth title="Staff console"
                        subtitle="Sign in with your staff account to pick up guests' requests."
                        allow_sign_up=false/>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Console(auth: Auth, sessions: StoredValue<Sessions>, me: String) -> impl IntoView {
    let q = sync::use_live_query::<SessionRow>(console_spec());
    let rows = q.rows;
    let loaded = q.loaded();
    let me = StoredValue::new(me);
    let pending = Memo::new(move |_| {
        rows.with(|r| {
            r.iter()
                .filter(|s| s.status == SessionStatus::Pending)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let mine = Memo::new(move |_| {
        let me = me.get_value();
        rows.with(|r| {
            r.iter()
                .filter(|s| {
                    s.status.is_active()
                        && s.status != SessionStatus::Pending
                        && s.staff_id.as_deref() == Some(me.as_str())
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<String>);
    let now = crate::clock::use_now(std::time::Duration::from_secs(1));

    let act = Callback::new(move |(s, to): (SessionRow, SessionStatus)| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(s.id.clone()));
        notice.set(None);
        let mut extra = Map::new();
        if to == SessionStatus::Waiting {
            // The server writes the name from the staff token; the id must be ours.
            extra.insert("staff_id".into(), Value::String(me.get_value()));
        }
        leptos::task::spawn_local(async move {
            let token = auth.fresh_token().await;
            let r = sessions
                .get_value()
                .transition(token, &s.id, s.status, to, extra)
                .await;
            busy.try_set(None);
            match r {
                Ok(Some(_)) => {}
                Ok(None) => {
                    notice.try_set(Some(if to == SessionStatus::Waiting {
                        "Another staff member already accepted that request.".into()
                    } else {
                        "That session changed meanwhile; the list is up to date now.".into()
                    }));
                    q.refresh();
                }
                Err(e) => {
                    notice.try_set(Some(format!("That did not work: {e}")));
                    q.refresh();
                }
            }
        });
    });

    view! {
        <p class="notice" role="status" data-testid="staff-notice">{move || notice.get()}</p>
        <div class="console">
            <section class="column" aria-labelledby="pending-title">
                <h2 id="pending-title" class="column__title">
                    "Waiting for staff" <span class="count" data-testid="pending-count">{move || pending.with(Vec::len)}</span>
                </h2>
                <SessionList testid="pending-list" rows=pending act=act busy=busy now=now/>
                <Show when=move || loaded.get() && pending.with(Vec::is_empty)>
                    <p class="empty">"No open requests. New ones appear here the moment a guest asks."</p>
                </Show>
            </section>
            <section class="column" aria-labelledby="mine-title">
                <h2 id="mine-title" class="column__title">
                    "Your sessions" <span class="count" data-testid="mine-count">{move || mine.with(Vec::len)}</span>
                </h2>
                <SessionList testid="mine-list" rows=mine act=act busy=busy now=now/>
                <Show when=move || loaded.get() && mine.with(Vec::is_empty)>
                    <p class="empty">"Accept a request to start helping a guest."</p>
                </Show>
            </section>
        </div>
        <StaffConversations auth=auth held=mine/>
        <Show when=move || !loaded.get()>
            <p class="muted" aria-busy="true">"Loading sessions…"</p>
        </Show>
        <reservations::TodaysReservations auth/>
    }
}

/// One column's cards. A component of its own, not a `<For>` written out in each column: both
/// columns then share one compiled keyed list instead of one per column (wasm size).
#[component]
fn SessionList(
    testid: &'static str,
    rows: Memo<Vec<SessionRow>>,
    act: Callback<(SessionRow, SessionStatus)>,
    busy: RwSignal<Option<String>>,
    now: Signal<f64>,
) -> impl IntoView {
    view! {
        <ul class="cards" data-testid=testid>
            <For each=move || rows.get() key=|s| (s.id.clone(), s.updated_at.clone()) let:s>
                <SessionCard s=s act=act busy=busy now=now/>
            </For>
        </ul>
    }
}

#[component]
fn SessionCard(
    s: SessionRow,
    act: Callback<(SessionRow, SessionStatus)>,
    busy: RwSignal<Option<String>>,
    now: Signal<f64>,
) -> impl IntoView {
    let id = StoredValue::new(s.id.clone());
    let is_busy = move || busy.with(|b| id.with_value(|id| b.as_deref() == Some(id.as_str())));
    let since = parse_ms(if s.status == SessionStatus::Pending {
        &s.created_at
    } else {
        &s.updated_at
    });
    // Staff move a session along one button at a time; the words come with the move.
    let next = s.status.staff_next();
    let status_text = s.status.staff_label();
    let row = s.clone();
    let topic = s
        .topic
        .clone()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "No topic given".into());
    // Sessions requested before names were stamped (or by a nameless account) have none.
    let guest = s
        .customer_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "A guest".into());
    view! {
        <li class=format!("card card--{}", s.status.as_str()) data-testid="session-card" data-session-id=s.id.clone()
            data-status=s.status.as_str()>
            <div class="card__head">
                <span class="card__kind">{kind_label(s.kind)}</span>
                <span class=format!("pill pill--{}", s.status.as_str())>{status_text}</span>
            </div>
            <p class="card__guest" data-testid="session-guest">{guest}</p>
            <p class="card__topic">{topic}</p>
            <p class="card__meta">
                {if s.status == SessionStatus::Live { "Live for " } else { "Waiting " }}
                <span class="card__time">{move || since.map(|t| elapsed_text(now.get() - t)).unwrap_or_default()}</span>
            </p>
            {next.and_then(|m| Some((m.to, m.verb?))).map(|(to, label)| {
                let row = row.clone();
                view! {
                    <button class="button card__action" data-testid=format!("action-{}", to.as_str())
                        disabled=is_busy
                        on:click=move |_| act.run((row.clone(), to))>
                        {move || if is_busy() { "Working…" } else { label }}
                    </button>
                }
            })}
        </li>
    }
}
