//! The router, remembering its own paths. axum's `Router` cannot list its routes, and the app
//! fallback must know which paths are the server's (a JSON 404 for `/api/nope`, never the web
//! app's `index.html`). Building the router through [`Routes`] records every path as it is
//! routed, so that list is the route table itself and a new route can never be missed.

use axum::routing::MethodRouter;
use axum::Router;

/// A `Router` under construction plus every path given to it.
pub struct Routes<S> {
    router: Router<S>,
    paths: Vec<&'static str>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            paths: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Router::route`, recording `path`.
    pub fn route(mut self, path: &'static str, method_router: MethodRouter<S>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, method_router);
        self
    }

    /// Changes the router without adding paths (`route_layer` over the routes so far).
    pub fn with(mut self, f: impl FnOnce(Router<S>) -> Router<S>) -> Self {
        self.router = f(self.router);
        self
    }

    /// `Router::merge`, keeping both sets of paths.
    pub fn merge(mut self, other: Routes<S>) -> Self {
        self.paths.extend(other.paths);
        self.router = self.router.merge(other.router);
        self
    }

    /// Records a path served by a layer rather than a route (Socket.IO's).
    pub fn claim(mut self, path: &'static str) -> Self {
        self.paths.push(path);
        self
    }

    pub fn into_parts(self) -> (Router<S>, OwnPaths) {
        (self.router, OwnPaths::from_routes(&self.paths))
    }
}

/// The first path segments the server's routes use (`api`, `cdn`, `health`, …): any path
/// under one of them is the server's, whether or not a route matches it exactly.
#[derive(Debug, Clone)]
pub struct OwnPaths {
    segments: Vec<String>,
}

impl OwnPaths {
    pub fn from_routes(paths: &[&str]) -> OwnPaths {
        let mut segments: Vec<String> = paths
            .iter()
            .filter_map(|p| first_segment(p))
            // A route starting with a capture (`/{id}`) would claim everything: not ours.
            .filter(|s| !s.starts_with('{'))
            .map(str::to_owned)
            .collect();
        segments.sort();
        segments.dedup();
        OwnPaths { segments }
    }

    /// Whether `path` lies under one of the server's own first segments.
    pub fn contains(&self, path: &str) -> bool {
        first_segment(path).is_some_and(|s| self.segments.iter().any(|own| own == s))
    }

    pub fn segments(&self) -> &[String] {
        &self.segments
    }
}

fn first_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix('/')?;
    let seg = rest.split('/').next().unwrap_or("");
    (!seg.is_empty()).then_some(seg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_a_routed_first_segment_are_the_servers() {
        let own = OwnPaths::from_routes(&[
            "/api/tracks/{id}",
            "/cdn/stream/{id}",
            "/health",
            "/socket.io",
        ]);
        assert_eq!(own.segments(), ["api", "cdn", "health", "socket.io"]);
        for p in [
            "/api/nope",
            "/api",
            "/api/",
            "/cdn/stream/x",
            "/socket.io/",
            "/health",
        ] {
            assert!(own.contains(p), "{p}");
        }
        for p in [
            "/",
            "/room/abc",
            "/albums/1",
            "/assets/index.js",
            "/apiary",
            "",
        ] {
            assert!(!own.contains(p), "{p}");
        }
    }

    #[test]
    fn routes_record_every_path_merged_or_claimed() {
        let a: Routes<()> = Routes::new().route("/api/a", axum::routing::get(|| async {}));
        let b = Routes::new().route("/metrics", axum::routing::get(|| async {}));
        let (_, own) = a.merge(b).claim("/socket.io").into_parts();
        assert_eq!(own.segments(), ["api", "metrics", "socket.io"]);
    }
}
