"""Drives a running `lorax serve` with the official Python clients users run against LoRAX and
vLLM: `openai`, LoRAX's `lorax-client` and Hugging Face's `text-generation`.

Usage: python clients.py STORIES_URL DEMO_URL BUSY_URL
STORIES_URL serves stories260K with adapters lora-ben and lora-beach and API key e2e-key;
DEMO_URL serves the built-in demo (no key); BUSY_URL the demo again, one request at a time.

The LoRAX responses of every route are also checked against the field lists of LoRAX's client
types (lorax_types.py), and /metrics is parsed with prometheus_client's parser.

Prints one TAP-like line per check and a closing "N passed, N failed" line; exits non-zero when
a check fails. Checks marked `expected_failure` exercise calls the server cannot serve yet: they
are reported as "xfail" while they fail, and an unexpected pass fails the run so that it gets
turned on.
"""

import json
import sys
import threading
import traceback

import lorax
import lorax.errors
import lorax.types
import openai
import pydantic
import requests
import text_generation
from prometheus_client.parser import text_string_to_metric_families

import lorax_types

STORIES_URL, DEMO_URL, BUSY_URL = sys.argv[1], sys.argv[2], sys.argv[3]
API_KEY = "e2e-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

stories = openai.OpenAI(base_url=f"{STORIES_URL}/v1", api_key=API_KEY, max_retries=0)
demo = openai.OpenAI(base_url=f"{DEMO_URL}/v1", api_key="unused", max_retries=0)

results = {"passed": 0, "failed": 0, "xfail": 0}


def check(name, expected_failure=None):
    """Runs the decorated function as one check. expected_failure: why it cannot pass yet."""

    def run(fn):
        try:
            fn()
        except Exception:  # noqa: BLE001 - any failure of a check is reported, not raised
            if expected_failure:
                print(f"xfail - {name} ({expected_failure})")
                results["xfail"] += 1
            else:
                print(f"not ok - {name}")
                traceback.print_exc(file=sys.stdout)
                results["failed"] += 1
            return fn
        if expected_failure:
            print(f"not ok - {name}: passes now; remove its expected_failure mark")
            results["failed"] += 1
        else:
            print(f"ok - {name}")
            results["passed"] += 1
        return fn

    return run


def expect_status_error(call, status):
    try:
        call()
    except openai.APIStatusError as err:
        assert err.status_code == status, f"status {err.status_code}, expected {status}"
        return err
    raise AssertionError(f"expected an HTTP {status} error, the call succeeded")


# ---- openai ----


@check("openai: models lists the base and both adapters")
def _():
    ids = sorted(m.id for m in stories.models.list().data)
    assert ids == ["lora-beach", "lora-ben", "stories260K"], ids


@check("openai: completion: base writes of Lily, lora-ben of Ben")
def _():
    base = stories.completions.create(
        model="stories260K", prompt="Once upon a time", max_tokens=12, temperature=0)
    assert "little girl named Lily" in base.choices[0].text, base.choices[0].text
    assert base.choices[0].finish_reason == "length"
    assert base.usage.completion_tokens == 12
    ben = stories.completions.create(
        model="lora-ben", prompt="Once upon a time", max_tokens=12, temperature=0)
    assert "little boy named Ben" in ben.choices[0].text, ben.choices[0].text


@check("openai: streamed completion concatenates to the plain one")
def _():
    params = dict(model="lora-beach", prompt="Lily went to the park", max_tokens=20,
                  temperature=0)
    whole = stories.completions.create(**params)
    text = ""
    for chunk in stories.completions.create(**params, stream=True):
        if chunk.choices:
            text += chunk.choices[0].text or ""
    assert text == whole.choices[0].text, (text, whole.choices[0].text)


@check("openai: completion logprobs and echo")
def _():
    r = stories.completions.create(
        model="stories260K", prompt="One day", max_tokens=3, temperature=0, logprobs=2,
        echo=True)
    choice = r.choices[0]
    lp = choice.logprobs
    assert choice.text.startswith("One day"), choice.text
    assert len(lp.tokens) == len(lp.token_logprobs)
    assert lp.token_logprobs[0] is None  # the first prompt token has no context
    assert all(x <= 0 for x in lp.token_logprobs[1:]), lp.token_logprobs


