//! Timers that clear themselves when dropped: whoever owns the `Timer` owns the pending callback.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, millis: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = setInterval)]
    fn set_interval(handler: &JsValue, millis: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(catch, js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(catch, js_name = clearInterval)]
    fn clear_interval(id: &JsValue) -> Result<(), JsValue>;
}

/// A `setTimeout` or `setInterval` together with the closure it calls; dropping it clears both.
pub struct Timer {
    id: JsValue,
    repeats: bool,
    // The one closure signature the module uses everywhere: each distinct one costs a shim.
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Timer {
    /// Calls `f` once after `millis`; `None` if the page's `setTimeout` refused.
    pub fn once(millis: u32, f: impl FnOnce() + 'static) -> Option<Timer> {
        let mut f = Some(f);
        Timer::start(millis, false, Closure::new(move |_| f.take().map_or((), |f| f())))
    }

    /// Calls `f` every `millis`; `None` if the page's `setInterval` refused.
    pub fn every(millis: u32, mut f: impl FnMut() + 'static) -> Option<Timer> {
        Timer::start(millis, true, Closure::new(move |_| f()))
    }

    fn start(millis: u32, repeats: bool, callback: Closure<dyn FnMut(JsValue)>) -> Option<Timer> {
        let handler = callback.as_ref();
        let id = if repeats { set_interval(handler, millis) } else { set_timeout(handler, millis) };
        Some(Timer { id: id.ok()?, repeats, _callback: callback })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = if self.repeats { clear_interval(&self.id) } else { clear_timeout(&self.id) };
    }
}
