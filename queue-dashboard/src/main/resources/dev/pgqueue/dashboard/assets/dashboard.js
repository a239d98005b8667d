// pgqueue dashboard: refreshes the page's live part (#live) every data-refresh milliseconds while the
// page is visible, one request at a time. The server escapes every value in the fragment it returns.
(function () {
  'use strict';
  var live = document.getElementById('live');
  var state = document.getElementById('live-state');
  if (!live) { return; }
  var every = parseInt(live.getAttribute('data-refresh'), 10) || 2000;
  var busy = false;
  var failures = 0;

  function show(text, cls) {
    if (state) { state.textContent = text; state.className = 'live-state ' + (cls || ''); }
  }

  function refresh() {
    if (busy || document.hidden) { return; }
    // Do not replace a button someone is about to press.
    if (live.contains(document.activeElement) && document.activeElement !== document.body) { return; }
    busy = true;
    fetch(location.href, { headers: { 'X-Pgqueue-Fragment': 'live' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (html !== live.innerHTML) { live.innerHTML = html; }
        failures = 0;
        show('live · ' + new Date().toLocaleTimeString(), 'ok');
      })
      .catch(function (e) {
        failures++;
        show('not updating: ' + e.message, 'bad');
      })
      .finally(function () { busy = false; });
  }

  show('live', 'ok');
  setInterval(refresh, every);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) { refresh(); } });
})();
