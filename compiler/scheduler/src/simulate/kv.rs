//! The paged KV cache of one unit: a byte budget (the unit's memory minus the weights
//! resident on it) handed out in blocks of [`BLOCK_TOKENS`] tokens, as vLLM's
//! PagedAttention does, so a sequence holds `ceil(tokens / BLOCK_TOKENS)` blocks of its
//! model's KV bytes per token and internal fragmentation is under one block per sequence.

/// Tokens per KV block (vLLM's default block size).
pub const BLOCK_TOKENS: f64 = 16.0;

/// KV bytes `tokens` of a model with `kv_per_token` bytes per token occupy: whole blocks.
pub fn block_bytes(tokens: f64, kv_per_token: f64) -> f64 {
    if tokens <= 0.0 || kv_per_token <= 0.0 {
        return 0.0;
    }
    (tokens / BLOCK_TOKENS).ceil() * BLOCK_TOKENS * kv_per_token
}

/// The KV blocks of one unit.
#[derive(Clone, Debug)]
pub struct Pager {
    /// Bytes available for KV blocks.
    pub capacity: f64,
    /// Bytes held by sequences now.
    pub used: f64,
    /// The most bytes ever held.
    pub peak: f64,
}

impl Pager {
    /// An empty pager of `capacity` bytes.
    pub fn new(capacity: f64) -> Pager {
        Pager { capacity: capacity.max(0.0), used: 0.0, peak: 0.0 }
    }

    /// Grows a sequence from `from` to `to` tokens: takes the blocks it lacks, or
    /// nothing and `false` when they are not free.
    pub fn grow(&mut self, from: f64, to: f64, kv_per_token: f64) -> bool {
        let extra = block_bytes(to, kv_per_token) - block_bytes(from, kv_per_token);
        if extra <= 0.0 {
            return true;
        }
        if self.used + extra > self.capacity * (1.0 + 1e-12) {
            return false;
        }
        self.used += extra;
        self.peak = self.peak.max(self.used);
        true
    }

    /// Releases the blocks of a sequence of `tokens` tokens.
    pub fn free(&mut self, tokens: f64, kv_per_token: f64) {
        self.used = (self.used - block_bytes(tokens, kv_per_token)).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_whole_and_refused_when_full() {
        let mut p = Pager::new(4.0 * BLOCK_TOKENS * 10.0);
        assert!(p.grow(0.0, 17.0, 10.0)); // two blocks
        assert_eq!(p.used, 2.0 * BLOCK_TOKENS * 10.0);
        assert!(p.grow(17.0, 32.0, 10.0)); // still two
        assert_eq!(p.used, 2.0 * BLOCK_TOKENS * 10.0);
        assert!(p.grow(0.0, 32.0, 10.0));
        assert!(!p.grow(0.0, 1.0, 10.0));
        p.free(32.0, 10.0);
        assert!(p.grow(0.0, 1.0, 10.0));
    }
}
