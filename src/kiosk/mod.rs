//! The kiosk screen (`/kiosk`). Placeholder shell until the kiosk lands (issue 5): it already
//! owns the guest's session id, which everything on this screen is keyed by.

use leptos::prelude::*;
use uuid::Uuid;

#[component]
pub fn KioskPage() -> impl IntoView {
    let session_id = Uuid::new_v4();
    view! {
        <main class="kiosk">
            <h1>"Concierge"</h1>
            <p>"Tap to start"</p>
            <p class="kiosk__session">"Session " <code data-testid="session-id">{session_id.to_string()}</code></p>
        </main>
    }
}
