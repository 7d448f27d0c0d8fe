//! Command-line flags (hand-parsed: a handful of flags does not justify a parser dependency).

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ArgsError {
    #[error("unknown flag {0} (see --help)")]
    Unknown(String),
    #[error("flag {0} needs a value")]
    MissingValue(String),
    #[error("bad value {value:?} for {flag}: {why}")]
    BadValue {
        flag: String,
        value: String,
        why: String,
    },
    #[error("{0} is required")]
    Required(&'static str),
}

/// Everything the bench needs to know; see `USAGE`.
#[derive(Debug, Clone)]
pub struct Args {
    pub url: String,
    pub anon_key: String,
    pub service_key: String,
    pub server_pid: Option<u32>,
    pub sockets: usize,
    pub duration: Duration,
    /// Unmeasured kiosk writes at 500/s before the first measured run.
    pub warmup: Duration,
    pub connect_concurrency: usize,
    pub kiosk_writers: usize,
    /// Target write rates for the kiosk workload, changes/s; 0 = as fast as the writers go.
    pub kiosk_rates: Vec<u32>,
    /// Target change rates for the catalogue workload, changes/s (each fanned out to every socket).
    pub catalogue_rates: Vec<u32>,
    pub markdown: Option<String>,
    /// Soak mode: both workloads together (the first kiosk and catalogue rates) for this long.
    pub soak: Option<Duration>,
    /// Soak mode: one table row per interval.
    pub soak_interval: Duration,
    /// Soak mode: the server's database file (its size, and its -wal and -shm files' sizes).
    pub db: Option<String>,
    /// Soak mode: the WAL bound the server runs with (MiB), for the verdict.
    pub wal_limit_mib: Option<u64>,
    /// Soak mode: a shell command restarting the server on the same database after the soak
    /// SIGKILLs it (the kill-and-restart time); its last process must be the server (`exec`).
    pub restart_cmd: Option<String>,
    /// Abuse mode: an ordinary client measured for this long without, then under, attack.
    pub abuse: Option<Duration>,
    /// `--booking SECS` and its knobs (issue 17).
    pub booking: crate::booking::Options,
    /// `--replies SECS` and its knobs (issue 16).
    pub replies: crate::replies::Options,
}

pub const USAGE: &str =
    "concierge-bench --url http://127.0.0.1:PORT --anon-key KEY --service-key KEY
  [--server-pid PID]           read the server's RSS/CPU from /proc (memory per connection)
  [--sockets 10000]            WebSocket connections, one kiosk channel each
  [--duration 10]              seconds per measured run
  [--warmup 3]                 seconds of unmeasured kiosk writes (500/s) before the runs
  [--connect-concurrency 128]  handshakes in flight while connecting
  [--kiosk-writers 64]         concurrent HTTP writers for the kiosk workload
  [--kiosk-rates 2000,0]       kiosk runs, changes/s (0 = unpaced, as fast as possible)
  [--catalogue-rates 20,50]    catalogue runs, changes/s, each delivered to every socket
  [--markdown FILE]            write the results as a Markdown section body
  [--soak SECS]                soak: the first kiosk and catalogue rates together for SECS
  [--soak-interval 60]         soak: seconds per sample (server RSS, file sizes, latencies)
  [--db PATH]                  soak: the server's database (sizes of it, -wal and -shm)
  [--wal-limit-mib N]          soak: the server's WAL bound, for the verdict
  [--restart-cmd CMD]          soak: after the soak, SIGKILL the server and run `sh -c CMD`
                               (ending in `exec concierge-server …`); time until it serves
  [--abuse SECS]               abuse: an ordinary client for SECS without, then SECS under an
                               attack mix; each attack's refusals counted
concierge-bench client [--help]  CPU cost of the app's sync core (no server; see its --help)";

pub(crate) fn parse_num<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, ArgsError>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| ArgsError::BadValue {
        flag: flag.to_owned(),
        value: value.to_owned(),
        why: e.to_string(),
    })
}

fn parse_list(flag: &str, value: &str) -> Result<Vec<u32>, ArgsError> {
    value
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_num(flag, s.trim()))
        .collect()
}

