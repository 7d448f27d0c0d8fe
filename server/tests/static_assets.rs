//! The built app as a static host would serve it: precompressed twins chosen by
//! `Accept-Encoding`, immutable caching for content-hashed names, `ETag` revalidation (`304`)
//! for `index.html` (under every client route) and `/config.json`. Exact headers and bytes.

use std::io::Read;
use std::path::Path;

use clap::Parser;
use concierge_server::assets::content_hashed;
use concierge_server::cli::Cli;
use reqwest::header::{self, HeaderMap};

const JS: &str = "concierge-0123456789abcdef.js";
const WASM: &str = "concierge-0123456789abcdef_bg.wasm";
const CSS: &str = "main-fedcba9876543210.css";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const CLIENT_ROUTES: [&str; 7] = [
    "/",
    "/index.html",
    "/kiosk",
    "/session",
    "/staff",
    "/kiosk/deep/link",
    "/not-a-file.js",
];

/// Compressible, distinct contents for each file of a fake Trunk build.
fn write_dist(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let files = vec![
        (
            "index.html",
            format!(
                "<!doctype html><html><head><link rel=stylesheet href=/{CSS}></head><body>{}</body></html>",
                "<p>the kiosk</p>".repeat(40)
            )
            .into_bytes(),
        ),
        (JS, "export function init() { return 42; }\n".repeat(50).into_bytes()),
        (
            WASM,
            (0..4000u32).flat_map(|i| [0, 97, 115, 109, (i % 7) as u8]).collect(),
        ),
        (CSS, ".card { color: red; }\n".repeat(60).into_bytes()),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    files
}

struct Running {
    base: String,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts the server over `dist` with its database in `db_dir`; `wait` = until every twin exists.
async fn start(dist: &Path, db_dir: &Path, wait: bool) -> Running {
    let cli = Cli::try_parse_from([
        "concierge-server",
        "--addr",
        "127.0.0.1:0",
        "--db",
        db_dir.join("t.db").to_str().unwrap(),
        "--static-dir",
        dist.to_str().unwrap(),
        "--jwt-secret",
        "static-assets-test-secret-0123456789abcdef",
        "--seed-demo",
    ])
    .unwrap();
    let server = concierge_server::build(&cli.serve).await.unwrap();
    if wait {
        server.state.site.clone().unwrap().compressed().await;
    }
    let addr = server.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    Running {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        _stop: tx,
    }
}

impl Running {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, Vec<u8>) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let (status, h) = (r.status().as_u16(), r.headers().clone());
        (status, h, r.bytes().await.unwrap().to_vec())
    }
}

fn one(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).map(|v| v.to_str().unwrap())
}

fn varies_on_encoding(h: &HeaderMap) -> bool {
    h.get_all(header::VARY).iter().any(|v| {
        v.to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    })
}

