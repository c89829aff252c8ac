//! The local server's HTTP/1.1 front: what API Gateway does on AWS before a request reaches a
//! function — a bounded time to send the head, a bounded head, a bounded time to send the
//! body — so a slow or oversized client can hold neither a connection (slowloris) nor
//! memory for long. hyper enforces the head's limits; `DeadlineBody` the body's.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper_util::rt::{TokioIo, TokioTimer};

/// How long a client has to send what it sends.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// From the connection's opening, or the end of its last answer, to the end of the next
    /// request's head: so also how long an idle keep-alive connection stays open.
    pub head_timeout: Duration,
    /// The largest head (request line and headers); more is refused with 431.
    pub max_head_bytes: usize,
    /// From the head's end to the body's last byte, however it trickles in; later is a 408.
    pub body_timeout: Duration,
}

impl Limits {
    /// Roomy for a person on a slow network, tight for a connection hog. The body's time
    /// allows a 25 MiB upload (the file limit) at ~220 kB/s.
    pub const DEFAULT: Self =
        Self { head_timeout: Duration::from_secs(10), max_head_bytes: 64 * 1024, body_timeout: Duration::from_secs(120) };
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then lets the
/// requests in progress finish.
pub async fn serve(listener: tokio::net::TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let router =
        router.layer(axum::middleware::from_fn(move |request: Request, next: Next| body_deadline(limits.body_timeout, request, next)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.head_timeout)
            .max_buf_size(limits.max_head_bytes)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}

/// Gives the request's body `timeout` in all; a body not read in time ends in an error for
/// whoever reads it, and the answer becomes a 408 problem, whatever the handler made of it.
async fn body_deadline(timeout: Duration, request: Request, next: Next) -> Response {
    let timed_out = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let body = DeadlineBody { inner: body, deadline: Box::pin(tokio::time::sleep(timeout)), timed_out: timed_out.clone() };
    let response = next.run(Request::from_parts(parts, Body::new(body))).await;
    if timed_out.load(Ordering::Relaxed) {
        let seconds = timeout.as_secs();
        return todo_http::HttpError(todo_domain::Error::RequestTimeout(format!("the request body did not arrive within {seconds} s")))
            .into_response();
    }
    response
}

struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    timed_out: Arc<AtomicBool>,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.timed_out.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::from(std::io::ErrorKind::TimedOut)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
