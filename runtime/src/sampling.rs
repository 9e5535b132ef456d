//! Token selection and the stop rules of `generate` (docs/language.md §8.1): greedy argmax,
//! temperature sampling with a seeded PCG32, the `top_k` / `top_p` / `min_p` /
//! `repetition_penalty` processors, stop texts, `max_tokens` and EOS.
//!
//! The decode loop a runtime drives:
//!
//! ```text
//! let mut g = Generation::new(&tokenizer, options, Pcg32::new(seed, stream));
//! let mut logits = prefill(prompt_ids);
//! while let Step::Continue(token) = g.step(&logits)? {
//!     logits = decode_step(token, position); position += 1;
//! }
//! let text = g.text();
//! ```

use crate::grammar::{Grammar, Recognizer, TokenTable};

/// Turns generated ids back into text; implemented by [`crate::tokenizer::Tokenizer`].
pub trait Detokenizer {
    /// The text of `ids`, special tokens skipped.
    fn decode(&self, ids: &[u32]) -> Result<String, String>;
    /// Whether `id` ends the generation.
    fn is_eos(&self, id: u32) -> bool;
}

/// PCG32 (PCG-XSH-RR with 64-bit state and 32-bit output, M. E. O'Neill, `pcg32_random_r`
/// of the reference C library): `state = state * 6364136223846793005 + inc`, output
/// `rotr32(((old >> 18) ^ old) >> 27, old >> 59)`. Seeding is `pcg32_srandom_r(seed, stream)`.
/// The same `(seed, stream)` always gives the same sequence, on every platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcg32 {
    state: u64,
    inc: u64,
}

impl Pcg32 {
    const MULT: u64 = 6364136223846793005;

