//! Generated workloads for tests and the benchmark: agent-like workflows (LLM calls as
//! prefill → decode, host steps, tool fan-outs) and small random DAGs. Seeded and
//! deterministic (a fixed xorshift generator, no global RNG).

use crate::graph::{Dtype, Edge, Fragment, FragmentKind, Profile, Workload};
use crate::llm::DecoderConfig;

/// A small deterministic random number generator (xorshift64*).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `[0, n)`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

struct Builder {
    w: Workload,
}

impl Builder {
    fn add(
        &mut self,
        name: String,
        kind: FragmentKind,
        profile: Profile,
        model: Option<usize>,
    ) -> usize {
        self.w.fragments.push(Fragment {
            name,
            kind,
            profile,
            model,
            pin: None,
            weight: 1.0,
            objective: None,
        });
        self.w.fragments.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, bytes: f64) {
        self.w.edges.push(Edge { from, to, bytes });
    }

    fn host(&mut self, name: String, us: f64) -> usize {
        // A host step: a few microseconds of text work (flops at the f32 rate).
        let p = Profile {
            flops: us * 1e4,
            bytes_read: us * 1e3,
            ..Default::default()
        };
        self.add(name, FragmentKind::Host, p, None)
    }
}

/// Adds an LLM call (prefill → decode) of `model` and returns (prefill, decode).
pub fn llm_call(
    w: &mut Workload,
    config: &DecoderConfig,
    model: usize,
    prompt: f64,
    generated: f64,
    label: &str,
) -> (usize, usize) {
    let mut b = Builder {
        w: std::mem::take(w),
    };
    let p = b.add(
        format!("prefill {label}"),
        FragmentKind::Prefill,
        config.prefill_profile(prompt),
        Some(model),
    );
    let d = b.add(
        format!("decode {label}"),
        FragmentKind::Decode,
        config.decode_profile(prompt, generated),
        Some(model),
    );
    b.edge(p, d, config.kv_bytes_per_token() * prompt);
    *w = b.w;
    (p, d)
}

/// An agent-like workflow of about `fragments` fragments: independent sessions (one per
/// ~100 fragments), each a chain of steps `host → prefill → decode → host → tools (fan-out
/// of 1–3) → host`; 30% of steps call a 70B model, the rest an 8B model.
pub fn agent_workflow(fragments: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let big = DecoderConfig::llama3_70b();
    let small = DecoderConfig::llama3_8b();
    let mut b = Builder {
        w: Workload::default(),
    };
    b.w.models.push(big.model_needs("llama-70b"));
    b.w.models.push(small.model_needs("llama-8b"));
    let sessions = (fragments / 100).max(1);
    let mut tails: Vec<Option<usize>> = vec![None; sessions];
    let mut step = 0;
    while b.w.fragments.len() < fragments {
        let s = step % sessions;
        let label = format!("s{s}.{}", step / sessions);
        let h = b.host(format!("prompt {label}"), rng.range(5.0, 50.0));
        if let Some(t) = tails[s] {
            b.edge(t, h, 4e3);
        }
        let (m, cfg) = if rng.unit() < 0.3 {
            (0, &big)
        } else {
            (1, &small)
        };
        let prompt = rng.range(200.0, 4000.0).round();
        let generated = rng.range(50.0, 500.0).round();
        let (p, d) = llm_call(&mut b.w, cfg, m, prompt, generated, &label);
        b.edge(h, p, prompt * 4.0);
        let parse = b.host(format!("parse {label}"), rng.range(5.0, 50.0));
        b.edge(d, parse, generated * 4.0);
        let join = if rng.unit() < 0.7 {
            let k = 1 + rng.below(3);
            let join = b.w.fragments.len() + k;
            let mut tools = Vec::new();
            for i in 0..k {
                let p = Profile {
                    fixed_seconds: rng.range(0.05, 0.5),
                    flops: 1e6,
                    bytes_read: 1e5,
                    ..Default::default()
                };
                let t = b.add(format!("tool {label}.{i}"), FragmentKind::Tool, p, None);
                b.edge(parse, t, 1e3);
                tools.push(t);
            }
            let j = b.host(format!("join {label}"), rng.range(5.0, 50.0));
            debug_assert_eq!(j, join);
            for t in tools {
                b.edge(t, j, 1e4);
            }
            j
        } else {
            parse
        };
        tails[s] = Some(join);
        step += 1;
    }
    b.w
}

