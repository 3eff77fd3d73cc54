//! Idempotent-producer state per partition: the last batches of each
//! producer id, used to drop retried duplicates and catch sequence gaps.

use std::collections::{HashMap, VecDeque};

use chronik_storage::batch::BatchHeader;

use crate::error::ProduceError;

/// How many recent batches are remembered per producer (Kafka allows up to
/// five in-flight requests per idempotent connection).
pub const BATCHES_PER_PRODUCER: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BatchMeta {
    first_seq: i32,
    last_seq: i32,
    base_offset: i64,
    last_offset: i64,
}

#[derive(Debug, Clone, Default)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMeta>,
    /// When the producer last appended (ms since the epoch), for expiry.
    last_seen_ms: i64,
}

/// What to do with an idempotent batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqCheck {
    /// The batch is new and in sequence: append it.
    Append,
    /// The batch was already appended at `base_offset`: acknowledge again.
    Duplicate {
        /// Offset the original was given.
        base_offset: i64,
        /// Offset of the original's last record.
        last_offset: i64,
    },
}

/// Producer states of one partition.
#[derive(Debug, Default)]
pub(crate) struct ProducerStateTable {
    producers: HashMap<i64, ProducerEntry>,
}

fn next_seq(seq: i32) -> i32 {
    if seq == i32::MAX {
        0
    } else {
        seq + 1
    }
}

impl ProducerStateTable {
    /// Decides whether an idempotent batch (producer id >= 0) is appended,
    /// is a duplicate, or is rejected.
    ///
    /// Rules (as Kafka): an unknown producer id accepts any sequence (its
    /// state may have been lost with retention); a lower epoch is
    /// INVALID_PRODUCER_EPOCH; a higher epoch must start at sequence 0; in the
    /// same epoch a batch equal (first and last sequence) to one of the last
    /// five is a duplicate, and otherwise its first sequence must follow the
    /// last one, else OUT_OF_ORDER_SEQUENCE_NUMBER.
    pub fn check(&self, h: &BatchHeader) -> Result<SeqCheck, ProduceError> {
        if h.producer_epoch < 0 || h.base_sequence < 0 {
            return Err(ProduceError::InvalidRecord(format!(
                "idempotent batch of producer {} lacks epoch or sequence",
                h.producer_id
            )));
        }
        let Some(entry) = self.producers.get(&h.producer_id) else {
            return Ok(SeqCheck::Append);
        };
        if h.producer_epoch < entry.epoch {
            return Err(ProduceError::InvalidProducerEpoch {
                producer_id: h.producer_id,
                epoch: h.producer_epoch,
                current: entry.epoch,
            });
        }
        if h.producer_epoch > entry.epoch {
            if h.base_sequence != 0 {
                return Err(ProduceError::OutOfOrderSequence {
                    producer_id: h.producer_id,
                    expected: 0,
                    got: h.base_sequence,
                });
            }
            return Ok(SeqCheck::Append);
        }
        let last_seq = h.last_sequence();
        if let Some(b) = entry
            .batches
            .iter()
            .find(|b| b.first_seq == h.base_sequence && b.last_seq == last_seq)
        {
            return Ok(SeqCheck::Duplicate {
                base_offset: b.base_offset,
                last_offset: b.last_offset,
            });
        }
        let expected = entry.batches.back().map_or(0, |b| next_seq(b.last_seq));
        if h.base_sequence != expected {
            return Err(ProduceError::OutOfOrderSequence {
                producer_id: h.producer_id,
                expected,
                got: h.base_sequence,
            });
        }
        Ok(SeqCheck::Append)
    }

    /// Records an appended batch (its `base_offset` already assigned) seen
    /// at `now_ms`. Also used to replay the log on startup (with the batch's
    /// max timestamp as the time), where batches of an older epoch than the
    /// one known are ignored.
    pub fn record(&mut self, h: &BatchHeader, now_ms: i64) {
        if h.producer_id < 0 || h.base_sequence < 0 {
            return;
        }
        let entry = self
            .producers
            .entry(h.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: h.producer_epoch,
                batches: VecDeque::new(),
                last_seen_ms: now_ms,
            });
        if h.producer_epoch < entry.epoch {
            return;
        }
        entry.last_seen_ms = entry.last_seen_ms.max(now_ms);
        if h.producer_epoch > entry.epoch {
            entry.epoch = h.producer_epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(BatchMeta {
            first_seq: h.base_sequence,
            last_seq: h.last_sequence(),
            base_offset: h.base_offset,
            last_offset: h.last_offset(),
        });
        while entry.batches.len() > BATCHES_PER_PRODUCER {
            entry.batches.pop_front();
        }
    }