    /// A generator for `seed` on stream `stream` (different streams give independent
    /// sequences for one seed: give each generate call, and each map iteration, its own, so
    /// results do not depend on thread scheduling).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Pcg32 { state: 0, inc: (stream << 1) | 1 };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(seed);
        rng.next_u32();
        rng
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(Self::MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// A uniform `f64` in `[0, 1)`: the top 53 bits of two outputs (first one high) times 2⁻⁵³.
    pub fn next_f64(&mut self) -> f64 {
        let hi = self.next_u32() as u64;
        let lo = self.next_u32() as u64;
        (((hi << 32) | lo) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Index of the **first** maximum of `logits` (NaNs are never the maximum); `None` when
/// empty or all NaN.
pub fn argmax(logits: &[f32]) -> Option<usize> {
    first_max(logits.iter().map(|&x| x as f64))
}

/// The index of the first maximum of `values`, NaNs skipped (the one loop behind [`argmax`]
/// and [`argmax_f64`]; f32 widens to f64 exactly, so the order is the same).
fn first_max(values: impl Iterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in values.enumerate() {
        if x.is_nan() {
            continue;
        }
        match best {
            Some((_, b)) if x <= b => {}
            _ => best = Some((i, x)),
        }
    }
    best.map(|(i, _)| i)
}

/// Draws an index from `softmax(logits / temperature)`, computed in f64 with the maximum
/// subtracted: one `u = rng.next_f64()`, then the first index whose running sum of
/// probabilities exceeds `u` (indices with probability 0 are never drawn). A temperature
/// `<= 0` (or NaN) is greedy: [`argmax`], and draws nothing from `rng`.
pub fn sample(logits: &[f32], temperature: f32, rng: &mut Pcg32) -> Option<usize> {
    if temperature.is_nan() || temperature <= 0.0 {
        return argmax(logits);
    }
    let first = argmax(logits)?;
    let max = logits[first] as f64;
    let t = temperature as f64;
    let weights: Vec<f64> =
        logits.iter().map(|&x| if x.is_nan() { 0.0 } else { ((x as f64 - max) / t).exp() }).collect();
    Some(draw(&weights, rng, first))
}

/// The logits processors of one `generate` call besides `temperature` (docs/language.md
/// §8.1), with the semantics of Hugging Face transformers' processors of the same names.
/// `None` (or the neutral value) leaves a processor out.
///
/// Order, as transformers' `generate` applies them: `repetition_penalty` (also when greedy),
/// then `temperature`, then `top_k`, `top_p` and `min_p`; the draw is from the softmax of
/// what is left. Where transformers keeps every token tied with the k-th (top_k) or sorts
/// ties arbitrarily (top_p), the ranking here is by logit, then by **lower index first**,
/// so `top_k: 1` always keeps exactly the greedy token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling {
    /// Keep the `k` most likely tokens (`top_k:`, ≥ 1).
    pub top_k: Option<usize>,
    /// Keep the smallest set of most likely tokens whose probabilities sum to more than
    /// `top_p` (`top_p:`, in (0, 1]; 1 keeps all).
    pub top_p: Option<f64>,
    /// Keep the tokens whose probability is at least `min_p` times the most likely
    /// token's (`min_p:`, in [0, 1]; 0 keeps all).
    pub min_p: Option<f64>,
    /// For every token already in the prompt or the generated text: positive logits are
    /// divided by it, negative ones multiplied (`repetition_penalty:`, > 0; 1 is neutral).
    pub repetition_penalty: Option<f64>,
    /// This call's own seed (`seed:`): its draws do not depend on the executable's `--seed`.
    pub seed: Option<u64>,
}

impl Sampling {
    /// The `top_k`, `top_p`, `min_p`, `repetition_penalty` and `seed` attributes of a
    /// plan's `decode` op (each absent when the call does not give it).
    pub fn of_attrs(attrs: &std::collections::BTreeMap<String, serde_json::Value>) -> Self {
        let float = |name: &str| attrs.get(name).and_then(|v| v.as_f64());
        let int = |name: &str| attrs.get(name).and_then(|v| v.as_u64());
        Sampling {
            top_k: int("top_k").map(|k| k as usize),
            top_p: float("top_p"),
            min_p: float("min_p"),
            repetition_penalty: float("repetition_penalty"),
            seed: int("seed"),
        }
    }

    /// Why these options are out of range, if they are (the plan loader's check; the
    /// compiler rejects the same at check time).
    pub fn check(&self) -> Result<(), String> {
        if self.top_k == Some(0) {
            return Err("top_k 0 is not positive".into());
        }
        if let Some(p) = self.top_p.filter(|p| !(*p > 0.0 && *p <= 1.0)) {
            return Err(format!("top_p {p} is not in (0, 1]"));
        }
        if let Some(p) = self.min_p.filter(|p| !(*p >= 0.0 && *p <= 1.0)) {
            return Err(format!("min_p {p} is not in [0, 1]"));
        }
        if let Some(p) = self.repetition_penalty.filter(|p| !(*p > 0.0 && p.is_finite())) {
            return Err(format!("repetition_penalty {p} is not a positive number"));
        }
        Ok(())
    }
}

/// Applies `repetition_penalty` to `scores` for every distinct id of `seen` (ids outside
/// the vocabulary are ignored): `s / penalty` when `s > 0`, `s * penalty` otherwise.
pub fn apply_repetition_penalty(scores: &mut [f64], seen: &[u32], penalty: f64) {
    let mut done = vec![false; scores.len()];
    for &id in seen {
        let i = id as usize;
        if i < scores.len() && !std::mem::replace(&mut done[i], true) {
            let s = scores[i];
            scores[i] = if s > 0.0 { s / penalty } else { s * penalty };
        }
    }
}

/// The sampling weights `exp((s - max) / temperature)` of `scores` (NaN and -inf: 0) after
/// the `top_k`, `top_p` and `min_p` filters of `sampling` (a filtered token's weight is 0;
/// the most likely token is never filtered). `temperature` must be > 0.
pub fn filtered_weights(scores: &[f64], temperature: f64, sampling: &Sampling) -> Vec<f64> {
    let max = scores.iter().copied().filter(|s| !s.is_nan()).fold(f64::NEG_INFINITY, f64::max);
    let mut weights: Vec<f64> =
        scores.iter().map(|&s| if s.is_nan() || s == f64::NEG_INFINITY { 0.0 } else { ((s - max) / temperature).exp() }).collect();
    // Most likely first; ties: lower index first.
    let mut ranked: Vec<usize> = (0..scores.len()).filter(|&i| weights[i] > 0.0).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    if let Some(k) = sampling.top_k {
        for &i in ranked.iter().skip(k.max(1)) {
            weights[i] = 0.0;
        }
        ranked.truncate(k.max(1));
    }
    if let Some(top_p) = sampling.top_p.filter(|&p| p < 1.0) {
        // transformers: drop the least likely tokens while their cumulative probability
        // (from the least likely up) stays ≤ 1 - top_p; the most likely always stays.
        let total: f64 = ranked.iter().map(|&i| weights[i]).sum();
        let mut tail = 0.0;
        for &i in ranked.iter().skip(1).rev() {
            tail += weights[i] / total;
            if tail > 1.0 - top_p {
                break;
            }
            weights[i] = 0.0;
        }
        ranked.retain(|&i| weights[i] > 0.0);
    }
    if let Some(min_p) = sampling.min_p.filter(|&p| p > 0.0) {
        // Probabilities relative to the most likely token's: the common normaliser cancels.
        if let Some(&top) = ranked.first() {
            let bar = min_p * weights[top];
            for &i in &ranked[1..] {
                if weights[i] < bar {
                    weights[i] = 0.0;
                }
            }
        }
    }
    weights
}

/// Draws an index with probability proportional to `weights`: one `u = rng.next_f64()`,
/// then the first index whose running sum exceeds `u × total` (weight-0 indices are never
/// drawn; rounding that leaves the sum just short gives the last positive index, or
/// `fallback` when none is).
fn draw(weights: &[f64], rng: &mut Pcg32, fallback: usize) -> usize {
    let total: f64 = weights.iter().sum();
    let target = rng.next_f64() * total;
    let mut running = 0.0;
    let mut last_positive = fallback;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            running += w;
            last_positive = i;
            if running > target {
                return i;
            }
        }
    }
    last_positive // rounding: the sum fell just short of `target`
}

/// Selects the next token: `logits` through the processors of `sampling` (`seen`: the
/// prompt's and the generated ids, for `repetition_penalty`), then greedy [`argmax`] when
/// `temperature <= 0` (draws nothing from `rng`) or one draw from what is left. `None`
/// when the logits are empty or all NaN. With no processor it is exactly [`sample`].
pub fn select(logits: &[f32], temperature: f32, sampling: &Sampling, seen: &[u32], rng: &mut Pcg32) -> Option<usize> {
    let penalty = sampling.repetition_penalty.filter(|&p| p != 1.0);
    let filtering = sampling.top_k.is_some() || sampling.top_p.is_some_and(|p| p < 1.0) || sampling.min_p.is_some_and(|p| p > 0.0);
    if penalty.is_none() && !filtering {
        return sample(logits, temperature, rng);
    }
    argmax(logits)?;
    let mut scores: Vec<f64> = logits.iter().map(|&x| x as f64).collect();
    if let Some(penalty) = penalty {
        apply_repetition_penalty(&mut scores, seen, penalty);
    }
    let first = argmax_f64(&scores)?;
    if temperature.is_nan() || temperature <= 0.0 {
        return Some(first);
    }
    let weights = filtered_weights(&scores, temperature as f64, sampling);
    Some(draw(&weights, rng, first))
}

/// [`argmax`] over f64 scores.
fn argmax_f64(scores: &[f64]) -> Option<usize> {
    first_max(scores.iter().copied())
}

/// The options of one `generate` call.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// At most this many new tokens (`max_tokens:`, default 128).
    pub max_tokens: usize,
    /// `0.0`: greedy; above: sampling from `softmax(logits / temperature)`.
    pub temperature: f32,
    /// Stop texts (`stop:`); empty ones are ignored.
    pub stop: Vec<String>,
    /// `top_k`, `top_p`, `min_p`, `repetition_penalty` and `seed`.
    pub sampling: Sampling,
    /// Token ids that end the generation as an EOS does (not kept): a chat template's
    /// end-of-turn token.
    pub end_ids: Vec<u32>,
    /// Made by `chat`: the model's end-of-turn token is added to `end_ids` when decoding.
    pub chat: bool,
    /// `json:`: the schema's grammar. Only tokens that keep the text a prefix of one of its
    /// values are selected ([`Generation::with_json`]).
    pub json: Option<std::sync::Arc<crate::grammar::Grammar>>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 128,
            temperature: 0.0,
            stop: Vec::new(),
            sampling: Sampling::default(),
            end_ids: Vec::new(),
            chat: false,
            json: None,
        }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The `json:` value is complete and nothing may follow it.
    JsonComplete,
    /// The model produced an EOS token (not part of the result).
    Eos,
    /// The new text contains a stop text (the result ends just before it).
    StopText,
    /// `max_tokens` tokens were generated.
    MaxTokens,
}

