//! The fleet choice's heuristic against its exact MILP over random small fleets
//! (docs/simulation.md, "A fleet for a rate"): 200 instances of 1–3 pools on 1–3 device
//! entries of 2–8 devices, tensor-parallel units of 1, 2, 4 and 8 aligned devices (and
//! sometimes of 3, which the exact model handles unit by unit) whose capacity grows
//! sublinearly with the degree (the exponent drawn per kind), some kinds unable to serve some pools, and
//! a rate between 20 % and 95 % of what the target can carry. Checks that every answer
//! is a fleet (covers the rate on disjoint devices), that the heuristic is never cheaper
//! than the proved optimum, and bounds the mean and worst gap; prints the statistics
//! (`cargo test -p agentc-scheduler --test fleet_gap -- --nocapture`).

use agentc_scheduler::simulate::Rng;
use agentc_scheduler::simulate::fleet_solve::{Candidate, FleetProblem, exact, greedy, max_rate};

/// A random fleet problem, or `None` when the drawn target carries nothing.
fn instance(rng: &mut Rng) -> Option<FleetProblem> {
    let pick = |rng: &mut Rng, n: usize| (rng.uniform() * n as f64) as usize % n;
    let entries = 1 + pick(rng, 3);
    let pools = 1 + pick(rng, 3);
    // Per entry: its devices, the price of one, its speed.
    let mut devices = 0;
    let mut units: Vec<(Vec<usize>, f64, f64, usize)> = Vec::new(); // devices, price, speed, entry
    let mut members_of = Vec::new();
    for e in 0..entries {
        let size = [2, 4, 8][pick(rng, 3)];
        let price = 0.5 + 3.5 * rng.uniform();
        let speed = 0.5 + 1.5 * rng.uniform();
        // Degrees: the powers of two, and in a quarter of the entries of 8 also groups of 3
        // (a model that needs three devices; form_units makes such groups), which the
        // exact model can only handle unit by unit.
        let mut degrees: Vec<usize> = [1, 2, 4, 8].into_iter().filter(|&k| k <= size).collect();
        if size == 8 && rng.uniform() < 0.25 {
            degrees.push(3);
        }
        for k in degrees {
            let carried = speed * (k as f64).powf(0.75 + 0.25 * rng.uniform());
            for chunk in 0..size / k {
                let members: Vec<usize> = (devices + chunk * k..devices + (chunk + 1) * k).collect();
                units.push((members, price * k as f64, carried, e));
            }
        }
        members_of.push((devices..devices + size).collect());
        devices += size;
    }
    let mut problem = FleetProblem { rate: 1.0, devices, entries: members_of, pools: Vec::new() };
    for _ in 0..pools {
        let demand = 0.2 + 2.0 * rng.uniform();
        // Each (entry, degree) kind serves the pool with probability 0.8 (a model that
        // does not fit, a `can_run`, a pin).
        let mut allowed = std::collections::BTreeMap::new();
        let candidates = units
            .iter()
            .enumerate()
            .filter(|(_, (members, _, _, e))| *allowed.entry((*e, members.len())).or_insert_with(|| rng.uniform() < 0.8))
            .map(|(i, (members, price, speed, _))| Candidate { unit: i, devices: members.clone(), price: *price, capacity: speed / demand })
            .collect();
        problem.pools.push(candidates);
    }
    let most = max_rate(&problem, 10.0);
    if most <= 0.0 {
        return None;
    }
    problem.rate = most * (0.2 + 0.75 * rng.uniform());
    Some(problem)
}

#[test]
fn heuristic_against_exact_over_random_fleets() {
    let mut rng = Rng::new(11);
    let (mut gaps, mut misses, mut skipped) = (Vec::new(), 0, 0);
    let mut instances = 0;
    while instances < 200 {
        let Some(fp) = instance(&mut rng) else { continue };
        instances += 1;
        let optimum = match exact(&fp, 10.0) {
            Ok(a) => a,
            Err(why) => {
                let odd = fp.pools.iter().flatten().any(|c| !c.devices.len().is_power_of_two());
                println!("exact skipped ({why:?}); groups of 3 devices: {odd}");
                skipped += 1;
                continue;
            }
        };
        assert!(fp.feasible(&optimum), "the exact fleet does not cover the rate: {fp:?} {optimum:?}");
        match greedy(&fp) {
            Some(h) => {
                assert!(fp.feasible(&h), "the heuristic fleet does not cover the rate: {fp:?} {h:?}");
                assert!(h.usd_per_hour >= optimum.usd_per_hour * (1.0 - 1e-9), "the heuristic beat the optimum: {fp:?}");
                gaps.push(h.usd_per_hour / optimum.usd_per_hour);
            }
            None => misses += 1,
        }
    }
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let worst = gaps.iter().copied().fold(1.0, f64::max);
    let optimal = gaps.iter().filter(|&&g| g <= 1.0 + 1e-9).count();
    println!(
        "fleet gap over {instances} random fleets: {} solved exactly, heuristic optimal on {optimal}, mean gap {mean:.4}, worst {worst:.4}, heuristic found none on {misses}, exact skipped on {skipped}",
        gaps.len() + misses
    );
    // The per-kind model (aligned power-of-two groups) is solved within the time limit;
    // the per-unit one (groups of 3) may not be, on a loaded machine.
    assert!(skipped <= 10, "the exact solver proved {skipped} instances neither optimal nor infeasible");
    assert!(mean <= 1.05, "mean gap {mean}");
    assert!(worst <= 1.5, "worst gap {worst}");
    assert!(misses <= 4, "the heuristic found no fleet on {misses} instances");
}
