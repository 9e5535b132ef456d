//! The search: calibration statistics on the calibration prompts, then compression plans
//! cheapest first (by bytes), each student measured against the teacher on the held-out
//! prompts, until one meets the budget (or, with `all`, every plan measured and the
//! cheapest that meets it chosen).

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::forward::{Cache, LINEARS, Model, input_slot};
use crate::hessian::Hessians;
use crate::measure::{Figures, Reference, prompt_kl, prompt_logp};
use crate::quant::{Format, rtn};
use crate::recovery::{Recovery, RecoveryOptions, recover};
use crate::student::{Method, Plan, Student, build, without_layers};

/// A figure a budget can bound.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Metric {
    /// `agreement` (share of identical continuations), bounded below.
    Agreement,
    /// `divergence` (mean first-divergence position), bounded below.
    Divergence,
    /// `kl`, bounded above.
    Kl,
    /// `ppl_ratio` (student / teacher perplexity), bounded above.
    PplRatio,
}

/// A budget: every clause must hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Budget {
    /// `(metric, bound)`: `>=` for agreement and divergence, `<=` for kl and ppl_ratio.
    pub clauses: Vec<(Metric, f64)>,
}

/// Parses `agreement>=0.95,kl<=0.05` (also `divergence>=N`, `ppl_ratio<=R`).
pub fn parse_budget(spec: &str) -> Result<Budget, String> {
    let mut clauses = Vec::new();
    for clause in spec.split(',').map(str::trim) {
        let (name, op, value) = if let Some((n, v)) = clause.split_once(">=") {
            (n.trim(), ">=", v.trim())
        } else if let Some((n, v)) = clause.split_once("<=") {
            (n.trim(), "<=", v.trim())
        } else {
            return Err(format!("budget clause `{clause}` is not NAME>=VALUE or NAME<=VALUE"));
        };
        let (metric, want) = match name {
            "agreement" => (Metric::Agreement, ">="),
            "divergence" => (Metric::Divergence, ">="),
            "kl" => (Metric::Kl, "<="),
            "ppl_ratio" => (Metric::PplRatio, "<="),
            _ => return Err(format!("budget clause `{clause}`: unknown figure `{name}` (agreement, divergence, kl, ppl_ratio)")),
        };
        if op != want {
            return Err(format!("budget clause `{clause}`: `{name}` is bounded with `{want}`"));
        }
        let bound: f64 = value.parse().ok().filter(|v: &f64| v.is_finite() && *v >= 0.0).ok_or_else(|| {
            format!("budget clause `{clause}`: `{value}` is not a non-negative number")
        })?;
        clauses.push((metric, bound));
    }
    Ok(Budget { clauses })
}

impl Budget {
    /// Whether `f` meets every clause.
    pub fn met(&self, f: &Figures) -> bool {
        self.clauses.iter().all(|&(m, b)| match m {
            Metric::Agreement => f.agreement >= b,
            Metric::Divergence => f.first_divergence >= b,
            Metric::Kl => f.kl <= b,
            Metric::PplRatio => f.perplexity / f.teacher_perplexity <= b,
        })
    }
}

/// One plan tried.
#[derive(Clone, Debug, Serialize)]
pub struct Tried {
    /// The plan's name.
    pub plan: String,
    /// Bytes of the student's weights.
    pub bytes: usize,
    /// Teacher f32 bytes / student bytes.
    pub shrink: f64,
    /// Bits per weight of the linear layers.
    pub linear_bits: f64,
    /// Linear layers kept at Q8_0 (mixed plans).
    pub q8_layers: usize,
    /// The teacher's decoder layers dropped.
    pub dropped_layers: Vec<usize>,
    /// What decides the student's kernels and their speed (formats, layers); plans that
    /// differ only in rounding (or in recovered norms) share it.
    pub kernel_key: String,
    /// The recovery of its norms (`+kd` plans): the calibration KL before and after.
    pub recovery: Option<Recovery>,
    /// The measured figures.
    pub figures: Figures,
    /// Whether they meet the budget.
    pub meets: bool,
}

/// The result of the search.
pub struct Outcome {
    /// Every plan measured, in the order tried.
    pub tried: Vec<Tried>,
    /// The chosen student (the cheapest that meets the budget) and its index in `tried`.
    pub chosen: Option<(usize, Student)>,
    /// Calibration and held-out prompt counts.
    pub split: (usize, usize),
    /// Each decoder layer's effect when dropped alone: the calibration prompts' mean KL of
    /// the teacher without it against the teacher, by layer index.
    pub layer_effect: Vec<f64>,
}

