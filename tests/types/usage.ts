// Compiled (never run) by `make test`: the published types accept real console code and reject misuse.
import Agent, { install, type GlanceAgentError, type LookupResult } from '../../dist/npm/index.js';

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
install(window);

// @ts-expect-error partnerid is required
Agent.authenticate({ loginkey: 'x', partneruserid: 'y' });
// @ts-expect-error error codes are a closed set
const wrong: GlanceAgentError['code'] = 'no_such_code';
void wrong;
