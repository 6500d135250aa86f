// The library screens against a real server: sign-in (wrong password, then right), browsing
// artists → artist → album, the albums grid, sorting the tracks table, instant search, and as
// admin a scan with its progress bar and uploads (file input and a real drop) that become
// playable. A phone-sized pass checks nothing overflows sideways; a 130-track library checks that
// a column sort with rows still unloaded asks the server for that order.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync, spawn } from "node:child_process";
import readline from "node:readline";
import { ADMIN, adminHeaders, bin, dist, launchBrowser, makeTrack, screenshot, startServer, waitFor, watchErrors } from "./harness.mjs";

let server;
let browser;
let context;
let page;
let errors;
const tmp = mkdtempSync(path.join(tmpdir(), "tonearm-library-e2e-"));
/** Requests the page made to the API (to prove search is the server's). */
const apiRequests = [];

before(async () => {
  server = await startServer({ env: { TONEARM_JOBS__HLS_ALL: "true" } });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  errors = watchErrors(page);
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/api/")) apiRequests.push(u.pathname + u.search);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Errors other than the ones a test provoked on purpose (the wrong password's 401). */
function unexpectedErrors() {
  return errors.filter((e) => !/status of (401|415)/.test(e));
}

/** The visible track titles of the tracks table, in order. */
async function titles() {
  return page.locator("table.tracks tbody .play-title").allTextContents();
}

test("a signed-out visit to /tracks goes to sign-in; a wrong password is explained; then signs in", async () => {
  await page.goto(`${server.url}/tracks`);
  await page.waitForURL((u) => u.pathname === "/signin" && u.searchParams.get("next") === "/tracks");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), "Wrong username or password.");
  await screenshot(page, "signin");

  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Back where the visit was headed, with the server's five tracks.
  await page.waitForURL((u) => u.pathname === "/tracks");
  await page.locator("table.tracks tbody tr").nth(4).waitFor();
  assert.equal(await page.locator("table.tracks tbody tr").count(), 5);
  assert.match(await page.locator(".user-box").textContent(), /admin/);
});

test("library home shows the library's size, albums and artists", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Home" }).click();
  await page.waitForURL((u) => u.pathname === "/");
  const stats = page.getByTestId("library-stats");
  await stats.waitFor();
  assert.equal((await stats.textContent()).trim(), "2 artists · 3 albums · 5 tracks");
  await page.getByRole("list", { name: "Artists" }).getByText("Björk Sine").waitFor();
  await screenshot(page, "library-home");
});

