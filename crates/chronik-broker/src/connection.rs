//! One client connection: read frames, decode, dispatch, write responses in
//! request order.
//!
//! Requests on one connection are handled in order, and their responses go
//! out in request order, as Kafka does. One exception lets `acks=all`
//! producers pipeline: a Produce request is appended at once, and only its
//! wait for durability (the group commit) is queued, so the connection goes
//! on reading and appending the next requests meanwhile; up to
//! [`MAX_PIPELINED`] produces may wait. Any other request first waits for
//! every queued produce response to be written, so it sees (and answers
//! after) all of them.
//!
//! A frame that cannot be decoded closes this connection (after logging why)
//! and nothing else: other connections and the logs are unaffected.
//!
//! After a SaslHandshake v0 the client's next frames are bare SASL tokens,
//! not requests (see [`crate::session`]); they are handed to
//! [`dispatch_sasl_token`] and answered with bare frames.

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use bytes::BytesMut;
use chronik_protocol::{
    decode_frame, decode_request, encode_response, ApiKey, DecodeError, RequestKind, ResponseKind,
};
use kafka_protocol::messages::ProduceResponse;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use crate::broker::Broker;
use crate::dispatch::{dispatch, dispatch_sasl_token, Reply};
use crate::handlers::produce;

/// Produce requests one connection may have waiting for durability before
/// it stops reading further requests.
pub const MAX_PIPELINED: usize = 64;

type Writer = BufWriter<OwnedWriteHalf>;

/// What the response to a queued request needs from its request.
#[derive(Debug, Clone, Copy)]
struct Meta {
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    frame_len: usize,
}

/// A produce request appended but not yet answered.
struct Queued {
    meta: Meta,
    response: Pin<Box<dyn Future<Output = Result<Option<ProduceResponse>, String>> + Send>>,
}

/// Writes the response of a finished queued produce (nothing for a good
/// `acks=0` one; an error closes the connection).
fn deliver(
    broker: &Broker,
    writer: &mut Vec<u8>,
    q: &Meta,
    out: Result<Option<ProduceResponse>, String>,
) -> Result<(), String> {
    match out {
        Ok(Some(body)) => {
            let body = ResponseKind::Produce(body);
            match encode_response(q.api_key, q.version, q.correlation_id, &body) {
                Ok(bytes) => {
                    broker
                        .subsystems
                        .on_request(q.api_key, true, q.frame_len, bytes.len());
                    writer.extend_from_slice(&bytes);
                    Ok(())
                }
                Err(e) => {
                    broker
                        .subsystems
                        .on_request(q.api_key, false, q.frame_len, 0);
                    Err(format!("internal error: {e}"))
                }
            }
        }
        Ok(None) => {
            broker
                .subsystems
                .on_request(q.api_key, true, q.frame_len, 0);
            Ok(())
        }
        Err(reason) => {
            broker
                .subsystems
                .on_request(q.api_key, false, q.frame_len, 0);
            Err(reason)
        }
    }
}

/// Waits for the oldest queued produce and writes its response.
async fn complete_front(
    broker: &Broker,
    writer: &mut Writer,
    queue: &mut VecDeque<Queued>,
) -> Result<(), String> {
    let Some(mut q) = queue.pop_front() else {
        return Ok(());
    };
    let out = (&mut q.response).await;
    write_delivered(broker, writer, q.meta, out).await
}

async fn write_delivered(
    broker: &Broker,
    writer: &mut Writer,
    q: Meta,
    out: Result<Option<ProduceResponse>, String>,
) -> Result<(), String> {
    let mut bytes = Vec::new();
    let delivered = deliver(broker, &mut bytes, &q, out);
    writer
        .write_all(&bytes)
        .await
        .map_err(|e| format!("write failed: {e}"))?;
    if delivered.is_err() {
        // Send what earlier requests are owed, then close.
        let _ = writer.flush().await;
    }
    delivered
}

/// Answers every queued produce, in order.
async fn drain(
    broker: &Broker,
    writer: &mut Writer,
    queue: &mut VecDeque<Queued>,
) -> Result<(), String> {
    while !queue.is_empty() {
        complete_front(broker, writer, queue).await?;
    }
    Ok(())
}

/// Largest frame accepted before SASL authentication completes (Kafka's
/// `sasl.server.max.receive.size` default), so unauthenticated peers cannot
/// make the broker buffer large requests.
const PRE_AUTH_MAX_FRAME: usize = 512 * 1024;

/// Initial read buffer; grows to fit larger frames.
const READ_BUFFER: usize = 64 * 1024;

/// Serves one connection until the client closes it, it sends something
/// undecodable, or the broker shuts down (after finishing the request in
/// progress).
pub async fn serve(stream: TcpStream, peer: SocketAddr, broker: Arc<Broker>) {
    let mut stop = broker.stop_signal();
    let _ = stream.set_nodelay(true);
    tracing::debug!(%peer, "connection opened");
    match serve_inner(stream, peer, &broker, &mut stop).await {
        Ok(()) => tracing::debug!(%peer, "connection closed"),
        Err(reason) => tracing::warn!(%peer, "closing connection: {reason}"),
    }
}

