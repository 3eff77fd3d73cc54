//! Timestamp lookups (ListOffsets by time): through the time index, then
//! inside the batch for the exact record.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::{Partition, TimestampOffset};
use crate::batch::{self, BatchHeader};
use crate::error::{Result, StorageError};
use crate::segment::Segment;

impl Partition {
    /// Finds the first record whose timestamp is at or after `timestamp`
    /// (Kafka ListOffsets with a real timestamp). `None` when no batch
    /// reaches it. Lookup is per batch via the time index; inside an
    /// uncompressed batch the exact record is found.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<TimestampOffset>> {
        let found = {
            let inner = self.read_inner();
            let mut found = None;
            for seg in &inner.segments {
                if let Some((pos, h)) = seg.find_timestamp(timestamp)? {
                    found = Some((seg.log.clone(), pos, h, seg.size));
                    break;
                }
            }
            found
        };
        let Some((file, pos, h, size)) = found else {
            return Ok(None);
        };
        if let Some(exact) = self.exact_record(&file, pos, &h, size, |ts| ts >= timestamp)? {
            return Ok(Some(exact));
        }
        let ts = if h.timestamp_type() == batch::TimestampType::CreateTime
            && h.base_timestamp >= timestamp
        {
            h.base_timestamp
        } else {
            h.max_timestamp
        };
        Ok(Some(TimestampOffset {
            offset: h.base_offset,
            timestamp: ts,
        }))
    }

    /// The record with the largest timestamp (ListOffsets with timestamp -3):
    /// the first batch whose `maxTimestamp` is the log's largest; inside an
    /// uncompressed CreateTime batch the exact record, otherwise the batch's
    /// last offset. `None` for an empty log.
    pub fn max_timestamp_offset(&self) -> Result<Option<TimestampOffset>> {
        let found = {
            let inner = self.read_inner();
            let mut best: Option<&Segment> = None;
            for seg in &inner.segments {
                if seg.size > 0 && best.is_none_or(|b| seg.max_timestamp > b.max_timestamp) {
                    best = Some(seg);
                }
            }
            match best {
                Some(seg) => seg
                    .find_timestamp(seg.max_timestamp)?
                    .map(|(pos, h)| (seg.log.clone(), pos, h, seg.size)),
                None => None,
            }
        };
        let Some((file, pos, h, size)) = found else {
            return Ok(None);
        };
        if let Some(exact) = self.exact_record(&file, pos, &h, size, |ts| ts == h.max_timestamp)? {
            return Ok(Some(exact));
        }
        Ok(Some(TimestampOffset {
            offset: h.last_offset(),
            timestamp: h.max_timestamp,
        }))
    }

    /// Inside the batch `h` at `pos` of a segment file of `size` bytes: the
    /// first record whose timestamp satisfies `wanted`, when the batch is
    /// uncompressed CreateTime (the broker never decompresses). `None` when
    /// the batch cannot be looked into or no record matches.
    fn exact_record(
        &self,
        file: &File,
        pos: u64,
        h: &BatchHeader,
        size: u64,
        wanted: impl Fn(i64) -> bool,
    ) -> Result<Option<TimestampOffset>> {
        if h.compression() != batch::Compression::None
            || h.timestamp_type() != batch::TimestampType::CreateTime
            || pos + h.total_len() as u64 > size
        {
            return Ok(None);
        }
        let mut buf = vec![0u8; h.total_len()];
        file.read_exact_at(&mut buf, pos)
            .map_err(|e| StorageError::io(format!("reading {}", self.tp), e))?;
        Ok(batch::decode_records(&buf).and_then(|recs| {
            recs.into_iter()
                .find(|(_, r)| wanted(r.timestamp))
                .map(|(offset, r)| TimestampOffset {
                    offset,
                    timestamp: r.timestamp,
                })
        }))
    }
}
