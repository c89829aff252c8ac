//! The password throttle's store: admission and counting are one atomic step (a burst of
//! simultaneous checks cannot all pass on one reading), locks follow the schedule, a match
//! takes back its own count, and counts are forgotten a day after the last failure.

use todo_domain::model::Timestamp;
use todo_domain::ports::Admission;
use todo_domain::usecases::throttle::{FREE_FAILURES, MEMORY_SECONDS};

use crate::support::Backend;

fn at(raw: &str) -> Timestamp {
    Timestamp::parse(raw).unwrap()
}

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

pub async fn a_burst_gets_six_checks_then_locks_double_and_counts_are_forgotten(backend: Backend) {
    let throttle = &backend.stores.throttle;
    let (key, other) = (format!("k-{}", ulid::Ulid::new()), format!("o-{}", ulid::Ulid::new()));
    let t0 = at("2026-06-01T09:00:00Z");
    // Twelve simultaneous checks: exactly the five free ones and the sixth are admitted.
    let racers: Vec<_> = (0..12)
        .map(|_| {
            let (throttle, key) = (throttle.clone(), key.clone());
            tokio::spawn(async move { throttle.admit_password_check(&key, t0).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Admission::Admitted => admitted += 1,
            Admission::Locked { until } => assert_eq!(until, t0.plus(seconds(1)), "six failures lock for 1 s"),
        }
    }
    assert_eq!(admitted, FREE_FAILURES + 1, "a burst gets six checks, not twelve");
    assert_eq!(throttle.admit_password_check(&other, t0).await.unwrap(), Admission::Admitted, "keys are apart");

    // The lock doubles with each failure after it ends; a refused check changes nothing.
    backend.calls();
    assert_eq!(throttle.admit_password_check(&key, t0.plus(seconds(1))).await.unwrap(), Admission::Admitted);
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "admitting is one write");
    }
    let t1 = t0.plus(seconds(1));
    for _ in 0..3 {
        assert_eq!(throttle.admit_password_check(&key, t1).await.unwrap(), Admission::Locked { until: t1.plus(seconds(2)) });
    }
    let t3 = t1.plus(seconds(2));
    assert_eq!(throttle.admit_password_check(&key, t3).await.unwrap(), Admission::Admitted);
    assert_eq!(throttle.admit_password_check(&key, t3).await.unwrap(), Admission::Locked { until: t3.plus(seconds(4)) });

    // A match takes back its own count: the lock it would have caused does not come.
    let t7 = t3.plus(seconds(4));
    assert_eq!(throttle.admit_password_check(&key, t7).await.unwrap(), Admission::Admitted);
    throttle.forgive_password_check(&key).await.unwrap();
    assert_eq!(
        throttle.admit_password_check(&key, t7.plus(seconds(4))).await.unwrap(),
        Admission::Admitted,
        "eight failures lock for 4 s, not the nine-failure 8 s"
    );
    throttle.forgive_password_check(&format!("never-{}", ulid::Ulid::new())).await.unwrap();

    // A day without a failure forgets the count: five free failures again.
    let tomorrow = t7.plus(seconds(4 + MEMORY_SECONDS + 1));
    for attempt in 0..=FREE_FAILURES {
        assert_eq!(throttle.admit_password_check(&key, tomorrow).await.unwrap(), Admission::Admitted, "attempt {attempt}");
    }
    assert!(matches!(throttle.admit_password_check(&key, tomorrow).await.unwrap(), Admission::Locked { .. }));
    // Stores without a TTL forget by housekeeping; DynamoDB's TTL does it (and answers 0).
    let purged = throttle.purge_forgotten_failures(tomorrow.plus(seconds(MEMORY_SECONDS + 1)), 100).await.unwrap();
    assert_eq!(purged, if backend.is_dynamodb() { 0 } else { 2 }, "both keys' counts, long forgotten");
}
