//! SCRAM-SHA-256 server side (RFC 5802, RFC 7677), without channel binding.
//!
//! ```text
//! client-first  n,,n=user,r=<cnonce>
//! server-first  r=<cnonce><snonce>,s=<salt>,i=<iterations>
//! client-final  c=biws,r=<cnonce><snonce>,p=<proof>
//! server-final  v=<server signature>
//! ```

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::credentials::hmac;
use crate::credentials::{CredentialStore, ScramCredential};
use crate::error::AuthError;
use crate::mechanism::{Mechanism, Principal};
use crate::step::Step;

const MECH: Mechanism = Mechanism::ScramSha256;

/// A fresh server nonce: 24 random bytes, base64 (printable, no commas).
pub(crate) fn random_nonce() -> String {
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    B64.encode(bytes)
}

enum State {
    Initial,
    ServerFirstSent(Box<Exchange>),
    Finished,
}

struct Exchange {
    user: String,
    known: bool,
    cred: ScramCredential,
    gs2_header: String,
    client_nonce: String,
    nonce: String,
    client_first_bare: String,
    server_first: String,
}

/// One SCRAM-SHA-256 exchange, server side.
pub(crate) struct ScramServer {
    server_nonce: String,
    state: State,
}

fn malformed(message: impl Into<String>) -> AuthError {
    AuthError::Malformed {
        mechanism: MECH,
        message: message.into(),
    }
}

fn unsupported(message: impl Into<String>) -> AuthError {
    AuthError::Unsupported {
        mechanism: MECH,
        message: message.into(),
    }
}

/// Decodes a `saslname`: `=2C` is `,` and `=3D` is `=`; any other `=` or a
/// bare `,` is an error.
fn decode_saslname(s: &str) -> Result<String, AuthError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(['=', ',']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("=2C") {
            out.push(',');
        } else if tail.starts_with("=3D") {
            out.push('=');
        } else {
            return Err(malformed(format!("invalid escape in name {s:?}")));
        }
        rest = &tail[3..];
    }
    out.push_str(rest);
    Ok(out)
}

fn valid_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// Whether the client-final nonce is the combined nonce `ex.nonce`, as RFC
/// 5802 requires, or the same preceded by the client's own nonce once more:
/// librdkafka up to 2.x's fix (Debian's kcat links 2.0.2) sends
/// `r=<client nonce><combined nonce>`, which Kafka accepted by checking only
/// that the nonce ends with the combined one. Nothing else is accepted, and
/// the proof is checked over the message as sent, so the exchange stays
/// bound to this server's fresh nonce.
fn nonce_matches(nonce: &str, ex: &Exchange) -> bool {
    nonce == ex.nonce
        || nonce
            .strip_prefix(ex.client_nonce.as_str())
            .is_some_and(|rest| rest == ex.nonce)
}

impl ScramServer {
    /// An exchange that will append `server_nonce` to the client's nonce.
    pub(crate) fn new(server_nonce: String) -> Self {
        ScramServer {
            server_nonce,
            state: State::Initial,
        }
    }

    /// Handles the next client message.
    pub(crate) fn step(&mut self, store: &CredentialStore, message: &[u8]) -> Step {
        let state = std::mem::replace(&mut self.state, State::Finished);
        let result = match state {
            State::Initial => self.client_first(store, message).map(|(exchange, reply)| {
                self.state = State::ServerFirstSent(Box::new(exchange));
                Step::Continue(reply.into_bytes())
            }),
            State::ServerFirstSent(exchange) => Self::client_final(&exchange, message),
            State::Finished => Err(AuthError::IllegalState(
                "SCRAM exchange already finished".into(),
            )),
        };
        result.unwrap_or_else(Step::Failed)
    }

