//! The APIs and versions this broker implements.
//!
//! [`SUPPORTED_APIS`] is the single source of truth: the ApiVersions response
//! is built from it and every request is checked against it before its body
//! is decoded. Each range is capped by what the `kafka_protocol` crate can
//! decode (see [`supported_versions`]), so advertising a version the codec
//! cannot handle is impossible.
//!
//! Caps below the crate's maximum are deliberate: Fetch v13+ and Produce v13
//! address topics by id only, ListOffsets v8+ adds tiered-storage offsets,
//! FindCoordinator v5+ serves share groups; none of which this broker
//! implements. The group API ranges are those of `chronik-coordinator`.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};
use kafka_protocol::protocol::VersionRange;
use kafka_protocol::ResponseError;

/// One supported API: its key and the inclusive version range implemented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiSupport {
    /// The API.
    pub key: ApiKey,
    /// Lowest implemented version.
    pub min: i16,
    /// Highest implemented version.
    pub max: i16,
}

const fn api(key: ApiKey, min: i16, max: i16) -> ApiSupport {
    ApiSupport { key, min, max }
}

/// Every API this broker answers, with the versions it implements.
pub const SUPPORTED_APIS: &[ApiSupport] = &[
    api(ApiKey::Produce, 3, 12),
    api(ApiKey::Fetch, 4, 12),
    api(ApiKey::ListOffsets, 1, 7),
    api(ApiKey::Metadata, 0, 12),
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::FindCoordinator, 0, 4),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 5),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::InitProducerId, 0, 4),
    // SASL (chronik-broker's `session` module). After a v0 handshake the
    // client sends bare size-prefixed tokens; after v1, SaslAuthenticate
    // requests. Older librdkafka (Debian's kcat) will not log in unless v0
    // is offered. Without credentials configured (or without the `auth`
    // feature) the handshake answers UNSUPPORTED_SASL_MECHANISM.
    api(ApiKey::SaslHandshake, 0, 1),
    api(ApiKey::SaslAuthenticate, 0, 2),
];

/// The versions of `key` this broker implements, or `None` if it does not
/// implement the API at all. Always within the codec's own range.
pub fn supported_versions(key: ApiKey) -> Option<VersionRange> {
    let entry = SUPPORTED_APIS.iter().find(|a| a.key == key)?;
    let ours = VersionRange {
        min: entry.min,
        max: entry.max,
    };
    let range = ours.intersect(&key.valid_versions());
    (!range.is_empty()).then_some(range)
}

/// Whether `version` of `key` is implemented.
pub fn is_supported(key: ApiKey, version: i16) -> bool {
    supported_versions(key).is_some_and(|r| (r.min..=r.max).contains(&version))
}

/// The ApiVersions response body listing every supported API, with
/// `error` (none, or UNSUPPORTED_VERSION when the client asked for an
/// ApiVersions version we do not implement).
pub fn api_versions_response(error: Option<ResponseError>) -> ApiVersionsResponse {
    let api_keys = SUPPORTED_APIS
        .iter()
        .filter_map(|a| {
            let range = supported_versions(a.key)?;
            Some(
                ApiVersion::default()
                    .with_api_key(a.key as i16)
                    .with_min_version(range.min)
                    .with_max_version(range.max),
            )
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(error.map_or(0, |e| e.code()))
        .with_api_keys(api_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_advertised_range_is_decodable_by_the_codec() {
        for a in SUPPORTED_APIS {
            let codec = a.key.valid_versions();
            assert!(a.min <= a.max, "{:?}", a.key);
            assert!(
                codec.min <= a.min && a.max <= codec.max,
                "{:?} {}..{} outside codec range {codec}",
                a.key,
                a.min,
                a.max
            );
            assert_eq!(
                supported_versions(a.key),
                Some(VersionRange {
                    min: a.min,
                    max: a.max
                })
            );
        }
    }

    #[test]
    fn keys_are_unique_and_api_versions_lists_them_all() {
        let mut keys: Vec<i16> = SUPPORTED_APIS.iter().map(|a| a.key as i16).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), SUPPORTED_APIS.len());
        let resp = api_versions_response(None);
        assert_eq!(resp.api_keys.len(), SUPPORTED_APIS.len());
        assert!(resp
            .api_keys
            .iter()
            .any(|k| k.api_key == ApiKey::ApiVersions as i16 && k.min_version == 0));
    }

    #[test]
    fn unimplemented_apis_and_versions_are_rejected() {
        assert!(supported_versions(ApiKey::CreateAcls).is_none());
        assert!(is_supported(ApiKey::SaslHandshake, 0));
        assert!(!is_supported(ApiKey::SaslHandshake, 2));
        assert!(!is_supported(ApiKey::Fetch, 13));
        assert!(!is_supported(ApiKey::Produce, 2));
        assert!(is_supported(ApiKey::Metadata, 0));
    }
}
