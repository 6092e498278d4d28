// The ICT-coördinator's Beheer in a real browser: log in, choose the school, add an IP range on
// the IP-adressen tab, withdraw and give consent to the publisher on the Uitgeverijen tab. Every
// page visited is checked with axe-core and photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';


test('an ICT-coördinator adds an IP range and withdraws and gives consent in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  // Injecting axe-core is a script the page's own policy rightly forbids.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/beheer`);
  await page.getByRole('link', { name: /IP-adressen/ }).click();
  await page.waitForURL(/\/beheer\/ip-adressen$/);
  assert.match(await page.getByRole('status').innerText(), /Je huidige adres is 127\.0\.0\.1/);
  await page.getByLabel(/IP-adres of bereik/).fill('192.0.2.0/24');
  await page.getByLabel(/Omschrijving/).fill('Gebouw B');
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  await page.waitForURL(/\/beheer\/ip-adressen$/);
  assert.match(await page.locator('table').innerText(), /192\.0\.2\.0\/24\s+Gebouw B/);
  await checked(page, server.dir, 'beheer-ip-adressen');

  await page.getByRole('link', { name: /Uitgeverijen/ }).click();
  await page.waitForURL(/\/beheer\/uitgeverijen$/);
  const consent = page.getByLabel(/Toestemming voor Demo Uitgeverij/);
  assert.equal(await consent.isChecked(), true);
  await checked(page, server.dir, 'beheer-uitgeverijen');
  await consent.uncheck();
  await page.getByRole('button', { name: /Opslaan/ }).click();
  await page.waitForURL(/\/beheer\/uitgeverijen$/);
  assert.equal(await page.getByLabel(/Toestemming voor Demo Uitgeverij/).isChecked(), false);
  await page.getByLabel(/Toestemming voor Demo Uitgeverij/).check();
  await page.getByRole('button', { name: /Opslaan/ }).click();
  await page.waitForURL(/\/beheer\/uitgeverijen$/);
  assert.equal(await page.getByLabel(/Toestemming voor Demo Uitgeverij/).isChecked(), true);
  assert.match(await page.locator('main').innerText(), /Toestemming sinds/);

  await page.getByRole('link', { name: /Netwerkbeheerders/ }).click();
  await page.waitForURL(/\/beheer\/netwerkbeheerders$/);
  await checked(page, server.dir, 'beheer-netwerkbeheerders');
  server.passed();
});
