import { describe, expect, it } from "vitest";
import { NO_PARTICIPANTS, applyParticipants, sortedParticipants, toParticipant } from "./participants";

const host = { userId: "h", username: "Hana", isHost: true };
const ann = { userId: "a", username: "Ann", isHost: false };
const bob = { userId: "b", username: "Bob", isHost: false };

describe("participants", () => {
  it("starts from the list sent on join", () => {
    const s = applyParticipants(NO_PARTICIPANTS, { type: "list", participants: [ann, host], participantCount: 2 });
    expect(s.hostId).toBe("h");
    expect(sortedParticipants(s).map((p) => p.username)).toEqual(["Hana", "Ann"]);
  });

  it("adds joiners once and removes leavers", () => {
    let s = applyParticipants(NO_PARTICIPANTS, { type: "list", participants: [host], participantCount: 1 });
    s = applyParticipants(s, { type: "joined", participant: bob, participantCount: 2 });
    s = applyParticipants(s, { type: "joined", participant: bob, participantCount: 2 });
    expect(s.list).toHaveLength(2);
    s = applyParticipants(s, { type: "left", userId: "b", participantCount: 1 });
    expect(s.list.map((p) => p.userId)).toEqual(["h"]);
    expect(s.count).toBe(1);
  });

  it("applies batched updates and keeps the server's exact count", () => {
    let s = applyParticipants(NO_PARTICIPANTS, { type: "list", participants: [host, ann], participantCount: 2 });
    s = applyParticipants(s, { type: "update", joined: [bob], left: [{ userId: "a" }], participantCount: 140 });
    expect(s.list.map((p) => p.userId).sort()).toEqual(["b", "h"]);
    expect(s.count).toBe(140);
  });

  it("moves the host badge when someone joins with the host token", () => {
    let s = applyParticipants(NO_PARTICIPANTS, { type: "list", participants: [host, ann], participantCount: 2 });
    s = applyParticipants(s, { type: "joined", participant: { ...ann, isHost: true } });
    expect(s.hostId).toBe("a");
    expect(s.list.filter((p) => p.isHost).map((p) => p.userId)).toEqual(["a"]);
  });

  it("renames", () => {
    let s = applyParticipants(NO_PARTICIPANTS, { type: "list", participants: [ann] });
    s = applyParticipants(s, { type: "renamed", userId: "a", username: "Annie" });
    expect(s.list[0].username).toBe("Annie");
  });

  it("reads server payloads defensively", () => {
    expect(toParticipant({ userId: "x", username: "X", isHost: true })).toEqual({ userId: "x", username: "X", isHost: true });
    expect(toParticipant({ username: "no id" })).toBeNull();
    expect(toParticipant(null)).toBeNull();
  });
});
