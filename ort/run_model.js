#!/usr/bin/env node
// run_model.js - Run one ONNX model through ONNX Runtime (CPU) on tensors stored as files.
//
// Rill uses ONNX Runtime as an independent reference for its numerics tests. This
// driver reads `inputs.json` from a directory (input name -> {dtype, shape, file},
// with each file holding the raw little-endian tensor bytes in row-major order),
// runs the model with onnxruntime-node, and writes every requested output the same
// way beside a matching `outputs.json`. On any failure it prints one message naming
// the file or input at fault to stderr and exits with a non-zero status. The
// onnxruntime-node package is loaded from $RILL_ORT_DIR/node_modules when that
// variable is set, otherwise from the node_modules folder beside this script.
//
// Usage: node run_model.js DIR [--model PATH] [--threads N] [--outputs NAME,...]
//                              [--optimization disabled|basic|extended|all]

'use strict';

const fs = require('fs');
const path = require('path');

const USAGE =
  'usage: node run_model.js DIR [--model PATH] [--threads N] ' +
  '[--outputs NAME,...] [--optimization disabled|basic|extended|all]\n' +
  '  DIR             directory holding inputs.json and the tensor files; outputs are written there\n' +
  '  --model PATH    ONNX model to run (default: DIR/model.onnx)\n' +
  '  --threads N     intra-op thread count (default: 1)\n' +
  '  --outputs LIST  comma-separated output names to fetch (default: all graph outputs)\n' +
  '  --optimization  ONNX Runtime graph optimization level (default: all)\n';

// Element size in bytes and typed-array constructor for each supported dtype.
// float16 travels as raw Uint16 bits because Node.js 20 has no Float16Array, and
// bool travels as one byte per element (0 or 1), as numpy stores it.
const DTYPES = {
  float32: { size: 4, array: Float32Array },
  float16: { size: 2, array: Uint16Array },
  int64: { size: 8, array: BigInt64Array },
  int32: { size: 4, array: Int32Array },
  bool: { size: 1, array: Uint8Array },
  uint8: { size: 1, array: Uint8Array },
};

class DriverError extends Error {}

function parseArguments(argv) {
  const options = { dir: null, model: null, threads: 1, outputs: null, optimization: 'all' };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    const takeValue = () => {
      if (i + 1 >= argv.length) {
        throw new DriverError(`option ${argument} expects a value\n${USAGE}`);
      }
      return argv[++i];
    };
    if (argument === '--model') {
      options.model = takeValue();
    } else if (argument === '--threads') {
      const text = takeValue();
      options.threads = Number(text);
      if (!Number.isInteger(options.threads) || options.threads < 1) {
        throw new DriverError(`--threads expects a positive integer (got '${text}')`);
      }
    } else if (argument === '--outputs') {
      options.outputs = takeValue().split(',').filter((name) => name.length > 0);
    } else if (argument === '--optimization') {
      options.optimization = takeValue();
      if (!['disabled', 'basic', 'extended', 'all'].includes(options.optimization)) {
        throw new DriverError(
          `--optimization expects disabled, basic, extended or all (got '${options.optimization}')`);
      }
    } else if (argument === '--help' || argument === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (argument.startsWith('--')) {
      throw new DriverError(`unknown option '${argument}'\n${USAGE}`);
    } else if (options.dir === null) {
      options.dir = argument;
    } else {
      throw new DriverError(`unexpected argument '${argument}'\n${USAGE}`);
    }
  }
  if (options.dir === null) {
    throw new DriverError(`missing the tensor directory argument\n${USAGE}`);
  }
  if (options.model === null) {
    options.model = path.join(options.dir, 'model.onnx');
  }
  return options;
}

