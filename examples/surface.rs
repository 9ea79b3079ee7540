//! Writes the API surface (src/surface.rs) as the JavaScript module the facade is built with:
//! `cargo run --example surface > target/surface.js` (`make build` does it).

use glance_agent::surface::{Initial, LOAD_FAILED, METHODS, PROPERTIES};
use serde_json::{json, Map, Value};

fn main() {
    let methods: Map<String, Value> =
        METHODS.iter().map(|(name, returns)| (name.to_string(), json!(returns.as_str()))).collect();
    let properties: Map<String, Value> = PROPERTIES
        .iter()
        .map(|property| {
            let initial = match property.initial {
                Initial::Text(text) => json!(text),
                Initial::Flag(flag) => json!(flag),
                Initial::Number(number) => json!(number),
                Initial::Empty => json!([]),
            };
            (property.name.to_string(), json!({ "initial": initial, "writable": property.writable }))
        })
        .collect();
    let load_failed = json!({ "code": LOAD_FAILED.code(), "message": LOAD_FAILED.to_string() });
    println!("// Generated from src/surface.rs by `cargo run --example surface`: do not edit.");
    println!("export const methods = {};", Value::Object(methods));
    println!("export const properties = {};", Value::Object(properties));
    println!("export const loadFailed = {load_failed};");
}