test("browse artists → artist page → album page", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Artists" }).click();
  await page.waitForURL((u) => u.pathname === "/artists");
  const list = page.getByRole("list", { name: "Artists" });
  await list.getByText("Aurora Tones").waitFor();
  assert.deepEqual(await list.locator(".artist-name").allTextContents(), ["Aurora Tones", "Björk Sine"]);

  await list.getByRole("link", { name: /Aurora Tones/ }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/artists/"));
  await page.getByRole("heading", { level: 1, name: "Aurora Tones" }).waitFor();
  const albums = page.getByRole("list", { name: "Albums by Aurora Tones" });
  await albums.locator(".album-name").first().waitFor();
  assert.deepEqual(await albums.locator(".album-name").allTextContents(), ["First Light", "Late Bloom"]);
  // The router focuses the new page's heading (screen readers announce it).
  assert.equal(await page.evaluate(() => document.activeElement?.tagName), "H1");

  await albums.getByRole("link", { name: /First Light/ }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/albums/"));
  await page.getByRole("heading", { level: 1, name: "First Light" }).waitFor();
  await page.locator("table.tracks tbody tr").nth(1).waitFor();
  assert.deepEqual(await titles(), ["Dawn Chorus", "Morning Haze"]);
  assert.match(await page.locator(".album-credits").textContent(), /Aurora Tones/);
  await page.getByRole("button", { name: "Play First Light", exact: true }).waitFor();
  await page.getByRole("button", { name: "Shuffle First Light", exact: true }).waitFor();

  // Clicking a title plays the album from there: the player's audio advances and the row is marked.
  await page.getByRole("button", { name: "Play Morning Haze by Aurora Tones" }).click();
  await page.waitForFunction(() => {
    const p = window.__tonearmPlayer;
    return p?.state().current?.title === "Morning Haze" && p.audio.currentTime > 0.5;
  }, null, { timeout: 20_000 });
  assert.equal(await page.locator("table.tracks tbody tr[aria-current]").locator(".play-title").textContent(), "Morning Haze");
  await screenshot(page, "album-page");

  // Back returns to the artist page (real history entries).
  await page.goBack();
  await page.getByRole("heading", { level: 1, name: "Aurora Tones" }).waitFor();
});

test("albums grid shows a cover or a placeholder for every album", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Albums" }).click();
  const grid = page.getByRole("list", { name: "Albums" });
  await grid.locator(".album-card").nth(2).waitFor();
  assert.deepEqual(await grid.locator(".album-name").allTextContents(), ["First Light", "Late Bloom", "Pure Waves"]);
  const covers = await grid.locator(".album-card").evaluateAll((cards) =>
    cards.map((c) => {
      const img = c.querySelector("img.cover");
      if (img) return img.complete && img.naturalWidth > 0 ? "image" : "broken";
      return c.querySelector(".cover.placeholder")?.textContent ?? "none";
    }),
  );
  // The generated files have no art: placeholders with the album's initials.
  assert.deepEqual(covers, ["FL", "LB", "PW"]);
  await screenshot(page, "albums-grid");
});

test("the tracks table sorts by column, both ways", async () => {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tracks" }).click();
  await page.locator("table.tracks tbody tr").nth(4).waitFor();
  const sortBy = (name) => page.locator("table.tracks thead").getByRole("button", { name }).click();
  const all = ["Café Oscillation", "Dawn Chorus", "Evening Ember", "Morning Haze", "Zero Crossing"];
  apiRequests.length = 0;

  await sortBy("Title");
  assert.deepEqual(await titles(), all);
  assert.equal(await page.locator("th.col-title").getAttribute("aria-sort"), "ascending");
  await sortBy("Title");
  assert.deepEqual(await titles(), [...all].reverse());
  assert.equal(await page.locator("th.col-title").getAttribute("aria-sort"), "descending");

  await sortBy("Artist");
  await sortBy("Artist");
  const artists = await page.locator("table.tracks tbody td.col-artist").allTextContents();
  assert.deepEqual(artists, ["Björk Sine", "Björk Sine", "Aurora Tones", "Aurora Tones", "Aurora Tones"]);
  // Ties keep album order: Pure Waves 1, 2.
  assert.deepEqual((await titles()).slice(0, 2), ["Café Oscillation", "Zero Crossing"]);

  await sortBy("Album");
  const albums = await page.locator("table.tracks tbody td.col-album").allTextContents();
  assert.deepEqual(albums, ["First Light", "First Light", "Late Bloom", "Pure Waves", "Pure Waves"]);
  // Every row was loaded, so the table sorted them itself; the server is asked for an order
  // only when more rows exist than are loaded (the API's sort is tested in the Rust suite).
  assert.ok(!apiRequests.some((r) => r.includes("sort=")), apiRequests.join(" "));
  await screenshot(page, "tracks-table");
});

test("instant search finds “Café Oscillation” for “cafe” as you type, without Enter", async () => {
  const box = page.getByRole("searchbox", { name: "Search tracks, albums and artists" });
  await box.click();
  apiRequests.length = 0;
  await page.keyboard.type("cafe", { delay: 60 });
  await page.waitForURL((u) => u.pathname === "/search" && u.searchParams.get("q") === "cafe");
  await page.getByTestId("search-summary").filter({ hasText: "1 track" }).waitFor();
  assert.deepEqual(await titles(), ["Café Oscillation"]);
  // The match is the server's (accent-insensitive), asked while typing; focus stayed in the box.
  assert.ok(apiRequests.some((r) => r.startsWith("/api/tracks?") && new URLSearchParams(r.split("?")[1]).get("q") === "cafe"));
  assert.equal(await page.evaluate(() => document.activeElement?.id), "search-input");
  await screenshot(page, "search");

  // Typing more narrows the results again, still without a submit.
  await page.keyboard.type(" zzz", { delay: 30 });
  await page.getByText("No tracks match “cafe zzz”.").waitFor();
  await box.fill("");
});

