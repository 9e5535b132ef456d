//! The simulator against closed-form results: M/D/1 waiting time, Little's law, decode
//! throughput at saturation from the batched roofline, preemption when KV runs out, the KV
//! transfer of a disaggregated call, per-path SLA verdicts. Each test computes what the
//! formula says from the target's numbers and asserts the simulation agrees.

use agentc_scheduler::simulate::{SimOptions, SimReport, SimResult, Rng, poisson, simulate};
use agentc_scheduler::{Branch, Dtype, Edge, Fragment, FragmentKind, ModelNeeds, Options, Pin, Profile, SlaBasis, Target, Workload, schedule};

const GPU_PEAK: f64 = 100e12;
const GPU_BW: f64 = 2e12;
const COMPUTE_EFF: f64 = 0.5;
const MEMORY_EFF: f64 = 0.8;
const LAUNCH: f64 = 10e-6;
const LINK_BW: f64 = 50e9;
const LINK_LAT: f64 = 5e-6;

/// A CPU and two GPUs of `gpu_mem` bytes joined by a 50 GB/s link. The GPUs sit in two
/// nodes so that each is a unit of its own: the scheduler forms tensor-parallel groups of
/// every degree within a node, and these tests are about one GPU's queue.
fn target(gpu_mem: f64) -> Target {
    let text = format!(
        r#"
name = "sim-test"
[[device]]
name = "cpu"
kind = "cpu"
model = "cpu"
peak_flops = {{ f32 = 1e12 }}
mem_bandwidth = 100e9
mem_bytes = 512e9
price_per_hour = 1.0
[[device]]
name = "gpu_0"
node = "n0"
kind = "gpu"
model = "gpu"
peak_flops = {{ f32 = {GPU_PEAK} }}
mem_bandwidth = {GPU_BW}
mem_bytes = {gpu_mem}
price_per_hour = 2.0
compute_eff = {COMPUTE_EFF}
memory_eff = {MEMORY_EFF}
launch_overhead_s = {LAUNCH}
[[device]]
name = "gpu_1"
node = "n1"
kind = "gpu"
model = "gpu"
peak_flops = {{ f32 = {GPU_PEAK} }}
mem_bandwidth = {GPU_BW}
mem_bytes = {gpu_mem}
price_per_hour = 2.0
compute_eff = {COMPUTE_EFF}
memory_eff = {MEMORY_EFF}
launch_overhead_s = {LAUNCH}
[[link]]
between = ["gpu_0", "gpu_1"]
cross_node = true
bandwidth = {LINK_BW}
latency = {LINK_LAT}
"#
    );
    Target::from_toml_str(&text, "sim-test").unwrap()
}

fn fragment(name: &str, kind: FragmentKind, profile: Profile, pin: &str) -> Fragment {
    Fragment {
        name: name.into(),
        kind,
        profile,
        model: Some(0),
        pin: Some(Pin::Named(pin.into())),
        weight: 1.0,
        objective: None,
    }
}

fn model(weight_bytes: f64) -> ModelNeeds {
    ModelNeeds { name: "m".into(), weight_bytes, ..ModelNeeds::default() }
}

/// A prefill of `tokens` tokens taking `flops`, with `kv` bytes of KV cache per token.
fn prefill(flops: f64, tokens: f64, kv: f64) -> Profile {
    Profile { flops, bytes_read: 1e6, bytes_written: kv * tokens, working_bytes: kv * tokens, tokens, dtype: Dtype::F32, ..Profile::default() }
}

/// A decode of `n` tokens after `prompt`, reading `w` weight bytes and `flops` per token.
fn decode(w: f64, flops: f64, prompt: f64, n: f64, kv: f64) -> Profile {
    let kv_reads = kv * (n * prompt + n * (n + 1.0) / 2.0);
    Profile {
        flops: flops * n,
        bytes_read: n * w + kv_reads,
        bytes_written: kv * n,
        working_bytes: kv * (prompt + n),
        tokens: n,
        dtype: Dtype::F32,
        ..Profile::default()
    }
}

