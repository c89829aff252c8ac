//! What the benchmarks share: a secret, people, this process's CPU time.

use todo_domain::auth::Secret;
use todo_domain::model::{Email, PasswordHash, Timestamp, User, UserId};

pub fn secret() -> Secret {
    Secret::new(vec![7; 32]).expect("a long enough secret")
}

pub fn user(n: usize, now: Timestamp) -> User {
    User {
        id: UserId::generate(),
        email: Email::parse(&format!("user{n}@bench.example")).expect("an email"),
        name: None,
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned()),
        created_at: now,
        updated_at: now,
        version: 1,
        credentials_version: 1,
    }
}

/// CPU time this process has used (user + system), from /proc (Linux; 0 elsewhere).
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces, hence after the last ')').
    let fields: Vec<&str> = stat.rsplit_once(')').map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}
