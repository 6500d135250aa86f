// The media URLs the player uses. `<audio src>` and `<img src>` cannot send headers, so those
// carry the access token as `access_token=`; hls.js sends `Authorization` instead.

const enc = encodeURIComponent;

function withToken(url: string, token: string | null): string {
  return token ? `${url}${url.includes("?") ? "&" : "?"}access_token=${enc(token)}` : url;
}

/** A progressive (transcoded) stream at one of the server's tiers. */
export function streamUrl(id: string, quality: string, token: string | null): string {
  return withToken(`/api/tracks/${enc(id)}/stream?quality=${enc(quality)}`, token);
}

/** The HLS master playlist (hls.js adds the token as a header). */
export function masterUrl(id: string): string {
  return `/api/tracks/${enc(id)}/hls/master.m3u8`;
}

/** The master playlist for a player that cannot send headers (native HLS). */
export function nativeMasterUrl(id: string, token: string | null): string {
  return withToken(masterUrl(id), token);
}

/** A cover fitted in `size`×`size`. */
export function coverUrl(id: string, size: number, token: string | null): string {
  return withToken(`/api/tracks/${enc(id)}/cover?size=${size}`, token);
}
