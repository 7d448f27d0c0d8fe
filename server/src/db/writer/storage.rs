//! "Disk full is an answer": the configured maximum database size, and remembering that the
//! storage is full so it is logged once, not once per refused write.

use rusqlite::Connection;

use crate::db::{DbError, Options};

/// Caps the database at `opts.max_db_bytes` with `PRAGMA max_page_count` (a per-connection
/// setting: the writer connection is the one that grows the file). A write that needs a page
/// beyond the cap fails with `SQLITE_FULL`, exactly like a full disk, and rolls back.
pub(crate) fn limit_size(conn: &Connection, opts: &Options) -> rusqlite::Result<()> {
    let Some(max) = opts.max_db_bytes else {
        return Ok(());
    };
    let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let pages = (max / page.max(512) as u64).clamp(1, i64::MAX as u64);
    // SQLite keeps the cap at least at the current size: a database already over it stays
    // readable and writable in place, but does not grow.
    let set: i64 = conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
        r.get(0)
    })?;
    if set as u64 > pages {
        tracing::warn!(
            max_bytes = max,
            current_bytes = set * page,
            "the database is already larger than its configured maximum; it will not grow"
        );
    }
    Ok(())
}

/// A change of [`FullState`], the only moments worth a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transition {
    BecameFull,
    SpaceBack,
}

/// Whether the last write found the storage full; logs the transitions only.
#[derive(Debug, Default)]
pub(super) struct FullState {
    full: bool,
}

impl FullState {
    pub(super) fn note<T>(&mut self, out: &Result<T, DbError>) -> Option<Transition> {
        match out {
            Err(DbError::StorageFull) if !self.full => {
                self.full = true;
                tracing::error!(
                    "storage full (the configured maximum database size, or the disk): writes \
                     are refused with 503 until space is freed or the limit is raised; reads \
                     and realtime continue"
                );
                Some(Transition::BecameFull)
            }
            Ok(_) if self.full => {
                self.full = false;
                tracing::info!("storage available again: writes are accepted");
                Some(Transition::SpaceBack)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_storage_is_logged_once_and_its_end_once() {
        let mut s = FullState::default();
        let full: Result<(), DbError> = Err(DbError::StorageFull);
        let other: Result<(), DbError> = Err(DbError::StatementTimeout);
        assert_eq!(s.note(&full), Some(Transition::BecameFull));
        for _ in 0..100 {
            assert_eq!(s.note(&full), None);
            assert_eq!(s.note(&other), None);
        }
        assert_eq!(s.note(&Ok(())), Some(Transition::SpaceBack));
        assert_eq!(s.note(&Ok(())), None);
    }

    #[test]
    fn the_cap_is_set_in_pages() {
        let conn = Connection::open_in_memory().unwrap();
        let opts = Options {
            max_db_bytes: Some(1024 * 1024),
            ..Options::default()
        };
        limit_size(&conn, &opts).unwrap();
        let page: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        let max: i64 = conn
            .query_row("PRAGMA max_page_count", [], |r| r.get(0))
            .unwrap();
        assert_eq!(max * page, 1024 * 1024);
    }
}
