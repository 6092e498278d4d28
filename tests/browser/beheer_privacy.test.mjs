// Beheer › Privacy in a real browser: after Finn signs in to the demo publisher Leesland, the
// ICT-coördinator accepts the processing agreement for the board, filters the release audit by
// party and group, and downloads the CSV file with the same filter. axe-core on every state.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

import { browserFor, checked, consentToLeesland, logInAsBram, logInAsFinn, openpoortFor } from './harness.mjs';

const VERSION = '2026-1';

test('the ICT-coördinator accepts the agreement, filters the releases and downloads them, in Chromium', async (t) => {
  const server = await openpoortFor(t, { env: { OPENPOORT_PRIVACY_AGREEMENT_VERSION: VERSION } });
  const browser = await browserFor(t);
  const options = { bypassCSP: true, acceptDownloads: true, viewport: { width: 1280, height: 900 } };

  // Bram consents to Leesland, and Finn signs in to it from the school.
  const admin = await (await browser.newContext(options)).newPage();
  await logInAsBram(admin, server.baseUrl);
  await consentToLeesland(admin, server.baseUrl);

  const pupil = await (await browser.newContext(options)).newPage();
  await logInAsFinn(pupil, server);
  await pupil.locator('.tile', { hasText: 'Leesland lezen' }).locator('a').click();
  await pupil.waitForURL(/\/demo-product\//);
  assert.match(await pupil.locator('h1').innerText(), /Welkom bij Leesland, Finn!/);

  // The Privacy tab: the agreement first.
  await admin.goto(`${server.baseUrl}/beheer`);
  await admin.getByRole('link', { name: /^Privacy/ }).click();
  await admin.waitForURL(/\/beheer\/privacy$/);
  await checked(admin, server.dir, 'beheer-privacy');
  assert.match(await admin.locator('#agreement-state').innerText(), /nog niet geaccepteerd/);
  await admin.getByRole('button', { name: new RegExp(`Versie ${VERSION} accepteren`) }).click();
  await admin.waitForURL(/\/beheer\/privacy$/);
  assert.match(await admin.locator('#agreement-state').innerText(), /is geaccepteerd/);
  const history = await admin.locator('#acceptances').innerText();
  assert.match(history, new RegExp(VERSION));
  assert.match(history, /Bram Jansen/);
  assert.equal(await admin.getByRole('button', { name: /accepteren/ }).count(), 0, 'no second acceptance');
  await checked(admin, server.dir, 'beheer-privacy-geaccepteerd');

  // Finn's release, then the filters.
  const releases = admin.locator('#releases');
  assert.match(await releases.innerText(), /Finn/);
  await admin.getByLabel(/^Partij/).selectOption({ label: 'Leesland Demo-uitgeverij' });
  await admin.getByLabel(/^Groep/).selectOption({ label: 'Groep 5 Uilen' });
  await admin.getByRole('button', { name: /Filteren/ }).click();
  await admin.waitForURL(/partij=/);
  assert.match(await releases.innerText(), /Finn/);
  assert.match(await releases.innerText(), /Groep 5 Uilen/);
  await checked(admin, server.dir, 'beheer-privacy-gefilterd');

  // The CSV file with the same filter.
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    admin.getByRole('link', { name: /Deze lijst downloaden/ }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'privacy-99ZZ00.csv');
  const saved = path.join(server.dir, 'privacy.csv');
  await download.saveAs(saved);
  const lines = (await readFile(saved, 'utf8')).trim().split('\r\n');
  assert.equal(lines[0], 'tijdstip;partij;partijcode;persoon;soort;groepen;gegevens;hoe');
  assert.ok(lines.length >= 2, lines.join('\n'));
  assert.ok(lines.slice(1).every((l) => l.includes(';demo-leesland;')), 'only the filtered party');
  assert.ok(lines.some((l) => l.includes('Finn')), lines.join('\n'));

  // Another group: nothing.
  await admin.getByLabel(/^Groep/).selectOption({ label: 'Groep 8 Dassen' });
  await admin.getByRole('button', { name: /Filteren/ }).click();
  await admin.waitForURL(/groep=/);
  assert.equal(await admin.locator('#releases').count(), 0);
  assert.match(await admin.locator('#no-releases').innerText(), /Geen verstrekkingen/);
  await checked(admin, server.dir, 'beheer-privacy-leeg');
  server.passed();
});
