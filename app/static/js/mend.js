/* Mend browser behaviour: CSRF header on htmx requests, and the session
   expiry warning. Loaded with `defer`; no inline scripts (CSP script-src 'self'). */
(function () {
  'use strict';

  var WARN_BEFORE_MS = 120 * 1000;
  var EXPIRED_URL = '/login?expired=1';
  var STORAGE_KEY = 'mend-session-deadline';

  function metaContent(name) {
    var meta = document.querySelector('meta[name="' + name + '"]');
    return meta ? meta.getAttribute('content') : null;
  }

  function csrfToken() {
    return metaContent('csrf-token') || '';
  }

  document.addEventListener('htmx:configRequest', function (evt) {
    evt.detail.headers['X-CSRF-Token'] = csrfToken();
  });

  var sessionSeconds = parseInt(metaContent('mend-session-seconds'), 10);
  var dialog = document.getElementById('session-warning');
  if (!(sessionSeconds > 0) || !dialog) {
    return;
  }
  var form = dialog.querySelector('form[action="/session/extend"]');
  var failure = dialog.querySelector('.session-warning-error');
  var deadline = 0;
  var timer = null;

  function openWarning() {
    if (dialog.open) {
      return;
    }
    if (failure) {
      failure.hidden = true;
    }
    if (typeof dialog.showModal === 'function') {
      dialog.showModal();
    } else {
      dialog.setAttribute('open', '');
    }
  }

  function closeWarning() {
    if (!dialog.open) {
      return;
    }
    if (typeof dialog.close === 'function') {
      dialog.close();
    } else {
      dialog.removeAttribute('open');
    }
  }

  // Works from a deadline rather than one long timeout, because browsers
  // delay timers in background tabs; coming back to the tab re-checks it.
  function check() {
    clearTimeout(timer);
    var left = deadline - Date.now();
    if (left <= 0) {
      window.location.replace(EXPIRED_URL);
      return;
    }
    if (left <= WARN_BEFORE_MS) {
      openWarning();
      timer = setTimeout(check, left);
    } else {
      closeWarning();
      timer = setTimeout(check, left - WARN_BEFORE_MS);
    }
  }

  // The session is shared by every tab, so a tab that extends it tells the others.
  function restart(seconds) {
    deadline = Date.now() + seconds * 1000;
    try {
      window.localStorage.setItem(STORAGE_KEY, String(deadline));
    } catch (e) { /* storage unavailable: this tab still keeps its own timer */ }
    check();
  }

  window.addEventListener('storage', function (evt) {
    var shared = evt.key === STORAGE_KEY ? parseInt(evt.newValue, 10) : 0;
    if (shared > deadline) {
      deadline = shared;
      check();
    }
  });

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) {
      check();
    }
  });

  // The server extends the session on every request it answers.
  document.addEventListener('htmx:afterRequest', function (evt) {
    var xhr = evt.detail && evt.detail.xhr;
    if (xhr && xhr.status > 0 && xhr.status !== 401) {
      restart(sessionSeconds);
    }
  });

  if (form) {
    form.addEventListener('submit', function (evt) {
      evt.preventDefault();
      fetch(form.getAttribute('action'), {
        method: 'POST',
        body: new FormData(form),
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': csrfToken(), 'Accept': 'application/json' }
      }).then(function (response) {
        if (response.status === 401) {
          window.location.replace(EXPIRED_URL);
          return null;
        }
        if (!response.ok) {
          throw new Error('HTTP ' + response.status);
        }
        return response.json();
      }).then(function (data) {
        if (data === null) {
          return;
        }
        var seconds = parseInt(data && data.seconds_left, 10);
        if (!(seconds > 0)) {
          throw new Error('no seconds_left');
        }
        sessionSeconds = seconds;
        restart(seconds);
      }).catch(function () {
        if (failure) {
          failure.hidden = false;
        }
      });
    });
  }

  restart(sessionSeconds);
}());