impl Args {
    /// Parses `argv` (without the program name). `Ok(None)` means `--help` was asked for.
    pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Option<Args>, ArgsError> {
        let mut url = None;
        let mut anon_key = std::env::var("CONCIERGE_ANON_KEY").ok();
        let mut service_key = std::env::var("CONCIERGE_SERVICE_KEY").ok();
        let mut a = Args {
            url: String::new(),
            anon_key: String::new(),
            service_key: String::new(),
            server_pid: None,
            sockets: 10_000,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(3),
            connect_concurrency: 128,
            kiosk_writers: 64,
            kiosk_rates: vec![2000, 0],
            catalogue_rates: vec![20, 50],
            markdown: None,
            soak: None,
            soak_interval: Duration::from_secs(60),
            db: None,
            wal_limit_mib: None,
            restart_cmd: None,
            abuse: None,
            booking: crate::booking::Options::default(),
            replies: crate::replies::Options::default(),
        };
        let mut it = argv.into_iter();
        while let Some(flag) = it.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            let mut value = || {
                it.next()
                    .ok_or_else(|| ArgsError::MissingValue(flag.clone()))
            };
            match flag.as_str() {
                "--url" => url = Some(value()?),
                "--anon-key" => anon_key = Some(value()?),
                "--service-key" => service_key = Some(value()?),
                "--server-pid" => a.server_pid = Some(parse_num(&flag, &value()?)?),
                "--sockets" => a.sockets = parse_num(&flag, &value()?)?,
                "--duration" => {
                    a.duration =
                        Duration::from_secs_f64(parse_num::<f64>(&flag, &value()?)?.max(0.1))
                }
                "--warmup" => {
                    a.warmup = Duration::from_secs_f64(parse_num::<f64>(&flag, &value()?)?.max(0.0))
                }
                "--connect-concurrency" => {
                    a.connect_concurrency = parse_num::<usize>(&flag, &value()?)?.max(1)
                }
                "--kiosk-writers" => a.kiosk_writers = parse_num::<usize>(&flag, &value()?)?.max(1),
                "--kiosk-rates" => a.kiosk_rates = parse_list(&flag, &value()?)?,
                "--catalogue-rates" => {
                    a.catalogue_rates = parse_list(&flag, &value()?)?;
                    if a.catalogue_rates.contains(&0) {
                        return Err(ArgsError::BadValue {
                            flag,
                            value: "0".into(),
                            why: "catalogue runs need a finite rate".into(),
                        });
                    }
                }
                "--markdown" => a.markdown = Some(value()?),
                "--soak" => {
                    a.soak = Some(Duration::from_secs_f64(
                        parse_num::<f64>(&flag, &value()?)?.max(1.0),
                    ))
                }
                "--soak-interval" => {
                    a.soak_interval =
                        Duration::from_secs_f64(parse_num::<f64>(&flag, &value()?)?.max(1.0))
                }
                "--db" => a.db = Some(value()?),
                "--wal-limit-mib" => a.wal_limit_mib = Some(parse_num(&flag, &value()?)?),
                "--restart-cmd" => a.restart_cmd = Some(value()?),
                "--abuse" => {
                    a.abuse = Some(Duration::from_secs_f64(
                        parse_num::<f64>(&flag, &value()?)?.max(1.0),
                    ))
                }
                other => {
                    if !(a.booking.parse_flag(other, &mut value)?
                        || a.replies.parse_flag(other, &mut value)?)
                    {
                        return Err(ArgsError::Unknown(flag));
                    }
                }
            }
        }
        a.url = url
            .ok_or(ArgsError::Required("--url"))?
            .trim_end_matches('/')
            .to_owned();
        a.anon_key = anon_key.ok_or(ArgsError::Required("--anon-key (or CONCIERGE_ANON_KEY)"))?;
        a.service_key = service_key.ok_or(ArgsError::Required(
            "--service-key (or CONCIERGE_SERVICE_KEY)",
        ))?;
        Ok(Some(a))
    }

    pub fn ws_url(&self) -> String {
        let base = self
            .url
            .strip_prefix("http")
            .map(|rest| format!("ws{rest}"))
            .unwrap_or_else(|| self.url.clone());
        format!(
            "{base}/realtime/v1/websocket?apikey={}&vsn=2.0.0",
            self.anon_key
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_flags_and_defaults() {
        let a = Args::parse(argv("--url http://127.0.0.1:1/ --anon-key a --service-key s --sockets 500 --kiosk-rates 100,0"))
            .unwrap()
            .unwrap();
        assert_eq!(a.url, "http://127.0.0.1:1");
        assert_eq!(a.sockets, 500);
        assert_eq!(a.kiosk_rates, vec![100, 0]);
        assert_eq!(a.catalogue_rates, vec![20, 50]);
        assert!(a.soak.is_none());
        let s = Args::parse(argv(
            "--url u --anon-key a --service-key s --soak 600 --soak-interval 30 --db /tmp/x.db",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(s.soak, Some(Duration::from_secs(600)));
        assert_eq!(s.soak_interval, Duration::from_secs(30));
        assert_eq!(s.db.as_deref(), Some("/tmp/x.db"));
        let ab = Args::parse(argv("--url u --anon-key a --service-key s --abuse 20"))
            .unwrap()
            .unwrap();
        assert_eq!(ab.abuse, Some(Duration::from_secs(20)));
        assert_eq!(
            a.ws_url(),
            "ws://127.0.0.1:1/realtime/v1/websocket?apikey=a&vsn=2.0.0"
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Args::parse(argv("--sockets")).is_err());
        assert!(Args::parse(argv("--url x --anon-key a --service-key s --sockets many")).is_err());
        assert!(
            Args::parse(argv(
                "--url x --anon-key a --service-key s --catalogue-rates 0"
            ))
            .is_err()
        );
        assert!(Args::parse(argv("--bogus 1")).is_err());
        assert!(Args::parse(argv("--help")).unwrap().is_none());
    }
}
