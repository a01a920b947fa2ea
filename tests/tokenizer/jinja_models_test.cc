// Chat templates in the style of widely used models (Qwen 2.5, Mistral v0.3, MiniCPM/Hermes tool
// prompts, DeepSeek-R1, multimodal content parts), rendered with tools, tool calls and tool
// results. Expected texts and errors are what Jinja 3.1 renders in transformers' environment.
#include <map>
#include <ostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace lorax::jinja {
namespace {

const std::map<std::string, std::string> kTemplates = {
    {"qwen25",  // Qwen 2.5 style: tools as JSON lines, grouped tool responses
     R"~({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)~"},
    {"mistral_v3",  // Mistral v0.3 style: [AVAILABLE_TOOLS], dict equality, tool call ids
     R"~({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)~"},
    {"pythonic_tools",  // MiniCPM/Hermes style: recursive macros, call blocks, caller() in
                        // namespace()
     R"~({%- macro json_to_python_type(param_name, json_spec) %}
{%- set basic_type_map = {
  'string': 'str',
  'number': 'float',
  'integer': 'int',
  'boolean': 'bool',
  'null': 'None'
} %}

{%- if json_spec.enum %}
  {{- param_name|title }}
{%- elif basic_type_map[json_spec.type] is defined %}
  {{- basic_type_map[json_spec.type] }}
{%- elif json_spec.type == 'array' %}
  {{- 'List[' +  json_to_python_type(param_name, json_spec['items']) + ']' }}
{%- elif json_spec.type == 'object' %}
  {{- 'Dict[str, ' + json_to_python_type(param_name, json_spec.additionalProperties if json_spec.additionalProperties else 'Any') + ']' if not json_spec.properties else param_name|title }}
{%- elif json_spec.type is iterable %}
  {{- 'Union[' }}
  {%- for t in json_spec.type %}
    {{- json_to_python_type(param_name, {'type': t}) }}
    {{- ', ' if not loop.last }}
  {%- endfor %}
  {{- ']' }}
{%- else %}
  {{- 'Any' }}
{%- endif %}
{%- endmacro %}

{%- macro object_to_fields(json_spec, field_indent) %}
  {%- set o_ns = namespace(f = caller()) %}
  {%- for param_name, param_fields in json_spec.properties|items %}
    {%- if param_fields.enum %}
      {{- '\n\nclass ' + param_name|title + '(Enum):\n' }}
      {%- for enum_option in param_fields.enum %}
        {{- '    enum_' + loop.index0|string + ' = ' + enum_option|tojson + '\n' }}
      {%- endfor %}
    {%- elif param_fields.type == 'object' and param_fields.properties %}
      {%- call object_to_fields(param_fields, '    ') %}
        {{- '\n\nclass ' + param_name|title + '(BaseModel):\n' }}
      {%- endcall %}
    {%- elif param_fields.type == 'array' and param_fields['items'] and param_fields['items'].type == 'object' and param_fields['items'].properties %}
      {%- call object_to_fields(param_fields['items'], '    ') %}
        {{- '\n\nclass ' + param_name|title + '(BaseModel):\n' }}
      {%- endcall %}
    {%- endif %}
    {%- set param_default = param_fields.default|tojson if param_fields.default is string else param_fields.default|string if param_fields.default is defined else 'None' %}
    {%- set o_ns.f = o_ns.f + field_indent + param_name + ': ' %}
    {%- set o_ns.f = o_ns.f + ('Optional[' + json_to_python_type(param_name, param_fields) + ']' if param_name not in json_spec.required else json_to_python_type(param_name, param_fields)) %}
    {%- if not param_fields.title and not param_fields.description and not param_fields.pattern %}
      {%- set o_ns.f = o_ns.f + (' = ' + param_default if param_name not in json_spec.required else '') %}
    {%- else %}
      {%- set o_ns.f = o_ns.f + (' = Field(...' if param_name in json_spec.required else ' = Field(' + param_default) %}
      {%- set o_ns.f = o_ns.f + (', description=' + param_fields.description|tojson if param_fields.description else '') %}
      {%- set o_ns.f = o_ns.f + (', regex=' + param_fields.pattern|tojson if param_fields.pattern else '') %}
      {%- set o_ns.f = o_ns.f + (', title=' + param_fields.title|tojson if param_fields.title else '') %}
      {%- set o_ns.f = o_ns.f + ')' %}
    {%- endif %}
    {%- set o_ns.f = o_ns.f + '\n' %}
  {%- endfor %}
  {{- o_ns.f }}
{%- endmacro %}

{%- macro tool_parser(tools) %}
{%- for tool in tools %}
  {%- if tool.type is not defined or tool.type == 'function' %}
    {%- if tool.function is defined %}
      {%- set tool = tool.function %}
    {%- endif %}
    {%- set tool_params = tool.parameters if tool.parameters is defined else none %}
    {%- call object_to_fields(tool_params, '        ') %}
      {{- '\n\ndef ' + tool.name + '(' }}
      {%- if tool_params %}
        {%- for param_name, param_fields in tool_params.properties|items %}
          {%- set param_default = param_fields.default|tojson if param_fields.default is string else param_fields.default|string if param_fields.default is defined else 'None' %}
          {{- ', ' if loop.index0 != 0 }}
          {{- param_name }}
          {{- '=' + param_default if param_name not in tool_params.required }}
        {%- endfor %}
      {%- endif %}
      {{- '):\n    """' }}
      {{- tool.description }}
      {{- '\n\n    Args:\n' if tool_params else '\n' }}
    {%- endcall %}
    {{- '    """\n' }}
  {%- endif %}
{%- endfor %}
{%- endmacro %}

{%- if messages[0]['role'] == 'system' %}
  {%- set loop_messages = messages[1:] %}
  {%- set system_message = messages[0]['content'] %}
{%- else %}
  {%- set loop_messages = messages %}
  {%- set system_message = '' %}
{%- endif %}
{{- '<|im_start|>system\n' + system_message if system_message or tools }}
{%- if tools %}
  {{- '\n# Functions\n```python\n' }}
  {{- tool_parser(tools) }}
  {{- "\n```\n" }}
{%- endif %}
{{- '<|im_end|>\n' if system_message or tools }}
{%- for message in loop_messages %}
  {%- set content = message.content %}
  {%- if message.role == 'assistant' and message.tool_calls %}
    {{- '<|im_start|>' + message.role + '\n' }}
    {{- '<|tool_call_start|>\n```python\n' }}
    {%- for tool_call in message.tool_calls %}
      {%- if tool_call.function is defined %}
        {%- set tool_call = tool_call.function %}
      {%- endif %}
      {{- tool_call.name + '(' }}
      {%- if tool_call.arguments is defined and tool_call.arguments|length > 0 %}
        {%- for param_name, param_value in tool_call.arguments|items %}
          {{- param_name + '=' + param_value|tojson }}
          {{- ',' if not loop.last }}
        {%- endfor %}
      {%- endif %}
      {{- ')\n' }}
    {%- endfor %}
    {{- '```\n<|tool_call_end|>\n' }}
    {{- content if content and not content.startswith('<|tool_call_start|>') }}
    {{- '<|im_end|>\n' }}
  {%- else %}
    {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>\n' }}
  {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
  {{- '<|im_start|>assistant\n' }}
{%- endif %})~"},
    {"deepseek_r1",  // DeepSeek-R1 style: namespace flags, split('</think>')
     R"~({% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- else %}{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- set ns.is_first = true -%}{%- else %}{{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\n'}}{% endif %})~"},
    {"content_parts",  // Multimodal content parts, map(attribute=...), tojson(indent), documents
     R"~({%- for message in messages -%}
<|{{ message.role }}|>
{%- if message.content is string %}
{{ message.content }}
{%- else %}
{%- for part in message.content %}
  {%- if part.type == 'text' %}{{ part.text }}{% elif part.type == 'image' %}<image>{% else %}[{{ part | tojson }}]{% endif %}
{%- endfor %}
{%- endif %}
{%- if message.tool_calls is defined and message.tool_calls %}
{{ message.tool_calls | map(attribute='function') | map(attribute='name') | join(', ') }}
{%- endif %}
{% endfor -%}
{%- if tools is not none %}{{ tools | map(attribute='function.name') | list }} {{ tools | tojson(indent=2) }}{% endif %}
{%- if documents %}{% for d in documents %}{{ loop.index }}. {{ d.title | default('untitled') | upper }}: {{ d.text[:20] }}{{ '...' if d.text | length > 20 }}
{% endfor %}{% endif %}
{{- messages | length }} {{ messages | selectattr('role', 'in', ['user', 'assistant']) | list | length }} {{ (messages | last).role }})~"},
};

struct Case {
  const char* name;
  const char* template_name;
  const char* context;
  const char* expected;  // empty when the template raises
  const char* error;     // the raise_exception message, or empty
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const Case kCases[] =
    {
        {"qwen25_tool_roundtrip", "qwen25",
         R"~({"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "abc123xyz", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "{\"temp\": 22}"}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "second"}, {"role": "assistant", "content": "<think>hmm</think>It is 22C."}], "add_generation_prompt": true, "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "noargs", "description": "No arguments é \"q\""}}], "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<|im_start|>system
