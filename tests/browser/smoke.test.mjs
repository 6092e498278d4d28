// Proves the browser-test set-up itself: the real binary starts, Debian's Chromium renders one
// of its pages, and a screenshot can be taken. The login flows build on the same harness.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { browserFor, linkFromMail, openpoortFor } from './harness.mjs';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('chromium renders /healthz of openpoort demo as "ok"', async (t) => {
  // A failed run keeps the working directory (data, screenshot) for a look afterwards.
  const server = await openpoortFor(t);
  const browser = await browserFor(t);

  const page = await browser.newPage();
  const response = await page.goto(`${server.baseUrl}/healthz`);
  assert.equal(response.status(), 200);
  assert.equal((await page.innerText('body')).trim(), 'ok');

  const screenshot = path.join(server.dir, 'healthz.png');
  await page.screenshot({ path: screenshot });
  const png = readFileSync(screenshot);
  assert.ok(png.subarray(0, 8).equals(PNG_SIGNATURE), 'the screenshot is not a PNG');
  assert.ok(png.length > 100, 'the screenshot is empty');
  server.passed();
});

test('linkFromMail finds a link in 8bit and in quoted-printable mail', () => {
  const link = 'https://login.school.example/activeren?token=abc_DEF-123&next=%2Fportaal%3Fa%3D1';
  const eightBit = [
    'Subject: Activeer je openpoort-account / Activate your openpoort account',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Hallo Zoë, zie https://login.school.example/ voor uitleg.',
    '',
    link,
    '',
  ].join('\r\n');
  assert.equal(linkFromMail(eightBit, '/activeren'), link);
  assert.equal(linkFromMail(eightBit, '/herstellen'), null);

  const quoted = [
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'Hallo Zo=C3=AB,',
    '',
    'https://login.school.example/activeren?token=3Dabc_DEF-123&next=3D%2Fporta=',
    'al%3Fa%3D1',
    '',
  ].join('\r\n');
  assert.equal(
    linkFromMail(quoted, '/activeren'),
    'https://login.school.example/activeren?token=abc_DEF-123&next=%2Fportaal%3Fa%3D1',
  );
});