test("admin: a scan shows its progress bar reaching done and catalogues a new file", async () => {
  makeTrack(path.join(server.lib, "Aurora Tones/Late Bloom/02.flac"), {
    title: "Night Bloom", artist: "Aurora Tones", album: "Late Bloom", track: 2, freq: 587.33,
  });
  execFileSync("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "gradients=s=400x400:c0=0x2a6fdb:c1=0xf2a541",
    "-frames:v", "1", path.join(server.lib, "Aurora Tones/Late Bloom/cover.jpg")]);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await page.getByRole("heading", { level: 2, name: "Library scan" }).waitFor();
  await page.getByRole("button", { name: "Scan library" }).click();
  const progress = page.getByTestId("scan-progress");
  await page.locator('[data-testid="scan-progress"][data-done="true"]').waitFor({ timeout: 30_000 });
  assert.equal(await progress.locator("progress").evaluate((p) => p.value), 1);
  assert.match(await progress.textContent(), /Scan complete: 6 files found, 1 read, 5 unchanged/);
  const r = await fetch(`${server.url}/api/tracks?q=night bloom`, { headers: await adminHeaders(server) });
  assert.equal((await r.json()).total, 1);

  // The new file came with a folder image: its album now shows a real cover, fetched by an
  // <img> that carries the access token in its URL.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Albums" }).click();
  const card = page.getByRole("list", { name: "Albums" }).locator(".album-card").filter({ hasText: "Late Bloom" });
  const img = card.locator("img.cover");
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 15_000 });
  assert.match(await img.getAttribute("src"), /\/cover\?size=200&access_token=/);
  await screenshot(page, "albums-grid-cover");
});

test("admin: uploads (file picker and a real drop) show progress, then become ready and playable", async () => {
  const picked = path.join(tmp, "Fresh Upload.flac");
  makeTrack(picked, { title: "Fresh Upload", artist: "Uploader", album: "Uploads", freq: 220, seconds: 12 });
  const junk = path.join(tmp, "notes.txt");
  writeFileSync(junk, "these are not sounds\n".repeat(50));
  const dropped = path.join(tmp, "Dropped Tone.flac");
  makeTrack(dropped, { title: "Dropped Tone", artist: "Uploader", album: "Uploads", track: 2, freq: 880, seconds: 12 });

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await page.getByTestId("dropzone").waitFor();
  await page.locator("#upload-input").setInputFiles([picked, junk]);
  const item = (name) => page.getByTestId("upload-item").filter({ hasText: name });

  // The junk file fails alone, with the server's reason.
  await item("notes.txt").and(page.locator('[data-phase="failed"]')).waitFor({ timeout: 30_000 });
  assert.match(await item("notes.txt").getByTestId("upload-status").textContent(), /notes\.txt.*not playable audio/);

  // A real drop: a DataTransfer with the file's bytes, dispatched on the drop zone.
  const bytes = readFileSync(dropped).toString("base64");
  await page.getByTestId("dropzone").evaluate((zone, b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], "Dropped Tone.flac", { type: "audio/flac" }));
    for (const type of ["dragenter", "dragover", "drop"]) {
      zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }
  }, bytes);

  for (const name of ["Fresh Upload.flac", "Dropped Tone.flac"]) {
    await item(name).and(page.locator('[data-phase="ready"]')).waitFor({ timeout: 90_000 });
    assert.equal((await item(name).getByTestId("upload-status").textContent()).trim(), "Ready to play");
  }
  await screenshot(page, "admin");

  // Playable from the upload list: the player starts it and its time advances.
  await item("Fresh Upload.flac").getByRole("button", { name: /Play/ }).click();
  await page.waitForFunction(() => {
    const p = window.__tonearmPlayer;
    return p?.state().current?.title === "Fresh Upload" && p.audio.currentTime > 0.5;
  }, null, { timeout: 20_000 });

  // Ready means packaged: the server agrees and serves the HLS playlist.
  const headers = await adminHeaders(server);
  const found = await (await fetch(`${server.url}/api/tracks?q=fresh upload`, { headers })).json();
  assert.equal(found.total, 1);
  const id = found.items[0].id;
  assert.equal((await (await fetch(`${server.url}/api/tracks/${id}/processing`, { headers })).json()).status, "ready");
  const master = await fetch(`${server.url}/api/tracks/${id}/hls/master.m3u8`, { headers });
  assert.equal(master.status, 200);

  // And both uploads are in the tracks list.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Tracks" }).click();
  await page.locator("table.tracks tbody tr").nth(7).waitFor();
  const list = await titles();
  assert.ok(list.includes("Fresh Upload") && list.includes("Dropped Tone"), list.join(", "));
});

