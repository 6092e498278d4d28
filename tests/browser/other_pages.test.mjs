// Pages no other browser test visits: the home-code cards a teacher prints (and the question
// before old cards stop working), the school choice when a school is no longer the user's, the
// pupil's wrong links and missing picture, a wrong home code, an unusable activation link, the
// password change, and a page that does not exist. Each is reached as a user reaches it,
// checked with axe-core and photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BRAM, BRAM_PASSWORD, browserFor, checked, logInAsBram, openpoortFor, pupilShortcut,
} from './harness.mjs';

async function newPage(browser) {
  // bypassCSP only so that axe-core can be injected; the pages' own policy stays in force otherwise.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  return context.newPage();
}

test('home-code cards, and the question before old cards stop working, pass axe-core on screen and in print', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  await logInAsBram(page, server.baseUrl);
  await page.goto(`${server.baseUrl}/beheer`);
  await page.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  await page.waitForURL(/\/beheer\/groep\//);
  const pupils = await page.getByLabel(/^Plaatje voor /).count();

  // One pupil's new card.
  await page.getByRole('button', { name: 'Nieuwe thuiscode voor Finn Smit' }).click();
  await page.waitForLoadState();
  assert.equal(await page.title(), 'Thuiscodes · openpoort');
  assert.equal(await page.locator('.card').count(), 1);
  assert.equal(await page.getByRole('img', { name: /^QR-code/ }).count(), 1);
  await checked(page, server.dir, 'thuiscode-een-leerling');
  await page.getByRole('link', { name: /Terug/ }).click();
  await page.waitForURL(/\/beheer\/groep\//);

  // Now that Finn has a card, new cards for the group ask first.
  await page.getByRole('button', { name: 'Thuiscodes maken en printen' }).click();
  await page.waitForURL(/\/thuiscodes$/);
  assert.match(await page.locator('h1').innerText(), /Nieuwe thuiscodes voor Groep 5 Uilen/);
  assert.match(await page.locator('main').innerText(), /Finn Smit/);
  await checked(page, server.dir, 'beheer-thuiscodes-bevestigen');

  await page.getByRole('button', { name: /^Ja, \d+ nieuwe thuiscodes maken/ }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('.card').count(), pupils);
  assert.equal(await page.getByRole('img', { name: /^QR-code/ }).count(), pupils);
  await checked(page, server.dir, 'thuiscodes');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('form, nav, button').filter({ visible: true }).count(), 0, 'only the cards print');
  await checked(page, server.dir, 'thuiscodes-afdrukken');
  await page.emulateMedia({ media: 'screen' });
  server.passed();
});

