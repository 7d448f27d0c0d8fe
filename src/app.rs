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

/// The pages a build of the app carries, chosen once at the root by a plain function pointer so
/// the linker can drop every page it never names: the full app ([`all_pages`]) carries all of
/// them; the kiosk binary (`src/bin/kiosk.rs`, served at `/kiosk`) carries only
/// [`kiosk_only`], so a kiosk loads none of the sign-in, session or staff code.
pub type Pages = fn(Route) -> AnyView;

/// Every page; the sign-ins (`Accounts`) are started only for the pages that sign in.
pub fn all_pages(route: Route) -> AnyView {
    match route {
        Route::Kiosk => view! { <KioskPage/> }.into_any(),
        Route::Session => {
            provide_accounts();
            view! { <SessionPage/> }.into_any()
        }
        Route::Staff => {
            provide_accounts();
            view! { <StaffPage/> }.into_any()
        }
        Route::NotFound => view! { <NotFound/> }.into_any(),
    }
}

/// The kiosk alone (the kiosk signs in anonymously on its own, without `Accounts`).
pub fn kiosk_only(route: Route) -> AnyView {
    match route {
        Route::Kiosk => view! { <KioskPage/> }.into_any(),
        _ => view! { <NotFound/> }.into_any(),
    }
}

fn provide_accounts() {
    Accounts::provide(
        AuthApi {
            backend: expect_context::<Backend>(),
        },
        expect_context(),
    );
}

#[component]
pub fn App(pages: Pages) -> impl IntoView {
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
        Some(Ok(cfg)) => view! { <Configured config=cfg pages=pages/> }.into_any(),
        Some(Err(err)) => view! { <ConfigErrorScreen error=err/> }.into_any(),
    }
}

/// Everything below here may rely on these in context: `AppConfig`, `Backend`, the
/// `SyncEngine` (one socket for the page, whichever route is shown); the pages that sign in
/// also find `Accounts` (see [`all_pages`]).
#[component]
fn Configured(config: AppConfig, pages: Pages) -> impl IntoView {
    let backend = Backend::from_config(&config);
    provide_sync_engine(&config, backend.base.clone(), backend.anon_key.clone());
    provide_context(backend);
    provide_context(config);
    // One page per load: links between pages are ordinary loads (see `route`).
    pages(route::current())
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
