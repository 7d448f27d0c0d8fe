//! Pages other than the kiosk.

use leptos::prelude::*;

/// `/session`: the customer's view. Sign-in and the ActiveSessionBanner land with issue 6.
#[component]
pub fn SessionPage() -> impl IntoView {
    view! {
        <main class="page">
            <h1>"Your session"</h1>
            <p>"Customer sign-in is not available yet."</p>
        </main>
    }
}

/// `/staff`: the staff console. Lands with issue 6.
#[component]
pub fn StaffPage() -> impl IntoView {
    view! {
        <main class="page">
            <h1>"Staff console"</h1>
            <p>"Staff sign-in is not available yet."</p>
        </main>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p><a href="/kiosk">"Go to the kiosk"</a></p>
        </main>
    }
}
