// DOM work the wasm module hands to JavaScript: the viewer's POST form, its waiting window, sending a
// lookup and reading its answer. The module decides everything (what to load, where, what to read); these only touch
// the page, which costs far fewer bytes here than through web-sys bindings.

/**
 * Loads `action` by POST with the fields of `body` (URL-encoded) into `view`: into its document when
 * it is ours (a fresh `about:blank` window or frame), else by naming it as the form's target.
 * @returns {boolean} false when the page or the browser refused
 */
function postViewer(view, name, action, body) {
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
}

let frames = 0;

/**
 * Loads the viewer: by POST of `body` to `action` when `post`, else by GET of `url`; into `frame` (an
 * iframe element) when given, else into `waiting` (the join's waiting window) while it is open, else
 * into a new window `name` with `features`.
 * @returns {Window | null} the viewer's window; null when the browser or the page refused (a window
 * opened for nothing is closed again)
 */
export function loadViewer(frame, waiting, name, features, post, url, action, body) {
  let view = null;
  try {
    if (frame) {
      view = frame.contentWindow;
      if (!post) frame.src = url;
      else if (!(name = frame.name)) {
        // The attribute alone does not rename a frame that already exists; its window's name does
        // (possible while the frame still shows our origin, which an unnamed frame normally does).
        frame.name = view.name = name = 'glance-viewer-' + ++frames;
      }
    } else if (waiting && !waiting.closed) {
      if (!post) waiting.location = url;
      view = waiting;
    } else {
      view = open(post ? 'about:blank' : url, name, features);
    }
    if (view && (!post || postViewer(view, name, action, body))) return view;
  } catch (refused) {
    // blocked, or not ours to load: as refused
  }
  try {
    if (!frame) view?.close();
  } catch (refused) {
    // a window the page's own `open` made up: nothing more to do
  }
  return null;
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

/**
 * POSTs `body` as a form to `url` (a CORS simple request, no preflight) and reads the answer.
 * @returns {Promise<[number, string, Document | null]>} status, text, and the text parsed as XML (null
 * if the parser is missing or throws); rejects as `fetch` does
 */
export function postForm(url, body, signal) {
  const headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  return fetch(url, { method: 'POST', body, headers, signal }).then((response) => response.text().then((text) => {
    let document = null;
    try { document = new DOMParser().parseFromString(text, 'text/xml'); } catch (refused) { /* stays null */ }
    return [response.status, text, document];
  }));
}

/** `object`'s fields named in `names` (space-separated), each read once; none when `object` is null
 * or undefined or a getter throws. */
export function readFields(object, names) {
  try {
    return names.split(' ').map((name) => object[name]);
  } catch (refused) {
    return [];
  }
}

/** `value` (an iframe element, or the id of one) as the iframe element; null if it is neither (a
 * getter that throws is the caller's to catch). */
export function iframeOf(value) {
  const element = typeof value == 'string' ? document.getElementById(value) : value;
  return element instanceof Element && element.localName == 'iframe' ? element : null;
}

/** The parameters of a URL's query, decoded as the server decodes them: `[name, value, …]`. */
export function queryPairs(query) {
  try {
    return [...new URLSearchParams(query)].flat();
  } catch (refused) {
    return [];
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
