import { describe, expect, it } from "vitest";
import { matchRoute, paths, requiresAuth, safeNext } from "./match";

describe("matchRoute", () => {
  it("matches every screen", () => {
    expect(matchRoute("/")).toEqual({ name: "home" });
    expect(matchRoute("/tracks")).toEqual({ name: "tracks" });
    expect(matchRoute("/track/t9")).toEqual({ name: "track", id: "t9" });
    expect(matchRoute("/albums")).toEqual({ name: "albums" });
    expect(matchRoute("/albums/abc")).toEqual({ name: "album", id: "abc" });
    expect(matchRoute("/artists")).toEqual({ name: "artists" });
    expect(matchRoute("/artists/x1")).toEqual({ name: "artist", id: "x1" });
    expect(matchRoute("/search", "?q=caf%C3%A9")).toEqual({ name: "search", q: "café" });
    expect(matchRoute("/search")).toEqual({ name: "search", q: "" });
    expect(matchRoute("/admin")).toEqual({ name: "admin" });
    expect(matchRoute("/rooms")).toEqual({ name: "rooms" });
    expect(matchRoute("/room/r-42")).toEqual({ name: "room", id: "r-42" });
    expect(matchRoute("/signin")).toEqual({ name: "signin", next: "/" });
    expect(matchRoute("/setup")).toEqual({ name: "setup" });
  });

  it("tolerates a trailing slash", () => {
    expect(matchRoute("/tracks/")).toEqual({ name: "tracks" });
    expect(matchRoute("/albums/abc/")).toEqual({ name: "album", id: "abc" });
  });

  it("rejects unknown, too deep and malformed paths", () => {
    expect(matchRoute("/nope").name).toBe("notFound");
    expect(matchRoute("/albums/a/b").name).toBe("notFound");
    expect(matchRoute("/albums/%E0%A4%A").name).toBe("notFound");
    expect(matchRoute("/tracks/abc").name).toBe("notFound");
    expect(matchRoute("/track").name).toBe("notFound");
    expect(matchRoute("/track/a/analysis").name).toBe("notFound");
  });

  it("round-trips ids through paths", () => {
    for (const id of ["plain", "with space", "a/b", "ü?#&%"]) {
      expect(matchRoute(paths.album(id))).toEqual({ name: "album", id });
      expect(matchRoute(paths.track(id))).toEqual({ name: "track", id });
      expect(matchRoute(paths.artist(id))).toEqual({ name: "artist", id });
      expect(matchRoute(paths.room(id))).toEqual({ name: "room", id });
    }
    const s = paths.search("a & b");
    const q = s.indexOf("?");
    expect(matchRoute(s.slice(0, q), s.slice(q))).toEqual({ name: "search", q: "a & b" });
  });

  it("carries a safe post-sign-in destination", () => {
    const s = paths.signin("/albums/x?y=1");
    const q = s.indexOf("?");
    expect(matchRoute(s.slice(0, q), s.slice(q))).toEqual({ name: "signin", next: "/albums/x?y=1" });
    expect(paths.signin("/")).toBe("/signin");
  });
});

describe("safeNext", () => {
  it("keeps in-app paths only", () => {
    expect(safeNext("/tracks")).toBe("/tracks");
    expect(safeNext(null)).toBe("/");
    expect(safeNext("https://evil.example")).toBe("/");
    expect(safeNext("//evil.example")).toBe("/");
    expect(safeNext("/\\evil.example")).toBe("/");
    expect(safeNext("/signin")).toBe("/");
  });
});

describe("requiresAuth", () => {
  it("lets rooms and the sign-in screens through", () => {
    expect(requiresAuth({ name: "rooms" })).toBe(false);
    expect(requiresAuth({ name: "room", id: "x" })).toBe(false);
    expect(requiresAuth({ name: "signin", next: "/" })).toBe(false);
    expect(requiresAuth({ name: "setup" })).toBe(false);
    expect(requiresAuth({ name: "tracks" })).toBe(true);
    expect(requiresAuth({ name: "track", id: "t" })).toBe(true);
    expect(requiresAuth({ name: "home" })).toBe(true);
    expect(requiresAuth({ name: "admin" })).toBe(true);
  });
});
