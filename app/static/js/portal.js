/* Portal behaviour: the quick exit. Loaded with `defer`; no inline scripts (CSP script-src 'self').

   The quick exit link works without JavaScript (it goes through /portal/exit, which ends the
   session and redirects to the program's neutral site). With JavaScript it does better: it
   blanks the page, tells the server to end the session with a beacon that survives the page
   leaving, and replaces the current history entry, so Back does not return here. The Escape
   key does the same from anywhere on the page.

   Moving around the portal adds no history entries: links and forms replace the current entry, so
   the portal holds one entry at most (which the quick exit replaces in turn) and Back, or the
   browser's history list, has no trail of portal pages to show. Without JavaScript every link
   and form still works, as ordinary navigation. */
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

  function plainClick(evt) {
    return evt.button === 0 && !evt.metaKey && !evt.ctrlKey && !evt.shiftKey && !evt.altKey;
  }

  // A link within the portal replaces this page's history entry; in-page links (the skip link) stay as they are.
  function followInPlace(evt) {
    var anchor = evt.target.closest ? evt.target.closest('a[href]') : null;
    if (!anchor || anchor === link || evt.defaultPrevented || !plainClick(evt) || anchor.target) {
      return;
    }
    var url = new URL(anchor.href, window.location.href);
    if (url.origin !== window.location.origin || (url.hash && url.pathname === window.location.pathname)) {
      return;
    }
    evt.preventDefault();
    window.location.replace(url.href);
  }

  // A form is sent in the background as an htmx request would be: after a successful post the
  // server answers with HX-Redirect, and the page replaces itself with that address. A refused
  // post answers with the page's content, which takes the place of the main content here.
  // The button pressed is part of the answer (a question's "Yes" and "No" are two buttons of one
  // form, name="agree"), as in an ordinary submission: FormData(form) alone leaves it out.
  function submitInPlace(evt) {
    var form = evt.target;
    if (evt.defaultPrevented || (form.getAttribute('method') || '').toLowerCase() !== 'post' || !window.fetch) {
      return;
    }
    evt.preventDefault();
    var data = new FormData(form);
    var pressed = evt.submitter;
    if (pressed && pressed.name && !data.has(pressed.name)) {
      data.append(pressed.name, pressed.value);
    }
    fetch(form.action, {
      method: 'POST',
      body: new URLSearchParams(data),
      credentials: 'same-origin',
      headers: {'HX-Request': 'true'}
    }).then(function (response) {
      var next = response.headers.get('HX-Redirect');
      if (next) {
        window.location.replace(next);
        return null;
      }
      return response.text().then(function (html) {
        var main = document.getElementById('main');
        main.innerHTML = html;
        main.focus();
      });
    }).catch(function () {
      if (pressed && pressed.name) {  // form.submit() sends no button: carry the pressed one's value
        var carried = document.createElement('input');
        carried.type = 'hidden';
        carried.name = pressed.name;
        carried.value = pressed.value;
        form.appendChild(carried);
      }
      form.submit();
    });
  }

  document.addEventListener('click', followInPlace);
  document.addEventListener('submit', submitInPlace);
  link.addEventListener('click', leave);
  document.addEventListener('keydown', function (evt) {
    if (evt.key === 'Escape' || evt.key === 'Esc') {
      leave(evt);
    }
  });
}());
