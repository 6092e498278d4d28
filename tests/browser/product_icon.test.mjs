// A product's icon shows on the pupil's portal tile under openpoort's own CSP (img-src 'self'):
// openpoort serves the icon the operator registered, fetched from the publisher's server.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { test } from 'node:test';

import { browserFor, openpoortBinary, openpoortFor } from './harness.mjs';

// One red pixel, as a publisher's server would serve a product's icon.
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
  'base64',
);

function shortcutFrom(stdout) {
  const match = stdout.match(/\/s\/[0-9a-f-]{36}/);
  assert.ok(match, `no shortcut printed by the demo:\n${stdout}`);
  return match[0];
}

test('a product icon shows on the portal tile under the CSP in Chromium', async (t) => {
  const host = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(PIXEL);
  });
  await new Promise((resolve) => host.listen(0, '127.0.0.1', resolve));
  t.after(() => host.close());
  const iconUrl = `http://127.0.0.1:${host.address().port}/icoon.png`;

  const server = await openpoortFor(t);
  // Next to the running demo, as its operator types it: no settings needed.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENPOORT_')));
  const cli = (...args) => execFileSync(openpoortBinary(), args, { cwd: server.dir, env, encoding: 'utf8' });
  cli('product', 'add', '--party', 'demo-uitgeverij', '--code', 'plaatjesboek', '--methode', 'Plaatjesboek',
    '--name', 'Plaatjesboek', '--launch-url', 'https://rekenrijk.demo-uitgeverij.example/start', '--icon-url', iconUrl);
  cli('licence', 'add', '--school', '99ZZ00', '--party', 'demo-uitgeverij', '--product', 'plaatjesboek',
    '--from', '2026-08-01');
  await new Promise((resolve) => setTimeout(resolve, 300));

  const browser = await browserFor(t);
  // The page's own CSP in force: no bypassCSP here.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  await page.goto(server.baseUrl + shortcutFrom(server.stdout()));
  await page.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  await page.getByRole('button', { name: 'Finn S.' }).click();
  await page.getByRole('button', { name: 'boom' }).click();
  await page.waitForURL(`${server.baseUrl}/`);

  const icon = page.locator('.tile', { hasText: 'Plaatjesboek' }).locator('img');
  assert.equal(await icon.count(), 1, await page.locator('main').innerText());
  assert.match(await icon.getAttribute('src'), /^\/static\/icon\//);
  await icon.evaluate((img) => img.decode());
  assert.equal(await icon.evaluate((img) => img.naturalWidth), 1, 'the icon loaded');
  assert.deepEqual(blocked, [], 'nothing blocked by the CSP');
  server.passed();
});
