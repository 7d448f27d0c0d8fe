//! A customer session's lifecycle: its states and the one table of moves between them.
//!
//! Everything that asks "may this status become that one?" reads [`MOVES`]: the server's
//! authorization, the staff console's buttons, the banner. The SQL migration mirrors the same
//! table (`supabase/migrations`), and the shared authorization cases check both.

use serde::{Deserialize, Serialize};

use crate::role::AppRole;

/// A customer session's lifecycle. Stored as lowercase text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// Requested by the customer, no staff yet.
    Pending,
    /// A staff member accepted it.
    Waiting,
    Live,
    Completed,
    Cancelled,
}

/// One allowed change of status, by whom, and the words on its button where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub by: AppRole,
    pub from: SessionStatus,
    pub to: SessionStatus,
    /// The staff console's button for this move; `None` where the move has no button of its own
    /// (a customer ends a session from the banner, which picks `cancelled` or `completed`).
    pub verb: Option<&'static str>,
}

const fn mv(by: AppRole, from: SessionStatus, to: SessionStatus) -> Move {
    Move {
        by,
        from,
        to,
        verb: None,
    }
}

use AppRole::{Customer, Staff};
use SessionStatus::{Cancelled, Completed, Live, Pending, Waiting};

/// Every move a signed-in user may make. Nothing else changes a session's status (the service
/// role is not bound by it).
pub const MOVES: &[Move] = &[
    // Staff walk a request through accept → start → end, or call it off before it starts.
    Move {
        verb: Some("Accept"),
        ..mv(Staff, Pending, Waiting)
    },
    Move {
        verb: Some("Start session"),
        ..mv(Staff, Waiting, Live)
    },
    Move {
        verb: Some("End session"),
        ..mv(Staff, Live, Completed)
    },
    mv(Staff, Waiting, Cancelled),
    // A customer may end their own session at any point while it is open.
    mv(Customer, Pending, Cancelled),
    mv(Customer, Waiting, Cancelled),
    mv(Customer, Live, Cancelled),
    mv(Customer, Pending, Completed),
    mv(Customer, Waiting, Completed),
    mv(Customer, Live, Completed),
];

impl SessionStatus {
    pub const ALL: [SessionStatus; 5] = [Pending, Waiting, Live, Completed, Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Pending => "pending",
            Waiting => "waiting",
            Live => "live",
            Completed => "completed",
            Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStatus> {
        SessionStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Requested and not yet over.
    pub fn is_active(self) -> bool {
        matches!(self, Pending | Waiting | Live)
    }

    /// Over, for good: no move leaves these.
    pub fn is_ended(self) -> bool {
        !self.is_active()
    }

    /// May a user of `role` change a session's status from `from` to `to`? Only real moves are
    /// in the table: an update that keeps the status is not a move, and the caller decides
    /// what else it may change.
    pub fn may_move(role: AppRole, from: SessionStatus, to: SessionStatus) -> bool {
        MOVES
            .iter()
            .any(|m| m.by == role && m.from == from && m.to == to)
    }

    /// The staff console's one button for a session in this state: the move staff make next.
    pub fn staff_next(self) -> Option<Move> {
        MOVES
            .iter()
            .copied()
            .find(|m| m.by == Staff && m.from == self && m.verb.is_some())
    }

    /// The word staff see on a session's status pill.
    pub fn staff_label(self) -> &'static str {
        match self {
            Pending => "requested",
            Waiting => "accepted",
            Live => "live",
            Completed => "completed",
            Cancelled => "cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_round_trip() {
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(SessionStatus::parse("LIVE"), None);
    }

    #[test]
    fn nothing_leaves_an_ended_session_and_no_move_stays_put() {
        for m in MOVES {
            assert!(m.from.is_active(), "{m:?}");
            assert_ne!(m.from, m.to, "{m:?}");
        }
    }

    #[test]
    fn staff_walk_pending_to_completed_one_button_at_a_time() {
        let mut s = Pending;
        let mut verbs = vec![];
        while let Some(m) = s.staff_next() {
            assert!(SessionStatus::may_move(Staff, s, m.to));
            verbs.push(m.verb.unwrap());
            s = m.to;
        }
        assert_eq!(s, Completed);
        assert_eq!(verbs, ["Accept", "Start session", "End session"]);
    }

    #[test]
    fn customers_only_end_and_staff_never_skip() {
        for from in SessionStatus::ALL {
            for to in SessionStatus::ALL {
                let customer = SessionStatus::may_move(Customer, from, to);
                assert_eq!(
                    customer,
                    from.is_active() && to.is_ended(),
                    "{from:?}→{to:?}"
                );
            }
        }
        assert!(!SessionStatus::may_move(Staff, Pending, Live));
        assert!(!SessionStatus::may_move(Staff, Pending, Cancelled));
        assert!(!SessionStatus::may_move(Staff, Live, Cancelled));
    }
}
