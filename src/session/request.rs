//! The customer's "request a session" form: a topic and a kind.

use concierge_wire::model::{SessionKind, SessionRow};
use leptos::prelude::*;

use super::api::Sessions;
use super::banner::kind_label;
use crate::auth::Auth;
use crate::form::FormState;

#[component]
pub fn RequestForm(
    auth: Auth,
    sessions: StoredValue<Sessions>,
    on_created: Callback<SessionRow>,
) -> impl IntoView {
    let kind = RwSignal::new(SessionKind::Chat);
    let topic = RwSignal::new(String::new());
    let form = FormState::new();
    let FormState { error, busy } = form;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        if !form.begin(&ev) {
            return;
        }
        let t = topic
            .get_untracked()
            .trim()
            .chars()
            .take(200)
            .collect::<String>();
        if t.is_empty() {
            form.reject("Tell us briefly what you need help with.");
            return;
        }
        form.sending();
        let k = kind.get_untracked();
        leptos::task::spawn_local(async move {
            let token = auth.fresh_token().await;
            let r = sessions.get_value().request(token, k, &t).await;
            // With realtime the new row can arrive before this answer, replacing the form by
            // the banner: the form's own signals may be gone by now (`done` uses `try_`).
            match r {
                Ok(row) => {
                    form.done(None);
                    topic.try_set(String::new());
                    on_created.run(row);
                }
                Err(e) => form.done(Some(format!("Your request was not sent: {e}"))),
            }
        });
    };

    view! {
        <section class="panel request" aria-labelledby="request-title">
            <h1 id="request-title">"How can we help?"</h1>
            <p class="muted">"A member of the hotel team will pick up your request. You can follow it right here."</p>
            <form class="form" on:submit=submit novalidate=true>
                <fieldset class="kinds">
                    <legend class="field__label">"How would you like to talk?"</legend>
                    {SessionKind::ALL.into_iter().map(|k| view! {
                        <label class="kind" class:kind--on=move || kind.get() == k>
                            <input type="radio" name="kind" value=k.as_str() data-testid=format!("kind-{}", k.as_str())
                                prop:checked=move || kind.get() == k
                                on:change=move |_| kind.set(k)/>
                            <span>{kind_label(k)}</span>
                        </label>
                    }).collect_view()}
                </fieldset>
                <label class="field">
                    <span class="field__label">"Topic"</span>
                    <input class="field__input" name="topic" maxlength="200" data-testid="request-topic"
                        placeholder="e.g. Late checkout, a table for two tonight"
                        prop:value=move || topic.get()
                        on:input=move |ev| topic.set(event_target_value(&ev))/>
                </label>
                <p class="form__error" role="alert" data-testid="request-error">{move || error.get()}</p>
                <button class="button form__submit" type="submit" data-testid="request-submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Sending…" } else { "Request a session" }}
                </button>
            </form>
        </section>
    }
}
