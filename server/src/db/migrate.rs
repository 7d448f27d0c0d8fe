//! Schema migrations, applied in order at start. `PRAGMA user_version` records how many ran.

use rusqlite::Connection;

/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: the Concierge tables (the SQLite twin of `supabase/migrations/0001_concierge.sql`).
    // STRICT tables enforce storage types; timestamps are canonical UTC text (see time_fmt),
    // booleans 0/1, jsonb validated text.
    r#"
    CREATE TABLE hotels (
        id        TEXT PRIMARY KEY NOT NULL,
        name      TEXT NOT NULL,
        latitude  REAL,
        longitude REAL,
        timezone  TEXT NOT NULL
    ) STRICT;

    CREATE TABLE events (
        id               TEXT PRIMARY KEY NOT NULL,
        hotel_id         TEXT NOT NULL,
        title            TEXT NOT NULL,
        category         TEXT NOT NULL,
        description      TEXT,
        venue            TEXT,
        starts_at        TEXT NOT NULL,
        ends_at          TEXT,
        price_text       TEXT,
        distance_km      REAL,
        is_hotel_service INTEGER NOT NULL DEFAULT 0 CHECK (is_hotel_service IN (0, 1)),
        image_url        TEXT,
        booking_url      TEXT,
        updated_at       TEXT NOT NULL
    ) STRICT;
    CREATE INDEX events_hotel_starts ON events (hotel_id, starts_at);

    CREATE TABLE kiosk_results (
        id         TEXT PRIMARY KEY NOT NULL,
        session_id TEXT NOT NULL,
        results    TEXT NOT NULL CHECK (json_valid(results)),
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX kiosk_results_session ON kiosk_results (session_id, created_at);

    CREATE TABLE sessions (
        id          TEXT PRIMARY KEY NOT NULL,
        customer_id TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('pending', 'waiting', 'live', 'completed', 'cancelled')),
        kind        TEXT NOT NULL CHECK (kind IN ('chat', 'video', 'concierge')),
        staff_id    TEXT,
        staff_name  TEXT,
        topic       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        ended_at    TEXT
    ) STRICT;
    CREATE INDEX sessions_customer ON sessions (customer_id);
    CREATE INDEX sessions_status ON sessions (status);
    "#,
    // 2: users and refresh tokens for /auth/v1 (issue 6). Not in `schema::Table`, so never
    // reachable over REST or realtime. Refresh tokens are stored as SHA-256 hashes; a rotated
    // token stays (revoked) so reuse can be recognised, and `session_id` groups one sign-in's
    // chain of tokens so a reuse or a sign-out revokes the whole chain.
    r#"
    CREATE TABLE users (
        id              TEXT PRIMARY KEY NOT NULL,
        email           TEXT NOT NULL UNIQUE,
        password_hash   TEXT NOT NULL,
        app_role        TEXT NOT NULL CHECK (app_role IN ('customer', 'staff')),
        name            TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        last_sign_in_at TEXT
    ) STRICT;

    CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY NOT NULL,
        user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        session_id TEXT NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
    CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
    "#,
    // 3: the requesting customer's display name on their session, so staff know whom they
    // are helping. Stamped by the server from the customer's token at insert (authz), never
    // taken from the client, and immutable afterwards.
    r#"
    ALTER TABLE sessions ADD COLUMN customer_name TEXT;
    "#,
    // 4: kiosk privacy (issue 15; `supabase/migrations/0002_rules_level.sql` is its twin). A
    // kiosk is an anonymous sign-in; it claims the session ids it shows in `kiosk_sessions`
    // (once: the primary key), and each result carries the claim's owner, derived by the writer
    // (`ColDefault::KioskOwner`), so only that kiosk reads it. No foreign key to `users`: the
    // owner is a token's `sub`, and the claims go when the results expire.
    r#"
    CREATE TABLE kiosk_sessions (
        id         TEXT PRIMARY KEY NOT NULL,
        owner_id   TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX kiosk_sessions_owner ON kiosk_sessions (owner_id);
    ALTER TABLE kiosk_results ADD COLUMN owner_id TEXT;
    CREATE INDEX kiosk_results_owner ON kiosk_results (owner_id, created_at);
    "#,
    // 5: anonymous sign-ins (GoTrue's `is_anonymous`, the kiosks' identities): users without
    // email, password or app role. SQLite cannot drop NOT NULL in place, so `users` is rebuilt
    // (its refresh tokens with it, pointing at the new table before the old one is dropped, so
    // that no ON DELETE CASCADE fires); renaming fixes the foreign key's table name.
    r#"
    CREATE TABLE users_v5 (
        id              TEXT PRIMARY KEY NOT NULL,
        email           TEXT UNIQUE,
        password_hash   TEXT,
        app_role        TEXT CHECK (app_role IN ('customer', 'staff')),
        name            TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        last_sign_in_at TEXT,
        is_anonymous    INTEGER NOT NULL DEFAULT 0 CHECK (is_anonymous IN (0, 1)),
        CHECK ((is_anonymous = 1) = (email IS NULL AND password_hash IS NULL AND app_role IS NULL))
    ) STRICT;
    INSERT INTO users_v5 (id, email, password_hash, app_role, name, created_at, updated_at, last_sign_in_at)
        SELECT id, email, password_hash, app_role, name, created_at, updated_at, last_sign_in_at FROM users;

    CREATE TABLE refresh_tokens_v5 (
        token_hash TEXT PRIMARY KEY NOT NULL,
        user_id    TEXT NOT NULL REFERENCES users_v5 (id) ON DELETE CASCADE,
        session_id TEXT NOT NULL,
        revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) STRICT;
    INSERT INTO refresh_tokens_v5 (token_hash, user_id, session_id, revoked, created_at, updated_at)
        SELECT token_hash, user_id, session_id, revoked, created_at, updated_at FROM refresh_tokens;

    DROP TABLE refresh_tokens;
    DROP TABLE users;
    ALTER TABLE users_v5 RENAME TO users;
    ALTER TABLE refresh_tokens_v5 RENAME TO refresh_tokens;
    CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
    CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
    "#,
    // 6: messages (issue 16; `supabase/migrations/0005_messages.sql` is its twin): the conversation
    // inside a session. `session_id` names a `sessions` row or a kiosk's `kiosk_sessions` claim,
    // so it has no foreign key (the writer checks it exists, as the hosted trigger does).
    // `reply_queue` holds the customer messages the concierge may still have to answer
    // (`concierge::queue`): in the same transaction as the message, so a restart loses none.
    // Not in `schema::Table`: never reachable over REST or realtime.
    r#"
    CREATE TABLE messages (
        id          TEXT PRIMARY KEY NOT NULL,
        session_id  TEXT NOT NULL,
        author_role TEXT NOT NULL CHECK (author_role IN ('customer', 'staff', 'concierge')),
        author_id   TEXT,
        author_name TEXT,
        body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
        created_at  TEXT NOT NULL
    ) STRICT;
    CREATE INDEX messages_session ON messages (session_id, created_at);

    CREATE TABLE reply_queue (
        message_id  TEXT PRIMARY KEY NOT NULL,
        session_id  TEXT NOT NULL,
        enqueued_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX reply_queue_due ON reply_queue (enqueued_ms);
    "#,
    // 7: reservations with live capacity (issue 17; `supabase/migrations/0004_reservations.sql`
    // is its twin). `places_left` is derived by the writer (capacity minus the confirmed
    // parties), in the same transaction as each booking; reservations are written only by the
    // `reserve` / `cancel_reservation` calls. The bounds are `concierge_wire::reservation`'s.
    r#"
    ALTER TABLE events ADD COLUMN capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0);
    ALTER TABLE events ADD COLUMN places_left INTEGER CHECK (places_left IS NULL OR places_left >= 0);
    CREATE TABLE reservations (
        id         TEXT PRIMARY KEY NOT NULL,
        event_id   TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        guest_name TEXT NOT NULL CHECK (length(trim(guest_name)) BETWEEN 1 AND 120),
        room       TEXT NOT NULL CHECK (length(trim(room)) BETWEEN 1 AND 20),
        party_size INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 10),
        status     TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX reservations_event ON reservations (event_id, status);
    CREATE INDEX reservations_created ON reservations (created_at);
    "#,
    // 8: the retention sweep (`db::retention`) deletes kiosk results by age once a minute.
    // Without an index on the age alone that was a scan of the whole table each time, on the
    // writer's thread: 0.4 s per sweep at 6 million rows (1.7 GB), under 1 ms with the index;
    // a soak saw the commit p99 grow with the table (to 0.2 s at 2.5 GB). Appending to this
    // index costs little: `created_at` only grows.
    r#"
    CREATE INDEX kiosk_results_created ON kiosk_results (created_at);
    "#,
];

