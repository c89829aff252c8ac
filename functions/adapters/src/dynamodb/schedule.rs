//! The `schedule` index: a sparse GSI naming items with work due at a time — a task's next
//! pending alarm (`ALARM#<shard>`) and a pending upload's URL expiry (`UPLOAD#<shard>`).
//!
//! Its partition key is spread over the store's shard count (`TODO_ALARM_SHARDS`, 16 unless
//! set) by a hash of the item's id, so a busy minute is that many partitions, not one, each
//! read by its own reminders worker; its sort
//! key is the due time (RFC 3339 with milliseconds: fixed width, so text order is time
//! order), then what is due (an alarm's kind and whom it notifies, so a worker can share its
//! passes fairly from the keys alone). The index projects keys only: a job re-reads each
//! item consistently before acting on it, which also absorbs the index's eventual
//! consistency.

use serde::{Deserialize, Serialize};
use todo_domain::model::{Alarm, AlarmKind, FileRecord, FileStatus, ListId, Task, TaskId, Timestamp, UserId};
use todo_domain::ports::{Batch, DueAlarm, DueWindow, Page, PageRequest, StoreError, StoreResult};

use super::tasks::{TASK_PREFIX, task_sk};
use super::{DynamoStore, Item, LIST_PREFIX, backend, key, list_pk, s};

pub const SCHEDULE_INDEX: &str = "schedule";
/// How many partitions each kind of due work is spread over unless `TODO_ALARM_SHARDS` says
/// otherwise. Each is read by its own reminders worker (an invocation of its own on AWS) and
/// takes about 333 alarms a second (a partition's 1,000 write units, up to 3 an alarm).
pub const DEFAULT_SHARDS: u32 = 16;
/// The most `TODO_ALARM_SHARDS` may be. Past 40 shards (40 × 1,000 write units a second) the
/// table's default write quota, not the shard count, limits the alarm peak, and every shard
/// costs a worker invocation and two Queries a minute even when nothing is due.
pub const MAX_SHARDS: u32 = 128;

const ALARM: &str = "ALARM";
const UPLOAD: &str = "UPLOAD";

/// The index attributes of an item; absent when nothing is due for it (sparse index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ScheduleKey {
    pub(crate) sched_pk: String,
    pub(crate) sched_sk: String,
}

/// The shard of `id` among `shards`. FNV-1a: stable across processes and releases (unlike
/// the standard library's hasher).
fn shard(id: &str, shards: u32) -> u32 {
    let hash = id.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193));
    hash % shards
}

fn partition(kind: &str, shard: u32) -> String {
    format!("{kind}#{shard:02}")
}

impl ScheduleKey {
    /// Where a task waits for its next alarm, if it has one, among `shards`.
    pub(crate) fn for_task(task: &Task, shards: u32) -> Option<Self> {
        Self::sort_key_for_task(task).map(|sched_sk| Self { sched_pk: partition(ALARM, shard(&task.id.to_string(), shards)), sched_sk })
    }

    /// The sort key of a task's place in the index (whatever the shard count), if it has one.
    pub(crate) fn sort_key_for_task(task: &Task) -> Option<String> {
        task.next_alarm().map(|alarm| alarm_sort_key(alarm, task.created_by))
    }

    /// Where a pending upload waits to be given up on, among `shards`.
    pub(crate) fn for_file(file: &FileRecord, shards: u32) -> Option<Self> {
        (file.status == FileStatus::Pending).then(|| Self {
            sched_pk: partition(UPLOAD, shard(&file.id.to_string(), shards)),
            sched_sk: file.upload_expires_at.to_string(),
        })
    }
}

/// An alarm's sort key: its time, its kind, whom it notifies.
fn alarm_sort_key(Alarm { at, kind }: Alarm, user: UserId) -> String {
    format!("{at}#{}#{user}", kind.as_str())
}

/// A due alarm as the index names it (its base-table keys and its sort key).
fn due_alarm(item: &Item) -> StoreResult<DueAlarm> {
    let (list, task) = super::item_ids(item, (LIST_PREFIX, ListId::parse), (TASK_PREFIX, TaskId::parse))?;
    let sort_key = item.get("sched_sk").and_then(|value| value.as_s().ok());
    let parsed = sort_key.and_then(|key| {
        let mut parts = key.splitn(3, '#');
        let at = Timestamp::parse(parts.next()?).ok()?;
        let kind = AlarmKind::parse(parts.next()?).ok()?;
        let user = UserId::parse(parts.next()?).ok()?;
        Some(DueAlarm { list, task, user, alarm: Alarm { at, kind } })
    });
    parsed.ok_or_else(|| StoreError::backend(anyhow::anyhow!("a due-alarm index entry has an unreadable sort key: {sort_key:?}")))
}

