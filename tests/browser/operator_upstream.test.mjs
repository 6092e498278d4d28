// The operator's page for a network provider's connection (brokered login): Bram, operator,
// opens it from the provider's party page and finds what to give the provider (openpoort's SP
// metadata URL, ACS and OIDC redirect URI); connects it over SAML from pasted metadata (first
// with a rule the registry refuses: shown in the form, nothing stored), then over OpenID Connect
// with a secret that is never shown back; and removes it after a confirmation. Every page is
// checked with axe-core and photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { BRAM, browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

const IDP = 'https://moo.example/idp';

/** The provider's IdP metadata, naming a fresh signing certificate. */
function providerMetadata() {
  const dir = mkdtempSync(path.join(tmpdir(), 'openpoort-idp-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '30', '-subj', '/CN=moo test idp',
    ], { stdio: 'pipe' });
    const der = readFileSync(path.join(dir, 'cert.pem'), 'utf8')
      .replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP}">` +
      '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
      '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">' +
      `<ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP}/sso"/>` +
      '</md:IDPSSODescriptor></md:EntityDescriptor>';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('an operator connects a network provider over SAML and OpenID Connect and removes the connection, in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  server.cli(['operator', 'grant', BRAM]);
  server.cli(['party', 'add', '--code', 'moo', '--kind', 'network_provider', '--name', 'MOO Netwerk']);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/operator/partijen/moo`);
  await page.getByRole('link', { name: /^Koppeling \(inloggen via de netwerkaanbieder\)/ }).click();
  await page.waitForURL(/\/operator\/partijen\/moo\/koppeling$/);
  const empty = await page.locator('main').innerText();
  assert.match(empty, /Nog niet gekoppeld/);
  for (const given of ['/saml/sp/metadata', '/saml/acs', '/login/netwerk/terug']) {
    assert.ok(empty.includes(`${server.baseUrl}${given}`), `${given} in ${empty}`);
  }
  await checked(page, server.dir, 'operator-netwerkkoppeling-leeg');

  // Matching on the LAS key without the attribute naming the school: refused in the form, the
  // pasted metadata kept, nothing stored.
  const metadata = providerMetadata();
  await page.locator('#saml-metadata-xml').fill(metadata);
  await page.locator('#saml-match-by').selectOption('las_key');
  await page.locator('#saml-identifier').fill('lasKey');
  await page.getByRole('button', { name: /^Koppelen over SAML/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /LAS-sleutel/);
  assert.equal(await page.locator('#saml-metadata-xml').inputValue(), metadata);
  assert.match(await page.locator('main').innerText(), /Nog niet gekoppeld/);
  assert.match(server.cli(['party', 'upstream-show', '--party', 'moo']), /niet gekoppeld/);
  await checked(page, server.dir, 'operator-netwerkkoppeling-fout');

  await page.locator('#saml-school').fill('brinVestiging');
  await page.getByRole('button', { name: /^Koppelen over SAML/ }).click();
  await page.waitForURL(/\/operator\/partijen\/moo\/koppeling$/);
  const saml = await page.locator('dl').first().innerText();
  assert.ok(saml.includes(IDP), saml);
  assert.match(saml, /las_key, identifier lasKey, school brinVestiging/);
  await checked(page, server.dir, 'operator-netwerkkoppeling-saml');
  // The command line sees what the page connected: one rule, one register.
  assert.match(server.cli(['party', 'upstream-show', '--party', 'moo']), new RegExp(`entityID: ${IDP}`));

  // OpenID Connect with a secret method but no secret: refused; then with one, which is
  // stored but never put back in the page.
  await page.locator('#oidc-issuer').fill('https://moo.example');
  await page.locator('#oidc-client-id').fill('openpoort');
  await page.locator('#oidc-auth').selectOption('client_secret_basic');
  await page.locator('#oidc-match-by').selectOption('eck_id');
  await page.getByRole('button', { name: /^Koppelen over OpenID Connect/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /client secret/);
  assert.ok((await page.locator('dl').first().innerText()).includes(IDP), 'the SAML connection stays');
  await page.locator('#oidc-secret').fill('heel-geheim-42');
  await page.getByRole('button', { name: /^Koppelen over OpenID Connect/ }).click();
  await page.waitForURL(/\/operator\/partijen\/moo\/koppeling$/);
  const oidc = await page.locator('dl').first().innerText();
  assert.match(oidc, /OpenID Connect/);
  assert.match(oidc, /opgeslagen/);
  assert.equal(await page.locator('#oidc-secret').inputValue(), '');
  assert.ok(!(await page.content()).includes('heel-geheim-42'), 'the secret is not in the page');
  await checked(page, server.dir, 'operator-netwerkkoppeling-oidc');
  assert.match(server.cli(['party', 'upstream-show', '--party', 'moo']), /client secret opgeslagen \/ stored: ja/);

  await page.getByRole('link', { name: /^Koppeling verwijderen/ }).click();
  await page.waitForURL(/\/koppeling\/verwijderen$/);
  assert.match(await page.getByRole('alert').innerText(), /niet meer via https:\/\/moo\.example/);
  await checked(page, server.dir, 'operator-netwerkkoppeling-verwijderen');
  await page.getByRole('button', { name: /^Ja, koppeling verwijderen/ }).click();
  await page.waitForURL(/\/operator\/partijen\/moo\/koppeling$/);
  assert.match(await page.locator('main').innerText(), /Nog niet gekoppeld/);
  assert.match(server.cli(['party', 'upstream-show', '--party', 'moo']), /niet gekoppeld/);
  server.passed();
});
