/* Portal behaviour: the quick exit. Loaded with `defer`; no inline scripts (CSP script-src 'self').

   The quick exit link works without JavaScript (it goes through /portal/exit, which ends the
   session and redirects to the program's neutral site). With JavaScript it does better: it
   blanks the page, tells the server to end the session with a beacon that survives the page
   leaving, and replaces the current history entry, so Back does not return here. The Escape
   key does the same from anywhere on the page. */
(function () {
  'use strict';

  var link = document.getElementById('quick-exit');
  if (!link) {
    return;
  }
  var target = neutralSite(link.getAttribute('data-exit-url') || link.href);
  var leaving = false;

  // Only a web address may be the way out; anything else (a mistyped setting) goes to a blank page.
  function neutralSite(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : 'about:blank';
    } catch (e) {
      return 'about:blank';
    }
  }

  // The exit needs no CSRF token (a forged request could only end a session), and a beacon still
  // reaches the server after the page has gone.
  function endSession() {
    try {
      if (navigator.sendBeacon) {
        navigator.sendBeacon('/portal/exit');
      }
    } catch (e) { /* the server still ends the session after 30 idle minutes */ }
  }

  function leave(evt) {
    if (evt) {
      evt.preventDefault();
    }
    if (leaving) {
      return;
    }
    leaving = true;
    endSession();
    document.title = '';
    document.body.replaceChildren();
    window.location.replace(target);
  }

  link.addEventListener('click', leave);
  document.addEventListener('keydown', function (evt) {
    if (evt.key === 'Escape' || evt.key === 'Esc') {
      leave(evt);
    }
  });
}());
