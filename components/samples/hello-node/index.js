// Sample component: the official AWS IoT Greengrass IPC client for Node.js (aws-iot-device-sdk-v2).
// Answers every ping on local pub/sub with a pong.
'use strict';
const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');

const pingTopic = process.env.PING_TOPIC || 'fogline/demo/ping';
const pongTopic = process.env.PONG_TOPIC || 'fogline/demo/pong';

async function main() {
  const client = greengrasscoreipc.createClient();
  await client.connect();
  const stream = client.subscribeToTopic({ topic: pingTopic });
  stream.on('message', async (event) => {
    const ping = event.jsonMessage ? event.jsonMessage.message : null;
    if (!ping) return;
    console.log(`ping from ${ping.from}: ${ping.n}`);
    await client.publishToTopic({
      topic: pongTopic,
      publishMessage: { jsonMessage: { message: { from: 'node', n: ping.n } } },
    });
  });
  await stream.activate();
  console.log(`hello-node: answering ${pingTopic} on ${pongTopic}`);
  const stop = async () => {
    console.log('hello-node: stopping');
    await client.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`hello-node: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
