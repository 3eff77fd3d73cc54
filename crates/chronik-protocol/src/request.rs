//! Request decoding: header (with the header version the API key and version
//! call for) and body, into kafka-protocol's [`RequestKind`].

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseKind};
use kafka_protocol::protocol::Decodable;
use kafka_protocol::ResponseError;

use crate::response::{encode_response, error_response};
use crate::versions::{api_versions_response, is_supported};

/// Smallest possible request: api key, api version, correlation id.
const MIN_REQUEST_BYTES: usize = 8;

/// A decoded request: its header and typed body.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFrame {
    /// The API the request belongs to.
    pub api_key: ApiKey,
    /// The request header (api version, correlation id, client id).
    pub header: RequestHeader,
    /// The request body.
    pub body: RequestKind,
}

impl RequestFrame {
    /// The API version the client used; the response must use the same.
    pub fn version(&self) -> i16 {
        self.header.request_api_version
    }

    /// The correlation id to echo in the response header.
    pub fn correlation_id(&self) -> i32 {
        self.header.correlation_id
    }

    /// The client id from the header, or `""` when absent.
    pub fn client_id(&self) -> &str {
        self.header.client_id.as_deref().unwrap_or("")
    }
}

/// Why a request frame could not be turned into a [`RequestFrame`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Fewer bytes than the fixed header prefix.
    #[error("request of {len} bytes is shorter than the {MIN_REQUEST_BYTES}-byte header prefix")]
    TooShort {
        /// Frame length.
        len: usize,
    },
    /// The API key is not one the protocol defines.
    #[error("unknown API key {api_key} (correlation id {correlation_id})")]
    UnknownApiKey {
        /// The key the client sent.
        api_key: i16,
        /// The request's correlation id.
        correlation_id: i32,
    },
    /// The API is known but this version is not implemented. When `reply` is
    /// set it is a complete response frame carrying UNSUPPORTED_VERSION (35)
    /// that the client can read; send it and keep serving. Without a reply the
    /// connection should be closed.
    #[error("unsupported version {api_version} of {api_key:?} (correlation id {correlation_id})")]
    UnsupportedVersion {
        /// The API.
        api_key: ApiKey,
        /// The version the client asked for.
        api_version: i16,
        /// The request's correlation id.
        correlation_id: i32,
        /// A ready-to-send error response frame, when one can be built.
        reply: Option<Bytes>,
    },
    /// The request header could not be decoded.
    #[error("malformed {api_key:?} v{api_version} request header: {source:#}")]
    Header {
        /// The API.
        api_key: ApiKey,
        /// The version.
        api_version: i16,
        /// What the codec reported.
        source: anyhow::Error,
    },
    /// The request body could not be decoded.
    #[error("malformed {api_key:?} v{api_version} request body (correlation id {correlation_id}): {source:#}")]
    Body {
        /// The API.
        api_key: ApiKey,
        /// The version.
        api_version: i16,
        /// The request's correlation id.
        correlation_id: i32,
        /// What the codec reported.
        source: anyhow::Error,
    },
}

/// Decodes one request frame (the bytes after the length prefix).
///
/// Versions outside [`crate::SUPPORTED_APIS`] are rejected before the body is
/// decoded; see [`DecodeError::UnsupportedVersion`] for the reply rules.
/// Trailing bytes after a well-formed body are ignored, as Kafka does for
/// fields a newer client may append.
pub fn decode_request(frame: Bytes) -> Result<RequestFrame, DecodeError> {
    if frame.len() < MIN_REQUEST_BYTES {
        return Err(DecodeError::TooShort { len: frame.len() });
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let api_version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|()| DecodeError::UnknownApiKey {
        api_key: raw_key,
        correlation_id,
    })?;
    if !is_supported(api_key, api_version) {
        return Err(DecodeError::UnsupportedVersion {
            api_key,
            api_version,
            correlation_id,
            reply: unsupported_version_reply(api_key, api_version, correlation_id, frame),
        });
    }
    decode_known(api_key, api_version, correlation_id, frame)
}

fn decode_known(
    api_key: ApiKey,
    api_version: i16,
    correlation_id: i32,
    mut frame: Bytes,
) -> Result<RequestFrame, DecodeError> {
    let header_version = api_key.request_header_version(api_version);
    let header = RequestHeader::decode(&mut frame, header_version).map_err(|source| {
        DecodeError::Header {
            api_key,
            api_version,
            source,
        }
    })?;
    let body = RequestKind::decode(api_key, &mut frame, api_version).map_err(|source| {
        DecodeError::Body {
            api_key,
            api_version,
            correlation_id,
            source,
        }
    })?;
    Ok(RequestFrame {
        api_key,
        header,
        body,
    })
}

