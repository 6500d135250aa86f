// The library player in real Chromium against the real server: HLS (encrypted) and progressive
// playback, seeking, quality switches, next/previous, keyboard shortcuts, the queue panel, the
// half-way prefetch, and error recovery (retries with step-down, token refresh, a permanent
// failure's message and Retry).
//
// Playback is started through the real library screen (/tracks); the engine's state is read
// through the player's test hook `window.__tonearmPlayer` (see src/player/index.tsx).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ADMIN,
  adminHeaders,
  launchBrowser,
  screenshot,
  startServer,
  waitFor,
  watchErrors,
} from "./harness.mjs";

let server;
let browser;
/** Track ids by title. */
const ids = {};

before(async () => {
  server = await startServer({
    env: {
      TONEARM_JOBS__HLS_ALL: "true",
      // Every browser context signs in on its own.
      TONEARM_LIMITS__LOGIN_PER_MINUTE: "0",
    },
  });
  const headers = await adminHeaders(server);
  const page = await (await fetch(`${server.url}/api/tracks?limit=100`, { headers })).json();
  for (const t of page.items) ids[t.title] = t.id;
  assert.equal(page.items.length, 5, "the generated library has five tracks");
  // All five packaged (20-s tracks: about a second each), so HLS plays without fallback.
  await waitFor(async () => {
    for (const id of Object.values(ids)) {
      const r = await fetch(`${server.url}/api/tracks/${id}/processing`, { headers });
      const p = await r.json();
      if (p.status === "failed") throw new Error(`packaging failed: ${JSON.stringify(p)}`);
      if (p.status !== "ready") return false;
    }
    return true;
  }, 60_000, "HLS packages of every track");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function login() {
  const r = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 200, "admin login");
  return r.json();
}

/**
 * A signed-in page on /tracks in a fresh context, with every request recorded. `settings`
 * pre-sets the player's stored preferences (e.g. `{preference: "progressive"}`).
 */
async function openApp({ settings, viewport = { width: 1280, height: 800 } } = {}) {
  const session = await login();
  const context = await browser.newContext({ viewport });
  await context.addInitScript(
    ([s, p]) => {
      if (!localStorage.getItem("tonearm.session")) localStorage.setItem("tonearm.session", s);
      if (p && !localStorage.getItem("tonearm.player")) localStorage.setItem("tonearm.player", p);
    },
    [JSON.stringify(session), settings ? JSON.stringify(settings) : null],
  );
  const page = await context.newPage();
  const errors = watchErrors(page);
  const requests = [];
  page.on("request", (r) => requests.push({ method: r.method(), url: r.url(), at: Date.now() }));
  await page.goto(`${server.url}/tracks`);
  await page.getByRole("button", { name: /^Play Dawn Chorus/ }).waitFor();
  await page.waitForFunction(() => !!window.__tonearmPlayer);
  return { context, page, errors, requests };
}

/** The engine's state and the audio element's clock. */
function probe(page) {
  return page.evaluate(() => {
    const h = window.__tonearmPlayer;
    const s = h.state();
    const e = s.engine;
    return {
      current: s.current?.title ?? null,
      nextId: s.queue.items[s.queue.index + 1]?.track.id ?? null,
      mode: e.mode,
      status: e.status,
      level: e.level,
      levels: e.levels.map((l) => l.bitrate),
      quality: e.progressiveQuality,
      error: e.error,
      notice: e.notice,
      failures: e.failures,
      fallback: e.fallback,
      time: h.audio.currentTime,
      paused: h.audio.paused,
      muted: h.audio.muted,
      queue: s.queue.items.length,
    };
  });
}

/** Waits until `pred(state)` holds; returns that state. */
function until(page, pred, what, ms = 20_000) {
  return waitFor(async () => {
    const s = await probe(page);
    return pred(s) ? s : false;
  }, ms, what);
}

/** Playback advances: the clock moves at least `by` seconds past `from`. */
async function advancing(page, from, by = 1, what = "playback to advance") {
  return until(page, (s) => !s.paused && s.time >= from + by && !s.error, `${what} (from ${from.toFixed(2)} s)`);
}

async function play(page, title) {
  await page.getByRole("button", { name: new RegExp(`^Play ${title}`) }).click();
  // Focus on the body, so Space is the player's shortcut, not the table's button.
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await until(page, (s) => s.current === title, `${title} to be current`);
}

const bar = (page) => page.getByRole("region", { name: "Player" });

async function chooseSetting(page, name) {
  const b = bar(page);
  const toggle = b.getByRole("button", { name: /^Playback quality/ });
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  await b.getByRole("radio", { name: new RegExp(`^${name}`) }).check();
}

describe("player", () => {
  test("plays an encrypted HLS track; the quality switch pins the level", async () => {
    const { context, page, errors, requests } = await openApp();
    await play(page, "Dawn Chorus");
    const s = await advancing(page, 2, 0, "HLS playback past 2 s");
    assert.equal(s.mode, "hls");
    assert.equal(s.levels.length, 3, "the 128/256/320 ladder");
    assert.equal(s.error, null);
    const key = requests.find((r) => /\/api\/tracks\/[^/]+\/hls\/key\?/.test(r.url));
    assert.ok(key, "hls.js fetched the AES key of an encrypted segment");
    assert.ok(requests.some((r) => /\/hls\/v\d+\/seg\d+\.m4s/.test(r.url)), "segments were loaded");
    assert.ok(!requests.some((r) => r.url.includes("/stream")), "no progressive stream");

    const b = bar(page);
    await b.getByText("Dawn Chorus").waitFor();
    await b.getByText("Aurora Tones").waitFor();
    // The Media Session shows the track to the OS.
    const ms = await page.evaluate(() => ({
      title: navigator.mediaSession.metadata?.title,
      artist: navigator.mediaSession.metadata?.artist,
      album: navigator.mediaSession.metadata?.album,
      state: navigator.mediaSession.playbackState,
    }));
    assert.deepEqual(ms, { title: "Dawn Chorus", artist: "Aurora Tones", album: "First Light", state: "playing" });
    await screenshot(page, "player-bar-playing");

    // High pins the 320 kbps level, Low the 128 one; each switch loads that variant.
    const levelOf = (kbps, st) =>
      st.levels.reduce((best, b, i) => (Math.abs(b - kbps * 1000) < Math.abs(st.levels[best] - kbps * 1000) ? i : best), 0);
    await chooseSetting(page, "High");
    const hi = await until(page, (st) => st.level === levelOf(320, st), "the 320 kbps level");
    await advancing(page, hi.time, 0.5, "playback at 320 kbps");
    const mark2 = requests.length;
    await chooseSetting(page, "Low");
    const lo = await until(page, (st) => st.level === levelOf(128, st), "the 128 kbps level");
    await waitFor(() => requests.slice(mark2).some((r) => /\/hls\/v128\/seg\d+\.m4s/.test(r.url)), 10_000, "v128 segments");
    await advancing(page, lo.time, 0.5, "playback at 128 kbps");
    await page.getByText(/Adaptive stream \(HLS, AAC\) at 1\d\d kbps/).waitFor();
    await screenshot(page, "player-quality-panel");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("plays progressively, switches quality, seeks with the slider, prefetches at half-way", async () => {
    const { context, page, errors, requests } = await openApp({ settings: { preference: "progressive" } });
    await play(page, "Morning Haze");
    let s = await advancing(page, 1, 0, "progressive playback past 1 s");
    assert.equal(s.mode, "progressive");
    assert.equal(s.quality, "high", "auto on a fast connection is high");
    assert.ok(requests.some((r) => r.url.includes(`/api/tracks/${ids["Morning Haze"]}/stream?quality=high&access_token=`)));
    assert.ok(!requests.some((r) => r.url.includes("/hls/")), "no HLS requests");

    // Low: the stream is requested again with quality=low, from about the same position.
    const before = s.time;
    const mark = requests.length;
    await chooseSetting(page, "Low");
    s = await until(page, (st) => st.quality === "low" && st.time > before, "the low-quality stream");
    assert.ok(requests.slice(mark).some((r) => r.method === "GET" && r.url.includes("quality=low")));
    assert.ok(s.time >= before - 0.5, `resumed near ${before} s, at ${s.time} s`);
    await advancing(page, s.time, 0.5, "playback at low quality");

    // Seek to 12 s with the slider (past half-way: the next track is warmed with a HEAD).
    await page.keyboard.press("Escape");
    const next = s.nextId;
    assert.ok(next, "a next track is queued");
    assert.ok(!requests.some((r) => r.url.includes(`/api/tracks/${next}/`)), "no prefetch before half-way");
    await bar(page).getByRole("slider", { name: "Seek" }).fill("12");
    s = await until(page, (st) => st.time >= 12, "the seek to 12 s");
    await advancing(page, s.time, 1, "playback after the seek");
    const warm = await waitFor(
      () => requests.filter((r) => r.method === "HEAD" && r.url.includes(`/api/tracks/${next}/stream?quality=low`)),
      5_000,
      "the HEAD prefetch of the next track",
    ).then((list) => list);
    assert.equal(warm.length, 1, "warmed once");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("prefetches the next track's playlist at half-way (HLS), once", async () => {
    const { context, page, errors, requests } = await openApp();
    await play(page, "Evening Ember");
    const next = (await probe(page)).nextId;
    assert.ok(next, "a next track is queued");
    const master = (r) => r.url.includes(`/api/tracks/${next}/hls/master.m3u8`);
    await page.evaluate(() => window.__tonearmPlayer.player.seek(7));
    await until(page, (s) => s.time >= 9 && s.time < 10, "playback to reach 9 s", 15_000);
    assert.ok(!requests.some(master), "nothing warmed before half-way");
    await waitFor(() => requests.some(master), 5_000, "the next track's master playlist");
    const at = (await probe(page)).time;
    assert.ok(at >= 10, `warmed at half-way (${at} s)`);
    await until(page, (s) => s.time >= 12, "playback to go on");
    assert.equal(requests.filter(master).length, 1, "warmed once");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("next, previous, keyboard shortcuts and the queue panel", async () => {
    const { context, page, errors } = await openApp();
    await play(page, "Dawn Chorus");
    let s = await advancing(page, 0.5, 0);
    assert.equal(s.queue, 5);

    // Typing in a text field is typing, not shortcuts.
    const search = page.getByPlaceholder("Search music");
    await search.click();
    await search.pressSequentially("m m");
    s = await probe(page);
    assert.ok(!s.paused && !s.muted, "Space and M in the search box leave the player alone");
    await search.fill("");
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());

    // Space pauses and resumes; M mutes; → seeks ahead 10 s.
    await page.keyboard.press("Space");
    s = await until(page, (st) => st.paused, "Space to pause");
    const pausedAt = s.time;
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(Math.abs((await probe(page)).time - pausedAt) < 0.05, "paused means no progress");
    await page.keyboard.press("Space");
    await advancing(page, pausedAt, 0.3, "Space to resume");
    await page.keyboard.press("m");
    await until(page, (st) => st.muted, "M to mute");
    await bar(page).getByRole("button", { name: "Unmute" }).waitFor();
    await page.keyboard.press("m");
    await until(page, (st) => !st.muted, "M to unmute");
    const t0 = (await probe(page)).time;
    await page.keyboard.press("ArrowRight");
    s = await until(page, (st) => st.time >= t0 + 9, "→ to seek 10 s ahead");
    await advancing(page, s.time, 0.3, "playback after →");
    await page.keyboard.press("ArrowLeft");
    await until(page, (st) => st.time < s.time - 5, "← to seek back");

    // Next and previous: the button, Shift+→, Shift+← (near the start: the track before).
    await bar(page).getByRole("button", { name: "Next track" }).click();
    s = await until(page, (st) => st.current !== "Dawn Chorus" && st.time > 0.3 && !st.paused, "the next track to play");
    const second = s.current;
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    await page.keyboard.press("Shift+ArrowRight");
    s = await until(page, (st) => st.current !== second && st.time > 0.3, "Shift+→ to play the third track");
    const third = s.current;
    await page.keyboard.press("Shift+ArrowLeft");
    await until(page, (st) => st.current === second && st.time > 0.3, "Shift+← to go back");
    await bar(page).getByRole("button", { name: "Previous track" }).click();
    await until(page, (st) => st.current === "Dawn Chorus" && st.time > 0.3, "Previous to go back to the first");

    // The queue panel: the current entry is marked; choose another; remove one.
    await bar(page).getByRole("button", { name: /^Queue, 5 tracks/ }).click();
    const panel = page.getByRole("region", { name: /Queue/ });
    await panel.waitFor();
    const items = panel.getByRole("listitem");
    assert.equal(await items.count(), 5);
    assert.match(await panel.locator('li[aria-current="true"]').innerText(), /Dawn Chorus/);
    await screenshot(page, "player-queue-panel");
    await panel.getByRole("button", { name: new RegExp(`^${third}`) }).click();
    await until(page, (st) => st.current === third && st.time > 0.3, "the chosen queue entry to play");
    await panel.getByRole("button", { name: `Remove ${second} from the queue` }).click();
    await until(page, (st) => st.queue === 4, "the entry to be removed");
    assert.equal(await items.count(), 4);
    assert.equal((await probe(page)).current, third, "removing another entry keeps playing");
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "detached" });

    // A phone-sized screen.
    await page.setViewportSize({ width: 375, height: 720 });
    await screenshot(page, "player-bar-phone");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("falls back to the progressive stream while a package is not ready (409)", async () => {
    const { context, page, requests } = await openApp();
    const id = ids["Zero Crossing"];
    await page.route(`**/api/tracks/${id}/hls/master.m3u8`, (route) =>
      route.fulfill({
        status: 409,
        headers: { "retry-after": "2", "content-type": "application/json" },
        body: JSON.stringify({ error: { code: "not_ready", message: "this track is being prepared for HLS" } }),
      }),
    );
    await play(page, "Zero Crossing");
    const s = await advancing(page, 1, 0, "the progressive fallback");
    assert.equal(s.mode, "progressive");
    assert.match(s.fallback, /being prepared/);
    assert.ok(requests.some((r) => r.url.includes(`/api/tracks/${id}/stream?quality=high`)));
    await context.close();
  });

  test("recovers from failed requests: retries, steps down, refreshes the session", async () => {
    const { context, page, requests } = await openApp({ settings: { preference: "progressive" } });
    // The first two stream requests fail at the network level.
    let failed = 0;
    await page.route("**/api/tracks/*/stream?*", (route) => {
      if (route.request().method() === "GET" && failed < 2) {
        failed++;
        return route.abort("connectionreset");
      }
      return route.continue();
    });
    await play(page, "Café Oscillation");
    let s = await advancing(page, 1, 0, "playback despite two failed requests");
    assert.equal(failed, 2);
    assert.ok(s.failures >= 2, `failures handled: ${s.failures}`);
    assert.equal(s.quality, "medium", "two failures in a row at high step down to medium");
    assert.equal(s.error, null);
    await page.unroute("**/api/tracks/*/stream?*");

    // An expired token: the stream (and its HEAD) answer 401 once; the session is refreshed.
    let denied = 0;
    await page.route("**/api/tracks/*/stream?*", (route) => {
      if (denied < 2) {
        denied++;
        return route.fulfill({
          status: 401,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ error: { code: "unauthorized", message: "invalid or expired token" } }),
        });
      }
      return route.continue();
    });
    const mark = requests.length;
    await play(page, "Zero Crossing");
    s = await advancing(page, 1, 0, "playback after the token refresh");
    assert.ok(denied >= 1);
    assert.ok(
      requests.slice(mark).some((r) => r.method === "POST" && r.url.endsWith("/api/auth/refresh")),
      "the session was refreshed",
    );
    await page.unroute("**/api/tracks/*/stream?*");

    // HLS: a segment that fails twice is retried by hls.js and playback starts.
    await chooseSetting(page, "Adaptive");
    let segFails = 0;
    await page.route("**/hls/*/seg0.m4s*", (route) => {
      if (segFails < 2) {
        segFails++;
        return route.abort("connectionreset");
      }
      return route.continue();
    });
    await play(page, "Evening Ember");
    s = await advancing(page, 1, 0, "HLS playback despite two failed segment requests");
    assert.equal(s.mode, "hls");
    assert.equal(segFails, 2);
    await context.close();
  });

  test("a permanent failure says so, and Retry resumes", async () => {
    const { context, page } = await openApp({ settings: { preference: "progressive" } });
    await page.route("**/api/tracks/*/stream?*", (route) => route.abort("connectionrefused"));
    await play(page, "Dawn Chorus");
    // While retrying: a notice; then an alert with a human message and a Retry button.
    await bar(page).getByRole("status").filter({ hasText: /Retrying/ }).waitFor({ timeout: 5_000 });
    const alert = bar(page).getByRole("alert");
    await alert.waitFor({ timeout: 25_000 });
    assert.match(await alert.innerText(), /Can't reach the server/);
    const s = await probe(page);
    assert.equal(s.status, "error");
    assert.ok(s.paused);
    assert.ok(s.failures >= 5, `retried before giving up (${s.failures})`);
    await screenshot(page, "player-error");

    await page.unroute("**/api/tracks/*/stream?*");
    await alert.getByRole("button", { name: "Retry" }).click();
    await advancing(page, 0.5, 0, "playback after Retry");
    await alert.waitFor({ state: "detached" });
    await context.close();
  });
});
