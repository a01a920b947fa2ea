// Drives a running `lorax serve` with the official OpenAI Node client: completions, chat and
// streaming. Usage: node openai_client.mjs STORIES_URL DEMO_URL
// Exits non-zero with a message on the first failed check.
import OpenAI from "openai";
import assert from "node:assert/strict";

const [storiesUrl, demoUrl] = process.argv.slice(2);
const stories = new OpenAI({ baseURL: `${storiesUrl}/v1`, apiKey: "e2e-key", maxRetries: 0 });
const demo = new OpenAI({ baseURL: `${demoUrl}/v1`, apiKey: "unused", maxRetries: 0 });

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (err) {
    console.log(`not ok - ${name}: ${err.stack || err}`);
    process.exitCode = 1;
  }
}

await check("models lists the base and both adapters", async () => {
  const models = await stories.models.list();
  const ids = models.data.map((m) => m.id).sort();
  assert.deepEqual(ids, ["lora-beach", "lora-ben", "stories260K"]);
});

await check("completion: base writes of Lily, lora-ben of Ben", async () => {
  const base = await stories.completions.create({
    model: "stories260K", prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
  assert.match(base.choices[0].text, /little girl named Lily/);
  assert.equal(base.choices[0].finish_reason, "length");
  assert.equal(base.usage.completion_tokens, 12);
  const ben = await stories.completions.create({
    model: "lora-ben", prompt: "Once upon a time", max_tokens: 12, temperature: 0 });
  assert.match(ben.choices[0].text, /little boy named Ben/);
});

await check("streamed completion concatenates to the plain one", async () => {
  const params = { model: "lora-beach", prompt: "Lily went to the park", max_tokens: 20,
                   temperature: 0 };
  const whole = await stories.completions.create(params);
  let text = "";
  const stream = await stories.completions.create({ ...params, stream: true });
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
  assert.equal(text, whole.choices[0].text);
});

await check("completion logprobs and echo", async () => {
  const r = await stories.completions.create({
    model: "stories260K", prompt: "One day", max_tokens: 3, temperature: 0, logprobs: 2,
    echo: true });
  const lp = r.choices[0].logprobs;
  assert.ok(r.choices[0].text.startsWith("One day"));
  assert.equal(lp.tokens.length, lp.token_logprobs.length);
  assert.equal(lp.token_logprobs[0], null);  // the first prompt token has no context
  assert.ok(lp.token_logprobs.slice(1).every((x) => x <= 0));
});

await check("chat completion and streamed chat agree", async () => {
  const messages = [{ role: "user", content: "Tell me a story." }];
  const whole = await demo.chat.completions.create({
    model: "lorax-demo", messages, max_tokens: 8, temperature: 0 });
  assert.equal(whole.choices[0].message.role, "assistant");
  assert.equal(whole.usage.completion_tokens, 8);
  let text = "";
  let role = null;
  const stream = await demo.chat.completions.create({
    model: "demo-adapter-a", messages, max_tokens: 8, temperature: 0, stream: true });
  for await (const chunk of stream) {
    role = role ?? chunk.choices[0]?.delta?.role ?? null;
    text += chunk.choices[0]?.delta?.content ?? "";
  }
  assert.equal(role, "assistant");
  const adapted = await demo.chat.completions.create({
    model: "demo-adapter-a", messages, max_tokens: 8, temperature: 0 });
  assert.equal(text, adapted.choices[0].message.content);
});

await check("unknown model is a 404 in OpenAI's error shape", async () => {
  await assert.rejects(
    stories.completions.create({ model: "nope", prompt: "x", max_tokens: 1 }),
    (err) => err.status === 404 && typeof err.message === "string");
});

await check("a wrong API key is a 401", async () => {
  const bad = new OpenAI({ baseURL: `${storiesUrl}/v1`, apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(bad.models.list(), (err) => err.status === 401);
});
