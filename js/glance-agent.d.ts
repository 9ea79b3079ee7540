// Types for glance-agent: the Glance Browser Agent API (`GLANCE.Agent`).

/** Stable `code` of every `Error` the API throws or rejects with. */
export type GlanceAgentErrorCode =
  | 'invalid_credentials'
  | 'not_authenticated'
  | 'loginkey_expired'
  | 'invalid_argument'
  | 'invalid_url'
  | 'not_found'
  | 'canceled'
  | 'timedout'
  | 'service_error'
  | 'service_unavailable'
  | 'popup_blocked'
  | 'iframe_blocked'
  | 'authentication_failed'
  | 'visitor_not_present'
  | 'declined'
  | 'load_failed';

export interface GlanceAgentError extends Error {
  code: GlanceAgentErrorCode;
  /**
   * For `service_error`, `service_unavailable` and `timedout`: the `reason` of `lookupFailed`; for
   * `authentication_failed` of a SAML sign-in, the `reason` of `authenticateFailed`.
   */
  reason?: string;
}

export interface Credentials {
  /** `$1$<expires>$<signature>`, made by your server with the Glance API key. */
  loginkey: string;
  /** Your Glance group id. */
  partnerid: number | string;
  /** The agent's id in your systems. */
  partneruserid: string;
}

/** SAML sign-in (PROTOCOL.md section 1): exactly one identity-provider hint. */
export type SsoHint =
  | { idpid: string | number }
  | { idpname: string }
  | { idptoken: string }
  | { idpusername: string };

/**
 * Login keys that renew: `getLoginKey` is asked at once, then 60 s before each key expires (one call
 * at a time), when a call finds no key or one that expires within 60 s, and once more when the service
 * refuses the key (the call is then made again, unseen by listeners).
 */
export interface RenewingCredentials {
  getLoginKey: () => Credentials | Promise<Credentials>;
}

/** One session the agent is in (`inSession()` with no key), as `AgentInSession` lists it. */
export interface AgentSession {
  id: string;
  /** The session key. */
  passcode: string;
  num: string;
  disambiguateId: string;
  servername: string;
}

/** One check of `diagnose()`: `ok` is null when it could not be made here (see `detail`). */
export interface DiagnoseCheck {
  ok: boolean | null;
  detail: string;
}

/** What `diagnose()` resolves to; `ok` is false when any check is false. */
export interface DiagnoseReport {
  /** The webserver answers this page (CORS included). */
  webserver: DiagnoseCheck;
  /** A login key is held and unexpired, or `getLoginKey` provides them. */
  credentials: DiagnoseCheck;
  /** A popup opened; tried only when `diagnose()` is called inside a user gesture. */
  popups: DiagnoseCheck;
  /** The page is not cross-origin isolated (COOP), which would stop a viewer window reporting back. */
  opener: DiagnoseCheck;
  /** The page's Content-Security-Policy lets it frame the viewer. */
  framing: DiagnoseCheck;
  ok: boolean;
}

/** What a found session's lookup resolves to (element texts of the service's answer). */
export interface LookupResult {
  id: string;
  ssnid: string;
  serverip: string;
  servername: string;
  personid: string;
  groupid: string;
  passcode: string;
  agentjoinurl: string;
  clientjoinurl: string;
  /** `C` cobrowse, `G` screenshare, `V` video. */
  calltype: string;
  visitorversion: string;
  service: 'agent';
}

/** What a lookup that does not wait resolves to when there is no session yet: `{}`. */
export type NotFound = { [K in keyof LookupResult]?: undefined };

/** Per-call cancellation: aborting `signal` rejects the call with code `canceled`. */
export interface Cancelable {
  /**
   * Aborting it cancels the call's lookup (`lookupCanceled`, the request in flight aborted); already
   * aborted, the call rejects at once and starts nothing.
   */
  signal?: AbortSignal;
}

export interface LookupOptions extends Cancelable {
  /** Wait for the session to start (default true). */
  wait?: boolean;
}

export interface ViewerParams extends Cancelable {
  /** Window name for the viewer; default `_blank`. */
  windowName?: string;
  /** `window.open` features; default an 800x800 window without bars. */
  windowFeatures?: string;
  /** Load the viewer in this iframe (or the iframe with this id) instead of a window. */
  iframe?: HTMLIFrameElement | string;
  /** Focus the viewer already open for this session instead of opening another (default true). */
  reuse?: boolean;
  /** Sent to the viewer: `wait=1`/`0`, whether the viewer page itself waits for the session. */
  wait?: boolean;
  /** Sent to the viewer: start with the agent's video (`agentVideo=1`/`0`). */
  agentVideo?: boolean;
  /** Sent to the viewer and stored on its record: the agent's name (at most 256 characters). */
  name?: string;
  /** Sent to the viewer and stored on its record: the agent's e-mail (at most 256 characters). */
  email?: string;
  /** Sent to the viewer and stored on its record: the agent's phone (at most 256 characters). */
  phone?: string;
}

