//! HTTP glue shared by every function: the problem+json mapping of `Error`, extractors that
//! turn requests into parsed values (or field-named errors), and the `Operation` table that
//! lets one route run alone on Lambda or beside all the others in the local server.

mod extract;
pub mod openapi;
mod operation;
mod problem;

pub use extract::{
    Authenticated, FilePath, IdempotencyKeyHeader, IfMatch, InvitationPath, JsonBody, ListInvitationPath, ListPath, MemberPath, PageQuery,
    PathParam, PathParams, QueryParams, TaskPath, etag, nullable, parse_path_id,
};
pub use operation::{Access, BODY_LIMIT_BYTES, Operation, router};
pub use problem::HttpError;