fn run(w: &Workload, t: &Target, arrivals: Vec<f64>, max_batch: usize, sla: Option<f64>) -> (SimResult, agentc_scheduler::Schedule) {
    let s = schedule(w, t, &Options { sla_seconds: sla, ..Options::default() }).unwrap();
    let r = simulate(w, &s, t, &SimOptions { arrivals, seed: 1, max_batch }).unwrap();
    (r, s)
}

fn prefill_only() -> Workload {
    Workload {
        fragments: vec![fragment("prefill", FragmentKind::Prefill, prefill(2e12, 512.0, 0.0), "gpu_0")],
        models: vec![model(1e9)],
        ..Workload::default()
    }
}

/// A prefill-only queue is M/D/1: mean wait ρ·S / (2(1-ρ)) (Pollaczek–Khinchine with
/// deterministic service), within 2 % over long runs; and Little's law holds.
#[test]
fn prefill_queue_is_m_d_1_and_obeys_littles_law() {
    let w = prefill_only();
    let t = target(80e9);
    for rho in [0.5, 0.7] {
        let s = schedule(&w, &t, &Options::default()).unwrap();
        let service = s.placements[0].finish - s.placements[0].start;
        assert!((service - (2e12 / (GPU_PEAK * COMPUTE_EFF) + LAUNCH)).abs() < 1e-12, "{service}");
        let rate = rho / service;
        let arrivals = poisson(rate, 1_500_000.0 * service, &mut Rng::new(42));
        let (r, _) = run(&w, &t, arrivals, 256, None);
        let n = r.requests.len() as f64;
        let mean_latency = r.requests.iter().map(|q| q.latency()).sum::<f64>() / n;
        let wait = mean_latency - service;
        let expected = rho * service / (2.0 * (1.0 - rho));
        eprintln!("rho {rho}: wait {wait}, M/D/1 {expected}, {:.3} %", (wait - expected) / expected * 100.0);
        assert!((wait - expected).abs() / expected < 0.02, "rho {rho}: wait {wait}, M/D/1 says {expected}");
        // Little: L = λ W, with L integrated over time by the event loop.
        let lambda = n / r.span;
        let little = lambda * mean_latency;
        assert!((r.mean_in_system - little).abs() / little < 0.01, "L {} vs λW {little}", r.mean_in_system);
        // Utilisation is ρ.
        let busy = r.units.iter().find(|u| u.name == "gpu_0").unwrap().busy / r.span;
        assert!((busy - rho).abs() < 0.01, "utilisation {busy} vs {rho}");
    }
}

fn decode_only(w_bytes: f64, flops: f64, n: f64, kv: f64, prompt: f64) -> Workload {
    Workload {
        fragments: vec![fragment("decode", FragmentKind::Decode, decode(w_bytes, flops, prompt, n, kv), "gpu_0")],
        models: vec![model(w_bytes)],
        ..Workload::default()
    }
}