test("on a phone-sized screen nothing overflows sideways", async () => {
  const phone = await context.newPage();
  const phoneErrors = watchErrors(phone);
  await phone.setViewportSize({ width: 375, height: 780 });
  for (const p of ["/", "/tracks", "/albums", "/admin"]) {
    await phone.goto(`${server.url}${p}`);
    await phone.locator("main h1").waitFor();
    await phone.waitForLoadState("networkidle");
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 375, `${p} is ${width}px wide`);
  }
  await phone.goto(`${server.url}/`);
  await phone.getByTestId("library-stats").waitFor();
  await screenshot(phone, "library-home-phone");
  assert.deepEqual(phoneErrors, []);
  await phone.close();
});

test("sign out ends the session: library screens go back to sign-in", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL((u) => u.pathname === "/signin");
  await page.goto(`${server.url}/albums`);
  await page.waitForURL((u) => u.pathname === "/signin" && u.searchParams.get("next") === "/albums");
  assert.deepEqual(unexpectedErrors(), []);
});

test("repeated wrong passwords lock the name, with a message and a countdown", async () => {
  const other = await browser.newPage();
  await other.goto(`${server.url}/signin`);
  await other.getByLabel("Username").fill("mallory");
  const alert = other.getByRole("alert");
  // Five failures are free (each one "wrong password"); the sixth attempt meets the lockout.
  for (let i = 0; i < 6; i++) {
    await other.getByLabel("Password").fill(`guess ${i}`);
    await other.getByRole("button", { name: "Sign in" }).click();
    await waitFor(async () => (await alert.count()) > 0 && !(await other.getByRole("button", { name: "Signing in…" }).count()), 10_000, "an answer");
    if (i < 5) assert.equal((await alert.textContent()).trim(), "Wrong username or password.");
  }
  await alert.filter({ hasText: "locked" }).waitFor();
  assert.match(await alert.textContent(), /Too many failed sign-in attempts.*Try again in 1 minute\./);
  const button = other.locator("form button[type=submit]");
  assert.equal(await button.isDisabled(), true);
  assert.match(await button.textContent(), /Try again in \d+ s/);
  await screenshot(other, "signin-locked");
  await other.close();
});

/**
 * A server with no users (the harness always creates ADMIN): returns its URL and the one-time
 * setup token it prints after "listening on".
 */
async function startEmptyServer() {
  const dir = path.join(tmp, "empty");
  mkdirSync(path.join(dir, "lib"), { recursive: true });
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--data", path.join(dir, "data"), "--library", path.join(dir, "lib")], {
    env: { ...process.env, RUST_LOG: "warn", TONEARM_WEB__DIR: dist, TONEARM_DEMO_ON_EMPTY: "false" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  let url = null;
  const token = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no setup token in 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    lines.on("line", (line) => {
      url ??= /^listening on (\S+)/.exec(line.trim())?.[1] ?? null;
      const m = /"token": "([^"]+)"/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return {
    url,
    token,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
    },
  };
}

