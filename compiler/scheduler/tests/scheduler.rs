//! End-to-end tests of the scheduler: HEFT on a hand-computed DAG, pins, sharding,
//! errors, the 70B Splitwise case, kv_transfer, SLA, optimum vs heuristic, determinism,
//! and the report forms.

use agentc_scheduler::llm::DecoderConfig;
use agentc_scheduler::report::{to_dot, to_gantt_svg, to_json, to_mermaid, to_table};
use agentc_scheduler::synth::{random_dag, single_llm_request};
use agentc_scheduler::target::DeviceKind;
use agentc_scheduler::*;

const MIXED_SMALL: &str = include_str!("../../../examples/targets/mixed-small.toml");

fn mixed_small() -> Target {
    Target::from_toml_str(MIXED_SMALL, "mixed-small.toml").unwrap()
}

/// Two identical 1 GFLOP/s CPUs joined by a 1 GB/s, zero-latency link.
fn two_cpus() -> Target {
    let text = r#"
name = "two-cpus"
[[device]]
name = "cpu"
kind = "cpu"
count = 2
peak_flops = { f32 = 1e9 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 1.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
[[link]]
between = ["cpu", "cpu"]
bandwidth = 1e9
latency = 0.0
"#;
    Target::from_toml_str(text, "two-cpus").unwrap()
}

fn compute(name: &str, gflop: f64) -> Fragment {
    Fragment {
        name: name.into(),
        kind: FragmentKind::Compute,
        profile: Profile {
            flops: gflop * 1e9,
            ..Default::default()
        },
        model: None,
        pin: None,
        weight: 1.0,
        objective: None,
    }
}

fn fork_join() -> Workload {
    let fragments = vec![
        compute("A", 1.0),
        compute("B", 2.0),
        compute("C", 3.0),
        compute("D", 1.0),
        compute("E", 1.0),
    ];
    let e = |from, to| Edge {
        from,
        to,
        bytes: 1e9,
    };
    Workload {
        fragments,
        edges: vec![e(0, 1), e(0, 2), e(0, 3), e(1, 4), e(2, 4), e(3, 4)],
        models: vec![],
        ..Default::default()
    }
}

#[test]
fn example_target_files_load() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/targets");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 2);
    for path in names
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let t = load(path.to_str().unwrap()).unwrap_or_else(|e| panic!("{e}"));
        assert!(t.devices.iter().any(|d| d.kind == DeviceKind::Cpu));
    }
}

