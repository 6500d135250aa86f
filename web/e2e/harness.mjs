// Shared end-to-end harness: a real Tonearm server on loopback over a fresh data dir with a
// generated library, and headless Debian Chromium driven by playwright-core.
//
// E2E_SERVER_BIN (default ../target/debug/tonearm) is the server binary; the web app must be built
// (`npm run build`) — the server serves WEB_DIST (default web/dist) at `/`.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import readline from "node:readline";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const webRoot = path.resolve(here, "..");
export const repoRoot = path.resolve(webRoot, "..");
export const bin = process.env.E2E_SERVER_BIN ?? path.join(repoRoot, "target/debug/tonearm");
export const artifacts = path.join(webRoot, "e2e-artifacts");
/** The built app the server serves: WEB_DIST, or web/dist. */
export const dist = process.env.WEB_DIST ?? path.join(webRoot, "dist");
export const ADMIN = { username: "admin", password: "correct horse battery staple" };

/** Writes a tagged FLAC of `seconds` of a `freq` Hz sine (stereo, 44.1 kHz) with ffmpeg. */
export function makeTrack(file, { title, artist, album, track = 1, disc, freq = 440, seconds = 20 }) {
  mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("ffmpeg", [
    "-v", "error", "-y", "-f", "lavfi",
    "-i", `sine=frequency=${freq}:sample_rate=44100:duration=${seconds}`,
    "-ac", "2",
    "-metadata", `title=${title}`, "-metadata", `artist=${artist}`,
    "-metadata", `album=${album}`, "-metadata", `track=${track}`,
    ...(disc ? ["-metadata", `disc=${disc}`] : []),
    file,
  ]);
}

/** The default generated library: two artists, three albums, five tracks. */
export function defaultLibrary(lib) {
  makeTrack(path.join(lib, "Aurora Tones/First Light/01.flac"), { title: "Dawn Chorus", artist: "Aurora Tones", album: "First Light", track: 1, freq: 440 });
  makeTrack(path.join(lib, "Aurora Tones/First Light/02.flac"), { title: "Morning Haze", artist: "Aurora Tones", album: "First Light", track: 2, freq: 523.25 });
  makeTrack(path.join(lib, "Aurora Tones/Late Bloom/01.flac"), { title: "Evening Ember", artist: "Aurora Tones", album: "Late Bloom", track: 1, freq: 659.25 });
  makeTrack(path.join(lib, "Björk Sine/Pure Waves/01.flac"), { title: "Café Oscillation", artist: "Björk Sine", album: "Pure Waves", track: 1, freq: 330 });
  makeTrack(path.join(lib, "Björk Sine/Pure Waves/02.flac"), { title: "Zero Crossing", artist: "Björk Sine", album: "Pure Waves", track: 2, freq: 392 });
}

/**
 * Starts `tonearm serve` on a free port. Options: `library(dir)` fills the library (default
 * `defaultLibrary`), `env` adds environment variables, `admin` (default true) creates ADMIN.
 * Returns `{ url, data, lib, stop() }`; the start-up scan has finished when it resolves.
 */
export async function startServer({ library = defaultLibrary, env = {}, admin = true } = {}) {
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: build it (cargo build -p tonearm)`);
  if (!existsSync(path.join(dist, "index.html"))) throw new Error(`${dist} has no index.html: npm run build`);
  const dir = mkdtempSync(path.join(tmpdir(), "tonearm-e2e-"));
  const data = path.join(dir, "data");
  const lib = path.join(dir, "lib");
  mkdirSync(lib, { recursive: true });
  library(lib);
  if (admin) {
    execFileSync(bin, ["--data", data, "user", "add", ADMIN.username, "--admin"], {
      input: ADMIN.password + "\n",
      stdio: ["pipe", "ignore", "inherit"],
    });
  }
  const child = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--data", data, "--library", lib], {
    env: {
      ...process.env,
      RUST_LOG: "warn",
      TONEARM_WEB__DIR: dist,
      TONEARM_DEMO_ON_EMPTY: "false",
      // Analysing every track would load the machine under every test; the analysis test asks.
      TONEARM_JOBS__ANALYSIS_ALL: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = readline.createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start in 60 s")), 60_000);
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      const m = /^listening on (\S+)/.exec(line.trim());
      m ? resolve(m[1]) : reject(new Error(`unexpected first line: ${line}`));
    });
  });
  lines.on("line", () => {}); // keep draining stdout
  const server = {
    url,
    data,
    lib,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitFor(async () => {
    const r = await fetch(`${url}/api/library/scan`, { headers: await adminHeaders(server) });
    if (!r.ok) return false;
    const s = await r.json();
    return !s.running && s.finished_at_ms > 0 ? s : false;
  }, 60_000, "the start-up scan");
  return server;
}

let tokens = new Map();
/** `Authorization` headers for ADMIN on `server` (logs in once per server). */
export async function adminHeaders(server) {
  if (!tokens.has(server.url)) {
    const r = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ADMIN),
    });
    if (!r.ok) throw new Error(`admin login: ${r.status} ${await r.text()}`);
    tokens.set(server.url, (await r.json()).access_token);
  }
  return { authorization: `Bearer ${tokens.get(server.url)}` };
}

/** Polls `check` (async, returns a truthy value when done) until it succeeds or `ms` pass. */
export async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Launches headless Chromium (Debian's /usr/bin/chromium; CHROMIUM overrides) with the flags
 * this closed network needs, plus `args` (e.g. fake capture devices). Autoplay is allowed.
 */
export async function launchBrowser(args = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
      ...args,
    ],
  });
}

/** Saves a full-page screenshot to e2e-artifacts/NAME.png (a test artifact for people). */
export async function screenshot(page, name) {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Collects page errors and console errors so a test can assert there were none. */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  return errors;
}
