//! HEFT (Topcuoglu et al., 2002): fragments in upward-rank order, each placed on the unit
//! where it finishes earliest, inserted into idle slots. The same list scheduler times a
//! fixed assignment, which the improvement phase and the oracle use.

use crate::cost::{Problem, Residency};
use crate::error::ScheduleError;
use crate::timeline::{Timeline, common_slot};

/// A timed schedule: unit, start and finish per fragment.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Unit per fragment.
    pub unit: Vec<usize>,
    /// Start time per fragment, seconds from the request's arrival.
    pub start: Vec<f64>,
    /// Finish time per fragment.
    pub finish: Vec<f64>,
    /// Last finish.
    pub makespan: f64,
    /// Total USD (sum of fragment costs).
    pub cost: f64,
    /// What held each fragment back: the producer whose data arrived last, or (when the
    /// fragment waited for its device) the fragment that ran before it there.
    pub bound_by: Vec<Option<usize>>,
}

/// How the list scheduler chooses units.
#[derive(Clone, Copy, Debug)]
pub enum Mode<'s> {
    /// Earliest finish time over feasible units (ties: lower cost, then lower unit).
    Heft,
    /// The given unit per fragment.
    Fixed(&'s [usize]),
    /// The first unit of each fragment's preference list whose memory allows it.
    Ranked(&'s [Vec<usize>]),
    /// The given unit where `Some`, HEFT's choice elsewhere (the improvement phase's
    /// model moves: fix a model's fragments, let the rest flow around them).
    Partial(&'s [Option<usize>]),
}

/// Runs the list scheduler over `p.order`. In `Fixed` mode an assignment that breaks a
/// memory limit yields `Err(fragment)`; in `Heft` mode such units are skipped.
pub fn list_schedule(p: &Problem, mode: Mode) -> Result<Timing, usize> {
    list_schedule_in(p, mode, &p.order)
}

/// [`list_schedule`] over `order` (a topological order of all fragments) instead of the
/// priority order: every fragment starts at the earliest idle slot of its unit after its
/// inputs arrive, in that order. The exact solvers time their schedules with it (any
/// schedule is reproduced, or bettered, by timing its assignment in its start order).
pub fn list_schedule_in(p: &Problem, mode: Mode, order: &[usize]) -> Result<Timing, usize> {
    let n = p.len();
    let mut timelines = vec![Timeline::new(); p.target.devices.len()];
    let mut res = Residency::new(p.target);
    let mut unit = vec![usize::MAX; n];
    let mut start = vec![0.0; n];
    let mut finish = vec![0.0; n];
    let mut bound_by = vec![None; n];
    let ready_on = |f: usize, u: usize, unit: &[usize], finish: &[f64]| -> (f64, Option<usize>) {
        let mut best = (0.0, None);
        for &(q, bytes) in &p.preds[f] {
            let t = finish[q] + p.comm(unit[q], u, bytes);
            if best.1.is_none() || t > best.0 {
                best = (t, Some(q));
            }
        }
        best
    };
    for &f in order {
        let exclusive = p.exclusive(f);
        let slot = |u: usize, ready: f64, timelines: &[Timeline]| {
            if exclusive {
                common_slot(timelines, &p.units[u].devices, ready, p.duration(f, u))
            } else {
                ready
            }
        };
        let (u, s, ready, from) = match mode {
            Mode::Fixed(assign) => {
                let u = assign[f];
                if !p.duration(f, u).is_finite() || !res.fits(p, f, u) {
                    return Err(f);
                }
                let (ready, from) = ready_on(f, u, &unit, &finish);
                (u, slot(u, ready, &timelines), ready, from)
            }
            Mode::Ranked(prefs) => {
                let Some(&u) = prefs[f]
                    .iter()
                    .find(|&&u| p.duration(f, u).is_finite() && res.fits(p, f, u))
                else {
                    return Err(f);
                };
                let (ready, from) = ready_on(f, u, &unit, &finish);
                (u, slot(u, ready, &timelines), ready, from)
            }
            Mode::Heft | Mode::Partial(_) => {
                let fixed = match mode {
                    Mode::Partial(fixed) => fixed[f],
                    _ => None,
                };
                let mut best: Option<(f64, f64, usize, f64, f64, Option<usize>)> = None;
                let units = match &fixed {
                    Some(u) => std::slice::from_ref(u),
                    None => &p.feasible[f][..],
                };
                for &u in units {
                    if !p.duration(f, u).is_finite() {
                        continue;
                    }
                    if !res.fits(p, f, u) {
                        continue;
                    }
                    let (ready, from) = ready_on(f, u, &unit, &finish);
                    let s = slot(u, ready, &timelines);
                    let eft = s + p.duration(f, u);
                    let c = p.cost(f, u);
                    if best.is_none_or(|(be, bc, ..)| eft < be || (eft == be && c < bc)) {
                        best = Some((eft, c, u, s, ready, from));
                    }
                }
                let Some((_, _, u, s, ready, from)) = best else {
                    return Err(f);
                };
                (u, s, ready, from)
            }
        };
        let d = p.duration(f, u);
        res.place(p, f, u);
        if exclusive {
            for &dev in &p.units[u].devices {
                timelines[dev].insert(s, s + d, f);
            }
        }
        bound_by[f] = if s > ready {
            p.units[u]
                .devices
                .iter()
                .find_map(|&dev| timelines[dev].ending_at(s))
                .or(from)
        } else {
            from
        };
        unit[f] = u;
        start[f] = s;
        finish[f] = s + d;
    }
    let makespan = finish.iter().copied().fold(0.0, f64::max);
    let cost = (0..n).map(|f| p.cost(f, unit[f])).sum();
    Ok(Timing {
        unit,
        start,
        finish,
        makespan,
        cost,
        bound_by,
    })
}

/// HEFT over the whole workload.
pub fn heft(p: &Problem) -> Result<Timing, ScheduleError> {
    list_schedule(p, Mode::Heft).map_err(|f| ScheduleError::NoDevice {
        fragment: f,
        name: p.workload.fragments[f].name.clone(),
        reason: "the memory of every device that could run it is taken by other models".into(),
    })
}

/// The critical path: from the last-finishing fragment back along `bound_by`, in
/// execution order.
pub fn critical_path(t: &Timing) -> Vec<usize> {
    let Some(mut f) =
        (0..t.finish.len()).max_by(|&a, &b| t.finish[a].total_cmp(&t.finish[b]).then(b.cmp(&a)))
    else {
        return Vec::new();
    };
    let mut seen = vec![false; t.finish.len()];
    seen[f] = true;
    let mut path = vec![f];
    while let Some(q) = t.bound_by[f] {
        if std::mem::replace(&mut seen[q], true) {
            break;
        }
        path.push(q);
        f = q;
    }
    path.reverse();
    path
}
