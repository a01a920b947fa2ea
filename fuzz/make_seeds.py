#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/seed-*).

The seeds are small inputs in the shapes of the fixtures (Llama/Gemma configs with every rope
scaling, PEFT adapters against a tiny base, byte-level and SentencePiece-style tokenizers, chat
templates in the common styles, a request per endpoint); no fixture file is copied. Standard
library only. Inputs found by fuzzing are kept beside the seeds as finding-* files.
"""
import json
import os
import struct

SEP = b"\n#--#\n"  # fuzz/fuzz_input.h kSeparator
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(ROOT, target, "seed-" + name), "wb") as f:
        f.write(data)


DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "I64": 8, "U8": 1}


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape); data is a counting byte pattern."""
    header, data = {}, b""
    for name, dtype, shape in tensors:
        n = DTYPE_SIZE[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + n]}
        data += bytes((i * 7 + 3) % 64 for i in range(n))  # small values in every dtype
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    write("safetensors", "f32", safetensors([("w", "F32", [2, 3])]))
    write("safetensors", "mixed", safetensors(
        [("model.embed_tokens.weight", "BF16", [8, 4]), ("model.norm.weight", "F16", [4]),
         ("lm_head.weight", "F32", [8, 4]), ("model.layers.0.self_attn.k_scale", "F32", []),
         ("fp8", "F8_E4M3", [4, 4]), ("ids", "I64", [3]), ("mask", "U8", [0])],
        {"format": "pt"}))
    write("safetensors", "index", json.dumps({
        "metadata": {"total_size": 1024},
        "weight_map": {"model.embed_tokens.weight": "model-00001-of-00002.safetensors",
                       "lm_head.weight": "model-00002-of-00002.safetensors"}}))


LLAMA = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 512,
         "hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
         "num_attention_heads": 8, "num_key_value_heads": 4, "max_position_embeddings": 512,
         "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu",
         "tie_word_embeddings": False, "torch_dtype": "float32", "bos_token_id": 1,
         "eos_token_id": 2}


def config_seeds():
    write("model_config", "llama", json.dumps(LLAMA))
    scalings = {
        "linear": {"type": "linear", "factor": 2.0},
        "dynamic": {"rope_type": "dynamic", "factor": 4.0},
        "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                   "high_freq_factor": 4.0, "original_max_position_embeddings": 128},
        "yarn": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 128,
                 "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.5,
                 "attention_factor": 1.1, "truncate": False},
    }
    for name, scaling in scalings.items():
        write("model_config", "rope-" + name, json.dumps(dict(LLAMA, rope_scaling=scaling)))
    write("model_config", "rope-parameters", json.dumps(dict(
        {k: v for k, v in LLAMA.items() if k != "rope_theta"},
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                         "original_max_position_embeddings": 8192},
        eos_token_id=[2, 3], head_dim=16, tie_word_embeddings=True)))
    write("model_config", "gemma", json.dumps({
        "architectures": ["GemmaForCausalLM"], "model_type": "gemma", "vocab_size": 1024,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 32,
        "max_position_embeddings": 256, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh", "torch_dtype": "bfloat16",
        "bos_token_id": 2, "eos_token_id": 1, "pad_token_id": 0}))


# fuzz/lora_adapter_fuzzer.cc's base: hidden 16, 4 heads of 4 over 2 kv heads, mlp 24, vocab 32.
SHAPES = {"q_proj": (16, 16), "k_proj": (16, 8), "v_proj": (16, 8), "o_proj": (16, 16),
          "gate_proj": (16, 24), "up_proj": (16, 24), "down_proj": (24, 16)}
PARENT = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn",
          "o_proj": "self_attn", "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}


def adapter(config, modules, rank, dtype="F32", layers=(0, 1), lm_head=False):
    tensors = []
    for layer in layers:
        for m in modules:
            i, o = SHAPES[m]
            p = f"base_model.model.model.layers.{layer}.{PARENT[m]}.{m}"
            tensors += [(p + ".lora_A.weight", dtype, [rank, i]),
                        (p + ".lora_B.weight", dtype, [o, rank])]
    if lm_head:
        tensors += [("base_model.model.lm_head.lora_A.weight", dtype, [rank, 16]),
                    ("base_model.model.lm_head.lora_B.weight", dtype, [32, rank])]
    cfg = dict({"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "tiny",
                "r": rank, "lora_alpha": 2 * rank, "lora_dropout": 0.0, "bias": "none",
                "fan_in_fan_out": False, "use_dora": False, "use_rslora": False,
                "modules_to_save": None, "target_modules": modules}, **config)
    return json.dumps(cfg).encode() + SEP + safetensors(tensors)


