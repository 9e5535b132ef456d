//! The simulator against closed-form results: M/D/1 waiting time, Little's law, decode
//! throughput at saturation from the batched roofline, preemption when KV runs out, the KV
//! transfer of a disaggregated call, calls sharing an unbatched unit, per-path SLA
//! verdicts, and replicas chosen for a rate (loads from the roofline, utilisation under
//! the target, join-the-shortest-queue below M/D/1, the fleet's price). Each test
//! computes what the formula says from the target's numbers and asserts the simulation
//! agrees.

use agentc_scheduler::simulate::kv::block_bytes;
use agentc_scheduler::simulate::replicas::choose;
use agentc_scheduler::simulate::{Batching, SimError, SimOptions, SimReport, SimResult, Rng, poisson, shared_round_seconds, simulate};
use agentc_scheduler::{Branch, Dtype, Edge, Fragment, FragmentKind, ModelNeeds, Options, Pin, Profile, SlaBasis, Target, Workload, schedule};

const GPU_PEAK: f64 = 100e12;
const GPU_BW: f64 = 2e12;
const COMPUTE_EFF: f64 = 0.5;
const MEMORY_EFF: f64 = 0.8;
const LAUNCH: f64 = 10e-6;
const LINK_BW: f64 = 50e9;
const LINK_LAT: f64 = 5e-6;

/// The test CPU as a target's `[[device]]` entry.
const CPU: &str = r#"
[[device]]
name = "cpu"
kind = "cpu"
model = "cpu"
peak_flops = { f32 = 1e12 }
mem_bandwidth = 100e9
mem_bytes = 512e9
price_per_hour = 1.0
"#;

/// A test GPU in a node of its own as a `[[device]]` entry; `can_run` as TOML (`""`: the
/// default kinds).
fn gpu(name: &str, gpu_mem: f64, price: f64, can_run: &str) -> String {
    format!(
        r#"
[[device]]
name = "{name}"
node = "{name}"
kind = "gpu"
model = "gpu"
peak_flops = {{ f32 = {GPU_PEAK} }}
mem_bandwidth = {GPU_BW}
mem_bytes = {gpu_mem}
price_per_hour = {price}
compute_eff = {COMPUTE_EFF}
memory_eff = {MEMORY_EFF}
launch_overhead_s = {LAUNCH}
{can_run}
"#
    )
}

