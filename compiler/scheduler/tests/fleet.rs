//! `--replicas fleet` against closed forms: a compute-bound prefill on two kinds of GPU,
//! a slow one ($1/h) and one twice as fast ($3/h), four of each, each in a node of its
//! own (no tensor-parallel groups). One request asks `S_slow = F / (peak·eff) + launch`
//! of a slow GPU and `S_fast` (twice the peak) of a fast one, so a unit carries
//! `U / S` requests per second at utilisation target `U`: the slow GPU is cheaper per
//! request carried. Checks that the cheaper kind per capacity is chosen, that the device
//! count forces a mix, that an SLA rules the slow kind out, that the simulated fleet stays
//! under the target, that a rate no fleet carries is refused with the rate it can, and
//! that `--quantize` offers int8 and int4 kinds (a memory-bound decode is cheaper on them)
//! whose fleet the simulator runs.

use agentc_scheduler::simulate::fleet::choose;
use agentc_scheduler::simulate::{Batching, Rng, SimError, SimOptions, SimReport, poisson, simulate};
use agentc_scheduler::{Dtype, Fragment, FragmentKind, ModelNeeds, Options, Pin, Profile, SlaBasis, Target, Workload, schedule};

const PEAK: f64 = 100e12;
const EFF: f64 = 0.5;
const LAUNCH: f64 = 10e-6;
const FLOPS: f64 = 2e12;
const U: f64 = 0.8;

fn gpu(name: &str, peak: f64, price: f64) -> String {
    format!(
        r#"
[[device]]
name = "{name}"
node = "{name}"
kind = "gpu"
model = "gpu"
peak_flops = {{ f32 = {peak} }}
mem_bandwidth = 2e12
mem_bytes = 80e9
price_per_hour = {price}
compute_eff = {EFF}
memory_eff = 0.8
launch_overhead_s = {LAUNCH}
"#
    )
}

/// A CPU ($0.5/h, runs no model here), four slow GPUs and four fast ones.
fn two_kinds() -> Target {
    let mut text = String::from(
        "name = \"fleet-test\"\n[network]\nbandwidth = 50e9\nlatency = 5e-6\n[[device]]\nname = \"cpu\"\nkind = \"cpu\"\nmodel = \"cpu\"\npeak_flops = { f32 = 1e12 }\nmem_bandwidth = 100e9\nmem_bytes = 512e9\nprice_per_hour = 0.5\n",
    );
    for i in 0..4 {
        text += &gpu(&format!("slow{i}"), PEAK, 1.0);
    }
    for i in 0..4 {
        text += &gpu(&format!("fast{i}"), 2.0 * PEAK, 3.0);
    }
    Target::from_toml_str(&text, "fleet-test").unwrap()
}

/// One compute-bound prefill any GPU may run.
fn prefill_workload() -> Workload {
    let profile = Profile { flops: FLOPS, bytes_read: 1e6, tokens: 512.0, dtype: Dtype::F32, ..Profile::default() };
    Workload {
        fragments: vec![Fragment {
            name: "prefill".into(),
            kind: FragmentKind::Prefill,
            profile,
            model: Some(0),
            pin: Some(Pin::Kind("gpu".into())),
            weight: 1.0,
            objective: None,
        }],
        models: vec![ModelNeeds { name: "m".into(), weight_bytes: 1e9, ..ModelNeeds::default() }],
        ..Workload::default()
    }
}

fn seconds(peak: f64) -> f64 {
    (FLOPS / (peak * EFF)).max(1e6 / (2e12 * 0.8)) + LAUNCH
}

fn units_of(names: &[String], prefix: &str) -> usize {
    names.iter().filter(|n| n.starts_with(prefix)).count()
}

#[test]
fn the_cheaper_kind_per_request_carried_is_chosen() {
    let (w, t) = (prefill_workload(), two_kinds());
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let slow = seconds(PEAK);
    let fast = seconds(2.0 * PEAK);
    // $ per request/s: slow 1 / (U / slow), fast 3 / (U / fast) = 1.5 × slow's (nearly).
    assert!(1.0 * slow < 3.0 * fast);
    // 2.5 slow units' worth: three slow GPUs ($3) beat any fleet with a fast one ($4+).
    let rate = 2.5 * U / slow;
    let choice = choose(&w, &s, &t, rate, 256, U, false).unwrap();
    let pool = &choice.pools[0];
    let slow_kind = pool.kinds.iter().find(|k| k.units[0].starts_with("slow")).unwrap();
    assert!((slow_kind.seconds_per_request - slow).abs() < 1e-12 * slow, "{} vs {slow}", slow_kind.seconds_per_request);
    assert!((slow_kind.capacity - U / slow).abs() < 1e-9 * U / slow);
    assert_eq!(slow_kind.units.len(), 4);
    let exact = choice.exact.as_ref().expect("an exact fleet");
    assert_eq!(exact.units[0], ["slow0", "slow1", "slow2"]);
    assert!((exact.usd_per_hour - 3.0).abs() < 1e-12);
    assert_eq!(choice.gap, Some(1.0));
    assert_eq!(choice.plan.pools[0].names, ["slow0", "slow1", "slow2"]);
}

