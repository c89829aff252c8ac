//! Tracing, set up once per process.

/// For the local server and tools: human-readable logs, `RUST_LOG` honoured (default `info`).
pub fn init_local() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests, embedded use) keeps the first subscriber.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).try_init();
}

/// On Lambda: the runtime's default subscriber, which follows the function's log format
/// (text or JSON) and level as configured in the template.
pub fn init_lambda() {
    lambda_http::tracing::init_default_subscriber();
}
