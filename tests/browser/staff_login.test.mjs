// A teacher's first day, in a real browser: the activation link from the mail, a password that
// is refused, one that is accepted, logging in, and logging out. Driven through Chromium's
// DevTools protocol (playwright-core), with the keyboard and the form labels a person would use.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, linkFromMail, openpoortFor } from './harness.mjs';

const ANNA = 'anna.devries@demo.openpoort.nl';
const PASSWORD = 'Zonnebloem-Kanaal-58';

test('activation, set password, log in and log out in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // The demo mailed Anna an activation link; it is in the outbox.
  const mail = server.outbox().find((m) => m.text.includes(ANNA));
  assert.ok(mail, 'no activation mail for Anna in the outbox');
  const link = linkFromMail(mail.text, '/activeren');
  assert.ok(link && link.startsWith(server.baseUrl), `unexpected link ${link}`);

  await page.goto(link);
  assert.match(await page.title(), /Wachtwoord instellen/);
  await checked(page, server.dir, 'activeren');
  // A common password is refused with the reason, in Dutch.
  await page.getByLabel('Nieuw wachtwoord').fill('welkom123');
  await page.getByLabel('Herhaal wachtwoord').fill('welkom123');
  await page.getByRole('button', { name: 'Wachtwoord instellen' }).click();
  await page.waitForLoadState();
  assert.match(await page.getByRole('alert').innerText(), /te makkelijk te raden/);
  await checked(page, server.dir, 'activeren-geweigerd');

  await page.getByLabel('Nieuw wachtwoord').fill(PASSWORD);
  await page.getByLabel('Herhaal wachtwoord').fill(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/inloggen\?melding=wachtwoord-ingesteld$/);
  assert.match(await page.getByRole('status').innerText(), /Je wachtwoord is ingesteld/);
  await checked(page, server.dir, 'inloggen');

  // The e-mail field has focus on arrival; Tab moves to the password, Enter submits.
  await page.keyboard.type(ANNA);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${server.baseUrl}/`);
  assert.match(await page.locator('h1').innerText(), /Welkom, Anna/);
  assert.match(await page.locator('main').innerText(), /Basisschool De Demo \(99ZZ00\)/);
  await checked(page, server.dir, 'portaal-leerkracht-eerste-keer');

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'openpoort');
  assert.ok(session, 'no session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  await page.getByRole('button', { name: 'Uitloggen', exact: true }).click();
  await page.waitForURL(/\/inloggen\?melding=uitgelogd$/);
  assert.match(await page.getByRole('status').innerText(), /Je bent uitgelogd/);
  // The start page now sends the browser back to the login form.
  await page.goto(`${server.baseUrl}/`);
  await page.waitForURL(/\/inloggen$/);
  server.passed();
});