Use tools.

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}
{"type": "function", "function": {"name": "noargs", "description": "No arguments é \"q\""}}
</tools>

For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
<tool_call>
{"name": <function-name>, "arguments": <args-json-object>}
</tool_call><|im_end|>
<|im_start|>user
Weather in Paris?<|im_end|>
<|im_start|>assistant
<tool_call>
{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}
</tool_call><|im_end|>
<|im_start|>user
<tool_response>
{"temp": 22}
</tool_response>
<tool_response>
second
</tool_response><|im_end|>
<|im_start|>assistant
<think>hmm</think>It is 22C.<|im_end|>
<|im_start|>assistant
)~",
         R"~()~"},
        {"qwen25_multi", "qwen25",
         R"~({"messages": [{"role": "user", "content": "  2+2?  "}, {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?\nExplain. ünïcödé 'quotes' \"dq\""}], "add_generation_prompt": false, "tools": null, "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<|im_start|>system
You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>
<|im_start|>user
  2+2?  <|im_end|>
<|im_start|>assistant
4<|im_end|>
<|im_start|>user
And 3+3?
Explain. ünïcödé 'quotes' "dq"<|im_end|>
)~",
         R"~()~"},
        {"mistral_v3_tool_roundtrip", "mistral_v3",
         R"~({"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "abc123xyz", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "{\"temp\": 22}"}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "second"}, {"role": "assistant", "content": "<think>hmm</think>It is 22C."}], "add_generation_prompt": false, "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "noargs", "description": "No arguments é \"q\""}}], "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<s>[AVAILABLE_TOOLS] [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "noargs", "description": "No arguments é "q""}}][/AVAILABLE_TOOLS][INST] Weather in Paris?[/INST][TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris", "days": 2}, "id": "abc123xyz"}]</s>[TOOL_RESULTS] {"content": {"temp": 22}, "call_id": "abc123xyz"}[/TOOL_RESULTS][TOOL_RESULTS] {"content": second, "call_id": "abc123xyz"}[/TOOL_RESULTS] <think>hmm</think>It is 22C.</s>)~",
         R"~()~"},
        {"mistral_v3_bad_alternation", "mistral_v3",
         R"~({"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "add_generation_prompt": true, "tools": null, "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~()~",
         R"~(After the optional system message, conversation roles must alternate user/assistant/user/assistant/...)~"},
        {"pythonic_tools_tool_roundtrip", "pythonic_tools", R"~({"messages": [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Paris?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "abc123xyz", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "{\"temp\": 22}"}, {"role": "tool", "tool_call_id": "abc123xyz", "content": "second"}, {"role": "assistant", "content": "<think>hmm</think>It is 22C."}], "add_generation_prompt": true, "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "noargs", "description": "No arguments é \"q\""}}], "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<|im_start|>system
