// The emulator as the official openai SDK sees it: OpenAI and AzureOpenAI clients, generate and
// edit, streaming, every error shape mapped to its error class, and the SDK's own retry.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI, toFile, BadRequestError, AuthenticationError, NotFoundError,
  RateLimitError, InternalServerError } from 'openai';
import { startEmulator, API_KEY, PNG_1024, MASK_1024, makePng, readPng, promptColour, schema } from './helpers.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(() => emu.stop());
beforeEach(() => emu.reset());

const openai = (opts = {}) => new OpenAI({ apiKey: API_KEY, baseURL: `${emu.base}/v1`, maxRetries: 0, ...opts });
const azure = (opts = {}) => new AzureOpenAI({
  apiKey: API_KEY, endpoint: emu.base, apiVersion: '2025-04-01-preview', maxRetries: 0, ...opts,
});
const azureV1 = () => new OpenAI({ apiKey: API_KEY, baseURL: `${emu.base}/openai/v1`, maxRetries: 0 });
const png = (buf, name = 'image.png') => toFile(buf, name, { type: 'image/png' });

test('openai: generate b64 with gpt-image-1', async () => {
  const res = await openai().images.generate({ model: 'gpt-image-1', prompt: 'a red fox', size: '1536x1024', quality: 'high' });
  schema('ImagesResponse')(res);
  const image = readPng(Buffer.from(res.data[0].b64_json, 'base64'));
  assert.equal(image.width, 1536);
  assert.equal(image.height, 1024);
  assert.deepEqual(image.pixel(0, 0).slice(0, 3), promptColour('a red fox'));
  assert.equal(res.usage.output_tokens > 0, true);
  assert.equal(res.size, '1536x1024');
  const [logged] = await emu.requests();
  assert.equal(logged.path, '/v1/images/generations');
  assert.equal(logged.auth_present, true);
  assert.deepEqual(logged.fields, { model: 'gpt-image-1', prompt: 'a red fox', quality: 'high', size: '1536x1024' });
  // The body the SDK sent is a valid CreateImageRequest.
  schema('CreateImageRequest')({ model: 'gpt-image-1', prompt: 'a red fox', size: '1536x1024', quality: 'high' });
});

test('openai: generate url with dall-e-3, served by the emulator', async () => {
  const res = await openai().images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', response_format: 'url', style: 'natural' });
  schema('ImagesResponse')(res);
  assert.match(res.data[0].url, /^http:\/\/127\.0\.0\.1:\d+\/_emulator\/files\//);
  assert.equal(res.data[0].revised_prompt, 'A detailed rendering of: a lighthouse');
  assert.equal(res.usage, undefined);
  const image = readPng(Buffer.from(await (await fetch(res.data[0].url)).arrayBuffer()));
  assert.equal(image.width, 1024);
});

test('openai: generate streamed with partial images', async () => {
  const stream = await openai().images.generate({ model: 'gpt-image-1', prompt: 'a kite', stream: true, partial_images: 2, size: '1024x1024' });
  const events = [];
  for await (const event of stream) events.push(event);
  assert.deepEqual(events.map((e) => e.type), [
    'image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);
  assert.deepEqual(events.slice(0, 2).map((e) => e.partial_image_index), [0, 1]);
  schema('ImageGenPartialImageEvent')(events[0]);
  schema('ImageGenCompletedEvent')(events[2]);
  // Each partial is closer to the final image than the one before.
  const final = readPng(Buffer.from(events[2].b64_json, 'base64')).pixel(0, 0);
  const distance = (e) => {
    const p = readPng(Buffer.from(e.b64_json, 'base64')).pixel(0, 0);
    return p.slice(0, 3).reduce((s, v, i) => s + Math.abs(v - final[i]), 0);
  };
  assert.ok(distance(events[0]) > distance(events[1]));
  assert.ok(distance(events[1]) > 0);
});

test('openai: edit with one image and a mask', async () => {
  const res = await openai().images.edit({
    model: 'gpt-image-1', prompt: 'a sailing boat', image: await png(PNG_1024), mask: await png(MASK_1024, 'mask.png'),
    size: '1024x1024', input_fidelity: 'high',
  });
  schema('ImagesResponse')(res);
  const out = readPng(Buffer.from(res.data[0].b64_json, 'base64'));
  assert.deepEqual(out.pixel(100, 100).slice(0, 3), promptColour('a sailing boat')); // masked: painted
  const src = [(700 >> 2) & 0xff, (300 >> 2) & 0xff, 90];
  // Kept: redrawn as a model redraws, each channel moved by 1 to 4 levels, never left unchanged.
  const kept = out.pixel(700, 300).slice(0, 3);
  kept.forEach((v, i) => {
    const moved = Math.abs(v - src[i]);
    assert.ok(moved >= 1 && moved <= 4, `channel ${i}: ${v} against ${src[i]}`);
  });
  const [logged] = await emu.requests();
  assert.equal(logged.images.length, 1);
  assert.equal(logged.images[0].part, 'image');
  assert.equal(logged.images[0].content_type, 'image/png');
  assert.equal(logged.mask.width, 1024);
  assert.equal(logged.fields.input_fidelity, 'high');
});

test('openai: edit with three images goes as image[]', async () => {
  const small = makePng(64, 64, () => [10, 20, 30, 255]);
  const res = await openai().images.edit({
    model: 'gpt-image-1', prompt: 'combine them', image: [await png(PNG_1024), await png(small, 'b.png'), await png(small, 'c.png')],
  });
  assert.equal(res.data.length, 1);
  const [logged] = await emu.requests();
  assert.deepEqual(logged.images.map((i) => i.part), ['image[]', 'image[]', 'image[]']);
  assert.deepEqual(logged.images.map((i) => i.width), [1024, 64, 64]);
});

test('openai: streamed edit', async () => {
  const stream = await openai().images.edit({
    model: 'gpt-image-1', prompt: 'x', image: await png(PNG_1024), stream: true, partial_images: 1,
  });
  const types = [];
  for await (const event of stream) types.push(event.type);
  assert.deepEqual(types, ['image_edit.partial_image', 'image_edit.completed']);
});

test('azure: generate and edit through the deployments path', async () => {
  const client = azure({ deployment: 'img-prod' });
  const gen = await client.images.generate({ model: 'img-prod', prompt: 'a fox', size: '1024x1024' });
  schema('ImagesResponse')(gen);
  assert.equal(gen.data[0].content_filter_results.violence.filtered, false);
  assert.equal(gen.data[0].prompt_filter_results.jailbreak.detected, false);
  const edit = await client.images.edit({ model: 'img-prod', prompt: 'a boat', image: await png(PNG_1024), mask: await png(MASK_1024, 'mask.png') });
  assert.ok(edit.data[0].b64_json.length > 100);
  const logged = await emu.requests();
  assert.equal(logged[0].path, '/openai/deployments/img-prod/images/generations');
  assert.equal(logged[0].query, 'api-version=2025-04-01-preview');
  assert.equal(logged[1].path, '/openai/deployments/img-prod/images/edits');
  assert.ok(logged[0].header_names.includes('api-key'));
  assert.equal(logged[0].deployment, 'img-prod');
});

test('azure v1: model names the deployment', async () => {
  const res = await azureV1().images.generate({ model: 'dalle-prod', prompt: 'a lighthouse', response_format: 'b64_json' });
  assert.equal(res.data[0].revised_prompt, 'A detailed rendering of: a lighthouse');
  const [logged] = await emu.requests();
  assert.equal(logged.path, '/openai/v1/images/generations');
  assert.equal(logged.deployment, 'dalle-prod');
});

async function rejects(promise, ErrorClass, check = () => {}) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof ErrorClass, `expected ${ErrorClass.name}, got ${e.constructor.name}: ${e.message}`);
    check(e);
    return;
  }
  assert.fail(`expected ${ErrorClass.name}`);
}