#[test]
fn heft_on_a_hand_computed_fork_join() {
    // Ranks (mean transfer 1 s): E 1, D 3, B 4, C 5, A 7 → order A C B D E.
    // A cpu_0 [0,1]; C cpu_0 [1,4]; B cpu_1 [2,4] (data from A arrives at 2);
    // D cpu_0 [4,5] (ties with cpu_1, lower unit wins); E cpu_0 [5,6] (B's data at 5).
    let w = fork_join();
    let s = schedule(
        &w,
        &two_cpus(),
        &Options {
            heft_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let got: Vec<(&str, f64, f64)> = s
        .placements
        .iter()
        .map(|p| (p.device.as_str(), p.start, p.finish))
        .collect();
    assert_eq!(
        got,
        [
            ("cpu_0", 0.0, 1.0),
            ("cpu_1", 2.0, 4.0),
            ("cpu_0", 1.0, 4.0),
            ("cpu_0", 4.0, 5.0),
            ("cpu_0", 5.0, 6.0)
        ]
    );
    assert_eq!(s.makespan, 6.0);
    assert_eq!(s.critical_path, [0, 1, 4]);
    // 6 busy seconds at $1/h.
    assert!((s.total_cost - 8.0 / 3600.0).abs() < 1e-12);
    assert_eq!(s.transfers.len(), 2);
}

#[test]
fn heft_fills_an_idle_slot() {
    // X (1 s) → Y (1 s) with a slow 4 s transfer if Y left X's device; Z (1 s) after
    // X's long-running sibling W (4 s) ... on one CPU the gap before W is filled.
    let text = r#"
name = "one-cpu"
[[device]]
name = "cpu"
kind = "cpu"
peak_flops = { f32 = 1e9 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 1.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
"#;
    let t = Target::from_toml_str(text, "one-cpu").unwrap();
    // P (1 s) → Q (3 s); R (1 s) independent, lower rank: runs after Q... unless a gap.
    // Tool T (0.5 s wait, not exclusive) → S (1 s) creates a gap the later R fills.
    let mut tool = compute("T", 0.0);
    tool.kind = FragmentKind::Tool;
    tool.profile.fixed_seconds = 2.0;
    let w = Workload {
        fragments: vec![tool, compute("S", 5.0), compute("R", 1.0)],
        edges: vec![Edge {
            from: 0,
            to: 1,
            bytes: 0.0,
        }],
        models: vec![],
        ..Default::default()
    };
    let s = schedule(
        &w,
        &t,
        &Options {
            heft_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    // Order by rank: T (7), S (5), R (1). S starts at 2 after the tool; R goes into [0, 1).
    assert_eq!((s.placements[1].start, s.placements[1].finish), (2.0, 7.0));
    assert_eq!((s.placements[2].start, s.placements[2].finish), (0.0, 1.0));
    assert_eq!(s.makespan, 7.0);
}

#[test]
fn pins_are_honoured() {
    let mut w = fork_join();
    w.fragments[2].pin = Some(Pin::Named("cpu_1".into()));
    let s = schedule(&w, &two_cpus(), &Options::default()).unwrap();
    assert_eq!(s.placements[2].device, "cpu_1");
    // A kind pin: a compute fragment that would go to a GPU is kept on the CPU.
    let t = mixed_small();
    let w = Workload {
        fragments: vec![compute("big", 1e4)],
        edges: vec![],
        models: vec![],
        ..Default::default()
    };
    assert!(
        schedule(&w, &t, &Options::default()).unwrap().placements[0]
            .device
            .starts_with("h100")
    );
    let mut w = w;
    w.fragments[0].pin = Some(Pin::Kind("cpu".into()));
    assert_eq!(
        schedule(&w, &t, &Options::default()).unwrap().placements[0].device,
        "cpu"
    );
}

#[test]
fn impossible_pins_are_rejected_with_a_reason() {
    let t = mixed_small();
    let mut w = Workload {
        fragments: vec![compute("k", 1.0)],
        edges: vec![],
        models: vec![],
        ..Default::default()
    };
    w.fragments[0].pin = Some(Pin::Named("tpu_0".into()));
    let e = schedule(&w, &t, &Options::default()).unwrap_err();
    assert!(
        // A named pin reads as written in the source: `@device("tpu_0")`.
        matches!(&e, ScheduleError::PinUnsatisfiable { fragment: 0, pin, .. } if pin == "\"tpu_0\"")
    );
    assert!(e.to_string().contains("has no device named `tpu_0`"), "{e}");

    w.fragments[0].kind = FragmentKind::Tool;
    w.fragments[0].pin = Some(Pin::Kind("gpu".into()));
    let e = schedule(&w, &t, &Options::default()).unwrap_err();
    assert!(e.to_string().contains("cannot run tool fragments"), "{e}");

    let cfg = DecoderConfig::llama3_70b();
    let mut w = single_llm_request(&cfg, "llama-70b", 1000.0, 100.0);
    w.fragments[1].pin = Some(Pin::Named("a100_0".into()));
    // a100_0 alone cannot hold 70B, but its pair can: the pin is met by the TP group.
    let s = schedule(&w, &t, &Options::default()).unwrap();
    assert_eq!(s.placements[1].device, "a100_0+a100_1");
    // Two 48 GB L40S cannot hold 70B in bf16, but can at int8 (75 GB): the pin is met by
    // the quantized pair.
    let target = preset("gpu+cpu").unwrap();
    w.fragments[1].pin = Some(Pin::Kind("gpu".into()));
    let s = schedule(&w, &target, &Options::default()).unwrap();
    assert_eq!(s.placements[1].device, "l40s_0+l40s_1");
    assert_ne!(s.placements[1].precision, Precision::Native);
    // 405B (228 GB even at int4) fits no GPU of it; only the big host CPU can hold it.
    let big = DecoderConfig {
        hidden: 16384.0,
        layers: 126,
        heads: 128.0,
        intermediate: 53248.0,
        ..DecoderConfig::llama3_70b()
    };
    let mut w = single_llm_request(&big, "llama-405b", 1000.0, 100.0);
    w.fragments[1].pin = Some(Pin::Kind("gpu".into()));
    let e = schedule(&w, &target, &Options::default()).unwrap_err();
    assert!(
        matches!(e, ScheduleError::PinUnsatisfiable { fragment: 1, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("GB but `l40s_"),
        "{e}"
    );
}

#[test]
fn a_model_larger_than_one_device_is_sharded() {
    let cfg = DecoderConfig::llama3_70b();
    let w = single_llm_request(&cfg, "llama-70b", 2000.0, 200.0);
    let cost = Options { objective: Objective::Cost, ..Default::default() };
    let s = schedule(&w, &preset("h100x8").unwrap(), &cost).unwrap();
    // 141 GB of weights: the fewest H100s that hold it are two, the cheapest group (a
    // wider one costs the same GPU-seconds plus its all-reduces).
    assert_eq!(s.placements[1].device, "h100_0+h100_1");
    assert_eq!(s.placements[2].device, "h100_0+h100_1");
    // For latency, wider groups are formed too (degrees 2, 4, 8) and the widest wins.
    let s = schedule(&w, &preset("h100x8").unwrap(), &Options::default()).unwrap();
    assert_eq!(s.placements[2].device.split('+').count(), 8);
    assert!(s.transfers.iter().all(|t| !t.kv_transfer));
}

#[test]
fn a_model_that_fits_nowhere_is_an_error() {
    // Llama 3.1 405B's shape (hidden 16384, 128 heads, 8 KV heads, 53248 intermediate)
    // with 300 layers: about 970B parameters, 545 GB even at int4, more than the preset's
    // 256 GB host (405B itself fits it at int4).
    let cfg = DecoderConfig {
        hidden: 16384.0,
        layers: 300,
        heads: 128.0,
        intermediate: 53248.0,
        ..DecoderConfig::llama3_70b()
    };
    let w = single_llm_request(&cfg, "llama-405b", 1000.0, 100.0);
    let e = schedule(&w, &preset("h100").unwrap(), &Options::default()).unwrap_err();
    match &e {
        ScheduleError::ModelFitsNowhere {
            model,
            bytes,
            smallest_bytes,
            smallest_precision,
            largest_device_bytes,
        } => {
            assert_eq!(model, "llama-405b");
            assert!(*bytes > 1900e9);
            assert_eq!(smallest_precision, "int4");
            assert!(*smallest_bytes > 500e9 && *smallest_bytes < *bytes / 3.0);
            assert_eq!(*largest_device_bytes, 256e9);
        }
        e => panic!("unexpected {e}"),
    }
    assert!(e.to_string().starts_with("model `llama-405b` needs"), "{e}");
}

#[test]
fn llama_70b_on_h100_plus_a100_splits_prefill_and_decode() {
    let target = preset("h100+a100").unwrap();
    let cfg = DecoderConfig::llama3_70b();
    assert_eq!(
        (
            cfg.hidden,
            cfg.layers,
            cfg.heads,
            cfg.kv_heads,
            cfg.intermediate,
            cfg.vocab
        ),
        (8192.0, 80, 64.0, 8.0, 28672.0, 128256.0)
    );
    let w = single_llm_request(&cfg, "llama-70b", 2000.0, 500.0);
    let model_of = |unit: &str| {
        let first = unit.split('+').next().unwrap();
        target.device(first).unwrap().model.clone()
    };
    // Latency: prefill (compute-bound) on H100s.
    let fast = schedule(&w, &target, &Options::default()).unwrap();
    assert!(
        model_of(&fast.placements[1].device).starts_with("H100"),
        "{}",
        fast.placements[1].device
    );
    // Cost: decode where memory bandwidth per dollar is best, computed from the preset.
    let best_bw_per_usd = target
        .devices
        .iter()
        .filter(|d| d.kind != DeviceKind::Cpu)
        .max_by(|a, b| {
            (a.mem_bandwidth / a.price_per_hour).total_cmp(&(b.mem_bandwidth / b.price_per_hour))
        })
        .unwrap()
        .model
        .clone();
    let cheap = schedule(
        &w,
        &target,
        &Options {
            objective: Objective::Cost,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        model_of(&cheap.placements[1].device).starts_with("H100"),
        "prefill on {}",
        cheap.placements[1].device
    );
    assert_eq!(
        model_of(&cheap.placements[2].device),
        best_bw_per_usd,
        "decode on {}",
        cheap.placements[2].device
    );
    assert!(cheap.total_cost <= fast.total_cost);
    // Prefill and decode on different devices: one kv_transfer with the KV cache's bytes.
    let kv: Vec<_> = cheap.transfers.iter().filter(|t| t.kv_transfer).collect();
    assert_eq!(kv.len(), 1);
    assert_eq!((kv[0].from_fragment, kv[0].to_fragment), (1, 2));
    assert_eq!(kv[0].bytes, cfg.kv_bytes_per_token() * 2000.0);
    assert!(kv[0].finish > kv[0].start && cheap.placements[2].start >= kv[0].finish);
    assert!(cheap.cost_per_million_tokens().unwrap() > 0.0);
    assert_eq!(cheap.generated_tokens, 500.0);
}

#[test]
fn an_sla_bounds_the_cost_objective() {
    let target = preset("h100+a100").unwrap();
    let w = single_llm_request(&DecoderConfig::llama3_70b(), "llama-70b", 2000.0, 500.0);
    let fast = schedule(&w, &target, &Options::default()).unwrap();
    let cheap = schedule(
        &w,
        &target,
        &Options {
            objective: Objective::Cost,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(cheap.makespan > fast.makespan);
    // An SLA at the fastest schedule's latency forces latency back; one below it fails.
    let sla = Options {
        objective: Objective::Cost,
        sla_seconds: Some(fast.makespan * 1.0001),
        heft_only: false,
        ..Default::default()
    };
    let s = schedule(&w, &target, &sla).unwrap();
    assert!(s.sla_met && s.makespan <= fast.makespan * 1.0001);
    let tight = Options {
        sla_seconds: Some(fast.makespan / 10.0),
        ..sla
    };
    let s = schedule(&w, &target, &tight).unwrap();
    assert!(!s.sla_met);
    assert!(to_table(&s, &w).contains("NOT met"));
}

#[test]
fn heuristic_is_never_better_than_the_optimum() {
    // The oracle's optimum is over assignments in HEFT's priority order. For cost the
    // improvement phase keeps that order, so it is a bound; for latency it also reorders,
    // so the bound is the exact MILP's optimum over every order.
    let t = mixed_small();
    for seed in 0..12 {
        let w = random_dag(6 + seed as usize % 4, seed);
        for objective in [Objective::Latency, Objective::Cost] {
            let o = Options {
                objective,
                solver: Solver::Heuristic,
                ..Default::default()
            };
            let h = schedule(&w, &t, &o).unwrap();
            let (hv, ov) = match objective {
                Objective::Latency => {
                    let p = cost::Problem::new(&w, &t).unwrap();
                    let exact = milp::solve(&p, objective, None, None, 60.0).unwrap();
                    assert!(exact.proved_optimal, "seed {seed}");
                    (h.makespan, exact.timing.makespan)
                }
                Objective::Cost => {
                    let opt = optimal(&w, &t, &o).unwrap();
                    assert!(opt.proved_optimal);
                    (h.total_cost, opt.schedule.total_cost)
                }
            };
            assert!(
                hv >= ov * (1.0 - 1e-9),
                "seed {seed} {objective:?}: heuristic {hv} < optimal {ov}"
            );
        }
    }
}

#[test]
fn heuristic_equals_the_oracle_on_trivial_cases() {
    // A chain of host steps: only the CPU can run them.
    let t = mixed_small();
    let mut w = fork_join();
    for f in &mut w.fragments {
        f.kind = FragmentKind::Host;
    }
    let heuristic = Options { solver: Solver::Heuristic, ..Default::default() };
    let h = schedule(&w, &t, &heuristic).unwrap();
    let o = optimal(&w, &t, &heuristic).unwrap();
    assert_eq!(h.makespan, o.schedule.makespan);
    // One device: every assignment is the same.
    let w = fork_join();
    let one = preset("cpu-server").unwrap();
    for objective in [Objective::Latency, Objective::Cost] {
        let opts = Options {
            objective,
            solver: Solver::Heuristic,
            ..Default::default()
        };
        assert_eq!(
            schedule(&w, &one, &opts).unwrap().placements,
            optimal(&w, &one, &opts).unwrap().schedule.placements
        );
    }
    let big = random_dag(13, 1);
    assert!(matches!(
        optimal(&big, &t, &Options::default()),
        Err(ScheduleError::TooLargeForOracle { .. })
    ));
}

#[test]
fn output_is_deterministic() {
    let t = preset("h100+a100").unwrap();
    let w = agentc_scheduler::synth::agent_workflow(400, 7);
    for objective in [Objective::Latency, Objective::Cost] {
        let o = Options {
            objective,
            ..Default::default()
        };
        let a = to_json(&schedule(&w, &t, &o).unwrap(), &w);
        let b = to_json(&schedule(&w.clone(), &t.clone(), &o).unwrap(), &w);
        assert_eq!(a, b);
    }
}

#[test]
fn improvement_never_hurts() {
    let t = preset("h100+a100").unwrap();
    let w = agentc_scheduler::synth::agent_workflow(300, 3);
    let heft = schedule(
        &w,
        &t,
        &Options {
            heft_only: true,
            ..Default::default()
        },
    )
    .unwrap();
    let lat = schedule(&w, &t, &Options::default()).unwrap();
    let cost = schedule(
        &w,
        &t,
        &Options {
            objective: Objective::Cost,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(lat.makespan <= heft.makespan);
    assert!(cost.total_cost <= heft.total_cost);
    // Every fragment starts after its producers' data has arrived.
    for e in &w.edges {
        for s in [&heft, &lat, &cost] {
            assert!(s.placements[e.to].start >= s.placements[e.from].finish - 1e-12);
        }
    }
}

#[test]
fn reports_render() {
    let target = preset("h100+a100").unwrap();
    let w = single_llm_request(&DecoderConfig::llama3_70b(), "llama-70b", 2000.0, 500.0);
    let s = schedule(
        &w,
        &target,
        &Options {
            objective: Objective::Cost,
            ..Default::default()
        },
    )
    .unwrap();
    let table = to_table(&s, &w);
    assert!(table.contains("prefill llama-70b"));
    assert!(table.contains("critical path: tokenize -> prefill llama-70b"));
    assert!(table.contains("cost per million generated tokens: $"));
    assert!(table.contains("kv_transfer 1 -> 2"));
    let json: serde_json::Value = serde_json::from_str(&to_json(&s, &w)).unwrap();
    assert_eq!(json["placements"][1]["kind"], "prefill");
    assert_eq!(json["objective"], "cost");
    let svg = to_gantt_svg(&s, &w, &target);
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(">h100_0+h100_1</text>") && svg.contains(">a100_0+a100_1</text>"));
    assert!(svg.contains(">kv_transfer</text>"));
    let dot = to_dot(&s, &w);
    assert!(dot.starts_with("digraph schedule {") && dot.contains("f1 -> f2 [label="));
    let mmd = to_mermaid(&s, &w);
    assert!(mmd.starts_with("flowchart LR") && mmd.contains("classDef d0"));
}

#[test]
fn bad_workloads_are_errors_not_panics() {
    let t = mixed_small();
    let mut w = fork_join();
    w.edges.push(Edge {
        from: 4,
        to: 0,
        bytes: 1.0,
    });
    assert!(matches!(
        schedule(&w, &t, &Options::default()),
        Err(ScheduleError::Cycle { .. })
    ));
    let mut w = fork_join();
    w.edges.push(Edge {
        from: 0,
        to: 9,
        bytes: 1.0,
    });
    assert!(matches!(
        schedule(&w, &t, &Options::default()),
        Err(ScheduleError::InvalidWorkload { .. })
    ));
    let mut w = fork_join();
    w.fragments[0].model = Some(3);
    assert!(matches!(
        schedule(&w, &t, &Options::default()),
        Err(ScheduleError::InvalidWorkload { .. })
    ));
    let empty = Workload::default();
    let s = schedule(&empty, &t, &Options::default()).unwrap();
    assert_eq!(
        (s.makespan, s.total_cost, s.placements.len()),
        (0.0, 0.0, 0)
    );
}

/// `route` (a host step) then `if`: the then arm is a 22.6 s tool, the else arm a 2 s tool,
/// each at probability ½ (weight ½); `out` joins them.
fn branching_request() -> Workload {
    let tool = |name: &str, seconds: f64| {
        let mut t = compute(name, 0.0);
        t.kind = FragmentKind::Tool;
        t.profile.fixed_seconds = seconds;
        t.weight = 0.5;
        t
    };
    let e = |from, to| Edge { from, to, bytes: 1.0 };
    Workload {
        fragments: vec![compute("route", 0.0), tool("slow", 22.6), tool("fast", 2.0), compute("out", 0.0)],
        edges: vec![e(0, 1), e(0, 2), e(1, 3), e(2, 3)],
        branches: vec![Branch { name: "if route".into(), probabilities: [0.5, 0.5], arms: [vec![1], vec![2]], follows: None }],
        ..Default::default()
    }
}

#[test]
fn the_sla_is_judged_on_the_worst_path_not_the_averaged_graph() {
    let w = branching_request();
    let options = Options { sla_seconds: Some(20.0), ..Default::default() };
    let s = schedule(&w, &two_cpus(), &options).unwrap();
    // Both arms at half weight side by side: 11.3 s, which used to pass the 20 s SLA.
    assert!((s.makespan - 11.3).abs() < 1e-9, "makespan {}", s.makespan);
    assert_eq!(s.paths.paths.len(), 2);
    let then = &s.paths.paths[0];
    let other = &s.paths.paths[1];
    assert_eq!((then.arms.clone(), then.probability), (vec![(0, 0)], 0.5));
    assert_eq!((other.arms.clone(), other.probability), (vec![(0, 1)], 0.5));
    assert!((then.latency - 22.6).abs() < 1e-9 && (other.latency - 2.0).abs() < 1e-9, "{:?}", s.paths);
    assert!((s.paths.worst_latency - 22.6).abs() < 1e-9 && s.paths.worst_probability == 0.5);
    assert!((s.paths.expected_latency - 12.3).abs() < 1e-9);
    assert!((s.paths.probability_within(20.0) - 0.5).abs() < 1e-12);
    assert!(!s.sla_met, "the then path takes 22.6 s > 20 s");
    assert!((s.sla_latency - 22.6).abs() < 1e-9);
    // Opting for the expected latency (12.3 s) meets it.
    let expected = Options { sla_basis: SlaBasis::Expected, ..options };
    let s = schedule(&w, &two_cpus(), &expected).unwrap();
    assert!(s.sla_met && (s.sla_latency - 12.3).abs() < 1e-9);
}

#[test]
fn nested_branches_give_one_path_per_reached_arm_combination() {
    // if A { x; if B { y } else { z } } else { w }: paths x+y, x+z, w (B is not reached
    // on the else path), probabilities 0.9·0.3, 0.9·0.7, 0.1.
    let f = |name: &str, gflop: f64, weight: f64| {
        let mut c = compute(name, gflop);
        c.weight = weight;
        c
    };
    let w = Workload {
        fragments: vec![f("x", 1.0, 0.9), f("y", 4.0, 0.27), f("z", 2.0, 0.63), f("w", 8.0, 0.1)],
        edges: vec![Edge { from: 0, to: 1, bytes: 0.0 }, Edge { from: 0, to: 2, bytes: 0.0 }],
        branches: vec![
            Branch { name: "if A".into(), probabilities: [0.9, 0.1], arms: [vec![0, 1, 2], vec![3]], follows: None },
            Branch { name: "if B".into(), probabilities: [0.3, 0.7], arms: [vec![1], vec![2]], follows: None },
        ],
        ..Default::default()
    };
    let s = schedule(&w, &two_cpus(), &Options::default()).unwrap();
    let got: Vec<(Vec<(usize, usize)>, f64, f64)> =
        s.paths.paths.iter().map(|p| (p.arms.clone(), (p.probability * 1e9).round() / 1e9, (p.latency * 1e9).round() / 1e9)).collect();
    assert_eq!(
        got,
        [
            (vec![(0, 0), (1, 0)], 0.27, 5.0),
            (vec![(0, 0), (1, 1)], 0.63, 3.0),
            (vec![(0, 1)], 0.1, 8.0),
        ]
    );
    assert_eq!(s.paths.worst_latency, 8.0);
    let total: f64 = s.paths.paths.iter().map(|p| p.probability).sum();
    assert!((total - 1.0).abs() < 1e-12);
}


#[test]
fn an_if_on_an_earlier_condition_follows_that_ifs_arm() {
    // `if c { return a() }` then `b()` under the guard `if !c`: two paths (a, b), not four
    // (a+b and neither are impossible), each with c's probability.
    let f = |name: &str, gflop: f64, weight: f64| {
        let mut c = compute(name, gflop);
        c.weight = weight;
        c
    };
    let w = Workload {
        fragments: vec![f("a", 4.0, 0.8), f("b", 2.0, 0.2)],
        branches: vec![
            Branch { name: "if c".into(), probabilities: [0.8, 0.2], arms: [vec![0], vec![]], follows: None },
            Branch { name: "if !c".into(), probabilities: [0.2, 0.8], arms: [vec![1], vec![]], follows: Some((0, true)) },
        ],
        ..Default::default()
    };
    let s = schedule(&w, &two_cpus(), &Options::default()).unwrap();
    let got: Vec<(Vec<(usize, usize)>, f64, f64)> =
        s.paths.paths.iter().map(|p| (p.arms.clone(), (p.probability * 1e9).round() / 1e9, (p.latency * 1e9).round() / 1e9)).collect();
    assert_eq!(got, [(vec![(0, 0), (1, 1)], 0.8, 4.0), (vec![(0, 1), (1, 0)], 0.2, 2.0)]);
    assert!((s.paths.expected_latency - 3.6).abs() < 1e-9, "{:?}", s.paths);
}

#[test]
fn reports_give_the_latency_per_path_and_the_sla_verdict_on_the_worst() {
    let w = branching_request();
    let s = schedule(&w, &two_cpus(), &Options { sla_seconds: Some(20.0), ..Default::default() }).unwrap();
    let table = to_table(&s, &w);
    assert!(table.contains("paths through the ifs: 2; worst 22.600 s (probability 0.5), expected 12.300 s"), "{table}");
    assert!(table.contains("  path 1: 22.600 s with probability 0.5: if route then\n"), "{table}");
    assert!(table.contains("  path 2: 2.000 s with probability 0.5: if route else\n"), "{table}");
    assert!(table.contains("SLA 20.000 s: NOT met on the worst path (22.600 s); met with probability 0.5"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&to_json(&s, &w)).unwrap();
    assert_eq!(json["sla_met"], false);
    assert_eq!(json["sla_basis"], "worst");
    assert_eq!(json["paths"]["paths"].as_array().unwrap().len(), 2);
}

#[test]
fn cost_under_an_sla_honours_the_worst_path_unless_expected_is_asked_for() {
    // A cheap 1 GFLOP/s CPU and a dear 10 GFLOP/s one. The then arm (20 GFLOP, probability
    // ½) takes 20 s on the cheap CPU: 10 s at half weight, within a 15 s SLA on average,
    // but not on its path; so cost under the SLA must pay for the fast CPU.
    let text = r#"
name = "cheap-and-fast"
[[device]]
name = "slow"
kind = "cpu"
peak_flops = { f32 = 1e9 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 1.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
[[device]]
name = "fast"
kind = "cpu"
peak_flops = { f32 = 1e10 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 100.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
[[link]]
between = ["slow", "fast"]
bandwidth = 1e9
latency = 0.0
"#;
    let t = Target::from_toml_str(text, "cheap-and-fast").unwrap();
    let mut heavy = compute("heavy", 20.0);
    heavy.weight = 0.5;
    let mut light = compute("light", 0.0);
    light.weight = 0.5;
    let w = Workload {
        fragments: vec![heavy, light],
        branches: vec![Branch { name: "if".into(), probabilities: [0.5, 0.5], arms: [vec![0], vec![1]], follows: None }],
        ..Default::default()
    };
    let worst = Options { objective: Objective::Cost, sla_seconds: Some(15.0), ..Default::default() };
    let s = schedule(&w, &t, &worst).unwrap();
    assert_eq!(s.placements[0].device, "fast", "{:?}", s.placements);
    assert!(s.sla_met && s.sla_latency <= 15.0);
    let expected = Options { sla_basis: SlaBasis::Expected, ..worst };
    let s = schedule(&w, &t, &expected).unwrap();
    assert_eq!(s.placements[0].device, "slow", "the expected 10 s meets the SLA on the cheap CPU");
    assert!(s.sla_met && (s.sla_latency - 10.0).abs() < 1e-9 && (s.paths.worst_latency - 20.0).abs() < 1e-9);
}

/// A slow cheap CPU and a 100x faster, 1000x pricier GPU (compute fragments run on both).
fn cheap_cpu_dear_gpu() -> Target {
    let text = r#"
name = "cheap-cpu-dear-gpu"
[[device]]
name = "cpu"
kind = "cpu"
peak_flops = { f32 = 1e9 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 1.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
[[device]]
name = "gpu"
kind = "gpu"
peak_flops = { f32 = 1e11 }
mem_bandwidth = 1e12
mem_bytes = 1e12
price_per_hour = 1000.0
launch_overhead_s = 0.0
compute_eff = 1.0
memory_eff = 1.0
[[link]]
between = ["cpu", "gpu"]
bandwidth = 1e12
latency = 0.0
"#;
    Target::from_toml_str(text, "cheap-cpu-dear-gpu").unwrap()
}

#[test]
fn a_fragment_with_its_own_cost_objective_is_placed_for_cost_under_the_sla() {
    // A -> B, 1 GFLOP each: 1 s on the CPU at $1/h, 10 ms on the GPU at $1000/h
    // ($2.8e-4 vs $2.8e-3). For latency both go to the GPU.
    let target = cheap_cpu_dear_gpu();
    let mut w = Workload { fragments: vec![compute("A", 1.0), compute("B", 1.0)], edges: vec![Edge { from: 0, to: 1, bytes: 0.0 }], ..Default::default() };
    let device = |s: &Schedule, f: usize| s.placements[f].device.clone();
    let latency = Options { objective: Objective::Latency, ..Default::default() };
    let plain = schedule(&w, &target, &latency).unwrap();
    assert_eq!((device(&plain, 0), device(&plain, 1)), ("gpu".to_string(), "gpu".to_string()));
    // B's own cost objective moves B (only) to the cheap CPU: 1.01 s instead of 20 ms.
    w.fragments[1].objective = Some(Objective::Cost);
    let own = schedule(&w, &target, &latency).unwrap();
    assert_eq!((device(&own, 0), device(&own, 1)), ("gpu".to_string(), "cpu".to_string()));
    assert!((own.makespan - 1.01).abs() < 1e-9, "{}", own.makespan);
    // The program's SLA still comes first: 0.5 s cannot be met with B on the CPU.
    let sla = Options { objective: Objective::Latency, sla_seconds: Some(0.5), ..Default::default() };
    let bound = schedule(&w, &target, &sla).unwrap();
    assert_eq!(device(&bound, 1), "gpu");
    assert!(bound.sla_met);
    // A fragment whose own objective is the program's changes nothing.
    w.fragments[1].objective = Some(Objective::Latency);
    assert_eq!(schedule(&w, &target, &latency).unwrap(), plain);
}
