//! A request's walk through the fragment graph: its path through the `if`s (each arm drawn
//! by its probability, an `if` that follows an earlier one's condition decided by it, as
//! `paths.rs` enumerates them), its repetitions (a fragment's on-path weight is its loops'
//! trip count: `floor(w)` executions plus one more with probability `w - floor(w)`),
//! readiness (all producers done, data moved over the link between their units), and
//! completion. A generate call (a prefill and its decode) repeats as a pair: prefill,
//! decode, prefill, decode.

use crate::simulate::setup::Role;
use crate::simulate::{Ev, Job, PathInfo, Req, RequestRecord, Seq, Sim};

impl Sim<'_> {
    /// A request arrives: draw its path and repetitions, start its source fragments.
    pub(super) fn arrive(&mut self) {
        let n = self.w.fragments.len();
        let (on_path, scale, arms) = self.draw_path();
        let path = match self.paths.iter().position(|q| q.arms == arms) {
            Some(i) => i,
            None => {
                self.paths.push(PathInfo { arms, probability: f64::NAN, planned_latency: f64::NAN });
                self.paths.len() - 1
            }
        };
        let mut reps = vec![0u32; n];
        for f in 0..n {
            if !on_path[f] {
                continue;
            }
            let w = self.w.fragments[f].weight * scale[f];
            let whole = w.floor();
            reps[f] = whole as u32 + u32::from(self.rng.uniform() < w - whole);
        }
        // A generate call repeats as a whole.
        for f in 0..n {
            if let Role::Decode { prefill: Some(p) } = self.specs[f].role {
                reps[p] = reps[f];
            }
        }
        let pending: Vec<usize> = self.specs.iter().map(|s| s.preds.len()).collect();
        let r = self.reqs.len();
        self.reqs.push(Some(Req {
            arrival: self.now,
            on_path,
            reps,
            done_reps: vec![0; n],
            pending: pending.clone(),
            done_at: vec![self.now; n],
            unit_of: self.specs.iter().map(|s| s.unit).collect(),
            completed: vec![false; n],
            remaining: n,
            finish: self.now,
            path,
            first_token: None,
            decode_time: 0.0,
            decode_tokens: 0.0,
        }));
        self.in_system += 1;
        if n == 0 {
            self.finish_request(r);
            return;
        }
        for (f, &count) in pending.iter().enumerate() {
            if count == 0 {
                self.release(r, f);
            }
        }
    }

    /// Draws one path: which fragments it keeps, the factor turning each kept fragment's
    /// expected weight into its on-path weight, and the arms taken.
    fn draw_path(&mut self) -> (Vec<bool>, Vec<f64>, Vec<(usize, usize)>) {
        let n = self.w.fragments.len();
        let mut on_path = vec![true; n];
        let mut scale = vec![1.0; n];
        let mut arms: Vec<(usize, usize)> = Vec::new();
        for (b, branch) in self.w.branches.iter().enumerate() {
            let reached = branch.arms.iter().flatten().any(|&f| f < n && on_path[f]);
            if !reached {
                continue;
            }
            let decided = branch.follows.and_then(|(earlier, negated)| {
                arms.iter().find(|&&(taken, _)| taken == earlier).map(|&(_, arm)| if negated { 1 - arm } else { arm })
            });
            let arm = match decided {
                Some(arm) => arm,
                None if branch.probabilities[0] <= 0.0 => 1,
                None if branch.probabilities[1] <= 0.0 => 0,
                None => usize::from(self.rng.uniform() >= branch.probabilities[0]),
            };
            for &f in &branch.arms[1 - arm] {
                if f < n {
                    on_path[f] = false;
                }
            }
            if branch.probabilities[arm] > 0.0 {
                for &f in &branch.arms[arm] {
                    if f < n {
                        scale[f] /= branch.probabilities[arm];
                    }
                }
            }
            arms.push((b, arm));
        }
        (on_path, scale, arms)
    }

    /// Every producer of `f` is done: send it to a replica of its pool (routing) and
    /// make it ready once the last producer's data has crossed the link to that unit.
    fn release(&mut self, r: usize, f: usize) {
        let req = self.reqs[r].as_ref().expect("a live request");
        let runs = req.on_path[f] && req.reps[f] > 0;
        let unit = match self.specs[f].role {
            Role::Job | Role::Prefill { .. } if runs => {
                let u = self.route_job(f);
                self.units[u].inbound_work += self.seconds_on(f, u);
                Some(u)
            }
            Role::Decode { prefill: None } if runs => Some(self.route_seq(f, None)),
            _ => None,
        };
        if let Some(u) = unit {
            self.units[u].inbound += 1;
        }
        let req = self.reqs[r].as_mut().expect("a live request");
        if let Some(u) = unit {
            req.unit_of[f] = u;
        }
        let to = req.unit_of[f];
        let mut t = req.arrival;
        for &(q, bytes) in &self.specs[f].preds {
            let ran = req.on_path[q] && req.reps[q] > 0;
            let paired = matches!(self.specs[q].role, Role::Prefill { decode: Some(d) } if d == f);
            let comm = if ran && !paired && req.on_path[f] { self.p.comm(req.unit_of[q], to, bytes) } else { 0.0 };
            t = t.max(req.done_at[q] + comm);
        }
        self.push(t, Ev::Ready(r, f));
    }

    /// A fragment has its inputs: skip it (off the path, or no repetition), or start it
    /// on the unit [`Self::release`] sent it to.
    pub(super) fn ready(&mut self, r: usize, f: usize) {
        let req = self.reqs[r].as_ref().expect("a live request");
        let runs = req.on_path[f] && req.reps[f] > 0;
        if !runs {
            self.complete(r, f);
            return;
        }
        let (reps, unit) = (req.reps[f], req.unit_of[f]);
        let spec = &self.specs[f];
        match spec.role {
            Role::Delay => {
                let t = self.now + reps as f64 * spec.seconds;
                self.push(t, Ev::DelayDone(r, f));
            }
            Role::Job | Role::Prefill { .. } => {
                let seconds = self.seconds_on(f, unit);
                self.arrived_inbound(unit, seconds);
                self.enqueue_job(unit, Job::Frag(r, f));
            }
            // The pair's prefill drives it.
            Role::Decode { prefill: Some(_) } => {}
            Role::Decode { prefill: None } => {
                self.arrived_inbound(unit, 0.0);
                self.new_seq(r, f, None, unit);
            }
        }
    }

    /// Work routed to `u` has arrived there.
    fn arrived_inbound(&mut self, u: usize, seconds: f64) {
        let unit = &mut self.units[u];
        unit.inbound = unit.inbound.saturating_sub(1);
        unit.inbound_work = if unit.inbound == 0 { 0.0 } else { (unit.inbound_work - seconds).max(0.0) };
    }

    /// A new decode sequence for one execution of `f` on `unit`; `src` is the unit
    /// holding its prompt's KV cache (its prefill's), if any.
    pub(super) fn new_seq(&mut self, r: usize, f: usize, src: Option<usize>, unit: usize) {
        let spec = &self.specs[f];
        let seq = Seq {
            req: r,
            frag: f,
            unit,
            model: spec.model.unwrap_or(usize::MAX),
            kv: spec.kv_per_token,
            ctx: spec.prompt,
            generated: 0.0,
            target: spec.tokens.round().max(1.0),
            src,
            recompute: false,
            start: self.now,
        };
        let unit = seq.unit;
        self.seqs.push(Some(seq));
        let s = self.seqs.len() - 1;
        self.units[unit].waiting.push_back(s);
        self.try_start_unit(unit);
    }

    /// One execution of a job fragment is over.
    pub(super) fn job_done(&mut self, u: usize, r: usize, f: usize) {
        let spec = &self.specs[f];
        let req = self.reqs[r].as_mut().expect("a live request");
        req.done_reps[f] += 1;
        let last = req.done_reps[f] >= req.reps[f];
        match spec.role {
            Role::Prefill { decode: Some(d) } => {
                req.first_token.get_or_insert(self.now);
                let v = self.route_seq(d, Some(u));
                self.reqs[r].as_mut().expect("a live request").unit_of[d] = v;
                self.new_seq(r, d, Some(u), v);
                if last {
                    self.complete(r, f);
                }
            }
            Role::Prefill { decode: None } => {
                self.units[u].pager.free(spec.tokens, spec.kv_per_token);
                if last {
                    self.complete(r, f);
                } else {
                    self.enqueue_job(u, Job::Frag(r, f));
                }
            }
            _ => {
                if last {
                    self.complete(r, f);
                } else {
                    self.enqueue_job(u, Job::Frag(r, f));
                }
            }
        }
    }

    /// A decode sequence has generated all its tokens.
    pub(super) fn seq_done(&mut self, s: usize) {
        let seq = self.seqs[s].take().expect("a live sequence");
        let (r, f) = (seq.req, seq.frag);
        let req = self.reqs[r].as_mut().expect("a live request");
        req.first_token.get_or_insert(self.now);
        req.decode_time += self.now - seq.start;
        req.decode_tokens += seq.generated;
        req.done_reps[f] += 1;
        let last = req.done_reps[f] >= req.reps[f];
        match self.specs[f].role {
            // The call again: its prefill goes to a replica by the routing rule.
            Role::Decode { prefill: Some(p) } if !last => {
                let u = self.route_job(p);
                self.reqs[r].as_mut().expect("a live request").unit_of[p] = u;
                self.enqueue_job(u, Job::Frag(r, p));
            }
            _ if !last => {
                let u = self.route_seq(f, None);
                self.reqs[r].as_mut().expect("a live request").unit_of[f] = u;
                self.new_seq(r, f, None, u);
            }
            _ => self.complete(r, f),
        }
    }

    /// `f` is done for request `r`: release its consumers (after the data's transfer).
    pub(super) fn complete(&mut self, r: usize, f: usize) {
        let req = self.reqs[r].as_mut().expect("a live request");
        if std::mem::replace(&mut req.completed[f], true) {
            return;
        }
        req.done_at[f] = self.now;
        let mut ready = Vec::new();
        for &(s, _) in &self.specs[f].succs {
            req.pending[s] -= 1;
            if req.pending[s] == 0 {
                ready.push(s);
            }
        }
        req.finish = req.finish.max(self.now);
        req.remaining -= 1;
        let finished = req.remaining == 0;
        for s in ready {
            self.release(r, s);
        }
        if finished {
            self.finish_request(r);
        }
    }

    fn finish_request(&mut self, r: usize) {
        let req = self.reqs[r].take().expect("a live request");
        self.in_system -= 1;
        self.records.push((
            r,
            RequestRecord {
                arrival: req.arrival,
                finish: req.finish,
                ttft: req.first_token.map(|t| t - req.arrival),
                tpot: (req.decode_tokens > 0.0).then(|| req.decode_time / req.decode_tokens),
                tokens: req.decode_tokens,
                path: req.path,
            },
        ));
    }
}
