//! "Ask the concierge" at the kiosk: a short conversation for the guest's kiosk session, with
//! the kiosk's anonymous user (no sign-in), answered by staff or by the server's concierge.
//!
//! It lives under the guest's owner, so the kiosk's idle reset wipes it with everything else:
//! the subscription is left, unsent messages are dropped, and the next guest's user cannot read
//! this session's messages.

use concierge_wire::AuthorRole;
use leptos::prelude::*;

use super::{ConversationPanel, Sender, use_chat};

/// Whether the guest's conversation sheet is open: made by the guest's screen
/// ([`provide_ask`]), opened by [`AskButton`] in the kiosk's header, shown by [`KioskAsk`].
#[derive(Clone, Copy)]
struct Ask {
    open: RwSignal<bool>,
}

/// Makes the open state for the current guest (call it in the guest's owner, before its view).
pub fn provide_ask() {
    provide_context(Ask {
        open: RwSignal::new(false),
    });
}

/// "Ask the concierge", for the kiosk's header (beside *Start over*): in the flow of the page,
/// so it never covers a card.
#[component]
pub fn AskButton() -> impl IntoView {
    let Some(ask) = use_context::<Ask>() else {
        return ().into_any();
    };
    let open = ask.open;
    view! {
        <button class="button kiosk-ask__open" type="button" data-testid="ask-concierge"
            aria-expanded=move || open.get().to_string() aria-controls="kiosk-chat"
            on:click=move |_| open.update(|o| *o = !*o)>
            <span class="kiosk-ask__dot" aria-hidden="true"></span>
            "Ask the concierge"
        </button>
    }
    .into_any()
}

/// The conversation sheet. `token`: the guest's current access token. `shown`: whether the
/// guest is past the attract screen.
#[component]
pub fn KioskAsk(
    session_id: String,
    token: Callback<(), Option<String>>,
    shown: Signal<bool>,
) -> impl IntoView {
    let Some(Ask { open }) = use_context::<Ask>() else {
        leptos::logging::error!("KioskAsk: provide_ask() was not called for this guest");
        return ().into_any();
    };
    // Subscribed on the first open only (most guests never ask), then kept while the guest is
    // here: closing the sheet must not drop a message still on its way.
    let opened = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || open.get());
    let session_id = StoredValue::new(session_id);
    // Opening puts the caret in the text field (the guest asked to write); closing, by the
    // button or Escape, returns focus to "Ask the concierge".
    Effect::new(move |was_open: Option<bool>| {
        let now = open.get();
        if was_open.is_some_and(|w| w != now) {
            let selector = if now {
                "#kiosk-chat textarea"
            } else {
                "[data-testid=ask-concierge]"
            };
            request_animation_frame(move || focus_first(selector));
        }
        now
    });
    view! {
        <section id="kiosk-chat" class="kiosk-chat" aria-label="Ask the concierge"
            data-testid="kiosk-chat" hidden=move || !(open.get() && shown.get())
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    open.set(false);
                }
            }>
            <button class="button button--ghost kiosk-chat__close" type="button"
                data-testid="kiosk-chat-close" on:click=move |_| open.set(false)>"Close"</button>
            {move || opened.get().then(|| {
                let chat = use_chat(session_id.get_value(), AuthorRole::Customer, Sender::Kiosk(token));
                view! {
                    <ConversationPanel chat title="Ask the concierge".to_owned()
                        placeholder="Ask anything: tonight's music, a table for two, a taxi…"
                        empty_text="Ask us anything. The concierge answers in a few seconds; a member of staff follows up."/>
                }
            })}
        </section>
    }
    .into_any()
}

/// Focuses the first element matching `selector`, if any.
fn focus_first(selector: &str) {
    use wasm_bindgen::JsCast;
    let el = document()
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = el {
        let _ = el.focus();
    }
}
