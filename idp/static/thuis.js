// The home login page (/thuis): puts the home code into the form, either from this page's own
// address (a phone's camera app opens the link in the card's QR code) or by scanning that QR code
// with the device's camera. Everything here is a convenience: without JavaScript, a camera or
// jsQR, the pupil types the code from the card.
//
// Plain ES2019 in one classic script, no inline handlers: the page's CSP is script-src 'self'.
(function () {
  'use strict';

  // Often enough to feel instant, rarely enough that an old tablet keeps up with jsQR.
  var SCAN_INTERVAL_MS = 200;
  // jsQR's time grows with the pixel count; a card held up to the camera fills enough of a
  // frame this wide to be found.
  var MAX_SCAN_WIDTH = 640;
  // Matches homecode.rs: 16 characters without 0/O, 1/I/L, in groups of four.
  var CODE_CHARS = /^[2-9A-HJKMNP-Z]{16}$/;
  // Whitespace and the dashes phones and word processors put in place of a hyphen.
  var SEPARATORS = /[\s\-\u2010-\u2015\u2212\uFE63\uFF0D]/g;

  var MESSAGES = {
    starting: 'De camera wordt gestart… / Starting the camera…',
    aim: 'Houd de QR-code van je kaart voor de camera. / Hold the QR code on your card in front of the camera.',
    notHomeCode: 'Dit is niet de QR-code van een thuiscode. / This is not the QR code of a home code.',
    denied: 'Geen toegang tot de camera. Typ de code over. / No camera access. Type the code.',
    noCamera: 'Geen camera gevonden. Typ de code over. / No camera found. Type the code.',
    busy: 'De camera is bezet of werkt niet. Typ de code over. / The camera is busy or does not work. Type the code.',
    failed: 'De camera werkt niet. Typ de code over. / The camera does not work. Type the code.',
  };

  /** The code in grouped form ("ABCD-EFGH-JKMN-PQRS"), or null if `text` is no home code. */
  function normaliseCode(text) {
    if (typeof text !== 'string') return null;
    var chars = text.replace(SEPARATORS, '').toUpperCase();
    if (!CODE_CHARS.test(chars)) return null;
    return chars.match(/.{4}/g).join('-');
  }

  /**
   * The home code in what a QR code said: the card's link (path /thuis with a `code` parameter,
   * from any host, since only the code is taken and it is checked by the server) or a bare code.
   */
  function codeFromText(text) {
    if (typeof text !== 'string') return null;
    var trimmed = text.trim();
    var url;
    try {
      url = new URL(trimmed);
    } catch (e) {
      return normaliseCode(trimmed);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.pathname.replace(/\/+$/, '') !== '/thuis') return null;
    return normaliseCode(url.searchParams.get('code'));
  }

  /**
   * The home code in an ImageData (or anything with data, width and height), or null when it
   * holds no QR code; `{ text }` as well when it holds a QR code that is no home code.
   */
  function decodeImageData(imageData) {
    if (typeof jsQR !== 'function') return null;
    // The card is printed dark on light; trying the inverted image too would double the work.
    var found = jsQR(imageData.data, imageData.width, imageData.height, {
      inversionAttempts: 'dontInvert',
    });
    if (!found) return null;
    return { code: codeFromText(found.data), text: found.data };
  }

  // For the browser test, and for anyone debugging on a pupil's device.
  window.openpoortThuis = {
    codeFromText: codeFromText,
    decodeImageData: decodeImageData,
  };

  var codeInput = document.getElementById('code');
  var pinInput = document.getElementById('pin');
  if (!codeInput || !pinInput) return;

  function fillCode(code) {
    codeInput.value = code;
    // Lets other scripts and the browser's own form logic see the change as if it were typed.
    codeInput.dispatchEvent(new Event('input', { bubbles: true }));
    pinInput.focus();
  }

  prefillFromAddress();
  setUpScanner();

  function prefillFromAddress() {
    var params = new URLSearchParams(window.location.search);
    if (!params.has('code')) return;
    var code = normaliseCode(params.get('code'));
    if (code) fillCode(code);
    // The code is half of the pupil's key: it should not stay in the history or the address
    // bar, nor in a link shared from there. The form holds it now.
    params.delete('code');
    var rest = params.toString();
    try {
      window.history.replaceState(
        window.history.state,
        '',
        window.location.pathname + (rest ? '?' + rest : '') + window.location.hash,
      );
    } catch (e) {
      // Some embedded browsers refuse; the page works the same with the code left in place.
    }
  }

  function setUpScanner() {
    var button = document.getElementById('scan-button');
    var scanner = document.getElementById('scanner');
    var video = document.getElementById('scanner-video');
    var status = document.getElementById('scanner-status');
    if (!button || !scanner || !video || !status) return;
    var media = navigator.mediaDevices;
    if (!media || typeof media.getUserMedia !== 'function' || typeof jsQR !== 'function') return;

    var canvas = document.createElement('canvas');
    var context = null;
    var stream = null;
    var timer = null;
    // From the click until stop: also while the browser still asks for the camera.
    var active = false;
    // Counts starts, so that a camera granted after the pupil cancelled is closed at once.
    var generation = 0;

    button.hidden = false;
    button.setAttribute('aria-controls', 'scanner');
    button.setAttribute('aria-expanded', 'false');

    button.addEventListener('click', function () {
      if (active) {
        stop();
        scanner.hidden = true;
      } else {
        start();
      }
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && active) {
        stop();
        scanner.hidden = true;
        button.focus();
      }
    });
    // A camera left running in a background tab or a closed page keeps its light on.
    document.addEventListener('visibilitychange', function () {
      if (document.hidden && active) {
        stop();
        scanner.hidden = true;
      }
    });
    window.addEventListener('pagehide', stop);
    var form = document.getElementById('thuis-form');
    if (form) form.addEventListener('submit', stop);

    function say(message) {
      status.textContent = message;
    }

    function start() {
      var mine = ++generation;
      active = true;
      button.setAttribute('aria-expanded', 'true');
      scanner.hidden = false;
      video.hidden = true;
      say(MESSAGES.starting);
      media
        .getUserMedia({
          // `ideal`, not `exact`: a laptop has only a front camera, and that one will do.
          video: { facingMode: { ideal: 'environment' } },
          audio: false,
        })
        .then(function (granted) {
          if (mine !== generation) {
            stopTracks(granted);
            return;
          }
          stream = granted;
          video.srcObject = granted;
          video.hidden = false;
          say(MESSAGES.aim);
          var playing = video.play();
          if (playing && typeof playing.catch === 'function') playing.catch(function () {});
          schedule();
        })
        .catch(function (error) {
          if (mine !== generation) return;
          failed(error);
        });
    }

    function failed(error) {
      stop();
      scanner.hidden = false;
      video.hidden = true;
      var name = error && error.name;
      if (name === 'NotAllowedError' || name === 'SecurityError') {
        say(MESSAGES.denied);
      } else if (name === 'NotFoundError' || name === 'OverconstrainedError') {
        say(MESSAGES.noCamera);
      } else if (name === 'NotReadableError' || name === 'AbortError') {
        say(MESSAGES.busy);
      } else {
        say(MESSAGES.failed);
      }
      codeInput.focus();
    }

    function schedule() {
      timer = window.setTimeout(scan, SCAN_INTERVAL_MS);
    }

    function scan() {
      timer = null;
      if (!stream) return;
      // HAVE_CURRENT_DATA: there is a frame to draw.
      if (video.readyState < 2 || !video.videoWidth || !video.videoHeight) {
        schedule();
        return;
      }
      var result;
      try {
        result = decodeImageData(frame());
      } catch (error) {
        failed(error);
        return;
      }
      if (result && result.code) {
        stop();
        scanner.hidden = true;
        fillCode(result.code);
        return;
      }
      if (result) say(MESSAGES.notHomeCode);
      schedule();
    }

    function frame() {
      var scale = Math.min(1, MAX_SCAN_WIDTH / video.videoWidth);
      var width = Math.max(1, Math.round(video.videoWidth * scale));
      var height = Math.max(1, Math.round(video.videoHeight * scale));
      if (canvas.width !== width || canvas.height !== height || !context) {
        canvas.width = width;
        canvas.height = height;
        // Resizing clears the context's state; asking again returns the same context.
        context = canvas.getContext('2d', { willReadFrequently: true });
      }
      context.drawImage(video, 0, 0, width, height);
      return context.getImageData(0, 0, width, height);
    }

    function stop() {
      generation++;
      active = false;
      if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
      if (stream) {
        stopTracks(stream);
        stream = null;
      }
      video.pause();
      video.srcObject = null;
      button.setAttribute('aria-expanded', 'false');
    }

    function stopTracks(s) {
      s.getTracks().forEach(function (track) {
        track.stop();
      });
    }
  }
})();