fn unbrotli(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(z, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn ungzip(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(z)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn every_file_in_brotli_gzip_or_identity_by_accept_encoding() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = write_dist(dist.path());
    let s = start(dist.path(), db.path(), true).await;
    for (name, raw) in &files {
        let path = format!("/{name}");
        let (st, h, body) = s.get(&path, &[("accept-encoding", "br")]).await;
        assert_eq!(st, 200, "{name}");
        assert_eq!(one(&h, header::CONTENT_ENCODING), Some("br"), "{name}");
        assert!(body.len() < raw.len(), "{name}: br is smaller");
        assert_eq!(&unbrotli(&body), raw, "{name}");
        assert!(varies_on_encoding(&h), "{name}");

        let (st, h, body) = s.get(&path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(st, 200, "{name}");
        assert_eq!(one(&h, header::CONTENT_ENCODING), Some("gzip"), "{name}");
        assert_eq!(&ungzip(&body), raw, "{name}");
        assert!(varies_on_encoding(&h), "{name}");

        // A browser offers both: brotli is the smaller and wins.
        let (_, h, _) = s
            .get(&path, &[("accept-encoding", "gzip, deflate, br, zstd")])
            .await;
        assert_eq!(one(&h, header::CONTENT_ENCODING), Some("br"), "{name}");

        let (st, h, body) = s.get(&path, &[]).await;
        assert_eq!(st, 200, "{name}");
        assert_eq!(one(&h, header::CONTENT_ENCODING), None, "{name}");
        assert_eq!(&body, raw, "{name}");
        assert!(varies_on_encoding(&h), "{name}");
    }
    let (_, h, _) = s.get(&format!("/{WASM}"), &[]).await;
    assert_eq!(one(&h, header::CONTENT_TYPE), Some("application/wasm"));
    // Client routes get index.html, compressed like the file itself.
    let index = &files[0].1;
    for route in CLIENT_ROUTES {
        let (st, h, body) = s.get(route, &[("accept-encoding", "br")]).await;
        assert_eq!(st, 200, "{route}");
        assert_eq!(one(&h, header::CONTENT_ENCODING), Some("br"), "{route}");
        assert_eq!(&unbrotli(&body), index, "{route}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_rest_revalidates_with_an_etag() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_dist(dist.path());
    let s = start(dist.path(), db.path(), true).await;
    for name in [JS, WASM, CSS] {
        for enc in ["br", "gzip", "identity"] {
            let (st, h, _) = s
                .get(&format!("/{name}"), &[("accept-encoding", enc)])
                .await;
            assert_eq!(st, 200);
            assert_eq!(
                one(&h, header::CACHE_CONTROL),
                Some(IMMUTABLE),
                "{name} {enc}"
            );
        }
    }
    let mut revalidated: Vec<&str> = CLIENT_ROUTES.to_vec();
    revalidated.push("/config.json");
    for path in revalidated {
        let mut tags = Vec::new();
        for enc in ["br", "gzip", "identity"] {
            let (st, h, body) = s.get(path, &[("accept-encoding", enc)]).await;
            assert_eq!(st, 200, "{path} {enc}");
            assert_eq!(one(&h, header::CACHE_CONTROL), Some("no-cache"), "{path}");
            let tag = one(&h, header::ETAG).expect("an ETag").to_owned();
            assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");
            tags.push((enc, tag.clone(), body.len()));

            // Revalidation: the same representation → 304, no body, same validator.
            let (st, h304, body) = s
                .get(path, &[("accept-encoding", enc), ("if-none-match", &tag)])
                .await;
            assert_eq!(st, 304, "{path} {enc}");
            assert!(body.is_empty(), "{path} {enc}");
            assert_eq!(one(&h304, header::ETAG), Some(tag.as_str()));
            assert_eq!(one(&h304, header::CACHE_CONTROL), Some("no-cache"));
            // Weak comparison, and a list.
            let list = format!("\"other\", W/{tag}");
            let (st, _, _) = s
                .get(path, &[("accept-encoding", enc), ("if-none-match", &list)])
                .await;
            assert_eq!(st, 304, "{path} {enc} {list}");
            // A changed file (another tag) is sent again in full.
            let (st, h, body) = s
                .get(
                    path,
                    &[("accept-encoding", enc), ("if-none-match", "\"stale\"")],
                )
                .await;
            assert_eq!(st, 200, "{path} {enc}");
            assert!(!body.is_empty());
            assert_eq!(one(&h, header::ETAG), Some(tag.as_str()));
        }
        if path != "/config.json" {
            // Each encoding is its own representation with its own strong validator.
            let distinct: std::collections::HashSet<_> = tags.iter().map(|t| &t.1).collect();
            assert_eq!(distinct.len(), 3, "{path}: {tags:?}");
        }
    }
    let (_, h, body) = s.get("/config.json", &[]).await;
    assert_eq!(one(&h, header::CONTENT_TYPE), Some("application/json"));
    let c: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert!(c["anon_key"].is_string());
}

#[tokio::test]
async fn a_restart_over_the_same_build_reuses_the_compressed_twins() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = write_dist(dist.path());
    drop(start(dist.path(), db.path(), true).await);
    // Not waiting this time: the cached twins are in place before the server listens.
    let s = start(dist.path(), db.path(), false).await;
    let (_, h, body) = s
        .get(&format!("/{WASM}"), &[("accept-encoding", "br")])
        .await;
    assert_eq!(one(&h, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(unbrotli(&body), files[2].1);
    // A new build: the changed file is served new (its twins follow), the old blobs go.
    std::fs::write(dist.path().join(JS), b"export const changed = true;").unwrap();
    drop(s);
    let s = start(dist.path(), db.path(), true).await;
    let (_, _, body) = s.get(&format!("/{JS}"), &[]).await;
    assert_eq!(body, b"export const changed = true;");
    let blobs = std::fs::read_dir(db.path().join("t.db-assets/blobs"))
        .unwrap()
        .count();
    assert_eq!(
        blobs,
        2 * files.len(),
        "one br and one gz per file of the build"
    );
}

#[tokio::test]
async fn twins_made_at_build_time_are_used_only_if_they_decode_to_the_file() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files = write_dist(dist.path());
    let wasm = &files[2].1;
    // The build's brotli twin of the wasm, made with a marker setting (quality 1) so that the
    // served bytes tell whose twin they are; a gzip twin that belongs to another file.
    let mut build_br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 1,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &wasm[..], &mut build_br, &params).unwrap();
    std::fs::write(dist.path().join(format!("{WASM}.br")), &build_br).unwrap();
    let mut wrong = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut wrong, b"not the wasm").unwrap();
    std::fs::write(
        dist.path().join(format!("{WASM}.gz")),
        wrong.finish().unwrap(),
    )
    .unwrap();
    // Not waiting: the build's brotli twin is adopted before the server listens.
    let s = start(dist.path(), db.path(), false).await;
    let (_, h, body) = s
        .get(&format!("/{WASM}"), &[("accept-encoding", "br")])
        .await;
    assert_eq!(one(&h, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(body, build_br, "the build's own twin");
    drop(s);
    // The wrong gzip twin is never served: it is made anew from the wasm. (A database folder of
    // its own: the first server's background compression may still be writing to its cache.)
    let db2 = tempfile::tempdir().unwrap();
    let s = start(dist.path(), db2.path(), true).await;
    let (_, h, body) = s
        .get(&format!("/{WASM}"), &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(one(&h, header::CONTENT_ENCODING), Some("gzip"));
    assert_eq!(&ungzip(&body), wasm);
}

#[tokio::test]
async fn a_folder_path_serves_its_own_index() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_dist(dist.path());
    std::fs::create_dir(dist.path().join("peer")).unwrap();
    std::fs::write(dist.path().join("peer/index.html"), b"<p>another app</p>").unwrap();
    let s = start(dist.path(), db.path(), true).await;
    let (status, _, body) = s.get("/peer/", &[]).await;
    assert_eq!((status, body.as_slice()), (200, &b"<p>another app</p>"[..]));
    // Without the slash too: `/kiosk` is the kiosk's own build in `kiosk/` when it exists.
    let (status, h, body) = s.get("/peer", &[]).await;
    assert_eq!((status, body.as_slice()), (200, &b"<p>another app</p>"[..]));
    assert_eq!(one(&h, header::CACHE_CONTROL), Some("no-cache"));
    // Anything else under it is still a client route of the root app.
    let (_, _, body) = s.get("/peer/unknown", &[]).await;
    assert!(
        body.starts_with(b"<!doctype html>"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn json_apis_are_not_touched() {
    let (dist, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_dist(dist.path());
    let s = start(dist.path(), db.path(), true).await;
    let anon =
        concierge_server::jwt::Keys::new("static-assets-test-secret-0123456789abcdef").anon_key();
    let (st, h, body) = s
        .get(
            "/rest/v1/events?select=id&limit=2",
            &[("apikey", &anon), ("accept-encoding", "br, gzip")],
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(one(&h, header::CONTENT_ENCODING), None);
    assert_eq!(one(&h, header::ETAG), None);
    let rows: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(2));
    let (st, _, body) = s
        .get("/rest/v2/nothing", &[("accept-encoding", "br")])
        .await;
    assert_eq!(st, 404);
    assert!(body.starts_with(b"{"));
}

#[test]
fn content_hashed_names_are_trunks() {
    for hashed in [
        "concierge-43e60506324f2314.js",
        "concierge-43e60506324f2314_bg.wasm",
        "kiosk-c2bdd4f91e699eb5.css",
        "assets/logo-0123456789abcdef.svg",
    ] {
        assert!(content_hashed(hashed), "{hashed}");
    }
    for plain in [
        "index.html",
        "favicon.ico",
        "snippets/concierge-43e60506324f2314/inline0.js",
        "my-app.js",
        "deadbeef-cafe.js",
    ] {
        assert!(!content_hashed(plain), "{plain}");
    }
}
