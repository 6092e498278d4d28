// The quick-start guide for the ICT-coördinator (../shared/seeds/000_…, sections 2 to 12) and
// the FAQ's extra ICT-coördinator and extra roles, done in order in a real browser by a new
// ICT-coördinator of the demo school. Each step is marked with the guide's section number.
// (Invalkracht with a period: beheer_staff.test.mjs; pupils' pictures: beheer_pupils.test.mjs.)

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { BRAM, BRAM_PASSWORD, browserFor, checked, edexmlFor99ZZ00, linkFromMail, openpoortFor } from './harness.mjs';

const ANNA = 'anna.devries@demo.openpoort.nl';

async function logIn(page, baseUrl, email, password) {
  await page.goto(`${baseUrl}/inloggen`);
  await page.getByLabel(/^E-mailadres/).fill(email);
  await page.getByLabel(/^Wachtwoord/).fill(password);
  await page.keyboard.press('Enter');
}

async function setPassword(page, password) {
  await page.getByLabel('Nieuw wachtwoord').fill(password);
  await page.getByLabel('Herhaal wachtwoord').fill(password);
  await page.getByRole('button', { name: 'Wachtwoord instellen' }).click();
  await page.waitForURL(/\/inloggen\?melding=wachtwoord-ingesteld$/);
}

/** The newest link under `pathPrefix` mailed to `to`; waits for it, since some mail is sent
 * after the answer (a reset request answers alike whether or not the address exists). */
async function latestLink(server, to, pathPrefix) {
  for (let tries = 0; tries < 50; tries++) {
    const links = server
      .outbox()
      .filter((m) => m.text.includes(to))
      .map((m) => linkFromMail(m.text, pathPrefix))
      .filter(Boolean);
    if (links.length > 0) return links.at(-1);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`no ${pathPrefix} link mailed to ${to}`);
}

