// The tensor-level dialect `tgraph` (upstream owns `tensor`): value-semantics ops on builtin
// tensor types (see README.md beside this file). Scalars inside tensor functions are 0-d
// tensors; constants are upstream arith.constant with a dense attribute. IRDL checks that
// operands and results are tensors and that attributes have the right kind; shapes, element
// types and attribute values are checked by agentc's own verifier (compiler/src/verify/
// tensor.rs). Each operand and attribute has its own constraint value (one value used twice
// would mean "the same type").
irdl.dialect @tgraph {
  // Elementwise lhs + rhs with NumPy broadcasting (a 0-d tensor is a scalar).
  irdl.operation @add {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs - rhs with NumPy broadcasting.
  irdl.operation @sub {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs * rhs with NumPy broadcasting.
  irdl.operation @mul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise lhs / rhs with NumPy broadcasting (IEEE division for floats).
  irdl.operation @div {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise negation.
  irdl.operation @neg {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise e^x.
  irdl.operation @exp {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise square root.
  irdl.operation @sqrt {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Matrix product over the last two dimensions, batched over the leading ones:
  // [..., m, k] x [..., k, n] -> [..., m, n]. A 1-D lhs is a row vector, a 1-D rhs a column.
  irdl.operation @matmul {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The sum of all elements, as a 0-d tensor. Reductions take an optional `axes` attribute
  // (dense_array<i64>; IRDL has no optional attributes, so agentc's verifier checks it):
  // with it, only those dimensions are reduced (and dropped from the result).
  irdl.operation @reduce_sum {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The mean of all elements, as a 0-d tensor.
  irdl.operation @reduce_mean {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The largest element, as a 0-d tensor.
  irdl.operation @reduce_max {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The L2 norm of all elements (sqrt of the sum of squares), as a 0-d tensor.
  irdl.operation @norm {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Softmax over the last dimension (numerically stable: max-subtracted).
  irdl.operation @softmax {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Permutes the dimensions: result dim i is input dim permutation[i].
  irdl.operation @transpose {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %attr_permutation = irdl.base "#builtin.dense_array"
    irdl.attributes {"permutation" = %attr_permutation}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The same elements in row-major order with the result type's shape.
  irdl.operation @reshape {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise x * sigmoid(x) (SiLU, Llama's MLP activation).
  irdl.operation @silu {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Elementwise 0.5 * x * (1 + erf(x / sqrt(2))) (the exact GELU BERT uses).
  irdl.operation @gelu {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // RMS normalisation over the last dimension (HF LlamaRMSNorm):
  // x / sqrt(mean(x^2) + epsilon) * weight; input [..., H], weight [H].
  irdl.operation @rmsnorm {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    irdl.operands(input: %input, weight: %weight)
    %epsilon = irdl.base "#builtin.float"
    irdl.attributes {"epsilon" = %epsilon}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Layer normalisation over the last dimension (HF BertLayerNorm):
  // (x - mean) / sqrt(var + epsilon) * weight + bias (biased variance); all of [H].
  irdl.operation @layernorm {
    %input = irdl.base "!builtin.tensor"
    %weight = irdl.base "!builtin.tensor"
    %bias = irdl.base "!builtin.tensor"
    irdl.operands(input: %input, weight: %weight, bias: %bias)
    %epsilon = irdl.base "#builtin.float"
    irdl.attributes {"epsilon" = %epsilon}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Rotary position embedding, HF Llama rotate-half convention: input [T, heads, D],
  // positions [T] (i64). With inv_freq[i] = theta^(-2i/D) (i < D/2), angle = pos * inv_freq
  // repeated twice along D: x * cos(angle) + rotate_half(x) * sin(angle), where
  // rotate_half(x) = concat(-x[D/2:], x[:D/2]). An optional `inv_freq` (array<f32>, D/2
  // positive entries; checked by agentc's verifier) replaces theta^(-2i/D): scaled RoPE.
  irdl.operation @rope {
    %input = irdl.base "!builtin.tensor"
    %positions = irdl.base "!builtin.tensor"
    irdl.operands(input: %input, positions: %positions)
    %theta = irdl.base "#builtin.float"
    irdl.attributes {"theta" = %theta}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Scaled dot-product attention: q [T, Hq, D], k and v [S, Hkv, D], Hq a multiple of Hkv
  // (grouped-query: query head h reads KV head h / (Hq / Hkv)). softmax(scale * q.k) . v,
  // result [T, Hq, D]. With causal (a bool), query t sees keys s <= t + S - T. The optional
  // key_mask [S] (f32, 1 = attend, 0 = padding) hides padded keys.
  irdl.operation @attention {
    %q = irdl.base "!builtin.tensor"
    %k = irdl.base "!builtin.tensor"
    %v = irdl.base "!builtin.tensor"
    %key_mask = irdl.base "!builtin.tensor"
    irdl.operands(q: %q, k: %k, v: %v, key_mask: optional %key_mask)
    %causal = irdl.base "#builtin.integer"
    %scale = irdl.base "#builtin.float"
    irdl.attributes {"causal" = %causal, "scale" = %scale}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Causal attention over layer `layer` of a KV cache: q [T, Hq, D] holds the tokens at
  // absolute positions position .. position+T-1; k_cache and v_cache are [L, C, Hkv, D]
  // (C slots); query t sees cache slots 0 ..= position + t. The new tokens' keys and values
  // must already be in the cache (kv_write first). Result [T, Hq, D].
  irdl.operation @attention_cached {
    %q = irdl.base "!builtin.tensor"
    %k_cache = irdl.base "!builtin.tensor"
    %v_cache = irdl.base "!builtin.tensor"
    %position = irdl.base "!builtin.tensor"
    irdl.operands(q: %q, k_cache: %k_cache, v_cache: %v_cache, position: %position)
    %layer = irdl.base "#builtin.integer"
    %scale = irdl.base "#builtin.float"
    irdl.attributes {"layer" = %layer, "scale" = %scale}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // The KV cache `cache` [L, C, Hkv, D] with new [T, Hkv, D] written into layer `layer` at
  // slots position .. position+T-1 (position: a 0-d i64 tensor); the other slots unchanged.
  irdl.operation @kv_write {
    %cache = irdl.base "!builtin.tensor"
    %new = irdl.base "!builtin.tensor"
    %position = irdl.base "!builtin.tensor"
    irdl.operands(cache: %cache, new: %new, position: %position)
    %layer = irdl.base "#builtin.integer"
    irdl.attributes {"layer" = %layer}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Gathers rows of table [V, H] by ids [...] (i64): result [..., H].
  irdl.operation @embedding {
    %table = irdl.base "!builtin.tensor"
    %ids = irdl.base "!builtin.tensor"
    irdl.operands(table: %table, ids: %ids)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // Concatenation of lhs and rhs along dimension `axis` (the other dimensions agree).
  irdl.operation @concat {
    %lhs = irdl.base "!builtin.tensor"
    %rhs = irdl.base "!builtin.tensor"
    irdl.operands(lhs: %lhs, rhs: %rhs)
    %axis = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // `size` consecutive entries of dimension `axis` from `start` (a negative start counts
  // from the end: -1 is the last entry); the other dimensions unchanged.
  irdl.operation @slice {
    %input = irdl.base "!builtin.tensor"
    irdl.operands(input: %input)
    %axis = irdl.base "#builtin.integer"
    %start = irdl.base "#builtin.integer"
    %size = irdl.base "#builtin.integer"
    irdl.attributes {"axis" = %axis, "start" = %start, "size" = %size}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // start, start+1, ... (i64), one per entry of the 1-D `like`: result [N] where like is [N].
  // start is a 0-d i64 tensor. Token positions for rope and position embeddings.
  irdl.operation @arange {
    %like = irdl.base "!builtin.tensor"
    %start = irdl.base "!builtin.tensor"
    irdl.operands(like: %like, start: %start)
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }

  // A named parameter of a model: the tensor `name` in the model's model.safetensors
  // (model: the symbol of a workflow.model). The result type is the tensor's header shape
  // and dtype; the runtime binds it to the memory-mapped file.
  irdl.operation @weight {
    %name = irdl.base "#builtin.string"
    %model = irdl.base "#builtin.symbol_ref"
    irdl.attributes {"name" = %name, "model" = %model}
    %result = irdl.base "!builtin.tensor"
    irdl.results(result: %result)
  }
}
