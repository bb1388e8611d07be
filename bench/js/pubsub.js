// Pub/sub benchmark role for the official Greengrass IPC client for Node.js (aws-iot-device-sdk-v2), driven by
// bench/Fogline.IpcBench (`pubsub` mode). One process is one component (its own SVCUID and connection):
//   --role sub --topic T            subscribe, print {"event":"ready"}, record publish-to-deliver latency of every
//                                   message until a line "stop" arrives on stdin, then print {"event":"result",...}
//   --role pub --topic T --mode max --inflight K --duration S     publish as fast as K in flight allow
//   --role pub --topic T --mode rate --rate R --duration S        publish R messages/s, paced in bursts per ms
// Payload: --payload bytes (default 256); bytes 0-7 carry process.hrtime.bigint() at send (CLOCK_MONOTONIC, ns),
// bytes 8-15 a sequence number.
'use strict';
const path = require('path');
const { createRequire } = require('module');
const readline = require('readline');

const conformanceDir = process.env.FOGLINE_CONFORMANCE_JS || path.resolve(__dirname, '..', '..', 'tests', 'Conformance', 'js');
const requireSdk = createRequire(path.join(conformanceDir, 'package.json'));
const { greengrasscoreipc } = requireSdk('aws-iot-device-sdk-v2');

const options = { role: '', topic: 'bench/pubsub', mode: 'max', inflight: 32, rate: 10000, duration: 3, payload: 256 };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '');
  const value = process.argv[i + 1];
  options[key] = ['inflight', 'rate', 'duration', 'payload'].includes(key) ? Number(value) : value;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function subscriber(client) {
  const latencies = [];
  let received = 0;
  let maxSeq = -1n;
  const op = client.subscribeToTopic({ topic: options.topic });
  op.on('message', (m) => {
    const now = process.hrtime.bigint();
    const buf = Buffer.from(m.binaryMessage.message);
    const stamp = buf.readBigInt64LE(0);
    const seq = buf.readBigInt64LE(8);
    if (seq > maxSeq) maxSeq = seq;
    received++;
    latencies.push(Number(now - stamp) / 1000);
  });
  await op.activate();
  console.log(JSON.stringify({ event: 'ready' }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === 'stop') break;
  }
  latencies.sort((a, b) => a - b);
  console.log(JSON.stringify({ event: 'result', received, maxSeq: Number(maxSeq), p50: percentile(latencies, 50), p99: percentile(latencies, 99) }));
  await op.close();
}

async function publisher(client) {
  let seq = 0n;
  const publish = () => {
    const buf = Buffer.alloc(options.payload, 7);
    buf.writeBigInt64LE(process.hrtime.bigint(), 0);
    buf.writeBigInt64LE(seq++, 8);
    return client.publishToTopic({ topic: options.topic, publishMessage: { binaryMessage: { message: buf } } });
  };
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(options.duration * 1e9));
  let failures = 0;
  if (options.mode === 'max') {
    const worker = async () => {
      while (process.hrtime.bigint() < end) {
        try { await publish(); } catch { failures++; }
      }
    };
    await Promise.all(Array.from({ length: options.inflight }, worker));
  } else {
    const intervalNs = 1e9 / options.rate;
    const pending = new Set();
    let sent = 0;
    while (true) {
      const now = process.hrtime.bigint();
      if (now >= end) break;
      const due = Math.floor(Number(now - t0) / intervalNs);
      while (sent < due) {
        const p = publish().catch(() => { failures++; });
        pending.add(p);
        p.finally(() => pending.delete(p));
        sent++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([...pending]);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ event: 'result', published: Number(seq), failures, seconds }));
}

(async () => {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  if (options.role === 'sub') await subscriber(client);
  else await publisher(client);
  await client.close();
  process.exit(0);
})().catch((e) => { console.log(JSON.stringify({ event: 'fatal', fatal: String(e && e.stack || e) })); process.exit(2); });
