// The wasm module's exports that the facade calls: naming them here (rather than importing the whole
// glue namespace) lets the bundler drop the parts of the glue we do not use.
export {
  authenticate, logout, lookupSession, joinSession, openViewer, openAgentJoinURL, cancelLookup, cancelLookupId, lookupId, close,
  addEventListener, addEventListenerAll, removeEventListener, removeEventListenerAll, setting, configure,
  initSync,
} from 'glance-agent-wasm';
