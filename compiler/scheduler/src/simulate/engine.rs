//! One unit (a device or a tensor-parallel group) as a serving engine with
//! iteration-level (continuous) batching, as Orca and vLLM run: between iterations the
//! unit admits waiting decode sequences while their model's batch is under the cap and
//! the KV pager has their blocks (first come, first served; a sequence that does not fit
//! holds the ones behind it), then runs either the job at the head of its queue
//! (prefills, encodes, compute, KV recomputation: one at a time, first come, first served,
//! ahead of decoding, as vLLM prioritises prefills) or one decode step of every running
//! sequence of one model (models in turn). Before a step each sequence takes the block for
//! its next token; when none is free the most recently admitted sequence is preempted
//! (its blocks freed; it recomputes its KV cache when readmitted).
//!
//! Times are the cost model's roofline extended with a batch dimension: a step of B
//! sequences with contexts c_i on a unit of k devices takes
//! `max((W + Σ kv·(c_i + 1)) / (k·bw·memory_eff), B·F / (k·peak·compute_eff))`, plus the
//! launch overhead and the all-reduce of B tokens, with W the weight bytes one step reads
//! and F one sequence's flops per token; a prefill takes its fragment time at batch 1.
//!
//! Without batching ([`Batching::Off`], agentc's CPU runtime) a unit runs rounds instead:
//! every job that can start and one batch-1 step of every running sequence, all at once
//! and sharing the unit, so a round takes the sum of their times; or, on a CPU device whose
//! target gives its cores C and the cores u one call keeps busy alone (per phase), the
//! time of processor sharing of the C cores, each call at `min(1, C / Σu)` of its speed
//! alone ([`crate::simulate::shared_round_seconds`]).

use crate::simulate::setup::{self, Role};
use crate::simulate::{Batching, Ev, Iter, Job, Sim, shared_round_seconds};
use crate::target::{BusyCores, DeviceKind};

