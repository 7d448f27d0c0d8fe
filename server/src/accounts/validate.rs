//! What `/auth/v1` accepts as an email, a password and a display name.

use super::MIN_PASSWORD_LEN;
use super::error::AuthApiError;

/// Lower-cased, trimmed, and shaped like `local@domain.tld`.
pub fn normalize_email(raw: &str) -> Result<String, AuthApiError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(e)
    } else {
        Err(AuthApiError::InvalidEmail)
    }
}

pub fn check_password(p: &str) -> Result<(), AuthApiError> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthApiError::WeakPassword(MIN_PASSWORD_LEN));
    }
    if p.len() > 1024 {
        return Err(AuthApiError::Validation("Password is too long".into()));
    }
    Ok(())
}

pub fn clean_name(n: Option<&str>) -> Option<String> {
    n.map(|s| {
        s.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect::<String>()
    })
    .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_validated() {
        assert_eq!(
            normalize_email("  Priya@Hotel.Test ").unwrap(),
            "priya@hotel.test"
        );
        for bad in [
            "",
            "no-at",
            "@x.test",
            "a@b",
            "a@.x",
            "a@x.",
            "a b@x.test",
            "a@b@c.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("12345").is_err());
        assert!(check_password("123456").is_ok());
        assert_eq!(clean_name(Some("  Ana\u{7}  ")), Some("Ana".into()));
        assert_eq!(clean_name(Some("   ")), None);
    }
}
