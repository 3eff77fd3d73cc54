//! The broker's HTTP listener (`--http`, default `127.0.0.1:9644`).
//!
//! Routes, each present only when the broker provides its source:
//!
//! * `GET /metrics`: Prometheus text exposition ([`MetricsSource`]).
//! * `GET /search?topic=T&q=QUERY[&limit=N]`: full-text search over a
//!   topic ([`SearchSource`]); JSON `{"topic", "query", "hits": [...]}`.
//!   Errors are JSON `{"error": "..."}` with 400 for a bad request
//!   (missing parameter, malformed query), 404 for a topic without search,
//!   500 otherwise.
//! * `GET /healthz`: `ok`, always.
//!
//! This crate knows nothing of Prometheus or tantivy: the broker adapts its
//! subsystems to the two small traits, so enabling the listener for metrics
//! does not compile the search engine, and vice versa. Built on axum (with
//! only its `http1`, `tokio` and `query` features) over hyper.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

/// Default number of search hits.
pub const DEFAULT_SEARCH_LIMIT: usize = 10;

/// Something that renders metrics in the Prometheus text format.
pub trait MetricsSource: Send + Sync + 'static {
    /// The full exposition text.
    fn render(&self) -> String;
}

/// Why a search failed, as far as HTTP cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchFailure {
    /// The request is wrong (e.g. a malformed query): 400.
    BadRequest(String),
    /// The topic is not searchable: 404.
    NotFound(String),
    /// The broker failed: 500.
    Internal(String),
}

/// Something that answers search queries. Called on a blocking thread, so
/// it may do synchronous I/O.
pub trait SearchSource: Send + Sync + 'static {
    /// Runs `query` over `topic`; returns the hits as JSON.
    fn search(
        &self,
        topic: &str,
        query: &str,
        limit: usize,
    ) -> Result<serde_json::Value, SearchFailure>;
}

/// What the listener serves.
#[derive(Clone, Default)]
pub struct HttpServices {
    /// Serves `/metrics` when set.
    pub metrics: Option<Arc<dyn MetricsSource>>,
    /// Serves `/search` when set.
    pub search: Option<Arc<dyn SearchSource>>,
}

impl std::fmt::Debug for HttpServices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServices")
            .field("metrics", &self.metrics.is_some())
            .field("search", &self.search.is_some())
            .finish()
    }
}

/// The routes for `services`.
pub fn router(services: HttpServices) -> Router {
    let mut router = Router::new().route("/healthz", get(|| async { "ok\n" }));
    if let Some(metrics) = services.metrics {
        router = router.route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    // Rendering runs scrape hooks that may take locks.
                    match tokio::task::spawn_blocking(move || metrics.render()).await {
                        Ok(text) => (
                            [(
                                header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            text,
                        )
                            .into_response(),
                        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
                    }
                }
            }),
        );
    }
    if let Some(search) = services.search {
        router = router.route("/search", get(search_handler).with_state(search));
    }
    router
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    topic: Option<String>,
    q: Option<String>,
    limit: Option<String>,
}