    /// Forgets producers that have not appended since `cutoff_ms` (Kafka's
    /// `producer.id.expiration.ms`), bounding memory; a forgotten producer
    /// is treated as new (any sequence accepted). Returns how many went.
    pub fn expire(&mut self, cutoff_ms: i64) -> usize {
        let before = self.producers.len();
        self.producers.retain(|_, e| e.last_seen_ms >= cutoff_ms);
        before - self.producers.len()
    }

    /// Number of producers tracked.
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    /// Serialises the state as of log offset `offset`: only batches that
    /// end below `offset` are included, so the snapshot plus a replay of the
    /// log from `offset` rebuilds the table exactly, even if batches at or
    /// above `offset` are later lost in a crash. A producer with no batch
    /// below `offset` is left out (its epoch there is unknown; it is then
    /// treated as new).
    ///
    /// Text format, one producer per line after a two-line header:
    ///
    /// ```text
    /// chronik-producer-state v1
    /// offset <offset>
    /// <producer id> <epoch> <last seen ms> <first seq>:<last seq>:<base offset>:<last offset> ...
    /// ```
    pub fn encode(&self, offset: i64) -> String {
        let mut out = format!("{SNAPSHOT_HEADER}\noffset {offset}\n");
        let mut ids: Vec<&i64> = self.producers.keys().collect();
        ids.sort_unstable();
        for id in ids {
            let e = &self.producers[id];
            let kept: Vec<&BatchMeta> = e
                .batches
                .iter()
                .filter(|b| b.last_offset < offset)
                .collect();
            if kept.is_empty() {
                continue;
            }
            out.push_str(&format!("{id} {} {}", e.epoch, e.last_seen_ms));
            for b in kept {
                out.push_str(&format!(
                    " {}:{}:{}:{}",
                    b.first_seq, b.last_seq, b.base_offset, b.last_offset
                ));
            }
            out.push('\n');
        }
        out
    }

    /// Parses a snapshot written by [`ProducerStateTable::encode`]; returns
    /// the table and the offset it is valid at, or `None` if malformed.
    pub fn decode(text: &str) -> Option<(Self, i64)> {
        let mut lines = text.lines();
        if lines.next()? != SNAPSHOT_HEADER {
            return None;
        }
        let offset = lines.next()?.strip_prefix("offset ")?.parse::<i64>().ok()?;
        let mut table = ProducerStateTable::default();
        for line in lines {
            let mut fields = line.split(' ');
            let id = fields.next()?.parse::<i64>().ok()?;
            let epoch = fields.next()?.parse::<i16>().ok()?;
            let last_seen_ms = fields.next()?.parse::<i64>().ok()?;
            let mut batches = VecDeque::new();
            for f in fields {
                let mut parts = f.split(':');
                let first_seq = parts.next()?.parse().ok()?;
                let last_seq = parts.next()?.parse().ok()?;
                let base_offset = parts.next()?.parse().ok()?;
                let last_offset = parts.next()?.parse().ok()?;
                if parts.next().is_some() || last_offset < base_offset || last_offset >= offset {
                    return None;
                }
                batches.push_back(BatchMeta {
                    first_seq,
                    last_seq,
                    base_offset,
                    last_offset,
                });
            }
            if batches.is_empty() || batches.len() > BATCHES_PER_PRODUCER || id < 0 {
                return None;
            }
            table.producers.insert(
                id,
                ProducerEntry {
                    epoch,
                    batches,
                    last_seen_ms,
                },
            );
        }
        Some((table, offset))
    }
}

/// First line of a producer-state snapshot.
const SNAPSHOT_HEADER: &str = "chronik-producer-state v1";

#[cfg(test)]
mod tests {
    use super::*;
    use chronik_storage::batch::BatchBuilder;

    fn header(pid: i64, epoch: i16, seq: i32, records: usize, base_offset: i64) -> BatchHeader {
        let mut b = BatchBuilder::new().producer(pid, epoch, seq);
        for _ in 0..records {
            b = b.record(1, None, Some(b"x"));
        }
        let mut h = BatchHeader::parse(&b.build()).unwrap();
        h.base_offset = base_offset;
        h
    }

