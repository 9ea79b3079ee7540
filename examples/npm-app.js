// Using the npm package from a bundled app (esbuild, Vite, webpack).
import { Agent } from 'glance-agent';

export async function join(sessionKey, credentials) {
  Agent.authenticate(credentials);
  const stop = (name, data) => console.log(name, data);
  Agent.addEventListenerAll(stop);
  try {
    return await Agent.joinSession(sessionKey, { wait: true });
  } catch (error) {
    if (error.code === 'popup_blocked') alert('Allow pop-ups for this page to open the viewer.');
    throw error;
  } finally {
    Agent.removeEventListenerAll(stop);
  }
}