@check("openai: chat completion and streamed chat agree")
def _():
    messages = [{"role": "user", "content": "Tell me a story."}]
    whole = demo.chat.completions.create(
        model="lorax-demo", messages=messages, max_tokens=8, temperature=0)
    assert whole.choices[0].message.role == "assistant"
    assert whole.usage.completion_tokens == 8
    text, role = "", None
    for chunk in demo.chat.completions.create(
            model="demo-adapter-a", messages=messages, max_tokens=8, temperature=0,
            stream=True):
        if chunk.choices:
            role = role or chunk.choices[0].delta.role
            text += chunk.choices[0].delta.content or ""
    assert role == "assistant"
    adapted = demo.chat.completions.create(
        model="demo-adapter-a", messages=messages, max_tokens=8, temperature=0)
    assert text == adapted.choices[0].message.content, (text, adapted.choices[0].message.content)


PERSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 8},
                   "age": {"type": "integer", "minimum": 0, "maximum": 120}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def assert_person(text):
    value = json.loads(text)
    assert set(value) == {"name", "age"}, text
    assert isinstance(value["name"], str) and len(value["name"]) <= 8, text
    assert isinstance(value["age"], int) and 0 <= value["age"] <= 120, text


@check("openai: response_format json_schema gives JSON that matches the schema")
def _():
    fmt = {"type": "json_schema",
           "json_schema": {"name": "person", "schema": PERSON_SCHEMA, "strict": True}}
    for temperature in (0, 1.0):
        reply = stories.completions.create(
            model="stories260K", prompt="Once upon a time", max_tokens=120,
            temperature=temperature, seed=7, extra_body={"response_format": fmt})
        assert reply.choices[0].finish_reason == "stop", reply
        assert_person(reply.choices[0].text)


@check("openai: a schema keyword the server cannot honour is a 400 naming it")
def _():
    bad = {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "integer", "multipleOf": 3}}}
    err = expect_status_error(lambda: stories.completions.create(
        model="stories260K", prompt="x", max_tokens=4,
        extra_body={"response_format": bad}), 400)
    assert "multipleOf" in str(err), err


@check("openai: logit_bias forces and bans tokens")
def _():
    def token_ids(temperature=0, **extra):
        r = stories.completions.create(
            model="stories260K", prompt="Once upon a time", max_tokens=4,
            temperature=temperature, seed=3, logprobs=0,
            extra_body={"return_tokens_as_token_ids": True}, **extra)
        return [int(t.split(":")[1]) for t in r.choices[0].logprobs.tokens]

    greedy = token_ids()
    banned = token_ids(logit_bias={str(greedy[0]): -100})
    assert banned[0] != greedy[0], (greedy, banned)
    assert token_ids(logit_bias={"300": 100}) == [300] * 4
    assert token_ids(temperature=1, logit_bias={"300": 100}) == [300] * 4
    err = expect_status_error(
        lambda: stories.completions.create(
            model="stories260K", prompt="x", max_tokens=1, logit_bias={"5": 101}), 400)
    assert "logit_bias" in str(err.body), err.body


@check("openai: an unknown model is a 404 in OpenAI's error shape")
def _():
    err = expect_status_error(
        lambda: stories.completions.create(model="nope", prompt="x", max_tokens=1), 404)
    assert isinstance(err, openai.NotFoundError)
    body = err.body
    assert isinstance(body, dict) and isinstance(body.get("message"), str), body


@check("openai: a wrong API key is a 401")
def _():
    bad = openai.OpenAI(base_url=f"{STORIES_URL}/v1", api_key="wrong", max_retries=0)
    err = expect_status_error(lambda: bad.models.list(), 401)
    assert isinstance(err, openai.AuthenticationError)


# ---- lorax-client and text-generation: both post to the root route ----


LORAX = lorax.Client(STORIES_URL, headers=AUTH)
PROMPT = "Once upon a time"


@check("lorax-client: response_format json_object with a schema gives a matching object")
def _():
    r = LORAX.generate(PROMPT, max_new_tokens=120, details=True,
                       response_format={"type": "json_object", "schema": PERSON_SCHEMA})
    assert r.details.finish_reason == lorax.types.FinishReason.EndOfSequenceToken, r.details
    assert_person(r.generated_text)


def expect_raises(exception_class, call):
    try:
        call()
    except exception_class as err:
        return err
    except Exception as err:  # noqa: BLE001 - the wrong class is the failure reported
        raise AssertionError(f"raised {type(err).__name__}: {err}, not {exception_class.__name__}")
    raise AssertionError(f"expected {exception_class.__name__}, the call succeeded")


