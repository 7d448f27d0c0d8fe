//! The ActiveSessionBanner: one polite live region (`role="status"`) that is in the page from
//! the start (WCAG technique ARIA22: screen readers only announce changes to a region that
//! already exists) and tells the truth about the customer's current session.

use concierge_wire::model::{SessionKind, SessionRow, SessionStatus};
use leptos::prelude::*;

use crate::conversation::Dock;

pub fn kind_label(k: SessionKind) -> &'static str {
    match k {
        SessionKind::Chat => "Chat",
        SessionKind::Video => "Video call",
        SessionKind::Concierge => "Concierge appointment",
    }
}

/// `mm:ss`, or `h:mm:ss` past the hour.
pub fn elapsed_text(ms: f64) -> String {
    let s = (ms.max(0.0) / 1000.0) as u64;
    let (h, m, s) = (s / 3600, (s / 60) % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

/// Milliseconds since the epoch of a row's timestamp, as the browser reads it.
pub fn parse_ms(ts: &str) -> Option<f64> {
    let v = js_sys::Date::parse(ts);
    (!v.is_nan()).then_some(v)
}

/// `active`: the session to show (None = the region stays empty). `ending`: an optimistic end
/// is in flight. `message`: a rollback explanation. `on_end`: the customer's "End session".
/// `dock`: the conversation under the banner; while it is collapsed, its unread count shows
/// here (a button that opens it).
#[component]
pub fn ActiveSessionBanner(
    active: Signal<Option<SessionRow>>,
    ending: Signal<bool>,
    message: Signal<Option<String>>,
    on_end: Callback<SessionRow>,
    #[prop(optional)] dock: Option<Dock>,
) -> impl IntoView {
    let now = crate::clock::use_now(std::time::Duration::from_secs(1));
    let status = move || active.with(|a| a.as_ref().map(|s| s.status));

    view! {
        <div class="banner-region" role="status" data-testid="active-session-banner"
            data-state=move || status().map_or("none", |s| s.as_str())>
            {move || message.get().map(|m| view! {
                <p class="banner-region__message" data-testid="banner-message">{m}</p>
            })}
            {move || active.get().map(|s| {
                let st = s.status;
                let staff = s.staff_name.clone().unwrap_or_else(|| "A staff member".into());
                let topic = s.topic.clone().filter(|t| !t.trim().is_empty());
                let live_since = parse_ms(&s.updated_at);
                let headline = match st {
                    SessionStatus::Pending => "Requested — waiting for a staff member".to_owned(),
                    SessionStatus::Waiting => format!("{staff} will be with you shortly"),
                    SessionStatus::Live => format!("Live with {staff}"),
                    SessionStatus::Completed | SessionStatus::Cancelled => "Session ended".to_owned(),
                };
                let detail = match st {
                    SessionStatus::Pending => "We will show you who is helping as soon as someone accepts.",
                    SessionStatus::Waiting => "Staff assigned. Your session starts in a moment.",
                    SessionStatus::Live => "Your session is in progress.",
                    _ => "",
                };
                let end_label = if st == SessionStatus::Pending { "Cancel request" } else { "End session" };
                let row = s.clone();
                view! {
                    <div class=format!("banner banner--{}", st.as_str())>
                        <span class="banner__pulse" aria-hidden="true"></span>
                        <div class="banner__body">
                            <p class="banner__eyebrow">
                                {kind_label(s.kind)}
                                {topic.map(|t| view! { <span class="banner__topic">" · " {t}</span> })}
                            </p>
                            <p class="banner__headline" data-testid="banner-headline">{headline}</p>
                            <p class="banner__detail">
                                {detail}
                                {(st == SessionStatus::Live).then(|| view! {
                                    " " <span class="banner__elapsed" data-testid="banner-elapsed"
                                        aria-label="Elapsed time">
                                        {move || live_since.map(|t| elapsed_text(now.get() - t)).unwrap_or_default()}
                                    </span>
                                })}
                            </p>
                            {dock.map(unread_badge)}
                        </div>
                        <button class="button button--ghost banner__end" data-testid="banner-end"
                            disabled=move || ending.get()
                            on:click=move |_| on_end.run(row.clone())>
                            {move || if ending.get() { "Ending…" } else { end_label }}
                        </button>
                    </div>
                }
            })}
        </div>
    }
}

/// "2 new messages", shown while the conversation is collapsed and has any; opens it.
fn unread_badge(dock: Dock) -> impl IntoView {
    let n = dock.unread;
    view! {
        <button class="banner__unread" type="button" data-testid="banner-unread"
            hidden=move || n.get() == 0 || dock.open.get()
            on:click=move |_| dock.open.set(true)>
            {move || match n.get() {
                1 => "1 new message".to_owned(),
                n => format!("{n} new messages"),
            }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn elapsed_formats() {
        assert_eq!(super::elapsed_text(0.0), "00:00");
        assert_eq!(super::elapsed_text(-5.0), "00:00");
        assert_eq!(super::elapsed_text(61_500.0), "01:01");
        assert_eq!(super::elapsed_text(3_725_000.0), "1:02:05");
    }
}
