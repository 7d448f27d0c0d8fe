//! The root component: load the configuration, start the services every page shares (the sync
//! engine, the sign-ins, the backend's address), then show the page the URL names.

use concierge_wire::config::AppConfig;
use leptos::prelude::*;

use crate::auth::{Accounts, AuthApi};
use crate::boot::{self, BootError};
use crate::http::Backend;
use crate::kiosk::KioskPage;
use crate::route::{self, Route};
use crate::session::SessionPage;
use crate::staff::StaffPage;
use crate::sync::provide_sync_engine;

#[component]
pub fn App() -> impl IntoView {
    // The configuration decides everything else (backend URL, key, intervals), so nothing
    // renders until it is known; a failure gets a screen of its own rather than a blank page.
    // A signal filled once by a task, not a `LocalResource` under `Suspense`: the one async
    // load of the app does not need Leptos's async machinery, and it was measurable in the wasm.
    let config = RwSignal::new(None::<Result<AppConfig, BootError>>);
    leptos::task::spawn_local(async move {
        config.try_set(Some(boot::load_config().await));
    });
    move || match config.get() {
        None => view! { <BootScreen/> }.into_any(),
        Some(Ok(cfg)) => view! { <Configured config=cfg/> }.into_any(),
        Some(Err(err)) => view! { <ConfigErrorScreen error=err/> }.into_any(),
    }
}

/// Everything below here may rely on these in context: `AppConfig`, `Backend`, the
/// `SyncEngine` (one socket for the page, whichever route is shown) and `Accounts`.
#[component]
fn Configured(config: AppConfig) -> impl IntoView {
    let backend = Backend::from_config(&config);
    let engine = provide_sync_engine(&config, backend.base.clone(), backend.anon_key.clone());
    Accounts::provide(
        AuthApi {
            backend: backend.clone(),
        },
        engine,
    );
    provide_context(backend);
    provide_context(config);
    // One page per load: links between pages are ordinary loads (see `route`).
    match route::current() {
        Route::Kiosk => view! { <KioskPage/> }.into_any(),
        Route::Session => view! { <SessionPage/> }.into_any(),
        Route::Staff => view! { <StaffPage/> }.into_any(),
        Route::NotFound => view! { <NotFound/> }.into_any(),
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="page">
            <h1>"Page not found"</h1>
            <p><a href="/kiosk">"Go to the kiosk"</a></p>
        </main>
    }
}

#[component]
fn BootScreen() -> impl IntoView {
    view! {
        <main class="boot" aria-busy="true">
            <div class="boot__mark" aria-hidden="true"></div>
            <p class="boot__text">"Starting Concierge…"</p>
        </main>
    }
}

#[component]
fn ConfigErrorScreen(error: BootError) -> impl IntoView {
    leptos::logging::error!("configuration failed: {error}");
    view! {
        <main class="fatal" role="alert" data-testid="config-error">
            <h1 class="fatal__title">"This screen is not set up yet"</h1>
            <p class="fatal__detail">{error.to_string()}</p>
            <p class="fatal__hint">
                "The app reads its settings from /config.json next to the page. "
                "Check that the Concierge server is running and serves it with an anon_key."
            </p>
            <button class="button" on:click=|_| {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            }>"Try again"</button>
        </main>
    }
}