def adapter_seeds():
    write("lora_adapter", "qv", adapter({}, ["q_proj", "v_proj"], 4))
    write("lora_adapter", "all-bf16", adapter({}, list(SHAPES), 2, "BF16"))
    write("lora_adapter", "regex-rslora", adapter(
        {"target_modules": ".*layers\\.1\\.self_attn\\.(k_proj|o_proj)", "use_rslora": True},
        ["k_proj", "o_proj"], 8, "F16", layers=(1,)))
    write("lora_adapter", "patterns", adapter(
        {"rank_pattern": {"down_proj": 4}, "alpha_pattern": {"up_proj": 3.0},
         "layers_to_transform": [0]}, ["up_proj", "down_proj"], 4, layers=(0,)))
    write("lora_adapter", "lm-head", adapter(
        {"target_modules": ["q_proj", "lm_head"]}, ["q_proj"], 2, lm_head=True))


def tokenizer(model, normalizer=None, pre_tokenizer=None, decoder=None, post=None, added=()):
    return json.dumps({"version": "1.0", "truncation": None, "padding": None,
                       "added_tokens": [dict({"single_word": False, "lstrip": False,
                                              "rstrip": False, "normalized": False,
                                              "special": True}, **a) for a in added],
                       "normalizer": normalizer, "pre_tokenizer": pre_tokenizer,
                       "post_processor": post, "decoder": decoder, "model": model})


def bos_template(token, token_id):
    """A TemplateProcessing post-processor that puts `token` before a single sequence."""
    return {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": token, "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {token: {"id": token, "ids": [token_id], "tokens": [token]}}}


def tokenizer_seeds():
    # Llama 3 style: byte-level BPE, a Split regex, TemplateProcessing adding <|bos|>.
    byte_vocab = {t: i for i, t in enumerate(["H", "e", "l", "o", "Ġ", "w", "r", "d", "!",
                                              "He", "ll", "llo", "Hello", "Ġw", "or", "ld",
                                              "Ġwor", "Ġworld"])}
    llama3 = tokenizer(
        {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
         "ignore_merges": True, "vocab": byte_vocab,
         "merges": ["H e", "l l", "ll o", "He llo", "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld"]},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex":
                "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
             "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": False}]},
        decoder={"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                 "use_regex": True},
        post=bos_template("<|bos|>", 18),
        added=[{"id": 18, "content": "<|bos|>"}, {"id": 19, "content": "<|eot|>"}])
    # Llama 2 style: SentencePiece BPE with byte fallback, Prepend + Replace normalizer.
    sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        sp_vocab[f"<0x{b:02X}>"] = 3 + b
    for t in ["▁", "H", "e", "l", "o", "w", "r", "d", "▁H", "ll", "▁He", "▁Hell", "▁Hello",
              "▁w", "or", "ld", "▁wor", "▁world"]:
        sp_vocab[t] = len(sp_vocab)
    llama2 = tokenizer(
        {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True,
         "ignore_merges": False, "vocab": sp_vocab,
         "merges": [["▁", "H"], ["l", "l"], ["▁H", "e"], ["▁He", "ll"], ["▁Hell", "o"],
                    ["▁", "w"], ["o", "r"], ["l", "d"], ["▁w", "or"], ["▁wor", "ld"]]},
        normalizer={"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "},
                                                  "content": "▁"}]},
        decoder={"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        post=bos_template("<s>", 1),
        added=[{"id": 0, "content": "<unk>"}, {"id": 1, "content": "<s>"},
               {"id": 2, "content": "</s>"}])
    # Gemma / Mistral style pieces: Metaspace, NFKC, Whitespace, Digits, added tokens that strip.
    meta = tokenizer(
        {"type": "BPE", "dropout": None, "unk_token": "<unk>", "fuse_unk": True,
         "byte_fallback": True, "vocab": sp_vocab,
         "merges": ["▁ w", "o r", "l d", "▁w or", "▁wor ld"]},
        normalizer={"type": "NFKC"},
        pre_tokenizer={"type": "Sequence", "pretokenizers": [
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
            {"type": "Digits", "individual_digits": True}]},
        decoder={"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
        added=[{"id": 0, "content": "<unk>"},
               {"id": 2, "content": "</s>", "lstrip": True, "rstrip": True},
               {"id": 5, "content": "<start_of_turn>", "special": False, "normalized": True}])
    text = "Hello world! <|bos|> 12345 héllo\n\n  wörld <s></s> ☃ 你好"
    for name, tok in [("bytelevel", llama3), ("sentencepiece", llama2), ("metaspace", meta)]:
        write("tokenizer_json", name, tok.encode() + SEP + text.encode())

    texts = ["Hello world!", "<|begin_of_text|>Hi<|eot_id|>", "<start_of_turn>user\nhey",
             "[INST] what? [/INST]", "Once upon a time, Lily saw a dog.",
             "  leading   and trailing  \n\t", "12345678901234567890", "héllo wörld ☃ 你好 🎉",
             "\u00e9\u0301 NFD vs NFC", "<s></s><unk><0x0A>", "\x00\x01\x7f", "a" * 300]
    for i, t in enumerate(texts):
        for mode in range(5):
            write("tokenize", f"{i:02d}-{mode}", bytes([mode]) + t.encode())


CHAT_TEMPLATES = {
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}"
              "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
              " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
              "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
              "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
              "{% endif %}",
    "gemma": "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
             "{{ raise_exception('System role not supported') }}{% endif %}"
             "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
             "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
             "{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}"
             "{% else %}{% set role = message['role'] %}{% endif %}"
             "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}"
             "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
    "llama2": "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
              "{% set system_message = messages[0]['content'] %}{% else %}"
              "{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
              "{% for message in loop_messages %}{% if loop.index0 == 0 and system_message != false %}"
              "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
              "{% else %}{% set content = message['content'] %}{% endif %}"
              "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
              "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}"
              "{% endif %}{% endfor %}",
    "chatml": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
              "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
              "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "features": "{% macro fmt(m, n=1) %}{{ m.role|upper }}{{ '#' * n }}{% endmacro %}"
                "{% for m in messages if m.content is string %}{{ fmt(m, loop.index) }}:"
                "{{ m.content|replace('a', 'b')|length }}{{ loop.last and '.' or ',' }}"
                "{% endfor %}{{ messages|selectattr('role', 'equalto', 'user')|list|length }}"
                "{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}"
                "{% endfor %}{{ ns.n }}{{ {'a': [1, 2.5, none, true]}|tojson }}"
                "{{ 'x,y'.split(',')|join('-') }}{{ '%s=%d'|format('k', 3) }}"
                "{%- if not tools is defined or tools is none %}{{ raise_exception('no tools') }}"
                "{%- endif %}",
}


