import { describe, expect, it } from "vitest";
import { keyAction, type KeyPress } from "./keyboard";

const press = (key: string, more: Partial<KeyPress> = {}): KeyPress => ({
  key,
  shiftKey: false,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  repeat: false,
  target: { tag: "BODY" },
  ...more,
});

describe("keyAction", () => {
  it("maps the shortcuts", () => {
    expect(keyAction(press(" "))).toEqual({ kind: "toggle" });
    expect(keyAction(press("ArrowLeft"))).toEqual({ kind: "seek", by: -10 });
    expect(keyAction(press("ArrowRight"))).toEqual({ kind: "seek", by: 10 });
    expect(keyAction(press("ArrowLeft", { shiftKey: true }))).toEqual({ kind: "previous" });
    expect(keyAction(press("ArrowRight", { shiftKey: true }))).toEqual({ kind: "next" });
    expect(keyAction(press("m"))).toEqual({ kind: "mute" });
    expect(keyAction(press("M", { shiftKey: true }))).toEqual({ kind: "mute" });
    expect(keyAction(press("x"))).toBeNull();
  });

  it("stays out of form fields and editable text", () => {
    for (const tag of ["INPUT", "TEXTAREA", "SELECT"]) {
      expect(keyAction(press(" ", { target: { tag } }))).toBeNull();
      expect(keyAction(press("m", { target: { tag } }))).toBeNull();
      expect(keyAction(press("ArrowLeft", { target: { tag, type: "range" } }))).toBeNull();
    }
    expect(keyAction(press("m", { target: { tag: "DIV", editable: true } }))).toBeNull();
    expect(keyAction(press("ArrowRight", { target: { tag: "DIV", role: "slider" } }))).toBeNull();
  });

  it("lets Space activate a focused button or link, but arrows still seek there", () => {
    expect(keyAction(press(" ", { target: { tag: "BUTTON" } }))).toBeNull();
    expect(keyAction(press(" ", { target: { tag: "A" } }))).toBeNull();
    expect(keyAction(press(" ", { target: { tag: "DIV", role: "button" } }))).toBeNull();
    expect(keyAction(press("ArrowRight", { target: { tag: "BUTTON" } }))).toEqual({ kind: "seek", by: 10 });
  });

  it("leaves browser shortcuts and auto-repeat alone", () => {
    expect(keyAction(press("ArrowLeft", { altKey: true }))).toBeNull();
    expect(keyAction(press("m", { ctrlKey: true }))).toBeNull();
    expect(keyAction(press(" ", { metaKey: true }))).toBeNull();
    expect(keyAction(press(" ", { repeat: true }))).toBeNull();
    expect(keyAction(press("ArrowRight", { repeat: true }))).toEqual({ kind: "seek", by: 10 });
  });

  it("works with no focused element", () => {
    expect(keyAction(press(" ", { target: null }))).toEqual({ kind: "toggle" });
  });
});
