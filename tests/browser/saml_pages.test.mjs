// The pages openpoort shows in a SAML sign-in or logout: requests it will not answer (unreadable,
// from an SP nobody registered, to an address outside the SP's metadata, replayed, expired), a
// refused release with its signed refusal to the SP, the page that posts the Response, the
// confirmation of a login another website starts, and the end of a single logout. Each is
// reached as a user reaches it, checked with axe-core and photographed at desktop and phone width.

import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import {
  authnRequest, browserFor, checked, consentToLeesland, leesland, logInAsBram, logInAsFinn, logoutRequest,
  openpoortFor, samlRedirect,
} from './harness.mjs';

async function newPage(browser) {
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

/**
 * Holds the page's self-submitting script, so that the HTTP-POST page stays as a browser
 * without JavaScript shows it: the button that sends the message on.
 */
async function holdAutopost(page, baseUrl) {
  await page.route(`${baseUrl}/static/autopost.js`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/javascript', body: '' }));
}

const escaped = (text) => text.replace(/[()]/g, '\\$&');

test('SAML requests openpoort will not answer are explained on a page', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  const sso = `${server.baseUrl}/saml/sso`;
  const app = leesland(server.baseUrl);

  const replayed = samlRedirect(sso, authnRequest(server.baseUrl, { issuer: app.entityId, acs: app.acs }));
  // The first use of this request is the product's ordinary login (to the login page).
  await page.goto(replayed);
  assert.match(page.url(), /\/inloggen/);

  for (const [url, name, says] of [
    [`${sso}?SAMLRequest=dit-is-geen-saml`, 'saml-onleesbaar', /onleesbaar of onvolledig/],
    [samlRedirect(sso, authnRequest(server.baseUrl, {
      issuer: 'https://onbekend.example/sp', acs: 'https://onbekend.example/acs',
    })), 'saml-onbekende-toepassing', /niet bij openpoort geregistreerd/],
    [samlRedirect(sso, authnRequest(server.baseUrl, {
      issuer: app.entityId, acs: 'https://aanvaller.example/acs',
    })), 'saml-onbekend-terugstuuradres', /staat niet in de metadata/],
    [replayed, 'saml-herhaald', /al eens gebruikt/],
    [`${sso}/verder?id=verlopen`, 'saml-verlopen', /verlopen/],
  ]) {
    const response = await page.goto(url);
    assert.equal(response.status(), 400, name);
    assert.match(await page.locator('h1').innerText(), /Ongeldig inlogverzoek/, name);
    assert.match(await page.locator('main').innerText(), says, name);
    await checked(page, server.dir, name);
  }

  const response = await page.goto(`${server.baseUrl}/saml/slo?SAMLRequest=dit-is-geen-saml`);
  assert.equal(response.status(), 400);
  assert.match(await page.locator('h1').innerText(), /Ongeldig uitlogverzoek/);
  await checked(page, server.dir, 'saml-uitloggen-onleesbaar');
  server.passed();
});

test('a refused SAML release explains itself, and going back sends the SP a signed refusal', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  const app = leesland(server.baseUrl);

  // Finn at school; his school licensed Leesland but has not consented to it.
  await logInAsFinn(page, server);
  await page.goto(`${server.baseUrl}/demo-product/`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${server.baseUrl}/saml/sso`)),
    page.locator('#inloggen-saml').click(),
  ]);
  assert.equal(response.status(), 403);
  await page.waitForLoadState();
  assert.match(await page.locator('h1').innerText(), /Geen toegang/);
  assert.match(await page.locator('main').innerText(), /geen toestemming gegeven/);
  await checked(page, server.dir, 'saml-geen-toegang');

  await page.getByRole('button', { name: new RegExp(`Terug naar ${escaped(app.name)}`) }).click();
  await page.waitForURL(`${server.baseUrl}/demo-product/saml/acs`);
  assert.match(await page.locator('h1').innerText(), /Inloggen niet gelukt/);
  assert.match(await page.locator('main').innerText(), /the school's rules do not allow this login/);
  await checked(page, server.dir, 'demo-product-saml-geweigerd');
  server.passed();
});

test('the Response page, a login another website starts, and a single logout pass axe-core', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const app = leesland(server.baseUrl);

  // Bram consents to Leesland in Beheer › Uitgeverijen, so that logins to it are released.
  const admin = await newPage(browser);
  await logInAsBram(admin, server.baseUrl);
  await consentToLeesland(admin, server.baseUrl);

  const page = await newPage(browser);
  await holdAutopost(page, server.baseUrl);
  await logInAsFinn(page, server);

  // The product's own login: the page that carries the signed Response to its ACS.
  await page.goto(`${server.baseUrl}/demo-product/`);
  await page.locator('#inloggen-saml').click();
  await page.waitForURL(/\/saml\/sso\?/);
  assert.match(await page.locator('h1').innerText(), new RegExp(`Je gaat naar ${escaped(app.name)}`));
  await checked(page, server.dir, 'saml-doorsturen');
  await page.getByRole('button', { name: new RegExp(`Verder naar ${escaped(app.name)}`) }).click();
  await page.waitForURL(`${server.baseUrl}/demo-product/saml/acs`);
  assert.match(await page.locator('h1').innerText(), /Welkom bij Leesland, Finn!/);

  // Another website links to openpoort's IdP-initiated login: openpoort asks Finn first.
  const start = `${server.baseUrl}/saml/start?sp=${encodeURIComponent(app.entityId)}`;
  const elsewhere = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="nl"><title>Elders</title><a href="${start}">Leesland</a></html>`);
  });
  await new Promise((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  t.after(() => elsewhere.close());
  await page.goto(`http://127.0.0.1:${elsewhere.address().port}/`);
  await page.getByRole('link', { name: 'Leesland' }).click();
  await page.waitForURL(/\/saml\/start\?/);
  assert.match(await page.locator('h1').innerText(), /Doorgaan\?/);
  assert.match(await page.locator('main').innerText(), /Ga alleen verder als je dat zelf wilde/);
  await checked(page, server.dir, 'saml-doorgaan-bevestigen');
  await page.getByRole('link', { name: new RegExp(`Verder naar ${escaped(app.name)}`) }).click();
  await page.waitForURL(/\/saml\/start\?.*confirm=/);
  assert.match(await page.locator('h1').innerText(), new RegExp(`Je gaat naar ${escaped(app.name)}`));

  // The product's single logout (it registered no logout endpoint): openpoort ends the session
  // and says so.
  const response = await page.goto(samlRedirect(`${server.baseUrl}/saml/slo`,
    logoutRequest(server.baseUrl, { issuer: app.entityId })));
  assert.equal(response.status(), 200);
  assert.match(await page.locator('h1').innerText(), /Uitgelogd/);
  await checked(page, server.dir, 'saml-uitgelogd');
  await page.goto(`${server.baseUrl}/`);
  assert.doesNotMatch(await page.locator('h1').innerText(), /Welkom, Finn/);
  server.passed();
});