test('a new ICT-coördinator sets up the school by the quick-start guide in Chromium', async (t) => {
  const server = await openpoortFor(t);
  // A network provider the school works with, registered by the operator.
  server.cli(['party', 'add', '--code', 'moo-demo', '--kind', 'network_provider', '--name', 'MOO Demo']);
  const browser = await browserFor(t);
  const newContext = () => browser.newContext({ bypassCSP: true, acceptDownloads: true, viewport: { width: 1280, height: 900 } });

  // FAQ "extra ICT-coördinatoren": the school's ICT-coördinator makes Anna one too.
  // §4: Bram works at two locations, so he chooses the school after logging in.
  const bram = await (await newContext()).newPage();
  await logIn(bram, server.baseUrl, BRAM, BRAM_PASSWORD);
  await bram.waitForURL(/\/school-kiezen/);
  await checked(bram, server.dir, 'school-kiezen');
  await bram.getByLabel(/99ZZ00/).check();
  await bram.getByRole('button', { name: 'Kiezen' }).click();
  await bram.waitForURL(`${server.baseUrl}/`);
  await bram.goto(`${server.baseUrl}/beheer/leerkrachten`);
  await bram.getByRole('link', { name: 'Anna de Vries' }).click();
  await bram.getByLabel(/^ICT-coördinator/).check();
  await bram.getByRole('button', { name: /Rollen opslaan/ }).click();
  await bram.waitForURL(/melding=opgeslagen$/);

  // §2: the activation mail, the page to set a password (letters and digits, long enough).
  const anna = await (await newContext()).newPage();
  await anna.goto(await latestLink(server, ANNA, '/activeren'));
  assert.match(await anna.title(), /Wachtwoord instellen/);
  await setPassword(anna, 'Appel-Boom-Zee-31');

  // §3: log in; a forgotten password is reset through a mailed link.
  await anna.goto(`${server.baseUrl}/inloggen`);
  await anna.getByRole('link', { name: /Wachtwoord vergeten/ }).click();
  await anna.getByLabel(/^E-mailadres/).fill(ANNA);
  await anna.getByRole('button', { name: /Link aanvragen/ }).click();
  await anna.waitForLoadState();
  await anna.goto(await latestLink(server, ANNA, '/wachtwoord-herstellen'));
  await setPassword(anna, 'Peer-Wolk-Duin-58');
  await logIn(anna, server.baseUrl, ANNA, 'Peer-Wolk-Duin-58');
  await anna.waitForURL(`${server.baseUrl}/`);
  assert.match(await anna.locator('h1').innerText(), /Welkom, Anna/);

  // §5: Gebruikersgegevens: the LAS link (ESIS needs an authorisation key) and a manual import.
  await anna.goto(`${server.baseUrl}/beheer`);
  await anna.getByRole('link', { name: /^Gebruikersgegevens/ }).click();
  await anna.getByLabel('LAS', { exact: true }).selectOption('esis');
  await anna.getByLabel(/^Adres van het LAS/).fill('https://las.example.nl/edexml');
  await anna.getByLabel(/^Autorisatiesleutel/).fill('sleutel-uit-esis');
  await anna.getByRole('button', { name: /Koppeling opslaan/ }).click();
  await anna.waitForURL(/\/beheer\/gebruikersgegevens/);
  assert.match(await anna.locator('main').innerText(), /ESIS/);
  assert.doesNotMatch(await anna.content(), /sleutel-uit-esis/, 'the key is never shown again');
  const file = path.join(server.dir, 'leerlingen.xml');
  writeFileSync(file, edexmlFor99ZZ00());
  await anna.getByLabel(/^EDEXML-bestand/).setInputFiles(file);
  await anna.getByRole('button', { name: /Bekijk wat er verandert/ }).click();
  await anna.waitForLoadState();
  assert.match(await anna.locator('main').innerText(), /Lia/);
  await anna.getByRole('button', { name: /^Toepassen/ }).click();
  await anna.waitForURL(/\/beheer\/gebruikersgegevens/);
  assert.match(await anna.getByRole('status').innerText(), /zijn bijgewerkt/);

  // §6: the school's IP address.
  await anna.getByRole('link', { name: /^IP-adressen/ }).click();
  await anna.getByLabel(/IP-adres of bereik/).fill('198.51.100.0/24');
  await anna.getByLabel(/Omschrijving/).fill('Hoofdgebouw');
  await anna.getByRole('button', { name: /^Toevoegen/ }).click();
  await anna.waitForURL(/\/beheer\/ip-adressen$/);
  assert.match(await anna.locator('table').innerText(), /198\.51\.100\.0\/24\s+Hoofdgebouw/);

  // §7: the network provider.
  await anna.getByRole('link', { name: /^Netwerkbeheerders/ }).click();
  await anna.getByLabel(/Toestemming voor MOO Demo/).check();
  await anna.getByRole('button', { name: /Opslaan/ }).click();
  await anna.waitForURL(/\/beheer\/netwerkbeheerders$/);
  assert.equal(await anna.getByLabel(/Toestemming voor MOO Demo/).isChecked(), true);

  // §8: the publishers whose software the school uses.
  await anna.getByRole('link', { name: /^Uitgeverijen/ }).click();
  await anna.getByLabel(/Toestemming voor Leesland Demo-uitgeverij/).check();
  await anna.getByRole('button', { name: /Opslaan/ }).click();
  await anna.waitForURL(/\/beheer\/uitgeverijen$/);
  assert.equal(await anna.getByLabel(/Toestemming voor Leesland Demo-uitgeverij/).isChecked(), true);

  // §9: the shortcuts, downloaded from Lesmateriaal.
  await anna.getByRole('link', { name: /^Lesmateriaal/ }).click();
  const [download] = await Promise.all([
    anna.waitForEvent('download'),
    anna.getByRole('link', { name: /Alle snelkoppelingen downloaden/ }).click(),
  ]);
  assert.match(download.suggestedFilename(), /\.zip$/);
  // §10: the licensed material, and each product opened from openpoort (here through the portal).
  assert.match(await anna.locator('main').innerText(), /Leesland lezen/);
  await anna.goto(`${server.baseUrl}/`);
  await anna.locator('.tile', { hasText: 'Leesland lezen' }).locator('a').click();
  await anna.waitForURL(/\/demo-product\//);
  assert.match(await anna.locator('h1').innerText(), /Welkom bij Leesland/);
  // §12: the publisher links the material to groups from what it received: her school and role.
  const received = await anna.locator('#ontvangen').innerText();
  assert.match(received, /home_organization_id\s+99ZZ/, received);
  assert.match(received, /eduperson_affiliation\s+\["employee"/, received);

  // §11: an e-mail address for a teacher from the import (Lia has none), who is then mailed.
  await anna.goto(`${server.baseUrl}/beheer/leerkrachten`);
  await anna.getByRole('link', { name: /Beheren.* Lia\s*$/ }).click();
  await anna.getByLabel(/^E-mailadres/).fill('lia@demo.openpoort.nl');
  await anna.getByRole('button', { name: /E-mailadres opslaan/ }).click();
  await anna.waitForURL(/melding=/);
  // FAQ "extra rollen": Lia is the school's intern begeleider.
  await anna.getByLabel(/^intern begeleider/).check();
  await anna.getByRole('button', { name: /Rollen opslaan/ }).click();
  await anna.waitForURL(/melding=opgeslagen$/);
  assert.equal(await anna.getByLabel(/^intern begeleider/).isChecked(), true);
  await checked(anna, server.dir, 'gids-leerkracht');
  const lia = await (await newContext()).newPage();
  await lia.goto(await latestLink(server, 'lia@demo.openpoort.nl', '/activeren'));
  await setPassword(lia, 'Vlinder-Kade-Mist-64');
  await logIn(lia, server.baseUrl, 'lia@demo.openpoort.nl', 'Vlinder-Kade-Mist-64');
  await lia.waitForURL(`${server.baseUrl}/`);
  assert.match(await lia.locator('h1').innerText(), /Welkom, Lia/);
  server.passed();
});
