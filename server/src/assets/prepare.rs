//! Start-up work for the static app: a snapshot of the built app in a cache directory beside the
//! database, each compressible file next to its `.br` (quality 11) and `.gz` (level 9) twins, so
//! that a request only ever picks a file. Compressed bytes are kept by content hash in
//! `blobs/`, so a restart over the same build compresses nothing and a rebuild only the files
//! that changed. Brotli 11 on the wasm takes seconds, so missing twins are made after the server
//! listens: until one is published its file goes out uncompressed, never wrong.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("static app file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the snapshot task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PrepareError + '_ {
    move |source| PrepareError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The content codings we precompute, in the order `ServeFile` is told about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Br,
    Gzip,
}

impl Coding {
    pub const ALL: [Coding; 2] = [Coding::Br, Coding::Gzip];

    /// The file suffix tower-http's precompressed lookup expects.
    fn suffix(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gz",
        }
    }

    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }

    fn compress(self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Coding::Br => {
                let params = brotli::enc::BrotliEncoderParams {
                    quality: 11,
                    lgwin: 22,
                    size_hint: bytes.len(),
                    ..Default::default()
                };
                let mut out = Vec::with_capacity(bytes.len() / 3);
                brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
                Ok(out)
            }
            Coding::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(bytes.len() / 3),
                    flate2::Compression::best(),
                );
                enc.write_all(bytes)?;
                enc.finish()
            }
        }
    }

    /// Is `z` exactly `raw` compressed with this coding? Decoding is cheap; a twin the build made
    /// is only trusted once it has been checked (the server never serves bytes it has not seen
    /// decode to the file it stands for).
    fn is_twin_of(self, z: &[u8], raw: &[u8]) -> bool {
        let mut out = Vec::with_capacity(raw.len());
        let decoded = match self {
            Coding::Br => {
                std::io::Read::read_to_end(&mut brotli::Decompressor::new(z, 4096), &mut out)
            }
            Coding::Gzip => {
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(z), &mut out)
            }
        };
        decoded.is_ok() && out == raw
    }
}

/// One file of the snapshot, by its path relative to the app root (`/`-separated).
#[derive(Clone, Debug)]
pub struct Prepared {
    pub rel: String,
    /// Hex SHA-256 prefix of the raw bytes: the strong validator's core.
    pub hash: String,
    pub raw_len: u64,
}

/// A twin not in the blob cache yet: compressed in the background, after the server listens.
#[derive(Debug)]
pub struct Pending {
    rel: String,
    hash: String,
    coding: Coding,
}

/// The snapshot's layout: `site/` is served, `blobs/` keeps compressed bytes by content hash.
#[derive(Clone, Debug)]
pub struct Layout {
    pub site: PathBuf,
    blobs: PathBuf,
}

impl Layout {
    fn blob(&self, hash: &str, coding: Coding) -> PathBuf {
        self.blobs.join(format!("{hash}.{}", coding.suffix()))
    }

    fn twin(&self, rel: &str, coding: Coding) -> PathBuf {
        self.site.join(format!("{rel}.{}", coding.suffix()))
    }

    /// Publishes a cached blob as `site/<rel>.<suffix>` if it is smaller than the raw file.
    /// Copied under a temporary name, then renamed: a request sees no twin or a whole one.
    fn publish(
        &self,
        rel: &str,
        hash: &str,
        coding: Coding,
        raw_len: u64,
    ) -> Result<u64, PrepareError> {
        let blob = self.blob(hash, coding);
        let len = blob.metadata().map_err(io_err(&blob))?.len();
        if len < raw_len {
            let twin = self.twin(rel, coding);
            let tmp = twin.with_extension(format!("{}.tmp", coding.suffix()));
            std::fs::copy(&blob, &tmp).map_err(io_err(&tmp))?;
            std::fs::rename(&tmp, &twin).map_err(io_err(&twin))?;
        }
        Ok(len.min(raw_len))
    }
}

/// Types worth compressing: text and wasm. Images and fonts are compressed already.
fn compressible(rel: &str) -> bool {
    let ext = rel.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    matches!(
        ext.as_deref(),
        Some(
            "html"
                | "htm"
                | "js"
                | "mjs"
                | "css"
                | "wasm"
                | "json"
                | "map"
                | "svg"
                | "txt"
                | "xml"
                | "ico"
                | "webmanifest"
        )
    )
}

