// Round-trip benchmark of the official Greengrass IPC client for Node.js (aws-iot-device-sdk-v2) against a Greengrass
// IPC server: one connection, a warm-up, then sequential calls (1 in flight), then calls with K in flight. Prints one
// JSON line per phase boundary ({"event":"phase-start"|"phase-end",...}, so a driver can sample its own counters) and,
// last, one JSON line with the results ({"event":"result",...}).
//
// Run by bench/Fogline.IpcBench (which starts the server and sets the environment), or by hand:
//   AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT=/path/ipc.socket SVCUID=token \
//     node bench/js/roundtrip.js --duration 5 --warmup 2 --concurrency 16 --op updateState
// Options: --duration S (seconds per measured phase, default 5), --warmup S (seconds before each phase, default 2),
//   --concurrency K (calls in flight in the second phase, default 16), --op updateState|publishToTopic,
//   --payload N (bytes of the binary message for publishToTopic, default 256),
//   --calls N and --concurrent-calls M (fixed call counts instead of --duration).
//
// The SDK is not installed a second time: it is loaded from tests/Conformance/js/node_modules (install it there with
// `npm ci --ignore-scripts`), or from the directory in FOGLINE_CONFORMANCE_JS.
'use strict';
const path = require('path');
const fs = require('fs');
const { createRequire } = require('module');

const conformanceDir = process.env.FOGLINE_CONFORMANCE_JS
  || path.resolve(__dirname, '..', '..', 'tests', 'Conformance', 'js');

function fatal(message) {
  console.log(JSON.stringify({ event: 'fatal', fatal: message }));
  process.exit(2);
}

if (!fs.existsSync(path.join(conformanceDir, 'node_modules', 'aws-iot-device-sdk-v2'))) {
  fatal(`The official Node.js IPC client is not installed: run \`npm ci --ignore-scripts\` in ${conformanceDir}`);
}
const requireSdk = createRequire(path.join(conformanceDir, 'package.json'));
const { greengrasscoreipc } = requireSdk('aws-iot-device-sdk-v2');
const sdkVersion = requireSdk('aws-iot-device-sdk-v2/package.json').version;

function parseArgs(argv) {
  const options = { duration: 5, warmup: 2, concurrency: 16, op: 'updateState', payload: 256, calls: 0, concurrentCalls: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const value = argv[i + 1];
    switch (name) {
      case '--duration': options.duration = Number(value); i++; break;
      case '--warmup': options.warmup = Number(value); i++; break;
      case '--concurrency': options.concurrency = parseInt(value, 10); i++; break;
      case '--op': options.op = value; i++; break;
      case '--payload': options.payload = parseInt(value, 10); i++; break;
      case '--calls': options.calls = parseInt(value, 10); i++; break;
      case '--concurrent-calls': options.concurrentCalls = parseInt(value, 10); i++; break;
      default: fatal(`unknown option ${name}`);
    }
  }
  if (!(options.duration > 0) || !(options.warmup >= 0) || !(options.concurrency >= 1)) {
    fatal('--duration and --concurrency must be positive, --warmup not negative');
  }
  return options;
}

function makeCall(client, options) {
  switch (options.op) {
    case 'updateState': {
      const request = { state: 'RUNNING' };
      return () => client.updateState(request);
    }
    case 'publishToTopic': {
      const message = Buffer.alloc(options.payload, 7);
      const request = { topic: 'bench/telemetry', publishMessage: { binaryMessage: { message } } };
      return () => client.publishToTopic(request);
    }
    default:
      return fatal(`unknown --op ${options.op} (updateState or publishToTopic)`);
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

// Runs `inFlight` loops of calls until `until()` says stop; returns latencies in nanoseconds.
async function run(call, inFlight, until) {
  const latencies = [];
  let started = 0;
  const worker = async () => {
    while (until(started)) {
      started++;
      const t0 = process.hrtime.bigint();
      await call();
      latencies.push(Number(process.hrtime.bigint() - t0));
    }
  };
  const workers = [];
  for (let i = 0; i < inFlight; i++) workers.push(worker());
  await Promise.all(workers);
  return latencies;
}

function byTime(seconds) {
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  return () => process.hrtime.bigint() < end;
}

async function phase(call, inFlight, options, calls) {
  if (options.warmup > 0) {
    await run(call, inFlight, byTime(options.warmup));
  }
  console.log(JSON.stringify({ event: 'phase-start', concurrency: inFlight }));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const latencies = await run(call, inFlight, calls > 0 ? (started) => started < calls : byTime(options.duration));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ event: 'phase-end', concurrency: inFlight, ops: latencies.length }));
  const sorted = Float64Array.from(latencies).sort();
  return {
    concurrency: inFlight,
    ops: latencies.length,
    seconds,
    opsPerSec: latencies.length / seconds,
    p50Us: percentile(sorted, 50) / 1000,
    p99Us: percentile(sorted, 99) / 1000,
    meanUs: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length) / 1000,
    cpuUsPerOp: (cpu.user + cpu.system) / Math.max(1, latencies.length),
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT) {
    fatal('AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT is not set (the IPC socket path)');
  }
  const client = greengrasscoreipc.createClient();
  await client.connect();
  try {
    const call = makeCall(client, options);
    const results = [];
    results.push(await phase(call, 1, options, options.calls));
    results.push(await phase(call, options.concurrency, options, options.concurrentCalls));
    console.log(JSON.stringify({ event: 'result', client: 'node', sdk: `aws-iot-device-sdk-v2@${sdkVersion}`, node: process.version, op: options.op, results }));
  } finally {
    await client.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.log(JSON.stringify({ event: 'fatal', fatal: String((e && e.stack) || e), detail: e && e.description }));
  process.exit(1);
});
