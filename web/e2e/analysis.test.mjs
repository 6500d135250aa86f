// Audio analysis in real Chromium against the real server: the track page of a generated track
// (an A-minor chord pulsing every half second: a clear tempo and key) waits, polling, for the
// server's background analysis, then shows the BPM and key the analysis JSON says, and draws the
// chroma/energy chart; the tracks table shows the same BPM and key, links the title to the page
// and filters by key and BPM range; a silent track's page says why it cannot be analysed.
//
// The page's own JSON is the truth here: every /analysis answer the page receives is recorded
// and compared with what it shows (the analysis' accuracy is the Rust suite's business).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { ADMIN, adminHeaders, launchBrowser, screenshot, startServer, waitFor, watchErrors } from "./harness.mjs";

/** How long the server may take to analyse the generated library in the background. */
const ANALYSIS_MS = 60_000;
/** Plus one of the page's polls (every 3 s), so a result just inside the minute is still seen. */
const PAGE_WAIT_MS = ANALYSIS_MS + 5_000;

let server;
let browser;
let context;
let page;
let errors;
/** Track ids by title. */
const ids = {};
/** Every answer of `/api/tracks/{id}/analysis` the page received: `{ id, status, body }`. */
const answers = [];
/** Every `/api/tracks` listing the page asked for (its query). */
const listings = [];

/** Writes a tagged FLAC of an ffmpeg lavfi audio source (stereo, 44.1 kHz). */
function makeSource(file, source, { title, artist, album, track = 1 }) {
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("ffmpeg", [
    "-v", "error", "-y", "-f", "lavfi", "-i", source, "-ac", "2", "-ar", "44100",
    "-metadata", `title=${title}`, "-metadata", `artist=${artist}`,
    "-metadata", `album=${album}`, "-metadata", `track=${track}`,
    file,
  ]);
}

/** Two tracks: an A-minor chord (A3 C4 E4) struck every 0.5 s (120 BPM) for 20 s, and 8 s of silence. */
function analysisLibrary(lib) {
  const chord = "(sin(2*PI*220*t)+sin(2*PI*261.63*t)+sin(2*PI*329.63*t))";
  makeSource(
    path.join(lib, "Meter Makers/Grid/01.flac"),
    `aevalsrc=exprs='0.25*${chord}*exp(-10*mod(t,0.5))':s=44100:d=20`,
    { title: "Pulse in A", artist: "Meter Makers", album: "Grid", track: 1 },
  );
  makeSource(path.join(lib, "Meter Makers/Grid/02.flac"), "anullsrc=r=44100:cl=stereo:d=8", {
    title: "Quiet Room", artist: "Meter Makers", album: "Grid", track: 2,
  });
}

