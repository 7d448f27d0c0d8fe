//! Which page this load shows, from the URL's path.
//!
//! The app has four fixed paths and no in-app navigation (its links are ordinary `<a href>`
//! loads), so a full client router (leptos_router, with the `url` crate behind it) cost
//! ~50 KB of code for one `match`. Unknown paths still render the app's own "not found" page,
//! because the server answers every client route with `index.html`.

/// A page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Kiosk,
    Session,
    Staff,
    NotFound,
}

impl Route {
    /// The page for `path`; `/` is the kiosk (the caller rewrites the address to `/kiosk`).
    /// A trailing slash is ignored, as the router did.
    pub fn parse(path: &str) -> Route {
        match path.trim_end_matches('/') {
            "" | "/kiosk" => Route::Kiosk,
            "/session" => Route::Session,
            "/staff" => Route::Staff,
            _ => Route::NotFound,
        }
    }
}

/// The current page, rewriting `/` to `/kiosk` in the address bar (without a reload or a
/// history entry), as the old `<Redirect>` did.
pub fn current() -> Route {
    let Some(window) = web_sys::window() else {
        return Route::Kiosk;
    };
    let path = window.location().pathname().unwrap_or_default();
    if path.trim_end_matches('/').is_empty()
        && let Ok(history) = window.history()
    {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/kiosk"));
    }
    Route::parse(&path)
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn paths_map_to_pages() {
        assert_eq!(Route::parse("/"), Route::Kiosk);
        assert_eq!(Route::parse(""), Route::Kiosk);
        assert_eq!(Route::parse("/kiosk"), Route::Kiosk);
        assert_eq!(Route::parse("/kiosk/"), Route::Kiosk);
        assert_eq!(Route::parse("/session"), Route::Session);
        assert_eq!(Route::parse("/staff"), Route::Staff);
        assert_eq!(Route::parse("/nope"), Route::NotFound);
        assert_eq!(Route::parse("/kiosk/extra"), Route::NotFound);
    }
}
