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

/// The operations at one path, each method named once, as in the document's `paths`:
/// `at("/boards").get(list).post(add)`.
pub struct Operations {
    path: &'static str,
    endpoints: Vec<Endpoint>,
}

pub fn at(path: &'static str) -> Operations {
    Operations {
        path,
        endpoints: Vec::new(),
    }
}

impl Operations {
    pub fn get<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Operations {
        self.on(Method::GET, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Operations {
        self.on(Method::POST, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Operations {
        self.on(Method::PUT, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, handler: H) -> Operations {
        self.on(Method::DELETE, handler)
    }

    /// An endpoint whose route answers exactly `method`, so the two cannot disagree.
    fn on<H: Handler<T, AppState>, T: 'static>(mut self, method: Method, handler: H) -> Operations {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        self.endpoints.push(Endpoint {
            method,
            path: self.path,
            route: on(filter, handler),
        });
        self
    }
}

impl IntoIterator for Operations {
    type Item = Endpoint;
    type IntoIter = std::vec::IntoIter<Endpoint>;

    fn into_iter(self) -> Self::IntoIter {
        self.endpoints.into_iter()
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
