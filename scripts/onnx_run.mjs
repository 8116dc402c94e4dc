#!/usr/bin/env node
// Runs an ONNX model in ONNX Runtime (CPU) through onnxruntime-node, which scripts/setup.sh installs
// into tools/onnxruntime. Tensors are raw little-endian float32 files (N,C,H,W), no header.
//
//   node scripts/onnx_run.mjs MODEL.onnx IN.bin OUT.bin N C H W [--threads T] [--ort-dir DIR]
//   node scripts/onnx_run.mjs --manifest JOBS.json [--threads T] [--ort-dir DIR]
//     JOBS.json: {"threads": T, "jobs": [{"model": M, "input": IN, "output": OUT, "shape": [N,C,H,W]}, ...]}
//
// For each job it writes the model's first output to OUT and prints one JSON line
//   {"output": OUT, "shape": [...], "time_ms": t}
// where t is the wall time of InferenceSession.run() (session creation and file I/O excluded).
// ONNX Runtime is loaded from --ort-dir, else $SRLAB_ONNXRUNTIME_DIR, else <repo>/tools/onnxruntime.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fail = (msg) => { console.error(`onnx_run: ${msg}`); process.exit(2); };
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  if (value === undefined) fail(`${name} needs a value`);
  return value;
};

const ortDir = option('--ort-dir') || process.env.SRLAB_ONNXRUNTIME_DIR ||
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'tools', 'onnxruntime');
let threads = Number(option('--threads') || 0);
let jobs;
const manifest = option('--manifest');
if (manifest) {
  const m = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  jobs = m.jobs;
  threads = threads || Number(m.threads || 0);
} else if (args.length === 7) {
  const [model, input, output, ...shape] = args;
  jobs = [{ model, input, output, shape: shape.map(Number) }];
} else {
  fail('usage: onnx_run.mjs MODEL.onnx IN.bin OUT.bin N C H W [--threads T] | --manifest JOBS.json');
}

let ort;
try {
  ort = createRequire(path.join(path.resolve(ortDir), 'node_modules', '.resolve.js'))('onnxruntime-node');
} catch (e) {
  fail(`onnxruntime-node not found under ${ortDir} (run scripts/setup.sh): ${e.message}`);
}

const sessionOptions = { executionProviders: ['cpu'], ...(threads > 0 ? { intraOpNumThreads: threads } : {}) };
const sessions = new Map();
for (const job of jobs) {
  try {
    await runJob(job);
  } catch (e) {
    fail(`${job.model}: ${e.message}`);
  }
}

async function runJob(job) {
  if (!sessions.has(job.model)) sessions.set(job.model, await ort.InferenceSession.create(job.model, sessionOptions));
  const session = sessions.get(job.model);
  const bytes = fs.readFileSync(job.input);
  const numel = job.shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== numel * 4) fail(`${job.input}: ${bytes.length} bytes, expected ${numel * 4} for [${job.shape}]`);
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, job.shape) };
  const t0 = process.hrtime.bigint();
  const results = await session.run(feeds);
  const timeMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const out = results[session.outputNames[0]];
  if (out.type !== 'float32') fail(`${job.model}: output type ${out.type}, expected float32`);
  fs.writeFileSync(job.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  console.log(JSON.stringify({ output: job.output, shape: out.dims, time_ms: timeMs }));
}
