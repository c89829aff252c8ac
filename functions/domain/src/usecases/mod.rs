//! Use cases: one function per operation, over the ports. Handlers parse a request into the
//! arguments, call one of these, and render the result.

pub mod access;
pub mod files;
pub mod housekeeping;
pub mod idempotency;
pub mod lists;
pub mod notifications;
pub mod reminders;
pub mod sharing;
pub mod tasks;
pub mod throttle;
pub mod users;

/// Runs `work` on every item, one after another; one failing does not hold up the others.
/// How many succeeded, or (after trying them all) the first failure.
pub(crate) async fn each_then_first_failure<T, F, Fut>(items: impl IntoIterator<Item = T>, mut work: F) -> Result<u64, crate::Error>
where
    F: FnMut(T) -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::Error>>,
{
    let mut succeeded = 0;
    let mut first_failure = None;
    for item in items {
        match work(item).await {
            Ok(()) => succeeded += 1,
            Err(error) => {
                first_failure.get_or_insert(error);
            }
        }
    }
    first_failure.map_or(Ok(succeeded), Err)
}
