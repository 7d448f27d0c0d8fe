//! Writes to `sessions` over PostgREST with the user's token. Reads never come from here:
//! they are live queries (the sync engine), so every view sees the same rows.

use concierge_wire::model::{SessionKind, SessionRow, SessionStatus};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WriteError {
    /// The server refused (row rules, validation): its message.
    #[error("{0}")]
    Refused(String),
    #[error("You are signed out. Please sign in again.")]
    SignedOut,
    #[error("Cannot reach the server ({0}).")]
    Network(String),
    #[error("The server answered something unexpected ({0}).")]
    Protocol(String),
}

/// PostgREST error bodies: `{code, message, details, hint}`.
fn refusal(status: u16, body: &str) -> WriteError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let msg = v
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("HTTP {status}"));
    WriteError::Refused(msg)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rest {
    pub base: String,
    pub anon_key: String,
}

impl Rest {
    async fn send(
        &self,
        method: &str,
        query: &str,
        token: Option<String>,
        body: Value,
    ) -> Result<Vec<SessionRow>, WriteError> {
        let token = token.ok_or(WriteError::SignedOut)?;
        let url = format!(
            "{}/rest/v1/sessions?{query}",
            self.base.trim_end_matches('/')
        );
        let builder = match method {
            "POST" => gloo_net::http::Request::post(&url),
            _ => gloo_net::http::Request::patch(&url),
        };
        let resp = builder
            .header("apikey", &self.anon_key)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .header("Prefer", "return=representation")
            .body(body.to_string())
            .map_err(|e| WriteError::Protocol(e.to_string()))?
            .send()
            .await
            .map_err(|e| WriteError::Network(e.to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| WriteError::Network(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &text));
        }
        serde_json::from_str(&text).map_err(|e| WriteError::Protocol(e.to_string()))
    }

    /// The customer asks for a session; the server fills in who and `pending`.
    pub async fn request(
        &self,
        token: Option<String>,
        kind: SessionKind,
        topic: &str,
    ) -> Result<SessionRow, WriteError> {
        let rows = self
            .send(
                "POST",
                "select=*",
                token,
                json!({"kind": kind.as_str(), "topic": topic}),
            )
            .await?;
        rows.into_iter()
            .next()
            .ok_or_else(|| WriteError::Protocol("the new session was not returned".into()))
    }

    /// Moves session `id` to `to`, only if it is still in `from` (so two people acting at once
    /// cannot both win). An empty result means the row was not (or no longer) reachable.
    pub async fn transition(
        &self,
        token: Option<String>,
        id: &str,
        from: SessionStatus,
        to: SessionStatus,
        extra: Map<String, Value>,
    ) -> Result<Option<SessionRow>, WriteError> {
        let mut body = extra;
        body.insert("status".into(), Value::String(to.as_str().into()));
        let query = format!(
            "id=eq.{}&status=eq.{}&select=*",
            concierge_sync::spec::percent_encode(id),
            from.as_str()
        );
        let rows = self
            .send("PATCH", &query, token, Value::Object(body))
            .await?;
        Ok(rows.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_carry_postgrest_messages() {
        assert_eq!(
            super::refusal(
                403,
                r#"{"code":"42501","message":"new row violates row-level security policy for table \"sessions\": x","details":null,"hint":null}"#
            ),
            super::WriteError::Refused(
                "new row violates row-level security policy for table \"sessions\": x".into()
            )
        );
        assert_eq!(
            super::refusal(500, ""),
            super::WriteError::Refused("HTTP 500".into())
        );
    }
}
