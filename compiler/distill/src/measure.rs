//! Teacher against student on held-out prompts, measured, never assumed:
//!
//! - greedy agreement: each model continues each prompt by `n` greedy tokens; the share of
//!   prompts whose continuations are identical, and the mean position of the first
//!   divergence (`n` when identical);
//! - mean KL(teacher ‖ student) of the next-token distributions at every position of
//!   prompt + the teacher's continuation (both models fed the same tokens; a student with
//!   int8 activations as its executable runs: the prompt as a prefill, the continuation as
//!   decode steps);
//! - perplexity of each model on the prompts' own text (next-token, teacher-forced).

use serde::Serialize;

use crate::forward::{Cache, Model, greedy};

/// The budget figures of one student.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Figures {
    /// Share of held-out prompts whose `n`-token greedy continuations are identical.
    pub agreement: f64,
    /// Mean first-divergence position (`n` for identical continuations).
    pub first_divergence: f64,
    /// Mean KL(teacher ‖ student) in nats per position.
    pub kl: f64,
    /// The student's perplexity on the prompts' text.
    pub perplexity: f64,
    /// The teacher's perplexity on the same text.
    pub teacher_perplexity: f64,
}

/// Log-softmax in f64.
fn log_softmax(row: &[f32]) -> Vec<f64> {
    let max = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let lse = row.iter().map(|&x| (x as f64 - max).exp()).sum::<f64>().ln() + max;
    row.iter().map(|&x| x as f64 - lse).collect()
}

/// KL(p ‖ q) from log-probabilities.
pub fn kl(logp: &[f64], logq: &[f64]) -> f64 {
    logp.iter().zip(logq).map(|(&a, &b)| a.exp() * (a - b)).sum()
}

/// Logits at every position of `tokens`.
fn all_logits(model: &Model, tokens: &[u32]) -> Result<Vec<Vec<f32>>, String> {
    model.forward(tokens, &mut Cache::default(), None)
}

/// Logits at every position of `prompt` + `continuation` as an executable computes them:
/// the prompt in one forward (its prefill), then the continuation one token at a time (its
/// decode steps). For a model without int8 activations that is one forward over all (the
/// same function; one forward is faster); with them, only the decode steps round every
/// linear layer's input ([`Model::with_int8_activations`]).
fn logits_as_run(model: &Model, prompt: &[u32], continuation: &[u32]) -> Result<Vec<Vec<f32>>, String> {
    if !model.rounds_activations() {
        let mut seq = prompt.to_vec();
        seq.extend(continuation);
        return all_logits(model, &seq);
    }
    let mut cache = Cache::default();
    let mut rows = model.forward(prompt, &mut cache, None)?;
    for &token in continuation {
        rows.extend(model.forward(&[token], &mut cache, None)?);
    }
    Ok(rows)
}

/// Perplexity of `model` on `prompts` (token ids): exp of the mean negative log-likelihood
/// of each token after the first.
pub fn perplexity(model: &Model, prompts: &[Vec<u32>]) -> Result<f64, String> {
    let (mut nll, mut count) = (0.0, 0usize);
    for p in prompts {
        let logits = all_logits(model, p)?;
        for (pos, next) in p.iter().enumerate().skip(1) {
            nll -= log_softmax(&logits[pos - 1])[*next as usize];
            count += 1;
        }
    }
    Ok((nll / count.max(1) as f64).exp())
}

/// What the teacher gives once for all students: its greedy continuations of the held-out
/// prompts, its log-probabilities at every position of prompt + continuation, and its
/// perplexity on the prompts.
pub struct Reference {
    prompts: Vec<Vec<u32>>,
    n: usize,
    continuations: Vec<Vec<u32>>,
    logp: Vec<Vec<Vec<f64>>>,
    perplexity: f64,
}

impl Reference {
    /// Runs `teacher` on `prompts` with `n`-token continuations.
    pub fn new(teacher: &Model, prompts: &[Vec<u32>], n: usize) -> Result<Reference, String> {
        let mut continuations = Vec::with_capacity(prompts.len());
        let mut logp = Vec::with_capacity(prompts.len());
        for p in prompts {
            let t = greedy(teacher, p, n)?;
            let mut seq = p.clone();
            seq.extend(&t);
            logp.push(all_logits(teacher, &seq)?.iter().map(|row| log_softmax(row)).collect());
            continuations.push(t);
        }
        Ok(Reference { prompts: prompts.to_vec(), n, continuations, logp, perplexity: perplexity(teacher, prompts)? })
    }

    /// The figures of `student` against the teacher.
    pub fn measure(&self, student: &Model) -> Result<Figures, String> {
        let (mut same, mut divergence, mut kl_sum, mut kl_count) = (0usize, 0usize, 0.0, 0usize);
        for ((p, t), lt) in self.prompts.iter().zip(&self.continuations).zip(&self.logp) {
            let s = greedy(student, p, self.n)?;
            let first = t.iter().zip(&s).position(|(a, b)| a != b).unwrap_or(self.n);
            divergence += first;
            same += usize::from(first == self.n);
            for (a, b) in lt.iter().zip(&logits_as_run(student, p, t)?) {
                kl_sum += kl(a, &log_softmax(b));
                kl_count += 1;
            }
        }
        let k = self.prompts.len().max(1) as f64;
        Ok(Figures {
            agreement: same as f64 / k,
            first_divergence: divergence as f64 / k,
            kl: kl_sum / kl_count.max(1) as f64,
            perplexity: perplexity(student, &self.prompts)?,
            teacher_perplexity: self.perplexity,
        })
    }
}

/// The figures of `student` against `teacher` on `prompts` with `n`-token continuations.
pub fn measure(teacher: &Model, student: &Model, prompts: &[Vec<u32>], n: usize) -> Result<Figures, String> {
    Reference::new(teacher, prompts, n)?.measure(student)
}

/// Mean KL(teacher ‖ student) of the next-token distributions at every position of
/// `prompts` (teacher-forced on the prompts' own tokens): what ranks layers for dropping.
pub fn prompt_kl(teacher_logp: &[Vec<Vec<f64>>], student: &Model, prompts: &[Vec<u32>]) -> Result<f64, String> {
    let (mut sum, mut count) = (0.0, 0usize);
    for (p, lt) in prompts.iter().zip(teacher_logp) {
        for (a, b) in lt.iter().zip(&all_logits(student, p)?) {
            sum += kl(a, &log_softmax(b));
            count += 1;
        }
    }
    Ok(sum / count.max(1) as f64)
}

/// Log-probabilities at every position of each of `prompts`.
pub fn prompt_logp(model: &Model, prompts: &[Vec<u32>]) -> Result<Vec<Vec<Vec<f64>>>, String> {
    prompts.iter().map(|p| Ok(all_logits(model, p)?.iter().map(|r| log_softmax(r)).collect())).collect()
}
