//! The app's run-time configuration, served as `/config.json`.
//!
//! Parsing is forgiving by design: unknown keys are ignored and a missing or invalid value
//! falls back to its default with a warning, so one typo never blanks a lobby screen.
//! Only a missing `anon_key` is fatal.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::phoenix::Vsn;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppConfig {
    /// Backend base URL; `None` means the page's own origin.
    pub url: Option<String>,
    /// Where the kiosk's search (`POST /api/event/by-interests`) goes; `None` means `url`.
    /// On hosted Supabase the project has no search, so the concierge-server in front of it
    /// (upstream mode) serves `"/"`: the page's own origin.
    #[serde(default)]
    pub search_url: Option<String>,
    pub anon_key: String,
    pub hotel_id: String,
    pub realtime_enabled: bool,
    /// Phoenix serializer: "2.0.0" (default) or "1.0.0".
    pub realtime_vsn: Vsn,
    pub poll_base_ms: u64,
    pub poll_max_ms: u64,
    pub poll_factor: f64,
    pub heartbeat_ms: u64,
    pub idle_timeout_ms: u64,
    pub idle_warning_ms: u64,
}

pub const DEFAULT_HOTEL_ID: &str = "marriott-bangalore";

/// The one place every setting's default is written: `/config.json` falls back to these, the
/// server serves them, and the sync engine's configuration starts from them.
impl Default for AppConfig {
    /// Every default; the anon key stays empty (it has none: [`parse`] refuses a config
    /// without one).
    fn default() -> AppConfig {
        AppConfig {
            url: None,
            search_url: None,
            anon_key: String::new(),
            hotel_id: DEFAULT_HOTEL_ID.into(),
            realtime_enabled: true,
            realtime_vsn: Vsn::V2,
            poll_base_ms: 10_000,
            poll_max_ms: 30_000,
            poll_factor: 1.5,
            heartbeat_ms: 25_000,
            idle_timeout_ms: 90_000,
            idle_warning_ms: 20_000,
        }
    }
}

impl AppConfig {
    pub fn with_anon_key(anon_key: impl Into<String>) -> AppConfig {
        AppConfig {
            anon_key: anon_key.into(),
            ..AppConfig::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("config.json is not valid JSON: {0}")]
    Json(String),
    #[error("config.json must be a JSON object")]
    NotObject,
    #[error("config.json has no anon_key: the app cannot talk to the backend without one")]
    MissingAnonKey,
}

/// A parsed config plus the warnings to log for values that fell back to defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub config: AppConfig,
    pub warnings: Vec<String>,
}

pub fn parse(text: &str) -> Result<Parsed, ConfigError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
    let Value::Object(map) = v else {
        return Err(ConfigError::NotObject);
    };
    let anon_key = match map.get("anon_key") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(ConfigError::MissingAnonKey),
    };
    let mut c = AppConfig::with_anon_key(anon_key);
    let mut warnings = Vec::new();
    let mut warn = |key: &str, v: &Value| {
        warnings.push(format!(
            "config.json: invalid {key} = {v}; using the default"
        ));
    };

    macro_rules! take {
        ($key:literal, $field:expr, $conv:expr) => {
            if let Some(v) = map.get($key) {
                if !v.is_null() {
                    match $conv(v) {
                        Some(x) => $field = x,
                        None => warn($key, v),
                    }
                }
            }
        };
    }
    let string = |v: &Value| {
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    let ms = |v: &Value| v.as_u64().filter(|n| *n > 0 && *n <= 24 * 3600 * 1000);
    take!("url", c.url, |v: &Value| string(v)
        .map(|s| Some(s.trim_end_matches('/').to_owned())));
    take!("search_url", c.search_url, |v: &Value| string(v).map(Some));
    take!("hotel_id", c.hotel_id, string);
    take!("realtime_enabled", c.realtime_enabled, Value::as_bool);
    take!("realtime_vsn", c.realtime_vsn, |v: &Value| v
        .as_str()
        .and_then(Vsn::parse));
    take!("poll_base_ms", c.poll_base_ms, ms);
    take!("poll_max_ms", c.poll_max_ms, ms);
    take!("poll_factor", c.poll_factor, |v: &Value| v
        .as_f64()
        .filter(|f| (1.0..=10.0).contains(f)));
    take!("heartbeat_ms", c.heartbeat_ms, ms);
    take!("idle_timeout_ms", c.idle_timeout_ms, ms);
    take!("idle_warning_ms", c.idle_warning_ms, ms);
    if c.poll_max_ms < c.poll_base_ms {
        warnings
            .push("config.json: poll_max_ms < poll_base_ms; using poll_base_ms for both".into());
        c.poll_max_ms = c.poll_base_ms;
    }
    if c.idle_warning_ms >= c.idle_timeout_ms {
        warnings.push(
            "config.json: idle_warning_ms must be shorter than idle_timeout_ms; using half".into(),
        );
        c.idle_warning_ms = c.idle_timeout_ms / 2;
    }
    Ok(Parsed {
        config: c,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_fallbacks() {
        let p = parse(r#"{"anon_key":"k","poll_base_ms":"fast","unknown":1,"heartbeat_ms":1000}"#)
            .unwrap();
        assert_eq!(p.config.poll_base_ms, 10_000);
        assert_eq!(p.config.heartbeat_ms, 1000);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.config.hotel_id, DEFAULT_HOTEL_ID);
        assert_eq!(p.config.realtime_vsn, Vsn::V2);
    }

    #[test]
    fn realtime_vsn_is_one_of_two_versions() {
        let p = parse(r#"{"anon_key":"k","realtime_vsn":"1.0.0"}"#).unwrap();
        assert_eq!(p.config.realtime_vsn, Vsn::V1);
        assert!(p.warnings.is_empty());
        let p = parse(r#"{"anon_key":"k","realtime_vsn":"1.5"}"#).unwrap();
        assert_eq!(p.config.realtime_vsn, Vsn::V2);
        assert_eq!(p.warnings.len(), 1);
        // The served form keeps the version text.
        let served = serde_json::to_value(AppConfig::with_anon_key("k")).unwrap();
        assert_eq!(served["realtime_vsn"], "2.0.0");
    }

    #[test]
    fn the_search_goes_to_url_unless_told_otherwise() {
        let p = parse(r#"{"anon_key":"k","url":"https://x.supabase.co/"}"#).unwrap();
        assert_eq!(p.config.search_url, None);
        let p = parse(r#"{"anon_key":"k","search_url":"/"}"#).unwrap();
        assert_eq!(p.config.search_url.as_deref(), Some("/"));
        let p = parse(r#"{"anon_key":"k","search_url":7}"#).unwrap();
        assert_eq!((p.config.search_url, p.warnings.len()), (None, 1));
    }

    #[test]
    fn fatal_errors() {
        assert_eq!(parse("{}"), Err(ConfigError::MissingAnonKey));
        assert_eq!(parse("[]"), Err(ConfigError::NotObject));
        assert!(matches!(parse("{"), Err(ConfigError::Json(_))));
    }
}
