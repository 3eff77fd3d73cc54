//! One module per API (or family of APIs). Handlers take the typed request
//! and its version and always produce a response: failures become Kafka
//! error codes inside it. The SASL handlers also take the connection's
//! [`crate::session::Session`], and may ask for the connection to be closed
//! after their response ([`Answer`]).

pub mod api_versions;
pub mod create_topics;
pub mod delete_topics;
pub mod fetch;
pub mod find_coordinator;
pub mod groups;
pub mod init_producer_id;
pub mod list_offsets;
pub mod metadata;
pub mod produce;
pub mod sasl_authenticate;
pub mod sasl_handshake;

use kafka_protocol::protocol::StrBytes;

/// A response, and whether the connection is closed after it is sent.
#[derive(Debug)]
pub struct Answer<T> {
    /// The response.
    pub response: T,
    /// `Some(reason)`: close the connection once the response is sent.
    pub close: Option<String>,
}

impl<T> Answer<T> {
    /// Send `response` and keep serving.
    pub fn send(response: T) -> Self {
        Answer {
            response,
            close: None,
        }
    }

    /// Send `response`, then close the connection for `reason`.
    pub fn send_and_close(response: T, reason: String) -> Self {
        Answer {
            response,
            close: Some(reason),
        }
    }
}

/// A `StrBytes` holding a copy of `s`.
pub(crate) fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// Polls all `futures` together and returns their outputs in order. The
/// first poll polls each future in turn, so work each does before its first
/// await (such as a log append) happens in list order.
pub(crate) async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    use std::task::Poll;
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *out = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
