//! Command-line settings of the optional subsystems (flattened into the
//! binary's `Cli`), turned into the broker's [`chronik_broker::Options`].
//!
//! The broker's own settings (`--listen`, `--data-dir`, ...) are
//! `chronik_common::config::BrokerArgs`; the administrative subcommands are
//! in [`crate::commands`].

use std::path::PathBuf;

/// Command-line settings of the optional subsystems (see
/// [`chronik_broker::Options`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubsystemArgs {
    /// SASL credentials file; when set, clients must authenticate with
    /// SCRAM-SHA-256 or PLAIN (`auth` feature). Create it with `user add`.
    #[arg(long, env = "CHRONIK_SASL_CREDENTIALS", value_name = "FILE")]
    pub sasl_credentials: Option<PathBuf>,
    /// Topics to index for full-text search, comma-separated (`search` feature)
    #[arg(
        long,
        env = "CHRONIK_SEARCH_TOPICS",
        value_name = "TOPICS",
        value_delimiter = ','
    )]
    pub search_topics: Vec<String>,
    /// Back up sealed segments to fs:///DIR or s3://BUCKET/PREFIX?region=R&endpoint=URL (`backup` feature)
    #[arg(long, env = "CHRONIK_BACKUP", value_name = "URL")]
    pub backup: Option<String>,
    /// How often the data directory is scanned for newly sealed segments, in ms [default: 5000]
    #[arg(long, env = "CHRONIK_BACKUP_SCAN_MS", value_name = "MS")]
    pub backup_scan_ms: Option<u64>,
    /// Export traces over OTLP/HTTP to this endpoint, e.g. http://127.0.0.1:4318 (`monitoring` feature)
    #[arg(long, env = "CHRONIK_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

impl SubsystemArgs {
    /// Fails if a setting asks for a subsystem this build lacks.
    pub fn check_available(&self) -> anyhow::Result<()> {
        let missing = |flag: &str, feature: &str| {
            anyhow::anyhow!("{flag} needs a chronik-server built with the `{feature}` feature")
        };
        if self.sasl_credentials.is_some() && !cfg!(feature = "auth") {
            return Err(missing("--sasl-credentials", "auth"));
        }
        if !self.search_topics.is_empty() && !cfg!(feature = "search") {
            return Err(missing("--search-topics", "search"));
        }
        if self.backup.is_some() && !cfg!(feature = "backup") {
            return Err(missing("--backup", "backup"));
        }
        if self.otlp_endpoint.is_some() && !cfg!(feature = "monitoring") {
            return Err(missing("--otlp-endpoint", "monitoring"));
        }
        Ok(())
    }

    /// The broker's options for these settings.
    pub fn options(&self) -> chronik_broker::Options {
        chronik_broker::Options {
            sasl_credentials: self.sasl_credentials.clone(),
            search_topics: self.search_topics.clone(),
            backup: self.backup.clone(),
            backup_scan_ms: self.backup_scan_ms,
            trace_requests: self.otlp_endpoint.is_some(),
        }
    }
}
