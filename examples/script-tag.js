// Wiring for script-tag.html (a separate file, so the page works under a strict CSP).
GLANCE.Agent.addEventListenerAll(function (name, data) {
  document.getElementById('log').textContent += name + ' ' + JSON.stringify(data) + '\n';
});
GLANCE.Agent.authenticate({
  loginkey: '$1$0000000000$REPLACE-with-a-key-made-by-your-server-xxxxxx', // made by your server
  partnerid: 20541,
  partneruserid: 'agent-7',
});
document.addEventListener('DOMContentLoaded', function () {
  document.getElementById('join').onclick = function () {
    GLANCE.Agent.joinSession(document.getElementById('key').value).catch(function (error) {
      document.getElementById('log').textContent += 'failed: ' + error.code + ' ' + error.message + '\n';
    });
  };
  document.getElementById('cancel').onclick = function () { GLANCE.Agent.cancelLookup(); };
});
