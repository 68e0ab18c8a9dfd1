// Writes a small Mastra data set with the TypeScript adapter @mastra/dynamodb@1.0.0 (Node 22) into an existing
// table laid out for it (pk/sk, gsi1..gsi7), then reads it back through the same adapter and prints what it
// read as JSON on stdout. tests/cli/test_migrate.py migrates that table with `mastra-dynamo migrate-from-mastra`
// and compares our reads with these.
//
// Environment: TS_PEER_DIR (the npm project installed by `make ts-peer`), DDB_ENDPOINT, DDB_TABLE, and
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (any value; DynamoDB Local separates data by access key).
import path from "node:path";
import { pathToFileURL } from "node:url";

const peer = process.env.TS_PEER_DIR;
const endpoint = process.env.DDB_ENDPOINT;
const tableName = process.env.DDB_TABLE;
if (!peer || !endpoint || !tableName) {
  console.error("writer.mjs needs TS_PEER_DIR, DDB_ENDPOINT and DDB_TABLE");
  process.exit(2);
}
const entry = path.join(peer, "node_modules", "@mastra", "dynamodb", "dist", "index.js");
const { DynamoDBStore } = await import(pathToFileURL(entry).href);

const store = new DynamoDBStore({
  name: "dynamodb",
  config: {
    id: "ts-writer",
    region: "us-east-1",
    tableName,
    endpoint,
    // DynamoDB Local keeps one database per access key (and region): use the caller's key.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID || "local",
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "local",
    },
  },
});
await store.init();
const memory = await store.getStore("memory");
const workflows = await store.getStore("workflows");
const scores = await store.getStore("scores");

const base = Date.parse("2026-03-01T09:00:00.000Z");
const at = (seconds) => new Date(base + seconds * 1000);
const text = (value) => ({ format: 2, content: value, parts: [{ type: "text", text: value }] });

// ---------------------------------------------------------------- memory
await memory.saveResource({
  resource: {
    id: "User-Ada",
    workingMemory: "# Ada\n- Trip: Lisbon, May\n- Likes: palaces",
    metadata: { plan: "pro", locale: "en-GB" },
    createdAt: at(0),
    updatedAt: at(0),
  },
});
await memory.saveResource({ resource: { id: "user-bob", metadata: { plan: "free" }, createdAt: at(1), updatedAt: at(1) } });

const threads = [
  { id: "Thread-Lisbon", resourceId: "User-Ada", title: "Trip to Lisbon", metadata: { channel: "web" }, createdAt: at(10), updatedAt: at(10) },
  { id: "thread-porto", resourceId: "User-Ada", title: "Porto weekend", createdAt: at(20), updatedAt: at(20) },
  { id: "thread-bob", resourceId: "user-bob", title: "Billing question", metadata: { priority: 2 }, createdAt: at(30), updatedAt: at(30) },
];
for (const thread of threads) {
  await memory.saveThread({ thread });
}

const conversations = {
  "Thread-Lisbon": [
    ["user", "I want to visit Lisbon in May. What should I pack?"],
    ["assistant", "Light layers, a rain jacket and comfortable walking shoes."],
    ["user", "Any day trips you recommend?"],
    ["assistant", "Sintra for the palaces, and Cascais for the coast."],
  ],
  "thread-porto": [
    ["user", "Is two days enough for Porto?"],
    ["assistant", "Yes: Ribeira, a port cellar in Gaia and the Livraria Lello."],
  ],
  "thread-bob": [
    ["user", "Why was I charged twice?"],
    ["assistant", "One charge is a pending authorisation; it disappears within three days."],
    ["user", "Thanks!"],
  ],
};
let second = 100;
for (const thread of threads) {
  const messages = conversations[thread.id].map(([role, value], index) => ({
    id: `${thread.id}-Msg-${index}`,
    threadId: thread.id,
    resourceId: thread.resourceId,
    role,
    type: "text",
    createdAt: at(second++),
    content: text(value),
  }));
  await memory.saveMessages({ messages });
}
// A message whose content carries a tool call (v2 parts).
await memory.saveMessages({
  messages: [{
    id: "Thread-Lisbon-Msg-tool",
    threadId: "Thread-Lisbon",
    resourceId: "User-Ada",
    role: "assistant",
    type: "text",
    createdAt: at(second++),
    content: {
      format: 2,
      parts: [
        { type: "tool-invocation", toolInvocation: { state: "result", toolCallId: "call-1", toolName: "weather", args: { city: "Lisbon" }, result: { tempC: 22 } } },
        { type: "text", text: "It will be 22°C in Lisbon." },
      ],
      metadata: { model: "gpt-4o-mini" },
    },
  }],
});

