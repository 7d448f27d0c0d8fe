//! The sign-in / sign-up card, shared by the customer view and the staff console.

use leptos::prelude::*;

use super::Auth;
use crate::form::FormState;
use crate::http::HttpError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    SignIn,
    SignUp,
}

/// Field-level checks before asking the server, so the common mistakes get instant help.
fn local_check(mode: Mode, email: &str, password: &str, name: &str) -> Result<(), String> {
    if !email.contains('@') || email.trim().len() < 3 {
        return Err("Enter the email address you use with the hotel.".into());
    }
    if password.is_empty() {
        return Err("Enter your password.".into());
    }
    if mode == Mode::SignUp {
        if name.trim().is_empty() {
            return Err("Tell us your name, so staff know who they are helping.".into());
        }
        if password.chars().count() < 6 {
            return Err("Choose a password of at least 6 characters.".into());
        }
    }
    Ok(())
}

/// What the card says when the server refuses or cannot be reached.
fn friendly(e: &HttpError) -> String {
    match e.code() {
        Some("invalid_credentials") => "That email and password do not match an account.".into(),
        Some("user_already_exists") => {
            "An account with this email already exists. Sign in instead.".into()
        }
        _ if matches!(e, HttpError::Network(_)) => {
            format!("{e} Check your connection and try again.")
        }
        _ => e.to_string(),
    }
}

/// `allow_sign_up`: customers may create an account; staff accounts are made by an operator.
#[component]
pub fn SignInCard(
    auth: Auth,
    title: &'static str,
    subtitle: &'static str,
    allow_sign_up: bool,
) -> impl IntoView {
    let mode = RwSignal::new(Mode::SignIn);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let form = FormState::new();
    let FormState { error, busy } = form;

    let submit = move |ev: leptos::ev::SubmitEvent| {
        if !form.begin(&ev) {
            return;
        }
        let (m, e, p, n) = (
            mode.get_untracked(),
            email.get_untracked(),
            password.get_untracked(),
            name.get_untracked(),
        );
        if let Err(msg) = local_check(m, &e, &p, &n) {
            form.reject(msg);
            return;
        }
        form.sending();
        leptos::task::spawn_local(async move {
            let api = auth.api();
            let r = match m {
                Mode::SignIn => api.sign_in(e.trim(), &p).await,
                Mode::SignUp => api.sign_up(e.trim(), &p, n.trim()).await,
            };
            match r {
                Ok(s) => {
                    form.done(None);
                    password.try_set(String::new());
                    auth.set(Some(s));
                }
                Err(e) => form.done(Some(friendly(&e))),
            }
        });
    };

    view! {
        <section class="auth-card" aria-labelledby="auth-title">
            <h1 id="auth-title" class="auth-card__title">{title}</h1>
            <p class="auth-card__subtitle">{subtitle}</p>
            {move || auth.expired_notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <Show when=move || allow_sign_up>
                <div class="auth-card__tabs" role="tablist" aria-label="Account">
                    <button type="button" role="tab" class="tab" data-testid="tab-sign-in"
                        aria-selected=move || (mode.get() == Mode::SignIn).to_string()
                        on:click=move |_| { mode.set(Mode::SignIn); error.set(None); }>"Sign in"</button>
                    <button type="button" role="tab" class="tab" data-testid="tab-sign-up"
                        aria-selected=move || (mode.get() == Mode::SignUp).to_string()
                        on:click=move |_| { mode.set(Mode::SignUp); error.set(None); }>"Create account"</button>
                </div>
            </Show>
            <form class="form" on:submit=submit novalidate=true>
                <Show when=move || mode.get() == Mode::SignUp>
                    <label class="field">
                        <span class="field__label">"Your name"</span>
                        <input class="field__input" name="name" autocomplete="name" data-testid="auth-name"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <label class="field">
                    <span class="field__label">"Email"</span>
                    <input class="field__input" type="email" name="email" autocomplete="email" data-testid="auth-email"
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span class="field__label">"Password"</span>
                    <input class="field__input" type="password" name="password" data-testid="auth-password"
                        autocomplete=move || if mode.get() == Mode::SignUp { "new-password" } else { "current-password" }
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <p class="form__error" role="alert" data-testid="auth-error">{move || error.get()}</p>
                <button class="button form__submit" type="submit" data-testid="auth-submit" disabled=move || busy.get()>
                    {move || match (mode.get(), busy.get()) {
                        (_, true) => "One moment…",
                        (Mode::SignIn, false) => "Sign in",
                        (Mode::SignUp, false) => "Create account",
                    }}
                </button>
            </form>
        </section>
    }
}
