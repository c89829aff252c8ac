//! HTTP tests of every route, in process (`tower::ServiceExt::oneshot`), each test on its
//! own fresh embedded store.

mod bad_input;
mod blobs;
mod contract;
mod events;
mod faults;
mod files;
mod front;
mod iam;
mod jobs;
mod lambda_runtime;
mod layers;
mod lists;
mod notifications;
mod openapi;
mod server;
mod sharing;
mod support;
mod tasks;
mod template;
mod users;
