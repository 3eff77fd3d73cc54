//! Which optional subsystems a broker starts: [`Options`].

use std::path::PathBuf;

/// The optional subsystems to start (see the crate's cargo features). The
/// default starts none beyond what the build's features always run
/// (Prometheus metrics with `monitoring`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// SASL credentials file; when set, clients must authenticate with
    /// SCRAM-SHA-256 or PLAIN (feature `auth`).
    pub sasl_credentials: Option<PathBuf>,
    /// Topics to index for full-text search (feature `search`).
    pub search_topics: Vec<String>,
    /// Where sealed segments are backed up: `fs:///DIR` or
    /// `s3://BUCKET/PREFIX?region=R&endpoint=URL` (feature `backup`).
    pub backup: Option<String>,
    /// How often the data directory is scanned for newly sealed segments,
    /// in milliseconds (default 5000; feature `backup`).
    pub backup_scan_ms: Option<u64>,
    /// Run each request in a span named after its API, for OTLP trace
    /// export set up by the caller's `tracing` subscriber (feature
    /// `monitoring`).
    pub trace_requests: bool,
}

impl Options {
    /// Fails if an option asks for a subsystem this build lacks.
    ///
    /// # Errors
    /// Naming the option and the missing cargo feature.
    pub fn check_available(&self) -> crate::Result<()> {
        let missing = |option: &str, feature: &str| -> crate::Error {
            anyhow::anyhow!("{option} needs chronik-broker's `{feature}` feature").into()
        };
        if self.sasl_credentials.is_some() && !cfg!(feature = "auth") {
            return Err(missing("SASL credentials", "auth"));
        }
        if !self.search_topics.is_empty() && !cfg!(feature = "search") {
            return Err(missing("search topics", "search"));
        }
        if self.backup.is_some() && !cfg!(feature = "backup") {
            return Err(missing("backup", "backup"));
        }
        if self.trace_requests && !cfg!(feature = "monitoring") {
            return Err(missing("request tracing", "monitoring"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_needs_no_feature() {
        assert!(Options::default().check_available().is_ok());
    }

    #[test]
    fn a_missing_feature_is_named() {
        let options = Options {
            backup: Some("fs:///tmp/b".into()),
            ..Options::default()
        };
        let result = options.check_available();
        if cfg!(feature = "backup") {
            assert!(result.is_ok());
        } else {
            let message = result.unwrap_err().to_string();
            assert!(message.contains("`backup` feature"), "{message}");
        }
    }
}
