import { describe, expect, it } from "vitest";
import { authErrorMessage, parseRetry, validateSetup } from "./authErrors";

const f = (status: number, code: string, message = "", retryAfter: number | null = null) => ({
  status,
  code,
  message,
  retryAfter,
});

describe("authErrorMessage", () => {
  it("explains wrong credentials", () => {
    expect(authErrorMessage(f(401, "invalid_credentials", "wrong username or password"), "signin")).toBe(
      "Wrong username or password.",
    );
  });
  it("gives the wait of a rate limit", () => {
    expect(authErrorMessage(f(429, "rate_limited", "too many requests; retry in 12 s", 12), "signin")).toBe(
      "Too many attempts. Please wait and try again in 12 seconds.",
    );
  });
  it("tells a lockout from a rate limit", () => {
    const m = authErrorMessage(f(429, "rate_limited", "", 240), "signin");
    expect(m).toMatch(/locked/);
    expect(m).toMatch(/in 4 minutes\./);
  });
  it("reads the wait from the message when the header is missing", () => {
    expect(authErrorMessage(f(429, "rate_limited", "too many requests; retry in 3 s"), "setup")).toMatch(
      /in 3 seconds/,
    );
    expect(parseRetry("nothing here")).toBeNull();
  });
  it("explains setup failures", () => {
    expect(authErrorMessage(f(403, "bad_setup_token"), "setup")).toMatch(/setup token is wrong/);
    expect(authErrorMessage(f(409, "already_set_up"), "setup")).toMatch(/already has an admin/);
    expect(
      authErrorMessage(f(400, "bad_request", "password must have at least 8 characters"), "setup"),
    ).toBe("Password must have at least 8 characters.");
  });
  it("covers the network and the server failing", () => {
    expect(authErrorMessage(f(0, "network"), "signin")).toMatch(/Can't reach/);
    expect(authErrorMessage(f(503, "unavailable"), "signin")).toMatch(/server had a problem/);
  });
});

describe("validateSetup", () => {
  const ok = { token: "t", username: "ada", password: "long enough", confirm: "long enough" };
  it("accepts a good form", () => expect(validateSetup(ok)).toBeNull());
  it("rejects what the server would", () => {
    expect(validateSetup({ ...ok, token: " " })).toMatch(/setup token/);
    expect(validateSetup({ ...ok, username: "" })).toMatch(/Choose/);
    expect(validateSetup({ ...ok, username: " ada" })).toMatch(/space/);
    expect(validateSetup({ ...ok, username: "x".repeat(65) })).toMatch(/64/);
    expect(validateSetup({ ...ok, password: "short", confirm: "short" })).toMatch(/8 characters/);
    expect(validateSetup({ ...ok, confirm: "different" })).toMatch(/do not match/);
  });
});