/// At saturation, continuous batching gives B tokens per step of
/// `max(W / bw, B·F / peak) + launch` (no KV: the weights' read is shared by the batch).
#[test]
fn batching_gives_the_roofline_throughput_at_saturation() {
    let t = target(80e9);
    let bw = GPU_BW * MEMORY_EFF;
    let peak = GPU_PEAK * COMPUTE_EFF;
    // Memory-bound at B = 32 (16 GB of weights), and compute-bound at B = 32 (big F).
    for (w_bytes, flops) in [(16e9, 16e9), (1e9, 100e9)] {
        let n = 100.0;
        let w = decode_only(w_bytes, flops, n, 0.0, 0.0);
        let mut measured = Vec::new();
        for b in [1usize, 32] {
            let requests = b * 8;
            let (r, _) = run(&w, &t, vec![0.0; requests], b, None);
            let tokens: f64 = r.requests.iter().map(|q| q.tokens).sum();
            assert_eq!(tokens, n * requests as f64);
            let throughput = tokens / r.span;
            let bf = b as f64;
            let expected = bf / ((w_bytes / bw).max(bf * flops / peak) + LAUNCH);
            assert!((throughput - expected).abs() / expected < 1e-6, "B {b}: {throughput} tokens/s vs {expected}");
            let unit = r.units.iter().find(|u| u.name == "gpu_0").unwrap();
            assert_eq!(unit.step_sequences, unit.steps * b as u64);
            measured.push(throughput);
        }
        // Memory-bound: batching multiplies throughput by nearly B; compute-bound: not.
        let gain = measured[1] / measured[0];
        let expected_gain = 32.0 * ((w_bytes / bw).max(flops / peak) + LAUNCH) / ((w_bytes / bw).max(32.0 * flops / peak) + LAUNCH);
        assert!((gain - expected_gain).abs() / expected_gain < 1e-6, "{gain} vs {expected_gain}");
    }
}

/// With KV for only a few full contexts, a burst of sequences preempts and recomputes,
/// and still every sequence generates all its tokens; with ample memory none is preempted.
#[test]
fn kv_exhaustion_preempts_and_recovers() {
    let (w_bytes, kv, prompt, n) = (10e9, 1e6, 256.0, 512.0);
    let w = decode_only(w_bytes, 16e9, n, kv, prompt);
    // Room for four full contexts (768 tokens = 48 blocks each) beside the weights.
    let tight = target(w_bytes + 4.0 * 768.0 * kv);
    let (r, _) = run(&w, &tight, vec![0.0; 32], 64, None);
    let unit = r.units.iter().find(|u| u.name == "gpu_0").unwrap();
    assert!(unit.preemptions > 0, "no preemption with KV for 4 of 32 sequences");
    assert!(unit.kv_peak <= unit.kv_capacity);
    assert_eq!(r.requests.len(), 32);
    assert!(r.requests.iter().all(|q| q.tokens == n));
    let ample = target(80e9);
    let (r, _) = run(&w, &ample, vec![0.0; 32], 64, None);
    let unit = r.units.iter().find(|u| u.name == "gpu_0").unwrap();
    assert_eq!(unit.preemptions, 0);
    // All 32 decode together: the peak is 32 full contexts in whole blocks.
    assert_eq!(unit.kv_peak, 32.0 * 768.0 * kv);
}

/// Prefill on one GPU, decode on the other: one request takes the prefill, the KV move
/// over the link (bytes / bandwidth + latency) and N decode steps at batch 1.
#[test]
fn disaggregated_call_moves_its_kv_over_the_link() {
    let (w_bytes, kv, prompt, n, flops) = (4e9, 131072.0, 1000.0, 50.0, 8e9);
    let w = Workload {
        fragments: vec![
            fragment("prefill", FragmentKind::Prefill, prefill(8e9 * prompt, prompt, kv), "gpu_0"),
            fragment("decode", FragmentKind::Decode, decode(w_bytes, flops, prompt, n, kv), "gpu_1"),
        ],
        edges: vec![Edge { from: 0, to: 1, bytes: kv * prompt }],
        models: vec![model(w_bytes)],
        ..Workload::default()
    };
    let t = target(80e9);
    let (r, _) = run(&w, &t, vec![0.0], 8, None);
    assert_eq!(r.kv_transfers, 1);
    assert_eq!(r.kv_transfer_bytes, kv * prompt);
    let bw = GPU_BW * MEMORY_EFF;
    let peak = GPU_PEAK * COMPUTE_EFF;
    let prefill_s = (8e9 * prompt / peak).max((1e6 + kv * prompt) / bw) + LAUNCH;
    let move_s = kv * prompt / LINK_BW + LINK_LAT;
    let steps: f64 = (0..n as usize).map(|i| (flops / peak).max((w_bytes + kv * (prompt + i as f64 + 1.0)) / bw) + LAUNCH).sum();
    let q = &r.requests[0];
    assert!((q.latency() - (prefill_s + move_s + steps)).abs() < 1e-9, "{} vs {}", q.latency(), prefill_s + move_s + steps);
    assert!((q.ttft.unwrap() - prefill_s).abs() < 1e-12);
    assert!((q.tpot.unwrap() - (move_s + steps) / n).abs() < 1e-12);
}

