// Shared set-up for the browser tests: the real openpoort binary in a throw-away working
// directory, and Debian's Chromium driven by playwright-core.
//
// Build the binary first (`cargo build -p idp --bin openpoort`) and install the browser and
// packages with scripts/setup; then run `node --test tests/browser/` from the repository root.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Debian's package; a test tool's own browser download cannot reach its servers here. */
export const CHROMIUM = '/usr/bin/chromium';

// The background-networking flags matter: without them Chromium keeps dialling Google's services,
// which this machine's closed network refuses, many connections at a time.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
// Enough to show why a start failed without holding a chatty log in memory for a whole run.
const STDERR_KEEP_CHARS = 64 * 1024;
const LISTENING = /^openpoort listening on (http:\/\/\S+)$/m;

// Servers still running when the test process goes away (a crash, an uncaught error) would hold
// their ports and temp dirs; 'exit' allows only synchronous work, so a kill is all it does.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The binary cargo builds, honouring CARGO_TARGET_DIR as cargo itself does. */
export function openpoortBinary() {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(process.env.CARGO_TARGET_DIR)
    : path.resolve(HERE, '..', '..', 'target');
  return path.join(target, 'debug', 'openpoort');
}

/** A port that was free a moment ago; the server binds it right after, so a clash is unlikely. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts openpoort (by default `openpoort demo`) in development mode on a free port, in a fresh
 * temporary working directory (so its data, keys and outbox live in `<dir>/data`).
 *
 * The environment is the caller's without any OPENPOORT_ variable (a developer's own settings
 * must not leak into a test), plus the test settings, plus `env`.
 *
 * Resolves once openpoort prints its listening line; rejects if it exits first or takes longer
 * than 60 s.
 */
