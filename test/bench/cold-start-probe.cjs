/**
 * Cold-start probe, loaded with `NODE_OPTIONS=--require` into the process the local emulator's
 * Lambda invoker starts (lambda/local-aws/run-node-handler.cjs): records when the handler module
 * has loaded and exports `handler`, when the handler is called and when its answer is written,
 * and every network attempt (TCP connect, UDP send, DNS lookup) with the phase it fell in. It
 * appends one JSON line per process to KEYROLL_COLD_START_OUT. Times are milliseconds since the
 * process began (performance.timeOrigin), so Node's own start-up counts too, as in Lambda's Init.
 *
 * A connection that init only starts (a promise, a timer) is made after the module has loaded, so
 * the probe holds the first call to the handler back by KEYROLL_COLD_START_SETTLE_MS (default
 * 200): whatever connects before the handler runs was caused by init.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const dgram = require('node:dgram');
const dns = require('node:dns');
const Module = require('node:module');
const { performance } = require('node:perf_hooks');

const out = process.env.KEYROLL_COLD_START_OUT;
// The invoker runs `<node> run-node-handler.cjs <invocation.json>`; that file names the result file.
const resultFile = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).resultFile;
// Handler `index.handler`, as the platform stack deploys the service.
const handlerFile = path.join(process.env.LAMBDA_TASK_ROOT, 'index.js');

const settleMs = Number(process.env.KEYROLL_COLD_START_SETTLE_MS ?? 200);

const record = { probeMs: performance.now(), readyMs: undefined, calledMs: undefined, answeredMs: undefined, network: [] };

function note(kind, target) {
  record.network.push({ phase: record.calledMs === undefined ? 'init' : 'invoke', kind, target: String(target), atMs: performance.now() });
}

/** Where a Socket#connect call goes, from any of its call forms (options, port+host, path, normalized array). */
function connectTarget(args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (first && typeof first === 'object') return first.path ?? `${first.host ?? 'localhost'}:${first.port}`;
  return typeof first === 'string' && Number.isNaN(Number(first)) ? first : `${typeof args[1] === 'string' ? args[1] : 'localhost'}:${first}`;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  note('tcp', connectTarget(args));
  return connect.apply(this, args);
};
const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (...args) {
  note('udp', args.find((arg) => typeof arg === 'string') ?? '?');
  return send.apply(this, args);
};
const lookup = dns.lookup;
dns.lookup = function (hostname, ...rest) {
  note('dns', hostname);
  return lookup.call(this, hostname, ...rest);
};

// Handler ready: the runner's require() of the handler file has returned exports with `handler`.
// The runner gets the exports with `handler` wrapped: held back by the settle time, then called.
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const exported = load.call(this, request, parent, isMain);
  if (record.readyMs === undefined && path.isAbsolute(request) && path.resolve(request) === handlerFile && typeof exported?.handler === 'function') {
    record.readyMs = performance.now();
    const handler = exported.handler;
    const settled = async (...args) => {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      record.calledMs = performance.now();
      return handler.apply(exported, args);
    };
    return Object.create(exported, { handler: { value: settled, enumerable: true } });
  }
  return exported;
};

// First answer: the runner writes the handler's outcome to its result file.
const writeFileSync = fs.writeFileSync;
fs.writeFileSync = function (file, ...rest) {
  if (file === resultFile && record.answeredMs === undefined) record.answeredMs = performance.now();
  return writeFileSync.call(this, file, ...rest);
};

process.on('exit', () => {
  if (out) fs.appendFileSync(out, `${JSON.stringify(record)}\n`);
});
