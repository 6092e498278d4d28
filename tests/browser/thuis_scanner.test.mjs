// The home login page's scanner script (idp/static/thuis.js with the vendored jsQR) in headless
// Chromium: prefilling the code from the page's own address, decoding a QR code of a home-code
// link, a whole scan through Chromium's fake camera, and the messages when there is no camera.
//
// Self-contained: a tiny static server serves the scripts from idp/static with the markup and the
// Content-Security-Policy of the real /thuis page, so no openpoort binary is needed.

import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { browserFor, CHROMIUM, launchBrowser } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(HERE, '..', '..', 'idp', 'static');

const CODE = 'ABCD-EFGH-JKMN-PQRS';
const CARD_URL = `https://login.school.example/thuis?code=${CODE}`;
// homecode::qr_svg(CARD_URL), pasted as it came out; regenerate it if qr_svg's output changes.
const CARD_QR_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 41 41" shape-rendering="crispEdges"><path fill="#fff" d="M0 0h41v41H0z"/><path fill="#000" d="M4 4h7v1h-7zM12 4h1v1h-1zM14 4h2v1h-2zM17 4h1v1h-1zM21 4h2v1h-2zM26 4h1v1h-1zM28 4h1v1h-1zM30 4h7v1h-7zM4 5h1v1h-1zM10 5h1v1h-1zM13 5h2v1h-2zM16 5h1v1h-1zM20 5h1v1h-1zM22 5h1v1h-1zM26 5h1v1h-1zM30 5h1v1h-1zM36 5h1v1h-1zM4 6h1v1h-1zM6 6h3v1h-3zM10 6h1v1h-1zM12 6h3v1h-3zM16 6h2v1h-2zM22 6h1v1h-1zM25 6h1v1h-1zM30 6h1v1h-1zM32 6h3v1h-3zM36 6h1v1h-1zM4 7h1v1h-1zM6 7h3v1h-3zM10 7h1v1h-1zM13 7h1v1h-1zM15 7h1v1h-1zM19 7h1v1h-1zM21 7h1v1h-1zM23 7h2v1h-2zM27 7h2v1h-2zM30 7h1v1h-1zM32 7h3v1h-3zM36 7h1v1h-1zM4 8h1v1h-1zM6 8h3v1h-3zM10 8h1v1h-1zM16 8h2v1h-2zM19 8h1v1h-1zM21 8h2v1h-2zM26 8h1v1h-1zM28 8h1v1h-1zM30 8h1v1h-1zM32 8h3v1h-3zM36 8h1v1h-1zM4 9h1v1h-1zM10 9h1v1h-1zM12 9h2v1h-2zM16 9h1v1h-1zM18 9h2v1h-2zM22 9h1v1h-1zM25 9h2v1h-2zM28 9h1v1h-1zM30 9h1v1h-1zM36 9h1v1h-1zM4 10h7v1h-7zM12 10h1v1h-1zM14 10h1v1h-1zM16 10h1v1h-1zM18 10h1v1h-1zM20 10h1v1h-1zM22 10h1v1h-1zM24 10h1v1h-1zM26 10h1v1h-1zM28 10h1v1h-1zM30 10h7v1h-7zM13 11h3v1h-3zM19 11h2v1h-2zM22 11h2v1h-2zM28 11h1v1h-1zM4 12h1v1h-1zM6 12h1v1h-1zM10 12h2v1h-2zM14 12h2v1h-2zM20 12h1v1h-1zM24 12h1v1h-1zM27 12h2v1h-2zM31 12h1v1h-1zM34 12h1v1h-1zM36 12h1v1h-1zM4 13h4v1h-4zM9 13h1v1h-1zM13 13h3v1h-3zM17 13h1v1h-1zM19 13h1v1h-1zM21 13h3v1h-3zM25 13h4v1h-4zM30 13h1v1h-1zM33 13h1v1h-1zM35 13h2v1h-2zM4 14h3v1h-3zM8 14h1v1h-1zM10 14h1v1h-1zM12 14h1v1h-1zM14 14h1v1h-1zM16 14h1v1h-1zM19 14h1v1h-1zM21 14h1v1h-1zM23 14h3v1h-3zM27 14h1v1h-1zM30 14h1v1h-1zM33 14h2v1h-2zM36 14h1v1h-1zM7 15h3v1h-3zM12 15h1v1h-1zM14 15h1v1h-1zM17 15h1v1h-1zM20 15h1v1h-1zM22 15h1v1h-1zM24 15h1v1h-1zM26 15h1v1h-1zM29 15h1v1h-1zM31 15h3v1h-3zM35 15h1v1h-1zM6 16h3v1h-3zM10 16h1v1h-1zM13 16h1v1h-1zM17 16h1v1h-1zM19 16h1v1h-1zM25 16h1v1h-1zM28 16h4v1h-4zM35 16h1v1h-1zM4 17h2v1h-2zM13 17h3v1h-3zM21 17h4v1h-4zM26 17h1v1h-1zM28 17h4v1h-4zM35 17h2v1h-2zM6 18h3v1h-3zM10 18h1v1h-1zM13 18h2v1h-2zM18 18h2v1h-2zM21 18h3v1h-3zM26 18h2v1h-2zM31 18h2v1h-2zM36 18h1v1h-1zM4 19h2v1h-2zM7 19h2v1h-2zM12 19h1v1h-1zM16 19h3v1h-3zM24 19h1v1h-1zM26 19h1v1h-1zM28 19h4v1h-4zM6 20h2v1h-2zM10 20h1v1h-1zM12 20h2v1h-2zM15 20h2v1h-2zM18 20h3v1h-3zM24 20h1v1h-1zM28 20h1v1h-1zM30 20h2v1h-2zM35 20h1v1h-1zM8 21h1v1h-1zM13 21h1v1h-1zM15 21h2v1h-2zM18 21h3v1h-3zM23 21h3v1h-3zM27 21h2v1h-2zM30 21h1v1h-1zM33 21h1v1h-1zM36 21h1v1h-1zM4 22h1v1h-1zM7 22h5v1h-5zM13 22h5v1h-5zM19 22h5v1h-5zM25 22h3v1h-3zM31 22h1v1h-1zM33 22h2v1h-2zM36 22h1v1h-1zM4 23h1v1h-1zM6 23h2v1h-2zM11 23h1v1h-1zM13 23h1v1h-1zM18 23h1v1h-1zM20 23h1v1h-1zM23 23h7v1h-7zM32 23h2v1h-2zM35 23h1v1h-1zM4 24h2v1h-2zM8 24h3v1h-3zM12 24h3v1h-3zM17 24h2v1h-2zM20 24h3v1h-3zM26 24h6v1h-6zM36 24h1v1h-1zM7 25h3v1h-3zM11 25h1v1h-1zM13 25h1v1h-1zM16 25h1v1h-1zM20 25h1v1h-1zM23 25h2v1h-2zM26 25h1v1h-1zM28 25h1v1h-1zM30 25h2v1h-2zM33 25h2v1h-2zM36 25h1v1h-1zM4 26h2v1h-2zM7 26h6v1h-6zM15 26h3v1h-3zM20 26h3v1h-3zM24 26h1v1h-1zM26 26h1v1h-1zM36 26h1v1h-1zM8 27h1v1h-1zM11 27h4v1h-4zM19 27h2v1h-2zM22 27h3v1h-3zM26 27h1v1h-1zM31 27h3v1h-3zM4 28h4v1h-4zM10 28h2v1h-2zM13 28h1v1h-1zM17 28h2v1h-2zM20 28h1v1h-1zM23 28h2v1h-2zM28 28h6v1h-6zM35 28h1v1h-1zM12 29h1v1h-1zM14 29h2v1h-2zM18 29h4v1h-4zM23 29h2v1h-2zM28 29h1v1h-1zM32 29h1v1h-1zM35 29h2v1h-2zM4 30h7v1h-7zM12 30h1v1h-1zM14 30h4v1h-4zM19 30h2v1h-2zM23 30h1v1h-1zM26 30h1v1h-1zM28 30h1v1h-1zM30 30h1v1h-1zM32 30h3v1h-3zM36 30h1v1h-1zM4 31h1v1h-1zM10 31h1v1h-1zM13 31h1v1h-1zM15 31h2v1h-2zM18 31h1v1h-1zM21 31h1v1h-1zM23 31h2v1h-2zM27 31h2v1h-2zM32 31h2v1h-2zM4 32h1v1h-1zM6 32h3v1h-3zM10 32h1v1h-1zM13 32h2v1h-2zM18 32h2v1h-2zM21 32h1v1h-1zM27 32h6v1h-6zM35 32h1v1h-1zM4 33h1v1h-1zM6 33h3v1h-3zM10 33h1v1h-1zM16 33h3v1h-3zM21 33h1v1h-1zM24 33h2v1h-2zM27 33h3v1h-3zM31 33h2v1h-2zM36 33h1v1h-1zM4 34h1v1h-1zM6 34h3v1h-3zM10 34h1v1h-1zM12 34h1v1h-1zM14 34h1v1h-1zM16 34h1v1h-1zM18 34h2v1h-2zM21 34h1v1h-1zM24 34h3v1h-3zM29 34h1v1h-1zM31 34h2v1h-2zM35 34h2v1h-2zM4 35h1v1h-1zM10 35h1v1h-1zM15 35h1v1h-1zM17 35h1v1h-1zM22 35h3v1h-3zM27 35h1v1h-1zM31 35h3v1h-3zM4 36h7v1h-7zM12 36h1v1h-1zM14 36h4v1h-4zM19 36h1v1h-1zM23 36h2v1h-2zM27 36h1v1h-1zM29 36h5v1h-5zM36 36h1v1h-1z"/></svg>';

