// ioredis with its defaults against a bridgefeed server: connect, commands,
// a pipeline, multi(), and the replies it parses.
// Usage: node ioredis.js <port> <node_modules dir>
// Prints one JSON object of results; test_clients.py asserts on it.
'use strict';
const port = Number(process.argv[2]);
const Redis = require(require('path').join(process.argv[3], 'ioredis'));

async function main() {
  const out = {};
  const timer = setTimeout(() => { console.log(JSON.stringify({ timeout: true, ...out }));
                                   process.exit(2); }, 15000);
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, connectTimeout: 5000,
                            maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', (e) => { out.error_event = String(e); });
  await redis.connect();
  out.connected = true;
  out.ping = await redis.ping();
  out.user_set = await redis.call('USER.SET', 'iouser', 'CULTURE', 'BR', 'VECTOR', 'VALUES', '4',
                                  '0', '0', '1', '0');
  out.user = await redis.call('USER.GET', 'iouser');
  const results = await redis.pipeline()
    .call('POST.ADD', 'io1', 'AUTHOR', 'ioauthor', 'CULTURE', 'CN', 'VECTOR', 'VALUES', '4',
          '0', '0', '1', '0')
    .call('POST.ADD', 'io2', 'AUTHOR', 'ioauthor2', 'CULTURE', 'US', 'VECTOR', 'VALUES', '4',
          '0', '0', '0.9', '0.1')
    .call('EVENT', 'iouser', 'io1', 'VIEW')
    .call('POST.ADD', 'bad', 'AUTHOR', 'a')
    .call('FEED', 'iouser', 'COUNT', '5', 'PEEK')
    .dbsize()
    .exec();
  out.pipeline = results.map(([err, value]) => (err ? { error: err.message } : value));
  // multi(): MULTI ... EXEC, a read after the writes sees them.
  const block = await redis.multi()
    .call('POST.ADD', 'io3', 'AUTHOR', 'ioauthor3', 'CULTURE', 'JP', 'VECTOR', 'VALUES', '4',
          '0', '1', '1', '0')
    .call('EVENT', 'iouser', 'io3', 'LIKE')
    .call('POST.GET', 'io3')
    .exec();
  out.multi = block.map(([err, value]) => (err ? { error: err.message } : value));
  out.client_list = await redis.client('LIST');
  out.time = await redis.time();
  await redis.quit();
  clearTimeout(timer);
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.log(JSON.stringify({ fatal: String(e && e.stack || e) }));
  process.exit(1);
});