def raw_stream(body, url=STORIES_URL):
    """Posts a stream request and parses its events the way lorax-client does: an event that is
    not a StreamResponse is raised through lorax.errors.parse_error. Returns the events."""
    resp = requests.post(url, json=body, headers=AUTH, stream=True, timeout=60)
    if resp.status_code != 200:
        raise lorax.errors.parse_error(resp.status_code, resp.json())
    events = []
    for line in resp.iter_lines():
        if line.startswith(b"data:"):
            payload = json.loads(line[len(b"data:"):])
            try:
                lorax.types.StreamResponse(**payload)
            except pydantic.ValidationError:
                raise lorax.errors.parse_error(resp.status_code, payload)
            events.append(payload)
    return events


@check("lorax-client: generate with an adapter and details")
def _():
    r = LORAX.generate(PROMPT, max_new_tokens=12, adapter_id="lora-ben", details=True)
    assert "little boy named Ben" in r.generated_text, r.generated_text
    assert r.details.generated_tokens == 12
    assert r.details.finish_reason == lorax.types.FinishReason.Length


@check("lorax-client: decoder_input_details and return_k_alternatives")
def _():
    r = LORAX.generate(PROMPT, max_new_tokens=4, decoder_input_details=True,
                       return_k_alternatives=2)
    assert len(r.details.prefill) == r.details.prompt_tokens > 0, r.details
    assert r.details.prefill[0].logprob is None
    assert all(p.logprob <= 0 for p in r.details.prefill[1:])
    for token in r.details.tokens:
        assert len(token.alternative_tokens) == 2, token
        assert token.alternative_tokens[0].id == token.id  # greedy: the best one


@check("lorax-client: stop_sequences end the text before the stop")
def _():
    r = LORAX.generate(PROMPT, max_new_tokens=30, adapter_id="lora-ben",
                       stop_sequences=["named"])
    assert r.details.finish_reason == lorax.types.FinishReason.StopSequence, r.details
    assert r.generated_text.endswith("little boy "), r.generated_text


@check("lorax-client: greedy is reproducible and has no seed")
def _():
    a = LORAX.generate(PROMPT, max_new_tokens=10)
    b = LORAX.generate(PROMPT, max_new_tokens=10)
    assert a.generated_text == b.generated_text
    assert a.details.seed is None


@check("lorax-client: sampling with a seed is reproducible and reports it")
def _():
    params = dict(max_new_tokens=16, do_sample=True, temperature=1.5, seed=1234)
    a = LORAX.generate(PROMPT, **params)
    b = LORAX.generate(PROMPT, **params)
    assert a.generated_text == b.generated_text
    assert a.details.seed == 1234


@check("lorax-client: best_of 2 with sampling answers the best and lists the other")
def _():
    r = LORAX.generate(PROMPT, max_new_tokens=10, best_of=2, do_sample=True)
    assert len(r.details.best_of_sequences) == 1, r.details
    other = r.details.best_of_sequences[0]
    mean = lambda tokens: sum(t.logprob for t in tokens) / len(tokens)  # noqa: E731
    assert mean(r.details.tokens) >= mean(other.tokens)
    assert r.details.seed is not None and other.seed is not None


@check("lorax-client: generate_stream with details, an adapter and stop sequences")
def _():
    events = list(LORAX.generate_stream(PROMPT, max_new_tokens=30, adapter_id="lora-ben",
                                        stop_sequences=["named"], details=True))
    last = events[-1]
    assert last.generated_text is not None and last.generated_text.endswith("little boy ")
    assert last.details.finish_reason == lorax.types.FinishReason.StopSequence
    assert last.details.generated_tokens == len(events)
    whole = LORAX.generate(PROMPT, max_new_tokens=30, adapter_id="lora-ben",
                           stop_sequences=["named"])
    assert last.generated_text == whole.generated_text


