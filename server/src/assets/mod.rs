//! The built app (`--static-dir`), served the way a static host would: every file precompressed
//! once at start-up (see [`prepare`]) and picked by `Accept-Encoding` through tower-http's
//! `ServeFile`, content-hashed assets (`concierge-<hash>.js`, `…_bg.wasm`, `main-<hash>.css`)
//! cacheable forever, and everything else (`index.html` under every client route,
//! `/config.json`) revalidated with a strong `ETag`, so a warm repeat visit costs only `304`s.

mod prepare;

use std::collections::HashMap;
use std::path::PathBuf;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tower::{Layer, ServiceExt};
use tower_http::services::ServeFile;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

pub use prepare::{Coding, PrepareError};

/// For names that change whenever their bytes do.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// For names that stay while their bytes change: the cache must ask (cheaply, by `ETag`) first.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

type FileService = SetResponseHeader<SetResponseHeader<ServeFile, HeaderValue>, HeaderValue>;

struct Served {
    svc: FileService,
    /// One strong validator per representation: identity, then one per [`Coding`] (the bytes
    /// differ, so the tags must).
    etag: Etags,
}

struct Etags {
    identity: HeaderValue,
    coded: Vec<(&'static str, HeaderValue)>,
}

impl Etags {
    fn new(hash: &str) -> Etags {
        Etags {
            identity: quoted(hash),
            coded: Coding::ALL
                .iter()
                .map(|c| (c.token(), quoted(&format!("{hash}-{}", c.token()))))
                .collect(),
        }
    }

    fn for_encoding(&self, content_encoding: Option<&HeaderValue>) -> &HeaderValue {
        content_encoding
            .and_then(|e| {
                self.coded
                    .iter()
                    .find(|(t, _)| e.as_bytes() == t.as_bytes())
            })
            .map_or(&self.identity, |(_, v)| v)
    }
}

/// `"<hex>"`: hex digits, dashes and letters only, always a valid header value.
fn quoted(tag: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"\""))
}

/// Trunk's output names: `<name>-<16+ hex digits>[_bg].<ext>`. Only the file name counts: a
/// hashed folder (wasm-bindgen's `snippets/<crate>-<hash>/`) names the crate, not the content.
pub fn content_hashed(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit_once('-').is_some_and(|(_, tail)| {
        let hash = tail.split('_').next().unwrap_or(tail);
        hash.len() >= 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The snapshot of the built app being served.
pub struct Site {
    files: HashMap<String, Served>,
    /// Becomes true once every twin is published (tests and benchmarks wait for it).
    compressed: tokio::sync::watch::Receiver<bool>,
}

impl Site {
    /// Snapshots `dist` into `cache` and starts compressing what the cache lacks in the
    /// background; the site serves at once (a file goes out uncompressed until its twin exists).
    pub async fn start(dist: PathBuf, cache: PathBuf) -> Result<Site, PrepareError> {
        let job = tokio::task::spawn_blocking(move || prepare::snapshot(&dist, &cache));
        let (layout, prepared, pending) = job.await.map_err(PrepareError::Task)??;
        let vary = SetResponseHeaderLayer::appending(
            header::VARY,
            HeaderValue::from_static("accept-encoding"),
        );
        let raw: u64 = prepared.iter().map(|p| p.raw_len).sum();
        let mut files = HashMap::with_capacity(prepared.len());
        for p in prepared {
            let policy = if content_hashed(&p.rel) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            let file = ServeFile::new(layout.site.join(&p.rel))
                .precompressed_br()
                .precompressed_gzip();
            let cache_control = SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, policy);
            let svc = vary.layer(cache_control.layer(file));
            let etag = Etags::new(&p.hash);
            files.insert(p.rel, Served { svc, etag });
        }
        tracing::info!(
            files = files.len(),
            raw_bytes = raw,
            to_compress = pending.len(),
            site = %layout.site.display(),
            "serving the app"
        );
        let (done, compressed) = tokio::sync::watch::channel(pending.is_empty());
        if !pending.is_empty() {
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                match prepare::compress(&layout, &pending) {
                    Ok(()) => tracing::info!(
                        ms = started.elapsed().as_millis() as u64,
                        "app compressed (brotli, gzip)"
                    ),
                    // The uncompressed files still serve; only the transfer is larger.
                    Err(e) => tracing::warn!("compressing the app: {e}"),
                }
                done.send_replace(true);
            });
        }
        Ok(Site { files, compressed })
    }

    /// Resolves once every compressed twin is in place (or compressing gave up).
    pub async fn compressed(&self) {
        let mut rx = self.compressed.clone();
        // An error means the task ended (and dropped the sender) without a word: nothing to wait for.
        let _ = rx.wait_for(|done| *done).await;
    }

    /// A file of the app if the path names one (a folder path `/x/` or `/x` names
    /// `x/index.html`, as on any static host), else the root `index.html` (client routes).
    pub async fn serve(&self, req: Request) -> Response {
        let path = req.uri().path().trim_start_matches('/');
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8();
        let served = decoded
            .ok()
            .and_then(|p| {
                let p = p.as_ref();
                match p.strip_suffix('/') {
                    Some(dir) if !dir.is_empty() => self.files.get(&format!("{dir}/index.html")),
                    // `/kiosk` is served by the kiosk's own build in `kiosk/` when there is one.
                    _ => self
                        .files
                        .get(p)
                        .or_else(|| self.files.get(&format!("{p}/index.html"))),
                }
            })
            .or_else(|| self.files.get("index.html"));
        match served {
            Some(s) => revalidated(s, req).await,
            None => (StatusCode::NOT_FOUND, "the app has no index.html").into_response(),
        }
    }
}