// The element ids and attributes of the real page (idp/templates/thuis.html).
const PAGE = `<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><title>Thuis inloggen</title></head>
<body>
<button type="button" id="scan-button" hidden>Scan QR-code</button>
<div id="scanner" hidden><video id="scanner-video" playsinline muted></video><p id="scanner-status" role="status"></p></div>
<form method="post" action="/thuis" id="thuis-form" novalidate>
  <label for="code">Thuiscode</label>
  <input id="code" name="code" type="text" autocomplete="off">
  <label for="pin">Pincode</label>
  <input id="pin" name="pin" type="password" inputmode="numeric" maxlength="6">
  <button type="submit">Inloggen</button>
</form>
<script src="/static/jsQR.js" defer></script><script src="/static/thuis.js" defer></script>
</body>
</html>`;

// As openpoort sends it for its pages: an inline handler or script would be refused here too.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const MESSAGES = {
  denied: 'Geen toegang tot de camera. Typ de code over. / No camera access. Type the code.',
  noCamera: 'Geen camera gevonden. Typ de code over. / No camera found. Type the code.',
};

// The flags of harness.mjs (its launchBrowser takes no extra ones): Chromium must not dial out.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The fake camera's frame: the card's QR code on white, as a phone would hold it.
const FRAME_WIDTH = 640;
const FRAME_HEIGHT = 480;
const QR_PIXELS = 360;
const SCAN_TIMEOUT_MS = 20_000;