@check("lorax-client: refusals raise its ValidationError, in the client or from the server")
def _():
    # the client's own checks
    expect_raises(lorax.errors.ValidationError,
                  lambda: LORAX.generate(PROMPT, best_of=2, do_sample=True, seed=1))
    expect_raises(lorax.errors.ValidationError, lambda: LORAX.generate(PROMPT, best_of=2))
    # the server's: the same combinations sent past the client, plain and streamed
    base = {"inputs": PROMPT, "parameters": {"max_new_tokens": 3}}
    for parameters, message in [
        ({"best_of": 2, "do_sample": True, "seed": 1}, "`seed` must not be set"),
        ({"best_of": 2}, "you must use sampling"),
        ({"best_of": 2, "temperature": 0}, "you must use sampling"),
    ]:
        body = {**base, "parameters": {**base["parameters"], **parameters}}
        resp = requests.post(STORIES_URL, json=body, headers=AUTH, timeout=60)
        err = lorax.errors.parse_error(resp.status_code, resp.json())
        assert isinstance(err, lorax.errors.ValidationError) and message in str(err), err
    for parameters, message in [
        ({"best_of": 2, "do_sample": True}, "not supported when streaming"),
        ({"decoder_input_details": True}, "not supported when streaming"),
    ]:
        body = {**base, "stream": True, "parameters": {**base["parameters"], **parameters}}
        err = expect_raises(lorax.errors.ValidationError, lambda: raw_stream(body))
        assert message in str(err), err
    # a bad parameter the client does not check
    err = expect_raises(lorax.errors.ValidationError,
                        lambda: LORAX.generate(PROMPT, max_new_tokens=100000))
    assert "max_new_tokens" in str(err), err
    err = expect_raises(lorax.errors.ValidationError,
                        lambda: list(LORAX.generate_stream(PROMPT, max_new_tokens=100000)))


@check("lorax-client: temperature 0 is greedy and top_p 1.0 is accepted")
def _():
    greedy = LORAX.generate(PROMPT, max_new_tokens=8)
    body = {"inputs": PROMPT, "parameters": {"max_new_tokens": 8, "temperature": 0,
                                             "top_p": 1.0}}
    resp = requests.post(STORIES_URL, json=body, headers=AUTH, timeout=60)
    assert resp.status_code == 200, resp.text
    assert resp.json()[0]["generated_text"] == greedy.generated_text


@check("lorax-client: an unknown adapter raises GenerationError, plain and streamed")
def _():
    err = expect_raises(lorax.errors.GenerationError,
                        lambda: LORAX.generate(PROMPT, adapter_id="no-such-adapter"))
    assert "no-such-adapter" in str(err)
    expect_raises(lorax.errors.GenerationError,
                  lambda: list(LORAX.generate_stream(PROMPT, adapter_id="no-such-adapter")))


@check("lorax-client: a busy server raises OverloadedError")
def _():
    busy = lorax.Client(BUSY_URL)
    started = threading.Event()
    holder_done = threading.Event()

    def hold():  # the only slot, taken by a long stream
        try:
            for _ in busy.generate_stream("x", max_new_tokens=400, ignore_eos_token=True):
                started.set()
        finally:
            started.set()
            holder_done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert started.wait(30)
        expect_raises(lorax.errors.OverloadedError,
                      lambda: busy.generate("x", max_new_tokens=2))
    finally:
        holder_done.wait(120)
        thread.join()


@check("lorax-client: generate_stream ends with the generated text")
def _():
    tokens = list(LORAX.generate_stream(PROMPT, max_new_tokens=5))
    assert tokens[-1].generated_text is not None


@check("text-generation: generate, best_of and stream")
def _():
    client = text_generation.Client(STORIES_URL, headers=AUTH)
    r = client.generate(PROMPT, max_new_tokens=12)  # details are always asked for
    assert "little girl named Lily" in r.generated_text, r.generated_text
    assert r.details.generated_tokens == 12
    r = client.generate(PROMPT, max_new_tokens=6, best_of=2, do_sample=True,
                        decoder_input_details=True)
    assert len(r.details.best_of_sequences) == 1 and len(r.details.prefill) > 0
    text = "".join(e.token.text for e in client.generate_stream(PROMPT, max_new_tokens=12))
    assert "little girl named Lily" in text, text


@check("openai: n 2 gives two choices, plain and streamed")
def _():
    r = stories.completions.create(model="lora-ben", prompt=PROMPT, max_tokens=8, n=2, seed=3,
                                   extra_body={"ignore_eos_token": True})
    assert [c.index for c in r.choices] == [0, 1]
    assert r.usage.completion_tokens == 16, r.usage
    texts = {0: "", 1: ""}
    for chunk in demo.chat.completions.create(
            model="lorax-demo", messages=[{"role": "user", "content": "hi"}], max_tokens=6,
            n=2, stream=True):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert all(texts.values()), texts


