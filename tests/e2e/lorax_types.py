"""The response types of LoRAX's REST API, as its client declares them
(predibase/lorax clients/python/lorax/types.py, the newest: Token.skipped and
Details.skipped_tokens included), written out as field lists so that recorded responses can be
checked against them without trusting the installed client version.

Each type maps a field to (kind, required): kind is a Python type, a type name from TYPES, or a
list [kind] for a list of that kind; `None` in a tuple of kinds allows null.
"""

FINISH_REASONS = {"length", "eos_token", "stop_sequence"}

TYPES = {
    "InputToken": {"id": (int, True), "text": (str, True), "logprob": ((float, None), False)},
    "AlternativeToken": {"id": (int, True), "text": (str, True), "logprob": (float, True)},
    "Token": {
        "id": (int, True),
        "text": (str, True),
        "logprob": (float, True),
        "special": (bool, True),
        "alternative_tokens": (([("AlternativeToken",)], None), False),
        "skipped": (bool, True),
    },
    "BestOfSequence": {
        "generated_text": (str, True),
        "finish_reason": ("FinishReason", True),
        "generated_tokens": (int, True),
        "seed": ((int, None), False),
        "prefill": ([("InputToken",)], True),
        "tokens": ([("Token",)], True),
    },
    "Details": {
        "finish_reason": ("FinishReason", True),
        "prompt_tokens": (int, True),
        "generated_tokens": (int, True),
        "skipped_tokens": (int, True),
        "seed": ((int, None), False),
        "prefill": ([("InputToken",)], True),
        "tokens": ([("Token",)], True),
        "best_of_sequences": (([("BestOfSequence",)], None), False),
    },
    "Response": {"generated_text": (str, True), "details": ((("Details",), None), False)},
    "StreamDetails": {
        "finish_reason": ("FinishReason", True),
        "prompt_tokens": (int, True),
        "generated_tokens": (int, True),
        "seed": ((int, None), False),
    },
    "StreamResponse": {
        "token": (("Token",), True),
        "generated_text": ((str, None), False),
        "details": ((("StreamDetails",), None), False),
    },
    # router/src/lib.rs: SimpleToken (one entry of /tokenize), ErrorResponse, Info
    "SimpleToken": {"id": (int, True), "text": (str, True), "start": (int, True),
                    "stop": (int, True)},
    "ErrorResponse": {"error": (str, True), "error_type": (str, True)},
    "Info": {
        "model_id": (str, True),
        "model_sha": ((str, None), True),
        "model_dtype": (str, True),
        "model_device_type": (str, True),
        "model_pipeline_tag": ((str, None), True),
        "max_concurrent_requests": (int, True),
        "max_best_of": (int, True),
        "max_stop_sequences": (int, True),
        "max_input_length": (int, True),
        "max_total_tokens": (int, True),
        "waiting_served_ratio": (float, True),
        "max_batch_total_tokens": (int, True),
        "max_waiting_tokens": (int, True),
        "validation_workers": (int, True),
        "eager_prefill": (bool, True),
        "version": (str, True),
        "sha": ((str, None), True),
        "docker_label": ((str, None), True),
        "request_logger_url": ((str, None), True),
    },
}


def _check_kind(value, kind, where):
    if kind is None:
        assert value is None, f"{where}: expected null, got {value!r}"
    elif isinstance(kind, tuple) and len(kind) == 1 and isinstance(kind[0], str):
        check(kind[0], value, where)
    elif isinstance(kind, tuple):
        errors = []
        for option in kind:
            try:
                _check_kind(value, option, where)
                return
            except AssertionError as err:
                errors.append(str(err))
        raise AssertionError(" / ".join(errors))
    elif isinstance(kind, list):
        assert isinstance(value, list), f"{where}: expected a list, got {value!r}"
        for i, item in enumerate(value):
            _check_kind(item, kind[0], f"{where}[{i}]")
    elif kind == "FinishReason":
        assert value in FINISH_REASONS, f"{where}: finish_reason {value!r}"
    elif kind is float:
        assert isinstance(value, (int, float)) and not isinstance(value, bool), \
            f"{where}: expected a number, got {value!r}"
    elif kind is int:
        assert isinstance(value, int) and not isinstance(value, bool), \
            f"{where}: expected an integer, got {value!r}"
    else:
        assert isinstance(value, kind), f"{where}: expected {kind.__name__}, got {value!r}"


def check(type_name, value, where=None):
    """Raises AssertionError naming the path of the first field that does not fit."""
    where = where or type_name
    assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
    for field, (kind, required) in TYPES[type_name].items():
        if field not in value:
            assert not required, f"{where}: missing required field {field!r}"
            continue
        _check_kind(value[field], kind, f"{where}.{field}")
