//! Keeps the OpenAPI document honest: every integration test talks to the server through a
//! small proxy that checks each response against the document (`/api/v1/openapi.json`) — the
//! route and method must be documented, the status documented for that operation, and a JSON
//! body valid against the schema documented for that status (with the `jsonschema` crate).
//! A mismatch fails the test that received the response.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::Value;

/// What the proxy found wrong, per response.
pub type Failures = Arc<Mutex<Vec<String>>>;

struct Proxy {
    upstream: SocketAddr,
    client: reqwest::Client,
    doc: Value,
    failures: Failures,
}

/// Starts the checking proxy in front of `upstream`; returns its address.
pub async fn spawn_proxy(upstream: SocketAddr, doc: Value, failures: Failures) -> SocketAddr {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("proxy client");
    let proxy = Arc::new(Proxy {
        upstream,
        client,
        doc,
        failures,
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("proxy binds");
    let addr = listener.local_addr().expect("proxy address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

const HOP_BY_HOP: [&str; 4] = [
    "connection",
    "transfer-encoding",
    "content-length",
    "keep-alive",
];

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let path = parts.uri.path().to_owned();
    let mut upstream = proxy
        .client
        .request(
            parts.method.clone(),
            format!("http://{}{path_and_query}", proxy.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            upstream = upstream.header(name, value);
        }
    }
    let answer = match upstream.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Body::from(format!("proxy: {e}")))
                .unwrap_or_default();
        }
    };
    let status = answer.status();
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            response = response.header(name, value);
        }
    }
    let json = answer
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let method = parts.method.as_str().to_ascii_lowercase();
    if json {
        let bytes = answer.bytes().await.unwrap_or_default();
        if let Some(problem) = check(&proxy.doc, &method, &path, status.as_u16(), Some(&bytes)) {
            proxy.failures.lock().expect("failures").push(problem);
        }
        response.body(Body::from(bytes)).unwrap_or_default()
    } else {
        if let Some(problem) = check(&proxy.doc, &method, &path, status.as_u16(), None) {
            proxy.failures.lock().expect("failures").push(problem);
        }
        // Streams (SSE, downloads) pass through as they arrive.
        response
            .body(Body::from_stream(answer.bytes_stream()))
            .unwrap_or_default()
    }
}

/// The documented path template `path` matches, preferring literal segments over parameters.
pub fn operation_path<'d>(doc: &'d Value, path: &str) -> Option<&'d str> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .keys()
        .filter_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut params = 0;
            for (t, s) in parts.iter().zip(&segments) {
                if t.starts_with('{') && t.ends_with('}') && !s.is_empty() {
                    params += 1;
                } else if t != s {
                    return None;
                }
            }
            Some((params, template.as_str()))
        })
        .min()
        .map(|(_, t)| t)
}

/// What is wrong with one response, if anything.
fn check(
    doc: &Value,
    method: &str,
    path: &str,
    status: u16,
    body: Option<&[u8]>,
) -> Option<String> {
    let documented = path.starts_with("/api/v1/")
        || path.starts_with("/api/auth/")
        || matches!(path, "/health" | "/ready" | "/metrics" | "/ws");
    if !documented {
        return None;
    }
    let Some(template) = operation_path(doc, path) else {
        // The API's own "no such route" answer is the one undocumented response allowed.
        let route_not_found = status == 404
            && body
                .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                .is_some_and(|v| v["code"] == "NOT_FOUND" && v["details"]["path"].is_string());
        return (!route_not_found).then(|| {
            format!("{method} {path}: answered {status} but the route is not documented")
        });
    };
    let operation = &doc["paths"][template][method];
    if operation.is_null() {
        // 405 from the router for a method the route lacks.
        return (status != 405).then(|| {
            format!("{method} {template}: answered {status} but the method is not documented")
        });
    }
    let response = &operation["responses"][status.to_string()];
    if response.is_null() {
        return Some(format!(
            "{method} {template}: answered {status}, which the document does not list"
        ));
    }
    let body = body?;
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return Some(format!(
            "{method} {template} {status}: answered JSON where the document has no JSON body"
        ));
    }
    let instance: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Some(format!("{method} {template} {status}: invalid JSON: {e}")),
    };
    let mut root = schema.clone();
    if let Some(obj) = root.as_object_mut() {
        obj.insert("components".into(), doc["components"].clone());
    }
    let validator = match jsonschema::validator_for(&root) {
        Ok(v) => v,
        Err(e) => return Some(format!("{method} {template} {status}: bad schema: {e}")),
    };
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| {
        format!(
            "{method} {template} {status}: the body does not match the document: {}\n  body: {}",
            errors.join("; "),
            String::from_utf8_lossy(&body[..body.len().min(600)])
        )
    })
}

/// The errors of a `/ws` message against the document's `ServerMessage` schema: the socket's
/// messages are held to the document like every HTTP response.
pub fn server_message_errors(message: &Value) -> Vec<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let doc = serde_json::to_value(server::http::documented_routers().3).expect("document");
        let root = serde_json::json!({
            "$ref": "#/components/schemas/ServerMessage",
            "components": doc["components"],
        });
        jsonschema::validator_for(&root).expect("the ServerMessage schema compiles")
    });
    validator
        .iter_errors(message)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}