fn json_error(status: StatusCode, message: &str) -> Response {
    json_response(status, &serde_json::json!({ "error": message }))
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn search_handler(
    State(search): State<Arc<dyn SearchSource>>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(params)) = params else {
        return json_error(StatusCode::BAD_REQUEST, "malformed query string");
    };
    let (Some(topic), Some(query)) = (params.topic, params.q) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "parameters `topic` and `q` are required",
        );
    };
    let limit = match params.limit.as_deref().map(str::parse::<usize>) {
        None => DEFAULT_SEARCH_LIMIT,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "parameter `limit` must be a non-negative integer",
            )
        }
    };
    let (t, q) = (topic.clone(), query.clone());
    let result = tokio::task::spawn_blocking(move || search.search(&t, &q, limit)).await;
    match result {
        Ok(Ok(hits)) => json_response(
            StatusCode::OK,
            &serde_json::json!({ "topic": topic, "query": query, "hits": hits }),
        ),
        Ok(Err(SearchFailure::BadRequest(m))) => json_error(StatusCode::BAD_REQUEST, &m),
        Ok(Err(SearchFailure::NotFound(m))) => json_error(StatusCode::NOT_FOUND, &m),
        Ok(Err(SearchFailure::Internal(m))) => {
            tracing::warn!(error = %m, "search failed");
            json_error(StatusCode::INTERNAL_SERVER_ERROR, &m)
        }
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// A bound (not yet serving) HTTP listener.
#[derive(Debug)]
pub struct HttpListener {
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl HttpListener {
    /// Binds `addr` (port 0 picks a free port).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(HttpListener { listener, addr })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `services` until `shutdown` completes, then finishes the
    /// requests in flight.
    pub async fn serve(
        self,
        services: HttpServices,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.addr, ?services, "HTTP listener started");
        axum::serve(self.listener, router(services))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct FixedMetrics;
    impl MetricsSource for FixedMetrics {
        fn render(&self) -> String {
            "# TYPE chronik_up gauge\nchronik_up 1\n".into()
        }
    }

    struct FakeSearch;
    impl SearchSource for FakeSearch {
        fn search(
            &self,
            topic: &str,
            query: &str,
            limit: usize,
        ) -> Result<serde_json::Value, SearchFailure> {
            match (topic, query) {
                ("logs", "(") => Err(SearchFailure::BadRequest("syntax error at 1".into())),
                ("logs", "boom") => Err(SearchFailure::Internal("disk on fire".into())),
                ("logs", q) => Ok(serde_json::json!([{ "offset": 7, "q": q, "limit": limit }])),
                (t, _) => Err(SearchFailure::NotFound(format!("topic {t} not indexed"))),
            }
        }
    }

    async fn start(services: HttpServices) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = HttpListener::bind("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let addr = listener.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(listener.serve(services, async {
            let _ = rx.await;
        }));
        (addr, tx)
    }

    /// Minimal HTTP/1.1 GET; returns (status, content type, body).
    async fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).await.unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-type")
                    .then(|| v.trim().to_string())
            })
            .unwrap_or_default();
        (status, content_type, body.to_string())
    }

    fn json(body: &str) -> serde_json::Value {
        serde_json::from_str(body).unwrap()
    }

    #[tokio::test]
    async fn serves_metrics_and_search() {
        let (addr, _stop) = start(HttpServices {
            metrics: Some(Arc::new(FixedMetrics)),
            search: Some(Arc::new(FakeSearch)),
        })
        .await;

        let (status, ct, body) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        assert!(body.contains("chronik_up 1"), "{body}");

        let (status, ct, body) = get(addr, "/search?topic=logs&q=disk%20full&limit=3").await;
        assert_eq!((status, ct.as_str()), (200, "application/json"));
        let v = json(&body);
        assert_eq!(v["topic"], "logs");
        assert_eq!(v["hits"][0]["q"], "disk full");
        assert_eq!(v["hits"][0]["limit"], 3);

        let (_, _, body) = get(addr, "/search?topic=logs&q=x").await;
        assert_eq!(json(&body)["hits"][0]["limit"], DEFAULT_SEARCH_LIMIT);
    }

    #[tokio::test]
    async fn search_errors_map_to_status_codes() {
        let (addr, _stop) = start(HttpServices {
            metrics: None,
            search: Some(Arc::new(FakeSearch)),
        })
        .await;
        for (path, status, needle) in [
            ("/search?topic=logs&q=(", 400, "syntax error"),
            ("/search?topic=logs", 400, "required"),
            ("/search?q=x", 400, "required"),
            ("/search?topic=logs&q=x&limit=many", 400, "limit"),
            ("/search?topic=other&q=x", 404, "not indexed"),
            ("/search?topic=logs&q=boom", 500, "disk on fire"),
        ] {
            let (s, ct, body) = get(addr, path).await;
            assert_eq!(s, status, "{path}: {body}");
            assert_eq!(ct, "application/json", "{path}");
            let error = json(&body)["error"].as_str().unwrap().to_string();
            assert!(error.contains(needle), "{path}: {error}");
        }
    }

    #[tokio::test]
    async fn disabled_services_are_absent() {
        let (addr, stop) = start(HttpServices::default()).await;
        assert_eq!(get(addr, "/metrics").await.0, 404);
        assert_eq!(get(addr, "/search?topic=a&q=b").await.0, 404);
        let (status, _, body) = get(addr, "/healthz").await;
        assert_eq!((status, body.as_str()), (200, "ok\n"));
        // Graceful shutdown closes the listener.
        stop.send(()).unwrap();
        let mut refused = false;
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(refused, "listener still accepting after shutdown");
    }
}
