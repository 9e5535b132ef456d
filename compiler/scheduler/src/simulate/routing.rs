//! Which replica of its pool a fragment goes to. A job (prefill, encode, compute) goes to
//! the replica with the **least outstanding work**: the seconds of the jobs queued there
//! or on their way, plus what is left of the iteration it is running (ties, as among idle
//! replicas: fewer sequences, then the least busy so far, then the pool's order, so idle
//! replicas share the work evenly; in a fleet's pool of several kinds the fewest requests
//! there, jobs and decode sequences, ties again to the least busy). For identical deterministic jobs this is
//! join-the-shortest-queue by work, which makes k replicas one M/D/k queue: a job never
//! waits behind another while some replica is idle, so the mean wait is below M/D/1's at
//! the same per-replica load (random routing would give M/D/1 exactly).
//!
//! A decode sequence stays on the replica that ran its prefill when the prefill's pool is
//! its own (the KV cache is there); otherwise (disaggregated, or no prefill) it goes to
//! the replica with the **fewest sequences** (waiting, joining or running; in a fleet's pool
//! of several kinds, (sequences + 1) × the unit's seconds per token; ties: least
//! outstanding work, then the least busy so far, then the pool's order), and its KV cache moves there from the
//! prefill's replica.

use std::cmp::Ordering;

use crate::simulate::Sim;

impl Sim<'_> {
    /// Seconds of work ahead of a new job on unit `u`.
    fn outstanding(&self, u: usize) -> f64 {
        let unit = &self.units[u];
        let running = if unit.busy.is_some() { (unit.busy_until - self.now).max(0.0) } else { 0.0 };
        unit.queued_work + unit.inbound_work + running
    }

    /// Requests at unit `u`: jobs queued or running, decode sequences, and work on its way.
    fn in_system(&self, u: usize) -> usize {
        let unit = &self.units[u];
        let running = usize::from(matches!(unit.busy, Some(crate::simulate::Iter::Job(_))));
        unit.jobs.len() + running + self.sequences(u)
    }

    /// Decode sequences on unit `u` or on their way to it.
    fn sequences(&self, u: usize) -> usize {
        let unit = &self.units[u];
        unit.waiting.len() + unit.running.len() + unit.joining.values().sum::<usize>() + unit.inbound
    }

    /// The replica of `f`'s pool a job of `f` goes to: the least outstanding work; in a
    /// pool whose units differ in seconds per request (a fleet's mix of kinds), the fewest
    /// requests there (jobs queued, running or on their way, and decode sequences), ties
    /// to the least busy so far, which keeps each unit near the pool's planned
    /// utilisation. Outstanding work alone would load the fast units (they finish first)
    /// and miss the decodes that follow a prefill onto its replica; the shortest expected
    /// delay, `(requests + 1) × seconds`, loads them too (seen: 0.68 and 0.93 for a
    /// planned 0.73 in `tests/fleet.rs`).
    pub(super) fn route_job(&self, f: usize) -> usize {
        self.pick(f, |a, b| {
            let (sa, sb) = (self.request_seconds.get(&a).copied().unwrap_or(0.0), self.request_seconds.get(&b).copied().unwrap_or(0.0));
            let first = if sa == sb || sa <= 0.0 || sb <= 0.0 {
                self.outstanding(a).total_cmp(&self.outstanding(b))
            } else {
                self.in_system(a).cmp(&self.in_system(b))
            };
            first.then(self.sequences(a).cmp(&self.sequences(b)))
        })
    }

    /// The replica of decode `f`'s pool a new sequence goes to; `src` is the unit holding
    /// its prompt's KV cache, if any (kept when it is one of the pool's).
    pub(super) fn route_seq(&self, f: usize, src: Option<usize>) -> usize {
        if let Some(a) = src
            && self.pool_of.get(f).copied().flatten().is_some_and(|i| self.pools[i].contains(&a))
        {
            return a;
        }
        self.pick(f, |a, b| {
            let (ta, tb) = (self.token_seconds_at(f, a), self.token_seconds_at(f, b));
            // In a pool of several kinds, sequences weighted by the unit's seconds per token.
            let first = if ta == tb || ta <= 0.0 || tb <= 0.0 {
                self.sequences(a).cmp(&self.sequences(b))
            } else {
                ((self.sequences(a) + 1) as f64 * ta).total_cmp(&((self.sequences(b) + 1) as f64 * tb))
            };
            first.then(self.outstanding(a).total_cmp(&self.outstanding(b)))
        })
    }

    /// The first replica of `f`'s pool in `order`, ties to the least busy so far, then to
    /// the pool's order (`min_by` keeps the first of equals); `f`'s own unit without a pool.
    fn pick(&self, f: usize, order: impl Fn(usize, usize) -> Ordering) -> usize {
        let unit = self.specs[f].unit;
        let Some(pool) = self.pool_of.get(f).copied().flatten().map(|i| &self.pools[i]) else { return unit };
        pool.iter()
            .copied()
            .min_by(|&a, &b| order(a, b).then(self.units[a].record.busy.total_cmp(&self.units[b].record.busy)))
            .unwrap_or(unit)
    }
}
