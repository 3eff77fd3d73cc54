//! One client connection: read frames, decode, dispatch, write responses in
//! request order.
//!
//! Requests on one connection are handled one at a time, in order, exactly as
//! Kafka does; clients may still pipeline (send several requests before
//! reading responses): those wait in the read buffer, and their responses are
//! written back in one batch when the buffer runs dry.
//!
//! A frame that cannot be decoded closes this connection (after logging why)
//! and nothing else: other connections and the logs are unaffected.
//!
//! After a SaslHandshake v0 the client's next frames are bare SASL tokens,
//! not requests (see [`crate::session`]); they are handed to
//! [`dispatch_sasl_token`] and answered with bare frames.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use chronik_protocol::{decode_frame, decode_request, encode_response, ApiKey, DecodeError};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument;

use crate::broker::Broker;
use crate::dispatch::{dispatch, dispatch_sasl_token, Reply};

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
    loop {
        let limit = if session.needs_auth() {
            max_frame.min(PRE_AUTH_MAX_FRAME)
        } else {
            max_frame
        };
        let frame = decode_frame(&mut buf, limit).map_err(|e| e.to_string())?;
        let Some(frame) = frame else {
            // Nothing complete buffered: send what we owe, then read more.
            writer
                .flush()
                .await
                .map_err(|e| format!("write failed: {e}"))?;
            if *stop.borrow() {
                return Ok(());
            }
            let read = tokio::select! {
                read = reader.read_buf(&mut buf) => read,
                _ = stop.changed() => return Ok(()),
            };
            match read {
                Ok(0) if buf.is_empty() => return Ok(()),
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
        let span =
            broker
                .subsystems
                .request_span(api_key, version, correlation_id, request.client_id());
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
