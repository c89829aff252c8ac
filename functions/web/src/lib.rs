//! The frontend service: the web app (plain ES modules, no build step) embedded in the binary
//! by `build.rs`, pre-compressed, and served at `GET /` and `GET /assets/<version>/...` by the
//! `web` function and by the local server. The app talks to the API on the same origin.
//!
//! Not memory-serve (the well-kept crate for this): it decompresses and gzips its assets at
//! start-up, a cold-start cost a Lambda pays on every new environment, and it versions files
//! one by one, which breaks ES modules importing each other by relative path. Here one version
//! covers the whole tree and nothing is computed at start-up.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use todo_adapters::config::{ConfigError, Env};

/// One embedded file, as is and (text files) compressed.
#[derive(Debug)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The routes the `web` function serves (and the template routes to it).
pub const ROUTES: [&str; 2] = ["/", "/assets/{*path}"];

/// What the pages' security policy needs to know about the deployment.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Where the browser sends file contents and fetches them from (presigned S3 URLs), if
    /// not this origin (locally the blob URLs are this server's).
    pub blob_origin: Option<String>,
}

impl WebConfig {
    /// The page's Content-Security-Policy: scripts, styles and API calls from this origin
    /// only (no inline script, no eval), uploads and downloads to the blob origin, no framing.
    pub fn content_security_policy(&self) -> String {
        let connect = self.blob_origin.as_deref().map_or_else(|| "'self'".to_owned(), |origin| format!("'self' {origin}"));
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src {connect}; \
             manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        )
    }
}

impl WebConfig {
    /// On AWS (`TODO_STORE=dynamodb`): the bucket `BUCKET_NAME` in `AWS_REGION` (or at
    /// `AWS_ENDPOINT_URL`, path-style with `TODO_S3_PATH_STYLE`); locally nothing (blob URLs
    /// are the server's own).
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        if env.optional("TODO_STORE").as_deref() != Some("dynamodb") {
            return Ok(Self::default());
        }
        let required =
            |name: &'static str| env.optional(name).ok_or(ConfigError { name, problem: "is required when TODO_STORE=dynamodb".to_owned() });
        let region = env.optional("AWS_REGION").map_or_else(|| required("AWS_DEFAULT_REGION"), Ok)?;
        let bucket = required(todo_adapters::config::BUCKET_NAME)?;
        let path_style = env.parsed("TODO_S3_PATH_STYLE", false)?;
        let endpoint = env.optional("AWS_ENDPOINT_URL");
        Ok(Self { blob_origin: Some(todo_adapters::s3::bucket_origin(&region, endpoint.as_deref(), &bucket, path_style)) })
    }
}

/// The `web` Lambda function: the app's routes, configured once per cold start. It needs no
/// store, no keys and no AWS call.
pub async fn serve_lambda() -> Result<(), lambda_http::Error> {
    todo_adapters::telemetry::init_lambda();
    let config = WebConfig::from_env(&Env::process())?;
    lambda_http::run(router(&config)).await
}

/// The app's router: `GET /` (the page) and `GET /assets/...`, every answer with the
/// security headers (one layer, so no route can leave them out).
pub fn router(config: &WebConfig) -> Router {
    let policy = HeaderValue::from_str(&config.content_security_policy()).expect("the policy is a valid header value");
    Router::new().route(ROUTES[0], get(index)).route(ROUTES[1], get(asset)).layer(axum::middleware::map_response(
        move |response: Response| {
            let policy = policy.clone();
            async move { with_security_headers(response, policy) }
        },
    ))
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}

/// The page: revalidated on every load (`no-cache`, its ETag is the asset version), so a
/// deploy reaches browsers at once. The tag is weak: the br, gzip and plain bodies are the
/// same page.
async fn index(headers: HeaderMap) -> Response {
    let etag = format!("W/\"{VERSION}\"");
    let mut response = serve(find("index.html").expect("index.html is embedded"), &headers, "no-cache");
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex"));
    let matches = |tag: &str| tag == "*" || tag.trim_start_matches("W/") == etag.trim_start_matches("W/");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| matches(tag.trim())))
    {
        // A 304 carries the headers a 200 would have (ETag, Cache-Control, Vary), no body.
        let (mut parts, _) = response.into_parts();
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_ENCODING);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, axum::body::Body::empty());
    }
    response
}

/// An asset of this version: immutable. Another version's (a page loaded before a deploy)
/// is a 404, never this version's bytes under an old URL a cache would keep.
async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match path.split_once('/') {
        Some((version, file)) if version == VERSION && file != "index.html" => match find(file) {
            Some(asset) => serve(asset, &headers, "public, max-age=31536000, immutable"),
            None => not_found(),
        },
        _ => not_found(),
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store"), (header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found\n")
        .into_response()
}

