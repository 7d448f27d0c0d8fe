//! Which HS256 secret the server signs and verifies tokens with.
//!
//! The development secret is in the source, so anyone who has read it can forge a
//! `service_role` token. It is therefore only acceptable where nobody else can connect: a
//! loopback address (as `supabase start` does). Resolution, shared by `serve`, `keys` and
//! `add-staff` so they always agree:
//!
//! 1. a configured secret (`--jwt-secret` / `CONCIERGE_JWT_SECRET`, when not empty);
//! 2. else the secret stored beside the database (`<db>.jwt-secret`), when that file exists;
//! 3. else, on a loopback address, the development secret (with a warning);
//! 4. else a fresh random secret, stored in `<db>.jwt-secret` (mode 0600) for later starts.
//!
//! Whatever the source, the development secret is refused off loopback.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::jwt::DEV_JWT_SECRET;

/// Random bytes in a generated secret (hex-encoded in the file: 64 characters).
const GENERATED_BYTES: usize = 32;
/// A stored secret shorter than this is not one we wrote; refuse it rather than sign with it.
const MIN_STORED_LEN: usize = 32;

/// Where the secret in use came from (for the start-up log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Configured,
    Stored(PathBuf),
    Generated(PathBuf),
    Development,
}

#[derive(Debug, Clone)]
pub struct Resolved {
    pub secret: String,
    pub source: Source,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "refusing the public development JWT secret on the non-loopback address {addr}: anyone \
         could forge a service_role token with it. Unset --jwt-secret / CONCIERGE_JWT_SECRET to \
         use a random secret kept beside the database, or configure a secret of your own"
    )]
    DevelopmentOffLoopback { addr: SocketAddr },
    #[error("JWT secret file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "JWT secret file {} is readable by group or others (mode {mode:03o}); \
         run `chmod 600 {}` (or delete it to generate a new secret)",
        path.display(), path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "JWT secret file {} holds no usable secret (fewer than {MIN_STORED_LEN} characters); \
         delete it to generate a new one",
        path.display()
    )]
    TooShort { path: PathBuf },
    #[error("cannot generate a JWT secret: no OS random numbers ({0})")]
    Rng(String),
}

/// 127.0.0.0/8 and ::1 (also IPv4-mapped loopback): only this machine can connect.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().to_canonical().is_loopback()
}

/// `<db>.jwt-secret`, beside the database (as SQLite keeps `-wal` there).
pub fn secret_file(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".jwt-secret");
    name.into()
}

/// Resolves the secret for a server listening on `addr` with database `db`; may create the
/// secret file (case 4 of the module docs).
pub fn resolve(
    configured: Option<&str>,
    addr: SocketAddr,
    db: &Path,
) -> Result<Resolved, SecretError> {
    let resolved = match configured.filter(|s| !s.is_empty()) {
        Some(s) => Resolved {
            secret: s.to_owned(),
            source: Source::Configured,
        },
        None => {
            let path = secret_file(db);
            match read_stored(&path)? {
                Some(secret) => Resolved {
                    secret,
                    source: Source::Stored(path),
                },
                None if is_loopback(&addr) => Resolved {
                    secret: DEV_JWT_SECRET.to_owned(),
                    source: Source::Development,
                },
                None => create_stored(&path)?,
            }
        }
    };
    if resolved.secret == DEV_JWT_SECRET && !is_loopback(&addr) {
        return Err(SecretError::DevelopmentOffLoopback { addr });
    }
    Ok(resolved)
}

/// The stored secret, or `None` when there is no file.
fn read_stored(path: &Path) -> Result<Option<String>, SecretError> {
    let io = |source| SecretError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    check_private(path, &file)?;
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(io)?;
    let secret = text.trim();
    if secret.len() < MIN_STORED_LEN {
        return Err(SecretError::TooShort {
            path: path.to_owned(),
        });
    }
    Ok(Some(secret.to_owned()))
}

/// A secret others can read is as good as public: refuse it instead of trusting it.
#[cfg(unix)]
fn check_private(path: &Path, file: &std::fs::File) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|source| SecretError::Io {
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _file: &std::fs::File) -> Result<(), SecretError> {
    Ok(())
}

/// Generates a secret and writes it to a new file only the owner can read. `create_new`, so
/// two processes starting at once never overwrite each other: the loser reads the winner's.
fn create_stored(path: &Path) -> Result<Resolved, SecretError> {
    let io = |source| SecretError::Io {
        path: path.to_owned(),
        source,
    };
    let mut bytes = [0u8; GENERATED_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Rng(e.to_string()))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return match read_stored(path)? {
                Some(secret) => Ok(Resolved {
                    secret,
                    source: Source::Stored(path.to_owned()),
                }),
                None => Err(io(e)),
            };
        }
        Err(e) => return Err(io(e)),
    };
    file.write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)?;
    Ok(Resolved {
        secret,
        source: Source::Generated(path.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_is_127_slash_8_and_ipv6_one() {
        for a in [
            "127.0.0.1:1",
            "127.9.8.7:1",
            "[::1]:1",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert!(is_loopback(&addr(a)), "{a}");
        }
        for a in ["0.0.0.0:1", "[::]:1", "10.0.0.1:1", "192.168.1.2:1"] {
            assert!(!is_loopback(&addr(a)), "{a}");
        }
    }

    #[test]
    fn resolution_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let lo = addr("127.0.0.1:0");
        let open = addr("0.0.0.0:0");
        // Loopback, nothing configured or stored: the development default, and no file.
        let r = resolve(None, lo, &db).unwrap();
        assert_eq!(
            (r.secret.as_str(), &r.source),
            (DEV_JWT_SECRET, &Source::Development)
        );
        // An empty configured value counts as unset (an empty env var in a compose file).
        assert_eq!(
            resolve(Some(""), lo, &db).unwrap().source,
            Source::Development
        );
        assert!(!secret_file(&db).exists());
        // Off loopback: generated once, then stored, and then also used on loopback.
        let made = resolve(None, open, &db).unwrap();
        assert_eq!(made.source, Source::Generated(secret_file(&db)));
        assert_eq!(made.secret.len(), 2 * GENERATED_BYTES);
        for a in [open, lo] {
            let again = resolve(None, a, &db).unwrap();
            assert_eq!(again.source, Source::Stored(secret_file(&db)));
            assert_eq!(again.secret, made.secret);
        }
        // A configured secret wins over the stored one; the development one never off loopback.
        assert_eq!(resolve(Some("mine"), open, &db).unwrap().secret, "mine");
        assert!(matches!(
            resolve(Some(DEV_JWT_SECRET), open, &db),
            Err(SecretError::DevelopmentOffLoopback { .. })
        ));
    }

    #[test]
    fn a_truncated_stored_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        o.open(secret_file(&db))
            .unwrap()
            .write_all(b"short\n")
            .unwrap();
        assert!(matches!(
            resolve(None, addr("0.0.0.0:0"), &db),
            Err(SecretError::TooShort { .. })
        ));
    }
}
