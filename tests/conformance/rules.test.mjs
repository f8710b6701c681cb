// Every rule of PROTOCOL.md §10, sent as raw HTTP: the rejection with the real status and error
// shape, next to the valid neighbour that is accepted. Then the faults the control endpoint
// queues, as a client sees them.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator, API_KEY, PNG_1024, MASK_1024, makePng, readPng, schema } from './helpers.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(() => emu.stop());
beforeEach(() => emu.reset());

const BEARER = { authorization: `Bearer ${API_KEY}` };
const AZURE_KEY = { 'api-key': API_KEY };
const DATED = '/openai/deployments/gpt-image-1/images';
const VERSION = '?api-version=2025-04-01-preview';

async function post(path, body, headers = BEARER) {
  const isForm = body instanceof FormData;
  const res = await fetch(emu.base + path, {
    method: 'POST',
    headers: isForm ? headers : { 'content-type': 'application/json', ...headers },
    body: isForm || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

// Every generation body the emulator accepts must be a valid CreateImageRequest, and every answer
// a valid ImagesResponse (or event stream): the emulator may not accept what the API would not.
async function gen(body, headers) {
  const res = await post('/v1/images/generations', body, headers);
  if (res.status === 200 && typeof body === 'object') {
    schema('CreateImageRequest')(body);
    if (res.json) schema('ImagesResponse')(res.json);
  }
  return res;
}

// OpenAI's shape: error.{message,type,param,code}, all four present.
function openaiError(res, status, param, code) {
  assert.equal(res.status, status, res.text);
  schema('ErrorResponse')(res.json);
  assert.deepEqual(Object.keys(res.json.error).slice(0, 4).sort(), ['code', 'message', 'param', 'type']);
  if (param !== undefined) assert.equal(res.json.error.param, param);
  if (code !== undefined) assert.equal(res.json.error.code, code);
}

// Azure's shape: error.{code,message}, code a string.
function azureError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(typeof res.json.error.code, 'string');
  assert.equal(typeof res.json.error.message, 'string');
  if (code !== undefined) assert.equal(res.json.error.code, code);
}

function accepted(res) {
  assert.equal(res.status, 200, res.text);
  assert.equal(typeof res.json.created, 'number');
  assert.ok(res.json.data.length >= 1);
  schema('ImagesResponse')(res.json);
}

function form(fields, files = []) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const [name, bytes, type, filename] of files) f.append(name, new Blob([bytes], { type }), filename ?? 'image.png');
  return f;
}

const editForm = (fields = {}, files = [['image', PNG_1024, 'image/png'], ['mask', MASK_1024, 'image/png', 'mask.png']]) =>
  form({ model: 'gpt-image-1', prompt: 'edit it', size: '1024x1024', ...fields }, files);
const edit = (f, headers) => post('/v1/images/edits', f, headers);

