//! The HTTP listener (`--http`) serving `/metrics` and `/search`.

use std::net::SocketAddr;
use std::sync::Arc;

use chronik_http::{HttpListener, HttpServices, MetricsSource, SearchSource};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Starts the listener on `addr` when there is anything to serve, until
/// `stop` turns true. A bind failure is logged, not fatal: the broker itself
/// is unaffected, and a second broker on one host must not fail to start.
pub(super) async fn start(
    addr: SocketAddr,
    metrics: Option<Arc<dyn MetricsSource>>,
    search: Option<Arc<dyn SearchSource>>,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    let services = HttpServices { metrics, search };
    if services.metrics.is_none() && services.search.is_none() {
        return None;
    }
    match HttpListener::bind(addr).await {
        Ok(listener) => Some(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = listener.serve(services, shutdown).await {
                tracing::error!(error = %e, "HTTP listener failed");
            }
        })),
        Err(e) => {
            tracing::error!(
                %addr,
                error = %e,
                "cannot bind the HTTP listener; metrics and search are unavailable over HTTP"
            );
            None
        }
    }
}