/// A random DAG of `n` fragments for oracle comparisons: LLM calls of a 1B-class model,
/// compute kernels, host steps and tool calls; each fragment depends on each earlier one
/// with probability 0.3 (at most 3 producers).
pub fn random_dag(n: usize, seed: u64) -> Workload {
    let mut rng = Rng::new(seed);
    let cfg = DecoderConfig {
        hidden: 2048.0,
        layers: 16,
        heads: 32.0,
        kv_heads: 8.0,
        intermediate: 8192.0,
        vocab: 128256.0,
        tied_embeddings: true,
        dtype: Dtype::Bf16,
    };
    let mut b = Builder {
        w: Workload::default(),
    };
    b.w.models.push(cfg.model_needs("llama-1b"));
    let mut i = 0;
    while b.w.fragments.len() < n {
        let left = n - b.w.fragments.len();
        let r = rng.unit();
        let first = b.w.fragments.len();
        if r < 0.3 && left >= 2 {
            let prompt = rng.range(100.0, 2000.0).round();
            llm_call(
                &mut b.w,
                &cfg,
                0,
                prompt,
                rng.range(20.0, 200.0).round(),
                &format!("c{i}"),
            );
        } else if r < 0.55 {
            let p = Profile {
                flops: rng.range(1e9, 1e13),
                bytes_read: rng.range(1e6, 1e10),
                dtype: Dtype::F32,
                ..Default::default()
            };
            b.add(format!("compute c{i}"), FragmentKind::Compute, p, None);
        } else if r < 0.8 {
            b.host(format!("host c{i}"), rng.range(10.0, 1000.0));
        } else {
            let p = Profile {
                fixed_seconds: rng.range(0.01, 0.2),
                ..Default::default()
            };
            b.add(format!("tool c{i}"), FragmentKind::Tool, p, None);
        }
        // Producers for the new block's first fragment.
        let mut producers = 0;
        for q in (0..first).rev() {
            if producers < 3 && rng.unit() < 0.3 {
                b.edge(q, first, rng.range(1e3, 1e8));
                producers += 1;
            }
        }
        i += 1;
    }
    b.w.fragments.truncate(n);
    b.w.edges.retain(|e| e.from < n && e.to < n);
    b.w
}

/// The chain `host → prefill → decode → host` of `config` (model 0) with the given
/// prompt and generation lengths.
pub fn single_llm_request(
    config: &DecoderConfig,
    name: &str,
    prompt: f64,
    generated: f64,
) -> Workload {
    let mut b = Builder {
        w: Workload {
            models: vec![config.model_needs(name)],
            ..Default::default()
        },
    };
    let h = b.host("tokenize".into(), 20.0);
    let (p, d) = llm_call(&mut b.w, config, 0, prompt, generated, name);
    b.edge(h, p, prompt * 4.0);
    let out = b.host("detokenize".into(), 20.0);
    b.edge(d, out, generated * 4.0);
    b.w
}

/// A fan-out of independent LLM calls joined by one host step: `big` calls of Llama 3
/// 70B and `small` calls of Llama 3 8B (models 0 and 1), each `host → prefill → decode`
/// with a `prompt`-token prompt and `generated` tokens, all feeding `join`. The shape of a
/// program that asks several models at once (issue 11's mixed-small case).
pub fn mixed_fanout(big: usize, small: usize, prompt: f64, generated: f64) -> Workload {
    let configs = [DecoderConfig::llama3_70b(), DecoderConfig::llama3_8b()];
    let mut b = Builder {
        w: Workload::default(),
    };
    b.w.models.push(configs[0].model_needs("llama-70b"));
    b.w.models.push(configs[1].model_needs("llama-8b"));
    let mut decodes = Vec::new();
    for (i, m) in std::iter::repeat_n(0, big).chain(std::iter::repeat_n(1, small)).enumerate() {
        let h = b.host(format!("prompt {i}"), 10.0);
        let (p, d) = llm_call(&mut b.w, &configs[m], m, prompt, generated, &format!("{i}"));
        b.edge(h, p, prompt * 4.0);
        decodes.push(d);
    }
    let j = b.host("join".into(), 10.0);
    for d in decodes {
        b.edge(d, j, generated * 4.0);
    }
    b.w
}

/// A random mixed-model graph for the exact-solver comparisons: 2–4 LLM calls, each of
/// Llama 3 70B (probability `p_big`) or 8B, with prompts of 100–2000 tokens and 32–512
/// generated; calls start from the request or from an earlier call's output (a chain or a
/// fan-out), and one host step joins them. Models 0 (70B) and 1 (8B).
pub fn mixed_models(seed: u64, p_big: f64) -> Workload {
    let mut rng = Rng::new(seed);
    let configs = [DecoderConfig::llama3_70b(), DecoderConfig::llama3_8b()];
    let mut b = Builder {
        w: Workload::default(),
    };
    b.w.models.push(configs[0].model_needs("llama-70b"));
    b.w.models.push(configs[1].model_needs("llama-8b"));
    let calls = 2 + rng.below(3);
    let mut decodes: Vec<usize> = Vec::new();
    let mut consumed = vec![false; calls];
    for i in 0..calls {
        let m = if rng.unit() < p_big { 0 } else { 1 };
        let prompt = rng.range(100.0, 2000.0).round();
        let generated = rng.range(32.0, 512.0).round();
        let (p, d) = llm_call(&mut b.w, &configs[m], m, prompt, generated, &format!("{i}"));
        if i > 0 && rng.unit() < 0.3 {
            let from = rng.below(i);
            consumed[from] = true;
            let bytes = b.w.fragments[decodes[from]].profile.tokens * 4.0;
            b.edge(decodes[from], p, bytes);
        }
        decodes.push(d);
    }
    let j = b.host("join".into(), 10.0);
    for (i, d) in decodes.into_iter().enumerate() {
        if !consumed[i] {
            let bytes = b.w.fragments[d].profile.tokens * 4.0;
            b.edge(d, j, bytes);
        }
    }
    b.w
}