@check("every LoRAX route answers in the shapes of LoRAX's client types")
def _():
    post = lambda path, body: requests.post(STORIES_URL + path, json=body, headers=AUTH,  # noqa
                                            timeout=60)
    full = {"inputs": PROMPT, "parameters": {
        "max_new_tokens": 6, "details": True, "decoder_input_details": True,
        "return_k_alternatives": 2, "adapter_id": "lora-beach"}}
    for path in ["/", "/generate"]:
        resp = post(path, full)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        lorax_types.check("Response", body[0] if path == "/" else body, path)
    best = {"inputs": PROMPT, "parameters": {"max_new_tokens": 4, "details": True,
                                             "best_of": 2, "do_sample": True}}
    lorax_types.check("Response", post("/generate", best).json(), "best_of")
    streamed = {"inputs": PROMPT, "parameters": {"max_new_tokens": 4, "details": True}}
    for events in [raw_stream({**streamed, "stream": True}),
                   raw_stream(streamed, url=STORIES_URL + "/generate_stream")]:
        for i, event in enumerate(events):
            lorax_types.check("StreamResponse", event, f"stream event {i}")
        assert events[-1]["details"] is not None
    tokens = post("/tokenize", {"inputs": PROMPT}).json()
    for i, token in enumerate(tokens):
        lorax_types.check("SimpleToken", token, f"/tokenize[{i}]")
    info = requests.get(STORIES_URL + "/info", headers=AUTH, timeout=60).json()
    lorax_types.check("Info", info, "/info")
    error = post("/generate", {"inputs": PROMPT, "parameters": {"top_k": -1}})
    assert error.status_code == 422
    lorax_types.check("ErrorResponse", error.json(), "422")
    for name in ["x-compute-type", "x-compute-time", "x-total-time", "x-validation-time",
                 "x-queue-time", "x-inference-time", "x-time-per-token", "x-prompt-tokens",
                 "x-generated-tokens", "x-model-id", "x-adapter-id", "x-adapter-source"]:
        assert name in post("/", full).headers, name


@check("metrics parse with prometheus_client and name LoRAX's series")
def _():
    text = requests.get(STORIES_URL + "/metrics", headers=AUTH, timeout=60).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families, text[:200]
    for family in families.values():
        if family.type != "histogram":
            continue
        # one series per label set other than `le` (e.g. method="prefill" and "decode")
        series = {}
        for s in family.samples:
            if s.name.endswith("_bucket"):
                key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
                series.setdefault(key, []).append(s)
        assert series, family.name
        for key, buckets in series.items():
            counts = [s.value for s in buckets]
            assert counts == sorted(counts), (family.name, key)  # cumulative
            assert buckets[-1].labels["le"] == "+Inf", (family.name, key)
    # LoRAX's router series, with their types (its counters carry no _total suffix)
    expected = {"lorax_request_count": "counter", "lorax_request_success": "counter",
                "lorax_request_failure": "counter", "lorax_request_duration": "histogram",
                "lorax_request_validation_duration": "histogram",
                "lorax_request_queue_duration": "histogram",
                "lorax_request_inference_duration": "histogram",
                "lorax_request_mean_time_per_token_duration": "histogram",
                "lorax_request_input_length": "histogram",
                "lorax_request_max_new_tokens": "histogram",
                "lorax_request_generated_tokens": "histogram",
                "lorax_request_skipped_tokens": "histogram",
                "lorax_request_input_count": "histogram", "lorax_queue_length": "gauge",
                "lorax_batch_current_size": "gauge", "lorax_batch_current_max_tokens": "gauge",
                "lorax_batch_inference_count": "counter",
                "lorax_batch_inference_success": "counter",
                "lorax_batch_inference_failure": "counter",
                "lorax_batch_inference_duration": "histogram",
                "lorax_batch_next_size": "histogram", "lorax_batch_concat": "counter"}
    for name, kind in expected.items():
        assert name in families and families[name].type == kind, (name, families.get(name))
    assert families["lorax_request_success"].samples[0].value > 0
    steps = {(s.name, s.labels.get("method")): s.value
             for s in families["lorax_batch_inference_duration"].samples}
    assert steps[("lorax_batch_inference_duration_count", "prefill")] > 0, steps
    assert steps[("lorax_batch_inference_duration_count", "decode")] > 0, steps
    sizes = {s.name: s.value for s in families["lorax_batch_next_size"].samples}
    assert sizes["lorax_batch_next_size_count"] > 0, sizes
    failures = {s.labels["err"] for s in families["lorax_request_failure"].samples}
    assert {"validation", "download_adapter"} <= failures, failures
    loaded = {s.labels["adapter"]: s.value for s in families["lorax_adapter_loaded"].samples}
    assert loaded.get("lora-ben") == 1, loaded


print(f"expected failures: {results['xfail']}")
print(f"clients: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