/// Copies `dist` into `cache/site` (replacing what was there) with the twins already in the
/// blob cache; returns the twins still to compute.
pub fn snapshot(
    dist: &Path,
    cache: &Path,
) -> Result<(Layout, Vec<Prepared>, Vec<Pending>), PrepareError> {
    let layout = Layout {
        site: cache.join("site"),
        blobs: cache.join("blobs"),
    };
    if layout.site.exists() {
        std::fs::remove_dir_all(&layout.site).map_err(io_err(&layout.site))?;
    }
    std::fs::create_dir_all(&layout.site).map_err(io_err(&layout.site))?;
    std::fs::create_dir_all(&layout.blobs).map_err(io_err(&layout.blobs))?;

    let mut files = BTreeMap::new();
    walk(dist, "", &mut files)?;
    let mut keep = HashSet::new();
    let mut prepared = Vec::with_capacity(files.len());
    let mut pending = Vec::new();
    for (rel, src) in &files {
        // A dist compressed at build time: we make our own twins from the original.
        if let Some((base, "br" | "gz")) = rel.rsplit_once('.')
            && files.contains_key(base)
        {
            continue;
        }
        let bytes = std::fs::read(src).map_err(io_err(src))?;
        let hash = hex_digest(&bytes);
        let dst = layout.site.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        std::fs::write(&dst, &bytes).map_err(io_err(&dst))?;
        if compressible(rel) {
            for coding in Coding::ALL {
                let blob = layout.blob(&hash, coding);
                keep.insert(blob.clone());
                if !blob.exists() {
                    adopt_build_twin(&files, rel, coding, &bytes, &blob)?;
                }
                if blob.exists() {
                    layout.publish(rel, &hash, coding, bytes.len() as u64)?;
                } else {
                    pending.push(Pending {
                        rel: rel.clone(),
                        hash: hash.clone(),
                        coding,
                    });
                }
            }
        }
        prepared.push(Prepared {
            rel: rel.clone(),
            hash,
            raw_len: bytes.len() as u64,
        });
    }
    prune(&layout.blobs, &keep)?;
    Ok((layout, prepared, pending))
}

/// Takes the build's own twin of `rel` (e.g. `scripts/lib.sh` compresses the app once after
/// building it) into the blob cache if it really is `raw` compressed, so that a fresh cache does
/// not spend seconds of brotli on every start (the end-to-end tests start many servers).
fn adopt_build_twin(
    files: &BTreeMap<String, PathBuf>,
    rel: &str,
    coding: Coding,
    raw: &[u8],
    blob: &Path,
) -> Result<(), PrepareError> {
    let Some(src) = files.get(&format!("{rel}.{}", coding.suffix())) else {
        return Ok(());
    };
    let z = std::fs::read(src).map_err(io_err(src))?;
    if coding.is_twin_of(&z, raw) {
        let tmp = blob.with_extension(format!("{}.tmp", coding.suffix()));
        std::fs::write(&tmp, &z).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, blob).map_err(io_err(blob))?;
    } else {
        tracing::warn!(file = %src.display(), "a precompressed file does not match its original; compressing anew");
    }
    Ok(())
}

/// Compresses what [`snapshot`] left pending, caching each blob and publishing its twin.
pub fn compress(layout: &Layout, pending: &[Pending]) -> Result<(), PrepareError> {
    for p in pending {
        let src = layout.site.join(&p.rel);
        let bytes = std::fs::read(&src).map_err(io_err(&src))?;
        let z = p.coding.compress(&bytes).map_err(io_err(&src))?;
        // Written whole, then renamed: a crash never leaves a truncated blob in the cache.
        let blob = layout.blob(&p.hash, p.coding);
        let tmp = blob.with_extension(format!("{}.tmp", p.coding.suffix()));
        std::fs::write(&tmp, &z).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &blob).map_err(io_err(&blob))?;
        layout.publish(&p.rel, &p.hash, p.coding, bytes.len() as u64)?;
    }
    Ok(())
}

/// Hex of the first 16 bytes of SHA-256: collision-free enough for a validator or a cache key.
pub fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every regular file under `dir` (following links), keyed by its `/`-separated relative path.
fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) -> Result<(), PrepareError> {
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            tracing::warn!(path = %path.display(), "skipping a static file whose name is not UTF-8");
            continue;
        };
        let rel = format!("{prefix}{name}");
        let meta = std::fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() {
            walk(&path, &format!("{rel}/"), out)?;
        } else if meta.is_file() {
            out.insert(rel, path);
        }
    }
    Ok(())
}

/// Drops blobs of builds no longer served (and stray `.tmp`s), so the cache holds one build.
fn prune(blobs: &Path, keep: &HashSet<PathBuf>) -> Result<(), PrepareError> {
    for entry in std::fs::read_dir(blobs).map_err(io_err(blobs))? {
        let path = entry.map_err(io_err(blobs))?.path();
        if !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(io_err(&path))?;
        }
    }
    Ok(())
}
