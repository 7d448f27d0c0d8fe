//! Concierge: the kiosk event cards and the customer's active-session banner, kept live by the
//! sync engine (Supabase Realtime over a WebSocket, with a REST fallback poller).

pub mod app;
pub mod auth;
pub mod boot;
pub mod clock;
pub mod conversation;
pub mod fixed;
pub mod form;
pub mod http;
pub mod kiosk;
pub mod route;
pub mod session;
pub mod staff;
pub mod sync;

/// Installs the panic hook (a panic in WebAssembly kills the page; at least say why in the
/// console) and mounts the app, with every page, on `<body>`.
pub fn start() {
    start_with(app::all_pages);
}

/// The same with the pages of one build (the kiosk binary passes [`app::kiosk_only`]).
pub fn start_with(pages: app::Pages) {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(move || leptos::prelude::view! { <app::App pages=pages/> });
}
