//! The cost model: what one million calls of a function cost on AWS, and how long each
//! takes, at each memory size, from the measured CPU time and AWS round trips per call and
//! the public on-demand prices below (us-east-1, arm64); and the memory size chosen from it.

use std::collections::BTreeMap;

/// Lambda, arm64: USD per GB-second, and per request.
pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
pub const LAMBDA_REQUEST: f64 = 0.000_000_2;
/// API Gateway HTTP API, first 300 million requests a month: USD per request.
pub const HTTP_API_REQUEST: f64 = 0.000_001;
/// DynamoDB on-demand: USD per read request unit and per write request unit.
pub const DYNAMODB_RRU: f64 = 0.000_000_125;
pub const DYNAMODB_WRU: f64 = 0.000_000_625;
/// S3 Standard: USD per GET/HEAD request (DELETE is free; presigning costs nothing).
pub const S3_GET: f64 = 0.000_000_4;
/// Assumed latency of one round trip to DynamoDB or S3 from Lambda in the same region, in
/// ms: the function waits (and is billed) for it. Not measured here (the emulator is local).
pub const AWS_CALL_MS: f64 = 6.0;

/// The memory sizes compared, in MB (AWS Lambda Power Tuning's usual grid, and the size
/// at which a function has one full vCPU).
pub const MEMORY_SIZES_MB: [u32; 5] = [128, 256, 512, 1024, 1769];
/// Lambda allocates CPU in proportion to memory: one full vCPU at 1,769 MB.
pub const FULL_VCPU_MB: f64 = 1769.0;
/// How much slower than its fastest size a function may be made to save money: where a
/// person waits on the answer (an HTTP route), 10 ms; where nobody does (events, schedules),
/// a second.
pub const SLACK_PERSON_WAITS_MS: f64 = 10.0;
pub const SLACK_NOBODY_WAITS_MS: f64 = 1000.0;
/// A size must hold the measured peak RSS this many times over (allocator and runtime
/// headroom; Lambda kills a function over its memory).
pub const RSS_HEADROOM: f64 = 2.0;

/// What one call of a function costs the machine and the network, as measured.
pub struct Work<'a> {
    /// CPU per warm call on one full core of the benchmark's machine.
    pub cpu_ms: f64,
    /// Sequential AWS round trips per call (calls issued together count once).
    pub round_trips: f64,
    pub calls: &'a BTreeMap<String, f64>,
    pub peak_rss_mib: f64,
    /// Behind API Gateway, a person waiting (not an event).
    pub http: bool,
}

impl Work<'_> {
    /// Modelled duration at `memory_mb`: the CPU part stretched by the memory's CPU share
    /// (a millisecond on a full core is 13.8 at 128 MB), the waits unchanged.
    pub fn duration_ms(&self, memory_mb: u32) -> f64 {
        self.cpu_ms * (FULL_VCPU_MB / f64::from(memory_mb)).max(1.0) + self.round_trips * AWS_CALL_MS
    }

    /// The cheapest size within the slack of the fastest (ties: the smaller) that holds the
    /// peak RSS with headroom. Lambda's price is linear in memory, so CPU-bound time costs
    /// about the same at any size and waiting costs more at larger ones: the latency bound
    /// is what buys memory.
    pub fn chosen_memory_mb(&self) -> u32 {
        let fastest = MEMORY_SIZES_MB.iter().map(|m| self.duration_ms(*m)).fold(f64::INFINITY, f64::min);
        let slack = if self.http { SLACK_PERSON_WAITS_MS } else { SLACK_NOBODY_WAITS_MS };
        MEMORY_SIZES_MB
            .iter()
            .copied()
            .filter(|m| f64::from(*m) >= self.peak_rss_mib * RSS_HEADROOM && self.duration_ms(*m) <= fastest + slack)
            .min_by(|a, b| self.cost(*a).total().total_cmp(&self.cost(*b).total()).then(a.cmp(b)))
            .unwrap_or(MEMORY_SIZES_MB[MEMORY_SIZES_MB.len() - 1])
    }

    /// USD per million calls at `memory_mb`.
    pub fn cost(&self, memory_mb: u32) -> Cost {
        // Billed per started millisecond.
        let billed_ms = self.duration_ms(memory_mb).ceil().max(1.0);
        let lambda = 1e6 * (f64::from(memory_mb) / 1024.0 * billed_ms / 1000.0 * LAMBDA_GB_SECOND + LAMBDA_REQUEST);
        let api = if self.http { 1e6 * HTTP_API_REQUEST } else { 0.0 };
        let (rru, wru) =
            self.calls.iter().map(|(call, n)| (units(call).0 * n, units(call).1 * n)).fold((0.0, 0.0), |(r, w), (dr, dw)| (r + dr, w + dw));
        let dynamodb = 1e6 * (rru * DYNAMODB_RRU + wru * DYNAMODB_WRU);
        let s3 = 1e6 * self.calls.iter().filter(|(call, _)| matches!(call.as_str(), "s3:GetObject" | "s3:HeadObject")).map(|(_, n)| n * S3_GET).sum::<f64>()
            // An empty sum is -0.0.
            + 0.0;
        Cost { billed_ms, lambda, api, dynamodb, s3, rru, wru }
    }
}