impl Sim<'_> {
    pub(super) fn enqueue_job(&mut self, u: usize, job: Job) {
        let seconds = self.job_seconds(u, job);
        self.units[u].queued_work += seconds;
        self.units[u].jobs.push_back(job);
        self.try_start_unit(u);
    }

    /// Seconds job `job` holds unit `u`.
    fn job_seconds(&self, u: usize, job: Job) -> f64 {
        match job {
            Job::Frag(_, f) => self.seconds_on(f, u),
            Job::Recompute(s) => {
                let q = self.seqs[s].as_ref().expect("a live sequence");
                self.recompute_seconds(u, q.frag, q.ctx)
            }
        }
    }

    fn unit_free(&self, u: usize) -> bool {
        self.units[u].busy.is_none() && self.p.units[u].devices.iter().all(|&d| self.owner[d].is_none())
    }

    fn active(&self, u: usize, model: usize) -> usize {
        let unit = &self.units[u];
        unit.running.iter().filter(|&&s| self.seqs[s].as_ref().is_some_and(|q| q.model == model)).count()
            + unit.joining.get(&model).copied().unwrap_or(0)
    }

    /// Admits waiting sequences in order while they fit.
    fn admit(&mut self, u: usize) {
        let mut i = 0;
        while i < self.units[u].waiting.len() {
            let s = self.units[u].waiting[i];
            let (model, ctx, kv, src, recompute) = {
                let q = self.seqs[s].as_ref().expect("a live sequence");
                (q.model, q.ctx, q.kv, q.src, q.recompute)
            };
            if self.active(u, model) >= self.max_batch {
                i += 1;
                continue;
            }
            match src {
                // Its prompt's KV cache is already here.
                Some(a) if a == u && !recompute => {
                    self.units[u].waiting.remove(i);
                    self.units[u].running.push(s);
                }
                // Its KV cache is on its prefill's unit: take blocks here, move it.
                Some(a) if !recompute => {
                    if !self.units[u].pager.grow(0.0, ctx, kv) {
                        break;
                    }
                    self.units[u].waiting.remove(i);
                    *self.units[u].joining.entry(model).or_default() += 1;
                    let bytes = kv * ctx;
                    let free_at = self.links.get(&(a, u)).copied().unwrap_or(0.0);
                    let start = free_at.max(self.now);
                    let finish = start + self.p.comm(a, u, bytes);
                    self.links.insert((a, u), finish);
                    self.kv_transfers += 1;
                    self.kv_transfer_bytes += bytes;
                    self.push(finish, Ev::KvArrived(s));
                }
                _ => {
                    if !self.units[u].pager.grow(0.0, ctx, kv) {
                        break;
                    }
                    self.units[u].waiting.remove(i);
                    if recompute {
                        *self.units[u].joining.entry(model).or_default() += 1;
                        let seconds = self.job_seconds(u, Job::Recompute(s));
                        self.units[u].queued_work += seconds;
                        self.units[u].jobs.push_front(Job::Recompute(s));
                    } else {
                        self.units[u].running.push(s);
                    }
                }
            }
        }
    }

    /// Asks `u` to start its next iteration once every event of this instant is handled
    /// (so requests arriving together are batched together).
    pub(super) fn try_start_unit(&mut self, u: usize) {
        self.dirty.insert(u);
    }

    /// Starts the next iteration of `u` if it is idle and has work.
    pub(super) fn start_unit(&mut self, u: usize) {
        for _ in 0..3 {
            if !self.unit_free(u) {
                return;
            }
            self.admit(u);
            let started = if self.batching == Batching::Off {
                self.start_round(u)
            } else if self.start_job(u) {
                return;
            } else {
                self.start_step(u)
            };
            match started {
                Some(true) => return,
                Some(false) => continue, // everyone was preempted: admit again
                None => return,
            }
        }
    }

    fn occupy(&mut self, u: usize, iter: Iter, seconds: f64) {
        for &d in &self.p.units[u].devices {
            self.owner[d] = Some(u);
        }
        if matches!(iter, Iter::Job(_)) {
            self.units[u].record.job_busy += seconds;
        }
        self.units[u].busy = Some(iter);
        self.units[u].busy_until = self.now + seconds;
        self.units[u].record.busy += seconds;
        self.push(self.now + seconds, Ev::UnitDone(u));
    }

    /// Starts the job at the head of the queue; false when there is none or the head
    /// prefill's KV blocks are not free.
    fn start_job(&mut self, u: usize) -> bool {
        let Some(&job) = self.units[u].jobs.front() else { return false };
        if !self.blocks_for(u, job) {
            return false;
        }
        let seconds = self.job_seconds(u, job);
        self.units[u].jobs.pop_front();
        let unit = &mut self.units[u];
        unit.queued_work = if unit.jobs.is_empty() { 0.0 } else { (unit.queued_work - seconds).max(0.0) };
        self.occupy(u, Iter::Job(job), seconds);
        true
    }

    /// Runs one decode step of the next model's running sequences: `None` when nothing
    /// runs, `Some(false)` when every candidate was preempted.
    fn start_step(&mut self, u: usize) -> Option<bool> {
        let mut models: Vec<usize> = self.units[u].running.iter().map(|&s| self.seqs[s].as_ref().expect("a live sequence").model).collect();
        models.sort_unstable();
        models.dedup();
        if models.is_empty() {
            return None;
        }
        let rr = self.units[u].rr;
        let model = models.iter().copied().find(|&m| m >= rr).unwrap_or(models[0]);
        self.units[u].rr = model + 1;
        let mut batch: Vec<usize> =
            self.units[u].running.iter().copied().filter(|&s| self.seqs[s].as_ref().is_some_and(|q| q.model == model)).collect();
        self.take_next_blocks(u, &mut batch);
        if batch.is_empty() {
            return Some(false);
        }
        let seconds = self.step_seconds(u, &batch);
        self.units[u].record.steps += 1;
        self.units[u].record.step_sequences += batch.len() as u64;
        self.units[u].record.decode_work += self.decode_work(u, &batch);
        self.occupy(u, Iter::Step(batch), seconds);
        Some(true)
    }

    /// Each sequence of `batch` takes the block for its next token; when none is free the
    /// most recently admitted is preempted (and leaves `batch`). Whether any was.
    fn take_next_blocks(&mut self, u: usize, batch: &mut Vec<usize>) -> bool {
        let mut preempted = false;
        let mut k = 0;
        while k < batch.len() {
            let (ctx, kv) = {
                let q = self.seqs[batch[k]].as_ref().expect("a live sequence");
                (q.ctx, q.kv)
            };
            if self.units[u].pager.grow(ctx, ctx + 1.0, kv) {
                k += 1;
                continue;
            }
            let victim = batch.pop().expect("a non-empty batch");
            self.preempt(u, victim);
            preempted = true;
        }
        preempted
    }

    /// The plan's unit-seconds of one token of each sequence of `batch`.
    fn decode_work(&self, u: usize, batch: &[usize]) -> f64 {
        batch.iter().map(|&s| self.seqs[s].as_ref().map_or(0.0, |q| self.token_seconds_at(q.frag, u))).sum()
    }

    /// Whether `job` can start: a prefill needs the blocks of its prompt (taken here).
    fn blocks_for(&mut self, u: usize, job: Job) -> bool {
        let Job::Frag(_, f) = job else { return true };
        let spec = &self.specs[f];
        !matches!(spec.role, Role::Prefill { .. }) || self.units[u].pager.grow(0.0, spec.tokens, spec.kv_per_token)
    }

    /// The cores of unit `u` and the cores one call keeps busy in each phase, when `u` is
    /// one CPU device whose target gives both; `None` otherwise (a round then takes the
    /// sum of its items' times).
    fn core_sharing(&self, u: usize) -> Option<(f64, BusyCores)> {
        let [d] = self.p.units[u].devices[..] else { return None };
        let device = &self.p.target.devices[d];
        if device.kind != DeviceKind::Cpu {
            return None;
        }
        Some((f64::from(device.cores?), device.busy_cores_per_call?))
    }

    /// The cores `job` keeps busy on a unit of `cores` cores: a prefill's or a KV
    /// recomputation's (a prefill of the context) as measured, any other job all of them.
    fn job_busy_cores(&self, job: Job, cores: f64, busy: BusyCores) -> f64 {
        match job {
            Job::Frag(_, f) if matches!(self.specs[f].role, Role::Prefill { .. }) => busy.prefill,
            Job::Recompute(_) => busy.prefill,
            Job::Frag(..) => cores,
        }
    }

    /// Without batching: starts a round of every queued job that can start (in order,
    /// until a prefill's KV blocks are not free) and one batch-1 step of every running
    /// sequence, all sharing the unit, so the round takes the sum of their times, or their
    /// processor sharing of the unit's cores when it has [`Self::core_sharing`]. `None`
    /// when nothing runs, `Some(false)` when every sequence was preempted and no job runs.
    fn start_round(&mut self, u: usize) -> Option<bool> {
        let sharing = self.core_sharing(u);
        let mut jobs = Vec::new();
        let mut job_seconds = 0.0;
        // (seconds alone, busy cores) of every item of the round.
        let mut items = Vec::new();
        while let Some(&job) = self.units[u].jobs.front() {
            if !self.blocks_for(u, job) {
                break;
            }
            let seconds = self.job_seconds(u, job);
            job_seconds += seconds;
            if let Some((cores, busy)) = sharing {
                items.push((seconds, self.job_busy_cores(job, cores, busy)));
            }
            self.units[u].jobs.pop_front();
            jobs.push(job);
        }
        let unit = &mut self.units[u];
        unit.queued_work = if unit.jobs.is_empty() { 0.0 } else { (unit.queued_work - job_seconds).max(0.0) };
        unit.record.job_busy += job_seconds;
        let mut batch = self.units[u].running.clone();
        let preempted = self.take_next_blocks(u, &mut batch);
        if jobs.is_empty() && batch.is_empty() {
            return if preempted { Some(false) } else { None };
        }
        let steps: Vec<f64> = batch.iter().map(|&s| self.step_seconds(u, &[s])).collect();
        let seconds = match sharing {
            Some((cores, busy)) => {
                items.extend(steps.iter().map(|&t| (t, busy.decode)));
                shared_round_seconds(&items, cores)
            }
            None => job_seconds + steps.iter().sum::<f64>(),
        };
        let work = self.decode_work(u, &batch);
        let record = &mut self.units[u].record;
        record.steps += batch.len() as u64;
        record.step_sequences += batch.len() as u64;
        record.decode_work += work;
        self.occupy(u, Iter::Round(jobs, batch), seconds);
        Some(true)
    }

    fn preempt(&mut self, u: usize, s: usize) {
        self.units[u].running.retain(|&x| x != s);
        let q = self.seqs[s].as_mut().expect("a live sequence");
        self.units[u].pager.free(q.ctx, q.kv);
        q.recompute = true;
        q.src = None;
        self.units[u].waiting.push_front(s);
        self.units[u].record.preemptions += 1;
    }

    /// Seconds of one decode step of `batch` on unit `u`.
    fn step_seconds(&self, u: usize, batch: &[usize]) -> f64 {
        let first = self.seqs[batch[0]].as_ref().expect("a live sequence");
        let spec = &self.specs[first.frag];
        let kv_bytes: f64 = batch.iter().map(|&s| self.seqs[s].as_ref().map_or(0.0, |q| q.kv * (q.ctx + 1.0))).sum();
        let b = batch.len() as f64;
        self.roofline(u, first.frag, b * spec.flops_per_token, self.weight_bytes_on(first.frag, u) + kv_bytes, b)
    }

    /// Seconds to rebuild `ctx` tokens of KV cache of decode `f` on `u` (a prefill of
    /// the whole context, from the decode's per-token figures).
    fn recompute_seconds(&self, u: usize, f: usize, ctx: f64) -> f64 {
        let spec = &self.specs[f];
        self.roofline(u, f, ctx * spec.flops_per_token, self.weight_bytes_on(f, u) + ctx * spec.kv_per_token, ctx)
    }

    fn roofline(&self, u: usize, f: usize, flops: f64, bytes: f64, tokens: f64) -> f64 {
        setup::roofline(self.w, self.p, u, f, flops, bytes, tokens)
    }

    /// An iteration of `u` is over.
    pub(super) fn unit_done(&mut self, u: usize) {
        let iter = self.units[u].busy.take().expect("a busy unit");
        for &d in &self.p.units[u].devices {
            if self.owner[d] == Some(u) {
                self.owner[d] = None;
            }
        }
        match iter {
            Iter::Job(job) => self.finish_job(u, job),
            Iter::Step(batch) => self.finish_step(u, batch),
            Iter::Round(jobs, batch) => {
                for job in jobs {
                    self.finish_job(u, job);
                }
                self.finish_step(u, batch);
            }
        }
        for v in self.neighbours[u].clone() {
            self.try_start_unit(v);
        }
    }

    fn finish_job(&mut self, u: usize, job: Job) {
        match job {
            Job::Frag(r, f) => self.job_done(u, r, f),
            Job::Recompute(s) => {
                let model = self.seqs[s].as_ref().expect("a live sequence").model;
                self.seqs[s].as_mut().expect("a live sequence").recompute = false;
                self.leave_joining(u, model);
                self.units[u].running.push(s);
            }
        }
    }

    /// Each sequence of `batch` has its next token.
    fn finish_step(&mut self, u: usize, batch: Vec<usize>) {
        for s in batch {
            let q = self.seqs[s].as_mut().expect("a live sequence");
            q.ctx += 1.0;
            q.generated += 1.0;
            if q.generated >= q.target {
                let (ctx, kv) = (q.ctx, q.kv);
                self.units[u].pager.free(ctx, kv);
                self.units[u].running.retain(|&x| x != s);
                self.seq_done(s);
            }
        }
    }

    fn leave_joining(&mut self, u: usize, model: usize) {
        if let Some(count) = self.units[u].joining.get_mut(&model) {
            *count -= 1;
            if *count == 0 {
                self.units[u].joining.remove(&model);
            }
        }
    }

    /// A sequence's KV cache has arrived: free it at the source, start decoding.
    pub(super) fn kv_arrived(&mut self, s: usize) {
        let q = self.seqs[s].as_mut().expect("a live sequence");
        let (src, u, model, ctx, kv) = (q.src.expect("a moved sequence"), q.unit, q.model, q.ctx, q.kv);
        q.src = Some(u);
        self.units[src].pager.free(ctx, kv);
        self.leave_joining(u, model);
        self.units[u].running.push(s);
        self.try_start_unit(u);
        self.try_start_unit(src);
    }
}
