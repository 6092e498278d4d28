// A publisher asks a school for permission over the partner API (mutual TLS, as its software
// does), and the school's ICT-coördinator sees the request on Beheer's Uitgeverijen tab, ticks
// the publisher and so consents. The page with the request is checked with axe-core and
// photographed at desktop and phone width.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

/** A self-signed P-256 certificate and its key, as PEM files in `dir`. */
function selfSigned(dir, name, subject, extra = []) {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '30', '-subj', subject, ...extra,
  ], { stdio: 'pipe' });
  return { key, cert };
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One call of the partner API as the publisher's software makes it; status and JSON. */
function call(port, tls, method, pathAndQuery) {
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: '127.0.0.1', port, method, path: pathAndQuery, servername: 'localhost',
      ca: tls.ca, cert: tls.cert, key: tls.key,
    }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

test('a publisher asks for permission and the ICT-coördinator consents on the Uitgeverijen tab, in Chromium', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'openpoort-partner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const listener = selfSigned(dir, 'listener', '/CN=localhost', ['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
  const client = selfSigned(dir, 'client', '/CN=Demo Uitgeverij koppeling/O=Demo Uitgeverij');
  const port = await freePort();
  const server = await openpoortFor(t, {
    env: {
      OPENPOORT_PARTNER_LISTEN: `127.0.0.1:${port}`,
      OPENPOORT_PARTNER_CERTIFICATE: listener.cert,
      OPENPOORT_PARTNER_PRIVATE_KEY: listener.key,
    },
  });
  server.cli(['consent', 'revoke', '--school', '99ZZ00', '--party', 'demo-uitgeverij']);
  server.cli(['party', 'certificate-add', '--party', 'demo-uitgeverij', '--file', client.cert]);
  const tls = {
    ca: readFileSync(listener.cert), cert: readFileSync(client.cert), key: readFileSync(client.key),
  };

  // The partner listener may come up just after the main one.
  let found;
  for (let i = 0; i < 40 && !found; i++) {
    try {
      found = await call(port, tls, 'GET', '/rest/v2/nawsearch?brincode=99ZZ00');
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  assert.equal(found?.status, 200, found?.body);
  const [school] = JSON.parse(found.body);
  assert.equal(school.brincode, '99ZZ00');
  const permission = `/rest/v2/instellingen/${school.id}/uitgever/synchronizationpermission`;
  const asked = await call(port, tls, 'GET', `${permission}?request-permission=true`);
  assert.equal(asked.status, 200, asked.body);
  assert.deepEqual(JSON.parse(asked.body), { hasSynchronizationPermission: false });

  const browser = await browserFor(t);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);
  await page.goto(`${server.baseUrl}/beheer/uitgeverijen`);
  const request = page.getByRole('status').filter({ hasText: 'vraagt toestemming' });
  assert.match(await request.innerText(), /Demo Uitgeverij vraagt toestemming/);
  assert.match(await request.innerText(), /Demo Uitgeverij asks for permission/);
  await checked(page, server.dir, 'beheer-uitgeverijen-verzoek');

  await page.getByLabel(/Toestemming voor Demo Uitgeverij/).check();
  await page.getByRole('button', { name: /Opslaan/ }).click();
  await page.waitForURL(/\/beheer\/uitgeverijen$/);
  assert.equal(await page.getByText('vraagt toestemming').count(), 0);
  const now = await call(port, tls, 'GET', permission);
  assert.deepEqual(JSON.parse(now.body), { hasSynchronizationPermission: true });
  server.passed();
});
