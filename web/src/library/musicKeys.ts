// Pitch classes and keys as the audio analysis names them (tonics with sharps: "F# major").

/** Pitch classes in chroma order (index 0 is C). */
export const PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"] as const;

/** Every key the analysis names, by mode, in pitch order. */
export const KEYS = {
  major: PITCH_CLASSES.map((p) => `${p} major`),
  minor: PITCH_CLASSES.map((p) => `${p} minor`),
} as const;

/** A pitch class as a screen reader should say it: "C sharp", "A". */
export function spokenPitch(pc: number): string {
  return (PITCH_CLASSES[pc] ?? "?").replace("#", " sharp");
}

/** A key's place in pitch order, major before minor at each tonic ("C major" 0, "C minor" 1,
 * "C# major" 2 …), as the server's `sort=key` orders; unknown names sort last. */
export function keyOrder(name: string): number {
  const [tonic, mode] = name.split(" ");
  const pc = PITCH_CLASSES.indexOf(tonic as (typeof PITCH_CLASSES)[number]);
  if (pc < 0) return Number.MAX_SAFE_INTEGER;
  return pc * 2 + (mode === "minor" ? 1 : 0);
}
