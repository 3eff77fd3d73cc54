//! OffsetCommit and OffsetFetch: committed offsets, durable in the offsets
//! log (see the crate documentation).

use kafka_protocol::error::ResponseError;
use std::collections::BTreeMap;
use std::sync::Arc;

use chronik_common::types::validate_topic_name;
use chronik_common::TopicPartition;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};

use crate::group::str_bytes;
use crate::offsets::{self, CommittedOffset};
use crate::{lock, GroupCoordinator};

/// The committed offsets of `$group` (an OffsetFetch request or, v8+, one
/// of its groups: `group_id` and `topics`) as response topics of type
/// `$topic` with partitions of type `$partition`: the single- and
/// multi-group responses differ only in these types.
macro_rules! fetched {
    ($self:expr, $group:expr, $topic:ident, $partition:ident) => {{
        let topics = $group.topics.as_ref().map(|ts| {
            ts.iter()
                .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
                .collect::<Vec<_>>()
        });
        $self
            .fetch_offsets(&$group.group_id, topics)
            .into_iter()
            .map(|(name, parts)| {
                let mut t = $topic::default();
                t.name = TopicName(str_bytes(&name));
                t.partitions = parts
                    .into_iter()
                    .map(|(index, c)| {
                        let mut p = $partition::default();
                        p.partition_index = index;
                        fill_fetched(
                            c,
                            &mut p.committed_offset,
                            &mut p.committed_leader_epoch,
                            &mut p.metadata,
                        );
                        p
                    })
                    .collect();
                t
            })
            .collect()
    }};
}

impl GroupCoordinator {
    /// Handles OffsetCommit: validates the member, then stores the offsets
    /// durably before answering.
    pub async fn offset_commit(
        &self,
        req: OffsetCommitRequest,
        version: i16,
    ) -> OffsetCommitResponse {
        self.ensure_ticker();
        let cfg = &self.inner.config;
        let group_id = req.group_id.to_string();
        let request_error = if !(2..=9).contains(&version) {
            Some(ResponseError::UnsupportedVersion.code())
        } else if group_id.is_empty() || group_id.len() > offsets::MAX_NAME_BYTES {
            Some(ResponseError::InvalidGroupId.code())
        } else {
            let groups = lock(&self.inner.groups);
            match groups.get(&group_id) {
                Some(g) => g
                    .validate_commit(
                        &req.member_id,
                        req.group_instance_id.as_deref(),
                        req.generation_id_or_member_epoch,
                    )
                    .err(),
                // No such group: only unmanaged commits may create one.
                None if req.generation_id_or_member_epoch < 0 => None,
                None => Some(ResponseError::IllegalGeneration.code()),
            }
        };

        // Per-partition verdicts, in request order; `None` = to be stored.
        let mut verdicts: Vec<(TopicName, Vec<PartitionVerdict>)> = Vec::new();
        let mut to_store = Vec::new();
        for topic in &req.topics {
            let topic_ok = validate_topic_name(&topic.name).is_ok();
            let mut parts = Vec::new();
            for p in &topic.partitions {
                let error = if let Some(e) = request_error {
                    Some(e)
                } else if !topic_ok || p.partition_index < 0 {
                    Some(ResponseError::UnknownTopicOrPartition.code())
                } else if p
                    .committed_metadata
                    .as_ref()
                    .is_some_and(|m| m.len() > cfg.max_metadata_bytes)
                {
                    Some(ResponseError::OffsetMetadataTooLarge.code())
                } else {
                    to_store.push((
                        TopicPartition::new(topic.name.to_string(), p.partition_index),
                        CommittedOffset {
                            offset: p.committed_offset,
                            leader_epoch: if version >= 6 {
                                p.committed_leader_epoch
                            } else {
                                -1
                            },
                            metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                            commit_timestamp_ms: 0,
                        },
                    ));
                    None
                };
                parts.push((p.partition_index, error));
            }
            verdicts.push((topic.name.clone(), parts));
        }

        let mut store_error = None;
        if !to_store.is_empty() {
            let inner = Arc::clone(&self.inner);
            let gid = group_id.clone();
            let stored =
                tokio::task::spawn_blocking(move || inner.offsets.commit(&gid, to_store)).await;
            let failure = match stored {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(e.to_string()),
            };
            if let Some(e) = failure {
                tracing::error!(group = %group_id, error = %e, "storing committed offsets failed");
                store_error = Some(ResponseError::CoordinatorNotAvailable.code());
            }
        }

        let mut r = OffsetCommitResponse::default();
        r.topics = verdicts
            .into_iter()
            .map(|(name, parts)| {
                let mut t = OffsetCommitResponseTopic::default();
                t.name = name;
                t.partitions = parts
                    .into_iter()
                    .map(|(index, error)| {
                        let mut p = OffsetCommitResponsePartition::default();
                        p.partition_index = index;
                        p.error_code = error.or(store_error).unwrap_or(0);
                        p
                    })
                    .collect();
                t
            })
            .collect();
        r
    }