Use tools.
# Functions
```python


class Unit(Enum):
    enum_0 = "c"
    enum_1 = "f"


class Opts(BaseModel):
    verbose: Optional[bool] = Field(None, title="Verbose")


class List(BaseModel):
    k: Optional[float] = Field(None, regex="^x")


def get_weather(city, unit="c", days=None, opts=None, tags=None, extra=None, list=None):
    """Get the weather

    Args:
        city: str = Field(..., description="City name")
        unit: Optional[Unit] = "c"
        days: Optional[int] = None
        opts: Optional[Opts] = None
        tags: Optional[Union[str, None]] = None
        extra: Optional[Dict[str, Union[]]] = None
        list: Optional[List[List]] = None
    """


def noargs():
    """No arguments é "q"
    """

```
<|im_end|>
<|im_start|>user
Weather in Paris?<|im_end|>
<|im_start|>assistant
<|tool_call_start|>
```python
get_weather(city="Paris",days=2)
```
<|tool_call_end|>
<|im_end|>
<|im_start|>tool
{"temp": 22}<|im_end|>
<|im_start|>tool
second<|im_end|>
<|im_start|>assistant
<think>hmm</think>It is 22C.<|im_end|>
<|im_start|>assistant
)~",
         R"~()~"},
        {"pythonic_tools_system", "pythonic_tools",
         R"~({"messages": [{"role": "system", "content": "You are a pirate."}, {"role": "user", "content": "Where is the gold?"}], "add_generation_prompt": true, "tools": null, "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<|im_start|>system
You are a pirate.<|im_end|>
<|im_start|>user
Where is the gold?<|im_end|>
<|im_start|>assistant
)~",
         R"~()~"},
        {"deepseek_r1_tool_strargs", "deepseek_r1",
         R"~({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "calling", "tool_calls": [{"id": "abc123xyz", "type": "function", "function": {"name": "noargs", "arguments": "{}"}}, {"id": "def456uvw", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]}, {"role": "tool", "tool_call_id": "def456uvw", "content": "cold"}], "add_generation_prompt": true, "tools": null, "documents": null, "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<s><｜User｜>x<｜Assistant｜>calling<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>noargs
```json
{}
```<｜tool▁call▁end｜>
<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather
```json
{"city": "Oslo"}
```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜><｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>cold<｜tool▁output▁end｜><｜tool▁outputs▁end｜>)~",
         R"~()~"},
        {"content_parts_parts", "content_parts",
         R"~({"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image", "url": "x.png"}, {"type": "audio"}]}, {"role": "assistant", "content": "A cat."}], "add_generation_prompt": true, "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}, "days": {"type": "integer"}, "opts": {"type": "object", "properties": {"verbose": {"type": "boolean", "title": "Verbose"}}}, "tags": {"type": ["string", "null"]}, "extra": {"type": "object"}, "list": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "number", "pattern": "^x"}}}}}, "required": ["city"]}}}, {"type": "function", "function": {"name": "noargs", "description": "No arguments é \"q\""}}], "documents": [{"title": "First doc", "text": "Some long text that goes on and on"}, {"text": "short"}], "bos_token": "<s>", "eos_token": "</s>"})~",
         R"~(<|user|>What is this?<image>[{"type": "audio"}]<|assistant|>A cat.['get_weather', 'noargs'] [
  {
    "type": "function",
    "function": {
      "name": "get_weather",
      "description": "Get the weather",
      "parameters": {
        "type": "object",
        "properties": {
          "city": {
            "type": "string",
            "description": "City name"
          },
          "unit": {
            "type": "string",
            "enum": [
              "c",
              "f"
            ],
            "default": "c"
          },
          "days": {
            "type": "integer"
          },
          "opts": {
            "type": "object",
            "properties": {
              "verbose": {
                "type": "boolean",
                "title": "Verbose"
              }
            }
          },
          "tags": {
            "type": [
              "string",
              "null"
            ]
          },
          "extra": {
            "type": "object"
          },
          "list": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "k": {
                  "type": "number",
                  "pattern": "^x"
                }
              }
            }
          }
        },
        "required": [
          "city"
        ]
      }
    }
  },
  {
    "type": "function",
    "function": {
      "name": "noargs",
      "description": "No arguments é \"q\""
    }
  }
]1. FIRST DOC: Some long text that ...
2. UNTITLED: short
2 2 assistant)~",
         R"~()~"},
};

class JinjaModelTemplates : public testing::TestWithParam<Case> {};

TEST_P(JinjaModelTemplates, RendersLikeJinja) {
  const Case& c = GetParam();
  const Template t(kTemplates.at(c.template_name));
  const auto context = nlohmann::ordered_json::parse(c.context);
  if (*c.error == '\0') {
    EXPECT_EQ(t.render(context), c.expected);
    return;
  }
  try {
    t.render(context);
    ADD_FAILURE() << "expected raise_exception: " << c.error;
  } catch (const TemplateError& e) {
    EXPECT_STREQ(e.what(), c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, JinjaModelTemplates, testing::ValuesIn(kCases),
                         [](const testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace lorax::jinja
