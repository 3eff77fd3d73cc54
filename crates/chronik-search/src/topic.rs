//! One topic's tantivy index and its indexed-up-to offsets.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, OwnedValue, Schema, FAST, INDEXED, STORED, TEXT};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

use crate::records::decode_batches_until;
use crate::{Hit, SearchError, MAX_LIMIT};

/// What a commit stores besides the documents: the next offset to index,
/// per partition. Versioned so a future layout can be detected.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Checkpoint {
    version: u32,
    next_offsets: BTreeMap<i32, i64>,
}

const CHECKPOINT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy)]
struct Fields {
    partition: Field,
    offset: Field,
    timestamp: Field,
    key: Field,
    value: Field,
    headers: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        partition: b.add_i64_field("partition", INDEXED | STORED | FAST),
        offset: b.add_i64_field("offset", INDEXED | STORED | FAST),
        timestamp: b.add_i64_field("timestamp", STORED),
        key: b.add_text_field("key", TEXT | STORED),
        value: b.add_text_field("value", TEXT | STORED),
        headers: b.add_text_field("headers", TEXT | STORED),
    };
    (b.build(), fields)
}

struct WriterState {
    writer: IndexWriter<TantivyDocument>,
    /// Next offset to index per partition, including uncommitted records.
    pending: BTreeMap<i32, i64>,
    /// As of the last commit.
    committed: BTreeMap<i32, i64>,
    dirty: bool,
}

/// The search index of one topic.
pub struct TopicIndex {
    topic: String,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    state: Mutex<WriterState>,
}

impl std::fmt::Debug for TopicIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicIndex")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// The log reader [`TopicIndex::catch_up`] uses: given an offset, returns
/// the raw v2 batches starting at (or containing) it, `Ok(None)` past the
/// end of the log.
pub type LogReadResult = Result<Option<Bytes>, Box<dyn std::error::Error + Send + Sync>>;

fn lossy(b: &Option<Bytes>) -> Option<String> {
    b.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
}

impl TopicIndex {
    /// Opens the index in `dir`, creating it if missing. An index that
    /// cannot be opened (corrupt, or written by an incompatible version) is
    /// deleted and recreated empty; catch-up then rebuilds it from the log.
    pub(crate) fn open(dir: &Path, topic: &str, writer_memory: usize) -> Result<Self, SearchError> {
        let ix = |source| SearchError::Index {
            topic: topic.to_string(),
            source,
        };
        let (schema, fields) = schema();
        let index = match Self::open_index(dir, &schema) {
            Ok(index) if index.schema() == schema => index,
            outcome => {
                let reason = match outcome {
                    Ok(_) => "schema differs".to_string(),
                    Err(e) => e.to_string(),
                };
                tracing::warn!(topic, %reason, "search index unusable; rebuilding it from the log");
                std::fs::remove_dir_all(dir).map_err(|source| SearchError::Io {
                    context: format!("removing unusable index {}", dir.display()),
                    source,
                })?;
                Self::open_index(dir, &schema).map_err(ix)?
            }
        };
        let committed = match index.load_metas().map_err(ix)?.payload {
            Some(payload) => match serde_json::from_str::<Checkpoint>(&payload) {
                Ok(c) if c.version == CHECKPOINT_VERSION => c.next_offsets,
                _ => {
                    // Unknown checkpoint: drop the documents and rebuild.
                    tracing::warn!(topic, "search checkpoint unreadable; rebuilding the index");
                    BTreeMap::new()
                }
            },
            None => BTreeMap::new(),
        };
        let writer: IndexWriter<TantivyDocument> = index
            .writer_with_num_threads(1, writer_memory.max(15_000_000))
            .map_err(ix)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(ix)?;
        let this = TopicIndex {
            topic: topic.to_string(),
            index,
            reader,
            fields,
            state: Mutex::new(WriterState {
                writer,
                pending: committed.clone(),
                committed: committed.clone(),
                dirty: false,
            }),
        };
        if committed.is_empty() && this.reader.searcher().num_docs() > 0 {
            // Documents without a usable checkpoint cannot be trusted.
            let mut state = this.lock();
            state.writer.delete_all_documents().map_err(ix)?;
            state.dirty = true;
        }
        Ok(this)
    }