/// Relative reconstruction error of RTN int4 per linear layer, `tr(ΔW H ΔWᵀ) / tr(W H Wᵀ)`.
fn sensitivity(teacher: &Checkpoint, h: &Hessians) -> Vec<(f64, String)> {
    let mut out = Vec::new();
    for l in 0..teacher.shape.layers {
        for lin in LINEARS {
            let name = format!("model.layers.{l}.{lin}.weight");
            let w = &teacher.tensors[&name];
            let (rows, cols) = w.rows_cols();
            let q = rtn(Format::Q4_1, &w.data, rows, cols);
            let (hm, _) = &h.h[l][input_slot(lin)];
            let quad = |v: &dyn Fn(usize) -> f64, r: usize| -> f64 {
                let row: Vec<f64> = (0..cols).map(|c| v(r * cols + c)).collect();
                (0..cols).map(|i| row[i] * (0..cols).map(|j| hm[i * cols + j] * row[j]).sum::<f64>()).sum()
            };
            let (mut num, mut den) = (0.0, 0.0);
            for r in 0..rows {
                num += quad(&|k| (w.data[k] - q.values[k]) as f64, r);
                den += quad(&|k| w.data[k] as f64, r);
            }
            out.push((num / den.max(f64::MIN_POSITIVE), name));
        }
    }
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    out
}

/// How many layers the structural plans drop: 1, 2, 4, … up to a quarter of the layers
/// (one for a model of fewer than eight layers, none for a one-layer model).
fn drop_counts(layers: usize) -> Vec<usize> {
    let most = (layers / 4).max(usize::from(layers > 1));
    std::iter::successors(Some(1usize), |k| Some(k * 2)).take_while(|&k| k <= most).collect()
}

/// The plans, cheapest (bytes) first; at equal size in the order listed (RTN, the cheaper
/// to make, before GPTQ): weight-only quantization (Q4_0, Q4_1 by RTN and GPTQ; GPTQ Q4_1
/// with the most sensitive quarter of the linear layers at Q8_0; Q8_0), and the structural
/// plans, which drop the `k` layers of least effect (`layer_effect`, lowest first) from
/// the Q4_1 GPTQ and the Q8_0 students. With `recover`, each int4 GPTQ plan is followed by
/// the same student with its norms fine-tuned on the teacher's logits (`+kd`).
pub fn plans(teacher: &Checkpoint, h: &Hessians, layer_effect: &[f64], recover: bool) -> Vec<Plan> {
    let simple = |name: &str, method, default| Plan { name: name.into(), method, default, ..Plan::default() };
    let sensitive = sensitivity(teacher, h);
    let quarter = sensitive.len().div_ceil(4);
    let overrides = sensitive.into_iter().take(quarter).map(|(_, n)| (n, Format::Q8_0)).collect();
    let mut plans = vec![
        simple("q4_0-rtn", Method::Rtn, Format::Q4_0),
        simple("q4_0-gptq", Method::Gptq, Format::Q4_0),
        simple("q4_1-rtn", Method::Rtn, Format::Q4_1),
        simple("q4_1-gptq", Method::Gptq, Format::Q4_1),
        Plan { name: "mixed-gptq".into(), method: Method::Gptq, default: Format::Q4_1, overrides, ..Plan::default() },
        simple("q8_0-rtn", Method::Rtn, Format::Q8_0),
    ];
    let mut order: Vec<usize> = (0..layer_effect.len()).collect();
    order.sort_by(|&a, &b| layer_effect[a].total_cmp(&layer_effect[b]).then(a.cmp(&b)));
    for k in drop_counts(teacher.shape.layers) {
        let mut drop = order[..k].to_vec();
        drop.sort_unstable();
        for (base, method, format) in [("q4_1-gptq", Method::Gptq, Format::Q4_1), ("q8_0-rtn", Method::Rtn, Format::Q8_0)] {
            plans.push(Plan { name: format!("{base}-drop{k}"), method, default: format, drop: drop.clone(), ..Plan::default() });
        }
    }
    if recover {
        plans = plans
            .into_iter()
            .flat_map(|p| {
                let kd = (p.method == Method::Gptq && p.default != Format::Q8_0 && p.overrides.is_empty())
                    .then(|| Plan { name: format!("{}+kd", p.name), recover: true, ..p.clone() });
                std::iter::once(p).chain(kd)
            })
            .collect();
    }
    let mut sized: Vec<(usize, Plan)> = plans.into_iter().map(|p| (p.bytes(teacher), p)).collect();
    sized.sort_by_key(|(bytes, _)| *bytes);
    sized.into_iter().map(|(_, p)| p).collect()
}

/// Each layer's effect when dropped alone (see [`Outcome::layer_effect`]).
fn layer_effects(teacher: &Checkpoint, reference: &[Vec<Vec<f64>>], calib: &[Vec<u32>]) -> Result<Vec<f64>, String> {
    if teacher.shape.layers < 2 {
        return Ok(Vec::new());
    }
    (0..teacher.shape.layers)
        .map(|l| {
            let (shape, tensors) = without_layers(teacher, &[l]);
            prompt_kl(reference, &Model::new(&shape, &tensors)?, calib)
        })
        .collect()
}

