import { describe, expect, it } from "vitest";
import { clockTime, ms, plural } from "./format";
import { closedMessage, errorMessage, roomIdFrom } from "./messages";

describe("format", () => {
  it("formats clock times, durations and counts", () => {
    expect(clockTime(83)).toBe("1:23");
    expect(clockTime(3723)).toBe("1:02:03");
    expect(ms(12.4)).toBe("12 ms");
    expect(ms(1440)).toBe("1.4 s");
    expect(ms(Number.NaN)).toBe("–");
    expect(plural(1, "guest")).toBe("1 guest");
    expect(plural(3, "guest")).toBe("3 guests");
  });
});

describe("messages", () => {
  it("finds a room id in a share link, a path or on its own", () => {
    expect(roomIdFrom("https://music.example/room/AbC-12_x")).toBe("AbC-12_x");
    expect(roomIdFrom("/room/abc?x=1")).toBe("abc");
    expect(roomIdFrom("  abc123 ")).toBe("abc123");
    expect(roomIdFrom("")).toBeNull();
    expect(roomIdFrom("not a room")).toBeNull();
  });

  it("has a human message for every server error code", () => {
    for (const code of ["bad_password", "bad_name", "chat_too_long", "chat_rate_limited", "server_full", "room_refused"]) {
      expect(errorMessage(code, "x")).not.toBe("");
    }
    expect(errorMessage("chat_rate_limited", "")).toMatch(/too quickly/);
    expect(errorMessage("unknown_code", "Raw text")).toBe("Raw text");
    expect(closedMessage("closed by host")).toBe("The host closed this room.");
    expect(closedMessage("idle")).toMatch(/away/);
  });
});
