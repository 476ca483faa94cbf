/* "Copy link" buttons. Loaded with `defer`; no inline scripts (CSP script-src 'self').

   Without JavaScript the link stands in a read-only text box that the user selects and copies,
   and the button stays hidden, since it could do nothing. With JavaScript the button shows; it
   copies the box's text to the clipboard (or, where the Clipboard API is missing or refused,
   selects it and asks the browser to copy), and says what happened in the status line beside it,
   which screen readers announce. Focusing the box selects the whole link. The words come from the
   page, in its language:

     <input id="new-link" value="..." readonly>
     <button type="button" data-copy="new-link" data-copied="..." data-copy-failed="..." hidden>Copy link</button>
     <p id="new-link-status" role="status"></p> */
(function () {
  'use strict';

  function legacyCopy(box) {
    box.focus();
    box.select();
    try {
      return document.execCommand('copy');
    } catch (e) {
      return false;
    }
  }

  function wire(button) {
    var box = document.getElementById(button.getAttribute('data-copy'));
    if (!box) {
      return;
    }
    var status = document.getElementById(box.id + '-status');

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    box.addEventListener('focus', function () {
      box.select();
    });
    button.addEventListener('click', function () {
      var copied = button.getAttribute('data-copied') || '';
      var failed = button.getAttribute('data-copy-failed') || '';
      say('');
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(box.value).then(
          function () { say(copied); },
          function () { say(legacyCopy(box) ? copied : failed); }
        );
      } else {
        say(legacyCopy(box) ? copied : failed);
      }
    });
    button.hidden = false;
  }

  var buttons = document.querySelectorAll('button[data-copy]');
  for (var i = 0; i < buttons.length; i += 1) {
    wire(buttons[i]);
  }
})();
