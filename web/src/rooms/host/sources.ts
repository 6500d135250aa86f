// Where a host's audio comes from. Each source ends as an AudioNode in the broadcast's
// AudioContext; `stop` releases the device or element.

export type SourceKind = "mic" | "tab" | "file" | "track";

export type SourceChoice =
  | { kind: "mic" }
  | { kind: "tab" }
  | { kind: "file"; file: File }
  | { kind: "track"; url: string; title: string };

export interface OpenSource {
  node: AudioNode;
  /** A person-readable name for what is on air. */
  label: string;
  /** Seconds the device adds before audio reaches the context (capture latency), if known. */
  inputLatency: number;
  /** The element playing a file or track (the host's play/pause controls drive it). */
  element: HTMLAudioElement | null;
  /** Called when the source ends by itself (the user stopped sharing, the device went away). */
  onEnded(fn: () => void): void;
  stop(): void;
}

/** A capture as the microphone would hear music: no voice processing. */
const RAW_AUDIO: MediaTrackConstraints = {
  echoCancellation: false,
  noiseSuppression: false,
  autoGainControl: false,
  channelCount: { ideal: 2 },
};

/** Turns a getUserMedia/getDisplayMedia failure into a message for a person. */
export function captureError(e: unknown, kind: SourceKind): string {
  const name = e instanceof DOMException ? e.name : "";
  const what = kind === "mic" ? "the microphone" : kind === "tab" ? "tab or system audio" : "the audio";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return `Permission to use ${what} was refused. Allow it in the browser's site settings and try again.`;
    case "NotFoundError":
    case "OverconstrainedError":
      return kind === "mic" ? "No microphone was found." : `No ${what} was found.`;
    case "NotReadableError":
    case "AbortError":
      return `${what[0].toUpperCase()}${what.slice(1)} is in use by another program or could not be opened.`;
    case "NotSupportedError":
      return `This browser cannot capture ${what}.`;
    default:
      return e instanceof Error && e.message ? e.message : `Could not open ${what}.`;
  }
}

function streamSource(ctx: AudioContext, stream: MediaStream, label: string): OpenSource {
  const track = stream.getAudioTracks()[0];
  const node = ctx.createMediaStreamSource(stream);
  // `latency` is in Chrome's settings, not yet in TypeScript's DOM types.
  const latency = (track.getSettings() as MediaTrackSettings & { latency?: number }).latency;
  return {
    node,
    label,
    inputLatency: typeof latency === "number" && Number.isFinite(latency) ? latency : 0,
    element: null,
    onEnded: (fn) => track.addEventListener("ended", fn, { once: true }),
    stop: () => {
      node.disconnect();
      for (const t of stream.getTracks()) t.stop();
    },
  };
}

function elementSource(ctx: AudioContext, src: string, label: string, revoke: boolean): Promise<OpenSource> {
  const el = new Audio();
  el.preload = "auto";
  el.src = src;
  // Routed into the context: the element itself no longer sounds on its own.
  const node = ctx.createMediaElementSource(el);
  return new Promise((resolve, reject) => {
    const fail = () => reject(new Error(el.error?.message || "The audio could not be played (unsupported format, or the link expired)."));
    el.addEventListener("error", fail, { once: true });
    el.play().then(
      () => {
        el.removeEventListener("error", fail);
        resolve({
          node,
          label,
          inputLatency: 0,
          element: el,
          onEnded: () => {
            /* a file that ends leaves the broadcast on air (silent) until the host stops it */
          },
          stop: () => {
            el.pause();
            node.disconnect();
            if (revoke) URL.revokeObjectURL(src);
            el.removeAttribute("src");
            el.load();
          },
        });
      },
      (e: unknown) => reject(e instanceof Error ? e : new Error(String(e))),
    );
  });
}

/** Opens the chosen source in `ctx`. Throws an Error with a human message. */
export async function openSource(ctx: AudioContext, choice: SourceChoice): Promise<OpenSource> {
  switch (choice.kind) {
    case "mic": {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error("This browser cannot capture a microphone (it needs a secure https:// page).");
      let stream: MediaStream;
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: RAW_AUDIO, video: false });
      } catch (e) {
        throw new Error(captureError(e, "mic"));
      }
      const label = stream.getAudioTracks()[0]?.label || "Microphone";
      return streamSource(ctx, stream, label);
    }
    case "tab": {
      if (!navigator.mediaDevices?.getDisplayMedia) throw new Error("This browser cannot share tab or system audio. Try the microphone or a file.");
      let stream: MediaStream;
      try {
        // Browsers only offer audio with a picture: ask for both, keep the sound.
        stream = await navigator.mediaDevices.getDisplayMedia({
          audio: { ...RAW_AUDIO, suppressLocalAudioPlayback: false } as MediaTrackConstraints,
          video: true,
          systemAudio: "include",
          selfBrowserSurface: "exclude",
        } as DisplayMediaStreamOptions);
      } catch (e) {
        throw new Error(captureError(e, "tab"));
      }
      for (const v of stream.getVideoTracks()) {
        v.stop();
        stream.removeTrack(v);
      }
      if (stream.getAudioTracks().length === 0) {
        throw new Error('No sound was shared. Share again and tick "Share tab audio" (or "Share system audio").');
      }
      return streamSource(ctx, stream, stream.getAudioTracks()[0].label || "Tab audio");
    }
    case "file":
      return elementSource(ctx, URL.createObjectURL(choice.file), choice.file.name, true);
    case "track":
      return elementSource(ctx, choice.url, choice.title, false);
  }
}
