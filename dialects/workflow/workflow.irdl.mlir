// The workflow dialect: the domain level of agentc (see README.md beside this file).
//
// Structure comes from upstream ops: agents, tools and tensor fns are func.func (with the
// unit attributes workflow.agent / workflow.tool / workflow.fn), sub-agent calls are
// func.call, `if` is scf.if, `loop` is scf.while and `map` is an scf.for marked
// {workflow.parallel}. int, float and bool are the builtin i64, f64 and i1 and use the
// arith and math dialects. IRDL checks the structure below; semantic rules (symbol
// references, model kinds, value ranges) are checked by agentc's own verifier.
irdl.dialect @workflow {
  // !workflow.text: immutable UTF-8 text.
  irdl.type @text {
    irdl.parameters()
  }

  // !workflow.list<T>: an immutable list of T (T is any type).
  irdl.type @list {
    %elem = irdl.any
    irdl.parameters(elem: %elem)
  }

  // !workflow.record<"Name">: a value of the record type Name (`record Name { ... }`).
  // The type holds the name only: the ops that make a record carry its field names
  // (record_new's `fields`, json_parse's `schema`), a record_get its field's name and index.
  irdl.type @record {
    %name = irdl.base "#builtin.string"
    irdl.parameters(name: %name)
  }

  // !workflow.field: one field's value on its way into a record_new (IRDL variadic operands
  // share one type, and fields have different types).
  irdl.type @field {
    irdl.parameters()
  }

  // `value` as a record field (a !workflow.field): the operand of a record_new. Pure; the plan has no such op
  // (a record_new there takes the values themselves).
  irdl.operation @field_value {
    %value = irdl.any
    irdl.operands(value: %value)
    %res_result = irdl.parametric @workflow::@field<>
    irdl.results(result: %res_result)
  }

  // A record value: operand i (a workflow.field) is field `fields[i]` (the declaration
  // order). Pure.
  irdl.operation @record_new {
    %values = irdl.parametric @workflow::@field<>
    irdl.operands(values: variadic %values)
    %attr_fields = irdl.base "#builtin.array"
    irdl.attributes {"fields" = %attr_fields}
    %res_result = irdl.base @workflow::@record
    irdl.results(result: %res_result)
  }

  // Field `field` of a record, at position `index` of its declaration. Pure.
  irdl.operation @record_get {
    %record = irdl.base @workflow::@record
    irdl.operands(record: %record)
    %attr_field = irdl.base "#builtin.string"
    %attr_index = irdl.base "#builtin.integer"
    irdl.attributes {"field" = %attr_field, "index" = %attr_index}
    %res_result = irdl.any
    irdl.results(result: %res_result)
  }

  // `to_json(x)`: x as compact JSON text (records as objects with their fields in
  // declaration order, lists as arrays; a NaN or infinite float is written as null). Pure.
  irdl.operation @to_json {
    %value = irdl.any
    irdl.operands(value: %value)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `json_parse(t, R)`: the value of type R (a record) the JSON text t holds, read by
  // `schema` (R's JSON Schema, docs/language.md "Records and JSON"); fields the schema does
  // not name are ignored. Text that is not JSON or does not match is a run-time error.
  irdl.operation @json_parse {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %attr_schema = irdl.base "#builtin.string"
    irdl.attributes {"schema" = %attr_schema}
    %res_result = irdl.any
    irdl.results(result: %res_result)
  }

  // A model declaration: `model NAME = hf("path")`. Placed in the module body; generate
  // and embed refer to it by symbol. kind is "decoder", "encoder" or "unknown" (the folder was
  // absent when the program was checked); hidden_size is 0 when unknown; dtype is "" when the
  // weights keep their stored type.
  irdl.operation @model {
    %attr_sym_name = irdl.base "#builtin.string"
    %attr_path = irdl.base "#builtin.string"
    %attr_architecture = irdl.base "#builtin.string"
    %attr_kind = irdl.base "#builtin.string"
    %attr_hidden_size = irdl.base "#builtin.integer"
    %attr_dtype = irdl.base "#builtin.string"
    irdl.attributes {"sym_name" = %attr_sym_name, "path" = %attr_path, "architecture" = %attr_architecture, "kind" = %attr_kind, "hidden_size" = %attr_hidden_size, "dtype" = %attr_dtype}
  }

  // A text literal.
  irdl.operation @text_constant {
    %attr_value = irdl.base "#builtin.string"
    irdl.attributes {"value" = %attr_value}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // A list literal: the operands in order (all of one type, the list's element type).
  // Zero operands build an empty list.
  irdl.operation @list_literal {
    %elements = irdl.any
    irdl.operands(elements: variadic %elements)
    %res_result = irdl.parametric @workflow::@list<%elements>
    irdl.results(result: %res_result)
  }

  // The number of elements of a list, as i64.
  irdl.operation @list_len {
    %list_elem = irdl.any
    %list = irdl.parametric @workflow::@list<%list_elem>
    irdl.operands(list: %list)
    %res_result = irdl.is i64
    irdl.results(result: %res_result)
  }

  // Element `index` of a list (0-based). An index out of range is a run-time error that
  // names this op's source location.
  irdl.operation @list_get {
    %list_elem = irdl.any
    %list = irdl.parametric @workflow::@list<%list_elem>
    %index = irdl.is i64
    irdl.operands(list: %list, index: %index)
    irdl.results(result: %list_elem)
  }

  // A new list: `list` followed by `element`. Used to collect the results of a map in
  // input order.
  irdl.operation @list_append {
    %list_elem = irdl.any
    %list = irdl.parametric @workflow::@list<%list_elem>
    irdl.operands(list: %list, element: %list_elem)
    irdl.results(result: %list)
  }

  // `lhs + rhs` on text.
  irdl.operation @concat {
    %lhs = irdl.parametric @workflow::@text<>
    %rhs = irdl.parametric @workflow::@text<>
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `lhs == rhs` on text (byte equality).
  irdl.operation @text_eq {
    %lhs = irdl.parametric @workflow::@text<>
    %rhs = irdl.parametric @workflow::@text<>
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %res_result = irdl.is i1
    irdl.results(result: %res_result)
  }

  // `lines(t)`: t split at "\n" (a trailing "\r" is removed from each line); empty lines
  // are dropped, so lines("a\n\nb\n") is ["a", "b"].
  irdl.operation @lines {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %res_result_elem = irdl.parametric @workflow::@text<>
    %res_result = irdl.parametric @workflow::@list<%res_result_elem>
    irdl.results(result: %res_result)
  }

  // `split(t, sep)`: t split at every occurrence of sep (all pieces kept, like Python's
  // str.split with an explicit separator). An empty separator splits at whitespace runs.
  irdl.operation @split {
    %text = irdl.parametric @workflow::@text<>
    %separator = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text, separator: %separator)
    %res_result_elem = irdl.parametric @workflow::@text<>
    %res_result = irdl.parametric @workflow::@list<%res_result_elem>
    irdl.results(result: %res_result)
  }

  // `join(items, sep)`: the items with sep between them.
  irdl.operation @join {
    %items_elem = irdl.parametric @workflow::@text<>
    %items = irdl.parametric @workflow::@list<%items_elem>
    %separator = irdl.parametric @workflow::@text<>
    irdl.operands(items: %items, separator: %separator)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `contains(t, part)`: whether part occurs in t.
  irdl.operation @contains {
    %text = irdl.parametric @workflow::@text<>
    %part = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text, part: %part)
    %res_result = irdl.is i1
    irdl.results(result: %res_result)
  }

  // `starts_with(t, prefix)`.
  irdl.operation @starts_with {
    %text = irdl.parametric @workflow::@text<>
    %prefix = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text, prefix: %prefix)
    %res_result = irdl.is i1
    irdl.results(result: %res_result)
  }

  // `len(t)` on text: the number of Unicode scalar values (characters).
  irdl.operation @text_len {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %res_result = irdl.is i64
    irdl.results(result: %res_result)
  }

  // `trim(t)`: t without leading and trailing whitespace.
  irdl.operation @trim {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `format(fmt, args...)`: each `{}` in fmt replaced by the next argument (already
  // converted to text); `{{` and `}}` stand for literal braces.
  irdl.operation @format {
    %format = irdl.parametric @workflow::@text<>
    %args = irdl.parametric @workflow::@text<>
    irdl.operands(format: %format, args: variadic %args)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `text(x)`: x as text. int in decimal, float as the shortest text that reads back to
  // the same value (with a ".0" when integral), bool as "true"/"false", lists as "[a, b]".
  irdl.operation @to_text {
    %value = irdl.any
    irdl.operands(value: %value)
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `int(t)` on text: the decimal integer t holds (after trimming); otherwise a run-time error.
  irdl.operation @parse_int {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %res_result = irdl.is i64
    irdl.results(result: %res_result)
  }

  // `float(t)` on text: the number t holds (after trimming); otherwise a run-time error.
  irdl.operation @parse_float {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %res_result = irdl.is f64
    irdl.results(result: %res_result)
  }

  // `argmax(xs)` on list<i64> or list<f64>: the index of the first maximum. An empty list
  // is a run-time error.
  irdl.operation @argmax {
    %list_elem = irdl.any
    %list = irdl.parametric @workflow::@list<%list_elem>
    irdl.operands(list: %list)
    %res_result = irdl.is i64
    irdl.results(result: %res_result)
  }

  // `lhs / rhs` on i64 (truncating) or f64. Division by zero is a run-time error naming
  // the source location (arith.divsi would be undefined behaviour).
  irdl.operation @div {
    %int = irdl.is i64
    %float = irdl.is f64
    %number = irdl.any_of(%int, %float)
    irdl.operands(lhs: %number, rhs: %number)
    irdl.results(result: %number)
  }

  // `lhs % rhs` on i64 (sign of the dividend); a zero divisor is a run-time error.
  irdl.operation @rem {
    %lhs = irdl.is i64
    %rhs = irdl.is i64
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %res_result = irdl.is i64
    irdl.results(result: %res_result)
  }

  // `MODEL.generate(prompt, max_tokens: N, temperature: F, stop: [...])`: text generated by
  // the decoder `model` (a symbol naming a workflow.model) after the prompt. Greedy when
  // temperature is 0. `device` is a placement pin ("" when free; "gpu"/"cpu" for a device
  // kind; "name:X" for a named device of the target). Pure when greedy (temperature 0), an
  // effect when sampled. A unit attribute `chat` marks the generate of `MODEL.chat`: its
  // prompt is a workflow.chat_prompt, tokenized without the post-processor's special
  // tokens, and the generation also ends at the template's end-of-turn token.
  irdl.operation @generate {
    %prompt = irdl.parametric @workflow::@text<>
    %stop_elem = irdl.parametric @workflow::@text<>
    %stop = irdl.parametric @workflow::@list<%stop_elem>
    irdl.operands(prompt: %prompt, stop: %stop)
    %attr_model = irdl.base "#builtin.symbol_ref"
    %attr_max_tokens = irdl.base "#builtin.integer"
    %attr_temperature = irdl.base "#builtin.float"
    %attr_device = irdl.base "#builtin.string"
    irdl.attributes {"model" = %attr_model, "max_tokens" = %attr_max_tokens, "temperature" = %attr_temperature, "device" = %attr_device}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // The prompt of `MODEL.chat(messages, …)`: the decoder `model`'s chat template (the
  // folder's `chat_template`, carried as `template` with the `bos_token`/`eos_token` texts
  // it may use, read at build) rendered over `messages` (each a `[role, content]` pair)
  // with add_generation_prompt. The workflow.generate that follows has `chat`. An effect:
  // a template may refuse a conversation (raise_exception), a run-time error.
  irdl.operation @chat_prompt {
    %message_elem = irdl.parametric @workflow::@text<>
    %message = irdl.parametric @workflow::@list<%message_elem>
    %messages = irdl.parametric @workflow::@list<%message>
    irdl.operands(messages: %messages)
    %attr_model = irdl.base "#builtin.symbol_ref"
    %attr_template = irdl.base "#builtin.string"
    %attr_bos = irdl.base "#builtin.string"
    %attr_eos = irdl.base "#builtin.string"
    irdl.attributes {"model" = %attr_model, "template" = %attr_template, "bos_token" = %attr_bos, "eos_token" = %attr_eos}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // `MODEL.embed(t)`: the pooled, L2-normalised sentence embedding of t by the encoder
  // `model`, a tensor<Hxf32> (tensor<?xf32> while the hidden size is unknown). Pure.
  irdl.operation @embed {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %attr_model = irdl.base "#builtin.symbol_ref"
    %attr_device = irdl.base "#builtin.string"
    irdl.attributes {"model" = %attr_model, "device" = %attr_device}
    %res_result = irdl.base "!builtin.tensor"
    irdl.results(result: %res_result)
  }

  // A call of a tool: `callee` names a func.func carrying {workflow.tool}; the operands are
  // its arguments (tool parameters are text). An effect.
  irdl.operation @tool_call {
    %args = irdl.parametric @workflow::@text<>
    irdl.operands(args: variadic %args)
    %attr_callee = irdl.base "#builtin.symbol_ref"
    irdl.attributes {"callee" = %attr_callee}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // Inside a tool: run `program` (looked up on PATH, no shell) with argv `args` and the
  // optional stdin; the result is stdout minus one trailing newline. A non-zero exit or a
  // timeout (timeout_ms; 0 means none) fails the attempt; `retries` more attempts follow.
  irdl.operation @exec {
    %args_elem = irdl.parametric @workflow::@text<>
    %args = irdl.parametric @workflow::@list<%args_elem>
    %stdin = irdl.parametric @workflow::@text<>
    irdl.operands(args: %args, stdin: optional %stdin)
    %attr_program = irdl.base "#builtin.string"
    %attr_timeout_ms = irdl.base "#builtin.integer"
    %attr_retries = irdl.base "#builtin.integer"
    irdl.attributes {"program" = %attr_program, "timeout_ms" = %attr_timeout_ms, "retries" = %attr_retries}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // Inside an http tool: `template` with each `{name}` (names listed in `names`, one per
  // operand, in order) replaced by the percent-encoded operand.
  irdl.operation @url_template {
    %values = irdl.parametric @workflow::@text<>
    irdl.operands(values: variadic %values)
    %attr_template = irdl.base "#builtin.string"
    %attr_names = irdl.base "#builtin.array"
    irdl.attributes {"template" = %attr_template, "names" = %attr_names}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // Inside an http tool: a JSON object whose field `keys[i]` is the text operand i (a
  // `json:` body).
  irdl.operation @json_object {
    %values = irdl.parametric @workflow::@text<>
    irdl.operands(values: variadic %values)
    %attr_keys = irdl.base "#builtin.array"
    irdl.attributes {"keys" = %attr_keys}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }

  // Inside a tool: an HTTP request (method "get" or "post") to `url`, with the optional
  // body; the result is the response body. A non-2xx status or a timeout fails the attempt.
  // Optional attributes: `content_type`, `header_names` and `header_values` (README).
  irdl.operation @http {
    %url = irdl.parametric @workflow::@text<>
    %body = irdl.parametric @workflow::@text<>
    irdl.operands(url: %url, body: optional %body)
    %attr_method = irdl.base "#builtin.string"
    %attr_timeout_ms = irdl.base "#builtin.integer"
    %attr_retries = irdl.base "#builtin.integer"
    irdl.attributes {"method" = %attr_method, "timeout_ms" = %attr_timeout_ms, "retries" = %attr_retries}
    %res_result = irdl.parametric @workflow::@text<>
    irdl.results(result: %res_result)
  }
}
