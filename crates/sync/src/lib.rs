//! Placeholder: the sync engine core lands here.
