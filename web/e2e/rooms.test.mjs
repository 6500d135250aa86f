// Listening rooms in real Chromium against the real server: a host starts a room in the UI and
// broadcasts from Chromium's fake microphone (fed with a generated WAV); two guests join by
// the share link and must decode audio and schedule the same frames for the same server-clock
// moment; chat goes both ways as plain text; the participant list updates; the host stops and
// the guests are told. Rooms need no account.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, launchBrowser, screenshot, watchErrors, waitFor } from "./harness.mjs";

let server;
let hostBrowser;
let guestBrowser;
let dir;

/** A 30 s, 48 kHz stereo WAV: a 440 Hz tone with a loud click every half second. */
function makeWav(file) {
  execFileSync("ffmpeg", [
    "-v", "error", "-y", "-f", "lavfi",
    "-i", "aevalsrc=0.3*sin(2*PI*440*t)+0.6*lt(mod(t\\,0.5)\\,0.002):s=48000:d=30",
    "-ac", "2", "-c:a", "pcm_s16le", file,
  ]);
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "tonearm-rooms-e2e-"));
  const wav = path.join(dir, "tone.wav");
  makeWav(wav);
  // No library needed: rooms work without one.
  server = await startServer({ library: () => {} });
  hostBrowser = await launchBrowser([
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    `--use-file-for-fake-audio-capture=${wav}`,
  ]);
  guestBrowser = await launchBrowser();
});

