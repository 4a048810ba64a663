#!/usr/bin/env node
// ort_stream.js - Stream tokens through ONNX Runtime with a truncated past_key_values cache.
//
// This is what an ONNX Runtime user can do today with an optimum-layout decoder export:
// one process loads the model once and runs the whole token loop, and before each step
// the driver cuts every past_key_values tensor down to the first `sinks` and the last
// `capacity - sinks - 1` entries, so the cache holds `capacity` entries after the step.
// The cached keys were rotated when they were computed, so truncation keeps their
// original positions; StreamingLLM instead re-rotates them at in-cache positions.
// `--positions stream` (the default) feeds position_ids = stream position, so window
// keys keep their true distances and sinks sit at their original, far positions.
// `--positions cache` feeds the in-cache position instead, which mixes rotations.
// Policies: dense (no truncation), window (sinks 0), sinks, and recompute (every token
// re-runs the last `capacity` tokens with an empty past, at positions 0..n-1).
// Output: one JSON object with per-token latency, prefill throughput, peak RSS and the
// mean NLL of the stream. The onnxruntime-node package comes from $RILL_ORT_DIR or the
// repository's ort/ folder.
//
// Usage: node ort_stream.js --model M.onnx --kv-heads H --head-dim D
//          (--tokens FILE | --cost) [--policy P] [--sinks N] [--capacity N]
//          [--positions stream|cache] [--threads N] [--prefill N] [--measure N]
//          [--max-tokens N] [--nll-out FILE]

'use strict';

const fs = require('fs');
const path = require('path');

const USAGE =
  'usage: node ort_stream.js --model M.onnx --kv-heads H --head-dim D (--tokens FILE | --cost)\n' +
  '  --tokens FILE       token ids as decimal text separated by whitespace, BOS first\n' +
  '  --cost              time steps at a full cache filled with random entries instead\n' +
  '  --policy P          dense, window, sinks or recompute (default: sinks)\n' +
  '  --sinks N           initial entries kept by the sinks policy (default: 4)\n' +
  '  --capacity N        cache entries after each step, sinks included (default: 256)\n' +
  '  --positions MODE    position_ids: stream position (default) or in-cache position\n' +
  '  --threads N         ONNX Runtime intra-op threads (default: 1)\n' +
  '  --prefill N         also time prompt chunks of N tokens: one cold, then the median of more (default: 0, off)\n' +
  '  --prefill-calls N   timed prompt chunks after the cold one (default: 5)\n' +
  '  --measure N         cost mode: timed steps (default: 20)\n' +
  '  --max-tokens N      stop after N tokens of the file (default: all)\n' +
  '  --nll-out FILE      write the per-target NLL as text, one value a line\n';

class DriverError extends Error {}

function parseArguments(argv) {
  const options = {
    model: null, kvHeads: 0, headDim: 0, tokens: null, cost: false, policy: 'sinks', sinks: 4,
    capacity: 256, positions: 'stream', threads: 1, prefill: 0, prefillCalls: 5, measure: 20, warmup: 3,
    maxTokens: 0, nllOut: null,
  };
  const integers = {
    '--kv-heads': 'kvHeads', '--head-dim': 'headDim', '--sinks': 'sinks', '--capacity': 'capacity',
    '--threads': 'threads', '--prefill': 'prefill', '--measure': 'measure', '--max-tokens': 'maxTokens',
    '--warmup': 'warmup', '--prefill-calls': 'prefillCalls',
  };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const takeValue = () => {
      if (i + 1 >= argv.length) throw new DriverError(`option ${argument} expects a value\n${USAGE}`);
      return argv[++i];
    };
    if (argument in integers) {
      const text = takeValue();
      const value = /^[0-9]+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(value)) {
        throw new DriverError(`${argument} expects a non-negative integer (got '${text}')`);
      }
      options[integers[argument]] = value;
    } else if (argument === '--model') {
      options.model = takeValue();
    } else if (argument === '--tokens') {
      options.tokens = takeValue();
    } else if (argument === '--nll-out') {
      options.nllOut = takeValue();
    } else if (argument === '--cost') {
      options.cost = true;
    } else if (argument === '--policy') {
      options.policy = takeValue();
      if (!['dense', 'window', 'sinks', 'recompute'].includes(options.policy)) {
        throw new DriverError(`--policy expects dense, window, sinks or recompute (got '${options.policy}')`);
      }
    } else if (argument === '--positions') {
      options.positions = takeValue();
      if (!['stream', 'cache'].includes(options.positions)) {
        throw new DriverError(`--positions expects stream or cache (got '${options.positions}')`);
      }
    } else if (argument === '--help' || argument === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else {
      throw new DriverError(`unknown argument '${argument}'\n${USAGE}`);
    }
  }
  if (options.model === null) throw new DriverError(`missing --model\n${USAGE}`);
  if (options.kvHeads < 1 || options.headDim < 1) throw new DriverError(`--kv-heads and --head-dim must be >= 1\n${USAGE}`);
  if (options.tokens === null && !options.cost) throw new DriverError(`give --tokens FILE or --cost\n${USAGE}`);
  if (options.capacity < 1) throw new DriverError('--capacity must be >= 1');
  if (options.prefillCalls < 1) throw new DriverError('--prefill-calls must be >= 1');
  if (options.policy !== 'sinks') options.sinks = 0;
  if (options.sinks >= options.capacity) {
    throw new DriverError(`--sinks ${options.sinks} must be below --capacity ${options.capacity}`);
  }
  return options;
}

