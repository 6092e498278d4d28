// A teacher's passkey in a real browser: Bram registers one on /passkeys, logs out, and signs in
// with the passkey alone, without typing his address. Chromium's virtual authenticator (the
// DevTools protocol's WebAuthn domain) stands in for a phone or laptop that verifies the user.
// WebAuthn needs a secure context and a domain as relying party id: the harness serves at
// http://localhost:<port> (localhost counts as secure), and openpoort's public URL says the same.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

test('a teacher registers a passkey and signs in with it alone in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });

  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/tweestapsverificatie`);
  await page.getByRole('link', { name: /Passkeys beheren/ }).click();
  await page.waitForURL(/\/passkeys$/);
  assert.match(await page.locator('main').innerText(), /Je hebt nog geen passkeys/);
  await checked(page, server.dir, 'passkeys-leeg');
  await page.getByLabel(/Naam, zodat je hem herkent/).fill('laptop school');
  await page.getByRole('button', { name: /Passkey toevoegen/ }).click();
  await page.waitForURL(/\/passkeys\?melding=toegevoegd$/);
  assert.match(await page.getByRole('status').innerText(), /Je passkey is toegevoegd/);
  assert.match(await page.locator('table.passkeys').innerText(), /laptop school/);
  await checked(page, server.dir, 'passkeys-toegevoegd');

  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1, 'one credential on the authenticator');
  assert.equal(credentials[0].isResidentCredential, true, 'discoverable, so it can sign in alone');
  assert.equal(credentials[0].rpId, 'localhost');

  // Log out, and sign in with the passkey alone.
  await page.goto(`${server.baseUrl}/`);
  await page.getByRole('button', { name: 'Uitloggen', exact: true }).click();
  await page.waitForURL(/\/inloggen\?melding=uitgelogd$/);
  await page.getByRole('link', { name: /Inloggen met een passkey/ }).click();
  await page.waitForURL(/\/inloggen\/passkey$/);
  await checked(page, server.dir, 'inloggen-passkey');
  await page.getByRole('button', { name: /Gebruik je passkey/ }).click();
  await page.waitForURL(/\/school-kiezen$/);
  const cookies = await context.cookies();
  assert.ok(cookies.find((c) => c.name === 'openpoort'), 'a session');
  assert.ok(!cookies.find((c) => c.name.endsWith('passkey')), 'the ceremony cookie is gone');

  // The list says when it was last used.
  await page.goto(`${server.baseUrl}/passkeys`);
  assert.doesNotMatch(await page.locator('table.passkeys').innerText(), /nog niet/);

  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount >= 1, 'the authenticator counted the use');
  server.passed();
});
