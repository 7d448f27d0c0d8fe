//! Who is signed in, and the chip in the top bar that names them and signs them out.

use leptos::prelude::*;

use super::{Auth, AuthUser};

/// Who is signed in, changing only when the user does. Views branch on this, not on the
/// session itself: a token refresh replaces the session, and must not remount the page (a
/// remount drops the live query and starts over from "Loading").
pub fn signed_in_user(auth: Auth) -> Memo<Option<AuthUser>> {
    Memo::new(move |_| auth.session.with(|s| s.as_ref().map(|s| s.user.clone())))
}

#[component]
pub fn AccountChip(auth: Auth, user: AuthUser) -> impl IntoView {
    let label = user.name.clone().unwrap_or_else(|| user.email.clone());
    view! {
        <div class="account">
            <span class="account__name" data-testid="account-name">{label}</span>
            <button class="button button--ghost button--small" data-testid="sign-out"
                on:click=move |_| leptos::task::spawn_local(async move { auth.sign_out().await })>
                "Sign out"
            </button>
        </div>
    }
}
