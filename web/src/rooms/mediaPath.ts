// The binary media path (docs/rooms.md): a plain WebSocket that carries the host's frames to
// this guest, one binary message per frame, with text notices. Opened after `room:joined`
// with the Socket.IO session token.
import type { Layer } from "../lib/jitter";
import { parseMediaFrame, parseNotice, type MediaNotice, type RoomFrame } from "./wire";

export interface MediaHandlers {
  onOpen(): void;
  onFrame(f: RoomFrame): void;
  onNotice(n: MediaNotice): void;
  /** The socket closed; `opened` says whether it ever opened (a refusal never does). */
  onClose(opened: boolean): void;
  onProtocolError(message: string): void;
}

/** The media path URL for `roomId` on this page's origin. */
export function mediaUrl(loc: { protocol: string; host: string }, roomId: string, token: string, layer: Layer): string {
  const scheme = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${loc.host}/api/rooms/${encodeURIComponent(roomId)}/media?token=${encodeURIComponent(token)}&quality=${layer}`;
}

export class MediaPath {
  private ws: WebSocket;
  private opened = false;
  private done = false;

  constructor(url: string, h: MediaHandlers) {
    this.ws = new WebSocket(url);
    this.ws.binaryType = "arraybuffer";
    this.ws.onopen = () => {
      this.opened = true;
      h.onOpen();
    };
    this.ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === "string") {
        const n = parseNotice(e.data);
        if (n) h.onNotice(n);
        return;
      }
      const r = parseMediaFrame(e.data);
      if (r.ok) h.onFrame(r.frame);
      else h.onProtocolError(r.error);
    };
    this.ws.onclose = () => {
      if (this.done) return;
      this.done = true;
      h.onClose(this.opened);
    };
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Switches layers without reconnecting. */
  setLayer(layer: Layer): void {
    if (this.open) this.ws.send(JSON.stringify({ type: "quality", quality: layer }));
  }

  /** Closes without telling the handlers. */
  close(): void {
    this.done = true;
    this.ws.close();
  }
}
