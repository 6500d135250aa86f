// The listening rooms feature (docs/rooms.md). The app shell routes `/rooms` to <RoomsList/> and
// `/room/{id}` to <RoomPage roomId=…/>; both work signed out (rooms need no account).
//
// How it fits together:
//   session.ts         one page's Socket.IO session: join, people, chat, clock pings, events
//   pinger.ts          time:ping bursts → ClockSync (src/lib/clock.ts)
//   host/              sources → capture worklet (20 ms blocks) → encoder worker (WebCodecs
//                      Opus, two layers) → broadcast:audio stamped on the server clock
//   mediaPath.ts, wire.ts   the binary media path and its 30-byte frame header
//   guest/player.ts    Playout (src/lib/jitter.ts) → AudioDecoder → player worklet, scheduled
//                      with the output clock (getOutputTimestamp); guest/hook.ts publishes
//                      `window.__tonearmRoom` for tests
//   audio/stream.ts    the worklet's playout buffer: drift correction by sample drop/insert
export { RoomsList } from "./RoomsList";
export { RoomPage } from "./RoomPage";
