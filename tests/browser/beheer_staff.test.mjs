// Beheer › Leerkrachten in a real browser: the ICT-coördinator opens the staff list, adds a
// substitute teacher (mailed an activation link), gives her the invalkracht role and links her
// to a group for a period, then deactivates her. Every page is checked with axe-core and
// photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, linkFromMail, logInAsBram, openpoortFor } from './harness.mjs';


function isoDate(daysFromToday) {
  const d = new Date(Date.now() + daysFromToday * 86_400_000);
  return d.toISOString().slice(0, 10);
}

test('an ICT-coördinator adds a substitute teacher, links her to a group for a week and deactivates her in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();

  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/beheer`);
  await page.getByRole('link', { name: /^Leerkrachten/ }).click();
  await page.waitForURL(/\/beheer\/leerkrachten$/);
  const table = await page.locator('table').innerText();
  assert.match(table, /Anna de Vries/);
  assert.match(table, /nog niet geactiveerd/);
  await checked(page, server.dir, 'beheer-leerkrachten');

  await page.getByLabel(/^Roepnaam/).fill('Sanne');
  await page.getByLabel(/^Tussenvoegsel/).fill('van');
  await page.getByLabel(/^Achternaam/).fill('Dijk');
  await page.getByLabel(/^E-mailadres/).fill('sanne@demo.openpoort.nl');
  await page.getByRole('button', { name: /Toevoegen en uitnodigen/ }).click();
  await page.waitForURL(/\/beheer\/leerkrachten\/[^/]+\?melding=gemaild$/);
  assert.match(await page.getByRole('status').innerText(), /De activatielink is gemaild/);
  await checked(page, server.dir, 'beheer-leerkracht');

  await page.getByLabel(/^invalkracht/).check();
  await page.getByRole('button', { name: /Rollen opslaan/ }).click();
  await page.waitForURL(/melding=opgeslagen$/);
  assert.equal(await page.getByLabel(/^invalkracht/).isChecked(), true);

  await page.getByLabel(/^Groep/).selectOption({ label: 'Groep 8 Dassen' });
  await page.getByLabel(/^Vanaf/).fill(isoDate(0));
  await page.getByLabel(/^Tot en met/).fill(isoDate(6));
  await page.getByRole('button', { name: /^Koppelen/ }).click();
  await page.waitForURL(/melding=opgeslagen$/);
  assert.match(await page.locator('table').innerText(), /Groep 8 Dassen\s+\d+-\d+-\d+ tot en met \d+-\d+-\d+/);

  await page.getByLabel(/Ja, het account van Sanne van Dijk deactiveren/).check();
  await page.getByRole('button', { name: /^Deactiveren/ }).click();
  await page.waitForURL(/melding=gedeactiveerd$/);
  assert.match(await page.locator('main').innerText(), /Status: gedeactiveerd/);
  await checked(page, server.dir, 'beheer-leerkracht-gedeactiveerd');

  await page.getByRole('link', { name: /Alle leerkrachten/ }).click();
  await page.waitForURL(/\/beheer\/leerkrachten$/);
  assert.match(await page.locator('table').innerText(), /Sanne van Dijk[^\n]*gedeactiveerd/);
  server.passed();
});

test('a teacher added in Beheer activates her account from the mail and sees her group in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const admin = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })).newPage();
  await logInAsBram(admin, server.baseUrl);

  await admin.goto(`${server.baseUrl}/beheer/leerkrachten`);
  await admin.getByLabel(/^Roepnaam/).fill('Joris');
  await admin.getByLabel(/^Achternaam/).fill('Bakker');
  await admin.getByLabel(/^E-mailadres/).fill('joris@demo.openpoort.nl');
  await admin.getByRole('button', { name: /Toevoegen en uitnodigen/ }).click();
  await admin.waitForURL(/melding=gemaild$/);
  await admin.getByLabel(/^Groep/).selectOption({ label: 'Groep 8 Dassen' });
  await admin.getByLabel(/^Vanaf/).fill(isoDate(0));
  await admin.getByRole('button', { name: /^Koppelen/ }).click();
  await admin.waitForURL(/melding=opgeslagen$/);
  await admin.goto(`${server.baseUrl}/beheer/leerkrachten`);
  assert.match(await admin.locator('table').innerText(), /Joris Bakker[^\n]*nog niet geactiveerd/);

  // The mail in the outbox carries the activation link; Joris opens it in his own browser.
  const mail = server.outbox().find((m) => m.text.includes('joris@demo.openpoort.nl'));
  assert.ok(mail, 'no activation mail for Joris in the outbox');
  const link = linkFromMail(mail.text, '/activeren');
  assert.ok(link && link.startsWith(server.baseUrl), `unexpected link ${link}`);
  const joris = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })).newPage();
  await joris.goto(link);
  await joris.getByLabel('Nieuw wachtwoord').fill('Kaas-Dijk-Molen-77');
  await joris.getByLabel('Herhaal wachtwoord').fill('Kaas-Dijk-Molen-77');
  await joris.keyboard.press('Enter');
  await joris.waitForURL(/\/inloggen\?melding=wachtwoord-ingesteld$/);
  await joris.getByLabel(/^E-mailadres/).fill('joris@demo.openpoort.nl');
  await joris.getByLabel(/^Wachtwoord/).fill('Kaas-Dijk-Molen-77');
  await joris.keyboard.press('Enter');
  await joris.waitForURL(`${server.baseUrl}/`);
  assert.match(await joris.locator('h1').innerText(), /Welkom, Joris/);
  // His group and its pupils, in the portal itself.
  assert.match(await joris.locator('main').innerText(), /Groep 8 Dassen/);
  await checked(joris, server.dir, 'portaal-leerkracht');

  // The ICT-coördinator's list now says he is active.
  await admin.reload();
  assert.match(await admin.locator('table').innerText(), /Joris Bakker[^\n]*actief/);
  server.passed();
});