/// What the decode loop does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Feed this token to the next decode step and call [`Generation::step`] with its logits.
    Continue(u32),
    /// The generation is over; read [`Generation::text`].
    Done(StopReason),
}

/// The token-by-token state of one generate call.
///
/// Rules, in this order after each selected token: an EOS token ends the generation and is
/// not kept; otherwise the token is kept and **all** new tokens are decoded together (so
/// multi-token characters and leading-space rules come out as the tokenizer decodes); if the
/// text contains a (non-empty) stop text, it is cut just before the earliest occurrence of
/// any stop text and the generation ends; otherwise it ends when `max_tokens` tokens are kept.
#[derive(Debug)]
pub struct Generation<'t, D: Detokenizer + ?Sized> {
    detok: &'t D,
    options: GenerateOptions,
    rng: Pcg32,
    /// The prompt's and the kept new ids (for `repetition_penalty`).
    seen: Vec<u32>,
    ids: Vec<u32>,
    text: String,
    done: Option<StopReason>,
    json: Option<JsonConstraint<'t>>,
}

/// The `json:` constraint of a generation: the token texts, the recogniser's state after
/// the text so far, and the mask buffer.
#[derive(Debug)]
struct JsonConstraint<'t> {
    table: &'t TokenTable,
    state: Recognizer<'t>,
    allowed: Vec<bool>,
}

