// The first ten minutes, in a real browser: the ICT-coördinator consents to the demo publisher
// (Leesland), the pupil's portal then shows its tile, and the tile signs the pupil into the demo
// product over OpenID Connect; the teacher signs in to the same product over SAML. Before the
// consent, the pupil sees no tile and the product gets no sign-in.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, logInAsBram, logInAsFinn, openpoortFor } from './harness.mjs';


test('consent to the demo publisher shows its tile to the pupil, and tile and SAML both sign in in Chromium', async (t) => {
  const server = await openpoortFor(t);
  assert.match(server.stdout(), /\/demo-product\//, 'the welcome names the demo product');
  const browser = await browserFor(t);

  // Finn at school before the consent: no Leesland tile, and the product is refused a sign-in.
  const pupilContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const pupil = await pupilContext.newPage();
  await logInAsFinn(pupil, server);
  assert.doesNotMatch(await pupil.locator('main').innerText(), /Leesland/);
  await pupil.goto(`${server.baseUrl}/demo-product/`);
  await checked(pupil, server.dir, 'demo-product');
  await pupil.locator('#inloggen-oidc').click();
  await pupil.waitForLoadState();
  assert.doesNotMatch(await pupil.locator('body').innerText(), /Welkom bij Leesland/);

  // Bram, the ICT-coördinator, ticks the publisher in Beheer › Uitgeverijen.
  const adminContext = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const admin = await adminContext.newPage();
  await logInAsBram(admin, server.baseUrl);
  await admin.goto(`${server.baseUrl}/beheer/uitgeverijen`);
  const consent = admin.getByLabel(/Toestemming voor Leesland Demo-uitgeverij/);
  assert.equal(await consent.isChecked(), false, 'the demo starts without this consent');
  await consent.check();
  await admin.getByRole('button', { name: /Opslaan/ }).click();
  await admin.waitForURL(/\/beheer\/uitgeverijen$/);
  assert.equal(await admin.getByLabel(/Toestemming voor Leesland Demo-uitgeverij/).isChecked(), true);

  // The consent takes effect at once: Finn's portal shows the tile, and the tile signs him in.
  await pupil.goto(`${server.baseUrl}/`);
  const tile = pupil.locator('.tile', { hasText: 'Leesland lezen' });
  assert.equal(await tile.count(), 1, await pupil.locator('main').innerText());
  await checked(pupil, server.dir, 'portaal-met-leesland');
  await tile.locator('a').click();
  await pupil.waitForURL(/\/demo-product\//);
  assert.match(await pupil.locator('h1').innerText(), /Welkom bij Leesland, Finn!/);
  const received = await pupil.locator('#ontvangen').innerText();
  assert.match(received, /sub/);
  assert.doesNotMatch(received, /family_name|Smit/, 'no more than the school allows');
  await checked(pupil, server.dir, 'demo-product-ingelogd');

  // Bram opens the same product and signs in over SAML with his openpoort session.
  await admin.goto(`${server.baseUrl}/demo-product/`);
  await admin.locator('#inloggen-saml').click();
  await admin.waitForURL(/\/demo-product\/saml\/acs|\/demo-product\/$/);
  await admin.waitForSelector('h1');
  assert.match(await admin.locator('h1').innerText(), /Welkom bij Leesland/);
  assert.match(await admin.locator('main').innerText(), /SAML/);
  server.passed();
});
