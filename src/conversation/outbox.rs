//! The outbox: messages this page sent that the live list does not hold yet, as a pure state
//! machine (no DOM, no clock), so every transition is tested natively.
//!
//! ```text
//!            send                ok / 409 (23505)
//!   (new) ─────────▶ Sending ───────────────────▶ Sent ──┐
//!                     │  ▲  ▲                             │ the row arrives
//!         unreachable │  │  │ retry (same id)             ▼
//!                     ▼  │  └──────── Failed ◀──┐     (dropped: the row shows instead)
//!                  Waiting ─ reconnect ─┘       │ refused
//!                             Sending ──────────┘
//! ```
//!
//! Each message keeps the id it was made with, so a retry is the same message: if an earlier
//! attempt was stored and only its answer was lost, the server says `409`/`23505` and the
//! message counts as sent. A message is never sent twice at once (only `Waiting` and `Failed`
//! ones are sent again), and whatever state it is in, the real row arriving with its id ends it.

/// Where one outgoing message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A request is in flight.
    Sending,
    /// The server could not be reached; sent again as soon as the connection is back.
    Waiting,
    /// The server refused it (the words say why); sent again only when the user asks.
    Failed(String),
    /// Stored; the live list will bring the row.
    Sent,
}

impl Delivery {
    /// A short name for `data-delivery` and keys.
    pub fn key(&self) -> &'static str {
        match self {
            Delivery::Sending => "sending",
            Delivery::Waiting => "waiting",
            Delivery::Failed(_) => "failed",
            Delivery::Sent => "sent",
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// `2xx`: stored now.
    Stored,
    /// `409`/`23505`: an earlier attempt with this id was stored.
    AlreadyStored,
    /// No answer (offline, connection refused, aborted).
    Unreachable,
    /// Any other answer, in words for the sender.
    Refused(String),
}

/// One message on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: String,
    pub body: String,
    pub delivery: Delivery,
    /// Requests made for it so far.
    pub attempts: u32,
}

/// What to send: the id and the body.
pub type Payload = (String, String);

/// The messages on their way, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    items: Vec<Outgoing>,
}

impl Outbox {
    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// A new message, sent at once: returns what to send.
    pub fn push(&mut self, id: String, body: String) -> Payload {
        self.items.push(Outgoing {
            id: id.clone(),
            body: body.clone(),
            delivery: Delivery::Sending,
            attempts: 1,
        });
        (id, body)
    }

    /// The answer to an attempt for `id`. Ignored unless that message is being sent (it may
    /// have arrived through the live list meanwhile).
    pub fn settle(&mut self, id: &str, attempt: Attempt) {
        let Some(item) = self.find(id) else { return };
        if item.delivery != Delivery::Sending {
            return;
        }
        item.delivery = match attempt {
            Attempt::Stored | Attempt::AlreadyStored => Delivery::Sent,
            Attempt::Unreachable => Delivery::Waiting,
            Attempt::Refused(why) => Delivery::Failed(why),
        };
    }

    /// The user asks to send `id` again (same id): returns what to send, unless it is in
    /// flight or already sent.
    pub fn retry(&mut self, id: &str) -> Option<Payload> {
        let item = self.find(id)?;
        match item.delivery {
            Delivery::Waiting | Delivery::Failed(_) => Some(Self::resend(item)),
            Delivery::Sending | Delivery::Sent => None,
        }
    }

    /// The connection is back: every `Waiting` message is sent again, once.
    pub fn reconnected(&mut self) -> Vec<Payload> {
        self.items
            .iter_mut()
            .filter(|i| i.delivery == Delivery::Waiting)
            .map(Self::resend)
            .collect()
    }

    /// The live list holds these ids: their rows replace them, whatever state they were in
    /// (a row is proof it was stored). Returns whether anything was dropped.
    pub fn arrived<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> bool {
        let before = self.items.len();
        for id in ids {
            self.items.retain(|i| i.id != id);
        }
        self.items.len() != before
    }

    fn find(&mut self, id: &str) -> Option<&mut Outgoing> {
        self.items.iter_mut().find(|i| i.id == id)
    }

    fn resend(item: &mut Outgoing) -> Payload {
        item.delivery = Delivery::Sending;
        item.attempts += 1;
        (item.id.clone(), item.body.clone())
    }
}

