//! The password throttle's store: admission and counting are one atomic step (a burst of
//! simultaneous checks cannot all pass on one reading), locks follow the schedule, a match
//! takes back its own count, and counts are forgotten a day after the last failure.

use todo_domain::model::Timestamp;
use todo_domain::ports::Admission;
use todo_domain::usecases::throttle::{FREE_FAILURES, MAX_LOCK_SECONDS, MEMORY_SECONDS, lock_seconds};

use crate::support::Backend;

fn at(raw: &str) -> Timestamp {
    Timestamp::parse(raw).unwrap()
}

fn seconds(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[track_caller]
fn assert_admitted(admission: Admission) -> Admission {
    assert!(matches!(admission, Admission::Admitted { .. }), "{admission:?}");
    admission
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
            Admission::Admitted { .. } => admitted += 1,
            Admission::Locked { until } => assert_eq!(until, t0.plus(seconds(1)), "six failures lock for 1 s"),
        }
    }
    assert_eq!(admitted, FREE_FAILURES + 1, "a burst gets six checks, not twelve");
    assert_admitted(throttle.admit_password_check(&other, t0).await.unwrap());

    // The lock doubles with each failure after it ends; a refused check changes nothing.
    backend.calls();
    assert_admitted(throttle.admit_password_check(&key, t0.plus(seconds(1))).await.unwrap());
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "admitting is one write");
    }
    let t1 = t0.plus(seconds(1));
    for _ in 0..3 {
        assert_eq!(throttle.admit_password_check(&key, t1).await.unwrap(), Admission::Locked { until: t1.plus(seconds(2)) });
    }
    let t3 = t1.plus(seconds(2));
    assert_admitted(throttle.admit_password_check(&key, t3).await.unwrap());
    assert_eq!(throttle.admit_password_check(&key, t3).await.unwrap(), Admission::Locked { until: t3.plus(seconds(4)) });

    // A match takes back its own count and time: the lock is as it was before it (eight
    // failures, the last at t3: 4 s from t3), not one from the match.
    let t5 = t3.plus(seconds(2));
    assert!(matches!(throttle.admit_password_check(&key, t5).await.unwrap(), Admission::Locked { .. }));
    let t7 = t3.plus(seconds(4));
    let matched = assert_admitted(throttle.admit_password_check(&key, t7).await.unwrap());
    throttle.forgive_password_check(&key, matched).await.unwrap();
    assert_admitted(throttle.admit_password_check(&key, t7).await.unwrap());
    throttle.forgive_password_check(&format!("never-{}", ulid::Ulid::new()), matched).await.unwrap();

    // Up to the cap: 15 minutes from the sixteenth failure on.
    let mut t = t7;
    for count in 10..=17 {
        t = t.plus(seconds(lock_seconds(count - 1)));
        assert_admitted(throttle.admit_password_check(&key, t).await.unwrap());
        assert_eq!(
            throttle.admit_password_check(&key, t).await.unwrap(),
            Admission::Locked { until: t.plus(seconds(lock_seconds(count))) }
        );
    }
    assert_eq!(lock_seconds(17), MAX_LOCK_SECONDS);
    let t7 = t;

    // A day without a failure forgets the count: five free failures again.
    let tomorrow = t7.plus(seconds(MEMORY_SECONDS + 1));
    for _ in 0..=FREE_FAILURES {
        assert_admitted(throttle.admit_password_check(&key, tomorrow).await.unwrap());
    }
    assert!(matches!(throttle.admit_password_check(&key, tomorrow).await.unwrap(), Admission::Locked { .. }));
    // Stores without a TTL forget by housekeeping; DynamoDB's TTL does it (and answers 0).
    let purged = throttle.purge_forgotten_failures(tomorrow.plus(seconds(MEMORY_SECONDS + 1)), 100).await.unwrap();
    assert_eq!(purged, if backend.is_dynamodb() { 0 } else { 2 }, "both keys' counts, long forgotten");
}