/// A CPU and two GPUs of `gpu_mem` bytes joined by a 50 GB/s link. The GPUs sit in two
/// nodes so that each is a unit of its own: the scheduler forms tensor-parallel groups of
/// every degree within a node, and these tests are about one GPU's queue.
fn target(gpu_mem: f64) -> Target {
    let text = format!(
        r#"name = "sim-test"
{CPU}{}{}
[[link]]
between = ["gpu_0", "gpu_1"]
cross_node = true
bandwidth = {LINK_BW}
latency = {LINK_LAT}
"#,
        gpu("gpu_0", gpu_mem, 2.0, ""),
        gpu("gpu_1", gpu_mem, 2.0, "")
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
    let r = simulate(w, &s, t, &SimOptions { arrivals, seed: 1, max_batch, replicas: None, batching: Batching::Continuous }).unwrap();
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

/// One generate call: a prefill of `prompt` tokens (8 GFLOP each) on gpu_0 and a decode
/// of `n` tokens on `decode_unit`.
fn generate_call(w_bytes: f64, kv: f64, prompt: f64, n: f64, flops: f64, decode_unit: &str) -> Workload {
    Workload {
        fragments: vec![
            fragment("prefill", FragmentKind::Prefill, prefill(8e9 * prompt, prompt, kv), "gpu_0"),
            fragment("decode", FragmentKind::Decode, decode(w_bytes, flops, prompt, n, kv), decode_unit),
        ],
        edges: vec![Edge { from: 0, to: 1, bytes: kv * prompt }],
        models: vec![model(w_bytes)],
        ..Workload::default()
    }
}

/// Prefill on one GPU, decode on the other: one request takes the prefill, the KV move
/// over the link (bytes / bandwidth + latency) and N decode steps at batch 1.
#[test]
fn disaggregated_call_moves_its_kv_over_the_link() {
    let (w_bytes, kv, prompt, n, flops) = (4e9, 131072.0, 1000.0, 50.0, 8e9);
    let w = generate_call(w_bytes, kv, prompt, n, flops, "gpu_1");
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

/// Without batching (agentc's CPU runtime: each call at batch 1, all at once, sharing the
/// unit), N calls arriving together each take N times one call alone, prefill and decode
/// alike: TTFT = N·prefill and latency = N·(prefill + Σ batch-1 steps), every one of them.
/// Continuous batching finishes the same burst sooner (a step reads the weights once).
#[test]
fn without_batching_concurrent_calls_share_the_unit() {
    let (w_bytes, kv, prompt, n, flops) = (4e9, 131072.0, 100.0, 40.0, 8e9);
    let w = generate_call(w_bytes, kv, prompt, n, flops, "gpu_0");
    let t = target(80e9);
    let bw = GPU_BW * MEMORY_EFF;
    let peak = GPU_PEAK * COMPUTE_EFF;
    let prefill_s = (8e9 * prompt / peak).max((1e6 + kv * prompt) / bw) + LAUNCH;
    let steps: f64 = (0..n as usize).map(|i| (flops / peak).max((w_bytes + kv * (prompt + i as f64 + 1.0)) / bw) + LAUNCH).sum();
    let alone = prefill_s + steps;
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let sim = |calls: usize, batching| simulate(&w, &s, &t, &SimOptions { arrivals: vec![0.0; calls], seed: 1, max_batch: 256, replicas: None, batching }).unwrap();
    for calls in 1..=4 {
        let r = sim(calls, Batching::Off);
        let c = calls as f64;
        for q in &r.requests {
            assert!((q.latency() - c * alone).abs() < 1e-9, "{calls} calls: {} vs {}", q.latency(), c * alone);
            assert!((q.ttft.unwrap() - c * prefill_s).abs() < 1e-9, "{calls} calls: TTFT {} vs {}", q.ttft.unwrap(), c * prefill_s);
            assert_eq!(q.tokens, n);
        }
        let unit = r.units.iter().find(|u| u.name == "gpu_0").unwrap();
        assert_eq!(unit.steps, (calls * n as usize) as u64);
        assert_eq!(unit.step_sequences, unit.steps);
        if calls > 1 {
            let batched = sim(calls, Batching::Continuous);
            let last = batched.requests.iter().map(|q| q.latency()).fold(0.0, f64::max);
            assert!(last < c * alone, "{calls} calls batched: {last} vs {}", c * alone);
        }
    }
}

/// Processor sharing of C cores in closed form: on 2 cores two items of 1 busy core take
/// the longer one's time, of 2 busy cores the sum; three items of 1 core share 2 cores at
/// 2/3 speed until the shortest ends, then run alone.
#[test]
fn a_round_shares_the_cores_in_closed_form() {
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(shared_round_seconds(&[(1.0, 1.0), (1.0, 1.0)], 2.0), 1.0));
    assert!(close(shared_round_seconds(&[(1.0, 1.0), (3.0, 1.0)], 2.0), 3.0));
    assert!(close(shared_round_seconds(&[(1.0, 2.0), (1.0, 2.0)], 2.0), 2.0));
    assert!(close(shared_round_seconds(&[(1.0, 2.0), (3.0, 2.0), (0.5, 2.0)], 2.0), 4.5), "u = C: the sum");
    // Three of 1 core on 2: all at 2/3 speed until the 1 s item ends (1.5 s), then two
    // fit: 1 s more of the 2 s items.
    assert!(close(shared_round_seconds(&[(1.0, 1.0), (2.0, 1.0), (2.0, 1.0)], 2.0), 2.5));
    // Mixed: 1.5 + 1 cores on 2 run at 2/(2.5) = 0.8 until the 1 s item ends at 1.25 s.
    assert!(close(shared_round_seconds(&[(1.0, 1.5), (2.0, 1.0)], 2.0), 1.25 + 1.0));
    assert_eq!(shared_round_seconds(&[], 2.0), 0.0);
    assert_eq!(shared_round_seconds(&[(0.0, 1.0)], 2.0), 0.0);
}

/// A generate call on a CPU of 2 cores whose target says how many cores a call keeps busy
/// (prefill p, decode d): k calls arriving together each take TTFT = prefill ·
/// max(1, k·p/2) and the decode's steps at max(1, k·d/2) of their time alone; with
/// `cores` but no `busy_cores_per_call`, or busy cores of 2, the sum of k calls (today's
/// rounds).
#[test]
fn without_batching_calls_share_a_cpus_cores() {
    let (w_bytes, kv, prompt, n, flops) = (2e9, 65536.0, 64.0, 16.0, 4e9);
    let mut w = generate_call(w_bytes, kv, prompt, n, flops, "cpu");
    w.fragments[0].pin = Some(Pin::Named("cpu".into()));
    let cpu_target = |extra: &str| {
        let text = format!("name = \"cpu-only\"\n{CPU}cores = 2\n{extra}\n");
        Target::from_toml_str(&text, "cpu-only").unwrap()
    };
    let sim = |t: &Target, calls: usize| {
        let s = schedule(&w, t, &Options::default()).unwrap();
        simulate(&w, &s, t, &SimOptions { arrivals: vec![0.0; calls], seed: 1, max_batch: 256, replicas: None, batching: Batching::Off }).unwrap()
    };
    let plain = cpu_target("");
    let alone = sim(&plain, 1);
    let (prefill_s, total) = (alone.requests[0].ttft.unwrap(), alone.requests[0].latency());
    let decode_s = total - prefill_s;
    assert!(prefill_s > 0.0 && decode_s > 0.0);
    for (p, d) in [(1.0, 1.0), (1.5, 1.0), (0.5, 1.8), (2.0, 2.0)] {
        let t = cpu_target(&format!("busy_cores_per_call = {{ prefill = {p}, decode = {d} }}"));
        for calls in 1..=4 {
            let k = calls as f64;
            let ttft = prefill_s * (k * p / 2.0).max(1.0);
            let latency = ttft + decode_s * (k * d / 2.0).max(1.0);
            for q in &sim(&t, calls).requests {
                assert!((q.ttft.unwrap() - ttft).abs() < 1e-9, "p {p}, d {d}, {calls} calls: TTFT {} vs {ttft}", q.ttft.unwrap());
                assert!((q.latency() - latency).abs() < 1e-9, "p {p}, d {d}, {calls} calls: {} vs {latency}", q.latency());
            }
        }
    }
    for calls in 1..=4 {
        for q in &sim(&plain, calls).requests {
            assert!((q.latency() - calls as f64 * total).abs() < 1e-9, "no busy cores, {calls} calls: the sum");
        }
    }
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
    let r = simulate(&w, &s, &t, &SimOptions { arrivals, seed: 3, max_batch: 8, replicas: None, batching: Batching::Continuous }).unwrap();
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
        simulate(&w, &s, &t, &SimOptions { arrivals, seed, max_batch: 8, replicas: None, batching: Batching::Continuous }).unwrap()
    };
    assert_eq!(go(5), go(5));
    assert_ne!(go(5), go(6));
}

const PREFILL_PRICE: f64 = 3.0;
const DECODE_PRICE: f64 = 1.5;

/// A CPU, `prefill` GPUs that only prefill and `decode` GPUs that only decode, each GPU
/// in a node of its own (no tensor-parallel groups), every pair over one 50 GB/s network:
/// the schedule must disaggregate, and every GPU of a side is a replica candidate.
fn split_fleet(prefill: usize, decode: usize, gpu_mem: f64) -> Target {
    let mut text = format!("name = \"split-test\"\n[network]\nbandwidth = {LINK_BW}\nlatency = {LINK_LAT}\n{CPU}");
    for (side, count, price, kind) in [("p", prefill, PREFILL_PRICE, "prefill"), ("d", decode, DECODE_PRICE, "decode")] {
        for i in 0..count {
            text += &gpu(&format!("{side}{i}"), gpu_mem, price, &format!("can_run = [\"{kind}\"]"));
        }
    }
    Target::from_toml_str(&text, "split-test").unwrap()
}

fn by_kind(name: &str, kind: FragmentKind, profile: Profile) -> Fragment {
    Fragment { pin: Some(Pin::Kind("gpu".into())), ..fragment(name, kind, profile, "") }
}

/// Replicas chosen at a rate: the prefill pool's load is the batch-1 prefill time per
/// request, the decode pool's the batched roofline's seconds per token at the largest
/// batch the KV budget holds; each pool gets the fewest replicas that keep it at or under
/// the target, the simulation measures every pool at or under it, and the fleet's price
/// is the CPU's plus every replica's.
#[test]
fn replicas_for_a_rate_keep_every_pool_under_the_target() {
    let (w_bytes, kv, prompt, n, flops) = (4e9, 131072.0, 1000.0, 100.0, 8e9);
    let w = Workload {
        fragments: vec![
            by_kind("prefill", FragmentKind::Prefill, prefill(2e12, prompt, kv)),
            by_kind("decode", FragmentKind::Decode, decode(w_bytes, flops, prompt, n, kv)),
        ],
        edges: vec![Edge { from: 0, to: 1, bytes: kv * prompt }],
        models: vec![model(w_bytes)],
        ..Workload::default()
    };
    let gpu_mem = 8e9;
    let t = split_fleet(4, 4, gpu_mem);
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let (bw, peak) = (GPU_BW * MEMORY_EFF, GPU_PEAK * COMPUTE_EFF);
    // Prefill: one batch-1 fragment per request.
    let prefill_s = (2e12 / peak).max((1e6 + kv * prompt) / bw) + LAUNCH;
    // Decode: B full contexts fit the memory left after the weights; a step of B
    // sequences at the mean context prompt + (n + 1) / 2.
    let max_batch = 256;
    let b = ((gpu_mem - w_bytes) / block_bytes(prompt + n, kv)).floor().min(max_batch as f64);
    assert!(b >= 2.0 && b < max_batch as f64, "the KV budget must bound the batch: {b}");
    let step = (b * flops / peak).max((w_bytes + b * kv * (prompt + (n + 1.0) / 2.0)) / bw) + LAUNCH;
    let decode_s = n * step / b;
    let target_utilisation = 0.8;
    // 2.5 prefill units' worth of load at the target (3 replicas); the decode's follows.
    let rate = 2.5 * target_utilisation / prefill_s;
    let plan = choose(&w, &s, &t, rate, max_batch, Some(target_utilisation)).unwrap();
    assert_eq!(plan.pools.len(), 2, "{:?}", plan.pools);
    let (pp, dp) = (&plan.pools[0], &plan.pools[1]);
    assert_eq!(pp.serves, ["prefill of m"]);
    assert_eq!(dp.serves, ["decode of m"]);
    assert!((pp.seconds_per_request - prefill_s).abs() < 1e-12 * prefill_s, "{} vs {prefill_s}", pp.seconds_per_request);
    assert!((dp.seconds_per_request - decode_s).abs() < 1e-9 * decode_s, "{} vs {decode_s}", dp.seconds_per_request);
    for pool in &plan.pools {
        let k = pool.units.len() as f64;
        let load = rate * pool.seconds_per_request;
        assert!(load / k <= target_utilisation, "{:?}: {}", pool.names, load / k);
        // The fewest: one replica less would be over the target.
        assert!(k == 1.0 || load / (k - 1.0) > target_utilisation, "{:?}: {k} replicas for {load}", pool.names);
    }
    assert_eq!(pp.units.len(), 3);
    assert_eq!(dp.units.len(), ((rate * decode_s / target_utilisation).ceil()) as usize);
    let arrivals = poisson(rate, 20_000.0 / rate, &mut Rng::new(9));
    let count = arrivals.len();
    let r = simulate(&w, &s, &t, &SimOptions { arrivals, seed: 2, max_batch, replicas: Some(plan.clone()), batching: Batching::Continuous }).unwrap();
    assert_eq!(r.requests.len(), count);
    assert!(r.requests.iter().all(|q| q.tokens == n));
    assert_eq!(r.kv_transfers, count as u64);
    let report = SimReport::new(&r, &w, &t, 20_000.0 / rate, None, SlaBasis::Worst);
    for pool in &report.replicas.pools {
        eprintln!("{}: {} replicas, planned {:.4}, measured {:.4}", pool.unit, pool.replicas, pool.planned_utilisation, pool.utilisation);
        // Poisson noise over 20,000 requests is about 1 %; the drain lengthens the span.
        assert!(pool.utilisation <= target_utilisation + 0.01, "{}: {}", pool.unit, pool.utilisation);
        assert!((pool.utilisation - pool.planned_utilisation).abs() < 0.02, "{}: {} vs {}", pool.unit, pool.utilisation, pool.planned_utilisation);
    }
    // Every replica took work (the routing spreads it).
    for pool in &plan.pools {
        for &u in &pool.units {
            let unit = r.units.iter().find(|x| x.index == u).unwrap();
            assert!(unit.busy > 0.0, "{} idle", unit.name);
        }
    }
    // No fragment runs on the CPU: the fleet is the replicas.
    assert!(report.devices.iter().all(|d| d.name != "cpu"));
    let price = pp.units.len() as f64 * PREFILL_PRICE + dp.units.len() as f64 * DECODE_PRICE;
    assert!((report.fleet_usd_per_hour - price).abs() < 1e-12, "{} vs {price}", report.fleet_usd_per_hour);
}

/// A compute-bound prefill any GPU may run, and its batch-1 seconds on one.
fn prefill_on_any_gpu() -> (Workload, f64) {
    let w = Workload {
        fragments: vec![by_kind("prefill", FragmentKind::Prefill, prefill(2e12, 512.0, 0.0))],
        models: vec![model(1e9)],
        ..Workload::default()
    };
    (w, 2e12 / (GPU_PEAK * COMPUTE_EFF) + LAUNCH)
}

/// Erlang C: the probability that an M/M/k arrival waits, at offered load `a = λ·S`.
fn erlang_c(k: usize, a: f64) -> f64 {
    let rho = a / k as f64;
    let mut term = 1.0;
    let mut sum = 1.0;
    for i in 1..k {
        term *= a / i as f64;
        sum += term;
    }
    let last = term * a / k as f64 / (1.0 - rho);
    last / (sum + last)
}

/// k replicas of a prefill unit under Poisson arrivals at k·λ: routed to the least
/// outstanding work they form one M/D/k queue, whose mean wait is below M/D/1's at the
/// same per-replica load (what random routing would give) and close to the
/// Cosmetatos approximation of M/D/k; each replica's utilisation is ρ (idle replicas
/// take turns).
#[test]
fn least_work_routing_over_k_replicas_waits_less_than_m_d_1() {
    let (w, service) = prefill_on_any_gpu();
    let t = split_fleet(3, 0, 80e9);
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let (k, rho) = (3usize, 0.7);
    let rate = k as f64 * rho / service;
    let plan = choose(&w, &s, &t, rate, 256, Some(0.75)).unwrap();
    assert_eq!(plan.pools[0].units.len(), k);
    let arrivals = poisson(rate, 300_000.0 * service, &mut Rng::new(42));
    let r = simulate(&w, &s, &t, &SimOptions { arrivals, seed: 1, max_batch: 256, replicas: Some(plan), batching: Batching::Continuous }).unwrap();
    let n = r.requests.len() as f64;
    let wait = r.requests.iter().map(|q| q.latency()).sum::<f64>() / n - service;
    let md1 = rho * service / (2.0 * (1.0 - rho));
    // M/M/k: W = C(k, a) · S / (k (1 − ρ)); Cosmetatos: M/D/k ≈ ½ W_MMk · (1 + (1 − ρ)(k − 1)(√(4 + 5k) − 2) / (16 ρ k)).
    let kf = k as f64;
    let mmk = erlang_c(k, kf * rho) * service / (kf * (1.0 - rho));
    let mdk = 0.5 * mmk * (1.0 + (1.0 - rho) * (kf - 1.0) * ((4.0 + 5.0 * kf).sqrt() - 2.0) / (16.0 * rho * kf));
    eprintln!("wait {wait}, M/D/1 {md1}, M/D/{k} (Cosmetatos) {mdk}, {:.2} %", (wait - mdk) / mdk * 100.0);
    assert!(wait < md1, "JSQ wait {wait} is not below M/D/1's {md1}");
    assert!((wait - mdk).abs() / mdk < 0.05, "wait {wait} vs M/D/{k} {mdk}");
    for u in &r.units {
        if u.name.starts_with('p') {
            let busy = u.busy / r.span;
            assert!((busy - rho).abs() < 0.01, "{}: utilisation {busy} vs {rho}", u.name);
        }
    }
}

/// When every free unit of a pool's kind is taken and the pool is still over the target,
/// the fleet cannot carry the rate: the error says the highest rate the replicas carry,
/// `target × replicas / seconds per request`, and the plan is made just under it. A
/// fragment pinned to a device gets no replica.
#[test]
fn a_fleet_that_cannot_carry_the_rate_says_how_much_it_carries() {
    let (w, service) = prefill_on_any_gpu();
    let t = split_fleet(2, 0, 80e9);
    let s = schedule(&w, &t, &Options::default()).unwrap();
    let most = 0.8 * 2.0 / service;
    let Err(SimError::FleetTooSmall { replicas, max_rate, utilisation, .. }) = choose(&w, &s, &t, most * 1.001, 256, Some(0.8)) else {
        panic!("two units cannot carry more than {most} requests/s at 0.8");
    };
    assert_eq!(replicas, 2);
    assert!((max_rate - most).abs() < 1e-9 * most, "{max_rate} vs {most}");
    assert!((utilisation - 0.8 * 1.001).abs() < 1e-9);
    let plan = choose(&w, &s, &t, most * 0.999, 256, Some(0.8)).unwrap();
    assert_eq!(plan.pools[0].units.len(), 2);
    // Without a target, one unit whatever the rate.
    assert_eq!(choose(&w, &s, &t, most * 10.0, 256, None).unwrap().pools[0].units.len(), 1);
    let pinned = Workload { fragments: vec![fragment("prefill", FragmentKind::Prefill, prefill(2e12, 512.0, 0.0), "p0")], ..w };
    let s = schedule(&pinned, &t, &Options::default()).unwrap();
    assert!(matches!(choose(&pinned, &s, &t, most * 0.75, 256, Some(0.8)), Err(SimError::FleetTooSmall { replicas: 1, .. })));
}
