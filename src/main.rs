//! Entry point: install the panic hook, then mount. The app itself lives in `lib.rs`.

fn main() {
    concierge::start();
}