/// A message body as it is sent: trimmed, and `None` when empty or longer than the server
/// takes (the text field stops typing there; pasted text may not).
pub fn clean_body(text: &str) -> Option<String> {
    let t = text.trim();
    let n = t.chars().count();
    (n > 0 && n <= concierge_wire::message::MAX_MESSAGE_CHARS).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(ids: &[&str]) -> Outbox {
        let mut o = Outbox::default();
        for id in ids {
            o.push((*id).into(), format!("body {id}"));
        }
        o
    }

    fn states(o: &Outbox) -> Vec<(&str, Delivery, u32)> {
        o.items()
            .iter()
            .map(|i| (i.id.as_str(), i.delivery.clone(), i.attempts))
            .collect()
    }

    #[test]
    fn a_send_goes_pending_then_sent_then_gives_way_to_its_row() {
        let mut o = Outbox::default();
        assert_eq!(o.push("a".into(), "hi".into()), ("a".into(), "hi".into()));
        assert_eq!(states(&o), [("a", Delivery::Sending, 1)]);
        o.settle("a", Attempt::Stored);
        assert_eq!(states(&o), [("a", Delivery::Sent, 1)]);
        assert!(o.arrived(["a"]));
        assert!(o.is_empty());
        assert!(!o.arrived(["a"]), "nothing left to drop");
    }

    #[test]
    fn a_refusal_fails_and_a_retry_keeps_the_id() {
        let mut o = boxed(&["a"]);
        o.settle("a", Attempt::Refused("This conversation is closed.".into()));
        assert_eq!(
            states(&o),
            [(
                "a",
                Delivery::Failed("This conversation is closed.".into()),
                1
            )]
        );
        assert_eq!(o.retry("a"), Some(("a".into(), "body a".into())));
        assert_eq!(states(&o), [("a", Delivery::Sending, 2)]);
    }

    #[test]
    fn a_retry_answered_409_was_stored_after_all() {
        let mut o = boxed(&["a"]);
        o.settle("a", Attempt::Unreachable);
        o.retry("a");
        o.settle("a", Attempt::AlreadyStored);
        assert_eq!(states(&o), [("a", Delivery::Sent, 2)]);
    }

    #[test]
    fn unreachable_messages_wait_and_go_once_on_reconnect() {
        let mut o = boxed(&["a", "b", "c"]);
        o.settle("a", Attempt::Unreachable);
        o.settle("b", Attempt::Refused("no".into()));
        o.settle("c", Attempt::Unreachable);
        assert_eq!(
            o.reconnected(),
            vec![
                ("a".to_owned(), "body a".to_owned()),
                ("c".to_owned(), "body c".to_owned())
            ]
        );
        // A second reconnect while those are in flight sends nothing again.
        assert_eq!(o.reconnected(), Vec::<Payload>::new());
        assert_eq!(
            states(&o),
            [
                ("a", Delivery::Sending, 2),
                ("b", Delivery::Failed("no".into()), 1),
                ("c", Delivery::Sending, 2)
            ]
        );
    }

    #[test]
    fn nothing_in_flight_or_sent_is_sent_again() {
        let mut o = boxed(&["a", "b"]);
        o.settle("b", Attempt::Stored);
        assert_eq!(o.retry("a"), None, "in flight");
        assert_eq!(o.retry("b"), None, "sent");
        assert_eq!(o.retry("zz"), None, "unknown");
        assert_eq!(o.reconnected(), Vec::<Payload>::new());
    }

    #[test]
    fn late_answers_change_nothing() {
        let mut o = boxed(&["a"]);
        o.settle("a", Attempt::Stored);
        o.settle("a", Attempt::Unreachable);
        assert_eq!(states(&o), [("a", Delivery::Sent, 1)]);
        // The row came through the live list before the POST answered.
        let mut o = boxed(&["a"]);
        o.arrived(["a"]);
        o.settle("a", Attempt::Refused("late".into()));
        assert!(o.is_empty());
    }

    #[test]
    fn a_row_ends_a_message_in_any_state() {
        let mut o = boxed(&["a", "b", "c"]);
        o.settle("a", Attempt::Unreachable);
        o.settle("b", Attempt::Refused("x".into()));
        assert!(o.arrived(["a", "b", "c", "unrelated"]));
        assert!(o.is_empty());
    }

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(clean_body("  hello \n"), Some("hello".into()));
        assert_eq!(clean_body(" \n\t "), None);
        let max = "é".repeat(concierge_wire::message::MAX_MESSAGE_CHARS);
        assert_eq!(clean_body(&max), Some(max.clone()));
        assert_eq!(clean_body(&format!("{max}x")), None);
        assert_eq!(
            clean_body("line one\nline two"),
            Some("line one\nline two".into())
        );
    }
}