    /// Handles OffsetFetch, single-group (v1-7) and multi-group (v8+).
    /// Partitions without a committed offset report offset -1; a null topic
    /// list returns everything the group committed.
    pub async fn offset_fetch(&self, req: OffsetFetchRequest, version: i16) -> OffsetFetchResponse {
        self.ensure_ticker();
        let mut r = OffsetFetchResponse::default();
        if !(1..=9).contains(&version) {
            if (2..=7).contains(&version) {
                r.error_code = ResponseError::UnsupportedVersion.code();
            }
            return r;
        }
        if version >= 8 {
            r.groups = req
                .groups
                .iter()
                .map(|g| {
                    let mut rg = OffsetFetchResponseGroup::default();
                    rg.group_id = g.group_id.clone();
                    if g.group_id.is_empty() {
                        rg.error_code = ResponseError::InvalidGroupId.code();
                        return rg;
                    }
                    rg.topics = fetched!(
                        self,
                        g,
                        OffsetFetchResponseTopics,
                        OffsetFetchResponsePartitions
                    );
                    rg
                })
                .collect();
            return r;
        }
        if req.group_id.is_empty() {
            if version >= 2 {
                r.error_code = ResponseError::InvalidGroupId.code();
            }
            return r;
        }
        r.topics = fetched!(
            self,
            req,
            OffsetFetchResponseTopic,
            OffsetFetchResponsePartition
        );
        if version < 5 {
            for p in r.topics.iter_mut().flat_map(|t| t.partitions.iter_mut()) {
                p.committed_leader_epoch = -1;
            }
        }
        r
    }

    /// Looks up committed offsets; `None` topics means all of the group's.
    fn fetch_offsets(
        &self,
        group: &str,
        topics: Option<Vec<(String, Vec<i32>)>>,
    ) -> Vec<FetchedTopic> {
        match topics {
            Some(topics) => topics
                .into_iter()
                .map(|(name, parts)| {
                    let found = parts
                        .into_iter()
                        .map(|p| {
                            let tp = TopicPartition::new(name.clone(), p);
                            (p, self.inner.offsets.get(group, &tp))
                        })
                        .collect();
                    (name, found)
                })
                .collect(),
            None => {
                let mut by_topic: BTreeMap<String, Vec<(i32, Option<CommittedOffset>)>> =
                    BTreeMap::new();
                for (tp, c) in self.inner.offsets.group(group) {
                    by_topic
                        .entry(tp.topic)
                        .or_default()
                        .push((tp.partition, Some(c)));
                }
                by_topic.into_iter().collect()
            }
        }
    }
}

/// A partition of an OffsetCommit and its error, `None` if it is stored.
type PartitionVerdict = (i32, Option<i16>);

/// A topic's partitions and their committed offsets, as OffsetFetch found them.
type FetchedTopic = (String, Vec<(i32, Option<CommittedOffset>)>);

fn fill_fetched(
    c: Option<CommittedOffset>,
    offset: &mut i64,
    epoch: &mut i32,
    metadata: &mut Option<kafka_protocol::protocol::StrBytes>,
) {
    match c {
        Some(c) => {
            *offset = c.offset;
            *epoch = c.leader_epoch;
            // Kafka stores a null metadata as "" and returns it so.
            *metadata = Some(str_bytes(c.metadata.as_deref().unwrap_or("")));
        }
        None => {
            *offset = -1;
            *epoch = -1;
            *metadata = Some(str_bytes(""));
        }
    }
}