    fn open_index(dir: &Path, schema: &Schema) -> tantivy::Result<Index> {
        std::fs::create_dir_all(dir)?;
        let directory = MmapDirectory::open(dir)?;
        Index::open_or_create(directory, schema.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn ix(&self, source: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            topic: self.topic.clone(),
            source,
        }
    }

    /// The topic's name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Next offset to index per partition, as of the last commit (what
    /// survives a restart).
    pub fn indexed_up_to(&self) -> BTreeMap<i32, i64> {
        self.lock().committed.clone()
    }

    /// Next offset to index for `partition`, including uncommitted records.
    pub fn next_offset(&self, partition: i32) -> i64 {
        self.lock().pending.get(&partition).copied().unwrap_or(0)
    }

    /// Adds the records of `batches` (concatenated v2 record batches of
    /// `partition`). Records below the partition's next offset are already
    /// indexed and skipped, so handing the same batches twice is harmless.
    /// Returns the number of records added.
    pub fn index_batches(&self, partition: i32, batches: &[u8]) -> Result<usize, SearchError> {
        let (records, end) = decode_batches_until(batches)?;
        let mut state = self.lock();
        let next = state.pending.get(&partition).copied().unwrap_or(0);
        let f = self.fields;
        let mut added = 0;
        let mut new_next = next;
        for r in records.iter().filter(|r| r.offset >= next) {
            let mut doc = TantivyDocument::default();
            doc.add_i64(f.partition, i64::from(partition));
            doc.add_i64(f.offset, r.offset);
            doc.add_i64(f.timestamp, r.timestamp);
            if let Some(k) = lossy(&r.key) {
                doc.add_text(f.key, k);
            }
            if let Some(v) = lossy(&r.value) {
                doc.add_text(f.value, v);
            }
            for (name, value) in &r.headers {
                let value = lossy(value).unwrap_or_default();
                doc.add_text(f.headers, format!("{name}={value}"));
            }
            state.writer.add_document(doc).map_err(|e| self.ix(e))?;
            new_next = new_next.max(r.offset + 1);
            added += 1;
        }
        // Batches of transaction markers only add nothing but still move
        // the partition forward.
        if let Some(end) = end {
            new_next = new_next.max(end);
        }
        if new_next > next {
            state.pending.insert(partition, new_next);
            state.dirty = true;
        }
        Ok(added)
    }

    /// Brings `partition` in line with a log whose end offset is
    /// `log_end_offset`: indexes the records from the partition's next
    /// offset up to the log end, reading them with `read`, and deletes
    /// indexed records at or beyond the log end (the log lost them).
    /// Commits, and returns the number of records indexed.
    pub fn catch_up(
        &self,
        partition: i32,
        log_end_offset: i64,
        read: impl FnMut(i64) -> LogReadResult,
    ) -> Result<usize, SearchError> {
        let total = self.sync_with_log(partition, log_end_offset, read)?;
        self.commit()?;
        if total > 0 {
            tracing::info!(topic = %self.topic, partition, records = total, "search index caught up with the log");
        }
        Ok(total)
    }

    /// [`TopicIndex::catch_up`] without the commit: for a broker that tails
    /// the log continuously and commits on a timer. Records become visible
    /// (and their offsets durable) at the next [`TopicIndex::commit`].
    pub fn sync_with_log(
        &self,
        partition: i32,
        log_end_offset: i64,
        mut read: impl FnMut(i64) -> LogReadResult,
    ) -> Result<usize, SearchError> {
        let log_err = |message: String| SearchError::LogRead {
            topic: self.topic.clone(),
            partition,
            message,
        };
        if self.next_offset(partition) > log_end_offset {
            self.truncate(partition, log_end_offset)?;
        }
        let mut total = 0;
        loop {
            let from = self.next_offset(partition);
            if from >= log_end_offset {
                break;
            }
            let Some(bytes) = read(from).map_err(|e| log_err(e.to_string()))? else {
                break;
            };
            total += self.index_batches(partition, &bytes)?;
            if self.next_offset(partition) <= from {
                // The reader returned nothing at or past `from`: either the
                // log has a gap there, or the reader is broken. Stop rather
                // than spin.
                return Err(log_err(format!(
                    "reader made no progress at offset {from} (log end {log_end_offset})"
                )));
            }
        }
        Ok(total)
    }

    /// Deletes `partition`'s documents at offsets `>= offset`.
    fn truncate(&self, partition: i32, offset: i64) -> Result<(), SearchError> {
        let f = self.fields;
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_i64(f.partition, i64::from(partition)),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.offset, offset)),
                    Bound::Unbounded,
                )),
            ),
        ]);
        let mut state = self.lock();
        state
            .writer
            .delete_query(Box::new(query))
            .map_err(|e| self.ix(e))?;
        state.pending.insert(partition, offset);
        state.dirty = true;
        tracing::warn!(topic = %self.topic, partition, offset, "search index was ahead of the log; truncated");
        Ok(())
    }

    /// Makes every added record durable and searchable, storing the
    /// per-partition offsets in the same commit. Returns whether there was
    /// anything to commit.
    pub fn commit(&self) -> Result<bool, SearchError> {
        let mut state = self.lock();
        if !state.dirty {
            return Ok(false);
        }
        let checkpoint = Checkpoint {
            version: CHECKPOINT_VERSION,
            next_offsets: state.pending.clone(),
        };
        let payload = serde_json::to_string(&checkpoint).expect("checkpoint serialises");
        let mut prepared = state.writer.prepare_commit().map_err(|e| self.ix(e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| self.ix(e))?;
        state.committed = checkpoint.next_offsets;
        state.dirty = false;
        drop(state);
        self.reader.reload().map_err(|e| self.ix(e))?;
        Ok(true)
    }

    /// Runs `query` (tantivy query syntax; default fields key, value and
    /// headers) over committed records; at most `limit` hits, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        if query.trim().is_empty() {
            return Err(SearchError::InvalidQuery("the query is empty".into()));
        }
        if limit == 0 || limit > MAX_LIMIT {
            return Err(SearchError::InvalidQuery(format!(
                "limit must be between 1 and {MAX_LIMIT}, got {limit}"
            )));
        }
        let f = self.fields;
        let parser = QueryParser::for_index(&self.index, vec![f.key, f.value, f.headers]);
        let parsed = parser
            .parse_query(query)
            .map_err(|e| SearchError::InvalidQuery(format!("{e}")))?;
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&parsed, &TopDocs::with_limit(limit).order_by_score())
            .map_err(|e| self.ix(e))?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(|e| self.ix(e))?;
            let int = |field| match doc.get_first(field) {
                Some(v) => match OwnedValue::from(v) {
                    OwnedValue::I64(i) => i,
                    _ => 0,
                },
                None => 0,
            };
            let text = |field| {
                doc.get_first(field)
                    .and_then(|v| match OwnedValue::from(v) {
                        OwnedValue::Str(s) => Some(s),
                        _ => None,
                    })
            };
            let headers = doc
                .get_all(f.headers)
                .filter_map(|v| match OwnedValue::from(v) {
                    OwnedValue::Str(s) => {
                        let (k, v) = s.split_once('=').unwrap_or((&s, ""));
                        Some((k.to_string(), v.to_string()))
                    }
                    _ => None,
                })
                .collect();
            hits.push(Hit {
                partition: i32::try_from(int(f.partition)).unwrap_or(-1),
                offset: int(f.offset),
                timestamp: int(f.timestamp),
                key: text(f.key),
                value: text(f.value),
                headers,
                score,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::tests::batch;
    use bytes::BytesMut;
    use kafka_protocol::records::Compression;

    fn open(dir: &Path) -> TopicIndex {
        TopicIndex::open(dir, "t", 20_000_000).unwrap()
    }

    /// A fake log of `n` single-record batches with values `"event <i>"`,
    /// and a reader over it returning up to 3 batches from an offset.
    fn log(n: i64) -> Vec<Bytes> {
        (0..n)
            .map(|i| {
                let v = format!(
                    "event number{i} {}",
                    if i % 2 == 0 { "even" } else { "odd" }
                );
                batch(
                    i,
                    &[(Some(&format!("key{i}")), Some(&v), &[])],
                    Compression::Zstd,
                )
            })
            .collect()
    }

    fn reader(log: &[Bytes]) -> impl FnMut(i64) -> LogReadResult + '_ {
        move |from| {
            let start = from as usize;
            if start >= log.len() {
                return Ok(None);
            }
            let mut buf = BytesMut::new();
            for b in &log[start..(start + 3).min(log.len())] {
                buf.extend_from_slice(b);
            }
            Ok(Some(buf.freeze()))
        }
    }

    /// The offsets of up to `limit` hits of `query`, sorted.
    fn offsets(ix: &TopicIndex, query: &str, limit: usize) -> Vec<i64> {
        let mut o: Vec<i64> = ix
            .search(query, limit)
            .unwrap()
            .iter()
            .map(|h| h.offset)
            .collect();
        o.sort();
        o
    }

    #[test]
    fn search_finds_keys_values_and_headers() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path());
        let b = batch(
            100,
            &[
                (
                    Some("user-42"),
                    Some("payment failed: timeout"),
                    &[("trace", "abc123")],
                ),
                (Some("user-7"), Some("payment ok"), &[]),
                (None, Some("unrelated"), &[("trace", "zzz")]),
            ],
            Compression::Gzip,
        );
        assert_eq!(ix.index_batches(2, &b).unwrap(), 3);
        // Uncommitted records are not visible yet.
        assert!(ix.search("payment", 10).unwrap().is_empty());
        assert!(ix.commit().unwrap());

        let offsets = |q: &str| offsets(&ix, q, 10);
        assert_eq!(offsets("payment"), [100, 101]);
        assert_eq!(offsets("payment AND timeout"), [100]);
        assert_eq!(offsets("key:user"), [100, 101]);
        assert_eq!(offsets("headers:abc123"), [100]);
        assert_eq!(offsets("partition:2"), [100, 101, 102]);
        assert!(offsets("partition:3").is_empty());
        assert_eq!(offsets("partition:2 -payment"), [102]);
        assert_eq!(offsets("offset:[101 TO 102]"), [101, 102]);
        assert!(offsets("missing").is_empty());

        let hit = &ix.search("timeout", 1).unwrap()[0];
        assert_eq!(hit.partition, 2);
        assert_eq!(hit.key.as_deref(), Some("user-42"));
        assert_eq!(hit.value.as_deref(), Some("payment failed: timeout"));
        assert_eq!(hit.headers, [("trace".to_string(), "abc123".to_string())]);
        assert_eq!(hit.timestamp, 1_700_000_000_000);
    }

    #[test]
    fn malformed_queries_and_limits_are_client_errors() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path());
        for q in ["value:(unclosed", "nosuchfield:x", "", "offset:abc"] {
            let err = ix.search(q, 10).unwrap_err();
            assert!(matches!(err, SearchError::InvalidQuery(_)), "{q}: {err}");
            assert!(err.is_client_error());
        }
        assert!(matches!(
            ix.search("x", 0),
            Err(SearchError::InvalidQuery(_))
        ));
        assert!(matches!(
            ix.search("x", MAX_LIMIT + 1),
            Err(SearchError::InvalidQuery(_))
        ));
    }

    #[test]
    fn duplicates_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path());
        let b = batch(
            0,
            &[(None, Some("once"), &[]), (None, Some("twice"), &[])],
            Compression::None,
        );
        assert_eq!(ix.index_batches(0, &b).unwrap(), 2);
        assert_eq!(ix.index_batches(0, &b).unwrap(), 0);
        ix.commit().unwrap();
        assert_eq!(ix.search("once OR twice", 10).unwrap().len(), 2);
        assert_eq!(ix.next_offset(0), 2);
        assert_eq!(ix.next_offset(1), 0);
    }

    #[test]
    fn uncommitted_records_are_reindexed_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(10);
        {
            let ix = open(dir.path());
            for b in &log[..4] {
                ix.index_batches(0, b).unwrap();
            }
            ix.commit().unwrap();
            for b in &log[4..7] {
                ix.index_batches(0, b).unwrap();
            }
            // "Crash": dropped without committing offsets 4..7.
        }
        let ix = open(dir.path());
        assert_eq!(ix.indexed_up_to().get(&0), Some(&4));
        assert_eq!(ix.search("even", 100).unwrap().len(), 2);
        assert_eq!(ix.catch_up(0, 10, reader(&log)).unwrap(), 6);
        assert_eq!(ix.indexed_up_to().get(&0), Some(&10));
        assert_eq!(offsets(&ix, "event", 100), (0..10).collect::<Vec<_>>());
        // Already up to date: nothing to do.
        assert_eq!(ix.catch_up(0, 10, reader(&log)).unwrap(), 0);
    }

    #[test]
    fn deleted_index_is_rebuilt_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(8);
        {
            let ix = open(dir.path());
            ix.catch_up(0, 8, reader(&log)).unwrap();
        }
        std::fs::remove_dir_all(dir.path()).unwrap();
        let ix = open(dir.path());
        assert!(ix.search("event", 100).unwrap().is_empty());
        assert_eq!(ix.catch_up(0, 8, reader(&log)).unwrap(), 8);
        assert_eq!(ix.search("number5", 10).unwrap()[0].offset, 5);
    }

    #[test]
    fn corrupt_index_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path()).unwrap();
        std::fs::write(dir.path().join("meta.json"), b"{ not json").unwrap();
        let ix = open(dir.path());
        assert_eq!(ix.catch_up(0, 3, reader(&log(3))).unwrap(), 3);
        assert_eq!(ix.search("event", 10).unwrap().len(), 3);
    }

    #[test]
    fn index_ahead_of_the_log_is_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let log = log(10);
        let ix = open(dir.path());
        ix.catch_up(0, 10, reader(&log)).unwrap();
        // The log now ends at 6 (e.g. restored from an older backup).
        assert_eq!(ix.catch_up(0, 6, reader(&log[..6])).unwrap(), 0);
        assert_eq!(ix.indexed_up_to().get(&0), Some(&6));
        assert_eq!(offsets(&ix, "event", 100), (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn transaction_marker_batches_advance_the_offset() {
        use kafka_protocol::records::{Record, RecordBatchEncoder, RecordEncodeOptions};
        let marker = Record {
            transactional: true,
            control: true,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: 7,
            producer_epoch: 0,
            timestamp_type: kafka_protocol::records::TimestampType::Creation,
            offset: 1,
            sequence: -1,
            timestamp: 0,
            key: Some(Bytes::from_static(&[0, 0, 0, 1])),
            value: Some(Bytes::from_static(&[0, 0, 0, 0, 0, 0])),
            headers: Default::default(),
        };
        let mut control = BytesMut::new();
        RecordBatchEncoder::encode(
            &mut control,
            [marker].iter(),
            &RecordEncodeOptions {
                version: 2,
                compression: Compression::None,
            },
        )
        .unwrap();
        let log = [
            batch(0, &[(None, Some("before"), &[])], Compression::None),
            control.freeze(),
            batch(2, &[(None, Some("after"), &[])], Compression::None),
        ];
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path());
        // One batch per read, so the marker batch is read on its own.
        let one = |from: i64| -> LogReadResult { Ok(log.get(from as usize).cloned()) };
        assert_eq!(ix.catch_up(0, 3, one).unwrap(), 2);
        assert_eq!(ix.indexed_up_to().get(&0), Some(&3));
        assert_eq!(ix.search("after", 10).unwrap()[0].offset, 2);
    }

    #[test]
    fn reader_errors_and_stalls_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let ix = open(dir.path());
        let err = ix
            .catch_up(0, 5, |_| Err("disk on fire".into()))
            .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        let stale = log(2);
        let err = ix
            .catch_up(1, 5, |_| Ok(Some(stale[0].clone())))
            .unwrap_err();
        assert!(err.to_string().contains("no progress"), "{err}");
    }
}
