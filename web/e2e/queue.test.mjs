// Starting and shaping the queue from the library screens, in real Chromium against the real
// server: Play and Shuffle on an album card (home page) and on the album page, and the tracks
// table's row menu ("⋯": Play next, Add to queue) with its keyboard and click-outside rules.
// What the queue holds is read from the queue panel (the UI), what plays from the audio
// element's clock through the player's test hook.
//
// The album's files are named so that file order, scan order and album order all differ
// (two discs; track 10 after track 3), so "album order" is the tags' order and nothing else.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ADMIN, launchBrowser, makeTrack, screenshot, startServer, waitFor, watchErrors } from "./harness.mjs";

const ALBUM = "Long Player";
/** Long Player in album order: disc 1 tracks 1, 2, 3, 10, then disc 2 track 1. */
const IN_ORDER = ["Opening Bell", "Second Wind", "Third Rail", "Tenth Step", "Coda"];

function library(lib) {
  const dir = path.join(lib, "Test Band", ALBUM);
  const long = { artist: "Test Band", album: ALBUM, seconds: 30 };
  makeTrack(path.join(dir, "a.flac"), { ...long, title: "Coda", disc: 2, track: 1, freq: 330 });
  makeTrack(path.join(dir, "b.flac"), { ...long, title: "Tenth Step", disc: 1, track: 10, freq: 392 });
  makeTrack(path.join(dir, "c.flac"), { ...long, title: "Second Wind", disc: 1, track: 2, freq: 440 });
  makeTrack(path.join(dir, "d.flac"), { ...long, title: "Opening Bell", disc: 1, track: 1, freq: 523.25 });
  makeTrack(path.join(dir, "e.flac"), { ...long, title: "Third Rail", disc: 1, track: 3, freq: 587.33 });
  const short = { artist: "Other Band", album: "Short Player", seconds: 30 };
  makeTrack(path.join(lib, "Other Band/Short Player/1.flac"), { ...short, title: "Extra One", track: 1, freq: 659.25 });
  makeTrack(path.join(lib, "Other Band/Short Player/2.flac"), { ...short, title: "Extra Two", track: 2, freq: 698.46 });
}

let server;
let browser;
let context;
let page;
let errors;

before(async () => {
  server = await startServer({ library });
  const r = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 200, "admin login");
  const session = await r.json();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  // Signed in; progressive streams (no HLS packages are made here, so no 409 fallbacks).
  await context.addInitScript(
    ([s, p]) => {
      if (!localStorage.getItem("tonearm.session")) localStorage.setItem("tonearm.session", s);
      if (!localStorage.getItem("tonearm.player")) localStorage.setItem("tonearm.player", p);
    },
    [JSON.stringify(session), JSON.stringify({ preference: "progressive" })],
  );
  page = await context.newPage();
  errors = watchErrors(page);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** What plays, the queue's titles, and the audio element's clock. */
function probe() {
  return page.evaluate(() => {
    const h = window.__tonearmPlayer;
    const s = h.state();
    return {
      current: s.current?.title ?? null,
      index: s.queue.index,
      queue: s.queue.items.map((e) => e.track.title),
      time: h.audio.currentTime,
      paused: h.audio.paused,
      error: s.engine.error,
    };
  });
}

function until(pred, what, ms = 20_000) {
  return waitFor(async () => {
    const s = await probe();
    return pred(s) ? s : false;
  }, ms, what);
}

/** `title` is current and really playing: the audio clock passes 0.5 s and keeps moving. */
async function playing(title) {
  const s = await until((st) => st.current === title && st.time > 0.5 && !st.paused && !st.error, `${title} to play`);
  await until((st) => st.current === title && st.time >= s.time + 0.5, `${title}'s clock to advance past ${s.time.toFixed(2)} s`);
}

const bar = () => page.getByRole("region", { name: "Player" });

/** The queue as its panel shows it: the entries' titles and the one marked as playing. */
async function queuePanel() {
  await bar().getByRole("button", { name: /^Queue, \d+ tracks?/ }).click();
  const panel = page.getByRole("region", { name: /^Queue/ });
  await panel.waitFor();
  const titles = await panel.locator("li .tp-queue-title").allTextContents();
  const current = await panel.locator('li[aria-current="true"] .tp-queue-title').allTextContents();
  await panel.getByRole("button", { name: "Close queue" }).click();
  await panel.waitFor({ state: "detached" });
  return { titles, current };
}

const albums = () => page.getByRole("list", { name: "Albums" });

/** The focused element's accessible description: tag, role and label. */
const focused = () =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { role: el?.getAttribute("role") ?? el?.tagName.toLowerCase(), label: el?.getAttribute("aria-label") ?? el?.textContent?.trim() };
  });

