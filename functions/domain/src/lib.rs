//! The To-Do domain: what a user, a session and a task are, the rules that govern them,
//! and the storage ports the adapters implement.
//!
//! Nothing here knows about AWS or HTTP: adapters live in `todo-adapters`, the HTTP glue in
//! `todo-http`, entry points in the service crates (`todo-users`, `todo-tasks`, ...) and in
//! `infra/local`.

pub mod app;
pub mod auth;
pub mod clock;
pub mod cursor;
pub mod error;
pub mod model;
pub mod ports;
pub mod usecases;

pub use app::{App, Settings};
pub use error::{Error, FieldError};
