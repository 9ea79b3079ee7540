// Compiled (never run) by `make test`: the published types accept real console code and reject misuse.
import Agent, { install, type GlanceAgentError, type LookupResult, type PresenceState, type VisitorData } from '../../dist/npm/index.js';

Agent.webserver = 'https://www.glance.net';
Agent.authenticate({ loginkey: '$1$...', partnerid: 20541, partneruserid: 'agent-7' });
Agent.addEventListener('videoStarted', (name, data) => {
  const options: Record<string, unknown> = data.options;
  void name; void options;
});
Agent.addEventListener('lookupWaiting', (_name, data) => data.cancel());
Agent.addEventListenerAll((name: string, data: unknown) => console.log(name, data));

async function join(key: string): Promise<void> {
  try {
    const viewer: Window = await Agent.joinSession(key, { wait: true, windowName: 'viewer' });
    Agent.close(viewer);
    const found = await Agent.lookupSession(key, false);
    if (found.agentjoinurl) {
      await Agent.openAgentJoinURL(found.agentjoinurl, { iframe: 'viewer-frame' });
    }
    const result: LookupResult = await Agent.lookupSession(key) as LookupResult;
    void result.calltype;
  } catch (caught) {
    const error = caught as GlanceAgentError;
    if (error.code === 'popup_blocked' || error.code === 'canceled') return;
  }
}
void join;

async function cancelable(key: string): Promise<void> {
  const controller = new AbortController();
  const off: () => void = Agent.addEventListener('lookupFailed', (_name, data) => console.log(data.reason));
  off();
  const found = await Agent.lookupSession(key, { wait: false, signal: controller.signal });
  void found;
  await Agent.joinSession(key, { signal: controller.signal });
  const video = await Agent.once('videoStarted', { signal: controller.signal });
  const options: Record<string, unknown> = video.options;
  void options;
  // @ts-expect-error a signal is an AbortSignal
  await Agent.openViewer(key, { signal: 'stop' });
  // @ts-expect-error once() gives each event its own payload type
  const count: number = (await Agent.once('lookupCanceled')).count;
  void count;
}
void cancelable;

async function beyond(key: string): Promise<void> {
  await Agent.authenticate({ idpusername: 'jo@example.com' });
  Agent.authenticate({ getLoginKey: async () => ({ loginkey: '$1$...', partnerid: 1, partneruserid: 'jo' }) });
  const inIt: boolean = await Agent.inSession(key);
  const sessions: string[] = (await Agent.inSession()).map((session) => session.passcode);
  const report = await Agent.diagnose();
  const popups: boolean | null = report.popups.ok;
  await Agent.joinSession(key, { reuse: false, agentVideo: true, name: 'Jo', email: 'jo@example.com', phone: '1' });
  Agent.addEventListener('authenticateFailed', (_name, data) => console.log(data.reason));
  Agent.addEventListener('viewerDetached', (_name, data) => { const why: 'opener_severed' = data.reason; void why; });
  const signedIn: Promise<void> = Agent.authenticate({ loginkey: '$1$...', partnerid: 1, partneruserid: 'jo' });
  void signedIn;
  void inIt; void sessions; void popups;
  // @ts-expect-error the agent's name is text
  await Agent.openViewer(key, { name: 42 });
  // @ts-expect-error one identity-provider hint, not an arbitrary field
  await Agent.authenticate({ idp: 'x' });
}
void beyond;
install(window);

// @ts-expect-error partnerid is required
Agent.authenticate({ loginkey: 'x', partneruserid: 'y' });
// @ts-expect-error error codes are a closed set
const wrong: GlanceAgentError['code'] = 'no_such_code';
void wrong;

async function watch(visitorid: string): Promise<void> {
  const controller = new AbortController();
  const data: VisitorData = await Agent.presenceConnect(visitorid, { timeout: 30000, signal: controller.signal });
  const page: string | undefined = data.url;
  void page;
  const state: PresenceState = Agent.presenceState;
  const present: boolean = Agent.visitorConnected;
  void state; void present;
  Agent.addEventListener('visitorConnected', (_name, event) => {
    const connected: boolean = event.connected;
    void connected;
  });
  Agent.addEventListener('presenceVisibility', (_name, event) => console.log(event.visibility === 'hidden'));
  Agent.addEventListener('presenceFailed', (_name, event) => {
    if (event.reason === 'authorization') console.log('refused:', event.message?.toUpperCase());
  });
  const start = await Agent.once('presenceSessionStart');
  const key: string = start.ssnkey;
  const viewer: Window = await Agent.presenceStartSession(key, { args: { video: true } }, { timeout: 90000, iframe: 'viewer' });
  void viewer;
  const left: boolean = await Agent.leaveSession(key);
  void left;
  await Agent.end();
  Agent.presenceDisconnect();
  try {
    await Agent.presenceStartSession();
  } catch (caught) {
    const error = caught as GlanceAgentError;
    if (error.code === 'declined' || error.code === 'visitor_not_present') return;
  }
  // @ts-expect-error presenceState is read-only
  Agent.presenceState = 'connected';
  // @ts-expect-error the visitor id is a string or a number
  await Agent.presenceConnect({ visitorid });
  // @ts-expect-error presenceSessionStart carries the session key
  const none: number = (await Agent.once('presenceSessionStart')).count;
  void none;
}
void watch;