#[test]
fn a_device_limit_forces_a_mix_and_the_mix_is_simulated_under_the_target() {
    let (w, t) = (prefill_workload(), two_kinds());
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let (slow, fast) = (seconds(PEAK), seconds(2.0 * PEAK));
    // 5.5 slow units' worth and only four slow GPUs: four slow + one fast ($7) is the
    // cheapest; three slow + one fast carries only about 5.
    let rate = 5.5 * U / slow;
    let choice = choose(&w, &s, &t, rate, 256, U, false).unwrap();
    let exact = choice.exact.as_ref().expect("an exact fleet");
    assert_eq!(units_of(&exact.units[0], "slow"), 4);
    assert_eq!(units_of(&exact.units[0], "fast"), 1);
    assert!((exact.usd_per_hour - 7.0).abs() < 1e-12);
    let pool = &choice.plan.pools[0];
    // The rate splits by speed: rate / (4/slow + 1/fast) per unit.
    let planned = rate / (4.0 / slow + 1.0 / fast);
    assert!((pool.utilisation_at(rate) - planned).abs() < 1e-12, "{} vs {planned}", pool.utilisation_at(rate));
    assert!(planned <= U);
    let duration = 20_000.0 / rate;
    let arrivals = poisson(rate, duration, &mut Rng::new(4));
    let count = arrivals.len();
    let options = SimOptions { arrivals, seed: 3, max_batch: 256, replicas: Some(choice.plan.clone()), batching: Batching::Continuous };
    let r = simulate(&w, &s, &t, &options).unwrap();
    assert_eq!(r.requests.len(), count);
    let report = SimReport::new(&r, &w, &t, duration, None, SlaBasis::Worst);
    // Every job ran once on some unit of the pool at that unit's own seconds: Σ busy / S
    // over the units is the number of requests.
    let mut jobs = 0.0;
    for (&u, &s_u) in pool.units.iter().zip(&pool.unit_seconds) {
        let unit = r.units.iter().find(|x| x.index == u).unwrap();
        let utilisation = unit.busy / r.span;
        eprintln!("{}: {utilisation:.4} (planned {planned:.4})", unit.name);
        // Routing counts outstanding work in each unit's own job seconds and breaks
        // ties to the least busy: every unit runs near the pool's planned utilisation.
        assert!((utilisation - planned).abs() < 0.01, "{}: {utilisation} vs {planned}", unit.name);
        jobs += unit.busy / s_u;
    }
    assert!((jobs - count as f64).abs() < 1e-6 * count as f64, "{jobs} vs {count}");
    let measured = report.replicas.pools[0].utilisation;
    assert!((measured - planned).abs() < 0.01, "{measured} vs {planned}");
    // The fleet's price: the five GPUs (no fragment on the CPU).
    assert!((report.fleet_usd_per_hour - 7.0).abs() < 1e-12, "{}", report.fleet_usd_per_hour);
}

#[test]
fn an_sla_rules_the_slow_kind_out() {
    let (w, t) = (prefill_workload(), two_kinds());
    let (slow, fast) = (seconds(PEAK), seconds(2.0 * PEAK));
    let sla = 0.5 * (slow + fast);
    let s = schedule(&w, &t, &Options { sla_seconds: Some(sla), ..Options::default() }).unwrap();
    let rate = 2.5 * U / slow;
    let choice = choose(&w, &s, &t, rate, 256, U, false).unwrap();
    let kinds = &choice.pools[0].kinds;
    let slow_kind = kinds.iter().find(|k| k.units[0].starts_with("slow")).unwrap();
    let fast_kind = kinds.iter().find(|k| k.units[0].starts_with("fast")).unwrap();
    assert!((slow_kind.latency.unwrap() - slow).abs() < 1e-12);
    assert!(slow_kind.ruled_out.is_some());
    assert!(fast_kind.ruled_out.is_none());
    let exact = choice.exact.as_ref().expect("an exact fleet");
    // 2.5 slow units' worth is 2.5 × fast/slow ≈ 1.25 fast units: two fast GPUs.
    assert_eq!(exact.units[0], ["fast0", "fast1"]);
    assert!((exact.usd_per_hour - 6.0).abs() < 1e-12);
}

