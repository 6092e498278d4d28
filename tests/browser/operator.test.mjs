// The operator's pages in a real browser: Bram, given the operator role on the command line,
// sets an outage notice that the login page shows, adds a board and a school, and creates the
// school's first ICT-coördinator on the board's signed request; she activates her account from
// the mail and administers the new school. Every operator page is checked with axe-core and
// photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BRAM, browserFor, checked, linkFromMail, logInAsBram, openpoortFor } from './harness.mjs';

/** `YYYY-MM-DDTHH:MM` as a clock in the Netherlands shows it, `minutes` from now. */
function dutchClockIn(minutes) {
  const at = new Date(Date.now() + minutes * 60_000);
  return at.toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16).replace(' ', 'T');
}

test('an operator sets a notice, adds a board, a school and its first ICT-coördinator, who activates from the mail, in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  server.cli(['operator', 'grant', BRAM]);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/operator`);
  assert.match(await page.locator('h1').innerText(), /Beheer van openpoort/);
  await checked(page, server.dir, 'operator');

  // Storingsmelding, with an end an hour from now.
  await page.getByRole('link', { name: /^Storingsmelding/ }).click();
  await page.waitForURL(/\/operator\/storingsmelding$/);
  assert.match(await page.getByRole('status').innerText(), /geen storingsmelding/);
  await checked(page, server.dir, 'operator-storingsmelding-leeg');
  await page.getByLabel(/^Tekst in het Nederlands/).fill('Vanavond onderhoud tussen 22 en 23 uur.');
  await page.getByLabel(/^Tekst in het Engels/).fill('Maintenance tonight between 22 and 23.');
  const until = dutchClockIn(60);
  await page.getByLabel(/^Zichtbaar tot/).fill(until);
  await page.getByRole('button', { name: /^Instellen/ }).click();
  await page.waitForURL(/\/operator\/storingsmelding$/);
  const status = await page.getByRole('status').innerText();
  assert.match(status, /Vanavond onderhoud/);
  assert.ok(status.includes(until.replace('T', ' ')), status);
  await checked(page, server.dir, 'operator-storingsmelding');

  // Every node reads the notice within a few seconds; a visitor's login page shows it.
  const visitor = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })).newPage();
  let shown = '';
  for (let i = 0; i < 30 && !shown.includes('Vanavond onderhoud'); i++) {
    await visitor.goto(`${server.baseUrl}/inloggen`);
    shown = await visitor.locator('main').innerText();
    if (!shown.includes('Vanavond onderhoud')) await visitor.waitForTimeout(250);
  }
  assert.match(shown, /Vanavond onderhoud/);
  assert.match(shown, /Maintenance tonight/);
  await checked(visitor, server.dir, 'inloggen-storingsmelding');

  // Besturen: a bad number first (the form keeps what was typed), then the board.
  await page.getByRole('link', { name: /^Besturen/ }).click();
  await page.waitForURL(/\/operator\/besturen$/);
  await page.getByLabel(/^Bestuursnummer/).fill('12');
  await page.getByLabel(/^Naam Name$/).fill('Stichting Noord');
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  assert.match(await page.getByRole('alert').last().innerText(), /bestuursnummer/i);
  assert.equal(await page.getByLabel(/^Naam Name$/).inputValue(), 'Stichting Noord');
  await checked(page, server.dir, 'operator-besturen-fout');
  await page.getByLabel(/^Bestuursnummer/).fill('41234');
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  await page.waitForURL(/\/operator\/besturen$/);
  assert.match(await page.locator('table').innerText(), /41234/);
  await checked(page, server.dir, 'operator-besturen');

  // Scholen: a location under the new board, then its page.
  await page.getByRole('link', { name: /^Scholen/ }).click();
  await page.waitForURL(/\/operator\/scholen$/);
  await checked(page, server.dir, 'operator-scholen');
  await page.getByLabel(/^Bestuur/).selectOption({ label: 'Stichting Noord (41234)' });
  await page.getByLabel(/^BRIN/).fill('12AB');
  await page.getByLabel(/^Vestigingscode/).fill('00');
  await page.getByLabel(/^Naam Name$/).fill('De Linde');
  await page.getByRole('button', { name: /^Toevoegen/ }).click();
  await page.waitForURL(/\/operator\/scholen\/12AB00$/);
  assert.match(await page.locator('h1').innerText(), /De Linde/);
  await checked(page, server.dir, 'operator-school');

  // The first ICT-coördinator, on the board's signed request.
  await page.getByLabel(/^Roepnaam/).fill('Ilse');
  await page.getByLabel(/^Achternaam/).fill('Bakker');
  await page.getByLabel(/^E-mailadres/).fill('ilse.bakker@linde.example');
  await page.getByLabel(/^Aangevraagd door/).fill('J. de Bestuurder');
  await page.getByLabel(/^Kenmerk/).fill('BRF-2026-17');
  await page.getByRole('button', { name: /^Toevoegen en activeringslink mailen/ }).click();
  await page.waitForURL(/\/operator\/scholen\/12AB00\?melding=gemaild$/);
  assert.match(await page.getByRole('status').last().innerText(), /activeringslink gemaild/);
  const record = await page.locator('table').innerText();
  for (const shownText of ['Ilse Bakker', 'ilse.bakker@linde.example', 'J. de Bestuurder', 'BRF-2026-17']) {
    assert.ok(record.includes(shownText), `${shownText} in ${record}`);
  }
  await checked(page, server.dir, 'operator-school-eerste-ict');

  // Partijen: the list, and the demo publisher's page with its product, OIDC client and SAML SP.
  await page.getByRole('link', { name: /^Uitgeverijen en netwerkaanbieders/ }).click();
  await page.waitForURL(/\/operator\/partijen$/);
  await checked(page, server.dir, 'operator-partijen');
  await page.getByRole('link', { name: 'demo-leesland' }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-leesland$/);
  assert.match(await page.locator('main').innerText(), /demo-leesland-web/);
  await checked(page, server.dir, 'operator-partij');
  await page.getByRole('link', { name: 'leesland', exact: true }).click();
  await page.waitForURL(/\/producten\/leesland$/);
  await checked(page, server.dir, 'operator-product');

  // Ilse opens the link from the mail in her own browser and administers De Linde.
  const mail = server.outbox().find((m) => m.text.includes('ilse.bakker@linde.example'));
  assert.ok(mail, 'no activation mail for Ilse in the outbox');
  const link = linkFromMail(mail.text, '/activeren');
  assert.ok(link && link.startsWith(server.baseUrl), `unexpected link ${link}`);
  const ilse = await (await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } })).newPage();
  await ilse.goto(link);
  await ilse.getByLabel('Nieuw wachtwoord').fill('Kastanje-Veerpont-91');
  await ilse.getByLabel('Herhaal wachtwoord').fill('Kastanje-Veerpont-91');
  await ilse.keyboard.press('Enter');
  await ilse.waitForURL(/\/inloggen\?melding=wachtwoord-ingesteld$/);
  await ilse.getByLabel(/^E-mailadres/).fill('ilse.bakker@linde.example');
  await ilse.getByLabel(/^Wachtwoord/).fill('Kastanje-Veerpont-91');
  await ilse.keyboard.press('Enter');
  await ilse.waitForURL(`${server.baseUrl}/`);
  await ilse.goto(`${server.baseUrl}/beheer/ip-adressen`);
  assert.match(await ilse.locator('nav.beheer').innerText(), /De Linde \(12AB00\)/);
  // She is no operator: the operator pages refuse her.
  const refused = await ilse.goto(`${server.baseUrl}/operator`);
  assert.equal(refused.status(), 403);
  server.passed();
});