function loadOnnxRuntime() {
  const ortDir = process.env.RILL_ORT_DIR || path.join(__dirname, '..', '..', 'ort');
  let resolved;
  try {
    resolved = require.resolve('onnxruntime-node', { paths: [ortDir] });
  } catch (error) {
    throw new DriverError(
      `onnxruntime-node not found under ${ortDir}/node_modules; run ` +
      `'npm install --ignore-scripts onnxruntime-node@1.30.0' in ${ortDir} or set RILL_ORT_DIR`);
  }
  return require(resolved);
}

function readTokens(file, maxTokens) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new DriverError(`failed to read token file ${file}: ${error.message}`);
  }
  const tokens = text.split(/\s+/).filter((word) => word.length > 0).map(Number);
  const bad = tokens.findIndex((id) => !Number.isInteger(id) || id < 0);
  if (bad >= 0) throw new DriverError(`${file}: token ${bad} is not a non-negative integer`);
  return maxTokens > 0 ? tokens.slice(0, maxTokens) : tokens;
}

// Keep entries [0, sinks) and the last `recent` entries of a [1, heads, length, dim] tensor.
function truncate(ort, tensor, sinks, recent) {
  const [batch, heads, length, dim] = tensor.dims;
  if (sinks + recent >= length) return tensor;
  const kept = sinks + recent;
  const source = tensor.data;
  const data = new Float32Array(batch * heads * kept * dim);
  for (let h = 0; h < batch * heads; h++) {
    const from = h * length * dim;
    const to = h * kept * dim;
    data.set(source.subarray(from, from + sinks * dim), to);
    data.set(source.subarray(from + (length - recent) * dim, from + length * dim), to + sinks * dim);
  }
  return new ort.Tensor('float32', data, [batch, heads, kept, dim]);
}

class OrtStream {
  constructor(ort, session, options) {
    this.ort = ort;
    this.session = session;
    this.options = options;
    this.layers = session.inputNames.filter((name) => /^past_key_values\.\d+\.key$/.test(name)).length;
    this.past = null;
    this.position = 0;
    this.history = [];
  }

  emptyPast(length, random) {
    const { kvHeads, headDim } = this.options;
    const past = [];
    for (let i = 0; i < 2 * this.layers; i++) {
      const data = new Float32Array(kvHeads * length * headDim);
      if (random) for (let j = 0; j < data.length; j++) data[j] = Math.random() - 0.5;
      past.push(new this.ort.Tensor('float32', data, [1, kvHeads, length, headDim]));
    }
    return past;
  }

  // Run `ids` after `past` at `positions`; returns {logits, presents}.
  async run(ids, past, positions) {
    const ort = this.ort;
    const pastLength = past[0].dims[2];
    const feeds = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLength + ids.length).fill(1n), [1, pastLength + ids.length]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from(positions.map(BigInt)), [1, ids.length]),
    };
    for (let i = 0; i < this.layers; i++) {
      feeds[`past_key_values.${i}.key`] = past[2 * i];
      feeds[`past_key_values.${i}.value`] = past[2 * i + 1];
    }
    const results = await this.session.run(feeds);
    const presents = [];
    for (let i = 0; i < this.layers; i++) {
      presents.push(results[`present.${i}.key`], results[`present.${i}.value`]);
    }
    return { logits: results.logits, presents };
  }

  // Feed one token; returns the last logits row as a Float32Array.
  async step(token) {
    const { policy, sinks, capacity, positions } = this.options;
    const t = this.position;
    this.position += 1;
    let result;
    if (policy === 'recompute') {
      this.history.push(token);
      if (this.history.length > capacity) this.history.shift();
      const ids = this.history;
      result = await this.run(ids, this.emptyPast(0, false), ids.map((_, i) => i));
    } else {
      let past = this.past || this.emptyPast(0, false);
      if (policy !== 'dense') past = past.map((tensor) => truncate(this.ort, tensor, sinks, capacity - sinks - 1));
      const position = positions === 'stream' ? t : past[0].dims[2];
      result = await this.run([token], past, [position]);
      this.past = result.presents;
    }
    const logits = result.logits;
    const vocab = logits.dims[2];
    return logits.data.subarray(logits.data.length - vocab);
  }
}

