use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::MethodRouter;
use http::Method;

use todo_domain::{App, Error};

use crate::problem::HttpError;

/// Largest request body accepted; larger ones get a 413 problem.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Whether an operation only reads the stores (its Lambda gets a read-only policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One API operation: a route, the binary that serves it on Lambda, and its handler.
/// Each service crate lists its operations; a Lambda binary serves one, the local server
/// all of them, through the same `router` function — so a route behaves alike everywhere.
#[derive(Clone)]
pub struct Operation {
    /// The Lambda binary (and SAM function) that serves this operation.
    pub binary: &'static str,
    pub method: Method,
    /// An axum path, e.g. `/lists/{list_id}/tasks/{task_id}`.
    pub path: &'static str,
    pub access: Access,
    pub route: fn() -> MethodRouter<App>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({})", self.method, self.path, self.binary)
    }
}

impl Operation {
    /// A router serving just this operation, as its Lambda binary does.
    pub fn router(&'static self, app: App) -> Router {
        router([self], app)
    }
}

/// A router for a set of operations with the shared fallbacks (404 and 405 problems) and
/// body limit.
pub fn router<'a>(operations: impl IntoIterator<Item = &'a Operation>, app: App) -> Router {
    let mut router = Router::new();
    for operation in operations {
        router = router.route(operation.path, (operation.route)());
    }
    router
        .fallback(|| async { HttpError(Error::RouteNotFound) })
        .method_not_allowed_fallback(|| async { HttpError(Error::MethodNotAllowed) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .with_state(app)
}
