// Beheer › Leerkrachten › Tweestapsverificatie in a real browser: the ICT-coördinator sees who
// has a second factor and makes it required for ICT-coördinatoren; at his next login he is led
// through setting up an authenticator app (the code computed here as the app would) before he
// can do anything else, sees his recovery codes once, and then the page says he has one.
// Every page is checked with axe-core and photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';

import { BRAM, BRAM_PASSWORD, browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

/** RFC 4648 base32 without padding, as the set-up page shows the key (in groups of four). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/\s+/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The code an authenticator app shows now for `key` (RFC 6238: HMAC-SHA1, 30 s, 6 digits). */
function totpNow(key) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

test('an ICT-coördinator requires two-step verification for ICT-coördinatoren and is led through the set-up at his next login in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/beheer/leerkrachten`);
  const bramsFactor = (p) => p.locator('tr', { hasText: 'Bram Jansen' }).locator('td.tweestaps').innerText();
  assert.match(await bramsFactor(page), /^nee/);
  assert.equal(await page.getByLabel(/^zoals de beheerder van openpoort instelt/).isChecked(), true);
  await page.getByLabel(/^verplicht voor ICT-coördinatoren/).check();
  await page.getByRole('button', { name: /^Opslaan/ }).click();
  await page.waitForURL(/melding=beleid-opgeslagen$/);
  assert.match(await page.getByRole('status').innerText(), /Opgeslagen/);
  assert.match(await page.locator('#beleid-nu').innerText(), /verplicht voor ICT-coördinatoren/);
  await checked(page, server.dir, 'beheer-leerkrachten-tweestapsverificatie');

  // The next login, in another browser: the password alone leads to the set-up.
  const other = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })).newPage();
  await other.goto(`${server.baseUrl}/inloggen`);
  await other.getByLabel(/^E-mailadres/).fill(BRAM);
  await other.getByLabel(/^Wachtwoord/).fill(BRAM_PASSWORD);
  await other.keyboard.press('Enter');
  await other.waitForURL(/\/inloggen\/instellen$/);
  assert.match(await other.locator('#verplicht').innerText(), /Je school vraagt om tweestapsverificatie/);
  await checked(other, server.dir, 'inloggen-instellen');

  // Nothing else opens meanwhile.
  await other.goto(`${server.baseUrl}/beheer`);
  await other.waitForURL(/\/inloggen$/);
  await other.goto(`${server.baseUrl}/inloggen/instellen`);

  const key = base32Decode(await other.locator('#sleutel').innerText());
  await other.getByLabel(/^Code uit de app/).fill(totpNow(key));
  await other.getByRole('button', { name: /Tweestapsverificatie aanzetten/ }).click();
  await other.getByRole('heading', { name: /Herstelcodes/ }).waitFor();
  assert.equal(await other.locator('.recovery-codes li').count(), 10);
  await checked(other, server.dir, 'inloggen-instellen-herstelcodes');
  await other.getByRole('link', { name: /^Verder/ }).click();
  await other.waitForURL(/\/school-kiezen/);
  await other.getByLabel(/99ZZ00/).check();
  await other.getByRole('button', { name: 'Kiezen' }).click();
  await other.waitForURL(`${server.baseUrl}/`);

  await other.goto(`${server.baseUrl}/beheer/leerkrachten`);
  assert.match(await bramsFactor(other), /^ja/);
  server.passed();
});