    #[test]
    fn sequences_duplicates_gaps_and_epochs() {
        let mut t = ProducerStateTable::default();
        let a = header(1, 0, 0, 3, 0);
        assert_eq!(t.check(&a).unwrap(), SeqCheck::Append);
        t.record(&a, 0);
        let b = header(1, 0, 3, 2, 3);
        assert_eq!(t.check(&b).unwrap(), SeqCheck::Append);
        t.record(&b, 0);
        // Retrying either batch is a duplicate with the original offset.
        assert!(matches!(
            t.check(&header(1, 0, 0, 3, -1)).unwrap(),
            SeqCheck::Duplicate { base_offset: 0, .. }
        ));
        assert!(matches!(
            t.check(&header(1, 0, 3, 2, -1)).unwrap(),
            SeqCheck::Duplicate { base_offset: 3, .. }
        ));
        // A gap.
        assert_eq!(t.check(&header(1, 0, 6, 1, -1)).unwrap_err().code(), 45);
        // A stale epoch after a bump.
        let c = header(1, 1, 0, 1, 5);
        assert_eq!(t.check(&c).unwrap(), SeqCheck::Append);
        t.record(&c, 0);
        assert_eq!(t.check(&header(1, 0, 5, 1, -1)).unwrap_err().code(), 47);
        // A new epoch must start at 0.
        assert_eq!(t.check(&header(1, 2, 4, 1, -1)).unwrap_err().code(), 45);
        // Unknown producers may start anywhere.
        assert_eq!(t.check(&header(9, 0, 42, 1, -1)).unwrap(), SeqCheck::Append);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn snapshot_round_trips() {
        let mut t = ProducerStateTable::default();
        t.record(&header(1, 0, 0, 3, 0), 10);
        t.record(&header(1, 0, 3, 1, 3), 20);
        t.record(&header(42, 2, 7, 1, 4), 30);
        let text = t.encode(5);
        let (back, offset) = ProducerStateTable::decode(&text).unwrap();
        assert_eq!(offset, 5);
        assert_eq!(back.encode(5), text);
        assert!(matches!(
            back.check(&header(1, 0, 3, 1, -1)).unwrap(),
            SeqCheck::Duplicate { base_offset: 3, .. }
        ));
        assert_eq!(back.check(&header(42, 1, 8, 1, -1)).unwrap_err().code(), 47);
        assert!(
            ProducerStateTable::decode("chronik-producer-state v1\noffset 1\nx 0 0\n").is_none()
        );
        // Expiry keeps producers seen at or after the cutoff.
        let mut back = back;
        assert_eq!(back.expire(25), 1);
        assert_eq!(back.len(), 1);
        assert_eq!(
            back.check(&header(1, 0, 0, 1, -1)).unwrap(),
            SeqCheck::Append
        );
        assert!(ProducerStateTable::decode("something else").is_none());
    }

    #[test]
    fn snapshots_only_hold_batches_below_their_offset() {
        let mut t = ProducerStateTable::default();
        t.record(&header(1, 0, 0, 3, 0), 10); // offsets 0..=2
        t.record(&header(1, 0, 3, 1, 3), 20); // offset 3
        t.record(&header(42, 2, 7, 1, 4), 30); // offset 4
        let (at4, _) = ProducerStateTable::decode(&t.encode(4)).unwrap();
        assert_eq!(at4.len(), 1, "producer 42 has nothing below offset 4");
        let (at3, offset) = ProducerStateTable::decode(&t.encode(3)).unwrap();
        assert_eq!(offset, 3);
        // The batch at offset 3 is not remembered, so its sequence is next.
        assert_eq!(
            at3.check(&header(1, 0, 3, 1, -1)).unwrap(),
            SeqCheck::Append
        );
        assert!(matches!(
            at3.check(&header(1, 0, 0, 3, -1)).unwrap(),
            SeqCheck::Duplicate { base_offset: 0, .. }
        ));
        // A batch claimed to end at or past the snapshot offset is malformed.
        assert!(
            ProducerStateTable::decode("chronik-producer-state v1\noffset 3\n1 0 0 0:0:3:3\n")
                .is_none()
        );
    }

    #[test]
    fn only_the_last_five_batches_are_remembered() {
        let mut t = ProducerStateTable::default();
        for i in 0..7 {
            t.record(&header(1, 0, i, 1, i64::from(i)), 0);
        }
        assert!(matches!(
            t.check(&header(1, 0, 2, 1, -1)).unwrap(),
            SeqCheck::Duplicate { base_offset: 2, .. }
        ));
        assert_eq!(t.check(&header(1, 0, 1, 1, -1)).unwrap_err().code(), 45);
    }
}