pub fn apply(conn: &mut Connection) -> rusqlite::Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        // PRAGMA takes no bound parameters; the value is our own integer.
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied migration");
    }
    Ok(MIGRATIONS.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made by an older build (migrations 1–2, a session in it) upgrades in place:
    /// the new column appears, old rows keep their data and read NULL for it.
    #[test]
    fn an_older_database_upgrades_in_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        for (i, sql) in MIGRATIONS.iter().take(2).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .unwrap();
        }
        conn.execute(
            "INSERT INTO sessions (id, customer_id, status, kind, created_at, updated_at)
             VALUES ('s1', 'c1', 'pending', 'chat', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        assert_eq!(apply(&mut conn).unwrap(), MIGRATIONS.len() as u32);
        let (status, name): (String, Option<String>) = conn
            .query_row(
                "SELECT status, customer_name FROM sessions WHERE id = 's1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((status.as_str(), name), ("pending", None));
        // Running again changes nothing.
        assert_eq!(apply(&mut conn).unwrap(), MIGRATIONS.len() as u32);
    }

    /// Rebuilding `users` for anonymous sign-ins keeps every account and its refresh tokens,
    /// and the tokens still belong to `users` (deleting a user deletes its tokens).
    #[test]
    fn users_rebuild_keeps_accounts_and_tokens() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for (i, sql) in MIGRATIONS.iter().take(4).enumerate() {
            conn.execute_batch(sql).unwrap();
            conn.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO users (id, email, password_hash, app_role, name, created_at, updated_at)
             VALUES ('u1', 'a@x.test', 'h', 'staff', 'A', 't', 't');
             INSERT INTO refresh_tokens (token_hash, user_id, session_id, created_at, updated_at)
             VALUES ('r1', 'u1', 's1', 't', 't');",
        )
        .unwrap();
        apply(&mut conn).unwrap();
        let (email, anonymous): (String, bool) = conn
            .query_row(
                "SELECT email, is_anonymous FROM users WHERE id = 'u1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((email.as_str(), anonymous), ("a@x.test", false));
        let tokens = |c: &Connection| -> i64 {
            c.query_row("SELECT COUNT(*) FROM refresh_tokens", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(tokens(&conn), 1);
        // An anonymous user has no email, password or role; a half-anonymous one is refused.
        conn.execute_batch(
            "INSERT INTO users (id, is_anonymous, created_at, updated_at) VALUES ('k1', 1, 't', 't')",
        )
        .unwrap();
        assert!(
            conn.execute_batch(
                "INSERT INTO users (id, email, is_anonymous, created_at, updated_at)
                 VALUES ('k2', 'k@x.test', 1, 't', 't')"
            )
            .is_err()
        );
        conn.execute_batch("DELETE FROM users WHERE id = 'u1'")
            .unwrap();
        assert_eq!(
            tokens(&conn),
            0,
            "the foreign key follows the rebuilt table"
        );
    }
}
