//! The kiosk's own entry point, served at `/kiosk` (`kiosk.html`): the same app with only the
//! kiosk page linked in, so a lobby screen downloads none of the sign-in, session or staff code.

fn main() {
    concierge::start_with(concierge::app::kiosk_only);
}