/// A rare slow path: the p99 of all requests is the fast path's, the worst path's p99
/// is the slow one's; the default verdict (worst path) fails the SLA, the expected basis
/// (p99 of all) meets it, and a mean is never what is judged.
#[test]
fn sla_is_judged_on_the_worst_paths_p99() {
    let w = Workload {
        fragments: vec![
            fragment("fast", FragmentKind::Prefill, prefill(1e12, 100.0, 0.0), "gpu_0"),
            fragment("slow", FragmentKind::Prefill, prefill(50e12, 100.0, 0.0), "gpu_1"),
        ],
        models: vec![model(1e9)],
        branches: vec![Branch { name: "if (t:1:1)".into(), probabilities: [0.995, 0.005], arms: [vec![0], vec![1]], follows: None }],
        ..Workload::default()
    };
    let mut w = w;
    w.fragments[0].weight = 0.995;
    w.fragments[1].weight = 0.005;
    let t = target(80e9);
    let arrivals: Vec<f64> = (0..20_000).map(|i| i as f64 * 10.0).collect();
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let r = simulate(&w, &s, &t, &SimOptions { arrivals, seed: 3, max_batch: 8 }).unwrap();
    let fast = 1e12 / (GPU_PEAK * COMPUTE_EFF) + LAUNCH;
    let slow = 50e12 / (GPU_PEAK * COMPUTE_EFF) + LAUNCH;
    let sla = (fast + slow) / 2.0;
    let slow_share = r.requests.iter().filter(|q| q.path == 1).count() as f64 / r.requests.len() as f64;
    assert!((slow_share - 0.005).abs() < 0.002, "{slow_share}");
    let worst = SimReport::new(&r, &w, &t, 200_000.0, Some(sla), SlaBasis::Worst);
    let all = SimReport::new(&r, &w, &t, 200_000.0, Some(sla), SlaBasis::Expected);
    let (ws, al) = (worst.sla.unwrap(), all.sla.unwrap());
    assert!((ws.judged_latency - slow).abs() < 1e-9 && !ws.met);
    assert!((al.judged_latency - fast).abs() < 1e-9 && al.met);
    assert!((ws.attainment - (1.0 - slow_share)).abs() < 1e-12);
    assert_eq!(worst.paths.len(), 2);
    assert!((worst.paths[1].planned_latency.unwrap() - slow).abs() < 1e-9);
}

/// The same seed gives the same simulation; another seed another one.
#[test]
fn simulation_is_deterministic_for_a_seed() {
    let w = Workload {
        fragments: vec![
            fragment("a", FragmentKind::Prefill, prefill(1e12, 100.0, 0.0), "gpu_0"),
            fragment("b", FragmentKind::Prefill, prefill(2e12, 100.0, 0.0), "gpu_0"),
        ],
        models: vec![model(1e9)],
        branches: vec![Branch { name: "if".into(), probabilities: [0.5, 0.5], arms: [vec![0], vec![1]], follows: None }],
        ..Workload::default()
    };
    let mut w = w;
    w.fragments[0].weight = 0.5;
    w.fragments[1].weight = 0.5;
    let t = target(80e9);
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let go = |seed| {
        let arrivals = poisson(20.0, 50.0, &mut Rng::new(seed));
        simulate(&w, &s, &t, &SimOptions { arrivals, seed, max_batch: 8 }).unwrap()
    };
    assert_eq!(go(5), go(5));
    assert_ne!(go(5), go(6));
}
