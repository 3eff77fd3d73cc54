//! ApiVersions: the table of supported APIs (always answerable, at any
//! version the client can read; see `chronik_protocol::request`).

use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};

/// Answers with every supported API and version range.
pub fn handle(_req: &ApiVersionsRequest, _version: i16) -> ApiVersionsResponse {
    chronik_protocol::api_versions_response(None)
}
