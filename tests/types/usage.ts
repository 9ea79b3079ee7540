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
install(window);

// @ts-expect-error partnerid is required
Agent.authenticate({ loginkey: 'x', partneruserid: 'y' });
// @ts-expect-error error codes are a closed set
const wrong: GlanceAgentError['code'] = 'no_such_code';
void wrong;
