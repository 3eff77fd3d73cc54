//! Backup targets: where backups go, named by a URL.

use std::collections::HashMap;
use std::path::PathBuf;

use opendal::Operator;

use crate::error::BackupError;

/// A backup backend.
#[derive(Clone, PartialEq, Eq)]
pub enum BackupTarget {
    /// A local (or mounted) directory.
    Fs {
        /// The directory.
        root: PathBuf,
    },
    /// An S3 (or S3-compatible) bucket.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Key prefix inside the bucket (may be empty).
        prefix: String,
        /// Region, e.g. `us-east-1`.
        region: String,
        /// Endpoint URL for S3-compatible stores; `None` for AWS.
        endpoint: Option<String>,
        /// Access key id; `None` to use the environment's credentials.
        access_key_id: Option<String>,
        /// Secret access key.
        secret_access_key: Option<String>,
    },
}

impl std::fmt::Debug for BackupTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackupTarget::Fs { root } => f.debug_struct("Fs").field("root", root).finish(),
            // Credentials stay out of logs.
            BackupTarget::S3 {
                bucket,
                prefix,
                region,
                endpoint,
                ..
            } => f
                .debug_struct("S3")
                .field("bucket", bucket)
                .field("prefix", prefix)
                .field("region", region)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
        }
    }
}

impl BackupTarget {
    /// Parses `fs:///abs/path` (also `file://`), or
    /// `s3://bucket[/prefix][?region=R&endpoint=URL]`. S3 credentials come
    /// from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; the region
    /// defaults to `AWS_REGION`, else `us-east-1`.
    pub fn parse(url: &str) -> Result<Self, BackupError> {
        let invalid = |m: &str| BackupError::InvalidTarget(format!("{url:?}: {m}"));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("expected fs:///path or s3://bucket/prefix"))?;
        match scheme {
            "fs" | "file" => {
                if !rest.starts_with('/') {
                    return Err(invalid("the directory must be an absolute path"));
                }
                Ok(BackupTarget::Fs {
                    root: PathBuf::from(rest),
                })
            }
            "s3" => {
                let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
                let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
                if bucket.is_empty() {
                    return Err(invalid("missing bucket name"));
                }
                let mut params: HashMap<&str, &str> = HashMap::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once('=')
                        .ok_or_else(|| invalid("query parameters must be key=value"))?;
                    if !matches!(k, "region" | "endpoint") {
                        return Err(invalid(&format!(
                            "unknown parameter {k:?} (expected region, endpoint)"
                        )));
                    }
                    params.insert(k, v);
                }
                let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
                Ok(BackupTarget::S3 {
                    bucket: bucket.to_string(),
                    prefix: prefix.trim_matches('/').to_string(),
                    region: params
                        .get("region")
                        .map(|s| s.to_string())
                        .or_else(|| env("AWS_REGION"))
                        .unwrap_or_else(|| "us-east-1".into()),
                    endpoint: params.get("endpoint").map(|s| s.to_string()),
                    access_key_id: env("AWS_ACCESS_KEY_ID"),
                    secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
                })
            }
            other => Err(invalid(&format!(
                "unknown scheme {other:?} (expected fs or s3)"
            ))),
        }
    }

    /// Builds the OpenDAL operator for this target.
    pub(crate) fn operator(&self) -> Result<Operator, BackupError> {
        install_tls_provider();
        let built = match self {
            BackupTarget::Fs { root } => {
                let root = root.to_str().ok_or_else(|| {
                    BackupError::InvalidTarget(format!("non-UTF-8 path {}", root.display()))
                })?;
                // Writes go to a temporary file first and are renamed into
                // place, so no reader ever sees a partial object.
                let tmp = format!("{}/.tmp", root.trim_end_matches('/'));
                Operator::new(
                    opendal::services::Fs::default()
                        .root(root)
                        .atomic_write_dir(&tmp),
                )
            }
            BackupTarget::S3 {
                bucket,
                prefix,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
            } => {
                let mut b = opendal::services::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    .region(region)
                    // Only what is configured here: no surprise profile files.
                    .disable_config_load();
                if let Some(e) = endpoint {
                    b = b.endpoint(e);
                }
                if let Some(k) = access_key_id {
                    b = b.access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.secret_access_key(s);
                }
                Operator::new(b)
            }
        };
        built.map_err(|e| BackupError::InvalidTarget(e.to_string()))
    }
}

/// Installs ring as rustls's process-wide crypto provider (unless one is
/// installed already) and reqwest as OpenDAL's HTTP transport.
///
/// This build enables reqwest's `rustls-no-provider` TLS, and cargo unifies
/// that feature for every crate in the same build that uses reqwest (the
/// OTLP exporter of `chronik-monitoring`, for one): any reqwest client
/// built before a provider is installed panics. Programs linking this
/// crate should therefore call this once at start-up, before building other
/// HTTP clients. Safe to call any number of times.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    opendal_http_transport_reqwest::install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fs_and_s3_urls() {
        assert_eq!(
            BackupTarget::parse("fs:///var/backups/chronik").unwrap(),
            BackupTarget::Fs {
                root: "/var/backups/chronik".into()
            }
        );
        match BackupTarget::parse(
            "s3://bucket/a/b/?region=eu-west-1&endpoint=http://127.0.0.1:9000",
        )
        .unwrap()
        {
            BackupTarget::S3 {
                bucket,
                prefix,
                region,
                endpoint,
                ..
            } => {
                assert_eq!(bucket, "bucket");
                assert_eq!(prefix, "a/b");
                assert_eq!(region, "eu-west-1");
                assert_eq!(endpoint.as_deref(), Some("http://127.0.0.1:9000"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rejects_bad_urls() {
        for url in [
            "/plain/path",
            "fs://relative",
            "gs://bucket",
            "s3://",
            "s3://b?regoin=x",
            "s3://b?region",
        ] {
            assert!(BackupTarget::parse(url).is_err(), "{url}");
        }
    }
}
