//! The JWT secret (issue 14, High #1): the public development secret is accepted on loopback
//! only; off loopback the server generates a random secret beside the database, keeps it private
//! and reuses it, and `keys` prints the keys for it. These run the real binary, as an operator
//! would.
mod common;

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use concierge_server::accounts::DEMO_USERS;
use concierge_server::jwt::{DEV_JWT_SECRET, Keys};
use concierge_server::secret::secret_file;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_concierge-server");

/// The binary with no secret-related configuration inherited from the caller's environment.
fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("CONCIERGE_JWT_SECRET")
        .env_remove("CONCIERGE_ADDR")
        .env_remove("CONCIERGE_DB")
        .env_remove("CONCIERGE_SEED_DEMO")
        .env("RUST_LOG", "concierge_server=info")
        .stdin(Stdio::null());
    c
}

struct Running {
    child: Child,
    port: u16,
    stderr: Arc<Mutex<String>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
    fn ws_url(&self, key: &str) -> String {
        format!(
            "ws://127.0.0.1:{}/realtime/v1/websocket?apikey={key}&vsn=1.0.0",
            self.port
        )
    }
    fn logs(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server and waits for its "listening on" line.
fn serve(addr: &str, db: &Path, extra: &[&str]) -> Running {
    let db = db.display().to_string();
    let mut args = vec!["--addr", addr, "--db", &db];
    args.extend_from_slice(extra);
    let mut child = command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn concierge-server");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read stdout");
    let Some(port) = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
    else {
        let _ = child.wait();
        std::thread::sleep(std::time::Duration::from_millis(100));
        panic!(
            "server did not start: stdout {line:?}, stderr {}",
            stderr.lock().unwrap()
        );
    };
    Running {
        child,
        port,
        stderr,
    }
}

/// `concierge-server keys` with these arguments: (anon, service_role).
fn keys(args: &[&str]) -> (String, String) {
    let out = command(&[&["keys"], args].concat())
        .output()
        .expect("run keys");
    assert!(out.status.success(), "keys failed: {out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("keys json");
    (
        v["anon_key"].as_str().unwrap().to_owned(),
        v["service_role_key"].as_str().unwrap().to_owned(),
    )
}

async fn rest_status(r: &Running, key: &str) -> u16 {
    reqwest::Client::new()
        .get(r.url("/rest/v1/sessions?select=id"))
        .header("apikey", key)
        .header("Authorization", format!("Bearer {key}"))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

/// The HTTP status of the realtime upgrade (101 when the socket opened).
async fn realtime_status(r: &Running, key: &str) -> u16 {
    match tokio_tungstenite::connect_async(r.ws_url(key)).await {
        Ok((_, resp)) => resp.status().as_u16(),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("realtime connect: {e}"),
    }
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("c.db")
}

#[tokio::test]
async fn off_loopback_a_private_random_secret_is_generated_kept_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let forged = Keys::new(DEV_JWT_SECRET).service_role_key();

    let server = serve("0.0.0.0:0", &db, &[]);
    // A service_role token signed with the public development secret is worthless here.
    assert_eq!(rest_status(&server, &forged).await, 401);
    assert_eq!(realtime_status(&server, &forged).await, 401);

    let path = secret_file(&db);
    let meta = std::fs::metadata(&path).expect("secret file beside the database");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let stored = std::fs::read_to_string(&path).unwrap();
    assert!(
        stored.trim().len() >= 64,
        "32 random bytes, hex: {stored:?}"
    );
    assert_ne!(stored.trim(), DEV_JWT_SECRET);
    assert!(server.logs().contains("generated a random JWT secret"));

    // `keys --db` prints keys for the stored secret (its --addr is the loopback default).
    let db_arg = db.display().to_string();
    let (anon, service) = keys(&["--db", &db_arg]);
    assert_eq!(rest_status(&server, &service).await, 200);
    assert_eq!(realtime_status(&server, &anon).await, 101);
    drop(server);

    // A restart reuses the same secret: the keys printed before still work.
    let server = serve("0.0.0.0:0", &db, &[]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), stored);
    assert_eq!(rest_status(&server, &service).await, 200);
    assert_eq!(rest_status(&server, &forged).await, 401);
    assert!(server.logs().contains("using the stored JWT secret"));
    // Same keys off loopback too.
    assert_eq!(
        keys(&["--db", &db_arg, "--addr", "0.0.0.0:8080"]).1,
        service
    );
}

#[test]
fn the_development_secret_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir).display().to_string();
    let check = |out: std::process::Output| {
        assert!(!out.status.success(), "must not start: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("refusing the public development JWT secret on the non-loopback address"),
            "{err}"
        );
    };
    // As a flag, from the environment, and for `keys`.
    check(
        command(&[
            "--addr",
            "0.0.0.0:0",
            "--db",
            &db,
            "--jwt-secret",
            DEV_JWT_SECRET,
        ])
        .output()
        .unwrap(),
    );
    check(
        command(&["--addr", "0.0.0.0:0", "--db", &db])
            .env("CONCIERGE_JWT_SECRET", DEV_JWT_SECRET)
            .output()
            .unwrap(),
    );
    check(
        command(&[
            "keys",
            "--addr",
            "0.0.0.0:8080",
            "--jwt-secret",
            DEV_JWT_SECRET,
        ])
        .output()
        .unwrap(),
    );
    assert!(!secret_file(Path::new(&db)).exists());
}

