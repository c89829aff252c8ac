//! The password throttle's store: failures count atomically, are forgotten after the
//! longest lock, and a success clears them.

use todo_domain::model::Timestamp;
use todo_domain::usecases::throttle::MAX_LOCK_SECONDS;

use crate::support::Backend;

fn at(raw: &str) -> Timestamp {
    Timestamp::parse(raw).unwrap()
}

pub async fn failures_count_concurrently_are_forgotten_and_clear(backend: Backend) {
    let throttle = &backend.stores.throttle;
    let (key, other) = (format!("k-{}", ulid::Ulid::new()), format!("o-{}", ulid::Ulid::new()));
    let t0 = at("2026-06-01T09:00:00Z");
    assert_eq!(throttle.password_failures(&key, t0).await.unwrap(), None);
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (throttle, key) = (throttle.clone(), key.clone());
            tokio::spawn(async move { throttle.record_password_failure(&key, t0).await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().unwrap();
    }
    let recorded = throttle.password_failures(&key, t0).await.unwrap().unwrap();
    assert_eq!((recorded.count, recorded.last_failure), (6, t0), "every concurrent failure counts");
    assert_eq!(throttle.password_failures(&other, t0).await.unwrap(), None, "keys are apart");

    let later = t0.plus(chrono::Duration::seconds(30));
    backend.calls();
    throttle.record_password_failure(&key, later).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "a failure is one write");
    }
    let recorded = throttle.password_failures(&key, later).await.unwrap().unwrap();
    assert_eq!((recorded.count, recorded.last_failure), (7, later));

    // Past the longest lock without a failure, the count is forgotten and starts again.
    let forgotten = later.plus(chrono::Duration::seconds(MAX_LOCK_SECONDS + 1));
    assert_eq!(throttle.password_failures(&key, forgotten).await.unwrap(), None);
    throttle.record_password_failure(&key, forgotten).await.unwrap();
    assert_eq!(throttle.password_failures(&key, forgotten).await.unwrap().unwrap().count, 1);

    // Stores without a TTL forget by housekeeping; DynamoDB's TTL does it (and answers 0).
    let purged = throttle.purge_forgotten_failures(forgotten.plus(chrono::Duration::seconds(MAX_LOCK_SECONDS + 1)), 100).await.unwrap();
    assert_eq!(purged, u64::from(!backend.is_dynamodb()), "the one count, long forgotten");
    throttle.record_password_failure(&key, forgotten).await.unwrap();
    throttle.clear_password_failures(&key).await.unwrap();
    throttle.clear_password_failures(&key).await.unwrap();
    assert_eq!(throttle.password_failures(&key, forgotten).await.unwrap(), None);
}
