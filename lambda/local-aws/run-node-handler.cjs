/**
 * Runs one Lambda invocation of a Node handler for the local AWS emulator: started by
 * lambda_node_process.py as `node run-node-handler.cjs <invocation.json>`, it loads the handler,
 * awaits it and writes the outcome to the result file named in invocation.json.
 *
 * The outcome goes to a file, never to stdout, so nothing the handler prints can be mistaken for
 * its result. Stdout and stderr become the function's CloudWatch log events.
 *
 * Behaviour follows the AWS Lambda Node runtime (aws-lambda-nodejs-runtime-interface-client):
 * handler string resolution, console line format, error shape `{errorType, errorMessage, trace}`.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const { pathToFileURL } = require('node:url');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const context = spec.context;

patchConsole();
process.on('uncaughtException', (error) => fail(error));
process.on('unhandledRejection', (reason) =>
  fail(Object.assign(reason instanceof Error ? reason : new Error(String(reason)), { name: 'Runtime.UnhandledPromiseRejection' })),
);

main().catch(fail);

async function main() {
  const handler = await loadHandler(spec.taskRoot, spec.handler);
  const event = JSON.parse(spec.event);
  const result = await callHandler(handler, event, lambdaContext());
  succeed(result);
}

/** `dir/file.export.path` → `<taskRoot>/dir/file.{js,mjs,cjs}`, then `module.export.path`. */
async function loadHandler(taskRoot, handlerString) {
  const slash = handlerString.lastIndexOf('/');
  const moduleDir = handlerString.slice(0, slash + 1);
  const name = handlerString.slice(slash + 1);
  const dot = name.indexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    throw named('Runtime.MalformedHandlerName', `Bad handler ${handlerString}: expected "file.export", for example "index.handler".`);
  }
  const base = path.resolve(taskRoot, moduleDir, name.slice(0, dot));
  // The order Lambda's runtime tries.
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((candidate) => fs.existsSync(candidate));
  if (!file) {
    throw named('Runtime.ImportModuleError', `Error: Cannot find module '${moduleDir}${name.slice(0, dot)}'`);
  }
  let module;
  try {
    module = await importModule(file);
  } catch (error) {
    if (error instanceof SyntaxError) throw named('Runtime.UserCodeSyntaxError', String(error));
    if (error && error.code === 'MODULE_NOT_FOUND') throw named('Runtime.ImportModuleError', String(error));
    throw error;
  }
  const fn = name
    .slice(dot + 1)
    .split('.')
    .reduce((value, key) => (value == null ? undefined : value[key]), module);
  if (typeof fn !== 'function') {
    throw named('Runtime.HandlerNotFound', `${handlerString} is undefined or not exported`);
  }
  return fn;
}

async function importModule(file) {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (error) {
    // A .js file in a `"type": "module"` package.
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
}

/** Supports async handlers and callback-style `(event, context, callback)` handlers. */
function callHandler(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, value) => (error ? reject(error) : resolve(value));
    const returned = handler(event, ctx, callback);
    if (returned && typeof returned.then === 'function') {
      returned.then(resolve, reject);
    } else if (handler.length < 3) {
      // A sync handler that neither returns a promise nor takes a callback: Lambda answers
      // null once the event loop is empty.
      process.once('beforeExit', () => resolve(null));
    }
  });
}

function lambdaContext() {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: String(context.memoryLimitInMB),
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, context.deadlineMs - Date.now()),
  };
}

function succeed(value) {
  let payload;
  try {
    payload = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    fail(error);
    return;
  }
  finish({ ok: true, payload });
}

function fail(error) {
  const response =
    error instanceof Error || (error && typeof error === 'object' && 'message' in error)
      ? { errorType: error.name || 'Error', errorMessage: String(error.message), trace: String(error.stack || '').split('\n') }
      : { errorType: typeof error, errorMessage: String(error), trace: [] };
  console.error('Invoke Error', JSON.stringify(response));
  finish({ ok: false, ...response });
}

let finished = false;
function finish(outcome) {
  if (finished) return;
  finished = true;
  fs.writeFileSync(spec.resultFile, JSON.stringify(outcome));
  // Writes to pipes are asynchronous: exit only once stdout and stderr have drained, or the
  // last log lines would be lost.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(0)));
}

function named(name, message) {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * Lambda's console format: `<ISO time>\t<request id>\t<LEVEL>\t<message>`. Newlines inside one
 * message become \r so each console call is one line here and one log event in CloudWatch.
 */
function patchConsole() {
  const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      let message = util.format(...args);
      if (method === 'trace') message += '\n' + new Error().stack.split('\n').slice(2).join('\n');
      process.stdout.write(`${new Date().toISOString()}\t${context.awsRequestId}\t${level}\t${message.replace(/\n/g, '\r')}\n`);
    };
  }
}