after(async () => {
  await hostBrowser?.close();
  await guestBrowser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Waits for the room page's heading; on failure, says what the page shows instead. */
async function roomHeading(page, name) {
  await page.getByRole("heading", { name }).waitFor({ timeout: 20_000 }).catch(async (e) => {
    const shown = await page.locator("main").innerText().catch(() => "?");
    throw new Error(`${e.message.split("\n")[0]}; the page shows: ${shown.replace(/\s+/g, " ").slice(0, 400)}`);
  });
}

/** The guest counters the room page publishes on `window.__tonearmRoom`. */
const hookOf = (page) =>
  page.evaluate(() => {
    const h = window.__tonearmRoom;
    return h ? { role: h.role, decodedSamples: h.decodedSamples, framesReceived: h.framesReceived, delayMs: h.delayMs, playout: { ...h.playout }, scheduled: { ...h.scheduled }, stream: h.stream, clockOffsetMs: h.clockOffsetMs, clockRttMs: h.clockRttMs } : null;
  });

test("a host broadcasts from the microphone and two guests hear it in sync", async () => {
  const hostCtx = await hostBrowser.newContext({ viewport: { width: 1280, height: 900 } });
  const host = await hostCtx.newPage();
  const hostErrors = watchErrors(host);

  // Start a room from the rooms list.
  await host.goto(`${server.url}/rooms`);
  await host.getByRole("heading", { name: "Listening rooms" }).waitFor();
  await host.getByLabel("Room name").fill("Friday Night E2E");
  await host.getByRole("button", { name: "Start room" }).click();
  await host.waitForURL(/\/room\/[A-Za-z0-9_-]+$/);
  await roomHeading(host, "Friday Night E2E");
  await host.getByText("You are the host").waitFor();

  // Go on air with the microphone (Chromium's fake device plays the WAV).
  await host.getByLabel(/Microphone or line in/).check();
  const start = host.getByRole("button", { name: "Start broadcast" });
  await waitFor(() => start.isEnabled(), 10_000, "the clock sync that enables Start broadcast");
  await start.click();
  await host.getByText("On air", { exact: true }).waitFor();
  const link = await host.getByTestId("share-link").inputValue();
  assert.match(link, new RegExp(`^${server.url}/room/[A-Za-z0-9_-]+$`));

  // Two guests join by the link, each in its own browser context (own identity), together.
  const guests = [];
  const guestErrors = [];
  for (let i = 0; i < 2; i++) {
    const ctx = await guestBrowser.newContext({ viewport: i === 0 ? { width: 375, height: 812 } : { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    guestErrors.push(watchErrors(page));
    guests.push(page);
  }
  await Promise.all(guests.map((g) => g.goto(link)));
  await Promise.all(guests.map((g) => roomHeading(g, "Friday Night E2E")));

  // Both decode audio, and keep decoding (the sample counts rise).
  for (const [i, g] of guests.entries()) {
    await waitFor(async () => (await hookOf(g))?.decodedSamples > 48_000, 20_000, `guest ${i + 1} decoding audio`).catch(async (e) => {
      const h = await hookOf(g);
      const status = await g.getByTestId("room-status").innerText().catch(() => "?");
      throw new Error(`${e.message}; status: ${status.replace(/\s+/g, " ")}; hook: ${JSON.stringify({ ...h, playout: undefined, scheduled: undefined })}`);
    });
  }
  const before = await Promise.all(guests.map(hookOf));
  await Promise.all(
    guests.map((g, i) =>
      g.waitForFunction((n) => window.__tonearmRoom.decodedSamples > n + 48_000, before[i].decodedSamples, { timeout: 10_000 }),
    ),
  );
  for (const h of before) {
    assert.equal(h.role, "guest");
    assert.ok(h.framesReceived > 0);
  }

  // Their scheduled playout times for the same frames agree within 10 ms. Judged on the last
  // 100 frames both played (after the join has settled); a loaded test machine may stall one
  // browser's audio for a moment, so 95 of them must agree, and the median closely.
  const common = await waitFor(async () => {
    const [a, b] = await Promise.all(guests.map(hookOf));
    const keys = Object.keys(a.playout).filter((k) => k in b.playout);
    return keys.length >= 150 ? { a, b, keys } : false;
  }, 20_000, "150 frames played by both guests");
  const order = (k) => (k.startsWith("low/") ? 1e9 + Number(k.slice(4)) : Number(k));
  const recent = common.keys.sort((x, y) => order(x) - order(y)).slice(-100);
  const diffs = recent.map((k) => Math.abs(common.a.playout[k] - common.b.playout[k])).sort((x, y) => x - y);
  const worst = diffs[diffs.length - 1];
  const within = diffs.filter((d) => d < 10).length;
  const why = `(worst ${worst.toFixed(2)} ms, median ${diffs[50].toFixed(2)} ms; delays ${common.a.delayMs} and ${common.b.delayMs} ms; clock offsets ${common.a.clockOffsetMs?.toFixed(2)} and ${common.b.clockOffsetMs?.toFixed(2)} ms)`;
  console.log(`guests' playout agreement: ${within} of 100 frames within 10 ms ${why}`);
  assert.ok(within >= 95, `only ${within} of 100 frames played within 10 ms of each other ${why}`);
  assert.ok(diffs[50] < 3, `guests' playout times differ by a median of ${diffs[50].toFixed(2)} ms ${why}`);
  // …and each plays its frames when it planned to (capture time + delay).
  for (const h of [common.a, common.b]) {
    const off = common.keys.filter((k) => k in h.scheduled).map((k) => Math.abs(h.playout[k] - h.scheduled[k]));
    off.sort((x, y) => x - y);
    assert.ok(off.length > 50, "frames both scheduled and played");
    assert.ok(off[Math.floor(off.length / 2)] < 5, `median schedule error ${off[Math.floor(off.length / 2)]} ms`);
  }
  // Consecutive frames play back to back, 20 ms apart (the stream is continuous, not bunched).
  const seqs = common.keys.filter((k) => !k.startsWith("low/")).map(Number).sort((x, y) => x - y);
  const steps = seqs.slice(1).filter((s, i) => s === seqs[i] + 1).map((s) => common.a.playout[s] - common.a.playout[s - 1]);
  assert.ok(steps.length > 50);
  const even = steps.filter((step) => Math.abs(step - 20) < 1).length;
  assert.ok(even >= steps.length * 0.95, `${steps.length - even} of ${steps.length} frames did not follow the previous one 20 ms later`);

  // Participants: three people on every page, one host badge, on the host.
  for (const p of [host, ...guests]) {
    const people = p.getByTestId("participants");
    await waitFor(async () => (await people.locator("li").count()) === 3, 10_000, "three participants");
    assert.equal(await people.getByText("Host", { exact: true }).count(), 1);
    assert.match(await people.locator("li").first().innerText(), /Host/);
  }

  // The host sees the room's figures (one second ticks from the server).
  const stats = host.getByTestId("host-stats");
  await waitFor(async () => /Guests\s*2/.test(await stats.innerText()), 10_000, "host stats saying 2 guests");
  assert.match(await stats.innerText(), /\d+ kbps/);

  // Chat both ways, as text: markup must show literally.
  const hostMsg = "<b>x</b> from the host";
  await host.getByRole("textbox", { name: "Message" }).fill(hostMsg);
  await host.getByRole("button", { name: "Send" }).click();
  for (const g of guests) {
    const log = g.getByTestId("chat-log");
    await log.getByText(hostMsg, { exact: true }).waitFor();
    assert.equal(await log.locator("b").count(), 0, "chat must not render HTML");
  }
  await guests[1].getByRole("textbox", { name: "Message" }).fill("hello from a guest");
  await guests[1].getByRole("button", { name: "Send" }).click();
  await host.getByTestId("chat-log").getByText("hello from a guest").waitFor();

  // A guest renames; everyone's participant list shows the new name.
  await guests[0].getByLabel("Your name").fill("Phone Listener");
  await guests[0].getByRole("button", { name: "Rename" }).click();
  for (const p of [guests[0], guests[1], host]) {
    await p.getByTestId("participants").getByText("Phone Listener").waitFor();
  }

  // The rooms list shows the live room.
  const lister = await guests[1].context().newPage();
  await lister.goto(`${server.url}/rooms`);
  await lister.getByRole("link", { name: /Friday Night E2E/ }).getByText("Live").waitFor();
  await screenshot(lister, "rooms-list");
  await lister.close();

  await screenshot(host, "room-host-live");
  await screenshot(guests[0], "room-guest-phone");
  await screenshot(guests[1], "room-guest-desktop");

  // The host stops: guests are told.
  await host.getByRole("button", { name: "Stop broadcast" }).click();
  for (const g of guests) {
    await g.getByTestId("broadcast-stopped").waitFor({ timeout: 10_000 });
    assert.match(await g.getByTestId("listen-status").innerText(), /stopped/);
  }
  await host.getByText("Not broadcasting.").waitFor();

  assert.deepEqual(hostErrors, []);
  for (const errs of guestErrors) assert.deepEqual(errs, []);
  await hostCtx.close();
});

test("a password room asks for the password and refuses a wrong one", async () => {
  const ctx = await guestBrowser.newContext();
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/rooms`);
  await page.getByLabel("Room name").fill("Secret Room");
  await page.getByLabel("Password (optional)").fill("open sesame");
  await page.getByRole("button", { name: "Start room" }).click();
  await page.waitForURL(/\/room\//);
  await page.getByText("You are the host").waitFor();
  const link = await page.getByTestId("share-link").inputValue();

  const other = await (await guestBrowser.newContext()).newPage();
  await other.goto(link);
  await other.getByRole("heading", { name: "This room has a password" }).waitFor();
  await other.getByLabel("Password").fill("wrong");
  await other.getByRole("button", { name: "Join room" }).click();
  await other.getByText("That password is not right").waitFor();
  await other.getByLabel("Password").fill("open sesame");
  await other.getByRole("button", { name: "Join room" }).click();
  await other.getByRole("heading", { name: "Secret Room" }).waitFor();
  await other.getByText("Guest_", { exact: false }).first().waitFor();

  // An unknown room says so.
  await other.goto(`${server.url}/room/doesNotExist1`);
  await other.getByText("This room does not exist, or it has closed.").waitFor();
  assert.deepEqual(errors, []);
  await other.context().close();
  await ctx.close();
});