impl<'t, D: Detokenizer + ?Sized> Generation<'t, D> {
    /// A new generation; `rng` is used only when `options.temperature > 0`.
    pub fn new(detok: &'t D, options: GenerateOptions, rng: Pcg32) -> Self {
        let done = (options.max_tokens == 0).then_some(StopReason::MaxTokens);
        Generation { detok, options, rng, seen: Vec::new(), ids: Vec::new(), text: String::new(), done, json: None }
    }

    /// Constrains the generation to the JSON texts of `grammar` (`json:`): before each
    /// selection every token whose text (`table`) the recogniser rejects gets logit -inf,
    /// and EOS or an end id is allowed only when the text is a complete value. The
    /// generation ends when the value is complete and nothing may follow, or at EOS; the
    /// result is the recognised text (the tokens' texts, concatenated). Stop texts do not
    /// apply (`agentc check` rejects `stop:` with `json:`). `max_tokens` running out before
    /// the value is complete is an error.
    pub fn with_json(mut self, table: &'t TokenTable, grammar: &'t Grammar) -> Self {
        self.json = Some(JsonConstraint { table, state: Recognizer::new(grammar), allowed: Vec::new() });
        self
    }

    /// The same, with the prompt's token ids (`repetition_penalty` counts them as seen).
    pub fn with_prompt_ids(mut self, ids: Vec<u32>) -> Self {
        self.seen = ids;
        self
    }

    /// Selects the next token from `logits` (of the last position) and applies the stop rules.
    /// Errors: empty or all-NaN logits, or a decoding failure.
    pub fn step(&mut self, logits: &[f32]) -> Result<Step, String> {
        if let Some(reason) = self.done {
            return Ok(Step::Done(reason));
        }
        let masked;
        let logits = match &mut self.json {
            Some(json) => {
                let (detok, end_ids) = (self.detok, &self.options.end_ids);
                json.allowed.resize(logits.len(), false);
                json.table.mask(&json.state, |id| detok.is_eos(id) || end_ids.contains(&id), &mut json.allowed);
                if !json.allowed[..logits.len()].contains(&true) {
                    return Err(format!("no token of the model's vocabulary continues the JSON value after {:?}", self.text));
                }
                masked = logits.iter().zip(&json.allowed).map(|(&x, &ok)| if ok { x } else { f32::NEG_INFINITY }).collect::<Vec<f32>>();
                &masked[..]
            }
            None => logits,
        };
        let token = select(logits, self.options.temperature, &self.options.sampling, &self.seen, &mut self.rng)
            .ok_or_else(|| "the model gave no usable logits (empty or all NaN)".to_string())? as u32;
        if self.detok.is_eos(token) || self.options.end_ids.contains(&token) {
            return Ok(self.finish(StopReason::Eos));
        }
        self.ids.push(token);
        self.seen.push(token);
        if let Some(json) = &mut self.json {
            let piece = json.table.text(token).filter(|piece| json.state.push_str(piece));
            let Some(piece) = piece else {
                return Err(format!("internal error: token {token} was selected outside the JSON mask"));
            };
            self.text.push_str(piece);
            if json.state.complete() {
                return Ok(self.finish(StopReason::JsonComplete));
            }
            if self.ids.len() >= self.options.max_tokens {
                if json.state.accepting() {
                    return Ok(self.finish(StopReason::MaxTokens));
                }
                return Err(format!(
                    "`max_tokens: {}` ran out before the JSON value was complete (it would not parse); the text so far: {:?}",
                    self.options.max_tokens, self.text
                ));
            }
            return Ok(Step::Continue(token));
        }
        self.text = self.detok.decode(&self.ids)?;
        if let Some(cut) = earliest_stop(&self.text, &self.options.stop) {
            self.text.truncate(cut);
            return Ok(self.finish(StopReason::StopText));
        }
        if self.ids.len() >= self.options.max_tokens {
            return Ok(self.finish(StopReason::MaxTokens));
        }
        Ok(Step::Continue(token))
    }

