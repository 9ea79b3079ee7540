// DOM work the wasm module hands to JavaScript: the viewer's POST form, its waiting window, reading a
// lookup answer. The module decides everything (what to load, where, what to read); these only touch
// the page, which costs far fewer bytes here than through web-sys bindings.

/**
 * Loads `action` by POST with the fields of `body` (URL-encoded) into `view`: into its document when
 * it is ours (a fresh `about:blank` window or frame), else by naming it as the form's target.
 * @returns {boolean} false when the page or the browser refused
 */
export function postViewer(view, name, action, body) {
  try {
    let root;
    try { root = view.document.documentElement; } catch (crossOrigin) { /* another origin: target by name */ }
    if (!root && (!name || name[0] === '_')) return false;
    const form = document.createElement('form');
    const set = (element, attribute, value) => element.setAttribute(attribute, value);
    set(form, 'method', 'POST');
    set(form, 'action', action);
    if (!root) set(form, 'target', name);
    for (const [field, value] of new URLSearchParams(body)) {
      const input = form.appendChild(document.createElement('input'));
      set(input, 'type', 'hidden');
      set(input, 'name', field);
      set(input, 'value', value);
    }
    (root || document.documentElement).appendChild(form);
    form.submit();
    form.remove();
    return true;
  } catch (refused) {
    return false;
  }
}

/**
 * Opens the viewer's window at once, inside the agent's click (popup blockers allow only that), showing
 * that the customer is awaited; `joinSession` loads the viewer into it when the lookup finds the session.
 * @returns {Window | null} null when the browser blocked it
 */
export function openWaiting(key, name, features) {
  let view = null;
  try {
    view = open('about:blank', name, features);
    const text = 'Waiting for the customer to start session ' + key + '…';
    view.document.title = text;
    view.document.body.textContent = text;
  } catch (refused) {
    // Blocked (view stays null), or opened but not ours to label: still the window to load the viewer into.
  }
  return view;
}

/** A lookup answer parsed as XML, or null if the parser is missing or throws. */
export function parseXml(text) {
  try {
    return new DOMParser().parseFromString(text, 'text/xml');
  } catch (refused) {
    return null;
  }
}

/** The text of the first element named `tag` in any namespace, or undefined if there is none. */
export function elementText(document, tag) {
  try {
    const element = document.getElementsByTagNameNS('*', tag)[0];
    return element ? element.textContent : undefined;
  } catch (refused) {
    return undefined;
  }
}
