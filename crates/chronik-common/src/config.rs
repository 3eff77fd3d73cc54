//! Broker configuration: command line, environment and an optional TOML file.
//!
//! Precedence, highest first: command-line flag, `CHRONIK_*` environment
//! variable (both handled by clap), the TOML file named by `--config`, then
//! built-in defaults. The defaults alone give a working single-node broker
//! on 127.0.0.1:9092 storing data in `./chronik-data`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// When the log is flushed to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before acknowledging every `acks=-1` produce (group-committed:
    /// one fsync covers every producer waiting at that moment).
    Always,
    /// fsync at most once per interval; acknowledged data may be lost on a
    /// machine crash (not on a process crash).
    Interval(Duration),
    /// Never fsync explicitly; leave it to the operating system.
    Never,
}

impl FromStr for FsyncPolicy {
    type Err = String;

    /// Parses `always`, `never`, or an interval in milliseconds such as `100ms`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "always" => Ok(FsyncPolicy::Always),
            "never" => Ok(FsyncPolicy::Never),
            other => {
                let ms = other.strip_suffix("ms").unwrap_or(other);
                ms.parse::<u64>()
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(|ms| FsyncPolicy::Interval(Duration::from_millis(ms)))
                    .ok_or_else(|| {
                        format!("invalid fsync policy {s:?}: expected always, never or <N>ms")
                    })
            }
        }
    }
}

/// Command-line and environment arguments for the broker.
///
/// Every field is optional so that a value missing here can come from the
/// config file or the defaults; see [`BrokerConfig::resolve`].
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BrokerArgs {
    /// TOML configuration file; flags and environment variables override it.
    #[arg(long, env = "CHRONIK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding topic logs and broker metadata [default: ./chronik-data]
    #[arg(long, env = "CHRONIK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address the Kafka listener binds [default: 127.0.0.1:9092]
    #[arg(long, env = "CHRONIK_LISTEN", value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,
    /// Host and port advertised to clients in metadata [default: the listen address]
    #[arg(long, env = "CHRONIK_ADVERTISED", value_name = "HOST:PORT")]
    pub advertised: Option<String>,
    /// Address of the HTTP listener for metrics and search [default: 127.0.0.1:9644]
    #[arg(long, env = "CHRONIK_HTTP", value_name = "HOST:PORT")]
    pub http: Option<SocketAddr>,
    /// Node id reported to clients [default: 0]
    #[arg(long, env = "CHRONIK_NODE_ID")]
    pub node_id: Option<i32>,
    /// Create topics on first produce or metadata request [default: true]
    #[arg(long, env = "CHRONIK_AUTO_CREATE_TOPICS")]
    pub auto_create_topics: Option<bool>,
    /// Partitions of an auto-created topic [default: 1]
    #[arg(long, env = "CHRONIK_DEFAULT_PARTITIONS")]
    pub default_partitions: Option<i32>,
    /// When to fsync: always, never, or an interval like 100ms [default: always]
    #[arg(long, env = "CHRONIK_FSYNC", value_name = "POLICY")]
    pub fsync: Option<FsyncPolicy>,
    /// Size at which a segment is rolled, in bytes [default: 1073741824]
    #[arg(long, env = "CHRONIK_SEGMENT_BYTES")]
    pub segment_bytes: Option<u64>,
    /// Delete old segments once a partition exceeds this many bytes [default: unlimited]
    #[arg(long, env = "CHRONIK_RETENTION_BYTES")]
    pub retention_bytes: Option<u64>,
    /// Delete segments whose newest record is older than this, in ms [default: 7 days]
    #[arg(long, env = "CHRONIK_RETENTION_MS")]
    pub retention_ms: Option<u64>,
    /// How often retention runs, in ms [default: 300000]
    #[arg(long, env = "CHRONIK_RETENTION_CHECK_MS")]
    pub retention_check_ms: Option<u64>,
    /// Largest request frame accepted, in bytes [default: 104857600]
    #[arg(long, env = "CHRONIK_MAX_FRAME_BYTES")]
    pub max_frame_bytes: Option<usize>,
}

