//! The page primitives the module works with: URLs as the browser parses them, windows, hidden
//! frames and forms. Each does one thing and reports whether it could; what to do with them is decided
//! by the callers (`viewer`, `signin`, `diagnose`).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use super::js;
use crate::agent::{How, Load, Place};
use crate::url::{HttpUrl, UrlParts, MAX_URL_LEN};

#[wasm_bindgen]
extern "C" {
    /// The page's `window.open`, called as the page has it (a popup blocker or a test may replace it).
    #[wasm_bindgen(catch, js_name = open)]
    fn window_open(url: &str, target: &str, features: &str) -> Result<JsValue, JsValue>;
}

/// `text` as the browser parses it, if it is an http(s) URL without user info.
pub fn parse_url(text: &str) -> Option<HttpUrl> {
    url_parts(text).and_then(HttpUrl::from_parts)
}

/// The parts of `text` as the browser's `URL` reads them; `None` when it is not a URL.
pub fn url_parts(text: &str) -> Option<UrlParts> {
    if text.len() > MAX_URL_LEN {
        return None;
    }
    let url = js::construct("URL", &[&text.into()]).ok()?;
    let part = |name| js::text(&url, name).unwrap_or_default();
    Some(UrlParts {
        protocol: part("protocol"),
        user_info: !part("username").is_empty() || !part("password").is_empty(),
        origin: part("origin"),
        host: part("host"),
        path: part("pathname"),
        search: part("search"),
        hash: part("hash"),
    })
}

/// `params.iframe` (an iframe element, or the id of one) as the element.
pub fn iframe_of(value: &JsValue) -> Option<JsValue> {
    let element = match value.as_string() {
        Some(id) => js::call(&document()?, "getElementById", &[&id.into()]).ok().filter(JsValue::is_object)?,
        None => value.clone(),
    };
    let is_iframe = element.dyn_ref::<Element>().is_some()
        && js::get(&element, "localName").ok().and_then(|name| name.as_string()).as_deref() == Some("iframe");
    is_iframe.then_some(element)
}

/// Loads the viewer: into the iframe, or into the join's waiting window while it is open, else into
/// a new window; by GET of the URL or POST of the form. The viewer's window, or `None` when the
/// browser or the page refused (a window opened for nothing is closed again).
pub fn load_viewer(load: &Load<JsValue>) -> Option<JsValue> {
    match &load.into {
        Place::Frame { frame, name } => {
            let view = js::get(frame, "contentWindow").ok().filter(js::is_object_like)?;
            match &load.how {
                How::Get(url) => set(frame, "src", url).then_some(view),
                How::Post { action, fields } => {
                    let mut target = js::get(frame, "name").ok().and_then(|name| name.as_string()).unwrap_or_default();
                    if target.is_empty() {
                        // The attribute alone does not rename a frame that already exists; its window's name does.
                        target.clone_from(name);
                        set(frame, "name", name);
                        set(&view, "name", name);
                    }
                    post_into(&view, &target, action, fields).then_some(view)
                }
            }
        }
        Place::Window { waiting, name, features } => {
            let waiting = waiting.clone().filter(|window| !is_closed(window));
            let view = match (waiting, &load.how) {
                (Some(waiting), How::Post { .. }) => waiting,
                (Some(waiting), How::Get(url)) => set(&waiting, "location", url).then_some(waiting)?,
                (None, How::Post { .. }) => open_named(name, features)?,
                (None, How::Get(url)) => open_window(url, name, features)?,
            };
            if let How::Post { action, fields } = &load.how {
                if !post_into(&view, name, action, fields) {
                    close_window(&view);
                    return None;
                }
            }
            Some(view)
        }
    }
}

/// Submits the viewer's form into `view`: from its own document when it is ours (a fresh
/// `about:blank`), else from the page's, aimed at it by `name` (which must be a real name, not `_blank`).
fn post_into(view: &JsValue, name: &str, action: &str, fields: &[(String, String)]) -> bool {
    match root_of(view) {
        Some(root) => submit_form(&root, action, None, fields),
        None if !name.is_empty() && !name.starts_with('_') => document()
            .and_then(|document| js::get(&document, "documentElement").ok())
            .is_some_and(|root| submit_form(&root, action, Some(name), fields)),
        None => false,
    }
}

/// The page's document.
pub fn document() -> Option<JsValue> {
    js::get(&js::global(), "document").ok().filter(JsValue::is_object)
}