    fn client_first(
        &self,
        store: &CredentialStore,
        message: &[u8],
    ) -> Result<(Exchange, String), AuthError> {
        let text = std::str::from_utf8(message).map_err(|_| malformed("message is not UTF-8"))?;
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let (flag, rest) = text
            .split_once(',')
            .ok_or_else(|| malformed("missing GS2 header"))?;
        match flag {
            "n" | "y" => {}
            f if f.starts_with("p=") => return Err(unsupported("channel binding")),
            f => return Err(malformed(format!("invalid channel binding flag {f:?}"))),
        }
        let (authzid_field, bare) = rest
            .split_once(',')
            .ok_or_else(|| malformed("missing GS2 header"))?;
        let authzid = match authzid_field {
            "" => None,
            a => Some(decode_saslname(a.strip_prefix("a=").ok_or_else(|| {
                malformed(format!("invalid authorization id {a:?}"))
            })?)?),
        };
        let gs2_header = format!("{flag},{authzid_field},");

        let mut attrs = bare.split(',');
        let first = attrs.next().unwrap_or("");
        if first.starts_with("m=") {
            return Err(unsupported("mandatory extensions"));
        }
        let user = decode_saslname(
            first
                .strip_prefix("n=")
                .ok_or_else(|| malformed("expected n=<username>"))?,
        )?;
        if user.is_empty() {
            return Err(malformed("empty username"));
        }
        let client_nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or_else(|| malformed("expected r=<nonce>"))?;
        if !valid_nonce(client_nonce) {
            return Err(malformed("invalid client nonce"));
        }
        for ext in attrs {
            // Kafka sends `tokenauth=true` for delegation tokens.
            if ext.starts_with("tokenauth=") && ext != "tokenauth=false" {
                return Err(unsupported("delegation token authentication"));
            }
        }
        if let Some(a) = authzid {
            if a != user {
                return Err(malformed(format!(
                    "authorization id {a:?} differs from username {user:?}"
                )));
            }
        }

        let (cred, known) = store.lookup_or_decoy(&user);
        let nonce = format!("{client_nonce}{}", self.server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&cred.salt),
            cred.iterations
        );
        let exchange = Exchange {
            user,
            known,
            cred,
            gs2_header,
            client_nonce: client_nonce.to_string(),
            nonce,
            client_first_bare: bare.to_string(),
            server_first: server_first.clone(),
        };
        Ok((exchange, server_first))
    }

    fn client_final(ex: &Exchange, message: &[u8]) -> Result<Step, AuthError> {
        let text = std::str::from_utf8(message).map_err(|_| malformed("message is not UTF-8"))?;
        let (without_proof, proof) = text
            .rsplit_once(",p=")
            .ok_or_else(|| malformed("missing proof"))?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or_else(|| malformed("expected c=<channel binding>"))?;
        let binding = B64
            .decode(binding)
            .map_err(|_| malformed("channel binding is not base64"))?;
        if binding != ex.gs2_header.as_bytes() {
            return Err(malformed("channel binding does not match the GS2 header"));
        }
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or_else(|| malformed("expected r=<nonce>"))?;
        if !nonce_matches(nonce, ex) {
            return Err(malformed("nonce does not match"));
        }
        let proof: [u8; 32] = B64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| malformed("proof is not 32 base64-encoded bytes"))?;

        let auth_message = format!(
            "{},{},{without_proof}",
            ex.client_first_bare, ex.server_first
        );
        let client_signature = hmac(&ex.cred.stored_key, auth_message.as_bytes());
        let mut client_key = [0u8; 32];
        for (k, (p, s)) in client_key
            .iter_mut()
            .zip(proof.iter().zip(client_signature.iter()))
        {
            *k = p ^ s;
        }
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        let matches: bool = stored.ct_eq(&ex.cred.stored_key).into();
        if !(matches && ex.known) {
            return Err(AuthError::InvalidCredentials(MECH));
        }
        let server_signature = hmac(&ex.cred.server_key, auth_message.as_bytes());
        Ok(Step::Done {
            principal: Principal {
                name: ex.user.clone(),
                mechanism: MECH,
            },
            response: format!("v={}", B64.encode(server_signature)).into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client computing the proof as RFC 5802 section 3 describes, to
    /// drive the server through full exchanges.
    fn client_final(
        password: &str,
        client_first_bare: &str,
        server_first: &str,
        gs2: &str,
    ) -> (String, [u8; 32]) {
        let nonce = server_first
            .split(',')
            .next()
            .unwrap()
            .strip_prefix("r=")
            .unwrap();
        client_final_sending(password, client_first_bare, server_first, gs2, nonce)
    }

    /// [`client_final`] sending `nonce` in the final message.
    fn client_final_sending(
        password: &str,
        client_first_bare: &str,
        server_first: &str,
        gs2: &str,
        nonce: &str,
    ) -> (String, [u8; 32]) {
        let mut fields = server_first.split(',');
        let _ = fields.next();
        let salt = B64
            .decode(fields.next().unwrap().strip_prefix("s=").unwrap())
            .unwrap();
        let iterations: u32 = fields.next().unwrap()[2..].parse().unwrap();
        let salted = crate::credentials::salted_password(password.as_bytes(), &salt, iterations);
        let client_key = crate::credentials::client_key(&salted);
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let without_proof = format!("c={},r={nonce}", B64.encode(gs2));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = hmac(&salted, b"Server Key");
        (
            format!("{without_proof},p={}", B64.encode(proof)),
            hmac(&server_key, auth_message.as_bytes()),
        )
    }

    fn rfc_store() -> CredentialStore {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let mut store = CredentialStore::default();
        store
            .insert("user", ScramCredential::derive(b"pencil", &salt, 4096))
            .unwrap();
        store
    }

    #[test]
    fn rfc7677_test_vector() {
        // RFC 7677 section 3, byte for byte.
        let store = rfc_store();
        let mut server = ScramServer::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into());
        let first = server.step(&store, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        assert_eq!(
            first,
            Step::Continue(
                b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
                    .to_vec()
            )
        );
        let last = server.step(
            &store,
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
              p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        );
        match last {
            Step::Done {
                principal,
                response,
            } => {
                assert_eq!(principal.name, "user");
                assert_eq!(
                    String::from_utf8(response).unwrap(),
                    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            server.step(&store, b"again"),
            Step::Failed(AuthError::IllegalState(_))
        ));
    }

    #[test]
    fn full_exchange_with_random_nonce_escaped_name_and_authzid() {
        let mut store = CredentialStore::default();
        store
            .insert("a,b=c", ScramCredential::generate(b"pw", 4096))
            .unwrap();
        let mut server = ScramServer::new(random_nonce());
        let gs2 = "n,a=a=2Cb=3Dc,";
        let bare = "n=a=2Cb=3Dc,r=abcdef";
        let Step::Continue(sf) = server.step(&store, format!("{gs2}{bare}").as_bytes()) else {
            panic!("no server-first");
        };
        let sf = String::from_utf8(sf).unwrap();
        let (cf, expected_sig) = client_final("pw", bare, &sf, gs2);
        match server.step(&store, cf.as_bytes()) {
            Step::Done {
                principal,
                response,
            } => {
                assert_eq!(principal.name, "a,b=c");
                assert_eq!(
                    response,
                    format!("v={}", B64.encode(expected_sig)).into_bytes()
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_password_and_unknown_user_fail_at_the_proof() {
        for (user, password) in [("user", "pen"), ("ghost", "pencil")] {
            let store = rfc_store();
            let mut server = ScramServer::new(random_nonce());
            let bare = format!("n={user},r=nonce123");
            let Step::Continue(sf) = server.step(&store, format!("n,,{bare}").as_bytes()) else {
                panic!("unknown user must get a server-first too");
            };
            let (cf, _) = client_final(password, &bare, &String::from_utf8(sf).unwrap(), "n,,");
            assert_eq!(
                server.step(&store, cf.as_bytes()),
                Step::Failed(AuthError::InvalidCredentials(MECH))
            );
        }
    }

    #[test]
    fn librdkafka_2_0_repeated_client_nonce_is_accepted_and_nothing_looser() {
        let store = rfc_store();
        let client_nonce = "rOprNGfwEbeRWgbNEkqO";
        let bare = format!("n=user,r={client_nonce}");
        // What precedes the combined nonce in the client-final, and whether
        // the server accepts it.
        for (prefix, accepted) in [
            ("", true),
            (client_nonce, true),
            ("x", false),
            ("rOprNGfwEbeRWgbNEkq", false),
            ("rOprNGfwEbeRWgbNEkqOrOprNGfwEbeRWgbNEkqO", false),
        ] {
            let mut server = ScramServer::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into());
            let Step::Continue(first) = server.step(&store, format!("n,,{bare}").as_bytes()) else {
                panic!("no server-first");
            };
            let first = String::from_utf8(first).unwrap();
            let combined = first.split(',').next().unwrap().strip_prefix("r=").unwrap();
            // A correct proof over the message as sent, as librdkafka
            // computes it: only the nonce differs.
            let sent = format!("{prefix}{combined}");
            let (final_msg, server_sig) =
                client_final_sending("pencil", &bare, &first, "n,,", &sent);
            match server.step(&store, final_msg.as_bytes()) {
                Step::Done { response, .. } if accepted => {
                    assert_eq!(
                        response,
                        format!("v={}", B64.encode(server_sig)).into_bytes()
                    );
                }
                Step::Failed(AuthError::Malformed { .. }) if !accepted => {}
                other => panic!("prefix {prefix:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn tampered_final_messages_are_rejected() {
        let store = rfc_store();
        let good = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                    p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        for bad in [
            good.replace("c=biws", "c=eSws"),
            good.replace("k0,", "k1,"),
            good.replace("p=dHzb", "p=dHza"),
            good.replace(",p=", ",q="),
            good.replace("p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "p=AAAA"),
        ] {
            let mut server = ScramServer::new("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into());
            assert!(matches!(
                server.step(&store, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
                Step::Continue(_)
            ));
            assert!(
                matches!(server.step(&store, bad.as_bytes()), Step::Failed(_)),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn malformed_and_unsupported_first_messages() {
        let store = rfc_store();
        let cases: [(&[u8], &str); 9] = [
            (b"", "malformed"),
            (b"x,,n=user,r=abc", "malformed"),
            (b"p=tls-unique,,n=user,r=abc", "unsupported"),
            (b"n,,m=ext,n=user,r=abc", "unsupported"),
            (b"n,,n=user", "malformed"),
            (b"n,,n=us=er,r=abc", "malformed"),
            (b"n,,n=user,r=a b", "malformed"),
            (b"n,a=other,n=user,r=abc", "malformed"),
            (b"n,,n=user,r=abc,tokenauth=true", "unsupported"),
        ];
        for (msg, kind) in cases {
            let mut server = ScramServer::new(random_nonce());
            match (server.step(&store, msg), kind) {
                (Step::Failed(AuthError::Malformed { .. }), "malformed")
                | (Step::Failed(AuthError::Unsupported { .. }), "unsupported") => {}
                (other, _) => panic!("{:?} gave {other:?}", String::from_utf8_lossy(msg)),
            }
        }
    }

    #[test]
    fn saslname_escapes() {
        assert_eq!(decode_saslname("a=2Cb=3D").unwrap(), "a,b=");
        assert!(decode_saslname("a=").is_err());
        assert!(decode_saslname("a=2").is_err());
        assert!(decode_saslname("a=41").is_err());
    }
}
