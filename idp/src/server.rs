//! HTTP: the router, operational endpoints and graceful shutdown.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use certs::Algorithm;
use directory::Pool;
use tokio::net::TcpListener;

use crate::app_state::AppState;
use crate::state::StateStore;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::web::routes().layer(middleware::from_fn_with_state(
            state.clone(),
            crate::web::outage_banner,
        )))
        .merge(crate::oidc::routes())
        .merge(crate::saml::routes())
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        // Before the API is nested: it answers its own 405s as problem+json.
        .method_not_allowed_fallback(crate::http::extract::method_not_allowed)
        .nest(crate::api::PREFIX, crate::api::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .with_state(state)
}

/// Liveness: the process answers. Deliberately checks nothing else, so that a database outage
/// does not make an orchestrator restart every node at once.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: this node can serve logins, which needs the database, the session store and a
/// signing key it can decrypt (a node started with the wrong key-encryption key is not ready).
async fn readyz(Extract(state): Extract<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.state.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: session store unavailable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "session store unavailable\n",
            )
                .into_response();
        }
        Err(_) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "session store timeout\n").into_response();
        }
    }
    match tokio::time::timeout(Duration::from_secs(2), state.directory.ping()).await {
        Ok(Ok(())) => match state.keys.current_signing_key(Algorithm::Rs256).await {
            Ok(_) => (StatusCode::OK, "ready\n").into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check: no usable signing key");
                (StatusCode::SERVICE_UNAVAILABLE, "signing key unavailable\n").into_response()
            }
        },
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
        Err(_) => {
            tracing::warn!("readiness check: database did not answer within 2 s");
            (StatusCode::SERVICE_UNAVAILABLE, "database timeout\n").into_response()
        }
    }
}

async fn metrics(Extract(state): Extract<AppState>) -> Response {
    let (size, idle) = match state.directory.pool() {
        Pool::Sqlite(p) => (p.size(), p.num_idle()),
        Pool::Postgres(p) => (p.size(), p.num_idle()),
    };
    let body = state.metrics.render(&[
        (
            "openpoort_db_pool_connections",
            "Open database connections.",
            f64::from(size),
        ),
        (
            "openpoort_db_pool_idle_connections",
            "Idle database connections.",
            idle as f64,
        ),
        (
            "openpoort_register_cache_in_use",
            "1 while the register's read cache is in use; on PostgreSQL 0 while this node does not hear other nodes' changes.",
            f64::from(u8::from(state.directory.cache_in_use())),
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// A page like every other page (a mistyped or outdated link is a person's, not a program's;
/// the API answers its own paths with problem+json).
async fn not_found() -> Response {
    crate::http::message(
        StatusCode::NOT_FOUND,
        "Pagina niet gevonden",
        crate::http::Text::new(
            "Deze pagina bestaat niet. Controleer het adres, of begin opnieuw bij het portaal.",
            "This page does not exist. Check the address, or start again at the portal.",
        ),
        Some(("/", "Naar het portaal / To the portal")),
    )
}

/// Counts and times each request under its route template, never the raw path: raw paths carry
/// identifiers and would let a scanner create unbounded series.
async fn observe(Extract(state): Extract<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let elapsed = start.elapsed();
    state.metrics.observe(&method, &route, status, elapsed);
    // The query string is never logged: later endpoints carry codes and tokens in it.
    tracing::debug!(%method, %route, status, ms = elapsed.as_secs_f64() * 1000.0, "request");
    response
}

/// A year: browsers that once reached openpoort over https refuse a downgraded http link
/// (a café's Wi-Fi rewriting links) for that long. Not `includeSubDomains`: the school
/// board's other hosts under the same domain are not ours to pin.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

async fn security_headers(Extract(state): Extract<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    // Only with an https public URL (always so in production): a development server on plain
    // http must stay reachable, and browsers ignore the header over http anyway (RFC 6797 8.1).
    if state.web.public_url.starts_with("https://") {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Serves until SIGTERM or Ctrl-C, then stops accepting, lets requests in flight finish for at
/// most `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: crate::accept::Limits,
    grace: Duration,
) -> std::io::Result<()> {
    crate::accept::serve(listener, app, limits, grace, shutdown_signal()).await
}

/// As [`serve`], over TLS: the partner API's mutual-TLS listener.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    tls: std::sync::Arc<rustls::ServerConfig>,
    limits: crate::accept::Limits,
    grace: Duration,
) -> std::io::Result<()> {
    crate::accept::serve_tls(listener, app, tls, limits, grace, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