function negativeLogLikelihood(logits, target) {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i] - max);
  return Math.log(total) + max - logits[target];
}

// Peak RSS from VmHWM in /proc/self/status. getrusage's maxRSS is not used because
// Linux keeps it across execve, so a child would report its parent's peak if that was higher.
function peakRssBytes() {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch (error) {
    // Not Linux: fall back to getrusage below.
  }
  return process.resourceUsage().maxRSS * 1024;
}

function median(values) {
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const ort = loadOnnxRuntime();
  if (!fs.existsSync(options.model)) throw new DriverError(`model file not found: ${options.model}`);
  const loadStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(options.model, {
    intraOpNumThreads: options.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
  });
  const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
  const result = {
    engine: 'onnxruntime-node', ort: ort.env.versions.common, model: path.basename(options.model),
    policy: options.policy, sinks: options.sinks, capacity: options.capacity,
    positions: options.positions, threads: options.threads, load_seconds: seconds(loadStart),
  };

  if (options.prefill > 0) {
    const probe = new OrtStream(ort, session, options);
    const ids = new Array(options.prefill).fill(3);
    const calls = [];
    for (let call = 0; call <= options.prefillCalls; ++call) {
      const start = process.hrtime.bigint();
      await probe.run(ids, probe.emptyPast(0, false), ids.map((_, i) => i));
      calls.push(seconds(start));
    }
    // The first call is the cold one, and the median of the others is reported.
    result.prefill_tokens = options.prefill;
    result.prefill_cold_tokens_per_second = options.prefill / calls[0];
    result.prefill_tokens_per_second = options.prefill / median(calls.slice(1));
  }

  const stream = new OrtStream(ort, session, options);
  if (options.cost) {
    const fill = options.policy === 'dense' ? options.capacity : options.capacity - 1;
    if (options.policy === 'recompute') {
      stream.history = new Array(fill).fill(3);
    } else {
      stream.past = stream.emptyPast(fill, true);
    }
    stream.position = fill;
    const latencies = [];
    for (let i = 0; i < options.warmup + options.measure; i++) {
      const start = process.hrtime.bigint();
      await stream.step(3 + (i % 100));
      if (i >= options.warmup) latencies.push(seconds(start));
    }
    result.latency_ms_median = median(latencies) * 1e3;
    result.latency_ms_min = Math.min(...latencies) * 1e3;
    result.measured_steps = latencies.length;
  } else {
    const tokens = readTokens(options.tokens, options.maxTokens);
    if (tokens.length < 2) throw new DriverError(`${options.tokens}: need at least 2 tokens`);
    const latencies = [];
    const nll = [];
    for (let t = 0; t + 1 < tokens.length; t++) {
      const start = process.hrtime.bigint();
      const logits = await stream.step(tokens[t]);
      latencies.push(seconds(start));
      nll.push(negativeLogLikelihood(logits, tokens[t + 1]));
    }
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    result.scored_tokens = nll.length;
    result.mean_nll = mean;
    result.perplexity = Math.exp(mean);
    result.latency_ms_median = median(latencies) * 1e3;
    result.latency_ms_mean = latencies.reduce((a, b) => a + b, 0) / latencies.length * 1e3;
    if (options.nllOut) fs.writeFileSync(options.nllOut, nll.map((x) => x.toPrecision(10)).join('\n') + '\n');
  }
  result.peak_rss_bytes = peakRssBytes();
  process.stdout.write(JSON.stringify(result) + '\n');
  await session.release();
}

main().catch((error) => {
  const message = error instanceof DriverError ? error.message : (error.stack || String(error));
  process.stderr.write(`ort_stream.js: error: ${message}\n`);
  process.exit(1);
});
