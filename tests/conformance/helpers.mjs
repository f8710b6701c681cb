// Shared by the conformance tests: starts the emulator, talks to its control endpoints, and
// validates JSON against the schemas of the official OpenAPI document.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import * as yaml from 'js-yaml';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
export const API_KEY = 'conformance-key';

// Azure deployments the tests use, next to one named after each model.
const DEPLOYMENTS = {
  'gpt-image-1': 'gpt-image-1', 'gpt-image-1-mini': 'gpt-image-1-mini', 'gpt-image-1.5': 'gpt-image-1.5',
  'gpt-image-2': 'gpt-image-2', 'dall-e-3': 'dall-e-3', 'dall-e-2': 'dall-e-2',
  'img-prod': 'gpt-image-1', 'dalle-prod': 'dall-e-3',
};

export async function startEmulator() {
  const binary = process.env.IMAGEGEN_EMULATOR;
  if (!binary) throw new Error('IMAGEGEN_EMULATOR must name the emulator binary');
  const args = ['--port', '0', '--api-key', API_KEY];
  for (const [name, model] of Object.entries(DEPLOYMENTS)) args.push('--deployment', `${name}=${model}`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return {
    base,
    async control(what, body) {
      const res = await fetch(`${base}/_emulator/${what}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return res.json();
    },
    async requests() { return (await this.control('requests')).requests; },
    async reset() { return this.control('reset', {}); },
    async faults(...faults) { return this.control('faults', { faults }); },
    stop() { child.kill('SIGTERM'); },
  };
}

// ---- images made here, byte for byte ----

function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

// An 8-bit PNG; pixel(x, y) returns [r, g, b, a] (RGBA) or [r, g, b] when alpha is false.
export function makePng(width, height, pixel, alpha = true) {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc((width * channels + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * channels + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const p = pixel(x, y);
      for (let c = 0; c < channels; c++) raw[y * (width * channels + 1) + 1 + x * channels + c] = p[c];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = alpha ? 6 : 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Reads back the PNGs the emulator writes (8-bit RGBA, no interlace): width, height, pixel().
export function readPng(buf) {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let off = 8, width = 0, height = 0, colorType = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); colorType = data[9]; }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  if (colorType !== 6) throw new Error(`unexpected colour type ${colorType}`);
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= 4 ? out[y * stride + i - 4] : 0;
      const b = y > 0 ? out[(y - 1) * stride + i] : 0;
      const c = i >= 4 && y > 0 ? out[(y - 1) * stride + i - 4] : 0;
      let v;
      switch (filter) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >> 1); break;
        case 4: { const p = a + b - c; const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c); break; }
        default: throw new Error('bad filter');
      }
      out[y * stride + i] = v & 0xff;
    }
  }
  return { width, height, pixel: (px, py) => [...out.subarray(py * stride + px * 4, py * stride + px * 4 + 4)] };
}

// The colour the emulator paints for a prompt (FNV-1a over the UTF-8 bytes).
export function promptColour(prompt) {
  let h = 2166136261;
  for (const byte of Buffer.from(prompt, 'utf8')) h = Math.imul(h ^ byte, 16777619) >>> 0;
  return [64 + (h & 0x7f), 64 + ((h >>> 8) & 0x7f), 64 + ((h >>> 16) & 0x7f)];
}

// ---- the official OpenAPI document's schemas ----

// OpenAPI 3.0's `nullable` becomes JSON Schema's null type, so that Ajv reads the document.
function toJsonSchema(node) {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = toJsonSchema(v);
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else return { anyOf: [out, { type: 'null' }] };
    if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
  }
  return out;
}

let ajv;
export function schema(name) {
  if (!ajv) {
    const file = process.env.IMAGEGEN_OPENAPI || path.join(here, 'openapi', 'openai-openapi.yaml');
    const doc = yaml.load(fs.readFileSync(file, 'utf8'));
    ajv = new Ajv({ strict: false, allErrors: true, discriminator: false });
    addFormats(ajv);
    ajv.addFormat('unixtime', true);
    ajv.addSchema({ $id: 'oas', components: toJsonSchema(doc.components) });
  }
  const validate = ajv.getSchema(`oas#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return (value) => {
    if (!validate(value)) throw new Error(`${name}: ${ajv.errorsText(validate.errors)}`);
    return true;
  };
}

export const PNG_1024 = makePng(1024, 1024, (x, y) => [(x >> 2) & 0xff, (y >> 2) & 0xff, 90, 255]);
// A mask whose left half is transparent (to be edited).
export const MASK_1024 = makePng(1024, 1024, (x) => [0, 0, 0, x < 512 ? 0 : 255]);
