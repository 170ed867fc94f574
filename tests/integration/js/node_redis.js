// node-redis 6 with its defaults (the RESP3 handshake, HELLO 3) against a
// bridgefeed server: connect() resolves, our commands and multi() work.
// Usage: node node_redis.js <port> <node_modules dir> basic|multi
// Prints one JSON object of results; test_clients.py asserts on it.
'use strict';
const port = Number(process.argv[2]);
const mode = process.argv[4] || 'basic';
const { createClient } = require(require('path').join(process.argv[3], 'redis'));

// Our commands through sendCommand, and the RESP3 shapes they come back in.
async function basic(client, out) {
  out.ping = await client.ping();
  out.hello = await client.sendCommand(['HELLO']);
  out.add = await client.sendCommand(['POST.ADD', 'np1', 'AUTHOR', 'nodeauthor', 'CULTURE', 'US',
                                      'VECTOR', 'VALUES', '4', '1', '0', '0', '0',
                                      'TITLE', 'from node']);
  out.post = await client.sendCommand(['POST.GET', 'np1']);
  out.missing = await client.sendCommand(['POST.GET', 'nope']);
  out.feed = await client.sendCommand(['FEED', 'nodeuser', 'COUNT', '5', 'EXPLAIN', 'PEEK']);
  out.client_info = await client.sendCommand(['CLIENT', 'INFO']);
  out.dbsize = await client.dbSize();
  try {
    out.wrongdim = await client.sendCommand(['POST.ADD', 'np2', 'AUTHOR', 'a', 'CULTURE', 'US',
                                             'VECTOR', 'VALUES', '1', '1']);
  } catch (e) {
    out.wrongdim_error = e.message;
  }
}

// multi(): MULTI ... EXEC, as a backend batches a post and an event; then a
// block with a queued arity error, which must run nothing.
async function multi(client, out) {
  out.multi = await client.multi()
    .addCommand(['POST.ADD', 'nm1', 'AUTHOR', 'nodeauthor', 'CULTURE', 'CN',
                 'VECTOR', 'VALUES', '4', '0', '1', '0', '0'])
    .addCommand(['EVENT', 'nodeuser', 'nm1', 'LIKE'])
    .exec();
  out.after_multi = await client.sendCommand(['POST.GET', 'nm1']);
  try {
    await client.multi()
      .addCommand(['POST.ADD', 'nm2', 'AUTHOR', 'nodeauthor', 'CULTURE', 'CN',
                   'VECTOR', 'VALUES', '4', '0', '1', '0', '0'])
      .addCommand(['POST.DEL'])
      .exec();
    out.abort_error = 'exec resolved';
  } catch (e) {
    out.abort_error = String(e.message || e);
  }
  out.after_abort = await client.sendCommand(['POST.GET', 'nm2']);
  // Reads mixed with writes: each runs in its place at EXEC (RESP3 maps inside).
  out.mixed = await client.multi()
    .addCommand(['POST.GET', 'nm3'])
    .addCommand(['POST.ADD', 'nm3', 'AUTHOR', 'nodeauthor3', 'CULTURE', 'BR',
                 'VECTOR', 'VALUES', '4', '0', '0', '1', '0'])
    .addCommand(['EVENT', 'nodeuser3', 'nm3', 'SHARE'])
    .addCommand(['POST.GET', 'nm3'])
    .addCommand(['USER.GET', 'nodeuser3'])
    .addCommand(['FEED', 'nodeuser4', 'COUNT', '100', 'PEEK'])
    .exec();
  // A write after a read that follows a write: refused, and nothing of the block runs.
  try {
    await client.multi()
      .addCommand(['EVENT', 'nodeuser5', 'nm3', 'LIKE'])
      .addCommand(['POST.GET', 'nm3'])
      .addCommand(['EVENT', 'nodeuser5', 'nm3', 'SHARE'])
      .exec();
    out.order_error = 'exec resolved';
  } catch (e) {
    out.order_error = String(e.message || e);
  }
  out.after_order = await client.sendCommand(['POST.GET', 'nm3']);
}

async function main() {
  const out = {};
  const client = createClient({ socket: { host: '127.0.0.1', port, connectTimeout: 5000,
                                          reconnectStrategy: false } });
  client.on('error', (e) => { out.error_event = String(e); });
  const timer = setTimeout(() => { console.log(JSON.stringify({ timeout: true, ...out }));
                                   process.exit(2); }, 15000);
  await client.connect();
  out.connected = true;
  if (mode === 'multi') {
    await multi(client, out);
  } else {
    await basic(client, out);
  }
  await client.quit();
  clearTimeout(timer);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ fatal: String(e && e.stack || e) }));
  process.exit(1);
});
