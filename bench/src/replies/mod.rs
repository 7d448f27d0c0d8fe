//! `--replies SECS` (issue 16): the concierge's reply latency from the guest's send, under
//! at least 200 concurrent conversations with no staff present, and the reply queue's depth.
//!
//! Each conversation is a kiosk guest (an anonymous sign-in that claimed a kiosk session, as
//! the app's "Ask the concierge" does) subscribed to its session's messages over realtime,
//! asking a question, waiting for the concierge's reply to arrive over realtime, pausing
//! (below `--think-ms`) and asking again, for SECS. First questions are spread over the
//! server's reply delay so the load is steady rather than one burst. Meanwhile the queue's
//! depth is sampled every 250 ms (`GET /api/concierge/queue`, service role): all waiting
//! messages, and those past the delay that no worker has answered yet (the backlog).

mod conversation;
mod report;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;
use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, sleep};

use crate::args::{Args, ArgsError, parse_num};
use crate::clock::now_us;
use crate::identity::{Api, IdentityError, checked};
use crate::workload::CpuMeter;
pub use report::{QueueSample, Report};

#[derive(Debug, Error)]
pub enum RepliesError {
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("no conversation could start: {0}")]
    NoConversations(String),
}

/// The reply benchmark's flags.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long guests keep asking; `None`: not asked for.
    pub secs: Option<Duration>,
    pub conversations: usize,
    /// Longest pause between a reply and the next question.
    pub think: Duration,
    /// The server's `--concierge-reply-delay-ms` (for the report: the wait for staff).
    pub reply_delay: Duration,
    /// The server's `--concierge-workers` (for the report).
    pub reply_workers: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            secs: None,
            conversations: 200,
            think: Duration::from_secs(2),
            reply_delay: Duration::from_millis(4000),
            reply_workers: None,
        }
    }
}

pub const USAGE: &str =
    "  [--replies SECS]             replies: conversations keep asking the concierge for SECS
  [--conversations 200]        replies: concurrent kiosk conversations
  [--think-ms 2000]            replies: longest pause between a reply and the next question
  [--reply-delay-ms 4000]      replies: the server's --concierge-reply-delay-ms (for the report)
  [--reply-workers N]          replies: the server's --concierge-workers (for the report)";

impl Options {
    /// Takes `flag` if it is one of these; `value` gives its value.
    pub fn parse_flag(
        &mut self,
        flag: &str,
        value: &mut impl FnMut() -> Result<String, ArgsError>,
    ) -> Result<bool, ArgsError> {
        let ms = |v: u64| Duration::from_millis(v);
        match flag {
            "--replies" => {
                let s: f64 = parse_num(flag, &value()?)?;
                self.secs = Some(Duration::from_secs_f64(s.max(1.0)));
            }
            "--conversations" => self.conversations = parse_num::<usize>(flag, &value()?)?.max(1),
            "--think-ms" => self.think = ms(parse_num(flag, &value()?)?),
            "--reply-delay-ms" => self.reply_delay = ms(parse_num(flag, &value()?)?),
            "--reply-workers" => self.reply_workers = Some(parse_num(flag, &value()?)?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Samples `GET /api/concierge/queue?older_than_ms=<delay>` every 250 ms until `stop`.
async fn sample_queue(
    api: Api,
    key: String,
    delay: Duration,
    mut stop: watch::Receiver<bool>,
) -> Vec<QueueSample> {
    let mut out = Vec::new();
    let path = format!("/api/concierge/queue?older_than_ms={}", delay.as_millis());
    loop {
        let res = api.request(reqwest::Method::GET, &path, &key).send().await;
        if let Ok(r) = res
            && let Ok(v) = checked::<Value>("queue depth", r).await
            && let Some(depth) = v.get("depth").and_then(Value::as_u64)
        {
            let older = v.get("older").and_then(Value::as_u64).unwrap_or(0);
            out.push(QueueSample { depth, older });
        }
        tokio::select! {
            () = sleep(Duration::from_millis(250)) => {}
            _ = stop.changed() => return out,
        }
    }
}

pub async fn run(args: &Args) -> Result<Report, RepliesError> {
    let o = &args.replies;
    let secs = o.secs.unwrap_or(Duration::from_secs(30));
    let api = Api::new(&args.url, &args.anon_key, o.conversations + 16)?;
    println!("replies: signing in {} kiosk users…", o.conversations);
    let ids = api.sign_in_many(o.conversations, 16).await?;
    let (stop, stop_rx) = watch::channel(false);
    let ws_url = args.ws_url();
    let gate = Arc::new(Semaphore::new(32));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let opening: Vec<_> = ids
        .into_iter()
        .enumerate()
        .map(|(i, who)| {
            let (api, url, gate, stop_rx, first_error) = (
                api.clone(),
                ws_url.clone(),
                gate.clone(),
                stop_rx.clone(),
                first_error.clone(),
            );
            tokio::spawn(async move {
                let _permit = gate.acquire().await;
                match conversation::open(&api, &url, who, i, stop_rx).await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        if let Ok(mut f) = first_error.lock() {
                            f.get_or_insert(e);
                        }
                        None
                    }
                }
            })
        })
        .collect();
    let mut conversations = Vec::new();
    for t in opening {
        if let Ok(Some(c)) = t.await {
            conversations.push(c);
        }
    }
    let open_error = first_error.lock().ok().and_then(|e| e.clone());
    if conversations.is_empty() {
        return Err(RepliesError::NoConversations(
            open_error.unwrap_or_default(),
        ));
    }
    let n = conversations.len();
    println!(
        "replies: {n} conversations open; asking for {:.0} s…",
        secs.as_secs_f64()
    );
    let sampler = tokio::spawn(sample_queue(
        api.clone(),
        args.service_key.clone(),
        o.reply_delay,
        stop_rx.clone(),
    ));
    let meter = CpuMeter::start(args.server_pid);
    let start = Instant::now();
    let spread = o.reply_delay.max(Duration::from_secs(1));
    let until = start + secs;
    let talks: Vec<_> = conversations
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let first = start + spread.mul_f64(i as f64 / n as f64);
            tokio::spawn(c.talk(first, until, o.think))
        })
        .collect();
    let mut exchanges = Vec::new();
    for t in talks {
        if let Ok(mut e) = t.await {
            exchanges.append(&mut e);
        }
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let cpu = meter.stop(elapsed_s);
    let _ = stop.send(true);
    let queue = sampler.await.unwrap_or_default();
    let r = Report {
        conversations_asked: o.conversations,
        conversations: n,
        open_error,
        delay: o.reply_delay,
        workers: o.reply_workers,
        elapsed_s,
        exchanges,
        queue,
        cpu,
    };
    println!("{}", report::line(&r));
    Ok(r)
}

/// `--replies`: runs, prints the section body and writes it to `--markdown` when given.
pub async fn main(args: Args) -> Result<(), RepliesError> {
    let _ = now_us();
    let r = run(&args).await?;
    let md = report::markdown(&r);
    println!("\n{md}");
    crate::booking::write_markdown(args.markdown.as_deref(), &md);
    Ok(())
}