impl DynamoStore {
    /// One keys-only `Query` of one shard's alarms in `window`, oldest first.
    pub(crate) async fn due_alarms_in(
        &self,
        shard: u32,
        window: DueWindow,
        page: PageRequest<DueAlarm>,
    ) -> StoreResult<Page<DueAlarm, DueAlarm>> {
        // '~' sorts after every kind name: alarms at exactly `until` are included.
        let mut values = vec![(":until", format!("{}#~", window.until))];
        let condition = match window.from {
            Some(from) => {
                values.push((":from", from.to_string()));
                "sched_sk BETWEEN :from AND :until"
            }
            None => "sched_sk <= :until",
        };
        let start = page.after.map(|after| {
            let mut start = key(list_pk(after.list), task_sk(after.task));
            start.insert("sched_pk".to_owned(), s(partition(ALARM, shard)));
            start.insert("sched_sk".to_owned(), s(alarm_sort_key(after.alarm, after.user)));
            start
        });
        let (items, last) = self.due_in_shard(ALARM, shard, condition, &values, page.limit, start).await?;
        let items = items.iter().map(due_alarm).collect::<StoreResult<Vec<_>>>()?;
        let next = last.as_ref().map(due_alarm).transpose()?;
        Ok(Page { items, next })
    }

    /// Base-table keys of pending uploads whose URL expired before `before`.
    pub(crate) async fn uploads_expired_before(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<Item>> {
        self.due(UPLOAD, "sched_sk < :until", before.to_string(), limit).await
    }

    /// Keys-only `Query`s: first every shard for its fair share of `limit` (so a backlog in
    /// one shard never starves the others), then the shards that had more, from where they
    /// stopped, while room is left.
    async fn due(&self, kind: &str, condition: &str, until: String, limit: u32) -> StoreResult<Batch<Item>> {
        let share = limit.div_ceil(self.alarm_shards).max(1);
        let mut keys = Vec::new();
        let mut unfinished: Vec<(u32, Item)> = Vec::new();
        for shard in 0..self.alarm_shards {
            let (items, rest) = self.due_in_shard(kind, shard, condition, &[(":until", until.clone())], share, None).await?;
            keys.extend(items);
            unfinished.extend(rest.map(|start| (shard, start)));
        }
        let mut more = false;
        for (shard, start) in unfinished {
            let room = limit.saturating_sub(u32::try_from(keys.len()).unwrap_or(u32::MAX));
            if room == 0 {
                more = true;
                break;
            }
            let (items, rest) = self.due_in_shard(kind, shard, condition, &[(":until", until.clone())], room, Some(start)).await?;
            keys.extend(items);
            more |= rest.is_some();
        }
        Ok(Batch { items: keys, more })
    }

    /// Up to `limit` due keys of one shard whose sort key meets `condition` (over `values`),
    /// and where to resume if it holds more.
    async fn due_in_shard(
        &self,
        kind: &str,
        shard: u32,
        condition: &str,
        values: &[(&str, String)],
        limit: u32,
        start: Option<Item>,
    ) -> StoreResult<(Vec<Item>, Option<Item>)> {
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(SCHEDULE_INDEX)
            .key_condition_expression(format!("sched_pk = :pk AND {condition}"))
            .expression_attribute_values(":pk", s(partition(kind, shard)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start);
        for (name, value) in values {
            request = request.expression_attribute_values(*name, s(value));
        }
        let output = request.send().await.map_err(backend)?;
        Ok((output.items.unwrap_or_default(), output.last_evaluated_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_spread_ids_evenly_enough() {
        let mut counts = [0u32; DEFAULT_SHARDS as usize];
        for _ in 0..1600 {
            counts[shard(&todo_domain::model::TaskId::generate().to_string(), DEFAULT_SHARDS) as usize] += 1;
        }
        assert!(counts.iter().all(|count| (50..=150).contains(count)), "{counts:?}");
    }

    #[test]
    fn a_task_waits_in_one_of_the_stores_shards() {
        use todo_domain::model::{ListId, NewTask, Tags, Title};
        let new = NewTask {
            title: Title::parse("call").unwrap(),
            notes: None,
            due: None,
            priority: None,
            tags: Tags::default(),
            recurrence: None,
            reminder_at: Some(Timestamp::parse("2026-01-01T09:00:00Z").unwrap()),
        };
        let owner = UserId::generate();
        let at = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        for shards in [1, 4, DEFAULT_SHARDS, MAX_SHARDS] {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..2_000 {
                let task = Task::create(TaskId::generate(), ListId::inbox_of(owner), owner, new.clone(), at).unwrap();
                let key = ScheduleKey::for_task(&task, shards).expect("a pending reminder");
                let number: u32 = key.sched_pk.strip_prefix("ALARM#").unwrap().parse().unwrap();
                assert!(number < shards, "{} with {shards} shards", key.sched_pk);
                assert_eq!(Some(key.sched_sk), ScheduleKey::sort_key_for_task(&task), "the sort key does not depend on the shards");
                seen.insert(number);
            }
            // 2,000 ids reach every one of up to 128 shards (the chance of missing one is tiny).
            assert_eq!(seen.len(), shards as usize, "{seen:?}");
        }
    }

    #[test]
    fn sort_keys_order_by_time_whatever_the_year() {
        let at = |raw| Timestamp::parse(raw).unwrap().to_string();
        let mut keys = [at("2027-01-01T00:00:00Z"), at("0999-12-31T23:59:59.999Z"), at("2026-12-31T23:59:59.5Z")];
        keys.sort();
        assert_eq!(keys, [at("0999-12-31T23:59:59.999Z"), at("2026-12-31T23:59:59.5Z"), at("2027-01-01T00:00:00Z")]);
        assert!(keys.iter().all(|key| key.len() == "2027-01-01T00:00:00.000Z".len()));
    }
}
