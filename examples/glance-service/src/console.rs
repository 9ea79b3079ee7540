//! The demo console's origin: `www/` at `/`, `dist/` at `/dist/`, and `/demo-config.json` naming the
//! service. A different port from the service, so the library's requests are cross-origin as in production.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::app::App;

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// Maps a URL path to a file under www/ or dist/, refusing anything that climbs out.
fn file_for(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = url_path.trim_start_matches('/');
    let (base, rest) = match relative.strip_prefix("dist/") {
        Some(rest) => (root.join("dist"), rest),
        None => (root.join("www"), if relative.is_empty() { "index.html" } else { relative }),
    };
    let rest = Path::new(rest);
    rest.components().all(|part| matches!(part, Component::Normal(_))).then(|| base.join(rest))
}

pub async fn serve(State(app): State<Arc<App>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/demo-config.json" {
        return Json(json!({ "webserver": app.webserver, "visitorUrl": format!("{}/visitor", app.webserver) }))
            .into_response();
    }
    let Some(file) = file_for(Path::new(&app.config.root), path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read(&file).await {
        // The policy the README says a console can keep: no inline script, no eval.
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(&file)),
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(_) if path.starts_with("/dist/") => {
            (StatusCode::NOT_FOUND, "dist/ is missing: run `make build` (make demo does it)").into_response()
        }
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_www_and_dist() {
        let root = Path::new("/repo");
        assert_eq!(file_for(root, "/"), Some(PathBuf::from("/repo/www/index.html")));
        assert_eq!(file_for(root, "/console.js"), Some(PathBuf::from("/repo/www/console.js")));
        assert_eq!(
            file_for(root, "/dist/script/glance-agent.js"),
            Some(PathBuf::from("/repo/dist/script/glance-agent.js"))
        );
        assert_eq!(file_for(root, "/../Cargo.toml"), None);
        assert_eq!(file_for(root, "/dist/../../etc/passwd"), None);
    }
}