    fn finish(&mut self, reason: StopReason) -> Step {
        self.done = Some(reason);
        Step::Done(reason)
    }

    /// The new text so far (after the end: the result of `generate`).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The kept new token ids (no EOS; tokens after a stop text's start are still listed).
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// Why the generation ended, once it has.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.done
    }
}

/// Byte offset of the earliest occurrence of any non-empty stop text in `text`.
pub fn earliest_stop(text: &str, stops: &[String]) -> Option<usize> {
    stops.iter().filter(|s| !s.is_empty()).filter_map(|s| text.find(s.as_str())).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcg32_matches_the_reference_demo() {
        // pcg32-demo of the PCG C library: seed 42, sequence 54.
        let mut rng = Pcg32::new(42, 54);
        let got: Vec<u32> = (0..6).map(|_| rng.next_u32()).collect();
        assert_eq!(got, [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]);
    }

    #[test]
    fn f64s_are_in_unit_interval_and_deterministic() {
        let mut a = Pcg32::new(7, 0);
        let mut b = Pcg32::new(7, 0);
        for _ in 0..1000 {
            let x = a.next_f64();
            assert!((0.0..1.0).contains(&x));
            assert_eq!(x, b.next_f64());
        }
        assert_ne!(Pcg32::new(7, 0).next_u32(), Pcg32::new(7, 1).next_u32());
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, -1.0, f32::NAN]), Some(1));
        assert_eq!(argmax(&[]), None);
        assert_eq!(argmax(&[f32::NAN]), None);
        assert_eq!(argmax(&[f32::NEG_INFINITY, f32::NEG_INFINITY]), Some(0));
    }

    #[test]
    fn temperature_zero_is_greedy() {
        let mut rng = Pcg32::new(1, 1);
        let before = rng.clone();
        assert_eq!(sample(&[0.0, 5.0, 5.0], 0.0, &mut rng), Some(1));
        assert_eq!(rng, before, "greedy draws nothing");
    }

    #[test]
    fn sampling_follows_the_softmax() {
        // logits ln(1), ln(3) at T=1: probabilities 1/4 and 3/4.
        let logits = [0.0f32, 3f32.ln()];
        let mut rng = Pcg32::new(123, 0);
        let n = 20000;
        let ones = (0..n).filter(|_| sample(&logits, 1.0, &mut rng) == Some(1)).count();
        let p = ones as f64 / n as f64;
        assert!((p - 0.75).abs() < 0.02, "p = {p}");
        // A very low temperature is (almost) greedy; -inf is never drawn.
        let mut rng = Pcg32::new(5, 0);
        for _ in 0..100 {
            assert_eq!(sample(&[0.0, 1.0, f32::NEG_INFINITY], 0.01, &mut rng), Some(1));
        }
        // Same seed, same draws.
        let draw = |seed| {
            let mut r = Pcg32::new(seed, 3);
            (0..32).map(|_| sample(&[0.1, 0.2, 0.3, 0.4], 0.8, &mut r).unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(draw(9), draw(9));
        assert_ne!(draw(9), draw(10));
    }

    /// Probabilities 0.5, 0.25, 0.15, 0.1 as logits (temperature 1).
    fn four() -> Vec<f64> {
        [0.5f64, 0.25, 0.15, 0.1].iter().map(|p| p.ln()).collect()
    }

    /// The indices `filtered_weights` keeps.
    fn kept(scores: &[f64], temperature: f64, sampling: Sampling) -> Vec<usize> {
        let w = filtered_weights(scores, temperature, &sampling);
        (0..w.len()).filter(|&i| w[i] > 0.0).collect()
    }

    #[test]
    fn repetition_penalty_divides_positive_and_multiplies_negative_seen_logits() {
        // By hand, as transformers' RepetitionPenaltyLogitsProcessor: ids 0 and 1 seen
        // (1 twice, penalised once), penalty 2.
        let mut scores = vec![2.0, -1.0, 0.5, 3.0];
        apply_repetition_penalty(&mut scores, &[0, 1, 1, 99], 2.0);
        assert_eq!(scores, [1.0, -2.0, 0.5, 3.0]);
    }

    #[test]
    fn top_k_top_p_min_p_filter_as_computed_by_hand() {
        let s = four();
        let keep = |sampling| kept(&s, 1.0, sampling);
        assert_eq!(keep(Sampling::default()), [0, 1, 2, 3]);
        assert_eq!(keep(Sampling { top_k: Some(2), ..Default::default() }), [0, 1]);
        // top_p 0.7: from the least likely up, 0.1 and 0.25 are ≤ 0.3 and go; 0.5 is not.
        assert_eq!(keep(Sampling { top_p: Some(0.7), ..Default::default() }), [0, 1]);
        // top_p 0.8: 0.1 ≤ 0.2 goes, 0.25 stays.
        assert_eq!(keep(Sampling { top_p: Some(0.8), ..Default::default() }), [0, 1, 2]);
        assert_eq!(keep(Sampling { top_p: Some(1.0), ..Default::default() }), [0, 1, 2, 3]);
        // top_k before top_p: after top_k 3 the probabilities are 5/9, 2.5/9, 1.5/9, and
        // 1/6 ≤ 0.2 goes too.
        assert_eq!(keep(Sampling { top_k: Some(3), top_p: Some(0.8), ..Default::default() }), [0, 1]);
        // min_p 0.4: below 0.4 × 0.5 = 0.2 goes; 0.25: below 0.125 goes.
        assert_eq!(keep(Sampling { min_p: Some(0.4), ..Default::default() }), [0, 1]);
        assert_eq!(keep(Sampling { min_p: Some(0.25), ..Default::default() }), [0, 1, 2]);
        // The most likely token always stays.
        assert_eq!(keep(Sampling { top_p: Some(0.01), min_p: Some(1.0), ..Default::default() }), [0]);
        // Temperature comes first: at T = 2 the probabilities ∝ √p are .370, .262, .203,
        // .166, and top_p 0.7 drops only the last.
        assert_eq!(kept(&s, 2.0, Sampling { top_p: Some(0.7), ..Default::default() }), [0, 1, 2]);
        // The kept weights are unchanged (renormalised by the draw).
        let w = filtered_weights(&s, 1.0, &Sampling { top_k: Some(2), ..Default::default() });
        assert!((w[0] - 1.0).abs() < 1e-12 && (w[1] - 0.5).abs() < 1e-12, "{w:?}");
    }

    #[test]
    fn draws_follow_the_filtered_distribution() {
        // top_p 0.7 keeps 0.5 and 0.25: renormalised 2/3 and 1/3; nothing else is drawn.
        let logits: Vec<f32> = four().iter().map(|&x| x as f32).collect();
        let sampling = Sampling { top_p: Some(0.7), ..Default::default() };
        let mut rng = Pcg32::new(11, 0);
        let n = 20000;
        let mut counts = [0usize; 4];
        for _ in 0..n {
            counts[select(&logits, 1.0, &sampling, &[], &mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[2] + counts[3], 0, "{counts:?}");
        let p = counts[0] as f64 / n as f64;
        assert!((p - 2.0 / 3.0).abs() < 0.02, "p = {p}");
    }

    #[test]
    fn top_k_one_is_greedy_and_no_processor_is_plain_sampling() {
        let top1 = Sampling { top_k: Some(1), ..Default::default() };
        let mut rng = Pcg32::new(3, 0);
        let mut plain_rng = Pcg32::new(3, 0);
        let mut twin = Pcg32::new(3, 0);
        for round in 0..200 {
            let logits: Vec<f32> = (0..16).map(|_| (rng.next_f64() * 4.0) as f32).collect();
            assert_eq!(select(&logits, 1.5, &top1, &[], &mut rng), argmax(&logits), "round {round}");
            assert_eq!(select(&logits, 1.5, &Sampling::default(), &[], &mut plain_rng), sample(&logits, 1.5, &mut twin));
        }
        // Ties: the first maximum, as argmax.
        assert_eq!(select(&[1.0, 3.0, 3.0, 2.0], 1.0, &top1, &[], &mut rng), Some(1));
    }

    #[test]
    fn repetition_penalty_applies_when_greedy_to_prompt_and_generated_ids() {
        // Toy ids 2 ("a") and 3 ("b"): logits 2.0 and 1.5. "a" is in the prompt: 1.0 < 1.5,
        // so "b"; then both are seen: 1.0 > 0.75, so "a".
        let mut logits = vec![f32::NEG_INFINITY; PIECES.len()];
        logits[2] = 2.0;
        logits[3] = 1.5;
        let options = GenerateOptions {
            max_tokens: 3,
            sampling: Sampling { repetition_penalty: Some(2.0), ..Default::default() },
            ..GenerateOptions::default()
        };
        let mut g = Generation::new(&Toy, options, Pcg32::new(0, 0)).with_prompt_ids(vec![2]);
        let steps: Vec<Step> = (0..2).map(|_| g.step(&logits).unwrap()).collect();
        assert_eq!(steps, [Step::Continue(3), Step::Continue(2)]);
        assert_eq!(g.text(), "ba");
        // Without the penalty, greedy repeats "a".
        let mut g = Generation::new(&Toy, opts(2, &[]), Pcg32::new(0, 0)).with_prompt_ids(vec![2]);
        g.step(&logits).unwrap();
        g.step(&logits).unwrap();
        assert_eq!(g.text(), "aa");
    }

    #[test]
    fn out_of_range_options_are_rejected() {
        assert!(Sampling::default().check().is_ok());
        assert!(Sampling { top_k: Some(1), top_p: Some(1.0), min_p: Some(0.0), repetition_penalty: Some(1.3), seed: Some(0) }.check().is_ok());
        for bad in [
            Sampling { top_k: Some(0), ..Default::default() },
            Sampling { top_p: Some(0.0), ..Default::default() },
            Sampling { top_p: Some(1.5), ..Default::default() },
            Sampling { min_p: Some(-0.1), ..Default::default() },
            Sampling { repetition_penalty: Some(0.0), ..Default::default() },
            Sampling { repetition_penalty: Some(f64::NAN), ..Default::default() },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    /// A toy vocabulary: id i decodes to PIECES[i]; id 0 is EOS, id 1 is a special token.
    struct Toy;
    const PIECES: &[&str] = &["</s>", "<s>", "a", "b", ".", "c.d", " x", "\n"];
    impl Detokenizer for Toy {
        fn decode(&self, ids: &[u32]) -> Result<String, String> {
            Ok(ids.iter().filter(|&&i| i > 1).map(|&i| PIECES[i as usize]).collect())
        }
        fn is_eos(&self, id: u32) -> bool {
            id == 0
        }
    }

    fn one_hot(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; PIECES.len()];
        v[i] = 1.0;
        v
    }

    fn run(options: GenerateOptions, tokens: &[usize]) -> (String, Vec<Step>) {
        let mut g = Generation::new(&Toy, options, Pcg32::new(0, 0));
        let steps: Vec<Step> = tokens.iter().map(|&t| g.step(&one_hot(t)).unwrap()).collect();
        (g.text().to_string(), steps)
    }

    fn opts(max_tokens: usize, stop: &[&str]) -> GenerateOptions {
        GenerateOptions { max_tokens, stop: stop.iter().map(|s| s.to_string()).collect(), ..GenerateOptions::default() }
    }

    #[test]
    fn eos_ends_and_is_not_kept() {
        let (text, steps) = run(opts(10, &[]), &[2, 3, 0, 2]);
        assert_eq!(text, "ab");
        assert_eq!(steps, [Step::Continue(2), Step::Continue(3), Step::Done(StopReason::Eos), Step::Done(StopReason::Eos)]);
    }

    #[test]
    fn an_end_id_ends_as_eos_does() {
        // A chat template's end-of-turn token (here `<s>`, id 1) is not the EOS.
        let options = GenerateOptions { end_ids: vec![1], ..opts(10, &[]) };
        let (text, steps) = run(options, &[2, 1, 3]);
        assert_eq!(text, "a");
        assert_eq!(steps[1], Step::Done(StopReason::Eos));
        let (text, _) = run(opts(10, &[]), &[2, 1, 3]);
        assert_eq!(text, "ab", "without it the token is kept (and decodes to nothing)");
    }

    #[test]
    fn max_tokens_ends_after_that_many() {
        let (text, steps) = run(opts(2, &[]), &[2, 3, 2]);
        assert_eq!(text, "ab");
        assert_eq!(steps[1], Step::Done(StopReason::MaxTokens));
        let (text, steps) = run(opts(0, &[]), &[2]);
        assert_eq!((text.as_str(), steps[0]), ("", Step::Done(StopReason::MaxTokens)));
    }

    #[test]
    fn stop_text_cuts_before_its_earliest_occurrence() {
        // "c.d" holds the stop "." in its middle: the result ends before it.
        let (text, steps) = run(opts(10, &["\n", "."]), &[2, 5, 3]);
        assert_eq!(text, "ac");
        assert_eq!(steps[1], Step::Done(StopReason::StopText));
        // A stop text spanning two tokens.
        let (text, _) = run(opts(10, &["b x"]), &[2, 3, 6, 2]);
        assert_eq!(text, "a");
        // The earliest occurrence wins, whichever stop text it is.
        let (text, _) = run(opts(10, &["x", "b"]), &[2, 3, 6]);
        assert_eq!(text, "a");
        // Empty stop texts are ignored; a special token decodes to nothing.
        let (text, steps) = run(opts(3, &[""]), &[2, 1, 3]);
        assert_eq!((text.as_str(), steps[2]), ("ab", Step::Done(StopReason::MaxTokens)));
    }

    /// A toy vocabulary for `json:`: id 0 is EOS, id 1 special.
    struct JsonToy;
    const JSON_PIECES: &[&str] = &["</s>", "<s>", "{", "}", "\"a\":", "1", " x", "\"b\""];
    impl Detokenizer for JsonToy {
        fn decode(&self, ids: &[u32]) -> Result<String, String> {
            Ok(ids.iter().filter(|&&i| i > 1).map(|&i| JSON_PIECES[i as usize]).collect())
        }
        fn is_eos(&self, id: u32) -> bool {
            id == 0
        }
    }

    fn json_table() -> TokenTable {
        use crate::grammar::TokenText;
        TokenTable::new(JSON_PIECES.iter().enumerate().map(|(i, p)| if i < 2 { TokenText::None } else { TokenText::Text(p.to_string()) }).collect())
    }

    const OBJECT_A: &str = r#"{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}"#;
    /// EOS and the off-grammar " x" are the most likely; "}" beats "1".
    const JSON_LOGITS: [f32; 8] = [5.0, 4.0, 1.0, 3.0, 0.5, 0.2, 9.0, 2.0];

    #[test]
    fn json_greedy_follows_the_grammar_and_ends_when_complete() {
        let grammar = Grammar::parse(OBJECT_A).unwrap();
        let table = json_table();
        let options = GenerateOptions { max_tokens: 10, ..GenerateOptions::default() };
        let mut g = Generation::new(&JsonToy, options, Pcg32::new(0, 0)).with_json(&table, &grammar);
        let steps: Vec<Step> = (0..4).map(|_| g.step(&JSON_LOGITS).unwrap()).collect();
        assert_eq!(steps, [Step::Continue(2), Step::Continue(4), Step::Continue(5), Step::Done(StopReason::JsonComplete)]);
        assert_eq!(g.text(), r#"{"a":1}"#);
    }

    #[test]
    fn json_sampling_always_parses_and_eos_waits_for_a_complete_value() {
        let grammar = Grammar::parse(OBJECT_A).unwrap();
        let table = json_table();
        for seed in 0..50 {
            let options = GenerateOptions { max_tokens: 40, temperature: 1.0, ..GenerateOptions::default() };
            let flat = [0.0f32; 8];
            let mut g = Generation::new(&JsonToy, options, Pcg32::new(seed, 0)).with_json(&table, &grammar);
            while let Step::Continue(_) = g.step(&flat).unwrap() {}
            let value: serde_json::Value = serde_json::from_str(g.text()).unwrap_or_else(|e| panic!("seed {seed}: {:?}: {e}", g.text()));
            assert!(value["a"].is_i64(), "{value}");
        }
        // A top-level integer: EOS (the most likely) only once a digit is there.
        let grammar = Grammar::parse(r#"{"type":"integer"}"#).unwrap();
        let mut g = Generation::new(&JsonToy, GenerateOptions::default(), Pcg32::new(0, 0)).with_json(&table, &grammar);
        assert_eq!(g.step(&JSON_LOGITS).unwrap(), Step::Continue(5));
        assert_eq!(g.step(&JSON_LOGITS).unwrap(), Step::Done(StopReason::Eos));
        assert_eq!(g.text(), "1");
    }

    #[test]
    fn json_max_tokens_before_a_complete_value_is_an_error() {
        let grammar = Grammar::parse(OBJECT_A).unwrap();
        let table = json_table();
        let options = GenerateOptions { max_tokens: 2, ..GenerateOptions::default() };
        let mut g = Generation::new(&JsonToy, options, Pcg32::new(0, 0)).with_json(&table, &grammar);
        assert_eq!(g.step(&JSON_LOGITS).unwrap(), Step::Continue(2));
        let err = g.step(&JSON_LOGITS).unwrap_err();
        assert!(err.contains("`max_tokens: 2` ran out before the JSON value was complete") && err.contains(r#""{\"a\":""#), "{err}");
        // A vocabulary that cannot continue the value is an error, not a wrong result.
        let grammar = Grammar::parse(r#"{"type":"boolean"}"#).unwrap();
        let mut g = Generation::new(&JsonToy, GenerateOptions::default(), Pcg32::new(0, 0)).with_json(&table, &grammar);
        assert!(g.step(&JSON_LOGITS).unwrap_err().contains("no token of the model's vocabulary continues the JSON value"));
    }

    #[test]
    fn no_usable_logits_is_an_error() {
        let mut g = Generation::new(&Toy, opts(3, &[]), Pcg32::new(0, 0));
        assert!(g.step(&[]).is_err());
    }
}