test('errors: each shape reaches the SDK as its error class', async () => {
  await rejects(openai().images.generate({ model: 'dall-e-3', prompt: 'x', size: '1536x1024' }), BadRequestError,
    (e) => { assert.equal(e.param, 'size'); assert.equal(e.code, 'invalid_value'); schema('ErrorResponse')(e.error ? { error: e.error } : {}); });
  await rejects(new OpenAI({ apiKey: 'wrong', baseURL: `${emu.base}/v1`, maxRetries: 0 }).images.generate({ model: 'gpt-image-1', prompt: 'x' }),
    AuthenticationError, (e) => assert.equal(e.code, 'invalid_api_key'));
  await rejects(new AzureOpenAI({ apiKey: 'wrong', endpoint: emu.base, apiVersion: '2025-04-01-preview', deployment: 'img-prod', maxRetries: 0 })
    .images.generate({ model: 'img-prod', prompt: 'x' }), AuthenticationError, (e) => assert.equal(e.code, '401'));
  await rejects(azure({ deployment: 'no-such' }).images.generate({ model: 'no-such', prompt: 'x' }), NotFoundError,
    (e) => assert.equal(e.code, 'DeploymentNotFound'));
  await emu.faults({ kind: 'rate_limit', header: 'retry-after-ms', value: '10' });
  await rejects(openai().images.generate({ model: 'gpt-image-1', prompt: 'x' }), RateLimitError);
  await emu.faults({ kind: 'server_error', status: 500 });
  await rejects(openai().images.generate({ model: 'gpt-image-1', prompt: 'x' }), InternalServerError);
  await emu.faults({ kind: 'server_error', status: 503 });
  await rejects(openai().images.generate({ model: 'gpt-image-1', prompt: 'x' }), InternalServerError, (e) => assert.equal(e.status, 503));
  for (const [stage, shape, client, code] of [
    ['input', 'openai', openai, 'moderation_blocked'], ['output', 'openai', openai, 'moderation_blocked'],
    ['input', 'azure', () => azure({ deployment: 'img-prod' }), 'contentFilter'],
    ['output', 'azure', () => azure({ deployment: 'img-prod' }), 'contentFilter']]) {
    await emu.faults({ kind: 'content_filter', stage, shape });
    const model = shape === 'azure' ? 'img-prod' : 'gpt-image-1';
    await rejects(client().images.generate({ model, prompt: 'x' }), BadRequestError, (e) => {
      assert.equal(e.code, code);
      if (shape === 'azure') {
        assert.equal(e.error.inner_error.code, 'ResponsibleAIPolicyViolation');
        assert.match(e.message, stage === 'output' ? /Generated image was filtered/ : /Your task failed/);
      } else {
        assert.equal(e.error.moderation_details.moderation_stage, stage);
      }
    });
  }
});

test('retry: a 429 with retry-after-ms is retried by the SDK and then succeeds', async () => {
  await emu.faults({ kind: 'rate_limit', header: 'retry-after-ms', value: '20' });
  const res = await openai({ maxRetries: 2 }).images.generate({ model: 'gpt-image-1', prompt: 'patience' });
  assert.equal(res.data.length, 1);
  const logged = await emu.requests();
  assert.deepEqual(logged.map((r) => r.status), [429, 200]);
  assert.deepEqual(logged.map((r) => r.fault), ['rate_limit', '']);
});