def chat_seeds():
    for name, source in CHAT_TEMPLATES.items():
        write("chat_template", "template-" + name, b"\x00" + source.encode())
    conversations = [
        [{"role": "user", "content": "Hello"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "2+2?"}],
        [{"role": "user", "content": [{"type": "text", "text": "parts"}]}],
        [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        [{"role": "assistant", "content": None, "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
         {"role": "tool", "content": "42"}],
        [],
    ]
    for i, messages in enumerate(conversations):
        write("chat_template", f"messages-{i}", b"\x01" + json.dumps(messages).encode())


def request_seeds():
    bodies = {
        0: {"inputs": "Hello", "parameters": {
            "max_new_tokens": 8, "temperature": 0.7, "top_k": 5, "top_p": 0.9,
            "typical_p": 0.95, "repetition_penalty": 1.1, "frequency_penalty": 0.1,
            "presence_penalty": 0.1, "do_sample": True, "seed": 7, "stop": ["\n"],
            "truncate": 16, "details": True, "decoder_input_details": True,
            "return_k_alternatives": 2, "adapter_id": "a", "adapter_source": "local",
            "watermark": False, "ignore_eos_token": True, "return_full_text": True}},
        1: {"inputs": "Hi", "parameters": {"max_new_tokens": 4, "details": True,
                                          "adapter_id": "demo-adapter-a"}},
        2: {"model": "lorax-demo", "prompt": [[1, 2, 3], "text"], "max_tokens": 0, "echo": True,
            "logprobs": 5, "temperature": 0, "top_p": 1, "n": 1, "stop": "x", "seed": -3,
            "stream": True, "stream_options": {"include_usage": True},
            "return_tokens_as_token_ids": True},
        3: {"model": "demo-adapter-b", "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "max_completion_tokens": 5, "logprobs": True, "top_logprobs": 3, "stop": ["a", "b"],
            "tool_choice": "none", "response_format": {"type": "text"}, "stream": False,
            "frequency_penalty": 0.5, "presence_penalty": -0.5, "seed": 1},
        4: {"inputs": "Hello world", "add_special_tokens": False},
    }
    for endpoint, body in bodies.items():
        write("http_request", f"endpoint-{endpoint}", bytes([endpoint]) + json.dumps(body).encode())
    write("http_request", "not-json", b"\x00{\"inputs\": ")
    write("http_request", "deep", b"\x03" + b"[" * 100 + b"]" * 100)


if __name__ == "__main__":
    safetensors_seeds()
    config_seeds()
    adapter_seeds()
    tokenizer_seeds()
    chat_seeds()
    request_seeds()
