// The pages openpoort shows in an OpenID Connect sign-in when it does not answer the relying
// party at once: a request it cannot trust (no client, an unknown client, a redirect URI nobody
// registered), a refused release with the way back to the product, and the confirmation of an
// RP-initiated logout. Each is reached as a user reaches it, checked with axe-core and
// photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, leesland, logInAsFinn, openpoortFor } from './harness.mjs';

async function newPage(browser) {
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

test('a relying party\'s request openpoort cannot trust is a page, never a redirect', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  const app = leesland(server.baseUrl);
  const authorize = (params) => `${server.baseUrl}/oidc/authorize?${new URLSearchParams({
    response_type: 'code', scope: 'openid', state: 'xyz', ...params,
  })}`;

  for (const [params, name, says] of [
    [{ redirect_uri: app.redirectUri }, 'oidc-zonder-client-id', /client_id/],
    [{ client_id: 'onbekende-toepassing', redirect_uri: app.redirectUri }, 'oidc-onbekende-toepassing',
      /niet bij openpoort bekend/],
    [{ client_id: app.clientId, redirect_uri: 'https://aanvaller.example/terug' }, 'oidc-onbekend-terugstuuradres',
      /redirect_uri\) "https:\/\/aanvaller\.example\/terug" is niet geregistreerd voor .*Geregistreerd: http/s],
  ]) {
    const response = await page.goto(authorize(params));
    assert.equal(response.status(), 400, name);
    assert.ok(page.url().startsWith(`${server.baseUrl}/oidc/authorize`), `${name}: no redirect, at ${page.url()}`);
    assert.match(await page.locator('h1').innerText(), /Ongeldig verzoek/);
    assert.match(await page.locator('main').innerText(), says);
    await checked(page, server.dir, name);
  }

  // A portal link to start a product that openpoort does not know.
  const response = await page.goto(`${server.baseUrl}/oidc/initiate/onbekende-toepassing`);
  assert.equal(response.status(), 400);
  await checked(page, server.dir, 'oidc-start-onbekende-toepassing');
  server.passed();
});

test('a refused release explains itself, and going back tells the product it was refused', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  const app = leesland(server.baseUrl);

  // Finn at school; his school licensed Leesland but has not consented to it.
  await logInAsFinn(page, server);
  await page.goto(`${server.baseUrl}/demo-product/`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${server.baseUrl}/oidc/authorize`)),
    page.locator('#inloggen-oidc').click(),
  ]);
  assert.equal(response.status(), 403);
  await page.waitForLoadState();
  assert.match(await page.locator('h1').innerText(), /Geen toegang/);
  assert.match(await page.locator('main').innerText(), /geen toestemming gegeven/);
  await checked(page, server.dir, 'oidc-geen-toegang');

  await page.getByRole('link', { name: new RegExp(`Terug naar ${app.name.replace(/[()]/g, '\\$&')}`) }).click();
  await page.waitForURL(/\/demo-product\/oidc\/callback\?error=access_denied/);
  assert.match(await page.locator('h1').innerText(), /Inloggen niet gelukt/);
  await checked(page, server.dir, 'demo-product-oidc-geweigerd');
  server.passed();
});

test('an RP-initiated logout asks the user first, and a logout to an unregistered address is refused', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  const app = leesland(server.baseUrl);
  await logInAsFinn(page, server);

  // An address the product never registered: refused, and the session stays.
  let response = await page.goto(`${server.baseUrl}/oidc/logout?${new URLSearchParams({
    client_id: app.clientId, post_logout_redirect_uri: 'https://aanvaller.example/weg',
  })}`);
  assert.equal(response.status(), 400);
  assert.match(await page.locator('main').innerText(), /niet geregistreerd/);
  await checked(page, server.dir, 'oidc-uitloggen-ongeldig');

  // Without an ID token of this session, a product's logout link asks the user.
  response = await page.goto(`${server.baseUrl}/oidc/logout?${new URLSearchParams({
    client_id: app.clientId, post_logout_redirect_uri: `${server.baseUrl}/demo-product/`, state: 'tot-ziens',
  })}`);
  assert.equal(response.status(), 200);
  assert.match(await page.locator('h1').innerText(), /Uitloggen\?/);
  await checked(page, server.dir, 'oidc-uitloggen-bevestigen');
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  await page.waitForURL(`${server.baseUrl}/demo-product/?state=tot-ziens`);

  // Logged out: the portal sends Finn to the login.
  await page.goto(`${server.baseUrl}/`);
  assert.doesNotMatch(await page.locator('h1').innerText(), /Welkom, Finn/);

  // Without a product's address, the logout ends on openpoort's login page, which says so.
  await logInAsFinn(page, server);
  await page.goto(`${server.baseUrl}/oidc/logout`);
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  await page.waitForURL(/\/inloggen\?melding=uitgelogd/);
  await checked(page, server.dir, 'inloggen-uitgelogd');
  server.passed();
});
