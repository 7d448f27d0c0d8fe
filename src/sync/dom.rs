//! Page-life listeners: `visibilitychange`, `pagehide`, `pageshow`, `online`, `offline`.
//! Each listener is removed again when the engine stops.

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventTarget, VisibilityState};

/// An event listener that unregisters itself when dropped.
pub struct Listener {
    target: EventTarget,
    event: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        event: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Listener> {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        target
            .add_event_listener_with_callback(event, callback.as_ref().unchecked_ref())
            .ok()?;
        Some(Listener {
            target: target.clone(),
            event,
            callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            self.event,
            self.callback.as_ref().unchecked_ref(),
        );
    }
}

/// Whether the document is visible now (true when there is no document, e.g. in a worker).
pub fn page_visible() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_none_or(|d| d.visibility_state() != VisibilityState::Hidden)
}

/// `navigator.onLine`; only `false` is trusted (Chromium reports false positives, not negatives).
pub fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}
