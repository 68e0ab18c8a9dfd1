// Replays a workload plan (bench/plan.py) through the TypeScript peer @mastra/dynamodb, marking each call at
// the counting proxy (bench/proxy.py) exactly like bench/workload.py does for mastra-dynamo.
//
// node workload.mjs --modules .tools/bench --endpoint http://127.0.0.1:PORT --table NAME --plan plan.json
//                   --out timings.json
// The proxy's control endpoints are on the same host and port as --endpoint.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

const args = parseArgs(process.argv.slice(2));
const modules = join(args.modules, 'node_modules');
const { DynamoDBStore } = await import(pathToFileURL(join(modules, '@mastra/dynamodb/dist/index.js')).href);
const corePkg = JSON.parse(readFileSync(join(modules, '@mastra/core/package.json'), 'utf8'));
const peerPkg = JSON.parse(readFileSync(join(modules, '@mastra/dynamodb/package.json'), 'utf8'));
const sdkPkg = JSON.parse(readFileSync(join(modules, '@aws-sdk/client-dynamodb/package.json'), 'utf8'));
const electroPkg = JSON.parse(readFileSync(join(modules, 'electrodb/package.json'), 'utf8'));

process.env.AWS_ACCESS_KEY_ID ||= 'bench';
process.env.AWS_SECRET_ACCESS_KEY ||= 'bench';

const store = new DynamoDBStore({
  name: 'dynamodb',
  config: { id: 'bench-peer', region: 'us-east-1', tableName: args.table, endpoint: args.endpoint },
});
const quiet = { debug() {}, info() {}, warn() {}, error() {}, trackException() {}, child() { return quiet; } };
for (const domain of Object.values(store.stores)) {
  if (typeof domain.__setLogger === 'function') domain.__setLogger(quiet);
  else domain.logger = quiet;
}
const memory = store.stores.memory;
const workflows = store.stores.workflows;
const scores = store.stores.scores;

function withDates(value) {
  if (Array.isArray(value)) return value.map(withDates);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = (k === 'createdAt' || k === 'updatedAt') && typeof v === 'string' ? new Date(v) : withDates(v);
    }
    return out;
  }
  return value;
}

const calls = {
  saveThread: (a) => memory.saveThread({ thread: withDates(a.thread) }),
  getThreadById: (a) => memory.getThreadById({ threadId: a.threadId }),
  saveMessages: (a) => memory.saveMessages({ messages: withDates(a.messages) }),
  listMessages: (a) => memory.listMessages(a),
  updateResource: (a) => memory.updateResource(a),
  listThreads: (a) => memory.listThreads(a),
  updateMessages: (a) => memory.updateMessages(a),
  deleteMessages: (a) => memory.deleteMessages(a.messageIds),
  deleteThread: (a) => memory.deleteThread(a),
  persistWorkflowSnapshot: (a) => workflows.persistWorkflowSnapshot(a),
  loadWorkflowSnapshot: (a) => workflows.loadWorkflowSnapshot(a),
  listWorkflowRuns: (a) => workflows.listWorkflowRuns(a),
  saveScore: (a) => scores.saveScore(a.score),
  listScoresByScorerId: (a) => scores.listScoresByScorerId(a),
  listScoresByRunId: (a) => scores.listScoresByRunId(a),
  listScoresByEntityId: (a) => scores.listScoresByEntityId(a),
};

function summarize(op, result) {
  if (result === null || result === undefined) return { none: true };
  if (op === 'listMessages') return { n: result.messages.length, total: result.total };
  if (op === 'listThreads') return { n: result.threads.length, total: result.total };
  if (op === 'listWorkflowRuns') return { n: result.runs.length, total: result.total };
  if (op.startsWith('listScores')) return { n: result.scores.length, total: result.pagination.total };
  return {};
}

async function mark(label) {
  const response = await fetch(`${args.endpoint}/__bench/mark?label=${encodeURIComponent(label)}`);
  await response.arrayBuffer();
}

const plan = JSON.parse(readFileSync(args.plan, 'utf8'));
const timings = [];
const usageBefore = process.resourceUsage(); // CPU of the replay only: module loading and startup excluded
const startedAll = process.hrtime.bigint();
for (const entry of plan) {
  await mark(entry.label);
  let error = null;
  let result;
  const started = process.hrtime.bigint();
  try {
    result = await calls[entry.op](entry.args);
  } catch (exc) {
    error = String(exc?.cause?.message ?? exc?.message ?? exc).slice(0, 300);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  timings.push({ label: entry.label, ms, error, result: error ? {} : summarize(entry.op, result) });
}
const totalMs = Number(process.hrtime.bigint() - startedAll) / 1e6;
const usageAfter = process.resourceUsage();
writeFileSync(args.out, JSON.stringify({
  timings,
  total_ms: totalMs,
  cpu_user_ms: (usageAfter.userCPUTime - usageBefore.userCPUTime) / 1000,
  cpu_system_ms: (usageAfter.systemCPUTime - usageBefore.systemCPUTime) / 1000,
  versions: {
    node: process.version, '@mastra/dynamodb': peerPkg.version, '@mastra/core': corePkg.version,
    '@aws-sdk/client-dynamodb': sdkPkg.version, electrodb: electroPkg.version,
  },
}));
await store.close();