/// The encoding to send: of brotli and gzip, the one the client prefers (its q-values; on a
/// tie brotli, the smaller), if it accepts either.
fn preferred_encoding(headers: &HeaderMap) -> Option<&'static str> {
    let accepted = headers.get(header::ACCEPT_ENCODING).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let quality = |name: &str| -> f32 {
        accepted
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let coding = pieces.next().unwrap_or_default().trim();
                (coding.eq_ignore_ascii_case(name) || coding == "*").then(|| {
                    pieces
                        .find_map(|param| {
                            let (key, value) = param.split_once('=')?;
                            key.trim().eq_ignore_ascii_case("q").then(|| value.trim().parse::<f32>().unwrap_or(0.0))
                        })
                        .unwrap_or(1.0)
                })
            })
            .fold(0.0, f32::max)
    };
    let (brotli, gzip) = (quality("br"), quality("gzip"));
    if brotli <= 0.0 && gzip <= 0.0 {
        None
    } else if brotli >= gzip {
        Some("br")
    } else {
        Some("gzip")
    }
}

fn serve(asset: &'static Asset, headers: &HeaderMap, cache_control: &'static str) -> Response {
    // Text assets have both compressed forms (build.rs), others neither.
    let (encoding, body) = match (preferred_encoding(headers), asset.brotli, asset.gzip) {
        (Some("br"), Some(brotli), _) => (Some("br"), brotli),
        (Some("gzip"), _, Some(gzip)) => (Some("gzip"), gzip),
        _ => (None, asset.identity),
    };
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, cache_control)], body).into_response();
    let response_headers = response.headers_mut();
    if let Some(encoding) = encoding {
        response_headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    if asset.gzip.is_some() {
        response_headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

fn with_security_headers(mut response: Response, policy: HeaderValue) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    async fn get(router: &Router, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
        let mut request = http::Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = router.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
    }

    #[tokio::test]
    async fn the_page_names_this_version_and_is_revalidated() {
        let router = router(&WebConfig::default());
        let (status, headers, body) = get(&router, "/", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let page = String::from_utf8(body).unwrap();
        assert!(page.contains(&format!("/assets/{VERSION}/js/main.js")), "{page}");
        assert!(!page.contains("{{ASSETS}}"));
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        for tag in [etag.as_str(), etag.trim_start_matches("W/"), "\"other\", *"] {
            let (status, headers, body) = get(&router, "/", &[("if-none-match", tag), ("accept-encoding", "br")]).await;
            assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0), "{tag}");
            assert_eq!(headers[header::ETAG], etag.as_str());
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
            assert!(headers.contains_key(header::VARY) && headers.contains_key(header::CONTENT_SECURITY_POLICY));
        }
        assert_eq!(get(&router, "/", &[("if-none-match", "\"other\"")]).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn assets_are_immutable_compressed_as_accepted_and_only_of_this_version() {
        let router = router(&WebConfig::default());
        let path = format!("/assets/{VERSION}/js/main.js");
        let (status, headers, plain) = get(&router, &path, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("immutable"));
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        let (_, headers, brotli) = get(&router, &path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert!(brotli.len() < plain.len());
        for (accepted, expected) in [
            ("gzip, br;q=0", Some("gzip")),
            ("gzip;q=1, br;q=0.1", Some("gzip")),
            ("br;Q=0, gzip;Q=0", None),
            ("*", Some("br")),
            ("identity", None),
        ] {
            let (_, headers, _) = get(&router, &path, &[("accept-encoding", accepted)]).await;
            assert_eq!(headers.get(header::CONTENT_ENCODING).map(|value| value.to_str().unwrap()), expected, "{accepted}");
        }
        assert_eq!(get(&router, "/assets/0123456789ab/js/main.js", &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&router, &format!("/assets/{VERSION}/js/nope.js"), &[]).await.0, StatusCode::NOT_FOUND);
        assert_eq!(get(&router, &format!("/assets/{VERSION}/../Cargo.toml"), &[]).await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn every_answer_carries_a_strict_policy() {
        let config = WebConfig { blob_origin: Some("https://files.s3.eu-west-1.amazonaws.com".to_owned()) };
        let router = router(&config);
        for path in ["/", &format!("/assets/{VERSION}/app.css"), "/assets/nope"] {
            let (_, headers, _) = get(&router, path, &[]).await;
            let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(policy.contains("script-src 'self';") && !policy.contains("unsafe"), "{policy}");
            assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
            assert!(policy.contains("connect-src 'self' https://files.s3.eu-west-1.amazonaws.com;"), "{policy}");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        }
    }

    /// No inline script or style anywhere (the policy would block it), and user text is
    /// never put through an HTML parser.
    #[test]
    fn the_sources_keep_to_the_policy() {
        for asset in ASSETS {
            let text = String::from_utf8_lossy(asset.identity);
            if asset.content_type.starts_with("text/html") {
                assert!(!text.contains("<script>") && !text.contains(" style=") && !text.contains("<style"), "{}", asset.path);
                let handler = text.match_indices(" on").any(|(at, _)| {
                    let name: String = text[at + 3..].chars().take_while(char::is_ascii_lowercase).collect();
                    !name.is_empty() && text[at + 3 + name.len()..].starts_with('=')
                });
                assert!(!handler, "{}: no inline event handlers", asset.path);
            }
            if asset.content_type.starts_with("text/javascript") {
                for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                    assert!(!text.contains(banned), "{} uses {banned}", asset.path);
                }
            }
        }
    }
}
