//! What every form in the app keeps while it is submitted: the error line under it and
//! whether a submission is in flight (its button is disabled meanwhile).

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct FormState {
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
}

impl FormState {
    pub fn new() -> FormState {
        FormState {
            error: RwSignal::new(None),
            busy: RwSignal::new(false),
        }
    }

    /// Takes over the browser's submit; `false` while an earlier submission is still in flight.
    pub fn begin(&self, ev: &leptos::ev::SubmitEvent) -> bool {
        ev.prevent_default();
        !self.busy.get_untracked()
    }

    /// A local check failed: say why, send nothing.
    pub fn reject(&self, message: impl Into<String>) {
        self.error.set(Some(message.into()));
    }

    /// The checks passed: clear the error, mark the form busy.
    pub fn sending(&self) {
        self.error.set(None);
        self.busy.set(true);
    }

    /// The answer arrived. `try_`: the form may be gone by then (a realtime row can replace it
    /// before its own request returns).
    pub fn done(&self, error: Option<String>) {
        self.busy.try_set(false);
        if error.is_some() {
            self.error.try_set(error);
        }
    }
}

impl Default for FormState {
    fn default() -> Self {
        FormState::new()
    }
}
