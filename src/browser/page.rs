//! The page primitives the module works with: URLs as the browser parses them, windows, hidden
//! frames and forms. Each does one thing and reports whether it could; what to do with them is decided
//! by the callers (`viewer`, `signin`, `diagnose`).

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlFormElement, HtmlIFrameElement, Url};

use super::js;
use crate::url::{HttpUrl, UrlParts, MAX_URL_LEN};

#[wasm_bindgen]
extern "C" {
    /// The page's `window.open`, called as the page has it (a popup blocker or a test may replace it).
    #[wasm_bindgen(catch, js_name = open)]
    fn window_open(url: &str, target: &str, features: &str) -> Result<JsValue, JsValue>;
}

/// `text` as the browser parses it, if it is an http(s) URL without user info.
pub fn parse_url(text: &str) -> Option<HttpUrl> {
    if text.len() > MAX_URL_LEN {
        return None;
    }
    let url = Url::new(text).ok()?;
    HttpUrl::from_parts(UrlParts {
        protocol: url.protocol(),
        user_info: !url.username().is_empty() || !url.password().is_empty(),
        origin: url.origin(),
        host: url.host(),
        path: url.pathname(),
        search: url.search(),
        hash: url.hash(),
    })
}

/// The page's document.
pub fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// The page's own URL and origin.
pub fn location() -> (String, String) {
    let location = web_sys::window().map(|window| window.location());
    let read = |f: fn(&web_sys::Location) -> Result<String, JsValue>| {
        location.as_ref().and_then(|location| f(location).ok()).unwrap_or_default()
    };
    (read(web_sys::Location::href), read(web_sys::Location::origin))
}

/// Opens a window; `None` when the browser (a popup blocker) or the page refused.
pub fn open_window(url: &str, name: &str, features: &str) -> Option<JsValue> {
    window_open(url, name, features).ok().filter(js::is_object_like)
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
    Reflect::set(object, &JsValue::from_str(key), &JsValue::from_str(value)).unwrap_or(false)
}

/// Writes `text` as the title and the only text of a window of ours (a fresh `about:blank`); false
/// when the window is not ours to write into.
pub fn label_window(window: &JsValue, text: &str) -> bool {
    let Ok(document) = js::get(window, "document") else { return false };
    let body = js::get(&document, "body").unwrap_or(JsValue::UNDEFINED);
    set(&document, "title", text) && set(&body, "textContent", text)
}

/// The root element of a window's document, if it is ours to write into (same origin).
pub fn root_of(window: &JsValue) -> Option<Element> {
    // Read, not cast: a window's elements belong to its own realm, where `instanceof` fails.
    let document = js::get(window, "document").ok()?;
    js::get(&document, "documentElement").ok().filter(JsValue::is_object).map(JsCast::unchecked_into)
}

/// Submits a POST form of `fields` to `action` from inside `root` (a window's own document, whose
/// browsing context it then loads; or the page's, with `target` naming the window to load).
pub fn submit_form(root: &Element, action: &str, target: Option<&str>, fields: &[(String, String)]) -> bool {
    let Some(document) = document() else { return false };
    let submitted = (|| -> Result<(), JsValue> {
        let form: HtmlFormElement = document.create_element("form")?.unchecked_into();
        form.set_attribute("method", "POST")?;
        form.set_attribute("action", action)?;
        if let Some(target) = target {
            form.set_attribute("target", target)?;
        }
        for (name, value) in fields {
            let input = document.create_element("input")?;
            input.set_attribute("type", "hidden")?;
            input.set_attribute("name", name)?;
            input.set_attribute("value", value)?;
            form.append_child(&input)?;
        }
        root.append_child(&form)?;
        let sent = form.submit();
        form.remove();
        sent
    })();
    submitted.is_ok()
}

/// A hidden iframe of the library's, removed from the page when dropped.
pub struct HiddenFrame(HtmlIFrameElement);

impl HiddenFrame {
    /// Adds a hidden iframe loading `url`.
    pub fn new(url: &str) -> Option<HiddenFrame> {
        let document = document()?;
        let frame: HtmlIFrameElement = document.create_element("iframe").ok()?.unchecked_into();
        frame.set_hidden(true);
        frame.set_src(url);
        document.document_element()?.append_child(&frame).ok()?;
        Some(HiddenFrame(frame))
    }

    /// The frame's window (what its messages come from).
    pub fn window(&self) -> JsValue {
        self.0.content_window().map_or(JsValue::UNDEFINED, JsValue::from)
    }

    /// The frame element.
    pub fn element(&self) -> &Element {
        &self.0
    }
}

impl Drop for HiddenFrame {
    fn drop(&mut self) {
        self.0.remove();
    }
}