let server;
let baseUrl;

before(async () => {
  const files = {
    '/static/thuis.js': ['text/javascript; charset=utf-8', await readFile(path.join(STATIC, 'thuis.js'))],
    '/static/jsQR.js': ['text/javascript; charset=utf-8', await readFile(path.join(STATIC, 'jsQR.js'))],
    '/qr.svg': ['image/svg+xml', Buffer.from(CARD_QR_SVG)],
  };
  server = http.createServer((req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && pathname === '/thuis') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CSP,
        'cache-control': 'no-store',
      });
      res.end(PAGE);
      return;
    }
    if (pathname === '/favicon.ico') {
      // Browsers ask for it on their own; a 404 would read as a page error below.
      res.writeHead(204);
      res.end();
      return;
    }
    const file = req.method === 'GET' ? files[pathname] : undefined;
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file[0] });
    res.end(file[1]);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  // localhost, not 127.0.0.1 in the address bar: both are secure contexts, this one like harness.mjs.
  baseUrl = `http://localhost:${server.address().port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A page that fails the test on any script error or CSP refusal. */
async function strictPage(browser, t) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  t.after(() => assert.deepEqual(problems, [], problems.join('\n')));
  return page;
}

const focusedId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

test('a code in the address is filled in, pin focused, and the address cleaned', async (t) => {
  const browser = await browserFor(t);
  const page = await strictPage(browser, t);

  await page.goto(`${baseUrl}/thuis?code=abcd%20efgh-jkmn-pqrs&taal=nl#kaart`);
  assert.equal(await page.inputValue('#code'), CODE);
  assert.equal(await focusedId(page), 'pin');
  assert.equal(await page.evaluate(() => window.location.search), '?taal=nl');
  assert.equal(await page.evaluate(() => window.location.hash), '#kaart');

  // Not a home code: nothing is filled in and the pupil starts typing where they would anyway.
  await page.goto(`${baseUrl}/thuis?code=OOPS`);
  assert.equal(await page.inputValue('#code'), '');
  assert.notEqual(await focusedId(page), 'pin');
});

