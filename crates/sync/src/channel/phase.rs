//! A channel's phase: one enum from which its status, its join ref and its phase deadline
//! are derived, instead of flags kept in step by hand.

use crate::Millis;
use crate::status::ChannelStatus;

/// Where the channel is; its [`ChannelStatus`] is derived from this alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// Not joined and not trying: before the first join.
    Idle,
    Joining {
        join_ref: String,
        deadline: Millis,
    },
    Joined {
        join_ref: String,
        sub: Subscription,
    },
    /// Waiting for the rejoin timer or the socket to reopen.
    Errored(Fault),
    /// Over for good: closed by the server or left (`None`), or a bindings mismatch (`Some`).
    Ended(Option<String>),
}

/// Whether changes flow on a joined channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Subscription {
    /// Waiting for the `system` confirmation; taken as confirmed at `grace_due` without it.
    Pending {
        grace_due: Millis,
    },
    Confirmed,
    /// The server reported the Postgres subscription failed; the channel stays joined (the
    /// server may retry) but nothing flows.
    Failed(String),
}

/// Why a channel errored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fault {
    /// No join reply within the push timeout.
    TimedOut,
    /// Join refused, channel crashed, socket lost; the text says which.
    Error(String),
}

impl Phase {
    pub(super) fn status(&self) -> ChannelStatus {
        match self {
            Phase::Idle => ChannelStatus::Idle,
            Phase::Joining { .. } => ChannelStatus::Joining,
            Phase::Joined { sub, .. } => match sub {
                Subscription::Pending { .. } => ChannelStatus::Joined,
                Subscription::Confirmed => ChannelStatus::Subscribed,
                Subscription::Failed(why) => ChannelStatus::ChannelError(why.clone()),
            },
            Phase::Errored(Fault::TimedOut) => ChannelStatus::TimedOut,
            Phase::Errored(Fault::Error(why)) | Phase::Ended(Some(why)) => {
                ChannelStatus::ChannelError(why.clone())
            }
            Phase::Ended(None) => ChannelStatus::Closed,
        }
    }

    pub(super) fn is_confirmed(&self) -> bool {
        matches!(
            self,
            Phase::Joined {
                sub: Subscription::Confirmed,
                ..
            }
        )
    }

    /// The ref of the join this phase belongs to, while there is one.
    pub(super) fn join_ref(&self) -> Option<&str> {
        match self {
            Phase::Joining { join_ref, .. } | Phase::Joined { join_ref, .. } => Some(join_ref),
            _ => None,
        }
    }

    /// The join timeout, or the end of the grace period.
    pub(super) fn deadline(&self) -> Option<Millis> {
        match self {
            Phase::Joining { deadline, .. } => Some(*deadline),
            Phase::Joined {
                sub: Subscription::Pending { grace_due },
                ..
            } => Some(*grace_due),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_phase() {
        let joined = |sub| Phase::Joined {
            join_ref: "1".into(),
            sub,
        };
        let cases = [
            (Phase::Idle, ChannelStatus::Idle),
            (
                Phase::Joining {
                    join_ref: "1".into(),
                    deadline: 5,
                },
                ChannelStatus::Joining,
            ),
            (
                joined(Subscription::Pending { grace_due: 9 }),
                ChannelStatus::Joined,
            ),
            (joined(Subscription::Confirmed), ChannelStatus::Subscribed),
            (
                joined(Subscription::Failed("no".into())),
                ChannelStatus::ChannelError("no".into()),
            ),
            (Phase::Errored(Fault::TimedOut), ChannelStatus::TimedOut),
            (
                Phase::Errored(Fault::Error("down".into())),
                ChannelStatus::ChannelError("down".into()),
            ),
            (Phase::Ended(None), ChannelStatus::Closed),
            (
                Phase::Ended(Some("mismatch".into())),
                ChannelStatus::ChannelError("mismatch".into()),
            ),
        ];
        for (phase, status) in cases {
            assert_eq!(phase.status(), status, "{phase:?}");
            assert_eq!(phase.is_confirmed(), status == ChannelStatus::Subscribed);
        }
        assert_eq!(
            joined(Subscription::Pending { grace_due: 9 }).deadline(),
            Some(9)
        );
        assert_eq!(joined(Subscription::Confirmed).deadline(), None);
    }
}