/// `kernel_key` of a plan: the linear layers' formats and the layer count.
fn kernel_key(plan: &Plan, layers: usize) -> String {
    let mut key = format!("{}x{}", layers - plan.drop.len(), plan.default.name());
    if !plan.overrides.is_empty() {
        // FNV-1a over the overridden names and formats: equal sets, equal keys.
        let mut hash: u32 = 0x811c_9dc5;
        for (name, format) in &plan.overrides {
            for b in name.bytes().chain(format.name().bytes()).chain([0]) {
                hash = (hash ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
        key += &format!("+{}-{hash:08x}", plan.overrides.len());
    }
    key
}

/// Runs the search over `prompts` (token ids; at least two: the last quarter, at least
/// one, is held out), with `tokens`-token continuations. `each` sees every plan's student once measured.
/// With `int8_activations` every student is measured as it runs with `activations:
/// "int8"` ([`Model::with_int8_activations`]); the teacher keeps its exact kernels.
#[allow(clippy::too_many_arguments)]
pub fn search(
    teacher: &Checkpoint,
    prompts: &[Vec<u32>],
    budget: &Budget,
    tokens: usize,
    all: bool,
    int8_activations: bool,
    recovery: Option<&RecoveryOptions>,
    each: &mut dyn FnMut(&Tried, &Student) -> Result<(), String>,
) -> Result<Outcome, String> {
    if prompts.len() < 2 {
        return Err("the calibration needs at least two prompts (one is held out)".into());
    }
    let held = (prompts.len() / 4).max(1);
    let (calib, heldout) = prompts.split_at(prompts.len() - held);
    let model = Model::new(&teacher.shape, &teacher.tensors)?;
    let mut h = Hessians::new(teacher.shape.layers);
    eprintln!("distill: calibration statistics over {} prompts", calib.len());
    for p in calib {
        model.forward(p, &mut Cache::default(), Some(&mut h))?;
    }
    eprintln!("distill: ranking the {} layers by their effect when dropped", teacher.shape.layers);
    let layer_effect = layer_effects(teacher, &prompt_logp(&model, calib)?, calib)?;
    eprintln!("distill: the teacher on {} held-out prompts", heldout.len());
    let reference = Reference::new(&model, heldout, tokens)?;
    let mut tried = Vec::new();
    let mut chosen: Option<(usize, Student)> = None;
    for plan in plans(teacher, &h, &layer_effect, recovery.is_some()) {
        eprintln!("distill: plan `{}`", plan.name);
        let mut student = build(teacher, &plan, Some(&h))?;
        let recovered = match recovery.filter(|_| plan.recover) {
            Some(options) => {
                let shape = student.shape.clone();
                Some(recover(&model, &mut student, &shape, calib, options)?)
            }
            None => None,
        };
        let mut measured = Model::new(&student.shape, &student.tensors)?;
        if int8_activations {
            measured = measured.with_int8_activations(crate::quant::GROUP);
        }
        let figures = reference.measure(&measured)?;
        let meets = budget.met(&figures);
        eprintln!(
            "distill: plan `{}`: {} bytes, agreement {:.3}, divergence {:.2}, kl {:.5}, ppl {:.3}{}",
            plan.name,
            student.bytes,
            figures.agreement,
            figures.first_divergence,
            figures.kl,
            figures.perplexity,
            recovered.as_ref().map_or(String::new(), |r| format!(", calibration kl {:.5} -> {:.5}", r.kl_before, r.kl_after))
        );
        tried.push(Tried {
            plan: plan.name.clone(),
            bytes: student.bytes,
            shrink: student.f32_bytes as f64 / student.bytes as f64,
            linear_bits: student.linear_bits,
            q8_layers: plan.overrides.len(),
            dropped_layers: plan.drop.clone(),
            kernel_key: kernel_key(&plan, teacher.shape.layers),
            recovery: recovered,
            figures,
            meets,
        });
        each(tried.last().expect("just pushed"), &student)?;
        if meets && chosen.as_ref().is_none_or(|(i, _)| tried[*i].bytes > student.bytes) {
            chosen = Some((tried.len() - 1, student));
            if !all {
                break;
            }
        }
    }
    Ok(Outcome { tried, chosen, split: (calib.len(), heldout.len()), layer_effect })
}

/// The table printed on stdout: one row per plan tried.
pub fn table(outcome: &Outcome, tokens: usize) -> String {
    let mut s = format!(
        "{:<20} {:>10} {:>7} {:>6} {:>9} {:>10} {:>9} {:>8} {}\n",
        "plan", "bytes", "shrink", "bits", "agreement", "divergence", "kl", "ppl", "budget"
    );
    for (i, t) in outcome.tried.iter().enumerate() {
        let mark = match &outcome.chosen {
            Some((c, _)) if *c == i => "met, chosen",
            _ if t.meets => "met",
            _ => "missed",
        };
        s += &format!(
            "{:<20} {:>10} {:>6.2}x {:>6.2} {:>9.3} {:>10.2} {:>9.5} {:>8.3} {}\n",
            t.plan, t.bytes, t.shrink, t.linear_bits, t.figures.agreement, t.figures.first_divergence, t.figures.kl, t.figures.perplexity, mark
        );
    }
    s + &format!(
        "({} calibration prompts, {} held out, {tokens}-token greedy continuations; teacher perplexity {:.3})\n",
        outcome.split.0,
        outcome.split.1,
        outcome.tried.first().map_or(0.0, |t| t.figures.teacher_perplexity)
    )
}
