//! The auth store against a real SQLite file: users, rotation, reuse and expiry of refresh tokens.

use super::*;

const STRICT: RotationPolicy = RotationPolicy {
    reuse_interval_ms: -1,
    lifetime_ms: i64::MAX,
};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("t.db")).unwrap();
    (dir, s)
}

#[test]
fn rotation_chain_and_reuse_revokes_the_chain() {
    let (_d, s) = store();
    s.run_blocking(|c| {
        let u = insert_user(c, "a@x.test", "h", AppRole::Customer, None)?;
        assert!(matches!(
            insert_user(c, "a@x.test", "h", AppRole::Customer, None),
            Err(StoreError::EmailTaken)
        ));
        insert_refresh(c, "t1", &u.id, "s1")?;
        assert!(matches!(rotate(c, "t1", "t2", STRICT)?, Rotation::Rotated { session_id, .. } if session_id == "s1"));
        assert_eq!(rotate(c, "nope", "x", STRICT)?, Rotation::NotFound);
        // t1 again, past the reuse interval: the live t2 is revoked too.
        assert_eq!(rotate(c, "t1", "t2", STRICT)?, Rotation::Reused);
        assert_eq!(rotate(c, "t2", "t4", STRICT)?, Rotation::Reused);
        assert!(!session_alive(c, "s1")?);
        // Within the interval: the same successor, the chain stays alive.
        let lenient = RotationPolicy {
            reuse_interval_ms: 10_000,
            ..STRICT
        };
        insert_refresh(c, "r1", &u.id, "s2")?;
        assert!(matches!(rotate(c, "r1", "r2", lenient)?, Rotation::Rotated { .. }));
        assert!(matches!(rotate(c, "r1", "r2", lenient)?, Rotation::Rotated { .. }));
        assert!(session_alive(c, "s2")?);
        assert!(matches!(rotate(c, "r2", "r3", lenient)?, Rotation::Rotated { .. }));
        // After a sign-out the successor is revoked: a reuse is a reuse.
        revoke(c, &u.id, Some("s2"), LogoutScope::Local)?;
        assert_eq!(rotate(c, "r2", "r3", lenient)?, Rotation::Reused);
        // An unused token past its lifetime is refused.
        insert_refresh(c, "old", &u.id, "s3")?;
        let expired = RotationPolicy {
            lifetime_ms: -1,
            ..STRICT
        };
        assert_eq!(rotate(c, "old", "new", expired)?, Rotation::Expired);
        assert!(!session_alive(c, "s3")?);
        Ok(())
    })
    .unwrap();
}

#[test]
fn logout_scopes() {
    let (_d, s) = store();
    s.run_blocking(|c| {
        let u = insert_user(c, "b@x.test", "h", AppRole::Staff, Some("B"))?;
        insert_refresh(c, "a", &u.id, "s1")?;
        insert_refresh(c, "b", &u.id, "s2")?;
        insert_refresh(c, "c", &u.id, "s3")?;
        assert_eq!(revoke(c, &u.id, Some("s1"), LogoutScope::Local)?, 1);
        assert!(session_alive(c, "s2")?);
        assert_eq!(revoke(c, &u.id, Some("s2"), LogoutScope::Others)?, 1);
        assert!(session_alive(c, "s2")? && !session_alive(c, "s3")?);
        assert_eq!(revoke(c, &u.id, None, LogoutScope::Global)?, 1);
        assert!(!session_alive(c, "s2")?);
        let up = upsert_user(c, "b@x.test", "h2", AppRole::Customer, None)?;
        assert_eq!(up.id, u.id);
        assert_eq!(
            up.identity,
            Identity::Email {
                email: "b@x.test".into(),
                password_hash: "h2".into(),
                role: AppRole::Customer
            }
        );
        let k = insert_anonymous(c, None)?;
        assert!(k.is_anonymous() && k.email().is_none() && k.role().is_none());
        insert_refresh(c, "k", &k.id, "ks")?;
        assert!(session_alive(c, "ks")?);
        // What a restart reloads as signed out: every ended sign-in, not the live one.
        let mut ended: Vec<String> = ended_since(c, "2000-01-01T00:00:00.000Z")?
            .into_iter()
            .map(|(sid, _)| sid)
            .collect();
        ended.sort();
        assert_eq!(ended, ["s1", "s2", "s3"]);
        assert!(ended_since(c, "2999-01-01T00:00:00.000Z")?.is_empty());
        assert_eq!(
            sessions_ending(c, &k.id, Some("ks"), LogoutScope::Others)?,
            Vec::<String>::new()
        );
        Ok(())
    })
    .unwrap();
}
