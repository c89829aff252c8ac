//! The cost model: what one million calls of a function cost on AWS, from the measured CPU
//! time and AWS calls per call and the public on-demand prices below (us-east-1, arm64).

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
/// The configured memory (template `Globals.Function.MemorySize`), in GB.
pub const MEMORY_GB: f64 = 0.125;
/// Assumed latency of one call to DynamoDB or S3 from Lambda in the same region, in ms:
/// the function waits (and is billed) for it. Not measured here (the emulator is local).
pub const AWS_CALL_MS: f64 = 6.0;

/// Request units one call consumes, for the item sizes this API has (items ≤ 1 KB, a list
/// page ≤ 8 KB, transactions of 2-3 items).
fn units(call: &str) -> (f64, f64) {
    match call {
        "dynamodb:GetItem" => (1.0, 0.0),
        "dynamodb:Query" => (2.0, 0.0),
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
}

impl Cost {
    pub fn total(&self) -> f64 {
        self.lambda + self.api + self.dynamodb + self.s3
    }
}

/// USD per million calls of one function. `http`: behind API Gateway (not an event).
pub fn per_million(cpu_ms: f64, calls: &BTreeMap<String, f64>, http: bool) -> Cost {
    let aws_calls: f64 = calls.values().sum();
    // Billed per started millisecond.
    let billed_ms = (cpu_ms + aws_calls * AWS_CALL_MS).ceil().max(1.0);
    let lambda = 1e6 * (MEMORY_GB * billed_ms / 1000.0 * LAMBDA_GB_SECOND + LAMBDA_REQUEST);
    let api = if http { 1e6 * HTTP_API_REQUEST } else { 0.0 };
    let (rru, wru) =
        calls.iter().map(|(call, n)| (units(call).0 * n, units(call).1 * n)).fold((0.0, 0.0), |(r, w), (dr, dw)| (r + dr, w + dw));
    let dynamodb = 1e6 * (rru * DYNAMODB_RRU + wru * DYNAMODB_WRU);
    let s3 = 1e6
        * calls.iter().filter(|(call, _)| matches!(call.as_str(), "s3:GetObject" | "s3:HeadObject")).map(|(_, n)| n * S3_GET).sum::<f64>()
        + 0.0;
    Cost { billed_ms, lambda, api, dynamodb, s3 }
}
