//! Token selection and the stop rules of `generate` (docs/language.md §8.1): greedy argmax,
//! temperature sampling with a seeded PCG32, stop texts, `max_tokens` and EOS.
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
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in logits.iter().enumerate() {
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
    let total: f64 = weights.iter().sum();
    let target = rng.next_f64() * total;
    let mut running = 0.0;
    let mut last_positive = first;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            running += w;
            last_positive = i;
            if running > target {
                return Some(i);
            }
        }
    }
    Some(last_positive) // rounding: the sum fell just short of `target`
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
    /// Token ids that end the generation as an EOS does (not kept): a chat template's
    /// end-of-turn token.
    pub end_ids: Vec<u32>,
    /// Made by `chat`: the model's end-of-turn token is added to `end_ids` when decoding.
    pub chat: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions { max_tokens: 128, temperature: 0.0, stop: Vec::new(), end_ids: Vec::new(), chat: false }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
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
    ids: Vec<u32>,
    text: String,
    done: Option<StopReason>,
}

impl<'t, D: Detokenizer + ?Sized> Generation<'t, D> {
    /// A new generation; `rng` is used only when `options.temperature > 0`.
    pub fn new(detok: &'t D, options: GenerateOptions, rng: Pcg32) -> Self {
        let done = (options.max_tokens == 0).then_some(StopReason::MaxTokens);
        Generation { detok, options, rng, ids: Vec::new(), text: String::new(), done }
    }

    /// Selects the next token from `logits` (of the last position) and applies the stop rules.
    /// Errors: empty or all-NaN logits, or a decoding failure.
    pub fn step(&mut self, logits: &[f32]) -> Result<Step, String> {
        if let Some(reason) = self.done {
            return Ok(Step::Done(reason));
        }
        let token = sample(logits, self.options.temperature, &mut self.rng)
            .ok_or_else(|| "the model gave no usable logits (empty or all NaN)".to_string())? as u32;
        if self.detok.is_eos(token) || self.options.end_ids.contains(&token) {
            return Ok(self.finish(StopReason::Eos));
        }
        self.ids.push(token);
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
        GenerateOptions { max_tokens, temperature: 0.0, stop: stop.iter().map(|s| s.to_string()).collect(), ..GenerateOptions::default() }
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

    #[test]
    fn no_usable_logits_is_an_error() {
        let mut g = Generation::new(&Toy, opts(3, &[]), Pcg32::new(0, 0));
        assert!(g.step(&[]).is_err());
    }
}
