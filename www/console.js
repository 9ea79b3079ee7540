// The console's wiring: settings, session actions, and a readable event log.
const agent = GLANCE.Agent;
const $ = (selector) => document.querySelector(selector);
const state = (text, kind = '') => { $('#state').textContent = text; $('#state').className = kind; };

agent.addEventListenerAll((name, data) => {
  const row = $('#events tbody').insertRow(0);
  const shown = JSON.stringify(data, (key, value) => (typeof value === 'function' ? 'ƒ' : value));
  for (const text of [new Date().toLocaleTimeString(), name, (data && data.service) || '', shown]) {
    row.insertCell().textContent = text;
  }
  if (name === 'lookupWaiting') state(`Waiting for session ${data.ssnkey}…`);
  if (name === 'lookupFound') state(`Found session ${data.passcode}`);
  if (name === 'viewerOpened') state('Viewer open', 'open');
  if (name === 'viewerClosed') state('Viewer closed');
  if (name === 'lookupFailed') state(`Lookup failed: ${data.reason}`, 'failed');
  if (name === 'lookupCanceled') state('Lookup canceled');
});

$('#settings').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    agent.webserver = form.get('webserver');
    agent.authenticate({ loginkey: form.get('loginkey'), partnerid: form.get('partnerid'), partneruserid: form.get('partneruserid') });
    state('Authenticated');
  } catch (error) {
    state(`${error.code}: ${error.message}`, 'failed');
  }
});

const report = (error) => state(`${error.code}: ${error.message}`, 'failed');
$('#session').addEventListener('submit', (event) => {
  event.preventDefault();
  agent.joinSession(new FormData(event.target).get('key')).catch(report);
});
$('#open').addEventListener('click', () => agent.openViewer($('#session [name=key]').value).catch(report));
$('#cancel').addEventListener('click', () => agent.cancelLookup());
