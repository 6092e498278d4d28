// Beheer › Lesmateriaal in a real browser: the ICT-coördinator downloads the zip of shortcuts,
// which holds a Windows, macOS and Linux file for the pupils' shortcut, the teachers' login and
// every licensed product, each pointing at the link the page writes out; the pupils' shortcut
// from the zip opens the group choice.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import zlib from 'node:zlib';

import { browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';


/** The files of a zip archive by name, read through its central directory (stored or deflated). */
function unzip(buffer) {
  const eocd = buffer.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'not a zip: no end of central directory');
  const count = buffer.readUInt16LE(eocd + 10);
  let at = buffer.readUInt32LE(eocd + 16);
  const files = new Map();
  for (let i = 0; i < count; i++) {
    assert.equal(buffer.readUInt32LE(at), 0x02014b50, 'central directory entry');
    const method = buffer.readUInt16LE(at + 10);
    const compressed = buffer.readUInt32LE(at + 20);
    const nameLength = buffer.readUInt16LE(at + 28);
    const extraLength = buffer.readUInt16LE(at + 30);
    const commentLength = buffer.readUInt16LE(at + 32);
    const local = buffer.readUInt32LE(at + 42);
    const name = buffer.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    const dataAt = local + 30 + buffer.readUInt16LE(local + 26) + buffer.readUInt16LE(local + 28);
    const data = buffer.subarray(dataAt, dataAt + compressed);
    assert.ok(method === 0 || method === 8, `${name}: compression method ${method}`);
    files.set(name, (method === 8 ? zlib.inflateRawSync(data) : data).toString('utf8'));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

test('the shortcuts zip holds a file per platform for every link the page lists, in Chromium', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  const context = await browser.newContext({
    bypassCSP: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  await page.goto(`${server.baseUrl}/beheer`);
  await page.getByRole('link', { name: /^Lesmateriaal/ }).click();
  await page.waitForURL(/\/beheer\/lesmateriaal$/);
  await checked(page, server.dir, 'beheer-lesmateriaal');
  const listed = await page.locator('dl.links input').evaluateAll((inputs) => inputs.map((i) => i.value));
  assert.ok(listed.length >= 3, `pupils, teachers and at least one product: ${listed}`);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Alle snelkoppelingen downloaden/ }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^snelkoppelingen-99ZZ00\.zip$/);
  const saved = path.join(server.dir, 'snelkoppelingen.zip');
  await download.saveAs(saved);
  const files = unzip(await readFile(saved));

  const windows = [...files].filter(([name]) => name.startsWith('Windows/') && name.endsWith('.url'));
  const mac = [...files].filter(([name]) => name.startsWith('macOS/') && name.endsWith('.webloc'));
  const linux = [...files].filter(([name]) => name.startsWith('Linux/') && name.endsWith('.desktop'));
  assert.equal(windows.length, listed.length, [...files.keys()].join(', '));
  assert.equal(mac.length, listed.length);
  assert.equal(linux.length, listed.length);
  const escape = (url) => url.replaceAll('&', '&amp;');
  for (const url of listed) {
    assert.ok(windows.some(([, text]) => text.includes(`URL=${url}\r\n`)), `no .url for ${url}`);
    assert.ok(mac.some(([, text]) => text.includes(`<string>${escape(url)}</string>`)), `no .webloc for ${url}`);
    assert.ok(linux.some(([, text]) => text.includes(`URL=${url}\n`)), `no .desktop for ${url}`);
  }
  for (const [name] of files) {
    assert.doesNotMatch(name.split('/').slice(1).join('/'), /[\\/:*?"<>|]/, `a safe file name: ${name}`);
  }

  // The pupils' shortcut, as a workstation would open it: the group choice of the school.
  const [, pupilFile] = windows.find(([, text]) => text.includes('/login/leerlingen/snelkoppelaar'));
  const pupilUrl = /URL=(\S+)/.exec(pupilFile)[1];
  const workstation = await browser.newPage();
  await workstation.goto(pupilUrl);
  assert.match(await workstation.locator('h1').innerText(), /Kies je groep/);
  server.passed();
});
