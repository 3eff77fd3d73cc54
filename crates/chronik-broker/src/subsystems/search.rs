//! Full-text search over the topics named by `--search-topics`: the index
//! is kept in step with the logs by a background task and served at
//! `/search` by [`super::http`].

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chronik_common::BrokerConfig;
use chronik_search::{SearchConfig, SearchEngine};
use chronik_storage::LogManager;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Opens the search indexes when search is asked for or was used before
/// (`<data-dir>/search` exists), enables `topics`, and starts the indexer
/// (whose first pass catches the indexes up with the logs).
pub(super) async fn start(
    topics: &[String],
    config: &BrokerConfig,
    logs: &Arc<LogManager>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<Option<(Arc<SearchEngine>, JoinHandle<()>)>> {
    let root = config.data_dir.join("search");
    if topics.is_empty() && !root.exists() {
        return Ok(None);
    }
    let engine = Arc::new(
        tokio::task::spawn_blocking(move || SearchEngine::open(SearchConfig::new(root)))
            .await
            .context("search open task failed")??,
    );
    for topic in topics {
        engine
            .enable_topic(topic.trim())
            .with_context(|| format!("enabling search for topic {topic:?}"))?;
    }
    tracing::info!(topics = ?engine.topics(), "search enabled");
    let task = tokio::spawn(indexer(Arc::clone(&engine), Arc::clone(logs), stop));
    Ok(Some((engine, task)))
}

/// Commits the indexes (at shutdown).
pub(super) async fn commit(engine: &Arc<SearchEngine>) {
    let engine = Arc::clone(engine);
    let _ = tokio::task::spawn_blocking(move || engine.commit_all()).await;
}

/// `/search` for the HTTP listener.
pub(super) fn http_source(engine: &Arc<SearchEngine>) -> Arc<dyn chronik_http::SearchSource> {
    Arc::new(SearchAdapter(Arc::clone(engine)))
}

struct SearchAdapter(Arc<SearchEngine>);

impl chronik_http::SearchSource for SearchAdapter {
    fn search(
        &self,
        topic: &str,
        query: &str,
        limit: usize,
    ) -> Result<serde_json::Value, chronik_http::SearchFailure> {
        use chronik_http::SearchFailure;
        use chronik_search::SearchError;
        match self.0.search(topic, query, limit) {
            Ok(hits) => {
                serde_json::to_value(hits).map_err(|e| SearchFailure::Internal(e.to_string()))
            }
            Err(e @ (SearchError::InvalidQuery(_) | SearchError::InvalidTopic(_))) => {
                Err(SearchFailure::BadRequest(e.to_string()))
            }
            Err(e @ SearchError::TopicNotIndexed(_)) => Err(SearchFailure::NotFound(e.to_string())),
            Err(e) => Err(SearchFailure::Internal(e.to_string())),
        }
    }
}

/// Keeps every search-enabled topic's index in step with its log: a pass
/// over the partitions every 200 ms indexes what was appended since (the
/// first pass after start-up is the catch-up), and a commit every second
/// makes it searchable and durable.
async fn indexer(
    engine: Arc<SearchEngine>,
    logs: Arc<LogManager>,
    mut stop: watch::Receiver<bool>,
) {
    const PASS: Duration = Duration::from_millis(200);
    const COMMIT: Duration = Duration::from_secs(1);
    let mut last_commit = tokio::time::Instant::now();
    loop {
        let (engine2, logs2) = (Arc::clone(&engine), Arc::clone(&logs));
        let pass = tokio::task::spawn_blocking(move || index_pass(&engine2, &logs2)).await;
        if let Err(e) = pass {
            tracing::error!(error = %e, "search indexing task failed");
        }
        if last_commit.elapsed() >= COMMIT {
            commit(&engine).await;
            last_commit = tokio::time::Instant::now();
        }
        tokio::select! {
            _ = tokio::time::sleep(PASS) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

fn index_pass(engine: &SearchEngine, logs: &LogManager) {
    for topic in engine.topics() {
        let (Some(index), Some(partitions)) = (engine.topic(&topic), logs.topic_partitions(&topic))
        else {
            continue;
        };
        for p in partitions {
            let partition = p.topic_partition().partition;
            let end = p.log_end_offset();
            if index.next_offset(partition) == end {
                continue;
            }
            let read = |from: i64| -> chronik_search::LogReadResult {
                // Records below the log start were deleted by retention.
                let from = from.max(p.log_start_offset());
                if from >= p.log_end_offset() {
                    return Ok(None);
                }
                let read = p.read(from, 1 << 20)?;
                Ok((!read.records.is_empty()).then_some(read.records))
            };
            if let Err(e) = index.sync_with_log(partition, end, read) {
                tracing::warn!(topic, partition, error = %e, "indexing records for search failed");
            }
        }
    }
}
