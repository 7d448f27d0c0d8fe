//! The booking benchmark's HTTP calls: the service role creates the bookable events, kiosks
//! call `POST /rest/v1/rpc/reserve` (what supabase-js `.rpc('reserve', …)` sends) with their
//! own anonymous sign-in, and the service role reads `places_left` back.

use serde_json::{Value, json};

use crate::clock::now_us;
use crate::identity::{Api, Identity, IdentityError, checked, with_json};

/// What one `reserve` call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// 200 with `status: confirmed`; the event's places left after it.
    Confirmed { places_left: i64 },
    /// The clear refusal: 400, `P0001`, "no places left".
    NoPlacesLeft,
    /// Anything else (a bug or a limit): status and the start of the body.
    Other(String),
}

/// One call: its outcome and its send → response time (µs), measured from `sent_us`.
#[derive(Debug, Clone)]
pub struct Call {
    pub outcome: Outcome,
    pub latency_us: u64,
}

/// The service role's side: creating events and reading them back.
#[derive(Clone)]
pub struct Service {
    pub api: Api,
    pub key: String,
}

impl Service {
    /// A new bookable event of `hotel_id` with `capacity` places, far in the future.
    pub async fn create_event(
        &self,
        hotel_id: &str,
        title: &str,
        capacity: i64,
    ) -> Result<String, IdentityError> {
        let req = self
            .api
            .request(reqwest::Method::POST, "/rest/v1/events", &self.key)
            .header("Prefer", "return=representation");
        let body = json!({"hotel_id": hotel_id, "title": title, "category": "food",
                          "starts_at": "2099-01-01T19:00:00Z", "capacity": capacity});
        let res = with_json(req, &body).send().await?;
        let rows: Value = checked("event insert", res).await?;
        rows.pointer("/0/id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(IdentityError::Malformed("the new event's id"))
    }

    /// The event's `places_left` as stored.
    pub async fn places_left(&self, event_id: &str) -> Result<Option<i64>, IdentityError> {
        let res = self
            .api
            .request(
                reqwest::Method::GET,
                &format!("/rest/v1/events?id=eq.{event_id}&select=places_left"),
                &self.key,
            )
            .send()
            .await?;
        let rows: Value = checked("places_left read", res).await?;
        Ok(rows.pointer("/0/places_left").and_then(Value::as_i64))
    }

    /// The hotel the app's `/config.json` names (the kiosks' catalogue).
    pub async fn hotel_id(&self) -> Result<String, IdentityError> {
        let res = self
            .api
            .http
            .get(format!("{}/config.json", self.api.url))
            .send()
            .await?;
        let v: Value = checked("/config.json", res).await?;
        v.get("hotel_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(IdentityError::Malformed("hotel_id in /config.json"))
    }
}

/// `who` books one place at `event_id`; timed from now.
pub async fn reserve(api: &Api, who: &Identity, event_id: &str, guest: usize) -> Call {
    let sent = now_us();
    let body = json!({"event_id": event_id, "guest_name": format!("Guest {guest}"),
                      "room": (100 + guest % 400).to_string(), "party_size": 1});
    let req = api.request(
        reqwest::Method::POST,
        "/rest/v1/rpc/reserve",
        &who.access_token,
    );
    let res = with_json(req, &body).send().await;
    let outcome = match res {
        Ok(r) => {
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            classify(status, &body)
        }
        Err(e) => Outcome::Other(format!("http: {e}")),
    };
    Call {
        outcome,
        latency_us: now_us().saturating_sub(sent),
    }
}

fn classify(status: u16, body: &str) -> Outcome {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    match status {
        200 if v["status"] == "confirmed" => match v["places_left"].as_i64() {
            Some(places_left) => Outcome::Confirmed { places_left },
            None => Outcome::Other(format!("200 without places_left: {body}")),
        },
        400 if v["code"] == "P0001" && v["message"] == "no places left" => Outcome::NoPlacesLeft,
        _ => Outcome::Other(format!(
            "{status}: {}",
            body.chars().take(160).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_read_from_the_postgrest_answers() {
        assert_eq!(
            classify(200, r#"{"id":"r","status":"confirmed","places_left":3}"#),
            Outcome::Confirmed { places_left: 3 }
        );
        assert_eq!(
            classify(
                400,
                r#"{"code":"P0001","message":"no places left","details":"0 places left, 1 asked"}"#
            ),
            Outcome::NoPlacesLeft
        );
        assert!(matches!(classify(429, "{}"), Outcome::Other(s) if s.starts_with("429")));
        assert!(matches!(
            classify(400, r#"{"code":"P0001","message":"event started"}"#),
            Outcome::Other(_)
        ));
    }
}
