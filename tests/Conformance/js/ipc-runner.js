// A line-driven runner around the official Greengrass IPC client for Node.js (aws-iot-device-sdk-v2).
// The C# conformance harness (tests/Fogline.LocalNucleus.Tests/Conformance) writes one JSON step per line on stdin
// and reads one JSON result per line on stdout. The first line is {"socket": path, "tokens": {component: token}}.
// Steps: {id, as, call, request} | {id, as, open, request, stream} | {id, events: stream, count, timeoutMs}
//        | {id, close: stream} | {id, disconnect: component}.
// Values in requests may use {"$blob": base64} and {"$timestamp": epochSeconds}; results are normalised to the wire
// form (blobs base64, timestamps epoch seconds) so they compare equal with what the C# runner reports.
'use strict';
const readline = require('readline');
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');
const { RpcErrorType } = require('aws-iot-device-sdk-v2/dist/eventstream_rpc');

let socketPath;
let tokens = {};
const clients = new Map();
const streams = new Map();

function toJs(value) {
  if (Array.isArray(value)) return value.map(toJs);
  if (value && typeof value === 'object') {
    if ('$blob' in value) return Buffer.from(value.$blob, 'base64');
    if ('$timestamp' in value) return new Date(value.$timestamp * 1000);
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJs(v);
    return out;
  }
  return value;
}

function toWire(value) {
  if (value === undefined || value === null) return value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value.entries()) out[k] = toWire(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toWire(v);
    return out;
  }
  return value;
}

function errorOf(e) {
  if (e && e.serviceError) {
    return { type: 'ServiceError', code: e.serviceError._errorCode, message: e.serviceError.message ?? e.serviceError._message };
  }
  const type = e && e.type !== undefined ? (RpcErrorType[e.type] ?? String(e.type)) : 'Exception';
  return { type, description: e && (e.description ?? e.message ?? String(e)) };
}

async function clientFor(component) {
  if (clients.has(component)) return clients.get(component);
  if (!(component in tokens)) throw new Error(`no token for component ${component}`);
  process.env.AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT = socketPath;
  process.env.SVCUID = tokens[component];
  const config = greengrasscoreipc.createDefaultClientConfig();
  const client = greengrasscoreipc.createClient(config);
  await client.connect();
  clients.set(component, client);
  return client;
}

async function run(step) {
  if (step.call) {
    const client = await clientFor(step.as);
    try {
      const response = await client[step.call](toJs(step.request ?? {}));
      return { ok: toWire(response) ?? {} };
    } catch (e) {
      return { error: errorOf(e) };
    }
  }
  if (step.open) {
    const client = await clientFor(step.as);
    const op = client[step.open](toJs(step.request ?? {}));
    const entry = { op, events: [], waiters: [], ended: false };
    op.on('message', (m) => {
      entry.events.push(toWire(m));
      for (const w of entry.waiters.splice(0)) w();
    });
    op.on('ended', () => { entry.ended = true; for (const w of entry.waiters.splice(0)) w(); });
    op.on('streamError', (e) => { entry.events.push({ streamError: errorOf(e) }); });
    try {
      const response = await op.activate();
      streams.set(step.stream, entry);
      return { ok: toWire(response) ?? {} };
    } catch (e) {
      return { error: errorOf(e) };
    }
  }
  if (step.events) {
    const entry = streams.get(step.events);
    if (!entry) return { error: { type: 'NoSuchStream', stream: step.events } };
    const deadline = Date.now() + (step.timeoutMs ?? 5000);
    // "exactly": wait out the whole timeout and return everything, so that an extra event is seen.
    if (step.exactly) step.count = Number.MAX_SAFE_INTEGER;
    while (entry.events.length < step.count && !entry.ended && Date.now() < deadline) {
      await new Promise((resolve) => {
        entry.waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
    return { events: entry.events.splice(0, step.count) };
  }
  if (step.close) {
    const entry = streams.get(step.close);
    if (entry) await entry.op.close();
    streams.delete(step.close);
    return { ok: {} };
  }
  if (step.disconnect) {
    const client = clients.get(step.disconnect);
    if (client) await client.close();
    clients.delete(step.disconnect);
    return { ok: {} };
  }
  throw new Error(`unknown step ${JSON.stringify(step)}`);
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  let first = true;
  for await (const line of rl) {
    if (!line.trim()) continue;
    const message = JSON.parse(line);
    if (first) {
      first = false;
      socketPath = message.socket;
      tokens = message.tokens;
      process.stdout.write(JSON.stringify({ ready: true }) + '\n');
      continue;
    }
    let result;
    try {
      result = await run(message);
    } catch (e) {
      result = { fatal: String(e && e.stack || e) };
    }
    result.id = message.id;
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  for (const client of clients.values()) await client.close();
  process.exit(0);
}

main().catch((e) => { process.stdout.write(JSON.stringify({ fatal: String(e && e.stack || e) }) + '\n'); process.exit(1); });
