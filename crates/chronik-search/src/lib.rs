//! Opt-in full-text search over topic records, built on tantivy.
//!
//! A topic is searchable once [`SearchEngine::enable_topic`] was called for
//! it; from then on the broker hands every batch it appends to
//! [`SearchEngine::index_batches`], which decodes the Kafka v2 record batches
//! (decompressing them with the `kafka-protocol` crate's decoder) and adds
//! one document per record: partition, offset, timestamp, key, value and
//! headers (`name=value` text). Key, value and headers are indexed as text
//! (bytes that are not UTF-8 are read lossily) and stored, so hits come back
//! with their record.
//!
//! # Durability and catch-up
//!
//! Each topic has its own index directory (`<root>/<topic>/`, a tantivy
//! `MmapDirectory`). Added records become searchable and durable at the next
//! commit ([`SearchEngine::commit_all`], run periodically by
//! [`SearchEngine::spawn_committer`]). Every commit stores, atomically with
//! the index data (tantivy's commit payload), the next offset to index for
//! each partition. After a restart the broker calls
//! [`TopicIndex::catch_up`] with the partition's log end offset and a reader
//! over the log: records the index is missing (lost between commits, or the
//! whole index when its directory was deleted) are re-indexed from the log,
//! and records the index holds beyond the log end (a log restored from an
//! older backup) are deleted.
//!
//! # Queries
//!
//! [`SearchEngine::search`] takes tantivy's query language: terms are
//! looked up in key, value and headers by default (`error timeout`), fields
//! can be named (`key:user-42`, `headers:trace`, `partition:0`), and
//! phrases, `AND`/`OR`, exclusion (`-term`) and ranges (`offset:[100 TO 200]`)
//! work. A
//! query that does not parse is a [`SearchError::InvalidQuery`], which the
//! HTTP layer reports as 400.

mod records;
mod topic;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use serde::Serialize;

pub use records::{decode_batches, DecodedRecord};
pub use topic::{LogReadResult, TopicIndex};

/// Largest number of hits one search returns.
pub const MAX_LIMIT: usize = 10_000;

/// Errors of the search subsystem.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query string (or its limit) is invalid: the client's fault.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// Search is not enabled for this topic.
    #[error("topic {0:?} is not indexed for search")]
    TopicNotIndexed(String),
    /// The topic name is not a valid Kafka topic name.
    #[error("invalid topic name: {0}")]
    InvalidTopic(String),
    /// A record batch could not be decoded.
    #[error("decoding record batch: {0}")]
    Decode(String),
    /// The log reader given to catch-up failed or made no progress.
    #[error("reading the log of {topic}-{partition}: {message}")]
    LogRead {
        /// Topic being caught up.
        topic: String,
        /// Partition being caught up.
        partition: i32,
        /// What went wrong.
        message: String,
    },
    /// The index failed (I/O, corruption).
    #[error("search index of topic {topic:?}: {source}")]
    Index {
        /// The topic concerned.
        topic: String,
        /// The underlying error.
        #[source]
        source: tantivy::TantivyError,
    },
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl SearchError {
    /// Whether the error is the caller's fault (bad query, unknown topic)
    /// rather than the broker's.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            SearchError::InvalidQuery(_)
                | SearchError::TopicNotIndexed(_)
                | SearchError::InvalidTopic(_)
        )
    }
}

/// One matching record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Partition of the record.
    pub partition: i32,
    /// Offset of the record.
    pub offset: i64,
    /// Record timestamp, milliseconds since the epoch.
    pub timestamp: i64,
    /// Key as UTF-8 (lossy), if the record has one.
    pub key: Option<String>,
    /// Value as UTF-8 (lossy), if the record has one.
    pub value: Option<String>,
    /// Headers as `(name, value)`; null header values are empty strings.
    pub headers: Vec<(String, String)>,
    /// Relevance score (BM25); higher is better.
    pub score: f32,
}

/// Tuning for the search engine.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    /// Directory holding one index directory per topic.
    pub root: PathBuf,
    /// Memory budget of each topic's index writer, in bytes (at least 15 MB).
    pub writer_memory_bytes: usize,
}

impl SearchConfig {
    /// Defaults for an index under `root`: 32 MB writer budget per topic.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SearchConfig {
            root: root.into(),
            writer_memory_bytes: 32 << 20,
        }
    }
}

/// Every search-enabled topic's index.
#[derive(Debug)]
pub struct SearchEngine {
    config: SearchConfig,
    topics: RwLock<HashMap<String, Arc<TopicIndex>>>,
}

