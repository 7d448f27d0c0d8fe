//! "Ask the concierge" at the kiosk: a short conversation for the guest's kiosk session, with
//! the kiosk's anonymous user (no sign-in), answered by staff or by the server's concierge.
//!
//! It lives under the guest's owner, so the kiosk's idle reset wipes it with everything else:
//! the subscription is left, unsent messages are dropped, and the next guest's user cannot read
//! this session's messages.

use concierge_wire::AuthorRole;
use leptos::prelude::*;

use super::{ConversationPanel, Sender, use_chat};

/// `token`: the guest's current access token. `shown`: whether the guest is past the attract
/// screen (the button shows only then).
#[component]
pub fn KioskAsk(
    session_id: String,
    token: Callback<(), Option<String>>,
    shown: Signal<bool>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    // Subscribed on the first open only (most guests never ask), then kept while the guest is
    // here: closing the sheet must not drop a message still on its way.
    let opened = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || open.get());
    let session_id = StoredValue::new(session_id);
    view! {
        <div class="kiosk-ask" hidden=move || !shown.get()>
            <button class="button kiosk-ask__open" type="button" data-testid="ask-concierge"
                aria-expanded=move || open.get().to_string() aria-controls="kiosk-chat"
                hidden=move || open.get()
                on:click=move |_| open.set(true)>
                <span class="kiosk-ask__dot" aria-hidden="true"></span>
                "Ask the concierge"
            </button>
            <section id="kiosk-chat" class="kiosk-chat" aria-label="Ask the concierge"
                data-testid="kiosk-chat" hidden=move || !open.get()>
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
        </div>
    }
}
