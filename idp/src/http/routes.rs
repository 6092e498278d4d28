//! Routers built from lists of operations, for the front ends whose operations are also listed
//! in an OpenAPI document (the admin API, the partner API): the router and the document's test
//! read one list, so the two cannot disagree.

use std::collections::BTreeMap;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::app_state::AppState;

/// One operation: a method on a path (in the document's `{param}` syntax, which is also
/// axum's).
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    route: MethodRouter<AppState>,
}

/// An endpoint whose route answers exactly `method`, so the two cannot disagree.
pub fn endpoint<H, T>(method: Method, path: &'static str, handler: H) -> Endpoint
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
    Endpoint {
        method,
        path,
        route: on(filter, handler),
    }
}

/// A router of endpoints, those of one path merged into one route (axum refuses a path twice).
pub fn router_of(endpoints: Vec<Endpoint>) -> Router<AppState> {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for e in endpoints {
        tracing::trace!(method = %e.method, path = e.path, "route");
        let route = match by_path.remove(e.path) {
            Some(existing) => existing.merge(e.route),
            None => e.route,
        };
        by_path.insert(e.path, route);
    }
    let mut router = Router::new();
    for (path, route) in by_path {
        router = router.route(path, route);
    }
    router
}
