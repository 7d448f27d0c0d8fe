//! The two measured workloads. Writers go through the server's REST API with the service key,
//! paced open-loop when a rate is given: each write's latency is measured from its *scheduled*
//! send time, so a writer that falls behind does not hide queueing delay (no coordinated
//! omission). Unpaced runs (rate 0) measure from the actual send time.

mod catalogue;
mod kiosk;
mod rest;
mod writers;

use std::sync::Arc;

use thiserror::Error;

use crate::shared::Shared;

pub use catalogue::{CatalogueResult, CatalogueRun};
pub use kiosk::{KioskResult, KioskRun};
pub use rest::Rest;
pub(crate) use writers::CpuMeter;
pub use writers::CpuUse;

#[derive(Debug, Error)]
pub enum WorkloadError {
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("could not find {0} rows in events to update")]
    NoRows(usize),
}

/// What every run drives and watches: the server's REST API for the writes, the sockets'
/// shared state for the deliveries, and the server's pid for its CPU use.
pub struct Driver {
    pub rest: Rest,
    pub shared: Arc<Shared>,
    pub server_pid: Option<u32>,
}
