//! Closing channels whose sign-in has ended (`POST /auth/v1/logout`): the token is refused
//! everywhere from then on, so a channel already joined with it stops too, the way a channel
//! whose token expires does (a `system` error, then `phx_close`).

use super::conn::Conn;
use super::now_secs;

/// What the client reads in the `system` message.
const SIGNED_OUT: &str = "Token has been revoked: its sign-in has ended (signed out)";

impl Conn {
    pub(super) fn end_signed_out(&mut self) {
        let now = now_secs();
        let signed_out = self.keys.signed_out();
        let ended: Vec<String> = self
            .channels
            .iter()
            .filter(|(_, j)| {
                j.principal
                    .session_id()
                    .is_some_and(|sid| signed_out.contains(sid, now))
            })
            .map(|(t, _)| t.clone())
            .collect();
        for topic in ended {
            tracing::info!(topic = %topic, "realtime channel's sign-in ended; closing it");
            let join_ref = self.channels.get(&topic).and_then(|j| j.join_ref.clone());
            let m = self.system_frame(&topic, &join_ref, "system", "error", SIGNED_OUT);
            self.send(m);
            self.close_channel(&topic);
        }
    }
}
