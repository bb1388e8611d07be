// Runs one conformance scenario with the official Greengrass IPC client for Node.js (aws-iot-device-sdk-v2)
// and prints one JSON line with what happened. The C# side (JsClientConformanceTests) starts our server, runs this
// script as a component would run (socket path and token in the environment), and compares the result with what
// our own C# client gets for the same scenario.
'use strict';
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');
const { RpcErrorType } = require('aws-iot-device-sdk-v2/dist/eventstream_rpc');

function errorResult(e) {
  const r = { error: true, type: RpcErrorType[e.type] ?? String(e.type), description: e.description ?? String(e) };
  if (e.serviceError) {
    r.serviceError = e.serviceError;
  }
  return r;
}

async function connected(fn) {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const scenarios = {
  handshake: () => connected(async () => ({ connected: true })),

  rejectedHandshake: async () => {
    const client = greengrasscoreipc.createClient();
    try {
      await client.connect();
      await client.close();
      return { connected: true };
    } catch (e) {
      return { connected: false };
    }
  },

  requestResponse: () => connected(async (client) => {
    const r = await client.getConfiguration({ keyPath: ['threshold'] });
    return { componentName: r.componentName, value: r.value };
  }),

  streaming: () => connected(async (client) => {
    const events = [];
    let done;
    const all = new Promise((resolve) => { done = resolve; });
    const op = client.subscribeToTopic({ topic: 'conformance/js' });
    op.on('message', (m) => {
      events.push({ topic: m.jsonMessage.context.topic, n: m.jsonMessage.message.n });
      if (events.length === 3) done();
    });
    await op.activate();
    for (let n = 0; n < 3; n++) {
      await client.publishToTopic({ topic: 'conformance/js', publishMessage: { jsonMessage: { message: { n } } } });
    }
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout waiting for events')), 10000))]);
    await op.close();
    return { events };
  }),

  modeledError: () => connected(async (client) => {
    try {
      await client.getConfiguration({ keyPath: ['missing', 'x'] });
      return { error: false };
    } catch (e) {
      const r = errorResult(e);
      return { error: true, type: r.type, errorCode: r.serviceError?._errorCode, resourceName: r.serviceError?.resourceName, message: r.serviceError?.message };
    }
  }),

  streamingError: () => connected(async (client) => {
    const op = client.subscribeToTopic({ topic: 'forbidden/x' });
    try {
      await op.activate();
      return { error: false };
    } catch (e) {
      const r = errorResult(e);
      return { error: true, type: r.type, errorCode: r.serviceError?._errorCode };
    }
  }),

  blobAndTimestamp: () => connected(async (client) => {
    const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    await client.publishToIoTCore({ topicName: 'dt/conformance', qos: '1', payload });
    const p = await client.createDebugPassword({});
    return { passwordExpirationMs: p.passwordExpiration.getTime(), username: p.username };
  }),

  unsupported: () => connected(async (client) => {
    try {
      await client.listComponents({});
      return { error: false };
    } catch (e) {
      return { error: true, type: RpcErrorType[e.type] };
    }
  }),
};

async function main() {
  const name = process.argv[2];
  const scenario = scenarios[name];
  if (!scenario) {
    console.log(JSON.stringify({ fatal: `unknown scenario ${name}` }));
    process.exit(2);
  }
  try {
    const result = await scenario();
    console.log(JSON.stringify(result));
    process.exit(0);
  } catch (e) {
    console.log(JSON.stringify({ fatal: String(e && e.stack || e), detail: e && e.description }));
    process.exit(1);
  }
}

main();