describe("queue actions", () => {
  test("Play on an album card (home page) plays the album in album order, without leaving the page", async () => {
    await page.goto(`${server.url}/`);
    const play = albums().getByRole("button", { name: `Play ${ALBUM}`, exact: true });
    await play.waitFor();
    // Beside the card's link, not inside it: the link still leads to the album.
    assert.match(await albums().getByRole("link", { name: new RegExp(ALBUM) }).getAttribute("href"), /^\/albums\/./);
    assert.equal(await play.evaluate((b) => b.closest("a")), null, "the button is not inside the link");
    await play.click();
    await playing(IN_ORDER[0]);
    assert.equal(new URL(page.url()).pathname, "/", "Play did not navigate");
    await bar().getByText(IN_ORDER[0]).waitFor();
    await bar().getByText("Test Band").waitFor();
    assert.deepEqual(await queuePanel(), { titles: IN_ORDER, current: [IN_ORDER[0]] });
    await screenshot(page, "queue-album-card-play");
  });

  test("Shuffle, from the keyboard, queues every track of the album in the shuffled order", async () => {
    // Tab from the card's link reaches Shuffle; Enter presses it.
    await albums().getByRole("link", { name: new RegExp(ALBUM) }).focus();
    await page.keyboard.press("Tab");
    assert.deepEqual(await focused(), { role: "button", label: `Shuffle ${ALBUM}` });
    // Pin the page's random source for this press: with 0 every time, Fisher–Yates moves the
    // first track to the end, so the order proves the shuffle (not album order) was played.
    await page.evaluate(() => {
      window.__realRandom = Math.random;
      Math.random = () => 0;
    });
    const shuffled = [...IN_ORDER.slice(1), IN_ORDER[0]];
    try {
      await page.keyboard.press("Enter");
      await until((s) => s.current === shuffled[0], "the shuffled queue to start");
    } finally {
      await page.evaluate(() => (Math.random = window.__realRandom));
    }
    await playing(shuffled[0]);
    assert.equal(new URL(page.url()).pathname, "/");
    const q = await queuePanel();
    assert.deepEqual(q, { titles: shuffled, current: [shuffled[0]] });

    // With the real random source: still every track exactly once, the first one playing.
    await albums().getByRole("button", { name: `Shuffle ${ALBUM}`, exact: true }).click();
    const s = await until((st) => st.queue.length === 5 && st.index === 0 && st.time > 0.5 && !st.paused, "a random shuffle to play");
    assert.deepEqual([...s.queue].sort(), [...IN_ORDER].sort());
    await playing(s.queue[0]);
  });

  test("the album page's Play plays in album order", async () => {
    await albums().getByRole("link", { name: new RegExp(ALBUM) }).click();
    await page.getByRole("heading", { level: 1, name: ALBUM }).waitFor();
    await page.getByRole("button", { name: `Play ${ALBUM}`, exact: true }).click();
    await playing(IN_ORDER[0]);
    assert.deepEqual((await probe()).queue, IN_ORDER);
  });

  test("the row menu: keyboard, click outside, then Play next and Add to queue", async () => {
    // The album plays from the page before (Opening Bell, first of five).
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tracks" }).click();
    const menuButton = (title) => page.getByRole("button", { name: `More actions for ${title}`, exact: true });
    const trigger = menuButton("Extra Two");
    await trigger.waitFor();
    assert.equal(await trigger.getAttribute("aria-haspopup"), "menu");
    assert.equal(await trigger.getAttribute("aria-expanded"), "false");

    // Opens on the first entry; arrows move and wrap; Escape closes with focus back on "⋯".
    await trigger.click();
    const menu = page.getByRole("menu", { name: "More actions for Extra Two" });
    await menu.waitFor();
    assert.equal(await trigger.getAttribute("aria-expanded"), "true");
    assert.equal(await trigger.getAttribute("aria-controls"), await menu.getAttribute("id"));
    assert.deepEqual(await menu.getByRole("menuitem").allTextContents(), ["Play next", "Add to queue"]);
    assert.deepEqual(await focused(), { role: "menuitem", label: "Play next" });
    await page.keyboard.press("ArrowDown");
    assert.deepEqual(await focused(), { role: "menuitem", label: "Add to queue" });
    await page.keyboard.press("ArrowDown");
    assert.deepEqual(await focused(), { role: "menuitem", label: "Play next" });
    await page.keyboard.press("ArrowUp");
    assert.deepEqual(await focused(), { role: "menuitem", label: "Add to queue" });
    await screenshot(page, "queue-row-menu");
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "detached" });
    assert.deepEqual(await focused(), { role: "button", label: "More actions for Extra Two" });
    assert.equal(await trigger.getAttribute("aria-expanded"), "false");

    // ↑ on the button opens on the last entry; a click elsewhere closes it and plays nothing.
    await page.keyboard.press("ArrowUp");
    await menu.waitFor();
    assert.deepEqual(await focused(), { role: "menuitem", label: "Add to queue" });
    await page.getByRole("heading", { level: 1 }).click();
    await menu.waitFor({ state: "detached" });
    assert.equal((await probe()).queue.length, 5, "closing the menu changed nothing");

    // Play next: right after the current track; what plays keeps playing.
    await trigger.click();
    await menu.getByRole("menuitem", { name: "Play next" }).click();
    await menu.waitFor({ state: "detached" });
    assert.deepEqual(await focused(), { role: "button", label: "More actions for Extra Two" });
    const next = [IN_ORDER[0], "Extra Two", ...IN_ORDER.slice(1)];
    await until((s) => s.queue.length === 6, "Play next to queue the track");
    assert.deepEqual(await queuePanel(), { titles: next, current: [IN_ORDER[0]] });
    await playing(IN_ORDER[0]);

    // Add to queue, all from the keyboard: Enter opens, ↓ then Enter chooses; it goes last.
    await menuButton("Extra One").focus();
    await page.keyboard.press("Enter");
    const menu2 = page.getByRole("menu", { name: "More actions for Extra One" });
    await menu2.waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await menu2.waitFor({ state: "detached" });
    await until((s) => s.queue.length === 7, "Add to queue to queue the track");
    assert.deepEqual(await queuePanel(), { titles: [...next, "Extra One"], current: [IN_ORDER[0]] });
    await playing(IN_ORDER[0]);

    // The player goes on in the new order: Next plays the track put next.
    await bar().getByRole("button", { name: "Next track" }).click();
    await playing("Extra Two");
  });

  test("with nothing playing, Play next starts the track", async () => {
    await page.reload(); // a new page: a new, empty player
    await page.locator("table.tracks tbody tr").nth(6).waitFor();
    assert.equal(await bar().count(), 0, "no player bar before anything is queued");
    await page.getByRole("button", { name: "More actions for Third Rail", exact: true }).click();
    await page.getByRole("menu").getByRole("menuitem", { name: "Play next" }).click();
    await playing("Third Rail");
    assert.deepEqual(await queuePanel(), { titles: ["Third Rail"], current: ["Third Rail"] });
    assert.deepEqual(errors, []);
  });
});
