//! SASL PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd` in one message.

use crate::credentials::CredentialStore;
use crate::error::AuthError;
use crate::mechanism::{Mechanism, Principal};
use crate::step::Step;

pub(crate) fn authenticate(store: &CredentialStore, message: &[u8]) -> Step {
    match parse(message) {
        Ok((user, password)) => {
            // Unknown users are checked against a decoy so that they cost the
            // same key derivation and fail the same way as a wrong password.
            let (cred, known) = store.lookup_or_decoy(user);
            if cred.verify_password(password.as_bytes()) && known {
                Step::Done {
                    principal: Principal {
                        name: user.to_string(),
                        mechanism: Mechanism::Plain,
                    },
                    response: Vec::new(),
                }
            } else {
                Step::Failed(AuthError::InvalidCredentials(Mechanism::Plain))
            }
        }
        Err(message) => Step::Failed(AuthError::Malformed {
            mechanism: Mechanism::Plain,
            message,
        }),
    }
}

fn parse(message: &[u8]) -> Result<(&str, &str), String> {
    let text = std::str::from_utf8(message).map_err(|_| "message is not UTF-8".to_string())?;
    let mut parts = text.split('\0');
    let (Some(authzid), Some(user), Some(password), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected [authzid] NUL username NUL password".into());
    };
    if user.is_empty() || password.is_empty() {
        return Err("username and password must not be empty".into());
    }
    // Like Kafka: acting as another identity is not supported.
    if !authzid.is_empty() && authzid != user {
        return Err(format!(
            "authorization id {authzid:?} differs from username {user:?}"
        ));
    }
    Ok((user, password))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ScramCredential;

    fn store() -> CredentialStore {
        let mut s = CredentialStore::default();
        s.insert("alice", ScramCredential::generate(b"s3cret", 4096))
            .unwrap();
        s
    }

    #[test]
    fn accepts_right_password_with_or_without_authzid() {
        for msg in [&b"\0alice\0s3cret"[..], b"alice\0alice\0s3cret"] {
            match authenticate(&store(), msg) {
                Step::Done {
                    principal,
                    response,
                } => {
                    assert_eq!(principal.name, "alice");
                    assert!(response.is_empty());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn wrong_password_and_unknown_user_fail_identically() {
        let wrong = authenticate(&store(), b"\0alice\0nope");
        let ghost = authenticate(&store(), b"\0ghost\0s3cret");
        assert_eq!(wrong, ghost);
        assert_eq!(
            wrong,
            Step::Failed(AuthError::InvalidCredentials(Mechanism::Plain))
        );
    }

    #[test]
    fn malformed_messages_are_reported() {
        for msg in [
            &b""[..],
            b"alice",
            b"\0alice",
            b"\0alice\0pw\0extra",
            b"\0\0pw",
            b"bob\0alice\0s3cret",
            b"\0al\xffice\0pw",
        ] {
            match authenticate(&store(), msg) {
                Step::Failed(AuthError::Malformed { .. }) => {}
                other => panic!("{msg:?} gave {other:?}"),
            }
        }
    }
}
