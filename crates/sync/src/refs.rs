//! Phoenix message refs: one counter per socket, shared by its heartbeats and its channels'
//! pushes (a channel's join ref is one of them), so every ref on a connection is distinct.

/// The socket's ref counter, lent to channels so they can stamp their own messages without
/// holding the socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs(u64);

impl Refs {
    /// A fresh ref.
    pub fn fresh(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}
