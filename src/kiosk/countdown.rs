//! The idle warning: a countdown any touch cancels (WCAG 2.2.1: warn, and let a simple action
//! extend the time).

use leptos::prelude::*;

use super::idle::{IdlePhase, IdleReset};

/// The countdown while the idle clock warns, nothing otherwise.
#[component]
pub fn IdleWarning(idle: IdleReset, total_ms: u64, on_reset: Callback<()>) -> impl IntoView {
    let phase = idle.phase();
    let warning = Memo::new(move |_| phase.get().seconds_left());
    // The dialog is created once per warning (not once per second), so focus stays put.
    let shown = Memo::new(move |_| warning.get().is_some());
    let seconds_left = Signal::derive(move || warning.get().unwrap_or(0));
    let remaining_ms = Signal::derive(move || match phase.get() {
        IdlePhase::Warning { remaining_ms } => remaining_ms,
        _ => 0.0,
    });
    move || {
        shown.get().then(|| {
            view! {
                <Countdown
                    seconds_left
                    remaining_ms
                    total_ms
                    on_stay=Callback::new(move |()| idle.activity())
                    on_reset
                />
            }
        })
    }
}

#[component]
fn Countdown(
    seconds_left: Signal<u64>,
    /// Milliseconds left, for the ring (smoother than whole seconds).
    remaining_ms: Signal<f64>,
    total_ms: u64,
    on_stay: Callback<()>,
    on_reset: Callback<()>,
) -> impl IntoView {
    let stay = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = stay.get() {
            super::focus_when_attached(AsRef::<web_sys::HtmlElement>::as_ref(&b).clone(), 10);
        }
    });
    // The ring empties as time runs out: stroke-dashoffset over a circumference of 100.
    let progress = move || {
        let left = remaining_ms.get();
        let total = total_ms.max(1) as f64;
        crate::fixed::fixed(100.0 - (left / total).clamp(0.0, 1.0) * 100.0, 2)
    };
    view! {
        <div class="countdown" data-testid="idle-warning">
            <div
                class="countdown__panel"
                role="alertdialog"
                aria-modal="true"
                aria-labelledby="countdown-title"
                aria-describedby="countdown-text"
            >
                <div class="countdown__ring" aria-hidden="true">
                    <svg viewBox="0 0 36 36">
                        <circle class="countdown__track" cx="18" cy="18" r="15.9155"></circle>
                        <circle
                            class="countdown__bar"
                            cx="18"
                            cy="18"
                            r="15.9155"
                            pathLength="100"
                            style=move || format!("stroke-dashoffset:{}", progress())
                        ></circle>
                    </svg>
                    <span class="countdown__number" data-testid="idle-seconds">
                        {move || seconds_left.get()}
                    </span>
                </div>
                <h2 id="countdown-title" class="countdown__title">"Are you still there?"</h2>
                <p id="countdown-text" class="countdown__text">
                    "For the next guest’s privacy, this screen starts over in "
                    <strong>
                        {move || match seconds_left.get() {
                            1 => "1 second".to_owned(),
                            n => format!("{n} seconds"),
                        }}
                    </strong>
                    ". Touch anywhere to keep browsing."
                </p>
                <div class="countdown__actions">
                    <button
                        class="button"
                        type="button"
                        node_ref=stay
                        on:click=move |_| on_stay.run(())
                    >
                        "I’m still here"
                    </button>
                    <super::StartOver label="Start over now" on_reset/>
                </div>
            </div>
        </div>
    }
}
