//! Loading the run-time configuration (`/config.json`) before anything else starts.

use concierge_wire::config::{self, AppConfig, ConfigError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BootError {
    #[error("Could not reach /config.json: {0}")]
    Unreachable(String),
    #[error("/config.json answered HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Invalid(#[from] ConfigError),
}

/// Fetches and parses `/config.json`, logging a console warning for every value that fell
/// back to its default.
pub async fn load_config() -> Result<AppConfig, BootError> {
    let reply = crate::http::Request::get("/config.json")
        .send()
        .await
        .map_err(|e| BootError::Unreachable(e.detail()))?;
    if !reply.ok() {
        return Err(BootError::Status(reply.status));
    }
    let text = reply.text;
    let parsed = config::parse(&text)?;
    for w in &parsed.warnings {
        leptos::logging::warn!("{w}");
    }
    Ok(parsed.config)
}

/// The backend base URL: `config.url`, or the page's own origin when unset.
pub fn api_base(config: &AppConfig) -> String {
    if let Some(url) = &config.url {
        return url.clone();
    }
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}
