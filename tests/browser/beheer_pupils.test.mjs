// Beheer's Leerlingen and Gebruikersgegevens in a real browser: the ICT-coördinator gives every
// pupil of a group without a picture a random one, then uploads an EDEXML file, reads the
// difference and applies it. Every page visited is checked with axe-core and photographed.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { browserFor, checked, edexmlFor99ZZ00, logInAsBram, openpoortFor } from './harness.mjs';



test('an ICT-coördinator gives a group pictures and applies an EDEXML file after its preview in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  await logInAsBram(page, server.baseUrl);

  // Leerlingen: group 5 with two pupils whose picture is taken away, then pictures for all.
  await page.goto(`${server.baseUrl}/beheer`);
  await checked(page, server.dir, 'beheer-leerlingen');
  await page.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  await page.waitForURL(/\/beheer\/groep\//);
  for (const name of ['Emma Meijer', 'Liam de Boer']) {
    await page.getByLabel(`Plaatje voor ${name}`).selectOption('');
    await page.getByLabel(`Plaatje voor ${name}`).locator('xpath=..').getByRole('button', { name: 'Opslaan' }).click();
    await page.waitForURL(/\/beheer\/groep\//);
  }
  assert.match(await page.locator('main').innerText(), /2 leerlingen hebben nog geen plaatje/);
  await checked(page, server.dir, 'beheer-groep');
  await page.getByRole('button', { name: /Geef elke leerling zonder plaatje een willekeurig plaatje/ }).click();
  await page.waitForURL(/\/beheer\/groep\/[^/]+$/);
  const chosen = [];
  for (const name of ['Finn Smit', 'Emma Meijer', 'Liam de Boer']) {
    chosen.push(await page.getByLabel(`Plaatje voor ${name}`).inputValue());
  }
  assert.ok(chosen.every((c) => c !== ''), `${chosen}`);
  assert.equal(new Set(chosen).size, 3, `no two alike: ${chosen}`);
  assert.equal(await page.getByRole('button', { name: /willekeurig plaatje/ }).count(), 0);

  // Gebruikersgegevens: upload, read the difference, apply.
  await page.getByRole('link', { name: /Gebruikersgegevens/ }).click();
  await page.waitForURL(/\/beheer\/gebruikersgegevens$/);
  await checked(page, server.dir, 'beheer-gebruikersgegevens');
  const file = join(server.dir, 'school.xml');
  writeFileSync(file, edexmlFor99ZZ00());
  await page.getByLabel(/^EDEXML-bestand/).setInputFiles(file);
  await page.getByRole('button', { name: /Bekijk wat er verandert/ }).click();
  await page.waitForURL(/\/beheer\/gebruikersgegevens\/voorbeeld$/);
  const preview = await page.locator('main').innerText();
  assert.match(preview, /er is nog niets gewijzigd/);
  assert.match(preview, /Leerlingen: verwijderd/);
  assert.match(preview, /Finn Smit/);
  assert.match(preview, /Groep 3 & 4/);
  await checked(page, server.dir, 'beheer-import-voorbeeld');
  await page.getByRole('button', { name: /^Toepassen/ }).click();
  await page.waitForURL(/\/beheer\/gebruikersgegevens\/toepassen$/);
  assert.match(await page.getByRole('status').innerText(), /zijn bijgewerkt/);
  await checked(page, server.dir, 'beheer-import-toegepast');

  await page.goto(`${server.baseUrl}/beheer`);
  const groups = await page.locator('main').innerText();
  assert.match(groups, /Groep 3 & 4/);
  assert.doesNotMatch(groups, /Groep 5 Uilen/);
  server.passed();
});