/// Serves the file, answering `304` when the client already holds this representation.
async fn revalidated(served: &Served, mut req: Request) -> Response {
    let if_none_match = req.headers_mut().remove(header::IF_NONE_MATCH);
    if if_none_match.is_some() {
        // RFC 9110 §13.1.3: with If-None-Match present, If-Modified-Since is ignored.
        req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    }
    let Ok(res) = served.svc.clone().oneshot(req).await;
    let mut res = res.map(Body::new);
    if res.status() != StatusCode::OK {
        return res;
    }
    let etag = served
        .etag
        .for_encoding(res.headers().get(header::CONTENT_ENCODING))
        .clone();
    if if_none_match.is_some_and(|v| none_match_hits(&v, &etag)) {
        return not_modified(etag, res.headers());
    }
    res.headers_mut().insert(header::ETAG, etag);
    res
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/` is ignored.
fn none_match_hits(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let (Ok(list), Ok(want)) = (if_none_match.to_str(), etag.to_str()) else {
        return false;
    };
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == want)
}

/// A `304` carrying what a `200` would have said about caching (RFC 9110 §15.4.5).
fn not_modified(etag: HeaderValue, full: &HeaderMap) -> Response {
    let mut res = StatusCode::NOT_MODIFIED.into_response();
    let h = res.headers_mut();
    for name in [header::CACHE_CONTROL, header::VARY] {
        for v in full.get_all(&name) {
            h.append(name.clone(), v.clone());
        }
    }
    h.insert(header::ETAG, etag);
    res
}

/// A small generated document (`/config.json`): its bytes and validator computed once.
#[derive(Clone, Debug)]
pub struct Document {
    body: Bytes,
    content_type: HeaderValue,
    etag: HeaderValue,
}

impl Document {
    pub fn json(value: &serde_json::Value) -> Document {
        let body = Bytes::from(value.to_string());
        Document::new(body, HeaderValue::from_static("application/json"))
    }

    fn new(body: Bytes, content_type: HeaderValue) -> Document {
        use sha2::Digest;
        let hash: String = sha2::Sha256::digest(&body)[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Document {
            body,
            content_type,
            etag: quoted(&hash),
        }
    }

    pub fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| none_match_hits(v, &self.etag));
        let cache: [(HeaderName, HeaderValue); 2] = [
            (header::CACHE_CONTROL, REVALIDATE),
            (header::ETAG, self.etag.clone()),
        ];
        if fresh {
            return (StatusCode::NOT_MODIFIED, cache).into_response();
        }
        let mut res = (cache, self.body.clone()).into_response();
        res.headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type.clone());
        res
    }
}
