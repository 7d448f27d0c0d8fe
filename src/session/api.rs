//! Writes to `sessions` over PostgREST with the user's token. Reads never come from here:
//! they are live queries (the sync engine), so every view sees the same rows.

use concierge_wire::model::{SessionKind, SessionRow, SessionStatus};
use serde_json::{Map, Value, json};

use crate::http::{Backend, HttpError, Request};

#[derive(Debug, Clone, PartialEq)]
pub struct Sessions {
    pub backend: Backend,
}

impl Sessions {
    pub fn new(backend: Backend) -> Sessions {
        Sessions { backend }
    }

    async fn send(
        &self,
        req: Request,
        token: Option<String>,
        body: &Value,
    ) -> Result<Vec<SessionRow>, HttpError> {
        let token = token.ok_or(HttpError::SignedOut)?;
        req.bearer(&token)
            .header("Prefer", "return=representation")
            .json(body)?
            .fetch_json()
            .await
    }

    /// The customer asks for a session; the server fills in who and `pending`.
    pub async fn request(
        &self,
        token: Option<String>,
        kind: SessionKind,
        topic: &str,
    ) -> Result<SessionRow, HttpError> {
        let req = self.backend.post("/rest/v1/sessions?select=*");
        let rows = self
            .send(req, token, &json!({"kind": kind.as_str(), "topic": topic}))
            .await?;
        rows.into_iter()
            .next()
            .ok_or_else(|| HttpError::Malformed("the new session was not returned".into()))
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
    ) -> Result<Option<SessionRow>, HttpError> {
        let mut body = extra;
        body.insert("status".into(), Value::String(to.as_str().into()));
        let path = format!(
            "/rest/v1/sessions?id=eq.{}&status=eq.{}&select=*",
            concierge_sync::spec::percent_encode(id),
            from.as_str()
        );
        let rows = self
            .send(self.backend.patch(&path), token, &Value::Object(body))
            .await?;
        Ok(rows.into_iter().next())
    }
}