// ---------------------------------------------------------------- workflows
const suspended = {
  runId: "Run-Trip-1",
  status: "suspended",
  value: { plan: "suspended" },
  context: {
    input: { city: "Lisbon" },
    research: { status: "success", output: { sights: ["Belem", "Alfama"] }, startedAt: base, endedAt: base + 800 },
    approve: { status: "suspended", payload: { draft: "3 days" }, suspendPayload: { reason: "needs approval" }, startedAt: base + 900 },
  },
  activePaths: [],
  serializedStepGraph: [{ type: "step", step: { id: "research" } }, { type: "step", step: { id: "approve" } }],
  suspendedPaths: { approve: [1] },
  waitingPaths: {},
  resumeLabels: {},
  timestamp: base + 1000,
};
await workflows.persistWorkflowSnapshot({ workflowName: "tripPlanner", runId: "Run-Trip-1", resourceId: "User-Ada", snapshot: suspended, createdAt: at(200), updatedAt: at(201) });
const done = { ...suspended, runId: "run-trip-2", status: "success", suspendedPaths: {}, result: { itinerary: ["Sintra"] }, timestamp: base + 5000 };
await workflows.persistWorkflowSnapshot({ workflowName: "tripPlanner", runId: "run-trip-2", snapshot: done, createdAt: at(210), updatedAt: at(215) });
await workflows.persistWorkflowSnapshot({ workflowName: "billingFlow", runId: "run-bill-1", resourceId: "user-bob", snapshot: { ...done, runId: "run-bill-1" } });

// ---------------------------------------------------------------- scores
const savedScores = [];
const scoreInputs = [
  {
    scorerId: "answer-relevancy", entityId: "trip-agent", entityType: "AGENT", runId: "Run-Trip-1", score: 0.92,
    scorer: { id: "answer-relevancy", name: "Answer relevancy" }, source: "LIVE",
    entity: { id: "trip-agent", name: "Trip agent" },
    input: { inputMessages: [{ role: "user", content: "Any day trips?" }] }, output: { text: "Sintra and Cascais" },
    reason: "Both suggestions are day trips from Lisbon.", traceId: "Trace-1", spanId: "span-1",
    resourceId: "User-Ada", threadId: "Thread-Lisbon", metadata: { judge: "gpt-4o" },
  },
  {
    scorerId: "toxicity", entityId: "trip-agent", entityType: "AGENT", runId: "Run-Trip-1", score: 0,
    scorer: { id: "toxicity", name: "Toxicity" }, source: "LIVE", entity: { id: "trip-agent" },
    input: [{ role: "user", content: "Any day trips?" }], output: "Sintra and Cascais",
  },
  {
    scorerId: "answer-relevancy", entityId: "billing-agent", runId: "run-bill-1", score: 0.5,
    scorer: { id: "answer-relevancy" }, source: "TEST", entity: { id: "billing-agent" },
    input: { question: "charged twice?" }, output: { text: "pending authorisation" }, requestContext: { tenant: "acme" },
  },
];
for (const input of scoreInputs) {
  const { score } = await scores.saveScore(input);
  savedScores.push(score.id);
}

// ---------------------------------------------------------------- read back through the adapter
const out = { threads: [], messages: {}, resources: [], runs: [], scores: [] };
for (const thread of threads) {
  out.threads.push(await memory.getThreadById({ threadId: thread.id }));
  const page = await memory.listMessages({ threadId: thread.id, perPage: false });
  out.messages[thread.id] = page.messages;
}
for (const id of ["User-Ada", "user-bob"]) {
  out.resources.push(await memory.getResourceById({ resourceId: id }));
}
for (const [workflowName, runId] of [["tripPlanner", "Run-Trip-1"], ["tripPlanner", "run-trip-2"], ["billingFlow", "run-bill-1"]]) {
  out.runs.push(await workflows.getWorkflowRunById({ runId, workflowName }));
}
for (const id of savedScores) {
  out.scores.push(await scores.getScoreById({ id }));
}
process.stdout.write(JSON.stringify(out));
await store.close?.();