async fn serve_inner(
    stream: TcpStream,
    peer: SocketAddr,
    broker: &Broker,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let (mut reader, writer) = stream.into_split();
    let mut writer = BufWriter::with_capacity(64 * 1024, writer);
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    let max_frame = broker.config.max_frame_bytes;
    let mut session = broker.subsystems.session();
    let mut queue: VecDeque<Queued> = VecDeque::new();
    loop {
        let limit = if session.needs_auth() {
            max_frame.min(PRE_AUTH_MAX_FRAME)
        } else {
            max_frame
        };
        let frame = decode_frame(&mut buf, limit).map_err(|e| e.to_string())?;
        let Some(frame) = frame else {
            // Nothing complete buffered: send what we owe, then read more
            // (or answer the oldest queued produce, whichever comes first).
            writer
                .flush()
                .await
                .map_err(|e| format!("write failed: {e}"))?;
            if *stop.borrow() {
                drain(broker, &mut writer, &mut queue).await?;
                let _ = writer.flush().await;
                return Ok(());
            }
            let room = queue.len() < MAX_PIPELINED;
            let read = match queue.front_mut() {
                None => tokio::select! {
                    read = reader.read_buf(&mut buf) => read,
                    _ = stop.changed() => return Ok(()),
                },
                Some(front) => {
                    tokio::select! {
                        biased;
                        out = &mut front.response => {
                            let q = queue.pop_front().expect("front exists");
                            write_delivered(broker, &mut writer, q.meta, out).await?;
                            continue;
                        }
                        read = reader.read_buf(&mut buf), if room => read,
                        _ = stop.changed() => {
                            drain(broker, &mut writer, &mut queue).await?;
                            let _ = writer.flush().await;
                            return Ok(());
                        }
                    }
                }
            };
            match read {
                Ok(0) if buf.is_empty() => {
                    drain(broker, &mut writer, &mut queue).await?;
                    let _ = writer.flush().await;
                    return Ok(());
                }
                Ok(0) => {
                    return Err(format!(
                        "peer closed mid-frame ({} bytes pending)",
                        buf.len()
                    ))
                }
                Ok(_) => continue,
                Err(e) => return Err(format!("read failed: {e}")),
            }
        };
        let frame_len = frame.len();
        if session.expects_raw_token() {
            let api_key = ApiKey::SaslAuthenticate;
            match dispatch_sasl_token(&mut session, &frame) {
                Ok(token) => {
                    let len = u32::try_from(token.len())
                        .map_err(|_| "SASL token too large".to_string())?;
                    broker
                        .subsystems
                        .on_request(api_key, true, frame_len, 4 + token.len());
                    writer
                        .write_all(&len.to_be_bytes())
                        .await
                        .map_err(|e| format!("write failed: {e}"))?;
                    writer
                        .write_all(&token)
                        .await
                        .map_err(|e| format!("write failed: {e}"))?;
                }
                Err(reason) => {
                    broker.subsystems.on_request(api_key, false, frame_len, 0);
                    let _ = writer.flush().await;
                    return Err(reason);
                }
            }
            continue;
        }
        let request = match decode_request(frame) {
            Ok(request) => request,
            Err(DecodeError::UnsupportedVersion {
                api_key,
                api_version,
                correlation_id,
                reply: Some(reply),
            }) => {
                tracing::info!(
                    %peer, ?api_key, api_version, correlation_id,
                    "unsupported version; replied UNSUPPORTED_VERSION"
                );
                drain(broker, &mut writer, &mut queue).await?;
                broker
                    .subsystems
                    .on_request(api_key, false, frame_len, reply.len());
                writer
                    .write_all(&reply)
                    .await
                    .map_err(|e| format!("write failed: {e}"))?;
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let api_key = request.api_key;
        let version = request.version();
        let correlation_id = request.correlation_id();
        tracing::trace!(%peer, ?api_key, version, correlation_id, client = request.client_id(), "request");
        // Only an authenticated produce may overtake queued ones'
        // responses; anything else answers after them.
        let pipelined = !session.needs_auth() && matches!(request.body, RequestKind::Produce(_));
        if !pipelined {
            drain(broker, &mut writer, &mut queue).await?;
        }
        let span = broker.subsystems.request_span(&request);
        if pipelined {
            let RequestKind::Produce(req) = request.body else {
                unreachable!("checked above");
            };
            if queue.len() >= MAX_PIPELINED {
                complete_front(broker, &mut writer, &mut queue).await?;
            }
            let in_flight = produce::start(broker, req).instrument(span.clone()).await;
            queue.push_back(Queued {
                meta: Meta {
                    api_key,
                    version,
                    correlation_id,
                    frame_len,
                },
                response: Box::pin(in_flight.finish().instrument(span)),
            });
            continue;
        }
        let (body, close) = match dispatch(broker, &mut session, request)
            .instrument(span)
            .await
        {
            Reply::Send(body) => (body, None),
            Reply::SendAndClose(body, reason) => (body, Some(reason)),
            Reply::Nothing => {
                // acks=0 produce: no response
                broker.subsystems.on_request(api_key, true, frame_len, 0);
                continue;
            }
            Reply::Close(reason) => {
                broker.subsystems.on_request(api_key, false, frame_len, 0);
                // Send what earlier requests are owed, then close.
                let _ = writer.flush().await;
                return Err(reason);
            }
        };
        match encode_response(api_key, version, correlation_id, &body) {
            Ok(bytes) => {
                broker
                    .subsystems
                    .on_request(api_key, close.is_none(), frame_len, bytes.len());
                writer
                    .write_all(&bytes)
                    .await
                    .map_err(|e| format!("write failed: {e}"))?
            }
            Err(e) => {
                broker.subsystems.on_request(api_key, false, frame_len, 0);
                return Err(format!("internal error: {e}"));
            }
        }
        if let Some(reason) = close {
            let _ = writer.flush().await;
            return Err(reason);
        }
    }
}