test('the code is taken from the card link or a bare code, and nothing else', async (t) => {
  const browser = await browserFor(t);
  const page = await strictPage(browser, t);
  await page.goto(`${baseUrl}/thuis`);

  const cases = [
    [CARD_URL, CODE],
    [`http://localhost:8080/thuis/?code=${CODE.toLowerCase()}`, CODE],
    ['https://login.school.example/thuis?code=ABCDEFGHJKMNPQRS&x=1', CODE],
    [' ABCD EFGH JKMN PQRS\n', CODE],
    ['abcd-efgh-jkmn-pqrs', CODE],
    ['https://login.school.example/inloggen?code=ABCD-EFGH-JKMN-PQRS', null],
    ['https://login.school.example/thuis', null],
    ['https://login.school.example/thuis?code=ABCD-EFGH-JKMN-PQR', null],
    ['https://login.school.example/thuis?code=0BCD-EFGH-JKMN-PQRS', null],
    [`javascript:alert(1)//thuis?code=${CODE}`, null],
    ['WIFI:S:school;T:WPA;P:geheim;;', null],
    ['', null],
  ];
  for (const [text, expected] of cases) {
    const actual = await page.evaluate((t) => window.openpoortThuis.codeFromText(t), text);
    assert.equal(actual, expected, JSON.stringify(text));
  }
});

/** The card's QR code drawn into a white canvas of the given size, as ImageData's RGBA bytes. */
function drawCard(page, width, height, qrPixels) {
  return page.evaluate(
    async ({ width, height, qrPixels }) => {
      const image = new Image(qrPixels, qrPixels);
      image.src = '/qr.svg';
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = width;
      canvas.height = height;
      const context = canvas.getContext('2d');
      context.fillStyle = '#fff';
      context.fillRect(0, 0, width, height);
      context.drawImage(image, (width - qrPixels) / 2, (height - qrPixels) / 2, qrPixels, qrPixels);
      return Array.from(context.getImageData(0, 0, width, height).data);
    },
    { width, height, qrPixels },
  );
}

