//! The writers' client for `/rest/v1`, with the service key.

use std::sync::Arc;
use std::time::Duration;

use super::WorkloadError;
use crate::socket::{CATALOGUE_MARK, KIOSK_MARK};

/// Talks to `/rest/v1` with the service key.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: Arc<str>,
    key: Arc<str>,
}

impl Rest {
    pub fn new(url: &str, service_key: &str, pool: usize) -> Result<Rest, WorkloadError> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Rest {
            client,
            base: format!("{url}/rest/v1").into(),
            key: service_key.into(),
        })
    }

    /// `req` with the service key as both `apikey` and Bearer token.
    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.header("apikey", &*self.key)
            .header("Authorization", format!("Bearer {}", self.key))
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        body: String,
    ) -> Result<String, WorkloadError> {
        let res = self
            .authorized(req)
            .header("Content-Type", "application/json")
            .header("Prefer", "return=minimal")
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(WorkloadError::Status {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            })
        }
    }

    pub async fn insert_kiosk_result(
        &self,
        session: &str,
        run: u32,
        sent_us: u64,
    ) -> Result<(), WorkloadError> {
        let id = uuid::Uuid::new_v4();
        let body = format!(
            r#"{{"id":"{id}","session_id":"{session}","results":{{"m":"{KIOSK_MARK}{run}:{sent_us}","events":[]}}}}"#
        );
        self.send(
            self.client.post(format!("{}/kiosk_results", self.base)),
            body,
        )
        .await
        .map(|_| ())
    }

    pub async fn mark_event(&self, id: &str, seq: u64, sent_us: u64) -> Result<(), WorkloadError> {
        let body = format!(r#"{{"description":"{CATALOGUE_MARK}{seq}:{sent_us}"}}"#);
        self.send(
            self.client
                .patch(format!("{}/events?id=eq.{id}", self.base)),
            body,
        )
        .await
        .map(|_| ())
    }

    /// Ids of `n` existing `events` rows (the catalogue writers each own one).
    pub async fn event_ids(&self, n: usize) -> Result<Vec<String>, WorkloadError> {
        let res = self
            .authorized(
                self.client
                    .get(format!("{}/events?select=id&order=id&limit={n}", self.base)),
            )
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            return Err(WorkloadError::Status {
                status: status.as_u16(),
                body: text,
            });
        }
        let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get("id").and_then(|v| v.as_str()).map(str::to_owned))
            .collect();
        if ids.len() < n {
            return Err(WorkloadError::NoRows(n));
        }
        Ok(ids)
    }
}