/// Builds the UNSUPPORTED_VERSION reply for a version we do not implement.
///
/// ApiVersions is special (as in Kafka): whatever version the client asked
/// for, it gets a v0 response, which every client can parse, carrying the
/// error and the full table so it can retry with a version we support. For
/// other APIs the error response must use the client's own version, so one is
/// only possible when the codec can still decode and encode that version.
fn unsupported_version_reply(
    api_key: ApiKey,
    api_version: i16,
    correlation_id: i32,
    frame: Bytes,
) -> Option<Bytes> {
    if api_key == ApiKey::ApiVersions {
        let body = ResponseKind::ApiVersions(api_versions_response(Some(
            ResponseError::UnsupportedVersion,
        )));
        return encode_response(api_key, 0, correlation_id, &body).ok();
    }
    let codec = api_key.valid_versions();
    if !(codec.min..=codec.max).contains(&api_version) {
        return None;
    }
    let request = decode_known(api_key, api_version, correlation_id, frame).ok()?;
    let body = error_response(
        &request.body,
        api_version,
        ResponseError::UnsupportedVersion,
    )?;
    encode_response(api_key, api_version, correlation_id, &body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{Buf, BytesMut};
    use kafka_protocol::messages::{
        ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, ResponseHeader,
    };
    use kafka_protocol::protocol::{Encodable, StrBytes};

    fn encode_request<T: Encodable>(key: ApiKey, version: i16, corr: i32, body: &T) -> Bytes {
        let mut buf = BytesMut::new();
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(corr)
            .with_client_id(Some(StrBytes::from_static_str("test")))
            .encode(&mut buf, key.request_header_version(version))
            .unwrap();
        body.encode(&mut buf, version).unwrap();
        buf.freeze()
    }

    #[test]
    fn decodes_flexible_and_non_flexible_requests() {
        for version in [0, 3, 4] {
            let req = ApiVersionsRequest::default()
                .with_client_software_name(StrBytes::from_static_str("t"))
                .with_client_software_version(StrBytes::from_static_str("1"));
            let frame =
                decode_request(encode_request(ApiKey::ApiVersions, version, 7, &req)).unwrap();
            assert_eq!(frame.api_key, ApiKey::ApiVersions);
            assert_eq!(frame.version(), version);
            assert_eq!(frame.correlation_id(), 7);
            assert_eq!(frame.client_id(), "test");
        }
        for version in [0, 9, 12] {
            let req = MetadataRequest::default().with_topics(None);
            let frame = decode_request(encode_request(ApiKey::Metadata, version, 9, &req)).unwrap();
            assert!(matches!(frame.body, RequestKind::Metadata(_)));
        }
    }

    #[test]
    fn unsupported_api_versions_gets_a_v0_reply_with_the_table() {
        let mut raw = BytesMut::new();
        raw.extend_from_slice(&(ApiKey::ApiVersions as i16).to_be_bytes());
        raw.extend_from_slice(&99i16.to_be_bytes());
        raw.extend_from_slice(&42i32.to_be_bytes());
        raw.extend_from_slice(&[0xff; 5]);
        let err = decode_request(raw.freeze()).unwrap_err();
        let DecodeError::UnsupportedVersion {
            reply: Some(mut reply),
            ..
        } = err
        else {
            panic!("expected a reply, got {err:?}");
        };
        let len = reply.get_i32();
        assert_eq!(len as usize, reply.len());
        let header = ResponseHeader::decode(&mut reply, 0).unwrap();
        assert_eq!(header.correlation_id, 42);
        let body = ApiVersionsResponse::decode(&mut reply, 0).unwrap();
        assert_eq!(body.error_code, ResponseError::UnsupportedVersion.code());
        assert!(!body.api_keys.is_empty());
    }

    #[test]
    fn unsupported_version_of_another_api_replies_at_that_version() {
        // Fetch v13 is decodable by the codec but not implemented here.
        let req = kafka_protocol::messages::FetchRequest::default();
        let err = decode_request(encode_request(ApiKey::Fetch, 13, 5, &req)).unwrap_err();
        let DecodeError::UnsupportedVersion {
            reply: Some(mut reply),
            ..
        } = err
        else {
            panic!("expected a reply, got {err:?}");
        };
        let _len = reply.get_i32();
        let header =
            ResponseHeader::decode(&mut reply, ApiKey::Fetch.response_header_version(13)).unwrap();
        assert_eq!(header.correlation_id, 5);
        let body = kafka_protocol::messages::FetchResponse::decode(&mut reply, 13).unwrap();
        assert_eq!(body.error_code, ResponseError::UnsupportedVersion.code());
    }

    #[test]
    fn unknown_keys_short_frames_and_garbage_are_errors() {
        assert!(matches!(
            decode_request(Bytes::from_static(&[0, 1, 0])),
            Err(DecodeError::TooShort { len: 3 })
        ));
        assert!(matches!(
            decode_request(Bytes::from_static(&[0x7f, 0, 0, 0, 0, 0, 0, 1])),
            Err(DecodeError::UnknownApiKey {
                api_key: 0x7f00,
                correlation_id: 1
            })
        ));
        // Metadata v1 with a topic array claiming 3 entries and no bytes.
        let garbage = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3]);
        assert!(matches!(
            decode_request(garbage),
            Err(DecodeError::Body {
                correlation_id: 2,
                ..
            })
        ));
        // Produce v3 too short for its header's client id.
        let truncated = Bytes::from_static(&[0, 0, 0, 3, 0, 0, 0, 2, 0, 9, b'a']);
        assert!(matches!(
            decode_request(truncated),
            Err(DecodeError::Header { .. })
        ));
    }

    #[test]
    fn every_prefix_of_a_valid_request_decodes_or_errors_without_panicking() {
        let req = MetadataRequest::default().with_topics(Some(vec![
            kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                .with_name(Some(StrBytes::from_static_str("orders").into())),
        ]));
        let full = encode_request(ApiKey::Metadata, 12, 1, &req);
        for cut in 0..full.len() {
            let _ = decode_request(full.slice(..cut));
        }
        assert!(decode_request(full).is_ok());
    }
}
