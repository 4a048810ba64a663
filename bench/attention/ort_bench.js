#!/usr/bin/env node
// ort_bench.js - Time one ONNX model in ONNX Runtime (CPU) on random inputs.
//
// The attention benchmarks run ONNX Runtime 1.30 beside Rill's kernels. This
// driver loads onnxruntime-node from $RILL_ORT_DIR/node_modules (default:
// the repository's ort/ folder), creates random float32 inputs and int32
// inputs with given values, warms up twice, then times session.run until at
// least MIN_SECONDS have passed (and at least 5 runs). Timing happens inside
// Node, so process start and model loading are not counted.
//
// Usage: node ort_bench.js MODEL SPEC_JSON THREADS MIN_SECONDS
// SPEC_JSON maps input names to {"dtype": "float32", "shape": [...]} or
// {"dtype": "int32", "shape": [...], "values": [...]}. Prints one JSON line:
// {"median_s": ..., "min_s": ..., "runs": ...}.

'use strict';

const path = require('path');

async function main() {
  const [model, specText, threadsText, minSecondsText] = process.argv.slice(2);
  if (minSecondsText === undefined) {
    process.stderr.write('usage: node ort_bench.js MODEL SPEC_JSON THREADS MIN_SECONDS\n');
    process.exit(2);
  }
  const ortDir = process.env.RILL_ORT_DIR || path.join(__dirname, '..', '..', 'ort');
  const ort = require(require.resolve('onnxruntime-node', { paths: [ortDir] }));

  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threadsText),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });

  const feeds = {};
  for (const [name, entry] of Object.entries(JSON.parse(specText))) {
    const count = entry.shape.reduce((product, extent) => product * extent, 1);
    if (entry.dtype === 'float32') {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = Math.random() - 0.5;
      feeds[name] = new ort.Tensor('float32', data, entry.shape);
    } else if (entry.dtype === 'int32') {
      feeds[name] = new ort.Tensor('int32', Int32Array.from(entry.values), entry.shape);
    } else {
      throw new Error(`input '${name}': unsupported dtype '${entry.dtype}'`);
    }
  }

  for (let i = 0; i < 2; i++) await session.run(feeds);
  const minSeconds = Number(minSecondsText);
  const times = [];
  const start = process.hrtime.bigint();
  for (;;) {
    const before = process.hrtime.bigint();
    await session.run(feeds);
    const after = process.hrtime.bigint();
    times.push(Number(after - before) * 1e-9);
    if (times.length >= 5 && Number(after - start) * 1e-9 >= minSeconds) break;
    if (times.length >= 10000) break;
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ median_s: times[Math.floor(times.length / 2)],
                                        min_s: times[0], runs: times.length }) + '\n');
}

main().catch((error) => {
  process.stderr.write(`ort_bench.js: ${error.message}\n`);
  process.exit(1);
});