/// The TOML file's shape: the same keys as the flags, in kebab-case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<SocketAddr>,
    advertised: Option<String>,
    http: Option<SocketAddr>,
    node_id: Option<i32>,
    auto_create_topics: Option<bool>,
    default_partitions: Option<i32>,
    fsync: Option<String>,
    segment_bytes: Option<u64>,
    retention_bytes: Option<u64>,
    retention_ms: Option<u64>,
    retention_check_ms: Option<u64>,
    max_frame_bytes: Option<usize>,
}

/// Fully resolved broker configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Directory holding topic logs and broker metadata.
    pub data_dir: PathBuf,
    /// Address the Kafka listener binds.
    pub listen: SocketAddr,
    /// Host and port advertised in metadata responses.
    pub advertised: (String, u16),
    /// Address of the HTTP listener (used by optional subsystems).
    pub http: SocketAddr,
    /// Node id reported to clients.
    pub node_id: i32,
    /// Whether unknown topics are created on first use.
    pub auto_create_topics: bool,
    /// Partitions of an auto-created topic.
    pub default_partitions: i32,
    /// When the log is flushed to stable storage.
    pub fsync: FsyncPolicy,
    /// Size at which a segment is rolled.
    pub segment_bytes: u64,
    /// Per-partition size limit; `None` keeps everything.
    pub retention_bytes: Option<u64>,
    /// Age limit of closed segments.
    pub retention: Option<Duration>,
    /// How often retention is applied (Kafka's
    /// `log.retention.check.interval.ms`).
    pub retention_check_interval: Duration,
    /// Largest request frame accepted.
    pub max_frame_bytes: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let listen: SocketAddr = ([127, 0, 0, 1], 9092).into();
        BrokerConfig {
            data_dir: PathBuf::from("chronik-data"),
            listen,
            advertised: ("127.0.0.1".into(), 9092),
            http: ([127, 0, 0, 1], 9644).into(),
            node_id: 0,
            auto_create_topics: true,
            default_partitions: 1,
            fsync: FsyncPolicy::Always,
            segment_bytes: 1 << 30,
            retention_bytes: None,
            retention: Some(Duration::from_secs(7 * 24 * 3600)),
            retention_check_interval: Duration::from_secs(300),
            max_frame_bytes: 100 * 1024 * 1024,
        }
    }
}

