// The wasm module's exports that the facade calls: naming them here (rather than importing the whole
// glue namespace) lets the bundler drop the parts of the glue we do not use.
export {
  authenticate, logout, lookupSession, joinSession, openViewer, openAgentJoinURL, cancelLookup, close,
  listen, setting, configure, fireEvent, inSessionBody,
  initSync,
} from 'glance-agent-wasm';
