//! The conversation on screen: a log of messages (`role="log"`, announced politely as lines
//! arrive), the presence slot under it, and the composer (Enter sends, Shift+Enter breaks the
//! line).

use concierge_wire::AuthorRole;
use concierge_wire::message::{MAX_MESSAGE_CHARS, MessageRow};
use leptos::prelude::*;

use super::entries::Entry;
use super::outbox::{Delivery, Outgoing};
use super::{Chat, Dock};

/// `title`: what the conversation is about (shown in its header). `dock`: given when the
/// conversation can be collapsed (its header is then a toggle that shows the unread count).
/// `placeholder`: the composer's hint.
///
/// `presence`: **the slot for presence and typing** ("Anna is here", "Anna is typing…"), which
/// the Broadcast/Presence rooms (branch s5-rooms) will fill. It renders as the polite status
/// line `data-testid="conversation-presence"` right under the message list, empty until then.
/// `on_typed`: called on each edit of the composer (the room throttles what it sends).
#[component]
pub fn ConversationPanel(
    chat: Chat,
    title: String,
    #[prop(optional)] dock: Option<Dock>,
    placeholder: &'static str,
    /// Shown while the list is empty.
    empty_text: &'static str,
    #[prop(optional)] presence: Option<Signal<String>>,
    #[prop(optional)] on_typed: Option<Callback<()>>,
) -> impl IntoView {
    let open = dock.map(|d| d.open);
    let is_open = move || open.is_none_or(|o| o.get());
    let log = NodeRef::<leptos::html::Ol>::new();
    let body_id = format!("chat-{}", uuid::Uuid::new_v4().simple());
    let count = Memo::new(move |_| chat.entries.with(Vec::len));
    // New lines scroll the log to its end (once they are in the DOM).
    Effect::new(move |_| {
        count.track();
        if let Some(el) = log.get() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });

    let head = match dock {
        Some(d) => view! {
            <button class="chat__toggle" type="button" data-testid="conversation-toggle"
                aria-expanded=move || d.open.get().to_string() aria-controls=body_id.clone()
                on:click=move |_| d.open.update(|o| *o = !*o)>
                <span class="chat__title">{title}</span>
                <span class="count chat__unread" data-testid="conversation-unread"
                    hidden=move || d.unread.get() == 0>{move || d.unread.get()}</span>
                <span class="chat__chevron" aria-hidden="true"></span>
            </button>
        }
        .into_any(),
        None => view! { <h2 class="chat__title">{title}</h2> }.into_any(),
    };

    view! {
        <section class="chat" data-testid="conversation" data-open=move || is_open().to_string()>
            <header class="chat__head">{head}</header>
            <div class="chat__body" id=body_id hidden=move || !is_open()>
                <ol class="chat__log" role="log" aria-live="polite" aria-label="Messages"
                    node_ref=log data-testid="message-list">
                    <For each=move || chat.entries.get() key=Entry::key let:entry>
                        <Line entry=entry chat=chat/>
                    </For>
                </ol>
                <p class="chat__empty" hidden=move || { !chat.loaded.get() || count.get() > 0 }>{empty_text}</p>
                <p class="chat__presence" role="status" data-testid="conversation-presence">
                    {move || presence.map(|p| p.get())}
                </p>
                <Composer chat=chat placeholder=placeholder on_typed=on_typed/>
            </div>
        </section>
    }
}

/// How an author is named to the reader.
fn author_label(m: &MessageRow, me: AuthorRole) -> String {
    if m.author_role == me {
        return "You".into();
    }
    let name = m.author_name.clone().filter(|n| !n.trim().is_empty());
    match m.author_role {
        AuthorRole::Concierge => "Concierge · automatic reply".into(),
        AuthorRole::Staff => name.unwrap_or_else(|| "Hotel staff".into()),
        AuthorRole::Customer => name.unwrap_or_else(|| "Guest".into()),
    }
}

/// `HH:MM` in the reader's time zone.
fn clock_label(ts: &str) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(ts));
    if d.get_time().is_nan() {
        return String::new();
    }
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

#[component]
fn Line(entry: Entry, chat: Chat) -> impl IntoView {
    match entry {
        Entry::Row(m) => {
            let mine = m.author_role == chat.me;
            let side = if mine { "mine" } else { "theirs" };
            let (author, time) = (author_label(&m, chat.me), clock_label(&m.created_at));
            view! {
                <li class=format!("msg msg--{side} msg--{}", m.author_role.as_str())
                    data-testid="message" data-id=m.id.clone() data-delivery="stored"
                    data-author=m.author_role.as_str()>
                    <p class="msg__meta">
                        <span class="msg__author">{author}</span>
                        <time class="msg__time" datetime=m.created_at>{time}</time>
                    </p>
                    <p class="msg__body" data-testid="message-body">{m.body}</p>
                </li>
            }
            .into_any()
        }
        Entry::Local(o) => view! { <LocalLine o=o chat=chat/> }.into_any(),
    }
}

/// A message of this page's that the list does not hold yet, with where it is.
#[component]
fn LocalLine(o: Outgoing, chat: Chat) -> impl IntoView {
    let id = o.id.clone();
    let delivery = o.delivery.key();
    let (state, retry): (String, bool) = match &o.delivery {
        Delivery::Sending => ("Sending…".into(), false),
        Delivery::Waiting => (
            "Not sent yet: you are offline. It goes out when you are back.".into(),
            true,
        ),
        Delivery::Failed(why) => (format!("Not sent: {why}"), true),
        Delivery::Sent => ("Sent".into(), false),
    };
    view! {
        <li class=format!("msg msg--mine msg--local msg--{delivery}")
            data-testid="message" data-id=o.id data-delivery=delivery>
            <p class="msg__meta"><span class="msg__author">"You"</span></p>
            <p class="msg__body" data-testid="message-body">{o.body}</p>
            <p class="msg__state" data-testid="message-state">
                {state}
                {retry.then(|| view! {
                    " " <button class="msg__retry" type="button" data-testid="message-retry"
                        on:click=move |_| chat.retry(&id)>"Retry"</button>
                })}
            </p>
        </li>
    }
}

/// The text field and its button. Enter sends; Shift+Enter (or Enter while an input method is
/// composing) adds a line.
#[component]
fn Composer(
    chat: Chat,
    placeholder: &'static str,
    on_typed: Option<Callback<()>>,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let field_id = format!("compose-{}", uuid::Uuid::new_v4().simple());
    let submit = move || {
        if chat.send(&text.get_untracked()) {
            text.set(String::new());
        }
    };
    view! {
        <form class="chat__composer" on:submit=move |ev| {
            ev.prevent_default();
            submit();
        }>
            <label class="visually-hidden" for=field_id.clone()>"Your message"</label>
            <textarea id=field_id class="chat__input" rows="2" data-testid="message-input"
                maxlength=MAX_MESSAGE_CHARS.to_string() placeholder=placeholder
                enterkeyhint="send"
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    if let Some(t) = on_typed {
                        t.run(());
                    }
                }
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        submit();
                    }
                }></textarea>
            <button class="button chat__send" type="submit" data-testid="message-send"
                disabled=move || text.with(|t| t.trim().is_empty())>"Send"</button>
        </form>
    }
}