test('choosing a school that stopped being yours while the choice was open is refused on a page', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);
  await page.goto(`${server.baseUrl}/inloggen`);
  await page.getByLabel(/^E-mailadres/).fill(BRAM);
  await page.getByLabel(/^Wachtwoord/).fill(BRAM_PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/school-kiezen/);

  // Meanwhile Anna becomes ICT-coördinator of the north location and Bram's role there ends.
  server.cli(['staff', 'grant-role', '--email', 'anna.devries@demo.openpoort.nl', '--school', '99ZZ01',
    '--role', 'ict_coordinator']);
  server.cli(['staff', 'revoke-role', '--email', BRAM, '--school', '99ZZ01', '--role', 'ict_coordinator']);

  await page.getByLabel(/99ZZ01/).check();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${server.baseUrl}/school-kiezen` && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Kiezen' }).click(),
  ]);
  assert.equal(response.status(), 403);
  await page.waitForLoadState();
  assert.match(await page.locator('h1').innerText(), /School niet beschikbaar/);
  await checked(page, server.dir, 'school-kiezen-niet-beschikbaar');
  await page.getByRole('link', { name: /Kies een school/ }).click();
  await page.waitForURL(/\/school-kiezen$/);
  assert.equal(await page.getByLabel(/99ZZ01/).count(), 0, 'the north location is gone from the choice');
  server.passed();
});

test('a pupil\'s wrong links, a missing picture and a wrong home code are explained on pages', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const pupil = await newPage(browser);

  for (const [path, name] of [
    ['/s/00000000-0000-4000-8000-000000000000', 'leerling-onbekende-school'],
    ['/login/leerlingen/snelkoppelaar?INSTELLING_REF=geen-school', 'leerling-ongeldige-snelkoppeling'],
  ]) {
    const response = await pupil.goto(server.baseUrl + path);
    assert.equal(response.status(), 404, name);
    assert.match(await pupil.locator('h1').innerText(), /Link niet geldig/);
    assert.match(await pupil.locator('main').innerText(), /Vraag je leerkracht om de goede link/);
    await checked(pupil, server.dir, name);
  }

  // Bram takes Emma's picture away; Emma cannot log in by name alone.
  const admin = await newPage(browser);
  await logInAsBram(admin, server.baseUrl);
  await admin.goto(`${server.baseUrl}/beheer`);
  await admin.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  await admin.waitForURL(/\/beheer\/groep\//);
  await admin.getByLabel('Plaatje voor Emma Meijer').selectOption('');
  await admin.getByLabel('Plaatje voor Emma Meijer').locator('xpath=..').getByRole('button', { name: 'Opslaan' }).click();
  await admin.waitForURL(/\/beheer\/groep\//);

  await pupil.goto(server.baseUrl + pupilShortcut(server.stdout()));
  await pupil.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  const [response] = await Promise.all([
    pupil.waitForResponse((r) => r.request().method() === 'POST'),
    pupil.getByRole('button', { name: 'Emma M.' }).click(),
  ]);
  assert.equal(response.status(), 403);
  await pupil.waitForLoadState();
  assert.match(await pupil.locator('h1').innerText(), /Nog geen plaatje/);
  await checked(pupil, server.dir, 'leerling-geen-plaatje');

  // At home, a mistyped code.
  await pupil.goto(`${server.baseUrl}/thuis`);
  await pupil.getByLabel(/^Thuiscode/).fill('ABCD-EFGH-JKMN-PQRS');
  await pupil.getByLabel(/^Pincode/).fill('123456');
  await pupil.getByRole('button', { name: 'Inloggen' }).click();
  await pupil.waitForLoadState();
  assert.equal(await pupil.getByRole('alert').count(), 1, await pupil.locator('main').innerText());
  await checked(pupil, server.dir, 'thuis-verkeerde-code');
  server.passed();
});

test('an unusable activation link, the password change and a page that does not exist pass axe-core', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const page = await newPage(browser);

  let response = await page.goto(`${server.baseUrl}/activeren?token=al-gebruikt-of-verlopen`);
  assert.equal(response.status(), 410);
  assert.match(await page.locator('h1').innerText(), /Link niet geldig/);
  await checked(page, server.dir, 'activeren-link-ongeldig');

  response = await page.goto(`${server.baseUrl}/bestaat/niet`);
  assert.equal(response.status(), 404);
  assert.match(await page.locator('h1').innerText(), /Pagina niet gevonden/);
  await checked(page, server.dir, 'niet-gevonden');

  await logInAsBram(page, server.baseUrl);
  await page.goto(`${server.baseUrl}/wachtwoord-wijzigen`);
  assert.match(await page.locator('h1').innerText(), /Wachtwoord wijzigen/);
  await checked(page, server.dir, 'wachtwoord-wijzigen');
  await page.getByLabel(/^Huidig wachtwoord/).fill('niet-mijn-wachtwoord-1');
  await page.getByLabel(/^Nieuw wachtwoord/).fill('Zonnebloem-Kanaal-77');
  await page.getByLabel(/^Herhaal nieuw wachtwoord/).fill('Zonnebloem-Kanaal-77');
  await page.getByRole('button', { name: 'Wachtwoord wijzigen' }).click();
  await page.waitForLoadState();
  assert.equal(await page.getByRole('alert').count(), 1, await page.locator('main').innerText());
  await checked(page, server.dir, 'wachtwoord-wijzigen-fout');
  server.passed();
});
