//! `--booking SECS` (issue 17): booking throughput and commit → other-kiosk latency under
//! contention, and whether the outcome is exact.
//!
//! Kiosk users (anonymous sign-ins, as the app's kiosks make them) call
//! `POST /rest/v1/rpc/reserve`; M sockets, joined as kiosks to the hotel's `events`, watch each
//! booking's `places_left` UPDATE arrive.
//! 1. **Contention**, repeated for SECS with a fresh event each round: N callers at once (a
//!    barrier releases them together) for an event with C places. Exact when C are confirmed,
//!    N − C get the clear "no places left", the stored `places_left` is 0 and every watcher's
//!    last `places_left` is 0. One unreported round first opens the callers' connections.
//! 2. **Uncontended**, for SECS: W callers in a closed loop booking one place each at an event
//!    with places to spare (nobody is ever refused): the booking throughput.

mod board;
mod calls;
mod report;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::Barrier;
use tokio::time::{Instant, sleep};

use crate::args::{Args, ArgsError, parse_num};
use crate::identity::{Api, Identity, IdentityError};
use crate::workload::CpuMeter;
use board::{Board, Seen};
use calls::{Call, Outcome, Service};
use report::{Report, Round, Throughput};

#[derive(Debug, Error)]
pub enum BookingError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("no watcher socket joined: {0}")]
    NoWatchers(String),
}

/// The booking benchmark's flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// Length of each of the two phases; `None`: not asked for.
    pub secs: Option<Duration>,
    pub callers: usize,
    pub capacity: i64,
    pub watchers: usize,
    pub writers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            secs: None,
            callers: 200,
            capacity: 10,
            watchers: 200,
            writers: 16,
        }
    }
}

pub const USAGE: &str =
    "  [--booking SECS]             booking: contention rounds for SECS, then uncontended for SECS
  [--booking-callers 200]      booking: concurrent reserve calls per contention round
  [--booking-capacity 10]      booking: places of each contention round's event
  [--booking-watchers 200]     booking: kiosk sockets watching the hotel's events
  [--booking-writers 16]       booking: closed-loop callers of the uncontended phase";