impl SearchEngine {
    /// Opens the engine, and every topic index already under `config.root`.
    pub fn open(config: SearchConfig) -> Result<Self, SearchError> {
        std::fs::create_dir_all(&config.root).map_err(|source| SearchError::Io {
            context: format!("creating search directory {}", config.root.display()),
            source,
        })?;
        let engine = SearchEngine {
            config,
            topics: RwLock::new(HashMap::new()),
        };
        let entries = std::fs::read_dir(&engine.config.root).map_err(|source| SearchError::Io {
            context: format!("listing {}", engine.config.root.display()),
            source,
        })?;
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            if is_dir && chronik_common::types::validate_topic_name(&name).is_ok() {
                engine.enable_topic(&name)?;
            }
        }
        Ok(engine)
    }

    /// The directory holding the indexes.
    pub fn root(&self) -> &Path {
        &self.config.root
    }

    /// Makes `topic` searchable (opening or creating its index) and returns
    /// its index. Idempotent. A new index starts empty: call
    /// [`TopicIndex::catch_up`] to index records already in the log.
    pub fn enable_topic(&self, topic: &str) -> Result<Arc<TopicIndex>, SearchError> {
        chronik_common::types::validate_topic_name(topic).map_err(SearchError::InvalidTopic)?;
        if let Some(index) = self.topic(topic) {
            return Ok(index);
        }
        let mut topics = self.topics.write().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = topics.get(topic) {
            return Ok(index.clone());
        }
        let index = Arc::new(TopicIndex::open(
            &self.config.root.join(topic),
            topic,
            self.config.writer_memory_bytes,
        )?);
        topics.insert(topic.to_string(), index.clone());
        Ok(index)
    }

    /// The index of `topic`, if search is enabled for it.
    pub fn topic(&self, topic: &str) -> Option<Arc<TopicIndex>> {
        self.topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
            .cloned()
    }

    /// Names of the search-enabled topics, sorted.
    pub fn topics(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        names.sort();
        names
    }

    /// Indexes the records of batches just appended to `topic`/`partition`.
    /// Does nothing (returns 0) for topics without search. Returns the
    /// number of records added.
    pub fn index_batches(
        &self,
        topic: &str,
        partition: i32,
        batches: &[u8],
    ) -> Result<usize, SearchError> {
        match self.topic(topic) {
            Some(index) => index.index_batches(partition, batches),
            None => Ok(0),
        }
    }

    /// Runs `query` against `topic`'s index; at most `limit` hits, best
    /// first.
    pub fn search(&self, topic: &str, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        self.topic(topic)
            .ok_or_else(|| SearchError::TopicNotIndexed(topic.to_string()))?
            .search(query, limit)
    }

    /// Commits every topic with uncommitted records.
    pub fn commit_all(&self) -> Result<(), SearchError> {
        let topics: Vec<Arc<TopicIndex>> = self
            .topics
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        let mut first_error = None;
        for index in topics {
            if let Err(e) = index.commit() {
                tracing::warn!(topic = index.topic(), error = %e, "search index commit failed");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Starts a thread committing every `interval` until the engine is
    /// dropped; commit failures are logged and retried next round.
    pub fn spawn_committer(self: &Arc<Self>, interval: Duration) -> std::thread::JoinHandle<()> {
        let weak: Weak<SearchEngine> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("search-commit".into())
            .spawn(move || loop {
                std::thread::sleep(interval);
                let Some(engine) = weak.upgrade() else { return };
                let _ = engine.commit_all();
            })
            .expect("spawning the search commit thread")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::Compression;
    use records::tests::batch;

    fn engine(dir: &Path) -> SearchEngine {
        SearchEngine::open(SearchConfig::new(dir)).unwrap()
    }

    #[test]
    fn only_enabled_topics_are_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path());
        e.enable_topic("logs").unwrap();
        let b = batch(0, &[(None, Some("disk full"), &[])], Compression::None);
        assert_eq!(e.index_batches("logs", 0, &b).unwrap(), 1);
        assert_eq!(e.index_batches("other", 0, &b).unwrap(), 0);
        e.commit_all().unwrap();
        assert_eq!(e.search("logs", "disk", 10).unwrap().len(), 1);
        let err = e.search("other", "disk", 10).unwrap_err();
        assert!(matches!(err, SearchError::TopicNotIndexed(_)) && err.is_client_error());
        assert!(matches!(
            e.enable_topic("../etc"),
            Err(SearchError::InvalidTopic(_))
        ));
        assert_eq!(e.topics(), ["logs"]);
    }

    #[test]
    fn enabled_topics_are_rediscovered_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let e = engine(dir.path());
            e.enable_topic("a").unwrap();
            e.enable_topic("b.c").unwrap();
            let b = batch(
                0,
                &[(Some("k"), Some("persisted value"), &[])],
                Compression::Lz4,
            );
            e.index_batches("a", 3, &b).unwrap();
            e.commit_all().unwrap();
        }
        let e = engine(dir.path());
        assert_eq!(e.topics(), ["a", "b.c"]);
        let hits = e.search("a", "persisted", 10).unwrap();
        assert_eq!((hits[0].partition, hits[0].offset), (3, 0));
    }

    #[test]
    fn committer_thread_makes_records_visible() {
        let dir = tempfile::tempdir().unwrap();
        let e = Arc::new(engine(dir.path()));
        e.enable_topic("t").unwrap();
        let b = batch(
            0,
            &[(None, Some("eventually visible"), &[])],
            Compression::None,
        );
        e.index_batches("t", 0, &b).unwrap();
        let _handle = e.spawn_committer(Duration::from_millis(20));
        // Bounded wait for the background commit (correctness, not speed).
        let mut found = false;
        for _ in 0..500 {
            if !e.search("t", "eventually", 1).unwrap().is_empty() {
                found = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(found, "the committer never committed");
    }
}