before(async () => {
  server = await startServer({
    library: analysisLibrary,
    // Nothing but loudness and analysis in the queue, two at a time, so analysis is quick.
    env: { TONEARM_JOBS__HLS_ALL: "false", TONEARM_JOBS__ANALYSIS_ALL: "true", TONEARM_JOBS__WORKERS: "2" },
  });
  const headers = await adminHeaders(server);
  const list = await (await fetch(`${server.url}/api/tracks?limit=100`, { headers })).json();
  for (const t of list.items) ids[t.title] = t.id;
  assert.ok(ids["Pulse in A"] && ids["Quiet Room"], `the generated tracks: ${Object.keys(ids).join(", ")}`);

  const r = await fetch(`${server.url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  assert.equal(r.status, 200, "admin login");
  const session = await r.json();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript((s) => {
    if (!localStorage.getItem("tonearm.session")) localStorage.setItem("tonearm.session", s);
  }, JSON.stringify(session));
  page = await context.newPage();
  errors = watchErrors(page);
  page.on("response", async (res) => {
    const u = new URL(res.url());
    const m = /^\/api\/tracks\/([^/]+)\/analysis$/.exec(u.pathname);
    if (!m) return;
    const entry = { id: decodeURIComponent(m[1]), status: res.status(), body: null };
    answers.push(entry);
    entry.body = await res.json().catch(() => null);
  });
  page.on("request", (q) => {
    const u = new URL(q.url());
    if (u.pathname === "/api/tracks") listings.push(u.searchParams);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Waits until the track page's analysis panel settles (anything but loading/pending), with the
 * page's own polling; returns its state. On a timeout, says what the panel shows.
 */
async function settledAnalysis(p) {
  const panel = p.getByTestId("analysis");
  await panel.waitFor();
  try {
    await p.waitForFunction(
      () => {
        const s = document.querySelector('[data-testid="analysis"]')?.getAttribute("data-state");
        return s && s !== "loading" && s !== "pending";
      },
      null,
      { timeout: PAGE_WAIT_MS, polling: 250 },
    );
  } catch (e) {
    const shown = (await panel.innerText().catch(() => "?")).replace(/\s+/g, " ");
    throw new Error(`the analysis did not settle in ${PAGE_WAIT_MS / 1000} s; the panel shows: ${shown}`, { cause: e });
  }
  return panel.getAttribute("data-state");
}

/** The last answer the page received for `id` (waiting for its body to be read). */
async function lastAnswer(id) {
  return waitFor(() => {
    const mine = answers.filter((a) => a.id === id);
    const last = mine.at(-1);
    return last && last.body ? last : false;
  }, 5_000, `the page's analysis answer for ${id}`);
}

const text = async (locator) => (await locator.textContent()).trim();

/** Waits until the tracks table lists exactly `titles`, in that order. */
async function shows(titles, what) {
  let seen = [];
  await waitFor(async () => {
    seen = await page.locator("table.tracks tbody .play-title").allTextContents();
    return JSON.stringify(seen) === JSON.stringify(titles);
  }, 10_000, what).catch((e) => {
    throw new Error(`${e.message}; the table shows ${JSON.stringify(seen)}`);
  });
}

test("a track page polls until the analysis is ready, then shows its BPM, key and chart", async () => {
  const id = ids["Pulse in A"];
  await page.goto(`${server.url}/track/${encodeURIComponent(id)}`);
  await page.getByRole("heading", { level: 1, name: "Pulse in A" }).waitFor();
  const state = await settledAnalysis(page);
  const last = await lastAnswer(id);
  assert.equal(state, "ready", `the analysis ended ${state}: ${JSON.stringify(last.body).slice(0, 300)}`);

  // The page shows what its JSON says.
  assert.equal(last.status, 200);
  const a = last.body;
  assert.equal(a.state, "ready");
  assert.equal(a.track_id, id);
  assert.ok(Number.isFinite(a.tempo?.bpm) && a.tempo.bpm > 0, `a tempo: ${JSON.stringify(a.tempo)}`);
  assert.match(a.key?.name ?? "", /^[A-G]#? (major|minor)$/, "keys are spelled like the key filter's options");
  const bpm = String(Math.round(a.tempo.bpm));
  assert.equal(await text(page.getByTestId("analysis-bpm")), bpm);
  assert.equal(await text(page.getByTestId("fact-bpm")), bpm);
  assert.equal(await text(page.getByTestId("analysis-key")), a.key.name);
  assert.equal(await text(page.getByTestId("fact-key")), a.key.name);
  // Until then the route answered 202 (pending, or a failed attempt being retried), then 200.
  const mine = answers.filter((x) => x.id === id);
  assert.ok(
    mine.every((x, i) => (i < mine.length - 1 ? x.status === 202 && ["pending", "failed"].includes(x.body?.state) : x.status === 200)),
    JSON.stringify(mine.map((x) => [x.status, x.body?.state])),
  );

  // The chart: a canvas named by its summary, with cells for every pitch class, really painted.
  const chart = page.getByTestId("analysis-chart");
  await chart.waitFor();
  assert.match(await chart.getAttribute("aria-label"), /^Chroma and energy over \d+:\d\d; (strongest pitch class [A-G]( sharp)?|no pitch content)/);
  const cells = Number(await chart.getAttribute("data-cells"));
  assert.ok(cells >= 12 && cells % 12 === 0, `cells: ${cells}`);
  const painted = await chart.evaluate((c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let opaque = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      opaque++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { opaque, colours: colours.size, area: c.width * c.height, shown: c.clientWidth * c.clientHeight };
  });
  assert.ok(painted.shown > 0, "the chart is on screen");
  assert.ok(painted.opaque > painted.area / 2, `the chart is mostly painted: ${JSON.stringify(painted)}`);
  assert.ok(painted.colours > 12, `the chart has more than a flat fill: ${JSON.stringify(painted)}`);

  // The scores as meters, each 0..1.
  const meters = await page.locator(".scores meter").evaluateAll((ms) => ms.map((m) => m.value));
  assert.equal(meters.length, 3);
  for (const v of meters) assert.ok(v >= 0 && v <= 1, `score ${v}`);
  await screenshot(page, "track-analysis");
});

test("the tracks table shows BPM and key, links titles to the track page, and filters by them", async () => {
  const id = ids["Pulse in A"];
  const track = await (await fetch(`${server.url}/api/tracks/${encodeURIComponent(id)}`, { headers: await adminHeaders(server) })).json();
  assert.ok(Number.isFinite(track.bpm) && track.key, `the analysed track has bpm and key: ${JSON.stringify({ bpm: track.bpm, key: track.key })}`);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tracks" }).click();
  await page.waitForURL((u) => u.pathname === "/tracks");
  const row = (title) => page.locator("table.tracks tbody tr").filter({ has: page.locator(".play-title", { hasText: title }) });
  await row("Pulse in A").waitFor();
  await row("Quiet Room").waitFor();
  assert.equal(await text(row("Pulse in A").locator("td.col-bpm")), String(Math.round(track.bpm)));
  assert.equal(await text(row("Pulse in A").locator("td.col-key")), track.key);
  assert.equal(await text(row("Quiet Room").locator("td.col-bpm")), "", "no tempo: an empty cell");
  assert.equal(await text(row("Quiet Room").locator("td.col-key")), "");
  await screenshot(page, "tracks-analysis-columns");

  // Sorting by BPM: the analysed track first, the one without a tempo last (both ways).
  const sortByBpm = () => page.locator("table.tracks thead").getByRole("button", { name: "BPM" }).click();
  await sortByBpm();
  assert.equal(await page.locator("th.col-bpm").getAttribute("aria-sort"), "ascending");
  await shows(["Pulse in A", "Quiet Room"], "BPM ascending");
  await sortByBpm();
  assert.equal(await page.locator("th.col-bpm").getAttribute("aria-sort"), "descending");
  await shows(["Pulse in A", "Quiet Room"], "BPM descending, unknown still last");

  // The key filter asks the server for that key.
  listings.length = 0;
  await page.getByRole("combobox", { name: "Key" }).selectOption(track.key);
  await waitFor(() => listings.some((q) => q.get("key") === track.key), 10_000, "a listing by key");
  await shows(["Pulse in A"], "only the track in that key");

  // A BPM range around its tempo keeps it; one above it leaves nothing.
  listings.length = 0;
  await page.getByLabel("Lowest BPM").fill(String(Math.floor(track.bpm)));
  await page.getByLabel("Highest BPM").fill(String(Math.ceil(track.bpm)));
  await waitFor(
    () => listings.some((q) => q.get("bpm_min") === String(Math.floor(track.bpm)) && q.get("bpm_max") === String(Math.ceil(track.bpm))),
    10_000,
    "a listing by BPM range",
  );
  await row("Pulse in A").waitFor();
  await page.getByLabel("Lowest BPM").fill(String(Math.ceil(track.bpm) + 1));
  await page.getByLabel("Highest BPM").fill(String(Math.ceil(track.bpm) + 50));
  await page.getByText("No tracks match these filters.").waitFor({ timeout: 10_000 });
  await page.getByRole("button", { name: "Clear filters" }).click();
  await row("Quiet Room").waitFor();

  // Clicking a title still plays (and stays here); its details link opens the track page.
  await page.getByRole("button", { name: "Play Pulse in A by Meter Makers" }).click();
  await page.waitForFunction(() => window.__tonearmPlayer?.state().current?.title === "Pulse in A", null, { timeout: 20_000 });
  assert.equal(new URL(page.url()).pathname, "/tracks", "playing does not navigate");
  await page.evaluate(() => window.__tonearmPlayer.player.pause());
  await page.getByRole("link", { name: "About Pulse in A" }).click();
  await page.waitForURL((u) => u.pathname === `/track/${encodeURIComponent(id)}`);
  await page.getByRole("heading", { level: 1, name: "Pulse in A" }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");
  assert.ok(await page.getByRole("link", { name: "Meter Makers" }).count());
  assert.ok(await page.getByRole("link", { name: "Grid" }).count());
});

test("a silent track's page says why it cannot be analysed", async () => {
  const id = ids["Quiet Room"];
  await page.goto(`${server.url}/track/${encodeURIComponent(id)}`);
  await page.getByRole("heading", { level: 1, name: "Quiet Room" }).waitFor();
  const state = await settledAnalysis(page);
  const last = await lastAnswer(id);
  assert.equal(state, "not_analysable", `the analysis ended ${state}: ${JSON.stringify(last.body).slice(0, 300)}`);
  assert.equal(last.status, 200);
  assert.equal(last.body.state, "not_analysable");
  assert.ok(last.body.reason, "a reason");
  assert.match(await text(page.getByTestId("analysis-reason")), new RegExp(last.body.reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  assert.equal(await page.getByTestId("analysis-chart").count(), 0, "no chart");
  await screenshot(page, "track-not-analysable");
});

test("an unknown track's page says so; the track page fits a phone", async () => {
  await page.goto(`${server.url}/track/no-such-track`);
  await page.getByRole("alert").filter({ hasText: "Couldn't find this track" }).waitFor();
  assert.equal(await page.getByTestId("analysis").count(), 0, "no analysis panel for a missing track");

  const phone = await context.newPage();
  const phoneErrors = watchErrors(phone);
  await phone.setViewportSize({ width: 375, height: 780 });
  await phone.goto(`${server.url}/track/${encodeURIComponent(ids["Pulse in A"])}`);
  await phone.locator('[data-testid="analysis"][data-state="ready"]').waitFor({ timeout: PAGE_WAIT_MS });
  await phone.waitForLoadState("networkidle");
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 375, `the track page is ${width}px wide`);
  const chartWidth = await phone.getByTestId("analysis-chart").evaluate((c) => c.getBoundingClientRect().width);
  assert.ok(chartWidth > 250, `the chart uses the phone's width: ${chartWidth}px`);
  await screenshot(phone, "track-analysis-phone");
  assert.deepEqual(phoneErrors, []);
  await phone.close();

  // The only errors were the unknown track's 404s (its track and its analysis) and the 409 of
  // the played track's HLS playlist (not packaged: HLS is off here, so it played a direct stream).
  assert.deepEqual(errors.filter((e) => !/status of (404|409)/.test(e)), []);
});