test('routing: the three URL styles, api-version required only on the deployments path', async () => {
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p' }));
  accepted(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY));
  azureError(await post(`${DATED}/generations`, { prompt: 'p' }, AZURE_KEY), 404);
  accepted(await post('/openai/v1/images/generations', { model: 'gpt-image-1', prompt: 'p' }, AZURE_KEY));
  accepted(await post('/openai/v1/images/generations?api-version=preview', { model: 'gpt-image-1', prompt: 'p' }, AZURE_KEY));
  openaiError(await post('/v1/images/variations-nope', { prompt: 'p' }), 404);
  azureError(await post(`/openai/deployments/unknown/images/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY), 404, 'DeploymentNotFound');
});

test('auth: bearer for OpenAI, api-key or bearer for Azure, 401 otherwise', async () => {
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p' }, {}), 401, null, null);
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p' }, { authorization: 'Bearer wrong' }), 401, null, 'invalid_api_key');
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p' }, AZURE_KEY), 401); // OpenAI does not read api-key
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p' }, BEARER));
  azureError(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, {}), 401, '401');
  azureError(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, { 'api-key': 'wrong' }), 401, '401');
  accepted(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY));
  accepted(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, BEARER));
  const [logged] = (await emu.requests()).filter((r) => r.status === 401);
  assert.equal(logged.auth_present, false);
  assert.ok(!JSON.stringify(await emu.requests()).includes(API_KEY), 'the log never holds a key');
});

test('generations: JSON only', async () => {
  openaiError(await gen('prompt=p', { ...BEARER, 'content-type': 'text/plain' }), 400, null, 'unsupported_content_type');
  openaiError(await gen('{"prompt": ', BEARER), 400);
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p' }));
});

test('generations: prompt present, non-empty and within the model limit', async () => {
  openaiError(await gen({ model: 'gpt-image-1' }), 400, 'prompt', 'missing_required_parameter');
  openaiError(await gen({ model: 'gpt-image-1', prompt: '' }), 400, 'prompt', 'empty_string');
  openaiError(await gen({ model: 'dall-e-3', prompt: 'a'.repeat(4001) }), 400, 'prompt', 'string_above_max_length');
  accepted(await gen({ model: 'dall-e-3', prompt: 'a'.repeat(4000) }));
  openaiError(await gen({ model: 'dall-e-2', prompt: 'a'.repeat(1001) }), 400, 'prompt');
  accepted(await gen({ model: 'dall-e-2', prompt: 'a'.repeat(1000), size: '256x256' }));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'a'.repeat(32001) }), 400, 'prompt');
  accepted(await gen({ model: 'gpt-image-1', prompt: 'é'.repeat(32000) }));
  azureError(await post(`${DATED}/generations${VERSION}`, { prompt: '' }, AZURE_KEY), 400, 'empty_string');
});

test('generations: sizes, qualities and n per model', async () => {
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', size: '1536x1024' }), 400, 'size', 'invalid_value');
  accepted(await gen({ model: 'dall-e-3', prompt: 'p', size: '1792x1024' }));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', size: '1792x1024' }), 400, 'size');
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p', size: '1024x1536' }));
  openaiError(await gen({ model: 'gpt-image-2', prompt: 'p', size: '1530x864' }), 400, 'size');
  accepted(await gen({ model: 'gpt-image-2', prompt: 'p', size: '1536x864' }));
  openaiError(await gen({ model: 'gpt-image-2', prompt: 'p', size: '3840x2176' }), 400, 'size');
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', quality: 'hd' }), 400, 'quality');
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p', quality: 'low' }));
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', quality: 'high' }), 400, 'quality');
  accepted(await gen({ model: 'dall-e-3', prompt: 'p', quality: 'hd' }));
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', n: 2 }), 400, 'n');
  accepted(await gen({ model: 'dall-e-3', prompt: 'p', n: 1 }));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', n: 11 }), 400, 'n', 'integer_out_of_range');
  const two = await gen({ model: 'gpt-image-1', prompt: 'p', n: 2 });
  accepted(two);
  assert.equal(two.json.data.length, 2);
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', n: '2' }), 400, 'n', 'invalid_type');
});

test('generations: response_format only for dall-e, style only for dall-e-3', async () => {
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', response_format: 'b64_json' }), 400, 'response_format', 'unknown_parameter');
  accepted(await gen({ model: 'dall-e-3', prompt: 'p', response_format: 'b64_json' }));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', style: 'vivid' }), 400, 'style');
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', style: 'cartoon' }), 400, 'style');
  accepted(await gen({ model: 'dall-e-3', prompt: 'p', style: 'vivid' }));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', colour: 'blue' }), 400, 'colour', 'unknown_parameter');
});

test('generations: background, output_format and output_compression', async () => {
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', background: 'transparent', output_format: 'jpeg' }), 400, 'background');
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p', background: 'transparent', output_format: 'png' }));
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p', background: 'transparent', output_format: 'webp' }));
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', background: 'opaque' }), 400, 'background');
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', output_compression: 50 }), 400, 'output_compression');
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', output_format: 'jpeg', output_compression: 101 }), 400, 'output_compression');
  const jpeg = await gen({ model: 'gpt-image-1', prompt: 'p', output_format: 'jpeg', output_compression: 50 });
  accepted(jpeg);
  assert.deepEqual([...Buffer.from(jpeg.json.data[0].b64_json, 'base64').subarray(0, 3)], [0xff, 0xd8, 0xff]);
  azureError(await post(`${DATED}/generations${VERSION}`, { prompt: 'p', output_format: 'webp' }, AZURE_KEY), 400);
  accepted(await post(`${DATED}/generations${VERSION}`, { prompt: 'p', output_format: 'jpeg' }, AZURE_KEY));
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', moderation: 'none' }), 400, 'moderation');
  accepted(await gen({ model: 'gpt-image-1', prompt: 'p', moderation: 'low' }));
});

test('generations: Azure v1 requires model, naming a deployment', async () => {
  azureError(await post('/openai/v1/images/generations', { prompt: 'p' }, AZURE_KEY), 400, 'missing_required_parameter');
  azureError(await post('/openai/v1/images/generations', { prompt: 'p', model: 'nope' }, AZURE_KEY), 404, 'DeploymentNotFound');
  accepted(await post('/openai/v1/images/generations', { prompt: 'p', model: 'img-prod' }, AZURE_KEY));
  // The dated path takes the deployment from the URL and tolerates `model` in the body.
  accepted(await post(`${DATED}/generations${VERSION}`, { prompt: 'p', model: 'whatever' }, AZURE_KEY));
});

test('edits: multipart only', async () => {
  openaiError(await post('/v1/images/edits', { model: 'gpt-image-1', prompt: 'p' }), 400, null, 'unsupported_content_type');
  accepted(await edit(editForm()));
});

test('edits: image alone or image[] repeated, not both', async () => {
  openaiError(await edit(editForm({}, [['image', PNG_1024, 'image/png'], ['image[]', PNG_1024, 'image/png']])), 400, 'image');
  accepted(await edit(editForm({}, [['image[]', PNG_1024, 'image/png'], ['image[]', PNG_1024, 'image/png']])));
  accepted(await edit(editForm({}, [['image', PNG_1024, 'image/png']])));
  openaiError(await edit(form({ model: 'gpt-image-1', prompt: 'p' })), 400, 'image', 'missing_required_parameter');
});

test('edits: a part typed application/octet-stream is refused', async () => {
  const res = await edit(editForm({}, [['image', PNG_1024, 'application/octet-stream']]));
  openaiError(res, 400, 'image', 'unsupported_file_mimetype');
  assert.equal(res.json.error.message, "Invalid file 'image': unsupported mimetype ('application/octet-stream'). " +
    "Supported file formats are 'image/jpeg', 'image/png', 'image/webp'.");
  accepted(await edit(editForm({}, [['image', PNG_1024, 'image/png']])));
});

test('edits: the bytes must be the image they claim to be', async () => {
  openaiError(await edit(editForm({}, [['image', Buffer.from('not a png at all'), 'image/png']])), 400, 'image', 'invalid_image_format');
  const jpegRes = await gen({ model: 'gpt-image-1', prompt: 'source', output_format: 'jpeg', size: '1024x1024' });
  const jpeg = Buffer.from(jpegRes.json.data[0].b64_json, 'base64');
  openaiError(await edit(editForm({}, [['image', jpeg, 'image/png']])), 400, 'image', 'invalid_image_format');
  accepted(await edit(editForm({}, [['image', jpeg, 'image/jpeg'], ['mask', MASK_1024, 'image/png', 'mask.png']])));
  const webpRes = await gen({ model: 'gpt-image-1', prompt: 'source', output_format: 'webp', size: '1024x1024' });
  const webp = Buffer.from(webpRes.json.data[0].b64_json, 'base64');
  accepted(await edit(editForm({}, [['image', webp, 'image/webp']])));
  // Azure takes PNG and JPG only.
  const azureForm = form({ prompt: 'p' }, [['image', webp, 'image/webp']]);
  azureError(await post(`${DATED}/edits${VERSION}`, azureForm, AZURE_KEY), 400, 'unsupported_file_mimetype');
});

// A valid PNG header padded to `bytes` with an ancillary chunk; the emulator checks the size
// before it decodes.
function pngOfSize(bytes, width = 1024, height = 1024) {
  const base = makePng(width, height, () => [1, 2, 3, 255]);
  const padLength = bytes - base.length - 12;
  const pad = Buffer.alloc(12 + padLength);
  pad.writeUInt32BE(padLength, 0);
  pad.write('zzZz', 4, 'latin1');
  return Buffer.concat([base.subarray(0, 33), pad, base.subarray(33)]);
}

test('edits: size limits, 50 MB per image for GPT models, 4 MB for dall-e-2 and the mask', async () => {
  const MB = 1024 * 1024;
  openaiError(await edit(editForm({}, [['image', pngOfSize(50 * MB), 'image/png']])), 400, 'image', 'image_file_too_large');
  accepted(await edit(editForm({}, [['image', pngOfSize(4 * MB + 10), 'image/png']])));
  const d2 = (image, mask) => form({ model: 'dall-e-2', prompt: 'p', size: '256x256' },
    [['image', image, 'image/png'], ...(mask ? [['mask', mask, 'image/png', 'mask.png']] : [])]);
  openaiError(await edit(d2(pngOfSize(4 * MB, 256, 256))), 400, 'image', 'image_file_too_large');
  accepted(await edit(d2(makePng(256, 256, () => [1, 2, 3, 255]))));
  openaiError(await edit(d2(makePng(256, 128, () => [1, 2, 3, 255]))), 400, 'image'); // dall-e-2: square
  openaiError(await edit(editForm({}, [['image', PNG_1024, 'image/png'], ['mask', pngOfSize(4 * MB), 'image/png', 'mask.png']])), 400, 'mask');
});

test('edits: the mask is a PNG with alpha, the size of the first image', async () => {
  const rgbMask = makePng(1024, 1024, () => [0, 0, 0], false);
  openaiError(await edit(editForm({}, [['image', PNG_1024, 'image/png'], ['mask', rgbMask, 'image/png', 'mask.png']])), 400, 'mask');
  const smallMask = makePng(512, 512, () => [0, 0, 0, 0]);
  const res = await edit(editForm({}, [['image', PNG_1024, 'image/png'], ['mask', smallMask, 'image/png', 'mask.png']]));
  openaiError(res, 400, 'mask', 'invalid_image_format');
  assert.match(res.json.error.message, /512x512.*1024x1024/);
  openaiError(await edit(editForm({}, [['image', PNG_1024, 'image/png'], ['mask', PNG_1024, 'image/jpeg', 'mask.jpg']])), 400, 'mask');
  accepted(await edit(editForm()));
});

test('edits: at most 16 images', async () => {
  const small = makePng(32, 32, () => [5, 5, 5, 255]);
  const files = (n) => Array.from({ length: n }, () => ['image[]', small, 'image/png']);
  openaiError(await edit(form({ model: 'gpt-image-1', prompt: 'p' }, files(17))), 400, 'image', 'too_many_images');
  accepted(await edit(form({ model: 'gpt-image-1', prompt: 'p' }, files(16))));
});

test('edits: booleans are true or false; input_fidelity not for mini; dall-e-3 does not edit', async () => {
  openaiError(await edit(editForm({ stream: 'yes' })), 400, 'stream');
  const streamed = await edit(editForm({ stream: 'false' }));
  accepted(streamed);
  openaiError(await edit(editForm({ model: 'gpt-image-1-mini', input_fidelity: 'high' })), 400, 'input_fidelity');
  accepted(await edit(editForm({ model: 'gpt-image-1', input_fidelity: 'high' })));
  openaiError(await edit(editForm({ model: 'dall-e-3' })), 400, 'model');
  const azureDalle = form({ prompt: 'p' }, [['image', PNG_1024, 'image/png']]);
  azureError(await post(`/openai/deployments/dall-e-3/images/edits${VERSION}`, azureDalle, AZURE_KEY), 400, 'OperationNotSupported');
  openaiError(await edit(editForm({ moderation: 'low' })), 400, 'moderation', 'unknown_parameter');
});

test('responses: GPT models b64 with usage, Azure adds filter results, request ids', async () => {
  const openai = await gen({ model: 'gpt-image-1', prompt: 'p' });
  schema('ImagesResponse')(openai.json);
  assert.ok(openai.json.usage.total_tokens > 0);
  assert.equal(openai.json.data[0].url, undefined);
  assert.match(openai.headers.get('x-request-id'), /^emu-/);
  for (const path of [`${DATED}/generations${VERSION}`, '/openai/v1/images/generations']) {
    const azure = await post(path, { prompt: 'p', model: 'gpt-image-1' }, AZURE_KEY);
    accepted(azure);
    assert.equal(azure.json.data[0].content_filter_results.sexual.severity, 'safe');
    assert.equal(azure.json.data[0].prompt_filter_results.profanity.detected, false);
    assert.match(azure.headers.get('apim-request-id'), /^emu-/);
  }
  const dalle = await gen({ model: 'dall-e-3', prompt: 'p' });
  assert.ok(dalle.json.data[0].url); // dall-e defaults to url
  assert.equal(dalle.json.usage, undefined);
});

async function sse(res) {
  return res.text.split('\n\n').filter(Boolean).map((block) => {
    const event = block.match(/^event: (.*)$/m)[1];
    const data = JSON.parse(block.match(/^data: (.*)$/m)[1]);
    return { event, data };
  });
}

test('streaming: partial_images partials then completed, with the schema fields', async () => {
  const res = await gen({ model: 'gpt-image-1', prompt: 'p', stream: true, partial_images: 3 });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  const events = await sse(res);
  assert.deepEqual(events.map((e) => e.event), ['image_generation.partial_image', 'image_generation.partial_image',
    'image_generation.partial_image', 'image_generation.completed']);
  for (const e of events) assert.equal(e.data.type, e.event);
  events.slice(0, 3).forEach((e) => schema('ImageGenPartialImageEvent')(e.data));
  schema('ImageGenCompletedEvent')(events[3].data);
  const zero = await sse(await gen({ model: 'gpt-image-1', prompt: 'p', stream: true, partial_images: 0 }));
  assert.deepEqual(zero.map((e) => e.event), ['image_generation.completed']);
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p', stream: true, partial_images: 4 }), 400, 'partial_images');
  openaiError(await gen({ model: 'dall-e-3', prompt: 'p', stream: true }), 400, 'stream');
  const editEvents = await sse(await edit(editForm({ stream: 'true', partial_images: '1' })));
  assert.deepEqual(editEvents.map((e) => e.event), ['image_edit.partial_image', 'image_edit.completed']);
  schema('ImageEditCompletedEvent')(editEvents[1].data);
});

test('faults: 429 with each retry header', async () => {
  for (const [header, value, expectHeader] of [['retry-after-ms', '150', 'retry-after-ms'],
    ['x-ms-retry-after-ms', '150', 'x-ms-retry-after-ms'], ['retry-after', '2', 'retry-after'],
    ['retry-after-date', '3', 'retry-after']]) {
    await emu.faults({ kind: 'rate_limit', header, value });
    const res = await gen({ model: 'gpt-image-1', prompt: 'p' });
    openaiError(res, 429, null, 'rate_limit_exceeded');
    const got = res.headers.get(expectHeader);
    assert.ok(got, `${expectHeader} present`);
    if (header === 'retry-after-date') assert.ok(Date.parse(got) > Date.now() - 1000);
    else assert.equal(got, value);
    accepted(await gen({ model: 'gpt-image-1', prompt: 'p' })); // one fault, one request
  }
  await emu.faults({ kind: 'rate_limit', header: 'retry-after', value: '1' });
  azureError(await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY), 429, '429');
});

test('faults: 500 and 503, content filter in both shapes and stages', async () => {
  await emu.faults({ kind: 'server_error', status: 500 }, { kind: 'server_error', status: 503 });
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p' }), 500);
  openaiError(await gen({ model: 'gpt-image-1', prompt: 'p' }), 503);
  await emu.faults({ kind: 'content_filter', stage: 'input' }, { kind: 'content_filter', stage: 'output' });
  const prompt = await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY);
  azureError(prompt, 400, 'contentFilter');
  assert.equal(prompt.json.error.message, 'Your task failed as a result of our safety system.');
  assert.equal(prompt.json.error.inner_error.code, 'ResponsibleAIPolicyViolation');
  assert.equal(prompt.json.error.inner_error.content_filter_results.violence.filtered, true);
  const output = await post(`${DATED}/generations${VERSION}`, { prompt: 'p' }, AZURE_KEY);
  assert.equal(output.json.error.message, 'Generated image was filtered as a result of our safety system.');
  await emu.faults({ kind: 'content_filter', stage: 'output', shape: 'openai' });
  const moderation = await gen({ model: 'gpt-image-1', prompt: 'p' });
  openaiError(moderation, 400, null, 'moderation_blocked');
  assert.equal(moderation.json.error.type, 'image_generation_user_error');
  assert.equal(moderation.json.error.moderation_details.moderation_stage, 'output');
});

test('faults: broken bodies and images', async () => {
  await emu.faults({ kind: 'truncated' });
  await assert.rejects(gen({ model: 'gpt-image-1', prompt: 'p' })); // the connection closes mid-body
  await emu.faults({ kind: 'broken_base64' });
  const b64 = await gen({ model: 'gpt-image-1', prompt: 'p' });
  assert.equal(b64.status, 200);
  assert.ok(!/^[A-Za-z0-9+/]*={0,2}$/.test(b64.json.data[0].b64_json));
  await emu.faults({ kind: 'broken_png' });
  const broken = Buffer.from((await gen({ model: 'gpt-image-1', prompt: 'p' })).json.data[0].b64_json, 'base64');
  assert.equal(broken.readUInt32BE(0), 0x89504e47);
  assert.throws(() => readPng(broken));
  await emu.faults({ kind: 'huge_png' });
  const huge = Buffer.from((await gen({ model: 'gpt-image-1', prompt: 'p' })).json.data[0].b64_json, 'base64');
  assert.equal(huge.readUInt32BE(16), 100000);
  assert.equal(huge.readUInt32BE(20), 100000);
  await emu.faults({ kind: 'too_few_images' }, { kind: 'too_many_images' });
  assert.equal((await gen({ model: 'gpt-image-1', prompt: 'p', n: 2 })).json.data.length, 1);
  assert.equal((await gen({ model: 'gpt-image-1', prompt: 'p', n: 2 })).json.data.length, 3);
});

test('control: delay, latency, the request log and reset', async () => {
  await emu.faults({ kind: 'delay', ms: 50 });
  accepted(await gen({ model: 'gpt-image-1', prompt: 'slow' }));
  await emu.control('latency', { ms: 10, stream_delay_ms: 5 });
  accepted(await edit(editForm()));
  const log = await emu.requests();
  assert.equal(log.length, 2);
  assert.equal(log[0].fault, 'delay');
  assert.equal(log[1].images[0].width, 1024);
  assert.equal(log[1].mask.has_alpha, true);
  assert.equal(log[1].fields.prompt, 'edit it');
  assert.ok(log[1].header_names.includes('authorization'));
  await emu.reset();
  assert.equal((await emu.requests()).length, 0);
  const bad = await fetch(`${emu.base}/_emulator/faults`, { method: 'POST', body: '{"faults":[{"kind":"nope"}]}' });
  assert.equal(bad.status, 400);
});
