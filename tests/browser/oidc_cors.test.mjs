// A relying party in the browser: a single-page app on another origin that signs Bram in with
// the code flow and PKCE, redeems the code at the token endpoint with fetch() and calls
// userinfo with the access token, all cross-origin. openpoort must let that app's own origin (the
// origin of its registered redirect URI) read the answers, and no other origin.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { test } from 'node:test';

import { browserFor, consentToLeesland, logInAsBram, openpoortBinary, openpoortFor } from './harness.mjs';

const CLIENT_ID = 'spa-rekenrijk';

// The app's pages. The start page makes the PKCE pair and goes to the authorization endpoint;
// the callback (GET for the query mode, POST for form_post) redeems the code and asks userinfo,
// and writes what happened into #uitkomst for the test to read.
const START = (issuer, redirectUri, mode) => `<!doctype html><meta charset="utf-8"><title>SPA</title>
<script type="module">
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const discovery = await (await fetch(${JSON.stringify(issuer)} + '/.well-known/openid-configuration')).json();
const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
sessionStorage.setItem('verifier', verifier);
sessionStorage.setItem('discovery', JSON.stringify(discovery));
const params = new URLSearchParams({
  response_type: 'code', client_id: ${JSON.stringify(CLIENT_ID)}, redirect_uri: ${JSON.stringify(redirectUri)},
  scope: 'openid', state: 'st4te', nonce: 'n0nce', code_challenge: challenge, code_challenge_method: 'S256',
  ${mode ? `response_mode: ${JSON.stringify(mode)},` : ''}
});
location.assign(discovery.authorization_endpoint + '?' + params);
</script>`;

const CALLBACK = (answer) => `<!doctype html><meta charset="utf-8"><title>SPA terug</title>
<pre id="uitkomst"></pre>
<script type="module">
const answer = ${answer ? JSON.stringify(answer) : 'Object.fromEntries(new URLSearchParams(location.search))'};
const discovery = JSON.parse(sessionStorage.getItem('discovery'));
const out = { answer };
try {
  const token = await fetch(discovery.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: answer.code, redirect_uri: location.origin + '/cb',
      client_id: ${JSON.stringify(CLIENT_ID)}, code_verifier: sessionStorage.getItem('verifier'),
    }),
  });
  out.token = await token.json();
  const info = await fetch(discovery.userinfo_endpoint, {
    headers: { authorization: 'Bearer ' + out.token.access_token },
  });
  out.userinfo = await info.json();
} catch (e) {
  out.failed = String(e);
}
document.getElementById('uitkomst').textContent = JSON.stringify(out);
</script>`;

// A page of some other site that tries the token endpoint with the app's client_id.
const FOREIGN = (tokenEndpoint) => `<!doctype html><meta charset="utf-8"><title>Ander</title>
<pre id="uitkomst"></pre>
<script type="module">
let out;
try {
  const r = await fetch(${JSON.stringify(tokenEndpoint)}, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'geraden', client_id: ${JSON.stringify(CLIENT_ID)} }),
  });
  out = { read: await r.text() };
} catch (e) {
  out = { failed: String(e) };
}
document.getElementById('uitkomst').textContent = JSON.stringify(out);
</script>`;

async function appServer(t, issuer) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://app');
    const origin = `http://${req.headers.host}`;
    const html = (body) => { res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }); res.end(body); };
    if (url.pathname === '/') return html(START(issuer, `${origin}/cb`, null));
    if (url.pathname === '/form-post') return html(START(issuer, `${origin}/cb`, 'form_post'));
    if (url.pathname === '/ander') return html(FOREIGN(`${issuer}/oidc/token`));
    if (url.pathname === '/cb' && req.method === 'GET') return html(CALLBACK(null));
    if (url.pathname === '/cb' && req.method === 'POST') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => html(CALLBACK(Object.fromEntries(new URLSearchParams(body)))));
      return undefined;
    }
    res.writeHead(404);
    res.end();
    return undefined;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return server.address().port;
}

async function outcome(page) {
  await page.locator('#uitkomst').filter({ hasText: /\S/ }).waitFor();
  return JSON.parse(await page.locator('#uitkomst').innerText());
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

test('a public client on another origin signs in with PKCE and reads the token and userinfo answers', async (t) => {
  const server = await openpoortFor(t);
  const port = await appServer(t, server.baseUrl);
  // The app lives at 127.0.0.1, openpoort at localhost: two origins.
  const app = `http://127.0.0.1:${port}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPENPOORT_')));
  execFileSync(openpoortBinary(), ['client', 'add', '--party', 'demo-leesland', '--client-id', CLIENT_ID,
    '--name', 'Rekenrijk SPA', '--redirect-uri', `${app}/cb`, '--grant', 'authorization_code',
    '--scope', 'openid', '--auth', 'none'], { cwd: server.dir, env, encoding: 'utf8' });
  // The server's register cache takes up changes within a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const browser = await browserFor(t);
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const blocked = [];
  page.on('console', (m) => { if (/Content Security Policy|CORS/i.test(m.text())) blocked.push(m.text()); });
  await logInAsBram(page, server.baseUrl);
  await consentToLeesland(page, server.baseUrl);

  for (const start of ['/', '/form-post']) {
    await page.goto(app + start);
    await page.waitForURL(`${app}/cb**`);
    const out = await outcome(page);
    assert.equal(out.failed, undefined, `${start}: ${JSON.stringify(out)} ${blocked.join('\n')}`);
    assert.equal(out.answer.state, 'st4te', start);
    assert.equal(out.answer.iss, server.baseUrl, start);
    const id = claims(out.token.id_token);
    assert.equal(id.aud, CLIENT_ID, start);
    assert.equal(id.nonce, 'n0nce', start);
    assert.equal(out.userinfo.sub, id.sub, start);
  }
  assert.deepEqual(blocked, []);

  // Another origin (the same app's port under another host name) reads nothing.
  await page.goto(`http://localhost:${port}/ander`);
  const foreign = await outcome(page);
  assert.match(foreign.failed ?? '', /TypeError|Failed to fetch/, JSON.stringify(foreign));
  // The registered origin reads even a refusal, so that the app can tell what went wrong.
  await page.goto(`${app}/ander`);
  const own = await outcome(page);
  assert.match(own.read ?? '', /invalid_grant/, JSON.stringify(own));
  server.passed();
});