export interface JoinParams extends ViewerParams {
  /**
   * Wait for the session to start (default true); false looks once and rejects `not_found`. Given,
   * it also reaches the viewer (`wait=1`/`0`: whether the viewer page itself waits).
   */
  wait?: boolean;
}

/** The viewer: its `Window` (for an iframe, the iframe's window). */
export type Viewer = Window;

/** `presenceConnect`'s options. */
export interface PresenceConnectParams extends Cancelable {
  /**
   * Milliseconds to wait for the visitor to be seen; then the promise rejects `timedout`. Default: no
   * limit. A wait that times out or is aborted ends the connection too (`presenceDisconnected`).
   */
  timeout?: number;
}

/** What `presenceStartSession` asks the visitor's page to run. */
export interface InvokeParams {
  /** A `GLANCE.` or `GLANCE_COBROWSE.Custom.` function; default `GLANCE.Cobrowse.VisitorUI.showTerms`. */
  func?: string;
  /** Its argument (copied once, as JSON); `sessionKey` is set to the session key. */
  args?: Record<string, unknown>;
}

/** `presenceStartSession`'s join options. */
export interface PresenceJoinParams extends JoinParams {
  /** Milliseconds the visitor has to accept and start the session (default 60000); then `timedout`. */
  timeout?: number;
}

/** A session this page is in (`GLANCE.Agent.sessions`). */
export interface SessionInfo {
  ssnkey: string;
  /** The session's id, when a lookup or the viewer URL gave it (else `""`). */
  ssnid: string;
  viewer: 'popup' | 'iframe';
  /** Its viewer was taken back after a reload (`viewerResumed`). */
  resumed: boolean;
}

/** Where presence is: `connected` means the visitor is being watched (`visitorConnected` says if present). */
export type PresenceState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

interface PresenceEventBase { service: 'presence' }

/** What the visitor's page reported (`lookupvisitor`): the fields the service sends. */
export type VisitorData = PresenceEventBase & {
  visitorid?: string;
  groupid?: string;
  url?: string;
  visitorpresent?: string;
  [field: string]: unknown;
};

interface AgentEventBase { service: 'agent' }

