//! Writing a message: one `POST /rest/v1/messages` with the sender's id. Reads never come from
//! here: the list is a live query (the sync engine).

use serde_json::json;

use leptos::prelude::Callable;

use super::outbox::Attempt;
use crate::auth::Auth;
use crate::http::{Backend, HttpError, Refusal};

/// Whose token a message goes out with.
#[derive(Clone, Copy)]
pub enum Sender {
    /// A signed-in customer or staff member (refreshed first if about to expire).
    Signed(Auth),
    /// The kiosk's anonymous user for the current guest (it refreshes itself).
    Kiosk(leptos::prelude::Callback<(), Option<String>>),
}

impl Sender {
    async fn token(self) -> Option<String> {
        match self {
            Sender::Signed(auth) => auth.fresh_token().await,
            Sender::Kiosk(token) => token.run(()),
        }
    }
}

/// Sends one message. Only the id, the session and the words: the server stamps the time and
/// the author from the token.
pub async fn post_message(
    backend: &Backend,
    sender: Sender,
    session_id: &str,
    id: &str,
    body: &str,
) -> Attempt {
    let Some(token) = sender.token().await else {
        return Attempt::Refused(HttpError::SignedOut.to_string());
    };
    let req = backend
        .post("/rest/v1/messages")
        .bearer(&token)
        .header("Prefer", "return=minimal")
        .json(&json!({"id": id, "session_id": session_id, "body": body}));
    let reply = match req {
        Ok(req) => req.send().await,
        Err(e) => Err(e),
    };
    match reply {
        Ok(r) => classify(r.status, &r.text),
        Err(HttpError::Network(e)) => {
            leptos::logging::warn!("message {id} not sent, will retry when back online: {e}");
            Attempt::Unreachable
        }
        Err(e) => Attempt::Refused(e.to_string()),
    }
}

/// An answer, as the outbox reads it.
pub fn classify(status: u16, body: &str) -> Attempt {
    if (200..300).contains(&status) {
        return Attempt::Stored;
    }
    let refusal = Refusal::parse(status, body);
    if status == 409 || refusal.code == "23505" {
        return Attempt::AlreadyStored;
    }
    Attempt::Refused(match status {
        401 | 403 => "This conversation is closed to new messages.".to_owned(),
        _ => refusal.message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_attempts() {
        assert_eq!(classify(201, ""), Attempt::Stored);
        assert_eq!(
            classify(409, r#"{"code":"23505","message":"duplicate key"}"#),
            Attempt::AlreadyStored
        );
        assert_eq!(
            classify(403, r#"{"code":"42501","message":"row-level security"}"#),
            Attempt::Refused("This conversation is closed to new messages.".into())
        );
        assert_eq!(
            classify(400, r#"{"code":"23514","message":"too many messages"}"#),
            Attempt::Refused("too many messages".into())
        );
    }
}
