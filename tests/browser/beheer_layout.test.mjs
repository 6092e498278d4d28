// Beheer on a desktop uses the screen's width for the administrator's tables; on a phone it is
// the narrow page every other page is, without sideways scrolling. Each tab is checked with
// axe-core and photographed at both widths.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { browserFor, checked, logInAsBram, openpoortFor } from './harness.mjs';

const TABS = [
  ['/beheer', 'beheer-leerlingen'],
  ['/beheer/gebruikersgegevens', 'beheer-gebruikersgegevens'],
  ['/beheer/ip-adressen', 'beheer-ip-adressen'],
  ['/beheer/uitgeverijen', 'beheer-uitgeverijen'],
  ['/beheer/netwerkbeheerders', 'beheer-netwerkbeheerders'],
  ['/beheer/lesmateriaal', 'beheer-lesmateriaal'],
  ['/beheer/leerkrachten', 'beheer-leerkrachten'],
];

/** The width of the page's main column and whether the page scrolls sideways. */
async function layout(page) {
  return page.evaluate(() => ({
    main: document.querySelector('main').getBoundingClientRect().width,
    sideways: document.documentElement.scrollWidth > window.innerWidth,
    // What sticks out, to say so when a page scrolls sideways.
    wide: [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth)
      .slice(0, 3)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`),
  }));
}

test('Beheer uses a desktop screen\'s width and stays a phone page on a phone', async (t) => {
  const server = await openpoortFor(t);
  const browser = await browserFor(t);
  // Injecting axe-core is a script the page's own policy rightly forbids.
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await logInAsBram(page, server.baseUrl);

  // The portal is no Beheer page: it keeps the narrow column on a desktop.
  const portal = await layout(page);
  assert.ok(portal.main <= 600, `portal ${portal.main}px wide`);

  for (const [path, name] of TABS) {
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(`${server.baseUrl}${path}`);
    const desktop = await layout(page);
    assert.ok(desktop.main >= 1200, `${path} on a desktop: ${desktop.main}px of 1440`);
    assert.equal(desktop.sideways, false, `${path} scrolls sideways on a desktop: ${desktop.wide}`);

    await page.setViewportSize({ width: 390, height: 844 });
    const phone = await layout(page);
    assert.ok(phone.main <= 390, `${path} on a phone: ${phone.main}px`);
    assert.equal(phone.sideways, false, `${path} scrolls sideways on a phone: ${phone.wide}`);
    await checked(page, server.dir, `${name}-breed`);
  }
  server.passed();
});