/** Payloads of the events, by name. Viewer events carry the fields the Glance viewer sends. */
export interface GlanceEventMap {
  lookupWaiting: AgentEventBase & { ssnkey: string; cancel: () => void };
  lookupFound: LookupResult;
  lookupFailed: AgentEventBase & { ssnkey: string; reason: string };
  lookupCanceled: AgentEventBase & { ssnkey: string };
  popupblocked: AgentEventBase;
  iframeblocked: AgentEventBase;
  viewerOpened: AgentEventBase & { close: () => void };
  viewerClosed: AgentEventBase;
  /**
   * The browser cut a viewer window off from this page (the page is served with
   * `Cross-Origin-Opener-Policy: same-origin`): it may still be open, but none of its events can reach
   * the page, and its closing cannot be seen. Once per viewer, instead of `viewerClosed`.
   */
  viewerDetached: AgentEventBase & { reason: 'opener_severed' };
  /**
   * A popup viewer this tab opened before the console reloaded is still open and has been taken back:
   * its events reach the page again, a join of its session returns it, its closing is seen. Once per
   * viewer, after the page has loaded.
   */
  viewerResumed: AgentEventBase & { ssnkey: string; close: () => void };
  authenticateSucceeded: AgentEventBase;
  authenticateFailed: AgentEventBase & { reason: string };
  connecting: { service: 'cobrowse' | 'screenshare'; [field: string]: unknown };
  navigate: { service: 'cobrowse'; url: string; browser: { name: string; platform: string; version: number }; visitorversion: string };
  agents: { service: 'cobrowse'; count: number; agentlist: unknown[] };
  rc: { service: 'cobrowse'; enabled: boolean; suspended: boolean };
  sessionEnded: { service: 'cobrowse'; reason: string } | { service?: 'screenshare'; iserror: boolean; status: number };
  connected: { service?: 'screenshare' };
  screen: { service?: 'screenshare'; display: { width: number; height: number }; view: { width: number; height: number } };
  stats: { service?: 'screenshare'; bytespersec: number | null; framespersec: number | null };
  conndrop: { service?: 'screenshare' };
  initialized: { service: 'video' };
  previewStarted: { service: 'video' };
  previewEnded: { service: 'video' };
  videoStarted: { service: 'video'; options: Record<string, unknown> };
  videoEnded: { service: 'video' };
  guestCountChanged: { service: 'video'; count: number };
  error: { service: 'video'; message: string; options: Record<string, unknown> };
  notEnabled: { service: 'video'; reason: string };
  info: { service: 'video'; message: string; options: Record<string, unknown> };
  inSession: AgentEventBase & { ssnkey: string };
  inSessionLookup: AgentEventBase;
  presenceAuthorized: PresenceEventBase;
  /**
   * Presence cannot go on: `reason` is `"authorization"` when the service refused authorization (its
   * words in `message`), `"not_authenticated"` without credentials, else what failed.
   */
  presenceFailed: PresenceEventBase & { reason: string; message?: string };
  /** `presenceDisconnect()` (no reason), or `logout`, `serverclose`, `timedout`, `canceled`. */
  presenceDisconnected: PresenceEventBase & { reason?: string };
  /** The visitor came (`connected: true`, at once) or went (`false`, after 5 s away). */
  visitorConnected: PresenceEventBase & { connected: boolean; visitorid?: string; [field: string]: unknown };
  visitorData: VisitorData;
  presenceLookupFailed: PresenceEventBase & { reason: string };
  /** The page the visitor is on. */
  presence: PresenceEventBase & { url?: string; [field: string]: unknown };
  presenceVisibility: PresenceEventBase & { visibility: 'visible' | 'hidden' };
  presenceOnTerms: PresenceEventBase & { status: 'displayed' | 'accepted' | 'declined' | string };
  presenceSessionStart: PresenceEventBase & { ssnkey: string };
  presenceSessionEnd: PresenceEventBase & { [field: string]: unknown };
  presenceVisitorError: PresenceEventBase & { code?: string; msg?: string; [field: string]: unknown };
  presenceError: PresenceEventBase & { [field: string]: unknown };
  presenceInvokeFailed: PresenceEventBase & { reason: string };
}

export type GlanceEventName = keyof GlanceEventMap;
export type GlanceEventHandler<K extends GlanceEventName> = (eventname: K, eventdata: GlanceEventMap[K]) => void;

export interface GlanceAgent {
  /** The Glance web server; default `https://www.glance.net`. Setting anything but an http(s) URL throws. */
  webserver: string;
  /** Send the viewer's parameters by POST (default), keeping credentials out of URLs. */
  postParametersToViewer: boolean;
  /** Milliseconds one lookup request may take before it is aborted (default 10000). */
  requestTimeout: number;
  /** Where presence is. */
  readonly presenceState: PresenceState;
  /** Whether the watched visitor is on the site. */
  readonly visitorConnected: boolean;
  /**
   * After a reload, take back the popup viewers this tab opened before it (default true). Only a
   * value set before the module is ready counts.
   */
  resume: boolean;
  /** The sessions this page is in: one per session key, with how its viewer is shown. */
  readonly sessions: SessionInfo[];

