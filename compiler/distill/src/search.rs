//! The search: calibration statistics on the calibration prompts, then compression plans
//! cheapest first (by bytes), each student measured against the teacher on the held-out
//! prompts, until one meets the budget (or, with `all`, every plan measured and the
//! cheapest that meets it chosen).

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::forward::{Cache, LINEARS, Model, input_slot};
use crate::hessian::Hessians;
use crate::measure::{Figures, measure};
use crate::quant::{Format, rtn};
use crate::student::{Method, Plan, Student, build};

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

/// The plans, cheapest first (ties: RTN, the cheaper to make, first).
pub fn plans(teacher: &Checkpoint, h: &Hessians) -> Vec<Plan> {
    let simple = |name: &str, method, default| Plan { name: name.into(), method, default, overrides: Default::default() };
    let sensitive = sensitivity(teacher, h);
    let quarter = sensitive.len().div_ceil(4);
    let overrides = sensitive.into_iter().take(quarter).map(|(_, n)| (n, Format::Q8_0)).collect();
    vec![
        simple("q4_0-rtn", Method::Rtn, Format::Q4_0),
        simple("q4_0-gptq", Method::Gptq, Format::Q4_0),
        simple("q4_1-rtn", Method::Rtn, Format::Q4_1),
        simple("q4_1-gptq", Method::Gptq, Format::Q4_1),
        Plan { name: "mixed-gptq (q4_1, most sensitive quarter q8_0)".into(), method: Method::Gptq, default: Format::Q4_1, overrides },
        simple("q8_0-rtn", Method::Rtn, Format::Q8_0),
    ]
}

/// Runs the search over `prompts` (at least two: the last quarter, at least one, is held
/// out), with `tokens`-token continuations.
pub fn search(teacher: &Checkpoint, prompts: &[String], budget: &Budget, tokens: usize, all: bool) -> Result<Outcome, String> {
    if prompts.len() < 2 {
        return Err("the calibration file needs at least two prompts (one is held out)".into());
    }
    let held = (prompts.len() / 4).max(1);
    let ids = prompts.iter().map(|p| teacher.tokenizer.encode(p).map_err(|e| e.0)).collect::<Result<Vec<_>, _>>()?;
    let (calib, heldout) = ids.split_at(ids.len() - held);
    let model = Model::new(&teacher.shape, &teacher.tensors)?;
    let mut h = Hessians::new(teacher.shape.layers);
    for p in calib {
        model.forward(p, &mut Cache::default(), Some(&mut h))?;
    }
    let mut tried = Vec::new();
    let mut chosen: Option<(usize, Student)> = None;
    for plan in plans(teacher, &h) {
        let student = build(teacher, &plan, Some(&h))?;
        let figures = measure(&model, &Model::new(&teacher.shape, &student.tensors)?, heldout, tokens)?;
        let meets = budget.met(&figures);
        tried.push(Tried {
            plan: plan.name.clone(),
            bytes: student.bytes,
            shrink: student.f32_bytes as f64 / student.bytes as f64,
            linear_bits: student.linear_bits,
            q8_layers: plan.overrides.len(),
            figures,
            meets,
        });
        if meets && chosen.as_ref().is_none_or(|(i, _)| tried[*i].bytes > student.bytes) {
            chosen = Some((tried.len() - 1, student));
            if !all {
                break;
            }
        }
    }
    Ok(Outcome { tried, chosen, split: (calib.len(), heldout.len()) })
}

/// The table printed on stdout: one row per plan tried.
pub fn table(outcome: &Outcome, tokens: usize) -> String {
    let mut s = format!(
        "{:<48} {:>10} {:>7} {:>6} {:>9} {:>10} {:>9} {:>8} {}\n",
        "plan", "bytes", "shrink", "bits", "agreement", "divergence", "kl", "ppl", "budget"
    );
    for (i, t) in outcome.tried.iter().enumerate() {
        let mark = match &outcome.chosen {
            Some((c, _)) if *c == i => "met, chosen",
            _ if t.meets => "met",
            _ => "missed",
        };
        s += &format!(
            "{:<48} {:>10} {:>6.2}x {:>6.2} {:>9.3} {:>10.2} {:>9.5} {:>8.3} {}\n",
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
