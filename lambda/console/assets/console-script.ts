/**
 * The console's one client script, served as /console/assets/console.js (the CSP allows scripts
 * from the service itself only, never inline). It does three things the server cannot:
 * - forms marked `data-reveal` (create, regenerate) are sent with fetch, and the key they answer
 *   with is shown once in a dialog with Copy; closing it removes the dialog and forgets the key,
 *   then goes to the key's page;
 * - a section with `data-poll` (a rotation under way) is re-fetched every 2 s until it settles;
 * - buttons with `data-copy-target` copy that element's text.
 * Kept as a string in a module so the Lambda bundle carries it without a loader.
 */
export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  function revealDialog(answer) {
    var key = answer.key;
    var dialog = document.createElement('dialog');
    dialog.className = 'reveal';
    dialog.setAttribute('aria-labelledby', 'reveal-title');
    var title = document.createElement('h2');
    title.id = 'reveal-title';
    title.textContent = answer.title || 'Your new API key';
    var warning = document.createElement('p');
    warning.className = 'warning';
    warning.textContent = 'Copy this key now. It will not be shown again: keyroll keeps only a hash of it.';
    var code = document.createElement('code');
    code.className = 'secret';
    code.textContent = key;
    var status = document.createElement('p');
    status.setAttribute('role', 'status');
    status.className = 'copy-status';
    var copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'button primary';
    copy.textContent = 'Copy';
    copy.addEventListener('click', function () {
      navigator.clipboard.writeText(key).then(function () {
        status.textContent = 'Copied to the clipboard.';
      }, function () {
        status.textContent = 'Could not copy: select the key and copy it by hand.';
      });
    });
    var close = document.createElement('button');
    close.type = 'button';
    close.className = 'button';
    close.textContent = 'Close';
    close.addEventListener('click', function () {
      code.textContent = '';
      dialog.close();
      dialog.remove();
      key = null;
      answer = null;
      window.location.assign(target);
    });
    var target = answer.next;
    var actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(copy, close);
    dialog.append(title, warning, code, status, actions);
    dialog.addEventListener('cancel', function (event) { event.preventDefault(); });
    document.body.append(dialog);
    dialog.showModal();
    copy.focus();
  }

  function showError(form, error) {
    var box = form.querySelector('[data-error]');
    if (!box) return;
    box.hidden = false;
    box.textContent = (error.code ? error.code + ': ' : '') + (error.message || 'Something went wrong.');
    box.focus();
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-reveal')) return;
    event.preventDefault();
    var button = form.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    fetch(form.action, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(new FormData(form)).toString(),
      credentials: 'same-origin',
    }).then(function (response) {
      return response.json().then(function (body) {
        if (button) button.disabled = false;
        if (!response.ok) return showError(form, (body && body.error) || {});
        if (body.key) return revealDialog(body);
        window.location.assign(body.next);
      });
    }, function () {
      if (button) button.disabled = false;
      showError(form, { message: 'The service could not be reached. Try again.' });
    });
  });

  function poll(section) {
    var url = section.getAttribute('data-poll');
    if (!url) return;
    window.setTimeout(function () {
      fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } }).then(function (response) {
        if (!response.ok) return;
        return response.text().then(function (html) {
          var holder = document.createElement('div');
          holder.innerHTML = html;
          var next = holder.firstElementChild;
          if (!next) return;
          section.replaceWith(next);
          poll(next);
        });
      });
    }, 2000);
  }

  document.querySelectorAll('[data-poll]').forEach(poll);
})();
`;
