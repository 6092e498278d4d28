// Passkeys (WebAuthn) on openpoort's pages: a form marked data-passkey="create" (adding a
// passkey at /passkeys) or data-passkey="get" (signing in at /inloggen/passkey, the second step
// at /inloggen/code) carries the server's options as JSON in data-options. On submit, this
// script asks the browser's authenticator (navigator.credentials), puts the answer as JSON into
// the form's hidden "credential" field and submits the form, with its CSRF token, as any form.
// The server checks everything; this script only converts between base64url and ArrayBuffer.
//
// Plain ES2019 in one classic script, no inline handlers and no fetch: the pages' CSP is
// script-src 'self' with no connect-src.
(function () {
  'use strict';

  function toBuffer(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) {
      base64 += '=';
    }
    var bytes = atob(base64);
    var out = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) {
      out[i] = bytes.charCodeAt(i);
    }
    return out.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withBuffers(list) {
    return (list || []).map(function (c) {
      var copy = Object.assign({}, c);
      copy.id = toBuffer(c.id);
      return copy;
    });
  }

  function createOptions(options) {
    var key = Object.assign({}, options.publicKey);
    key.challenge = toBuffer(key.challenge);
    key.user = Object.assign({}, key.user, { id: toBuffer(key.user.id) });
    key.excludeCredentials = withBuffers(key.excludeCredentials);
    // A passkey that can sign in alone must be discoverable: ask the authenticator to keep it
    // (a security key without room for it may still make one that serves as the second step).
    key.authenticatorSelection = Object.assign({}, key.authenticatorSelection, {
      residentKey: 'preferred',
      requireResidentKey: false,
    });
    return { publicKey: key };
  }

  function getOptions(options) {
    var key = Object.assign({}, options.publicKey);
    key.challenge = toBuffer(key.challenge);
    key.allowCredentials = withBuffers(key.allowCredentials);
    // The button asks now: no conditional mediation (autofill) here.
    return { publicKey: key };
  }

  function created(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toText(r.attestationObject),
        clientDataJSON: toText(r.clientDataJSON),
        transports: typeof r.getTransports === 'function' ? r.getTransports() : undefined,
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  function asserted(credential) {
    var r = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toText(r.authenticatorData),
        clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature),
        userHandle: toText(r.userHandle),
      },
      extensions: credential.getClientExtensionResults(),
    };
  }

  function attach(form) {
    var field = form.querySelector('input[name="credential"]');
    var failure = form.querySelector('[data-passkey-error]');
    var create = form.getAttribute('data-passkey') === 'create';
    if (!field || !window.PublicKeyCredential || !navigator.credentials) {
      return;
    }
    form.addEventListener('submit', function (event) {
      if (field.value) {
        return;
      }
      event.preventDefault();
      if (create) {
        var name = form.querySelector('input[name="name"]');
        if (name && !name.value.trim()) {
          // The server says what a name needs; no passkey is made without one.
          form.submit();
          return;
        }
      }
      if (failure) {
        failure.hidden = true;
      }
      var options = JSON.parse(form.getAttribute('data-options'));
      var asked = create
        ? navigator.credentials.create(createOptions(options)).then(created)
        : navigator.credentials.get(getOptions(options)).then(asserted);
      asked.then(
        function (answer) {
          field.value = JSON.stringify(answer);
          form.submit();
        },
        function () {
          if (failure) {
            failure.hidden = false;
          }
        }
      );
    });
  }

  var forms = document.querySelectorAll('form[data-passkey]');
  for (var i = 0; i < forms.length; i++) {
    attach(forms[i]);
  }
})();