impl BrokerConfig {
    /// Resolves flags and environment (already in `args`), the optional TOML
    /// file and the defaults into one configuration, and validates it.
    pub fn resolve(args: &BrokerArgs) -> Result<Self> {
        let file = match &args.config {
            Some(path) => read_file_config(path)?,
            None => FileConfig::default(),
        };
        let file_fsync = match (&file.fsync, &args.config) {
            (Some(s), Some(path)) => {
                Some(s.parse::<FsyncPolicy>().map_err(|message| Error::Config {
                    path: path.clone(),
                    message,
                })?)
            }
            _ => None,
        };
        let d = BrokerConfig::default();
        let listen = args.listen.or(file.listen).unwrap_or(d.listen);
        let advertised = match args.advertised.clone().or(file.advertised) {
            Some(s) => parse_host_port(&s)?,
            None => (listen.ip().to_string(), listen.port()),
        };
        let config = BrokerConfig {
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or(d.data_dir),
            listen,
            advertised,
            http: args.http.or(file.http).unwrap_or(d.http),
            node_id: args.node_id.or(file.node_id).unwrap_or(d.node_id),
            auto_create_topics: args
                .auto_create_topics
                .or(file.auto_create_topics)
                .unwrap_or(d.auto_create_topics),
            default_partitions: args
                .default_partitions
                .or(file.default_partitions)
                .unwrap_or(d.default_partitions),
            fsync: args.fsync.or(file_fsync).unwrap_or(d.fsync),
            segment_bytes: args
                .segment_bytes
                .or(file.segment_bytes)
                .unwrap_or(d.segment_bytes),
            retention_bytes: args.retention_bytes.or(file.retention_bytes),
            retention: args
                .retention_ms
                .or(file.retention_ms)
                .map(Duration::from_millis)
                .or(d.retention),
            retention_check_interval: args
                .retention_check_ms
                .or(file.retention_check_ms)
                .map_or(d.retention_check_interval, Duration::from_millis),
            max_frame_bytes: args
                .max_frame_bytes
                .or(file.max_frame_bytes)
                .unwrap_or(d.max_frame_bytes),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and consistency.
    pub fn validate(&self) -> Result<()> {
        if self.default_partitions < 1 {
            return Err(Error::InvalidConfig(format!(
                "default-partitions must be at least 1, got {}",
                self.default_partitions
            )));
        }
        if self.segment_bytes < 1024 {
            return Err(Error::InvalidConfig(format!(
                "segment-bytes must be at least 1024, got {}",
                self.segment_bytes
            )));
        }
        if self.retention_check_interval.is_zero() {
            return Err(Error::InvalidConfig(
                "retention-check-ms must be at least 1".into(),
            ));
        }
        if self.max_frame_bytes < 1024 {
            return Err(Error::InvalidConfig(format!(
                "max-frame-bytes must be at least 1024, got {}",
                self.max_frame_bytes
            )));
        }
        Ok(())
    }
}

fn read_file_config(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading config file {}", path.display()), e))?;
    toml::from_str(&text).map_err(|e| Error::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn parse_host_port(s: &str) -> Result<(String, u16)> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| Error::InvalidConfig(format!("advertised address {s:?} lacks :PORT")))?;
    let port = port
        .parse::<u16>()
        .map_err(|_| Error::InvalidConfig(format!("advertised port in {s:?} is not a port")))?;
    if host.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "advertised address {s:?} lacks a host"
        )));
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_start_a_local_broker() {
        let c = BrokerConfig::resolve(&BrokerArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9092");
        assert_eq!(c.advertised, ("127.0.0.1".to_string(), 9092));
        assert_eq!(c.fsync, FsyncPolicy::Always);
    }

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chronik.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:19092\"\nnode-id = 7\nfsync = \"250ms\"\n",
        )
        .unwrap();
        let args = BrokerArgs {
            config: Some(path),
            node_id: Some(3),
            ..Default::default()
        };
        let c = BrokerConfig::resolve(&args).unwrap();
        assert_eq!(c.listen.port(), 19092);
        assert_eq!(c.advertised.1, 19092);
        assert_eq!(c.node_id, 3);
        assert_eq!(c.fsync, FsyncPolicy::Interval(Duration::from_millis(250)));
    }

    #[test]
    fn misspelt_file_key_names_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let args = BrokerArgs {
            config: Some(path),
            ..Default::default()
        };
        let err = BrokerConfig::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn fsync_policy_parses() {
        assert_eq!("always".parse::<FsyncPolicy>(), Ok(FsyncPolicy::Always));
        assert_eq!("never".parse::<FsyncPolicy>(), Ok(FsyncPolicy::Never));
        assert_eq!(
            "5".parse::<FsyncPolicy>(),
            Ok(FsyncPolicy::Interval(Duration::from_millis(5)))
        );
        assert!("0ms".parse::<FsyncPolicy>().is_err());
        assert!("sometimes".parse::<FsyncPolicy>().is_err());
    }

    #[test]
    fn invalid_ranges_are_rejected() {
        let args = BrokerArgs {
            default_partitions: Some(0),
            ..Default::default()
        };
        assert!(BrokerConfig::resolve(&args).is_err());
    }
}
