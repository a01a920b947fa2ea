"""Structured output under load, measured: schemas from JSONSchemaBench against a tiny model.

Usage: python structured.py URL MASKBENCH_JSONL_GZ
URL serves stories260K (adapter lora-ben, API key e2e-key) with a ChatML chat template and the
model's whole context. The model knows no JSON, so whatever valid JSON comes out is the
constraint's doing.

Schemas: sorted by name, those whose first valid instance is at most 60 characters written
compactly; the first 200 the server compiles (LoRAX's 422 on a one-token probe skips the schema and
is counted). They are sent 16 at a time, so that they share batches, at temperature 1 with a
seed each, alternately through /v1/chat/completions (response_format json_schema) and LoRAX
/generate (response_format json_object with the schema), interleaved with unconstrained greedy
requests (base model and lora-ben, on both routes).

Checks:
- at least 150 of the 200 end by EOS, and every one of those parses and validates against its
  schema (jsonschema, with its format checker);
- every output cut by the length limit is a prefix of some JSON text: a character-level JSON
  recognizer consumes all of it without an error, and nothing but whitespace follows a complete
  top-level value;
- each unconstrained request gives the same text under load as it gave alone before it.

Prints TAP-like lines, the counts, and exits non-zero when a check fails.
"""

import concurrent.futures
import gzip
import json
import re
import sys

import jsonschema
import requests

URL, MASKBENCH = sys.argv[1], sys.argv[2]
AUTH = {"Authorization": "Bearer e2e-key"}
SCHEMAS = 200
MIN_EOS = 150
MAX_INSTANCE_CHARS = 60
MAX_TOKENS = 200
WORKERS = 16
SEED = 1234
CHAT_PROMPT = [{"role": "system", "content": "Reply in JSON."},
               {"role": "user", "content": "Tell me about the cat."}]
TEXT_PROMPT = "Data about the cat in JSON:"

session = requests.Session()
session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=WORKERS + 4))


def post(path, body):
    r = session.post(URL + path, json=body, headers=AUTH, timeout=120)
    return r.status_code, (r.json() if r.content else None)


def chat(schema, max_tokens, temperature, seed=None, model="stories260K"):
    body = {"model": model, "messages": CHAT_PROMPT, "max_tokens": max_tokens,
            "temperature": temperature}
    if seed is not None:
        body["seed"] = seed
    if schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "s", "schema": schema, "strict": True}}
    status, reply = post("/v1/chat/completions", body)
    if status != 200:
        return status, reply, None
    choice = reply["choices"][0]
    reason = {"stop": "eos", "length": "length"}.get(choice["finish_reason"], choice["finish_reason"])
    return status, choice["message"]["content"], reason


def generate(schema, max_tokens, temperature, seed=None, adapter=None):
    params = {"max_new_tokens": max_tokens, "details": True}
    if temperature > 0:
        params.update(do_sample=True, temperature=temperature)
    if seed is not None:
        params["seed"] = seed
    if adapter:
        params["adapter_id"] = adapter
    if schema is not None:
        params["response_format"] = {"type": "json_object", "schema": schema}
    status, reply = post("/generate", {"inputs": TEXT_PROMPT, "parameters": params})
    if status != 200:
        return status, reply, None
    reason = {"eos_token": "eos", "length": "length"}.get(
        reply["details"]["finish_reason"], reply["details"]["finish_reason"])
    return status, reply["generated_text"], reason


def json_prefix_error(text):
    """None when `text` is a prefix of some JSON text with nothing but whitespace after a
    complete top-level value; otherwise what is wrong. A pushdown recognizer, one character at a
    time: a stack of open containers and the token being read."""
    ws = " \t\n\r"
    stack = []  # "{" / "[" of open containers
    expect = "value"  # value | value_or_close | key_or_close | key | colon | comma_or_close | done
    i, n = 0, len(text)

    def after_value():
        return "comma_or_close" if stack else "done"

    while i < n:
        c = text[i]
        if expect == "done":
            if c not in ws:
                return f"{c!r} at {i} after a complete value"
            i += 1
            continue
        if c in ws:
            i += 1
            continue
        if expect == "colon":
            if c != ":":
                return f"{c!r} at {i}, expected ':'"
            expect, i = "value", i + 1
            continue
        if expect == "comma_or_close":
            if c == ",":
                expect = "key" if stack[-1] == "{" else "value"
            elif c == ("}" if stack[-1] == "{" else "]"):
                stack.pop()
                expect = after_value()
            else:
                return f"{c!r} at {i}, expected ',' or a close"
            i += 1
            continue
        if expect in ("key_or_close", "value_or_close") and c in "}]":
            if c != ("}" if stack[-1] == "{" else "]"):
                return f"{c!r} at {i} closes the wrong container"
            stack.pop()
            expect, i = after_value(), i + 1
            continue
        if expect in ("key", "key_or_close"):
            if c != '"':
                return f"{c!r} at {i}, expected a key"
        if c == '"':  # a string: key or value
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    esc = text[j + 1:j + 2]
                    if esc and esc not in '"\\/bfnrtu':
                        return f"bad escape at {j}"
                    if esc == "u":
                        hexes = text[j + 2:j + 6]
                        if any(h not in "0123456789abcdefABCDEF" for h in hexes):
                            return f"bad \\u escape at {j}"
                        j += 4
                    j += 2
                    continue
                if ord(text[j]) < 0x20:
                    return f"control character in a string at {j}"
                j += 1
            if j >= n:
                return None  # cut inside the string
            is_key = expect in ("key", "key_or_close")
            expect, i = ("colon" if is_key else after_value()), j + 1
            continue
        if c in "{[":
            stack.append(c)
            expect, i = ("key_or_close" if c == "{" else "value_or_close"), i + 1
            continue
        if c in "-0123456789":
            j = i
            while j < n and text[j] in "-+.eE0123456789":
                j += 1
            token = text[i:j]
            full = re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?", token)
            if j >= n:  # cut inside the number (or right after it)
                if full or re.fullmatch(r"-?(0|[1-9][0-9]*)?(\.[0-9]*)?([eE][+-]?[0-9]*)?", token):
                    return None
                return f"bad number {token!r}"
            if not full:
                return f"bad number {token!r} at {i}"
            expect, i = after_value(), j
            continue
        for literal in ("true", "false", "null"):
            if literal.startswith(text[i:i + len(literal)]) and text[i] == literal[0]:
                if i + len(literal) > n:
                    return None  # cut inside the literal
                expect, i = after_value(), i + len(literal)
                break
        else:
            return f"{c!r} at {i}, expected a value"
    return None