test('an operator registers an OIDC client and a SAML service provider for a party, in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  server.cli(['operator', 'grant', BRAM]);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/operator/partijen/demo-uitgeverij`);
  await page.getByRole('link', { name: /^OpenID Connect-client registreren/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij\/oidc-clients$/);
  await checked(page, server.dir, 'operator-client-nieuw');

  // A redirect URI over plain http to another host: the rule at its field, the form as typed.
  await page.getByLabel(/^client_id/).fill('rekenrijk-web');
  await page.getByLabel(/^Naam \(zien gebruikers\)/).fill('Rekenrijk web');
  await page.getByLabel(/^Redirect-URI's/).fill('http://rekenrijk.example/cb');
  await page.getByRole('button', { name: /^Registreren/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /redirect_uris\[0\].*https/s);
  assert.equal(await page.getByLabel(/^Naam \(zien gebruikers\)/).inputValue(), 'Rekenrijk web');
  assert.equal(await page.getByLabel(/^Redirect-URI's/).getAttribute('aria-invalid'), 'true');
  await checked(page, server.dir, 'operator-client-fout');

  // Registered: the secret once, with the warning to copy it now.
  await page.getByLabel(/^Redirect-URI's/).fill('https://rekenrijk.example/cb');
  await page.getByRole('button', { name: /^Registreren/ }).click();
  await page.getByLabel(/^client_secret van rekenrijk-web/).waitFor();
  assert.match(await page.getByRole('alert').innerText(), /Kopieer dit geheim nu/);
  const secret = await page.getByLabel(/^client_secret van rekenrijk-web/).inputValue();
  assert.ok(secret.length >= 32, secret);
  await checked(page, server.dir, 'operator-client-geheim');

  // The client's page: the registration to change, never the secret.
  await page.getByRole('link', { name: /^Naar de client/ }).click();
  await page.waitForURL(/\/operator\/oidc-clients\/rekenrijk-web$/);
  assert.ok(!(await page.content()).includes(secret), 'the client page shows no secret');
  await checked(page, server.dir, 'operator-client');
  await page.getByRole('link', { name: /^Client rekenrijk-web verwijderen/ }).click();
  await page.waitForURL(/\/verwijderen$/);
  await checked(page, server.dir, 'operator-client-verwijderen');
  await page.getByRole('button', { name: /^Ja, client verwijderen/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij$/);
  assert.ok(!(await page.locator('main').innerText()).includes('rekenrijk-web'));

  // A SAML service provider from pasted metadata, with openpoort's own certificate as its key.
  const idp = await (await fetch(`${server.baseUrl}/saml/metadata`)).text();
  const certificate = idp.match(/<(?:ds:)?X509Certificate>([^<]+)</)[1];
  const metadata = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://sp.rekenrijk.example/saml">' +
    '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>' +
    `<ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    '<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="http://127.0.0.1:9/acs" index="0"/>' +
    '</md:SPSSODescriptor></md:EntityDescriptor>';
  await page.getByRole('link', { name: /^SAML-dienst registreren/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij\/saml-sps$/);
  await checked(page, server.dir, 'operator-sp-nieuw');
  // Both the metadata and a URL: refused, the form as typed.
  await page.getByLabel(/^Adres van de metadata/).fill('https://sp.rekenrijk.example/metadata');
  await page.getByLabel(/^Of de metadata zelf/).fill(metadata);
  await page.getByRole('button', { name: /^Registreren/ }).click();
  assert.match(await page.getByRole('alert').innerText(), /precies één/);
  await checked(page, server.dir, 'operator-sp-fout');
  await page.getByLabel(/^Adres van de metadata/).fill('');
  await page.getByRole('button', { name: /^Registreren/ }).click();
  await page.waitForURL(/\/operator\/saml-sps\/https%3A%2F%2Fsp\.rekenrijk\.example%2Fsaml$/);
  const read = await page.locator('main').innerText();
  for (const shownText of ['https://sp.rekenrijk.example/saml', 'http://127.0.0.1:9/acs', 'CN=']) {
    assert.ok(read.includes(shownText), `${shownText} in ${read}`);
  }
  await checked(page, server.dir, 'operator-sp');
  await page.getByRole('link', { name: /^Deze SAML-dienst verwijderen/ }).click();
  await page.waitForURL(/\/verwijderen$/);
  await checked(page, server.dir, 'operator-sp-verwijderen');
  await page.getByRole('button', { name: /^Ja, SAML-dienst verwijderen/ }).click();
  await page.waitForURL(/\/operator\/partijen\/demo-uitgeverij$/);
  assert.ok(!(await page.locator('main').innerText()).includes('sp.rekenrijk.example'));
  server.passed();
});