#[test]
fn a_secret_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let path = secret_file(&db);
    std::fs::write(&path, "0123456789abcdef0123456789abcdef0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let db_arg = db.display().to_string();
    for args in [
        vec!["--addr", "0.0.0.0:0", "--db", &db_arg],
        vec!["keys", "--db", &db_arg],
    ] {
        let out = command(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is readable by group or others (mode 644)") && err.contains("chmod 600"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn on_loopback_the_development_default_still_works_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = serve("127.0.0.1:0", &db, &[]);
    let dev = Keys::new(DEV_JWT_SECRET);
    assert_eq!(rest_status(&server, &dev.service_role_key()).await, 200);
    assert_eq!(realtime_status(&server, &dev.anon_key()).await, 101);
    assert!(
        server
            .logs()
            .contains("using the public DEVELOPMENT JWT secret"),
        "{}",
        server.logs()
    );
    assert!(!secret_file(&db).exists(), "loopback writes no secret file");
    // What scripts/run, the e2e harness, conformance and bench do: `keys` with no arguments.
    let out = command(&["keys"]).current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["service_role_key"], dev.service_role_key());
    assert_eq!(v["anon_key"], dev.anon_key());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DEVELOPMENT secret"));
}

#[tokio::test]
async fn a_configured_secret_wins_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_in(&dir);
    let server = serve("0.0.0.0:0", &db, &["--jwt-secret", common::SECRET]);
    let own = Keys::new(common::SECRET);
    assert_eq!(rest_status(&server, &own.service_role_key()).await, 200);
    assert!(!secret_file(&db).exists(), "nothing generated");
    assert_eq!(
        keys(&["--jwt-secret", common::SECRET]).1,
        own.service_role_key()
    );
}

async fn demo_sign_in(s: &common::TestServer) -> u16 {
    let (email, password, ..) = DEMO_USERS[0];
    reqwest::Client::new()
        .post(s.url("/auth/v1/token?grant_type=password"))
        .header("apikey", &s.anon)
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn demo_accounts_exist_only_with_seed_demo() {
    let plain = common::TestServer::start(&[]).await;
    assert_eq!(demo_sign_in(&plain).await, 400);
    let seeded = common::TestServer::start(&["--seed-demo"]).await;
    assert_eq!(demo_sign_in(&seeded).await, 200);
}
