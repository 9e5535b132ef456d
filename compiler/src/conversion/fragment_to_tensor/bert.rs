//! BertModel as a sentence encoder (sentence-transformers semantics): embeddings (word +
//! absolute position + token type 0) and LayerNorm, then per layer (HF `BertLayer`):
//! x = LN(x + dense(attention(q, k, v))) and x = LN(x + dense(gelu(dense(x)))) with biased
//! linears; then mean pooling over the tokens the mask marks real, and L2 normalisation.

use super::emit::{arg, f32s, float, Emitter};
use super::Config;
use crate::verify::tensor::Shape;
use crate::weights::safetensors::Header;

/// `@<model>_encode(%ids: tensor<?xi64>, %mask: tensor<?xf32>) -> tensor<Hxf32>`.
pub fn encode(model: &str, c: &Config, header: &Header) -> Result<String, String> {
    let mut e = Emitter::new(model, header);
    let h = c.hidden;
    let (heads, d) = (c.heads, c.head_dim);
    let ids = arg("ids", Shape { dims: vec![None], elem: "i64".into() });
    let mask = arg("mask", f32s(&[None]));
    let rows = f32s(&[None, Some(h)]);
    let eps = format!("epsilon = {}", float(c.norm_eps, "f32"));
    let zero = e.splat("0", Shape { dims: vec![], elem: "i64".into() });
    let positions = e.op("tgraph.arange", &[&ids, &zero], "", Shape { dims: vec![None], elem: "i64".into() });
    let words = e.weight("embeddings.word_embeddings.weight", &[c.vocab, h]);
    let words = e.op("tgraph.embedding", &[&words, &ids], "", rows.clone());
    let position_table = e.weight("embeddings.position_embeddings.weight", &[c.max_positions, h]);
    let position_rows = e.op("tgraph.embedding", &[&position_table, &positions], "", rows.clone());
    let types = e.weight("embeddings.token_type_embeddings.weight", &[c.type_vocab, h]);
    let type0 = e.op("tgraph.slice", &[&types], "axis = 0 : i64, size = 1 : i64, start = 0 : i64", f32s(&[Some(1), Some(h)]));
    let x = e.binary("tgraph.add", &words, &position_rows);
    let x = e.binary("tgraph.add", &x, &type0);
    let norm = |e: &mut Emitter, x: &super::emit::V, prefix: &str| {
        let w = e.weight(&format!("{prefix}.weight"), &[h]);
        let b = e.weight(&format!("{prefix}.bias"), &[h]);
        e.op("tgraph.layernorm", &[x, &w, &b], &eps, x.shape.clone())
    };
    let mut x = norm(&mut e, &x, "embeddings.LayerNorm");
    let scale = float(1.0 / (d as f64).sqrt(), "f32");
    for l in 0..c.layers {
        let p = format!("encoder.layer.{l}.");
        let project = |e: &mut Emitter, name: &str| {
            let y = e.linear(&x, &format!("{p}attention.self.{name}.weight"), heads * d, Some(&format!("{p}attention.self.{name}.bias")));
            e.reshape(&y, &[None, Some(heads), Some(d)])
        };
        let q = project(&mut e, "query");
        let k = project(&mut e, "key");
        let v = project(&mut e, "value");
        let attended = e.op("tgraph.attention", &[&q, &k, &v, &mask], &format!("causal = false, scale = {scale}"), q.shape.clone());
        let attended = e.reshape(&attended, &[None, Some(heads * d)]);
        let o = e.linear(&attended, &format!("{p}attention.output.dense.weight"), h, Some(&format!("{p}attention.output.dense.bias")));
        let residual = e.binary("tgraph.add", &o, &x);
        x = norm(&mut e, &residual, &format!("{p}attention.output.LayerNorm"));
        let inner = e.linear(&x, &format!("{p}intermediate.dense.weight"), c.intermediate, Some(&format!("{p}intermediate.dense.bias")));
        let inner = e.unary("tgraph.gelu", &inner);
        let out = e.linear(&inner, &format!("{p}output.dense.weight"), h, Some(&format!("{p}output.dense.bias")));
        let residual = e.binary("tgraph.add", &out, &x);
        x = norm(&mut e, &residual, &format!("{p}output.LayerNorm"));
    }
    // Mean pooling over real tokens: sum(x * mask) / sum(mask), then x / |x|.
    let column = e.reshape(&mask, &[None, Some(1)]);
    let masked = e.binary("tgraph.mul", &x, &column);
    let summed = e.op("tgraph.reduce_sum", &[&masked], "axes = array<i64: 0>", f32s(&[Some(h)]));
    let count = e.op("tgraph.reduce_sum", &[&mask], "", f32s(&[]));
    let mean = e.binary("tgraph.div", &summed, &count);
    let length = e.op("tgraph.norm", &[&mean], "", f32s(&[]));
    let embedding = e.binary("tgraph.div", &mean, &length);
    if let Some(error) = e.error.take() {
        return Err(error);
    }
    let attrs = format!("tgraph.entry = \"encode\", tgraph.model = @{model}, {}", c.attribute_text());
    Ok(e.finish(&format!("{model}_encode"), &[("ids", ids.shape.clone()), ("mask", mask.shape.clone())], &[&embedding], &attrs))
}
