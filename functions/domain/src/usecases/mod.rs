//! Use cases: one function per operation, over the ports. Handlers parse a request into the
//! arguments, call one of these, and render the result.

pub mod access;
pub mod files;
pub mod housekeeping;
pub mod lists;
pub mod notifications;
pub mod reminders;
pub mod sharing;
pub mod tasks;
pub mod throttle;
pub mod users;
