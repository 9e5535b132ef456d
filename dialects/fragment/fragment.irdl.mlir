// The fragment dialect: schedulable units with resource profiles (see README.md beside this
// file). The planner (convert-workflow-to-fragment) splits every model call into units
// with opposite resource profiles: a decoder's generate becomes fragment.prefill (prompt
// processing, compute-bound) and fragment.decode (token generation, memory-bound), an
// encoder's embed becomes fragment.encode, a tool call becomes fragment.tool. Host tasks
// (text built-ins) and compute tasks (calls of tensor functions) stay the ops they were and
// carry {fragment.kind = "host" | "compute"}: IRDL variadic operands share one type, and
// those ops take mixed types. Every fragment carries its profile and, after
// fragment-schedule, its placement as discardable fragment.* attributes (README.md lists
// them); structured control (scf.if/while/for) carries expected trip counts and branch
// weights the same way.
irdl.dialect @fragment {
  // !fragment.kv: the KV cache a prefill leaves for its decode (one generate call's).
  irdl.type @kv {
    irdl.parameters()
  }

  // Prompt processing of `model` (a workflow.model symbol) over `prompt`: runs the decoder
  // over all prompt tokens at once and returns the KV cache. Compute-bound.
  irdl.operation @prefill {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(prompt: %text)
    %model = irdl.base "#builtin.symbol_ref"
    %device = irdl.base "#builtin.string"
    irdl.attributes {"model" = %model, "device" = %device}
    %kv = irdl.parametric @fragment::@kv<>
    irdl.results(kv: %kv)
  }

  // Token generation from a prefill's KV cache: up to max_tokens tokens, greedy when
  // temperature is 0, stopping at EOS or a stop string; returns the new text.
  // Memory-bandwidth-bound: every step reads all weights and the KV cache.
  irdl.operation @decode {
    %kv = irdl.parametric @fragment::@kv<>
    %stop_elem = irdl.parametric @workflow::@text<>
    %stop = irdl.parametric @workflow::@list<%stop_elem>
    irdl.operands(kv: %kv, stop: %stop)
    %model = irdl.base "#builtin.symbol_ref"
    %max_tokens = irdl.base "#builtin.integer"
    %temperature = irdl.base "#builtin.float"
    %device = irdl.base "#builtin.string"
    irdl.attributes {"model" = %model, "max_tokens" = %max_tokens, "temperature" = %temperature, "device" = %device}
    %text = irdl.parametric @workflow::@text<>
    irdl.results(result: %text)
  }

  // Moves a KV cache between devices: inserted by fragment-schedule where a prefill and
  // its decode land on different devices. `bytes` is the cache size.
  irdl.operation @kv_transfer {
    %kv = irdl.parametric @fragment::@kv<>
    irdl.operands(kv: %kv)
    %from = irdl.base "#builtin.string"
    %to = irdl.base "#builtin.string"
    %bytes = irdl.base "#builtin.integer"
    irdl.attributes {"from" = %from, "to" = %to, "bytes" = %bytes}
    %out = irdl.parametric @fragment::@kv<>
    irdl.results(result: %out)
  }

  // An encoder model over `text`: the pooled, L2-normalised embedding.
  irdl.operation @encode {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(text: %text)
    %model = irdl.base "#builtin.symbol_ref"
    %device = irdl.base "#builtin.string"
    irdl.attributes {"model" = %model, "device" = %device}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // A tool call (`callee` is a {workflow.tool} function): runs on a CPU host, mostly
  // waiting on the program or the network.
  irdl.operation @tool {
    %text = irdl.parametric @workflow::@text<>
    irdl.operands(args: variadic %text)
    %callee = irdl.base "#builtin.symbol_ref"
    irdl.attributes {"callee" = %callee}
    %result = irdl.parametric @workflow::@text<>
    irdl.results(result: %result)
  }
}
