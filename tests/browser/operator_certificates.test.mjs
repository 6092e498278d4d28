// The operator's page for a party's client certificates (the partner API's mutual TLS): Bram,
// operator, pastes a certificate that holds its private key too (refused, and the key is not
// shown back), then the certificate alone; sees its fingerprint, subject and validity in Dutch
// time; and removes it after a confirmation. Every page is checked with axe-core and
// photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { BRAM, browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

/** A self-signed certificate as a publisher makes one, and its key, as PEM. */
function publisherCertificate(cn) {
  const dir = mkdtempSync(path.join(tmpdir(), 'openpoort-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '365', '-subj', `/CN=${cn}/O=Uitgeverij Noord`,
    ], { stdio: 'pipe' });
    return {
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an operator adds a party certificate by pasting it and removes it after confirming, in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  server.cli(['operator', 'grant', BRAM]);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/operator/partijen/demo-uitgeverij`);
  await page.getByRole('link', { name: /^Clientcertificaten voor de partner-API/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij\/certificaten$/);
  assert.match(await page.locator('main').innerText(), /Nog geen certificaten/);
  await checked(page, server.dir, 'operator-certificaten-leeg');

  const { cert, key } = publisherCertificate('Koppeling Noord 2027');
  // With its private key: refused, and the key is not put back in the form.
  await page.getByLabel(/^Het certificaat in PEM-vorm/).fill(cert + key);
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /privésleutel/);
  assert.equal(await page.getByLabel(/^Het certificaat in PEM-vorm/).inputValue(), '');
  await checked(page, server.dir, 'operator-certificaten-sleutel');

  await page.getByLabel(/^Het certificaat in PEM-vorm/).fill(cert);
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij\/certificaten$/);
  const x509 = new X509Certificate(cert);
  const sha256 = createHash('sha256').update(x509.raw).digest('hex');
  const table = await page.locator('table').innerText();
  assert.ok(table.includes(sha256), `${sha256} in ${table}`);
  assert.match(table, /Koppeling Noord 2027/);
  // Dutch time: the validity's end as a clock in the Netherlands shows it.
  const until = new Date(x509.validTo).toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16);
  assert.ok(table.includes(until), `${until} in ${table}`);
  await checked(page, server.dir, 'operator-certificaten');
  // The command line sees what the page registered: one rule, one register.
  assert.match(server.cli(['party', 'certificates', '--party', 'demo-uitgeverij']), new RegExp(sha256));

  // The same certificate again: refused, it is registered already.
  await page.getByLabel(/^Het certificaat in PEM-vorm/).fill(cert);
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /al geregistreerd/);

  await page.getByRole('link', { name: /^Verwijderen/ }).click();
  await page.waitForURL(new RegExp(`/certificaten/${sha256}/verwijderen$`));
  assert.match(await page.getByRole('alert').innerText(), /enige certificaat/);
  await checked(page, server.dir, 'operator-certificaat-verwijderen');
  await page.getByRole('button', { name: /^Ja, certificaat verwijderen/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij\/certificaten$/);
  assert.match(await page.locator('main').innerText(), /Nog geen certificaten/);
  assert.doesNotMatch(server.cli(['party', 'certificates', '--party', 'demo-uitgeverij']), new RegExp(sha256));
  server.passed();
});