function readJson(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new DriverError(`failed to read ${file}: ${error.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DriverError(`${file} is not valid JSON: ${error.message}`);
  }
}

function elementCount(shape) {
  return shape.reduce((count, extent) => count * extent, 1);
}

// Build an ort.Tensor for one entry of inputs.json, checking the entry and the file size.
function loadInput(ort, dir, manifestFile, name, entry) {
  const where = `${manifestFile}: input '${name}'`;
  if (entry === null || typeof entry !== 'object') {
    throw new DriverError(`${where}: expected an object with dtype, shape and file`);
  }
  const dtype = DTYPES[entry.dtype];
  if (dtype === undefined) {
    throw new DriverError(
      `${where}: unsupported dtype '${entry.dtype}' (expected one of ${Object.keys(DTYPES).join(', ')})`);
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((extent) => Number.isInteger(extent) && extent >= 0)) {
    throw new DriverError(`${where}: shape must be a list of non-negative integers (got ${JSON.stringify(shape)})`);
  }
  if (typeof entry.file !== 'string') {
    throw new DriverError(`${where}: missing the 'file' field`);
  }

  const file = path.resolve(dir, entry.file);
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new DriverError(`${where}: failed to read tensor file ${file}: ${error.message}`);
  }
  const expectedBytes = elementCount(shape) * dtype.size;
  if (bytes.length !== expectedBytes) {
    throw new DriverError(
      `${where}: tensor file ${file} has ${bytes.length} bytes, expected ${expectedBytes} ` +
      `for ${entry.dtype} of shape [${shape.join(', ')}]`);
  }

  // Copy into a fresh, aligned buffer: a Buffer from readFileSync may share an
  // unaligned slab, and typed arrays need alignment to their element size.
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  const data = new dtype.array(copy);
  return new ort.Tensor(entry.dtype, data, shape);
}

// Write one output tensor to DIR and return its outputs.json entry.
function saveOutput(dir, index, name, tensor) {
  if (DTYPES[tensor.type] === undefined) {
    throw new DriverError(
      `output '${name}' has dtype '${tensor.type}', which this driver cannot write ` +
      `(supported: ${Object.keys(DTYPES).join(', ')})`);
  }
  // Output names such as 'present.0.key' may contain characters that are awkward
  // in file names, so files are numbered and outputs.json maps names to them.
  const fileName = `output_${index}.bin`;
  const data = tensor.data;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(path.join(dir, fileName), bytes);
  return { dtype: tensor.type, shape: Array.from(tensor.dims), file: fileName };
}

// Load onnxruntime-node from $RILL_ORT_DIR/node_modules when that variable is set,
// otherwise from the node_modules folder beside this script.
function loadOnnxRuntime() {
  const ortDir = process.env.RILL_ORT_DIR || __dirname;
  let resolved;
  try {
    resolved = require.resolve('onnxruntime-node', { paths: [ortDir] });
  } catch (error) {
    throw new DriverError(
      `onnxruntime-node not found under ${ortDir}/node_modules; run ` +
      `'npm install --ignore-scripts onnxruntime-node@1.30.0' in ${ortDir} or set RILL_ORT_DIR`);
  }
  try {
    return require(resolved);
  } catch (error) {
    throw new DriverError(`failed to load ${resolved} and its native binary: ${error.message}`);
  }
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const ort = loadOnnxRuntime();

  const manifestFile = path.join(options.dir, 'inputs.json');
  const manifest = readJson(manifestFile);
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new DriverError(`${manifestFile}: expected an object mapping input names to tensors`);
  }

  if (!fs.existsSync(options.model)) {
    throw new DriverError(`model file not found: ${options.model}`);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(options.model, {
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: options.optimization,
      // Errors reach the caller through the thrown message, so ONNX Runtime's own
      // log lines would only print them twice.
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw new DriverError(`ONNX Runtime failed to load ${options.model}: ${error.message}`);
  }

  const feeds = {};
  for (const [name, entry] of Object.entries(manifest)) {
    if (!session.inputNames.includes(name)) {
      throw new DriverError(
        `${manifestFile}: input '${name}' is not an input of ${options.model} ` +
        `(model inputs: ${session.inputNames.join(', ')})`);
    }
    feeds[name] = loadInput(ort, options.dir, manifestFile, name, entry);
  }
  const missing = session.inputNames.filter((name) => !(name in feeds));
  if (missing.length > 0) {
    throw new DriverError(
      `${manifestFile}: missing model inputs ${missing.map((name) => `'${name}'`).join(', ')} ` +
      `required by ${options.model}`);
  }

  const outputNames = options.outputs === null ? session.outputNames : options.outputs;
  for (const name of outputNames) {
    if (!session.outputNames.includes(name)) {
      throw new DriverError(
        `requested output '${name}' is not an output of ${options.model} ` +
        `(model outputs: ${session.outputNames.join(', ')})`);
    }
  }

  let results;
  try {
    results = await session.run(feeds, outputNames);
  } catch (error) {
    throw new DriverError(`ONNX Runtime failed to run ${options.model}: ${error.message}`);
  }

  const outputManifest = {};
  outputNames.forEach((name, index) => {
    outputManifest[name] = saveOutput(options.dir, index, name, results[name]);
  });
  fs.writeFileSync(path.join(options.dir, 'outputs.json'), JSON.stringify(outputManifest, null, 2) + '\n');
  await session.release();
}

main().catch((error) => {
  const message = error instanceof DriverError ? error.message : (error.stack || String(error));
  process.stderr.write(`run_model.js: error: ${message}\n`);
  process.exit(1);
});
