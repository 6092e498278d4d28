// A pupil's morning, in a real browser: the school's shortcut from the school network, the
// group, the name, the picture, and the portal with the school's licensed product. The same
// shortcut from an address outside the school's ranges shows nothing of the school.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, openpoortFor, pupilShortcut } from './harness.mjs';

test('a pupil on the school network picks group, name and picture and sees the portal', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  // The demo school's range is loopback, and this browser runs on this machine.
  await page.goto(server.baseUrl + pupilShortcut(server.stdout()));
  assert.match(await page.locator('h1').innerText(), /Kies je groep/);
  await checked(page, server.dir, 'leerling-groepen');
  await page.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  assert.match(await page.locator('h1').innerText(), /Kies je naam/);
  await checked(page, server.dir, 'leerling-namen');
  await page.getByRole('button', { name: 'Finn S.' }).click();
  assert.match(await page.locator('h1').innerText(), /Finn, kies jouw plaatje/);
  assert.equal(await page.locator('.pictures img').count(), 9);
  await checked(page, server.dir, 'leerling-plaatjes');
  // Finn's picture in the demo is the tree.
  await page.getByRole('button', { name: 'boom' }).click();

  await page.waitForURL(`${server.baseUrl}/`);
  assert.match(await page.locator('h1').innerText(), /Welkom, Finn/);
  const tiles = page.locator('.tile');
  assert.equal(await tiles.count(), 1);
  assert.match(await tiles.first().innerText(), /Rekenrijk oefenen/);
  assert.equal(
    await tiles.first().locator('a').getAttribute('href'),
    'https://rekenrijk.demo-uitgeverij.example/start',
  );
  await checked(page, server.dir, 'portaal-leerling');
  server.passed();
});

test('the same shortcut from outside the school network is refused', async (t) => {
  // openpoort behind a proxy on loopback: the forwarded address is a home network.
  const server = await openpoortFor(t, { env: { OPENPOORT_SERVER_TRUSTED_PROXIES: '127.0.0.1/32,::1' } });
  const browser = await browserFor(t);
  const context = await browser.newContext({
    bypassCSP: true,
    extraHTTPHeaders: { 'X-Forwarded-For': '198.51.100.23' },
  });
  const page = await context.newPage();

  const response = await page.goto(server.baseUrl + pupilShortcut(server.stdout()));
  assert.equal(response.status(), 403);
  await checked(page, server.dir, 'leerling-buiten-school');
  const text = await page.locator('main').innerText();
  assert.match(text, /Vraag het je leerkracht/);
  assert.match(text, /198\.51\.100\.23/);
  for (const secret of ['Groep', 'Uilen', 'Finn', 'Demo']) {
    assert.ok(!text.includes(secret), `${secret} shown outside the school`);
  }
  server.passed();
});

test('the home login page and the forgotten-password page pass axe-core', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.baseUrl}/thuis`);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  await checked(page, server.dir, 'thuis');
  await page.goto(`${server.baseUrl}/wachtwoord-vergeten`);
  assert.match(await page.title(), /[Ww]achtwoord/);
  await checked(page, server.dir, 'wachtwoord-vergeten');
  server.passed();
});