/// Request units one call consumes, for the item sizes this API has (items ≤ 1 KB, a list
/// page ≤ 8 KB, transactions of 2-3 items).
fn units(call: &str) -> (f64, f64) {
    match call {
        "dynamodb:GetItem" => (1.0, 0.0),
        "dynamodb:Query" | "dynamodb:BatchGetItem" => (2.0, 0.0),
        "dynamodb:PutItem" | "dynamodb:UpdateItem" | "dynamodb:DeleteItem" => (0.0, 1.0),
        // 2 WRU per item in a transaction; 2.5 items on average here.
        "dynamodb:TransactWriteItems" => (0.0, 5.0),
        // 25 deletes at most per batch.
        "dynamodb:BatchWriteItem" => (0.0, 25.0),
        _ => (0.0, 0.0),
    }
}

pub struct Cost {
    pub billed_ms: f64,
    pub lambda: f64,
    pub api: f64,
    pub dynamodb: f64,
    pub s3: f64,
    /// DynamoDB read and write request units per call.
    pub rru: f64,
    pub wru: f64,
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.lambda + self.api + self.dynamodb + self.s3
    }
}

/// Functions no person waits on: events and schedules (everything else is an HTTP route).
pub fn is_http(binary: &str) -> bool {
    !matches!(binary, "file-uploaded" | "reminders" | "reminders-shard" | "housekeeping" | "account-purge" | "invitation-announce")
}

/// Where a function's memory comes from when not from its own calls' figures.
pub enum Elsewhere {
    /// A measurement other than one call's decides it.
    Fixed(u32, &'static str),
    /// Another function's choice: the benchmark's calls take a cheaper path than the one
    /// that sizes the function.
    As(&'static str, &'static str),
    /// `purge_memory_mb` of the purge benchmark's CPU per task on DynamoDB.
    LargeAccountPurge,
}

/// The large account the purge is sized for (issue 15), its function's timeout (template.yaml
/// `AccountPurgeFunction`), and the share of it one run may plan to use.
pub const LARGE_ACCOUNT_TASKS: f64 = 20_000.0;
pub const PURGE_TIMEOUT_S: f64 = 300.0;
pub const PURGE_TIMEOUT_SHARE: f64 = 0.5;

/// The smallest size at which a large account's purge (CPU-bound: `cpu_ms_per_task` on a
/// full core, measured by `cargo xtask purge-bench` on moto) fits in one run with headroom.
/// A run that times out resumes, so this buys a bounded wait for the last deletion, not
/// correctness.
pub fn purge_memory_mb(cpu_ms_per_task: f64) -> u32 {
    let budget_ms = PURGE_TIMEOUT_S * PURGE_TIMEOUT_SHARE * 1000.0;
    MEMORY_SIZES_MB
        .iter()
        .copied()
        .find(|m| LARGE_ACCOUNT_TASKS * cpu_ms_per_task * (FULL_VCPU_MB / f64::from(*m)).max(1.0) <= budget_ms)
        .unwrap_or(MEMORY_SIZES_MB[MEMORY_SIZES_MB.len() - 1])
}

pub fn memory_set_elsewhere(binary: &str) -> Option<Elsewhere> {
    match binary {
        // One call on a small account says little: a large account's purge decides.
        "account-purge" => Some(Elsewhere::LargeAccountPurge),
        // It finishes the purges the stream's runs left unfinished.
        "housekeeping" => Some(Elsewhere::As("account-purge", "finishes interrupted account purges")),
        // A worker delivers thousands of alarms: its throughput, not one empty shard, decides.
        "reminders-shard" => Some(Elsewhere::Fixed(1769, "throughput of a shard's worker, docs/reminders.md")),
        // The benchmark edits the name; a password change hashes as sign-up does.
        "user-me-update" => Some(Elsewhere::As("user-signup", "a password change hashes as user-signup does")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(cpu_ms: f64, round_trips: f64, http: bool) -> (BTreeMap<String, f64>, f64, f64, bool) {
        (BTreeMap::new(), cpu_ms, round_trips, http)
    }

    #[test]
    fn a_cpu_bound_route_gets_the_memory_that_keeps_it_near_its_fastest() {
        let (calls, cpu_ms, round_trips, http) = work(40.0, 2.0, true);
        let hashing = Work { cpu_ms, round_trips, calls: &calls, peak_rss_mib: 26.0, http };
        // 40 ms on a full core: 553 ms at 128 MB, 69 at 1,024, 40 at 1,769.
        assert_eq!(hashing.chosen_memory_mb(), 1769);
        let event = Work { http: false, ..hashing };
        assert_eq!(event.chosen_memory_mb(), 128, "nobody waits: the cheapest");
    }

    #[test]
    fn a_large_accounts_purge_fits_one_run() {
        // 2.6 ms a task: 52 s at a full vCPU, 90 s at 1,024 MB, 180 s at 512 (over 150 s).
        assert_eq!(purge_memory_mb(2.6), 1024);
        assert_eq!(purge_memory_mb(2.1), 512);
        assert_eq!(purge_memory_mb(0.2), 128);
        assert_eq!(purge_memory_mb(100.0), 1769, "the largest size when nothing fits");
    }

    #[test]
    fn a_light_read_stays_at_the_smallest_size() {
        let (calls, cpu_ms, round_trips, http) = work(0.4, 1.0, true);
        let read = Work { cpu_ms, round_trips, calls: &calls, peak_rss_mib: 7.0, http };
        assert!((read.duration_ms(128) - (0.4 * 1769.0 / 128.0 + 6.0)).abs() < 1e-9);
        assert!((read.duration_ms(1769) - 6.4).abs() < 1e-9);
        assert_eq!(read.chosen_memory_mb(), 128);
        let heavy = Work { peak_rss_mib: 100.0, ..read };
        assert_eq!(heavy.chosen_memory_mb(), 256, "128 MB cannot hold 100 MiB twice over");
    }
}