#[test]
fn a_rate_no_fleet_carries_names_the_rate_it_can() {
    let (w, t) = (prefill_workload(), two_kinds());
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let (slow, fast) = (seconds(PEAK), seconds(2.0 * PEAK));
    let most = 4.0 * U / slow + 4.0 * U / fast;
    match choose(&w, &s, &t, 1.5 * most, 256, U, false) {
        Err(SimError::FleetInfeasible { max_rate, .. }) => assert!((max_rate - most).abs() < 1e-9 * most, "{max_rate} vs {most}"),
        other => panic!("expected FleetInfeasible, got {other:?}"),
    }
    assert!(choose(&w, &s, &t, 0.99 * most, 256, U, false).is_ok());
    assert!(matches!(choose(&w, &s, &t, 1.0, 256, 0.0, false), Err(SimError::Plan(_))));
}

/// A memory-bound decode of an f32 model (8 GB of weights) any GPU may run.
fn decode_workload() -> Workload {
    let (w, kv, prompt, n) = (8e9, 65536.0, 200.0, 64.0);
    let kv_reads = kv * (n * prompt + n * (n + 1.0) / 2.0);
    let profile = Profile {
        flops: 1e8 * n,
        bytes_read: n * w + kv_reads,
        bytes_written: kv * n,
        working_bytes: kv * (prompt + n),
        tokens: n,
        dtype: Dtype::F32,
        ..Profile::default()
    };
    Workload {
        fragments: vec![Fragment {
            name: "decode".into(),
            kind: FragmentKind::Decode,
            profile,
            model: Some(0),
            pin: Some(Pin::Kind("gpu".into())),
            weight: 1.0,
            objective: None,
        }],
        models: vec![ModelNeeds { name: "m".into(), weight_bytes: w, ..ModelNeeds::default() }],
        ..Workload::default()
    }
}

#[test]
fn quantized_kinds_are_offered_when_asked_and_their_fleet_simulates() {
    let (w, t) = (decode_workload(), two_kinds());
    let s = schedule(&w, &t, &Options::default()).unwrap();
    // Ask what one slow GPU carries at int4: the weights read per step shrink to
    // 0.5625 / 4 of f32's, so that is more than one carries natively.
    let probe = choose(&w, &s, &t, 1.0, 256, U, true).unwrap();
    let kinds = &probe.pools[0].kinds;
    let load = |name: &str| kinds.iter().find(|k| k.kind == name).map(|k| k.seconds_per_request).unwrap();
    let slow = kinds[0].kind.clone();
    let (native_s, int8_s, int4_s) = (load(&slow), load(&format!("{slow} int8")), load(&format!("{slow} int4")));
    assert!(int4_s < int8_s && int8_s < native_s, "{kinds:?}");
    let rate = 0.99 * U / int4_s;
    assert!(rate > U / native_s);
    let native = choose(&w, &s, &t, rate, 256, U, false).unwrap();
    assert!(native.pools[0].kinds.iter().all(|k| !k.kind.contains("int")), "{:?}", native.pools[0].kinds);
    let quantized = choose(&w, &s, &t, rate, 256, U, true).unwrap();
    // One slow GPU at int4 ($1) where the native fleet needs more than one slow GPU's
    // capacity (two or more, or a fast one).
    let (a, b) = (native.exact.as_ref().unwrap().usd_per_hour, quantized.exact.as_ref().unwrap().usd_per_hour);
    assert!(a >= 2.0 && b == 1.0, "native {a}, quantized {b}");
    assert_eq!(quantized.exact.as_ref().unwrap().counts[0], [(format!("{slow} int4"), 1)]);
    assert!(quantized.plan.every_precision);
    // The simulator indexes the plan's units as the fleet did.
    let arrivals = poisson(rate, 2.0, &mut Rng::new(5));
    let count = arrivals.len();
    let options = SimOptions { arrivals, seed: 1, max_batch: 256, replicas: Some(quantized.plan.clone()), batching: Batching::Continuous };
    let r = simulate(&w, &s, &t, &options).unwrap();
    assert_eq!(r.requests.len(), count);
    let used: Vec<usize> = r.units.iter().map(|u| u.index).collect();
    assert!(quantized.plan.pools[0].units.iter().all(|u| used.contains(u)));
}