export async function startOpenpoort({ args = ['demo'], env = {} } = {}) {
  const binary = openpoortBinary();
  if (!existsSync(binary)) {
    throw new Error(`${binary} does not exist: build it first with cargo build -p idp --bin openpoort`);
  }
  const port = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'openpoort-browser-'));
  const childEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('OPENPOORT_')),
  );
  Object.assign(childEnv, {
    OPENPOORT_SERVER_MODE: 'development',
    OPENPOORT_SERVER_LISTEN: `127.0.0.1:${port}`,
    OPENPOORT_SERVER_PUBLIC_URL: `http://localhost:${port}`,
    OPENPOORT_LOG_LEVEL: 'warn',
    ...env,
  });

  const child = spawn(binary, args, { cwd: dir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  // Both pipes are always drained: a full pipe would block the server mid-request.
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP_CHARS);
  });
  // Settles when the process is gone, or was never there: a failed spawn may not emit 'exit'.
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => {
      if (child.pid === undefined) resolve({ error });
    });
  }).then((outcome) => {
    running.delete(child);
    return outcome;
  });

  const describe = () =>
    `openpoort ${args.join(' ')}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no listening line within ${START_TIMEOUT_MS / 1000} s from ${describe()}`)),
        START_TIMEOUT_MS,
      );
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (LISTENING.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
      exited.then(({ code, signal, error }) => {
        clearTimeout(timer);
        reject(
          error
            ? new Error(`cannot start ${binary}: ${error.message}`)
            : new Error(`exited (${signal ?? `code ${code}`}) before listening: ${describe()}`),
        );
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    // The output in the error is what explains a failed start; the directory holds nothing more.
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // openpoort waits for running requests up to its grace period; a test should not hang on it.
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  return {
    baseUrl: `http://localhost:${port}`,
    dir,
    /** Everything openpoort printed on stdout so far. */
    stdout: () => stdout,
    /** The mails in `<dir>/data/outbox`, oldest first (the names start with unix milliseconds). */
    outbox: () => {
      const outbox = path.join(dir, 'data', 'outbox');
      if (!existsSync(outbox)) return [];
      return readdirSync(outbox)
        .filter((name) => name.endsWith('.eml'))
        .sort()
        .map((name) => {
          const file = path.join(outbox, name);
          return { file, text: readFileSync(file, 'utf8') };
        });
    },
    stop,
    /** Runs an operator command next to the server, in its directory and mode; returns stdout. */
    cli: (cliArgs) =>
      execFileSync(binary, cliArgs, {
        cwd: dir,
        env: { ...childEnv, OPENPOORT_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
      }),
    /** Stops openpoort and removes its working directory. */
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Headless Debian Chromium with a fresh profile (playwright makes a new user-data dir). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run scripts/setup, which installs Debian's chromium`);
  }
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (error) {
    throw new Error(
      `playwright-core is not installed (${error.message}): run scripts/setup, which runs npm ci --prefix tests/browser`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The first http(s) URL in a raw mail (.eml text) whose path starts with `pathPrefix`, such as
 * '/activeren', or null. A quoted-printable or base64 body is decoded first, so a link that was
 * folded over lines or had its '=' written as '=3D' comes out whole; an 8bit or 7bit body is read
 * as it is, because there '=3D' means exactly that.
 */
export function linkFromMail(text, pathPrefix) {
  const normalised = text.replace(/\r\n/g, '\n');
  const split = normalised.indexOf('\n\n');
  const head = split === -1 ? normalised : normalised.slice(0, split);
  let body = split === -1 ? '' : normalised.slice(split + 2);
  const encoding = /^content-transfer-encoding:[ \t]*([^\s;]+)/im.exec(head.replace(/\n[ \t]+/g, ' '));
  switch (encoding?.[1].toLowerCase()) {
    case 'quoted-printable':
      body = decodeQuotedPrintable(body);
      break;
    case 'base64':
      body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      break;
    default:
      break;
  }
  for (const [candidate] of body.matchAll(/https?:\/\/[^\s<>"'()]+/g)) {
    // A URL at the end of a sentence carries the full stop; it is never part of ours.
    const trimmed = candidate.replace(/[.,;:!?]+$/, '');
    let url;
    try {
      url = new URL(trimmed);
    } catch {
      continue;
    }
    if (url.pathname.startsWith(pathPrefix)) return trimmed;
  }
  return null;
}

function decodeQuotedPrintable(body) {
  const joined = body.replace(/=\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/**
 * axe-core's violations on the page as it is now, as readable lines. The page's context must be made with
 * `bypassCSP: true`: injecting axe-core is a script the page's own policy rightly forbids.
 */
export async function violations(page) {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => (await window.axe.run()).violations);
  return found.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Whether the page scrolls sideways at its present width, and the first elements that stick out. */
async function sideways(page) {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth) return null;
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`)
      .join(', ');
  });
}

/**
 * axe-core finds nothing on the page, and at a phone's width it does not scroll sideways (WCAG
 * 1.4.10, which axe-core does not check). Screenshots at desktop and phone width go to
 * OPENPOORT_SCREENSHOTS when set (to keep them), else with the server's files.
 */
export async function checked(page, serverDir, name) {
  const dir = process.env.OPENPOORT_SCREENSHOTS ?? serverDir;
  assert.deepEqual(await violations(page), [], `axe-core on ${name}`);
  for (const [width, height, label] of [[1280, 900, 'desktop'], [390, 844, 'telefoon']]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: path.join(dir, `${name}-${label}.png`), fullPage: true });
  }
  const wide = await sideways(page);
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.equal(wide, null, `${name} scrolls sideways at a phone's width: ${wide}`);
}

// The project's complete EDEXML file as a file of 99ZZ00, with the demo's teachers in it (a
// file that leaves staff out deactivates them, Bram too).
export function edexmlFor99ZZ00() {
  const file = readFileSync(new URL('../../directory/tests/edexml/complete-2.1.xml', import.meta.url), 'utf8');
  return file
    .replace('<dependancecode>01</dependancecode>', '<dependancecode>00</dependancecode>')
    .replace('</leerkrachten>',
      '<leerkracht key="T01"><achternaam>Vries</achternaam><voorvoegsel>de</voorvoegsel>' +
      '<voornamen>Anna</voornamen><roepnaam>Anna</roepnaam>' +
      '<emailadres>anna.devries@demo.openpoort.nl</emailadres></leerkracht>' +
      '<leerkracht key="T02"><achternaam>Jansen</achternaam><voornamen>Bram</voornamen>' +
      '<roepnaam>Bram</roepnaam><emailadres>bram.jansen@demo.openpoort.nl</emailadres>' +
      '</leerkracht></leerkrachten>');
}

/**
 * `startOpenpoort` for test `t`: stopped when the test ends, its directory removed once the test
 * called `server.passed()` and kept (and named) otherwise, to look into what went wrong.
 */
export async function openpoortFor(t, options = {}) {
  const server = await startOpenpoort(options);
  let passed = false;
  t.after(async () => {
    if (passed) {
      await server.cleanup();
    } else {
      await server.stop();
      t.diagnostic(`kept ${server.dir}`);
    }
  });
  return { ...server, passed: () => { passed = true; } };
}

/** `launchBrowser`, closed when test `t` ends. */
export async function browserFor(t) {
  const browser = await launchBrowser();
  t.after(() => browser.close());
  return browser;
}

/** The demo's ICT-coördinator and his password. */
export const BRAM = 'bram.jansen@demo.openpoort.nl';
export const BRAM_PASSWORD = 'Fiets-Molen-Tulp-42';

/** Logs Bram in on `page` and chooses 99ZZ00 of his two schools; ends on the portal. */
export async function logInAsBram(page, baseUrl) {
  await page.goto(`${baseUrl}/inloggen`);
  await page.getByLabel(/^E-mailadres/).fill(BRAM);
  await page.getByLabel(/^Wachtwoord/).fill(BRAM_PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/school-kiezen/);
  await page.getByLabel(/99ZZ00/).check();
  await page.getByRole('button', { name: 'Kiezen' }).click();
  await page.waitForURL(`${baseUrl}/`);
}

/** The demo's pupil shortcut (`/login/leerlingen/snelkoppelaar?INSTELLING_REF=…`) from its welcome. */
export function pupilShortcut(stdout) {
  const match = stdout.match(/\/login\/leerlingen\/snelkoppelaar\?INSTELLING_REF=[0-9a-f-]{36}/);
  assert.ok(match, `no shortcut printed by the demo:\n${stdout}`);
  return match[0];
}

/** Finn (groep 5, picture "boom") signs in at school on `page`, on loopback; ends on the portal. */
export async function logInAsFinn(page, server) {
  await page.goto(server.baseUrl + pupilShortcut(server.stdout()));
  await page.getByRole('link', { name: 'Groep 5 Uilen' }).click();
  await page.getByRole('button', { name: 'Finn S.' }).click();
  await page.getByRole('button', { name: 'boom' }).click();
  await page.waitForURL(`${server.baseUrl}/`);
}

/**
 * The demo publisher's product Leesland as openpoort knows it: an OIDC client and a SAML SP
 * that `openpoort demo` registers at every start under its public URL (the demo school holds a
 * licence, but gave no consent yet).
 */
export function leesland(baseUrl) {
  return {
    party: 'demo-leesland',
    clientId: 'demo-leesland-web',
    name: 'Leesland (demo)',
    redirectUri: `${baseUrl}/demo-product/oidc/callback`,
    entityId: `${baseUrl}/demo-product/saml`,
    acs: `${baseUrl}/demo-product/saml/acs`,
  };
}

/** The ICT-coördinator signed in on `page` consents to Leesland in Beheer › Uitgeverijen. */
export async function consentToLeesland(page, baseUrl) {
  await page.goto(`${baseUrl}/beheer/uitgeverijen`);
  await page.getByLabel(/Toestemming voor Leesland Demo-uitgeverij/).check();
  await page.getByRole('button', { name: /Opslaan/ }).click();
  await page.waitForURL(/\/beheer\/uitgeverijen$/);
}

/** A fresh SAML message ID (an NCName) and the time now as SAML writes it. */
function samlIdAndInstant() {
  return {
    id: `_${randomUUID().replace(/-/g, '')}`,
    instant: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** An unsigned AuthnRequest from `issuer` to openpoort at `baseUrl`, answered at `acs`. */
export function authnRequest(baseUrl, { issuer, acs }) {
  const { id, instant } = samlIdAndInstant();
  return `<samlp:AuthnRequest xmlns:samlp="${SAMLP}" xmlns:saml="${SAML}" ID="${id}" Version="2.0" ` +
    `IssueInstant="${instant}" Destination="${baseUrl}/saml/sso" AssertionConsumerServiceURL="${acs}" ` +
    `ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>${issuer}</saml:Issuer>` +
    '</samlp:AuthnRequest>';
}

/** An unsigned LogoutRequest from `issuer` to openpoort at `baseUrl`, for any session of the browser. */
export function logoutRequest(baseUrl, { issuer }) {
  const { id, instant } = samlIdAndInstant();
  return `<samlp:LogoutRequest xmlns:samlp="${SAMLP}" xmlns:saml="${SAML}" ID="${id}" Version="2.0" ` +
    `IssueInstant="${instant}" Destination="${baseUrl}/saml/slo"><saml:Issuer>${issuer}</saml:Issuer>` +
    '<saml:NameID>x</saml:NameID></samlp:LogoutRequest>';
}

/** `endpoint` with `xml` as a SAMLRequest of the HTTP-Redirect binding (raw DEFLATE, base64). */
export function samlRedirect(endpoint, xml) {
  const encoded = deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64');
  return `${endpoint}?SAMLRequest=${encodeURIComponent(encoded)}`;
}