test("first-admin setup: a new server sends visitors to setup, explains a bad token, then signs the admin in", async () => {
  const empty = await startEmptyServer();
  const p = await browser.newPage();
  const pageErrors = watchErrors(p);
  try {
    await p.goto(`${empty.url}/tracks`);
    await p.waitForURL((u) => u.pathname === "/setup");
    await p.getByLabel("Setup token").fill("not-the-token");
    await p.getByLabel("Admin username").fill("root");
    await p.getByLabel("Password", { exact: true }).fill("short");
    await p.getByLabel("Repeat password").fill("short");
    await p.getByRole("button", { name: "Create admin and sign in" }).click();
    // Checked before sending: the server's own rule, in the form's words.
    assert.equal((await p.getByRole("alert").textContent()).trim(), "Passwords need at least 8 characters.");

    await p.getByLabel("Password", { exact: true }).fill("root-password");
    await p.getByLabel("Repeat password").fill("root-password");
    await p.getByRole("button", { name: "Create admin and sign in" }).click();
    await p.getByRole("alert").filter({ hasText: "setup token is wrong" }).waitFor();
    await screenshot(p, "setup");

    await p.getByLabel("Setup token").fill(empty.token);
    await p.getByRole("button", { name: "Create admin and sign in" }).click();
    await p.waitForURL((u) => u.pathname === "/");
    await p.getByText("The library is empty.").waitFor();
    assert.match(await p.locator(".user-box").textContent(), /root/);
    assert.deepEqual(pageErrors.filter((e) => !/status of 403/.test(e)), []);
  } finally {
    await p.close();
    await empty.stop();
  }
});


/** A short silent 8 kHz mono WAV (the scanner titles an untagged file by its name). */
function silentWav(file) {
  const samples = 1600;
  const b = Buffer.alloc(44 + samples * 2);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write("WAVEfmt ", 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write("data", 36);
  b.writeUInt32LE(samples * 2, 40);
  writeFileSync(file, b);
}

test("with more tracks than loaded, a column sort asks the server for the true first page", async () => {
  const big = await startServer({
    library: (lib) => {
      for (let i = 1; i <= 130; i++) silentWav(path.join(lib, `Track ${String(i).padStart(3, "0")}.wav`));
    },
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  try {
    const r = await fetch(`${big.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    const session = await r.json();
    await ctx.addInitScript((s) => localStorage.setItem("tonearm.session", s), JSON.stringify(session));
    const p = await ctx.newPage();
    const asked = [];
    p.on("request", (q) => {
      const u = new URL(q.url());
      if (u.pathname === "/api/tracks") asked.push(u.searchParams);
    });
    await p.goto(`${big.url}/tracks`);
    const rows = p.locator("table.tracks tbody .play-title");
    await rows.nth(99).waitFor();
    assert.equal(await rows.count(), 100, "one page of 100 loaded");
    const sortBy = () => p.locator("table.tracks thead").getByRole("button", { name: "Title" }).click();
    await sortBy(); // ascending
    await sortBy(); // descending: the last tracks are not loaded, so the server must order them
    await waitFor(async () => (await rows.first().textContent()) === "Track 130", 15_000, "Track 130 to come first");
    assert.equal(await rows.nth(1).textContent(), "Track 129");
    assert.ok(
      asked.some((q) => q.get("sort") === "title" && q.get("order") === "desc" && q.get("offset") === "0"),
      asked.map(String).join(" "),
    );
    // Loading more continues in that order.
    await p.getByRole("button", { name: "Load more" }).click();
    await rows.nth(129).waitFor();
    assert.equal(await rows.nth(129).textContent(), "Track 001");
  } finally {
    await ctx.close();
    await big.stop();
  }
});