impl Options {
    /// Takes `flag` if it is one of these; `value` gives its value.
    pub fn parse_flag(
        &mut self,
        flag: &str,
        value: &mut impl FnMut() -> Result<String, ArgsError>,
    ) -> Result<bool, ArgsError> {
        match flag {
            "--booking" => {
                let s: f64 = parse_num(flag, &value()?)?;
                self.secs = Some(Duration::from_secs_f64(s.max(1.0)));
            }
            "--booking-callers" => self.callers = parse_num::<usize>(flag, &value()?)?.max(1),
            "--booking-capacity" => self.capacity = parse_num::<i64>(flag, &value()?)?.max(1),
            "--booking-watchers" => self.watchers = parse_num::<usize>(flag, &value()?)?.max(1),
            "--booking-writers" => self.writers = parse_num::<usize>(flag, &value()?)?.max(1),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Everything a phase needs.
struct Bench {
    api: Api,
    service: Service,
    hotel_id: String,
    ids: Arc<Vec<Identity>>,
    board: Arc<Board>,
    watchers: usize,
    next_event: u32,
}

pub async fn run(args: &Args) -> Result<Report, BookingError> {
    let o = &args.booking;
    let secs = o.secs.unwrap_or(Duration::from_secs(10));
    let api = Api::new(&args.url, &args.anon_key, o.callers.max(o.writers) + 16)?;
    let service = Service {
        api: api.clone(),
        key: args.service_key.clone(),
    };
    let hotel_id = service.hotel_id().await?;
    let n = o.callers.max(o.writers);
    println!("booking: signing in {n} kiosk users…");
    let ids = Arc::new(api.sign_in_many(n, 16).await?);
    let board = Arc::new(Board::default());
    println!(
        "booking: {} watcher sockets joining the hotel's events…",
        o.watchers
    );
    let w = board::watch_catalogue(&args.ws_url(), &hotel_id, &ids, o.watchers, &board).await;
    if w.ready == 0 {
        return Err(BookingError::NoWatchers(w.first_error.unwrap_or_default()));
    }
    let mut b = Bench {
        api,
        service,
        hotel_id,
        ids,
        board: board.clone(),
        watchers: w.ready,
        next_event: 0,
    };
    let _ = b.round(o.callers, o.capacity).await?; // opens the callers' connections
    let mut rounds = Vec::new();
    let until = Instant::now() + secs;
    while rounds.is_empty() || Instant::now() < until {
        let r = b.round(o.callers, o.capacity).await?;
        println!("{}", report::round_line(&r));
        rounds.push(r);
    }
    let throughput = b.uncontended(o.writers, secs, args.server_pid).await?;
    println!("{}", report::throughput_line(&throughput));
    let _ = w.stop.send(true);
    sleep(Duration::from_millis(200)).await;
    Ok(Report {
        callers: o.callers,
        capacity: o.capacity,
        watchers_asked: o.watchers,
        watchers: w.ready,
        watcher_error: w.first_error,
        dropped: board.dropped.load(std::sync::atomic::Ordering::SeqCst),
        rounds,
        throughput,
    })
}

/// Each watcher's last `places_left` of `seen` (watchers that saw nothing are absent).
fn last_per_watcher(seen: &[Seen]) -> std::collections::HashMap<u32, i64> {
    seen.iter().map(|s| (s.watcher, s.places_left)).collect()
}

impl Bench {
    async fn new_event(
        &mut self,
        title: &str,
        capacity: i64,
    ) -> Result<(String, u32), BookingError> {
        let id = self
            .service
            .create_event(&self.hotel_id, title, capacity)
            .await?;
        let idx = self.next_event;
        self.next_event += 1;
        self.board.track(&id, idx);
        Ok((id, idx))
    }

    /// One contention round: `callers` calls at once for `capacity` places.
    async fn round(&mut self, callers: usize, capacity: i64) -> Result<Round, BookingError> {
        let (event_id, idx) = self.new_event("Wine tasting (bench)", capacity).await?;
        let barrier = Arc::new(Barrier::new(callers));
        let event_id: Arc<str> = event_id.into();
        let start = Instant::now();
        let tasks: Vec<_> = (0..callers)
            .map(|i| {
                let (api, ids, barrier, event_id) = (
                    self.api.clone(),
                    self.ids.clone(),
                    barrier.clone(),
                    event_id.clone(),
                );
                tokio::spawn(async move {
                    barrier.wait().await;
                    let who = &ids[i % ids.len()];
                    calls::reserve(&api, who, &event_id, i).await
                })
            })
            .collect();
        let mut results: Vec<Call> = Vec::with_capacity(callers);
        for t in tasks {
            if let Ok(c) = t.await {
                results.push(c);
            }
        }
        let elapsed_s = start.elapsed().as_secs_f64();
        self.board
            .wait_reached(idx, 0, self.watchers, Duration::from_secs(5))
            .await;
        let stored_left = self.service.places_left(&event_id).await?;
        let seen = self.board.seen(idx);
        let last = last_per_watcher(&seen);
        let descending: Vec<i64> = (0..capacity).rev().collect();
        let in_order = (0..self.watchers as u32)
            .filter(|w| {
                let mine: Vec<i64> = seen
                    .iter()
                    .filter(|s| s.watcher == *w)
                    .map(|s| s.places_left)
                    .collect();
                mine == descending
            })
            .count();
        Ok(Round {
            calls: report::Calls::of(&results, elapsed_s),
            capacity,
            stored_left,
            watchers: self.watchers,
            last_zero: last.values().filter(|l| **l == 0).count(),
            in_order,
            seen,
        })
    }

    /// The uncontended phase: `writers` closed-loop callers for `secs`.
    async fn uncontended(
        &mut self,
        writers: usize,
        secs: Duration,
        server_pid: Option<u32>,
    ) -> Result<Throughput, BookingError> {
        const CAPACITY: i64 = 100_000_000;
        let (event_id, idx) = self.new_event("Open house (bench)", CAPACITY).await?;
        let event_id: Arc<str> = event_id.into();
        let meter = CpuMeter::start(server_pid);
        let start = Instant::now();
        let until = start + secs;
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let (api, ids, event_id) = (self.api.clone(), self.ids.clone(), event_id.clone());
                tokio::spawn(async move {
                    let who = &ids[w % ids.len()];
                    let mut out = Vec::new();
                    while Instant::now() < until {
                        out.push(calls::reserve(&api, who, &event_id, w).await);
                    }
                    out
                })
            })
            .collect();
        let mut results: Vec<Call> = Vec::new();
        for t in tasks {
            if let Ok(mut c) = t.await {
                results.append(&mut c);
            }
        }
        let elapsed_s = start.elapsed().as_secs_f64();
        let cpu = meter.stop(elapsed_s);
        let confirmed = results
            .iter()
            .filter(|c| matches!(c.outcome, Outcome::Confirmed { .. }))
            .count() as i64;
        let expected_left = CAPACITY - confirmed;
        self.board
            .wait_reached(idx, expected_left, self.watchers, Duration::from_secs(10))
            .await;
        let stored_left = self.service.places_left(&event_id).await?;
        let seen = self.board.seen(idx);
        let last = last_per_watcher(&seen);
        Ok(Throughput {
            calls: report::Calls::of(&results, elapsed_s),
            writers,
            expected_left,
            stored_left,
            watchers: self.watchers,
            last_ok: last.values().filter(|l| **l == expected_left).count(),
            cpu,
            seen,
        })
    }
}

/// `--booking`: runs, prints the section body and writes it to `--markdown` when given.
pub async fn main(args: Args) -> Result<(), BookingError> {
    let _ = crate::clock::now_us();
    let r = run(&args).await?;
    let md = report::markdown(&r);
    println!("\n{md}");
    write_markdown(args.markdown.as_deref(), &md);
    Ok(())
}

/// Writes `md` to `path` when given (a failure is reported, not fatal: the figures are printed).
pub fn write_markdown(path: Option<&str>, md: &str) {
    if let Some(path) = path
        && let Err(e) = std::fs::write(path, md)
    {
        eprintln!("concierge-bench: writing {path}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use crate::args::Args;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_modes_flags_are_parsed() {
        let a = Args::parse(argv(
            "--url u --anon-key a --service-key s --booking 5 --booking-callers 50 \
             --booking-capacity 3 --replies 30 --conversations 250 --think-ms 500 --reply-workers 8",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a.booking.secs, Some(std::time::Duration::from_secs(5)));
        assert_eq!(
            (a.booking.callers, a.booking.capacity, a.booking.watchers),
            (50, 3, 200)
        );
        assert_eq!(a.replies.secs, Some(std::time::Duration::from_secs(30)));
        assert_eq!(a.replies.conversations, 250);
        assert_eq!(a.replies.think, std::time::Duration::from_millis(500));
        assert_eq!(a.replies.reply_workers, Some(8));
        assert!(Args::parse(argv("--url u --anon-key a --service-key s --booking")).is_err());
        assert!(
            Args::parse(argv(
                "--url u --anon-key a --service-key s --booking-callers x"
            ))
            .is_err()
        );
    }
}