test('jsQR loads as a classic script and decodes the QR code of qr_svg', async (t) => {
  const browser = await browserFor(t);
  const page = await strictPage(browser, t);
  await page.goto(`${baseUrl}/thuis`);

  assert.equal(await page.evaluate(() => typeof window.jsQR), 'function');
  const size = 240;
  const rgba = await drawCard(page, size, size, 200);
  const decoded = await page.evaluate(
    ({ rgba, size }) =>
      window.openpoortThuis.decodeImageData(new ImageData(Uint8ClampedArray.from(rgba), size, size)),
    { rgba, size },
  );
  assert.deepEqual(decoded, { code: CODE, text: CARD_URL });

  // A blank frame holds no QR code at all.
  const blank = await page.evaluate(() =>
    window.openpoortThuis.decodeImageData(new ImageData(64, 64)),
  );
  assert.equal(blank, null);
});

/**
 * A Y4M video (the format of Chromium's --use-file-for-fake-video-capture) showing the card's
 * QR code: grey only, so the chroma planes are all 128.
 */
async function cardVideo(dir) {
  const browser = await launchBrowser();
  let rgba;
  try {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/thuis`);
    rgba = await drawCard(page, FRAME_WIDTH, FRAME_HEIGHT, QR_PIXELS);
  } finally {
    await browser.close();
  }
  const luma = Buffer.alloc(FRAME_WIDTH * FRAME_HEIGHT);
  for (let i = 0; i < luma.length; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    luma[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
  }
  const chroma = Buffer.alloc((FRAME_WIDTH / 2) * (FRAME_HEIGHT / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${FRAME_WIDTH} H${FRAME_HEIGHT} F30:1 Ip A1:1 C420jpeg\n`);
  const file = path.join(dir, 'card.y4m');
  // A few frames: Chromium loops the file, and one frame alone is an edge case of its reader.
  await writeFile(file, Buffer.concat([header, frame, frame, frame, frame]));
  return file;
}

test('scanning the card with the (fake) camera fills in the code and focuses the pin', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'openpoort-thuis-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const video = await cardVideo(dir);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      // Grants the camera without a prompt, and makes the camera a file.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  t.after(() => browser.close());
  const page = await strictPage(browser, t);
  await page.goto(`${baseUrl}/thuis`);

  const button = page.locator('#scan-button');
  assert.ok(await button.isVisible(), 'the scan button stays hidden although there is a camera');
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  await button.click();
  await page.waitForFunction((code) => document.getElementById('code').value === code, CODE, {
    timeout: SCAN_TIMEOUT_MS,
  });
  assert.equal(await focusedId(page), 'pin');
  assert.ok(await page.locator('#scanner').isHidden());
  assert.equal(await button.getAttribute('aria-expanded'), 'false');
  // The camera is released: no stream on the video, no live track left.
  assert.equal(await page.evaluate(() => document.getElementById('scanner-video').srcObject), null);
});

test('a refused or missing camera says so in both languages and leaves typing', async (t) => {
  const browser = await browserFor(t);

  for (const [name, message] of [
    ['NotAllowedError', MESSAGES.denied],
    ['NotFoundError', MESSAGES.noCamera],
  ]) {
    const page = await strictPage(browser, t);
    // Instead of a prompt that headless Chromium would answer by itself: the browser's answer.
    await page.addInitScript((errorName) => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('test', errorName));
    }, name);
    await page.goto(`${baseUrl}/thuis`);
    await page.click('#scan-button');
    const status = page.locator('#scanner-status');
    await status.filter({ hasText: message }).waitFor();
    assert.ok(await page.locator('#scanner').isVisible());
    assert.ok(await page.locator('#scanner-video').isHidden());
    assert.equal(await focusedId(page), 'code');
    await page.close();
  }
});

test('without a camera API the scan button stays hidden', async (t) => {
  const browser = await browserFor(t);
  const page = await strictPage(browser, t);
  // As on a plain-http address, where browsers hide navigator.mediaDevices.
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'mediaDevices', { get: () => undefined });
  });
  await page.goto(`${baseUrl}/thuis?code=${CODE}`);
  assert.ok(await page.locator('#scan-button').isHidden());
  // The address still fills the form: that needs no camera.
  assert.equal(await page.inputValue('#code'), CODE);
});