def validate(schema, text):
    value = json.loads(text)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(value)


def candidates():
    rows = [json.loads(line) for line in gzip.open(MASKBENCH, "rt")]
    for row in sorted(rows, key=lambda r: r["name"]):
        valid = [t["data"] for t in row["tests"] if t["valid"]]
        if valid and len(json.dumps(valid[0], separators=(",", ":"))) <= MAX_INSTANCE_CHARS:
            yield row["name"], row["schema"]


fails = 0


def report(ok, name, detail="", expected_failure=None):
    """One check's line. expected_failure: why it cannot pass yet; it is then reported as "xfail"
    while it fails, and its passing fails the run so that the mark gets removed."""
    global fails
    if expected_failure:
        print(f"xfail - {name}: {detail} ({expected_failure})" if not ok else
              f"not ok - {name}: passes now; remove its expected_failure mark")
        fails += 1 if ok else 0
        return
    print(f"{'ok' if ok else 'not ok'} - {name}{': ' + detail if detail and not ok else ''}")
    fails += 0 if ok else 1


def main():
    pool = concurrent.futures.ThreadPoolExecutor(WORKERS)

    # Which schemas: the first SCHEMAS the server compiles, in name order (probed in chunks).
    chosen, refused, other = [], 0, []
    todo = candidates()
    while len(chosen) < SCHEMAS:
        chunk = [c for _, c in zip(range(2 * (SCHEMAS - len(chosen))), todo)]
        if not chunk:
            break
        probes = pool.map(lambda c: generate(c[1], 1, 0)[:2], chunk)
        for (name, schema), (status, reply) in zip(chunk, probes):
            if status == 200 and len(chosen) < SCHEMAS:
                chosen.append((name, schema))
            elif status in (400, 422):  # OpenAI and LoRAX refusals
                refused += 1
            elif status != 200:
                other.append((name, status, reply))
    report(not other, "every probe is compiled or refused (400 / 422)", repr(other[:3]))
    report(len(chosen) == SCHEMAS, f"{SCHEMAS} schemas compile", f"only {len(chosen)}")

    # The unconstrained requests, alone first.
    plain = [lambda: chat(None, 24, 0), lambda: chat(None, 24, 0, model="lora-ben"),
             lambda: generate(None, 24, 0), lambda: generate(None, 24, 0, adapter="lora-ben")]
    alone = [f() for f in plain]

    # The load: constrained requests alternating routes, the plain ones spread among them.
    jobs = []
    for k, (name, schema) in enumerate(chosen):
        send = chat if k % 2 == 0 else generate
        jobs.append(("schema", k, lambda s=schema, f=send, k=k: f(s, MAX_TOKENS, 1.0, SEED + k)))
        if k % 25 == 12:
            p = (k // 25) % len(plain)
            jobs.append(("plain", p, plain[p]))
    futures = [(kind, k, pool.submit(f)) for kind, k, f in jobs]

    eos = validated = cut = 0
    bad_eos, bad_cut, bad_status, changed = [], [], [], []
    for kind, k, fut in futures:
        status, text, reason = fut.result()
        if kind == "plain":
            if (status, text, reason) != alone[k]:
                changed.append((k, alone[k], (status, text, reason)))
            continue
        name, schema = chosen[k]
        if status != 200:
            bad_status.append((name, status, text))
        elif reason == "eos":
            eos += 1
            try:
                validate(schema, text)
                validated += 1
            except Exception as err:  # noqa: BLE001 - reported with the schema's name
                bad_eos.append((name, text, str(err).splitlines()[0]))
        elif reason == "length":
            cut += 1
            problem = json_prefix_error(text)
            if problem:
                bad_cut.append((name, text, problem))
        else:
            bad_status.append((name, reason, text))
    pool.shutdown()

    print(f"structured: {len(chosen)} schemas sent, {eos} ended by EOS, {validated} validated, "
          f"{cut} cut by length, {refused} refused at compile")
    report(not bad_status, "every constrained request succeeds", repr(bad_status[:3]))
    report(eos >= MIN_EOS, f"at least {MIN_EOS} of {SCHEMAS} end by EOS", f"{eos} did",
           expected_failure="at temperature 1 the model wanders inside unbounded strings and "
           "arrays, and fills each gap with up to 8 whitespace characters")
    report(not bad_eos, "every output ended by EOS validates against its schema",
           "\n  ".join(map(repr, bad_eos[:5])))
    report(not bad_cut, "every output cut by length is a prefix of JSON",
           "\n  ".join(map(repr, bad_cut[:5])))
    report(not changed, "unconstrained greedy outputs are unchanged under constrained load",
           repr(changed[:2]))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
