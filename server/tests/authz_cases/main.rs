//! The authorization rule book, `tests/authz/cases.toml`, run against concierge-server: the
//! same table `scripts/pg-test` runs as pgTAP on PostgreSQL 15 with the hosted migrations.
//! Every case goes through the real REST API of a server started in-process (and every read
//! of a published table through realtime as well; every private channel join through the
//! realtime socket and the REST broadcast endpoint), with tokens carrying the claims
//! `scripts/pg-cases` builds, from the fixtures alone. A rule that drifts from the SQL fails
//! here by case id.

#[path = "../common/mod.rs"]
mod common;

mod book;
mod channels;
mod realtime;
mod rest;

use std::collections::BTreeSet;

use concierge_server::jwt::Keys;
use concierge_server::schema::Table;
use concierge_wire::{AppRole, SessionStatus};

use book::{Book, Do, Outcome};
use common::{SECRET, TestServer};

/// Every transition case agrees with the table of moves the app and the server share
/// (`SessionStatus::may_move`), and every (by, from, to) pair with from ≠ to has exactly one.
#[test]
fn transitions_are_the_moves_table() {
    let book = Book::load();
    let mut seen = BTreeSet::new();
    for c in &book.case {
        let Some(t) = &c.transition else { continue };
        assert!(t.from != t.to, "{}: a transition changes the status", c.id);
        assert!(
            seen.insert((t.by.as_str(), t.from.as_str(), t.to.as_str())),
            "{}: a second case for the same move",
            c.id
        );
        assert_eq!(
            SessionStatus::may_move(t.by, t.from, t.to),
            c.expect == Some(Outcome::Allowed),
            "{}: may_move({:?}, {:?}, {:?})",
            c.id,
            t.by,
            t.from,
            t.to
        );
    }
    let n = SessionStatus::ALL.len();
    assert_eq!(
        seen.len(),
        AppRole::ALL.len() * n * (n - 1),
        "every move has a case"
    );
}

/// The tables and columns of the book are the server's, with the same types, nullability and
/// enums; the realtime publication is the same set of tables.
#[test]
fn schema_and_publication_are_the_books() {
    let book = Book::load();
    let books: BTreeSet<&str> = book.schema.keys().map(String::as_str).collect();
    let ours: BTreeSet<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(books, ours, "tables");
    for (name, spec) in &book.schema {
        let table = Table::parse(name).unwrap();
        let want: BTreeSet<(&str, &str, bool)> = spec
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.ty.as_str(), c.null))
            .collect();
        let have: BTreeSet<(&str, &str, bool)> = table
            .columns()
            .iter()
            .map(|c| (c.name, c.ty.pg_name(), c.nullable))
            .collect();
        assert_eq!(have, want, "columns of {name}");
        for (col, allowed) in &spec.checks {
            let c = table.column(col).unwrap();
            for v in allowed {
                assert!(c.accepts(v), "{name}.{col} accepts {v}");
            }
            assert!(
                !c.accepts(&format!("no-such-{col}")),
                "{name}.{col} is an enum"
            );
        }
    }
    for (name, identity) in &book.realtime.tables {
        let t = Table::parse(name).unwrap();
        assert!(t.published(), "{name} is published");
        // The writer's UPDATE and DELETE changes carry the primary key only as old_record
        // (checked on the wire by the realtime observer).
        assert_eq!(
            identity, "default",
            "{name}: the server sends the default identity"
        );
    }
    for name in &book.realtime.absent {
        assert!(
            !Table::parse(name).unwrap().published(),
            "{name} is not published"
        );
    }
}

/// Every case of the book through the REST API, every read of a published table through
/// realtime too, and every private channel join through realtime. All cases run; the failures are listed together by id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_through_the_api() {
    let book = Book::load();
    // The book's rules, not the session-request rate (tests/session_limits.rs): one customer
    // makes many requests here within a minute.
    let server = TestServer::start(&["--session-requests-per-user-per-minute", "0"]).await;
    let rest = rest::Rest {
        server: &server,
        book: &book,
        keys: Keys::new(SECRET),
        http: reqwest::Client::new(),
    };
    let mut failed = Vec::new();
    let mut realtime_reads = 0;
    let mut joins = 0;
    for c in &book.case {
        rest.reset().await;
        if c.action == Do::Join {
            joins += 1;
            match channels::observe(&rest, c).await {
                Ok(o) if Some(o) == c.expect => {}
                Ok(o) => failed.push(format!("{} (channel): {o:?}, not {:?}", c.id, c.expect)),
                Err(why) => failed.push(format!("{} (channel): {why}", c.id)),
            }
            continue;
        }
        if let Err(why) = rest.check(c).await {
            failed.push(format!("{} (REST): {why}", c.id));
        }
        if c.action != Do::Select || !book.realtime.tables.contains_key(&c.table) {
            continue;
        }
        rest.reset().await;
        realtime_reads += 1;
        let want = c.visible.clone().map(|mut v| {
            v.sort();
            v
        });
        match realtime::visible(&rest, c).await {
            Ok(seen) if seen == want => {}
            Ok(seen) => failed.push(format!("{} (realtime): sees {seen:?}, not {want:?}", c.id)),
            Err(why) => failed.push(format!("{} (realtime): {why}", c.id)),
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases differ from the rule book:\n  {}",
        failed.len(),
        book.case.len(),
        failed.join("\n  ")
    );
    eprintln!(
        "{} cases through REST, {realtime_reads} reads through realtime, {joins} private joins",
        book.case.len() - joins
    );
}
