// Load generator: N simulated ACS media streams at real-time rate (one AudioData every 20 ms each).
// Each frame carries its sequence number in its first 6 PCM bytes (the first 8 base64 characters), so the
// turnaround of an echoed frame is measured without any help from the server.
// Usage: node loadgen.js <url> <streams> <seconds> <warmupSeconds> [frameBytes] [deflate]
// With "deflate" the client offers permessage-deflate (a server with default settings then compresses every
// frame it sends); without it, it does not, and compression settings on the server side are inert.
// Prints one JSON object with counts and turnaround percentiles.
//
// Kept cheap so that the generator (one core) is not the bottleneck: one timer for all streams (streams
// are spread evenly over the 20 ms period), one timestamp string per tick, a ring of send times per stream.
"use strict";
const WebSocket = require("ws");

const [url, streamsArg, secondsArg, warmupArg, frameBytesArg, deflateArg] = process.argv.slice(2);
const streams = Number(streamsArg);
const seconds = Number(secondsArg);
const warmup = Number(warmupArg);
const frameBytes = Number(frameBytesArg || 640);
const FRAME_MS = 20;
const RING = 1024; // frames remembered per stream (20 s): a frame older than that counts as lost

const pcm = Buffer.alloc(frameBytes);
for (let i = 0; i < frameBytes; i++) pcm[i] = (i * 7) & 0xff;
// 6 bytes = 8 base64 characters without padding, so the sequence prefix and the rest concatenate exactly.
const restB64 = pcm.subarray(6).toString("base64");
const head = '{"kind":"AudioData","audioData":{"timestamp":"';
const mid = '","participantRawID":"8:acs:bench","data":"';
const tail = restB64 + '","silent":false}}';
const metadata = JSON.stringify({kind: "AudioMetadata", audioMetadata: {subscriptionId: "bench", encoding: "PCM",
  sampleRate: frameBytes === 960 ? 24000 : 16000, channels: 1, length: frameBytes}});
const seqBuf = Buffer.alloc(6);
// The payload follows `"data":"` (ACS casing), `"Data":"` (outbound casing) or `"Data": "` (json.dumps).
const MARK = Buffer.from('ata":"');
const MARK_SPACED = Buffer.from('ata": "');

const startAt = performance.now();
const measureFrom = startAt + warmup * 1000;
const stopAt = startAt + (warmup + seconds) * 1000;
const latencies = [];
let sent = 0, received = 0, sentMeasured = 0, receivedMeasured = 0, opened = 0, failed = 0, closedEarly = 0;
const all = [];

function makeStream(index) {
  const stream = {ws: null, open: false, seq: 0, next: 0, times: new Float64Array(RING).fill(-1), index};
  const ws = new WebSocket(url, {perMessageDeflate: deflateArg === "deflate", skipUTF8Validation: true});
  stream.ws = ws;
  ws.on("open", () => {
    opened++;
    ws.send(metadata);
    // Spread streams evenly over the 20 ms period, starting at the next period.
    const now = performance.now();
    stream.next = now + FRAME_MS - ((now - startAt) % FRAME_MS) + (index / streams) * FRAME_MS;
    stream.open = true;
  });
  ws.on("message", (data) => {
    let start = data.indexOf(MARK);
    if (start >= 0) start += MARK.length;
    else {
      start = data.indexOf(MARK_SPACED);
      if (start < 0) return; // not an audio frame (an echoed AudioMetadata)
      start += MARK_SPACED.length;
    }
    if (start + 8 > data.length) return;
    const prefix = Buffer.from(data.toString("latin1", start, start + 8), "base64");
    if (prefix.length < 6) return;
    const s = prefix.readUIntBE(0, 6);
    const slot = s % RING;
    const t0 = stream.times[slot];
    if (t0 < 0) return;
    stream.times[slot] = -1;
    received++;
    if (t0 >= measureFrom) { receivedMeasured++; latencies.push(performance.now() - t0); }
  });
  ws.on("error", () => { failed++; });
  ws.on("close", () => { if (stream.open && performance.now() < stopAt) closedEarly++; stream.open = false; });
  all.push(stream);
}

let stampAt = 0, stamp = "";
function tick() {
  const now = performance.now();
  if (now >= stopAt) return;
  if (now - stampAt >= 1) { stamp = new Date().toISOString(); stampAt = now; }
  for (let i = 0; i < all.length; i++) {
    const stream = all[i];
    if (!stream.open) continue;
    while (stream.next <= now) {
      const s = stream.seq++;
      seqBuf.writeUIntBE(s, 0, 6);
      stream.times[s % RING] = now;
      stream.ws.send(head + stamp + mid + seqBuf.toString("base64") + tail, {compress: false});
      sent++;
      if (now >= measureFrom) sentMeasured++;
      stream.next += FRAME_MS;
    }
  }
  setTimeout(tick, 1);
}

// Open connections in batches so the handshake storm does not distort the first measured seconds.
let index = 0;
function openBatch() {
  for (let i = 0; i < 100 && index < streams; i++) makeStream(index++);
  if (index < streams) setTimeout(openBatch, 20);
}
openBatch();
tick();

setTimeout(() => {
  // Grace period for the last in-flight frames, then report.
  setTimeout(() => {
    latencies.sort((a, b) => a - b);
    const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null;
    const result = {streams, opened, failed, closedEarly, sent, received, sentMeasured, receivedMeasured,
      lostMeasured: sentMeasured - receivedMeasured, p50: pct(0.5), p99: pct(0.99), max: pct(1.0)};
    process.stdout.write(JSON.stringify(result) + "\n");
    for (const stream of all) { try { stream.ws.close(1000); } catch (e) {} }
    setTimeout(() => process.exit(0), 1000);
  }, 500);
}, (warmup + seconds) * 1000 + 50);