/// The page's own URL and origin.
pub fn location() -> (String, String) {
    let location = js::get(&js::global(), "location").unwrap_or(JsValue::UNDEFINED);
    (js::text(&location, "href").unwrap_or_default(), js::text(&location, "origin").unwrap_or_default())
}

/// Opens a window; `None` when the browser (a popup blocker) or the page refused.
pub fn open_window(url: &str, name: &str, features: &str) -> Option<JsValue> {
    window_open(url, name, features).ok().filter(js::is_object_like)
}

/// The window called `name`, or a new blank one: opened with no URL, so that a window of that name
/// already open (a named viewer) is not sent to `about:blank` first, a navigation WebKit may finish
/// after the viewer's and so cancel it. Inlined: as a call of its own it cost 10 B gzip.
#[inline(always)]
pub fn open_named(name: &str, features: &str) -> Option<JsValue> {
    open_window("", name, features)
}

/// Whether a window reads as closed (a window that cannot say counts as closed).
pub fn is_closed(window: &JsValue) -> bool {
    js::get(window, "closed").map_or(true, |closed| closed.is_truthy())
}

/// Closes a window, if it lets us.
pub fn close_window(window: &JsValue) {
    let _ = js::call_method(window, "close");
}

/// Sets `object[key] = value` on a page object whose setter may refuse; whether it took.
pub fn set(object: &JsValue, key: &str, value: &str) -> bool {
    js::set(object, key, &JsValue::from_str(value))
}

/// Writes `text` as the title and the only text of a window of ours (a fresh `about:blank`); false
/// when the window is not ours to write into.
pub fn label_window(window: &JsValue, text: &str) -> bool {
    let Ok(document) = js::get(window, "document") else { return false };
    let body = js::get(&document, "body").unwrap_or(JsValue::UNDEFINED);
    set(&document, "title", text) && set(&body, "textContent", text)
}

/// The root element of a window's document, if it is ours to write into (same origin).
pub fn root_of(window: &JsValue) -> Option<JsValue> {
    // Read, not cast: a window's elements belong to its own realm, where `instanceof` fails.
    let document = js::get(window, "document").ok()?;
    js::get(&document, "documentElement").ok().filter(JsValue::is_object)
}

/// A new element of the page's document.
fn element(document: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    js::call(document, "createElement", &[&name.into()])
}

/// `element.setAttribute(name, value)`.
fn attribute(element: &JsValue, name: &str, value: &str) -> Result<JsValue, JsValue> {
    js::call(element, "setAttribute", &[&name.into(), &value.into()])
}

/// Submits a POST form of `fields` to `action` from inside `root` (a window's own document, whose
/// browsing context it then loads; or the page's, with `target` naming the window to load).
pub fn submit_form(root: &JsValue, action: &str, target: Option<&str>, fields: &[(String, String)]) -> bool {
    let Some(document) = document() else { return false };
    let submitted = (|| -> Result<JsValue, JsValue> {
        let form = element(&document, "form")?;
        attribute(&form, "method", "POST")?;
        attribute(&form, "action", action)?;
        if let Some(target) = target {
            attribute(&form, "target", target)?;
        }
        for (name, value) in fields {
            let input = element(&document, "input")?;
            attribute(&input, "type", "hidden")?;
            attribute(&input, "name", name)?;
            attribute(&input, "value", value)?;
            js::call(&form, "appendChild", &[&input])?;
        }
        js::call(root, "appendChild", &[&form])?;
        let sent = js::call_method(&form, "submit");
        let _ = js::call_method(&form, "remove");
        sent
    })();
    submitted.is_ok()
}

/// A hidden iframe of the library's, removed from the page when dropped.
pub struct HiddenFrame(JsValue);

impl HiddenFrame {
    /// Adds a hidden iframe loading `url`.
    pub fn new(url: &str) -> Option<HiddenFrame> {
        let document = document()?;
        let frame = element(&document, "iframe").ok()?;
        js::set(&frame, "hidden", &JsValue::TRUE);
        set(&frame, "src", url);
        let root = js::get(&document, "documentElement").ok()?;
        js::call(&root, "appendChild", &[&frame]).ok()?;
        Some(HiddenFrame(frame))
    }

    /// The frame's window (what its messages come from).
    pub fn window(&self) -> JsValue {
        js::get(&self.0, "contentWindow").unwrap_or(JsValue::UNDEFINED)
    }

    /// The frame element.
    pub fn element(&self) -> &JsValue {
        &self.0
    }
}

impl Drop for HiddenFrame {
    fn drop(&mut self) {
        let _ = js::call_method(&self.0, "remove");
    }
}