  /**
   * Stores the credentials (the promise is already resolved); throws `invalid_credentials` naming the
   * bad field, keeping the previous ones.
   */
  authenticate(credentials: Credentials): Promise<void>;
  /**
   * Keeps `getLoginKey` and asks it for a key at once; resolves when the first key is held, rejects
   * (`authentication_failed`, `invalid_credentials`) if it cannot give one. Ignoring the promise is fine:
   * a call that needs a key reports the failure too.
   */
  authenticate(credentials: RenewingCredentials): Promise<void>;
  /**
   * SAML sign-in through the identity provider; resolves once signed in (`authenticateSucceeded`),
   * rejects `authentication_failed` (`authenticateFailed`), after about 12 s without an answer.
   */
  authenticate(credentials: SsoHint): Promise<void>;
  /** Forgets the credentials, stops `getLoginKey` renewals and ends a SAML sign-in under way. */
  logout(): void;
  /** Looks a session up; with `wait` (default) polls for about 45 s. Resolves `{}` when not found and not waiting. */
  lookupSession(sessionkey: string | number, wait?: boolean | LookupOptions): Promise<LookupResult | NotFound>;
  /** Cancels the most recent lookup in progress (`lookupCanceled`, rejection `canceled`). */
  cancelLookup(): void;
  /**
   * Looks the session up, then opens its viewer. A window viewer's window opens at once (inside the
   * agent's click, where popup blockers allow it) showing that the customer is awaited; it becomes the
   * viewer when the session is found, and closes if the lookup fails or is canceled.
   */
  joinSession(sessionkey: string | number, params?: JoinParams): Promise<Viewer>;
  /** Opens the viewer for a session key, with the stored credentials if any. */
  openViewer(sessionkey: string | number, params?: ViewerParams): Promise<Viewer>;
  /** Opens a viewer URL (a lookup's `agentjoinurl`); only http(s). */
  openAgentJoinURL(url: string, params?: ViewerParams): Promise<Viewer>;
  /**
   * Whether the agent is in session `sessionkey` (`AgentInSession`); with no key, the sessions the
   * agent is in.
   */
  inSession(sessionkey?: '' | null, params?: Cancelable): Promise<AgentSession[]>;
  inSession(sessionkey: string | number, params?: Cancelable): Promise<boolean>;
  /** A preflight report of what a join needs; call it from a click to try popups too. */
  diagnose(): Promise<DiagnoseReport>;
  /** Closes a viewer (window or iframe) and fires `viewerClosed`. */
  close(viewer: Viewer | HTMLIFrameElement): void;
  /**
   * The agent leaves session `sessionkey` (it stays running for others): resolves whether the
   * session's server took it; rejects `invalid_argument` when the agent is in no such session.
   */
  leaveSession(sessionkey: string | number): Promise<boolean>;
  /** Leaves every session whose viewer this library opened and closes those viewers (`viewerClosed` each). */
  end(): Promise<void>;

  /**
   * Watches visitor `visitorid`: authorizes, finds them, keeps a socket open (reconnecting with
   * backoff); resolves with their data when they are first seen on the site. Replaces an earlier
   * connection. Rejects `not_authenticated`, `authentication_failed`, `service_unavailable`,
   * `timedout`, `canceled`, `invalid_argument`.
   */
  presenceConnect(visitorid: string | number, params?: PresenceConnectParams): Promise<VisitorData>;
  /**
   * Asks the watched visitor to start a session with `sessionkey` (default: six random digits), waits
   * for it, then joins it as `joinSession` does. Call it from the agent's click: the viewer's window
   * opens inside it. Rejects `declined`, `visitor_not_present`, `popup_blocked`, `timedout`, `canceled`
   * (also when a newer call replaces this one while it waits for the visitor).
   */
  presenceStartSession(sessionkey?: string | number, invokeParams?: InvokeParams, joinParams?: PresenceJoinParams): Promise<Viewer>;
  /** Stops watching: the socket closes for good, `presenceDisconnected` fires. */
  presenceDisconnect(): void;

  /** Adds a listener; returns a disposer that removes it. */
  addEventListener<K extends GlanceEventName>(eventname: K, handler: GlanceEventHandler<K>): () => void;
  addEventListener(eventname: string, handler: (eventname: string, eventdata: any) => void): () => void;
  /** Adds a listener for every event; returns a disposer that removes it. */
  addEventListenerAll(handler: (eventname: string, eventdata: any) => void): () => void;
  /**
   * The data of the next `eventname` event. Aborting `options.signal` removes the listener and
   * rejects with code `canceled`.
   */
  once<K extends GlanceEventName>(eventname: K, options?: Cancelable): Promise<GlanceEventMap[K]>;
  once(eventname: string, options?: Cancelable): Promise<any>;
  removeEventListener(eventname: string, handler: (...args: any[]) => void): void;
  removeEventListenerAll(handler: (...args: any[]) => void): void;

  /** Starts loading the module (optionally from `options.wasm`); resolves when it is ready. */
  load(options?: { wasm?: string | URL | Response | BufferSource | WebAssembly.Module }): Promise<GlanceAgent>;
  /** Resolves when the module has loaded; rejects with code `load_failed` if it cannot. */
  readonly ready: Promise<GlanceAgent>;
}

/** The agent. Calls made before the module has loaded are queued. */
export declare const Agent: GlanceAgent;
/** Sets `target.GLANCE.Agent = Agent` (default `globalThis`), keeping other `GLANCE` members. */
export declare function install(target?: object): GlanceAgent;
export default Agent;

declare global {
  interface Window {
    GLANCE?: { Agent?: GlanceAgent; [member: string]: unknown };
  }
}
