//! A local Glance-compatible service for glance-agent: the lookup service, the agent viewer, the SAML
//! sign-in page, a visitor simulator and the demo console's origin, all on 127.0.0.1. See README.md beside this crate.

mod app;
mod config;
mod console;
mod loginkey;
mod presence;
mod requests;
mod service;
mod signin;
mod store;
mod visitor;
mod xml;

use std::io::Write;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use tokio::net::TcpListener;

use app::App;
use config::Config;

/// CORS for the configured console origins: the lookups are simple requests; the JSON API may be
/// preflighted by a console that posts JSON.
async fn cors(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|origin| origin.to_str().ok()).map(str::to_owned);
    let allowed =
        origin.filter(|origin| app.allows_origin(origin)).and_then(|origin| HeaderValue::from_str(&origin).ok());
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = allowed {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type, authorization"));
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
        // The agent's EjectAgent message is sent with the browser's cookies.
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    response
}

fn service_routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/services/SessionService.asmx/LookupPartnerSession2", post(service::lookup))
        .route("/services/SessionService.asmx/AgentInSession", post(service::in_session))
        .route("/agentjoin/AgentView.aspx", get(service::agent_view).post(service::agent_view))
        .route("/agentjoin/events", get(service::viewer_events))
        .route("/agentjoin/presence", post(service::presence))
        .route("/account/getloginkey.aspx", get(signin::get_login_key))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/visitor", get(visitor::page))
        .route("/visitor/api/templates", get(visitor::event_templates))
        .route("/visitor/api/sessions", get(visitor::list).post(visitor::start))
        .route("/visitor/api/sessions/{key}", get(visitor::show))
        .route("/visitor/api/sessions/{key}/events", post(visitor::emit))
        .route("/visitor/api/sessions/{key}/end", post(visitor::end))
        .route("/dev/config", get(visitor::dev_config))
        .route("/dev/loginkey", get(visitor::dev_login_key))
        .route("/dev/faults", get(visitor::get_faults).post(visitor::set_faults))
        .route("/services/AuthorizationService.svc/rest/Authorize", post(presence::authorize))
        .route("/services/authorizationservice/GetVisitorSettings3", get(presence::settings))
        .route("/findvisitor", get(presence::find_visitor))
        .route("/lookupvisitor", get(presence::lookup_visitor))
        .route("/signalvisitor", post(presence::signal_visitor))
        .route("/agent", get(presence::agent_socket))
        .route("/agent/message", post(presence::agent_message))
        .route("/visitorws", get(presence::visitor_socket))
        .route("/dev/presence", get(presence::get_switches).post(presence::set_switches))
        .route("/dev/presence/frames", post(presence::send_frames))
        .route("/dev/requests", get(requests::list))
        .layer(middleware::from_fn_with_state(app.clone(), cors))
        .layer(middleware::from_fn_with_state(app.clone(), requests::record))
        .with_state(app)
}

async fn bind(port: u16) -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let origin = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    Ok((listener, origin))
}

async fn run(mut config: Config) -> std::io::Result<()> {
    let console = match config.console_port {
        Some(port) => Some(bind(port).await?),
        None => None,
    };
    if let Some((_, origin)) = &console {
        if config.console_origins.is_empty() {
            let localhost = origin.replace("127.0.0.1", "localhost");
            config.console_origins.extend([origin.clone(), localhost]);
        }
    }
    let (service, webserver) = bind(config.port).await?;
    let console_url = console.as_ref().map(|(_, origin)| format!("{origin}/"));
    let app = Arc::new(App::new(config, webserver.clone(), console_url.clone()));

    // Printed for people and for the tests, which read these lines to find the ports.
    println!("glance-service: service {webserver}  (GLANCE.Agent.webserver)");
    println!("glance-service: visitor {webserver}/visitor");
    if let Some(url) = &console_url {
        println!("glance-service: console {url}");
    }
    println!("glance-service: console origins allowed: {}", app.config.console_origins.join(", "));
    if console_url.is_some() {
        println!("glance-service: open the console, then the visitor simulator from its link; Ctrl-C stops");
    }
    std::io::stdout().flush()?;

    if let Some((listener, _)) = console {
        let routes = Router::new().fallback(any(console::serve)).with_state(app.clone());
        tokio::spawn(async move { axum::serve(listener, routes).await });
    }
    let service = axum::serve(service, service_routes(app));
    tokio::select! {
        result = service => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        print!("{}", config::USAGE);
        return;
    }
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    if config.console_port.is_some() && !std::path::Path::new(&config.root).join("www/index.html").is_file() {
        eprintln!("glance-service: no www/index.html under --root {}; run it from the repository root", config.root);
        std::process::exit(2);
    }
    if let Err(error) = run(config).await {
        eprintln!("glance-service: {error}");
        std::process::exit(1);
    }
}
