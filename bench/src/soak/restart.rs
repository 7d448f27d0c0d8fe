//! The kill-and-restart time: SIGKILL the server mid-soak (no clean shutdown, the WAL as it is),
//! start it again on the same database and time it until it serves `/healthz` and a REST read;
//! then count the kiosk rows to check that nothing acknowledged was lost.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::sample::FileSizes;

/// How long to wait for the restarted server before giving up.
const SERVE_LIMIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(5);
/// Starts retried when the restarted server exits at once.
const MAX_RETRIES: u32 = 50;

#[derive(Debug, Clone)]
pub struct Restart {
    /// The database's files when the server was killed.
    pub at_kill: FileSizes,
    /// SIGKILL → `/healthz` answers 200 (includes the old process's exit and the new start).
    pub to_healthz: Option<Duration>,
    /// SIGKILL → a REST read (`GET /rest/v1/events?limit=1`) answers 200.
    pub to_rest: Option<Duration>,
    /// Kiosk rows after the restart, and the kiosk writes acknowledged before the kill.
    pub rows_after: Option<u64>,
    pub acknowledged: u64,
    /// Restarts that exited at once and were retried (counted in the times above).
    pub retries: u32,
    pub error: Option<String>,
}

impl Restart {
    pub fn describe(&self) -> String {
        let ms = |d: Option<Duration>| {
            d.map_or_else(
                || "never (gave up)".to_owned(),
                |d| format!("{:.0} ms", d.as_secs_f64() * 1000.0),
            )
        };
        let mib = |b: Option<u64>| b.map_or(0.0, |b| b as f64 / (1024.0 * 1024.0));
        let mut s = format!(
            "Kill and restart: SIGKILL right after the last interval, sockets connected, with a {:.1} MiB WAL ({:.1} MiB database); serving again after {} \
             (`/healthz`) and {} (a REST read)",
            mib(self.at_kill.wal),
            mib(self.at_kill.db),
            ms(self.to_healthz),
            ms(self.to_rest),
        );
        if let Some(rows) = self.rows_after {
            s.push_str(&format!(
                "; {rows} kiosk rows after the restart for {} acknowledged writes{}",
                self.acknowledged,
                if rows >= self.acknowledged {
                    " (none lost)"
                } else {
                    " (**rows lost**)"
                }
            ));
        }
        if self.retries > 0 {
            s.push_str(&format!(
                " ({} start(s) exited at once and were retried)",
                self.retries
            ));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(" (error: {e})"));
        }
        s.push('.');
        s
    }
}

/// Whether `pid` has exited completely: gone, or a zombie whose every thread has exited (its
/// files, the listening socket among them, are closed only once the last thread is gone; the
/// leader alone shows `Z` earlier).
fn gone(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    let live = tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| {
            !stat
                .rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with(['Z', 'X']))
        })
        .count();
    live == 0
}

/// Sends SIGKILL to `pid` (through kill(1): no libc binding for one signal) and waits, up to
/// 5 s, for it to be gone or a zombie (its sockets and files closed either way).
fn kill_now(pid: u32) -> Result<(), String> {
    let status = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    if !status.success() {
        return Err(format!("kill -KILL {pid} failed: {status}"));
    }
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        if gone(pid) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Err(format!("process {pid} still running 5 s after SIGKILL"))
}

/// Sends `req()` until it answers 2xx (or `SERVE_LIMIT` passes, measured from `from`).
async fn until_ok(req: impl Fn() -> reqwest::RequestBuilder, from: Instant) -> Option<Duration> {
    loop {
        if let Ok(res) = req().send().await
            && res.status().is_success()
        {
            return Some(from.elapsed());
        }
        if from.elapsed() > SERVE_LIMIT {
            return None;
        }
        sleep(POLL).await;
    }
}

/// Ends the restarted server: SIGTERM, then SIGKILL if it has not gone within 10 s.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while std::time::Instant::now() < until {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// What the restart needs to know.
pub struct Plan<'a> {
    pub pid: u32,
    pub cmd: &'a str,
    pub url: &'a str,
    pub service_key: &'a str,
    pub at_kill: FileSizes,
    pub acknowledged: u64,
}

/// Kills the server, restarts it with `sh -c cmd`, times it, counts the kiosk rows and stops
/// the restarted server again.
pub async fn kill_and_restart(plan: Plan<'_>) -> Restart {
    let mut r = Restart {
        at_kill: plan.at_kill,
        to_healthz: None,
        to_rest: None,
        rows_after: None,
        acknowledged: plan.acknowledged,
        retries: 0,
        error: None,
    };
    let start = Instant::now();
    if let Err(e) = kill_now(plan.pid) {
        r.error = Some(e);
        return r;
    }
    let spawn = || {
        Command::new("sh")
            .args(["-c", plan.cmd])
            .stdin(Stdio::null())
            .spawn()
    };
    let mut child = match spawn() {
        Ok(c) => c,
        Err(e) => {
            r.error = Some(format!("restart command: {e}"));
            return r;
        }
    };
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            r.error = Some(e.to_string());
            stop(child);
            return r;
        }
    };
    let key = plan.service_key;
    let authorized = |b: reqwest::RequestBuilder| {
        b.header("apikey", key)
            .header("Authorization", format!("Bearer {key}"))
    };
    // Until /healthz answers; a start that fails (say the port is not free yet) is retried.
    let mut retries = 0;
    while r.to_healthz.is_none() && start.elapsed() < SERVE_LIMIT {
        if let Ok(res) = client.get(format!("{}/healthz", plan.url)).send().await
            && res.status().is_success()
        {
            r.to_healthz = Some(start.elapsed());
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            retries += 1;
            if retries > MAX_RETRIES {
                r.error = Some(format!("the restarted server exited: {status}"));
                return r;
            }
            match spawn() {
                Ok(c) => child = c,
                Err(e) => {
                    r.error = Some(format!("restart command: {e}"));
                    return r;
                }
            }
        }
        sleep(POLL).await;
    }
    r.retries = retries;
    r.to_rest = until_ok(
        || authorized(client.get(format!("{}/rest/v1/events?select=id&limit=1", plan.url))),
        start,
    )
    .await;
    r.rows_after = count_rows(&client, plan.url, key).await;
    stop(child);
    r
}

/// `kiosk_results` rows, from the `Content-Range` of a `count=exact` read (`0-0/N`).
async fn count_rows(client: &reqwest::Client, url: &str, key: &str) -> Option<u64> {
    let res = client
        .get(format!("{url}/rest/v1/kiosk_results?select=id&limit=1"))
        .header("apikey", key)
        .header("Authorization", format!("Bearer {key}"))
        .header("Prefer", "count=exact")
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .ok()?;
    let range = res.headers().get("content-range")?.to_str().ok()?;
    total_of(range)
}

fn total_of(content_range: &str) -> Option<u64> {
    content_range.rsplit('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_of_a_content_range() {
        assert_eq!(total_of("0-0/1234"), Some(1234));
        assert_eq!(total_of("*/0"), Some(0));
        assert_eq!(total_of("0-0/*"), None);
    }
}
