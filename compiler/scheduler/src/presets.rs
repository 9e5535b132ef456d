//! Built-in targets, as TOML text users can copy (`agentc targets --show NAME`). Every
//! number carries its source; "assumed" marks estimates. Prices are on-demand list prices
//! as the comment says and drift: copy a preset and edit it for real decisions.

use std::borrow::Cow;

use crate::target::{Target, TargetError};

/// Host-CPU price basis used throughout: USD per vCPU-hour (AWS m7i.48xlarge on-demand,
/// us-east-1, $9.6768/h for 192 vCPUs, 2024–2025 list price).
pub const PRICE_PER_VCPU_HOUR: f64 = 0.0504;

// A 1/8 slice of a DGX-class host (2x Xeon Platinum 8480C), used by one-GPU presets.
macro_rules! host_slice {
    () => {
        r#"
# The host CPU: a 1/8 slice of a DGX-class host, 2x Intel Xeon Platinum 8480C (56 cores each,
# 2.0 GHz base; Intel ARK), i.e. 14 cores.
[[device]]
name = "cpu"
kind = "cpu"
model = "Xeon 8480C (14-core slice)"
# f32: 14 cores x 2.0e9 Hz x 64 flop/cycle (AVX-512, 2 FMA ports x 16 lanes x 2) = 1.792e12
# bf16: 14 x 2.0e9 x 1024 flop/cycle (AMX, Intel's published per-core peak) = 28.67e12
peak_flops = { f32 = 1.792e12, bf16 = 28.67e12 }
# 1/8 of 2 sockets x 8 channels x DDR5-4800 (38.4 GB/s each) = 614.4 GB/s -> 76.8 GB/s
mem_bandwidth = 76.8e9
# 1/8 of the DGX H100's 2 TB system memory (NVIDIA DGX H100 datasheet)
mem_bytes = 256e9
# 28 vCPUs x $0.0504/vCPU-h (AWS m7i on-demand rate, us-east-1; see PRICE_PER_VCPU_HOUR)
price_per_hour = 1.4112
# assumed: one task dispatch on a CPU thread pool
launch_overhead_s = 1e-6
# assumed: 50% of peak flops, 70% of peak bandwidth for CPU kernels
compute_eff = 0.5
memory_eff = 0.7
"#
    };
}

// A whole DGX-class host, used by eight-GPU nodes.
macro_rules! host_full {
    ($name:literal, $node:literal) => {
        concat!(
            r#"
# The node's host CPUs: 2x Intel Xeon Platinum 8480C (56 cores each, 2.0 GHz base; Intel ARK;
# the DGX H100 datasheet lists this pair).
[[device]]
name = ""#,
            $name,
            r#""
kind = "cpu"
model = "2x Xeon 8480C"
node = ""#,
            $node,
            r#""
# f32: 112 cores x 2.0e9 Hz x 64 flop/cycle (AVX-512) = 14.34e12
# bf16: 112 x 2.0e9 x 1024 flop/cycle (AMX) = 229.4e12
peak_flops = { f32 = 14.34e12, bf16 = 229.4e12 }
# 2 sockets x 8 channels x DDR5-4800 (38.4 GB/s) = 614.4 GB/s
mem_bandwidth = 614.4e9
# 2 TB system memory (NVIDIA DGX H100 datasheet)
mem_bytes = 2048e9
# 224 vCPUs x $0.0504/vCPU-h (AWS m7i on-demand rate; assumed to price the host separately)
price_per_hour = 11.29
# assumed
launch_overhead_s = 1e-6
compute_eff = 0.5
memory_eff = 0.7
"#
        )
    };
}

macro_rules! h100 {
    ($count:literal, $node:literal) => {
        concat!(
            r#"
[[device]]
name = "h100"
kind = "gpu"
model = "H100 SXM 80GB"
count = "#,
            $count,
            r#"
node = ""#,
            $node,
            r#""
# NVIDIA H100 Tensor Core GPU datasheet (SXM column), dense (without sparsity):
# FP32 67 TFLOPS, BF16/FP16 989.4 TFLOPS, FP8 1978.9 TFLOPS
peak_flops = { f32 = 67e12, f16 = 989.4e12, bf16 = 989.4e12, fp8 = 1978.9e12 }
# datasheet: 3.35 TB/s HBM3
mem_bandwidth = 3.35e12
# datasheet: 80 GB
mem_bytes = 80e9
# Lambda on-demand, 8x H100 SXM instance, per GPU-hour (2025 list price; drifts)
price_per_hour = 2.99
# assumed: one kernel launch / one CUDA-graph decode step
launch_overhead_s = 10e-6
# assumed: 60% of peak flops (typical large-GEMM MFU), 80% of peak HBM bandwidth
compute_eff = 0.6
memory_eff = 0.8
"#
        )
    };
}

macro_rules! a100 {
    ($count:literal, $node:literal) => {
        concat!(
            r#"
[[device]]
name = "a100"
kind = "gpu"
model = "A100 SXM 80GB"
count = "#,
            $count,
            r#"
node = ""#,
            $node,
            r#""
# NVIDIA A100 Tensor Core GPU datasheet (80GB SXM), dense: FP32 19.5 TFLOPS,
# BF16/FP16 312 TFLOPS; no FP8 (fp8 runs at the bf16 rate)
peak_flops = { f32 = 19.5e12, f16 = 312e12, bf16 = 312e12 }
# datasheet: 2,039 GB/s HBM2e
mem_bandwidth = 2.039e12
# datasheet: 80 GB
mem_bytes = 80e9
# Lambda on-demand, 8x A100 SXM 80GB instance, per GPU-hour (2025 list price; drifts)
price_per_hour = 1.79
# assumed
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8
"#
        )
    };
}

macro_rules! b200 {
    ($count:literal, $node:literal) => {
        concat!(
            r#"
[[device]]
name = "b200"
kind = "gpu"
model = "B200 180GB (HGX)"
count = "#,
            $count,
            r#"
node = ""#,
            $node,
            r#""
# NVIDIA HGX B200 datasheet, per GPU (the 8-GPU figures / 8), dense = sparse / 2:
# FP32 ~75 TFLOPS (assumed from FP64 40 TFLOPS-class vector units),
# BF16/FP16 2.25 PFLOPS, FP8 4.5 PFLOPS
peak_flops = { f32 = 75e12, f16 = 2.25e15, bf16 = 2.25e15, fp8 = 4.5e15 }
# datasheet: up to 8 TB/s HBM3e per GPU
mem_bandwidth = 8e12
# HGX B200: 1,440 GB total for 8 GPUs = 180 GB each
mem_bytes = 180e9
# Lambda on-demand, 8x B200 instance, per GPU-hour (2025 list price; drifts)
price_per_hour = 4.99
# assumed
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8
"#
        )
    };
}

macro_rules! gaudi3 {
    ($count:literal, $node:literal) => {
        concat!(
            r#"
[[device]]
name = "gaudi3"
kind = "accelerator"
model = "Intel Gaudi 3 (OAM)"
count = "#,
            $count,
            r#"
node = ""#,
            $node,
            r#""
# Intel Gaudi 3 AI Accelerator white paper / Hot Chips 2024: BF16 and FP8 matrix
# 1835 TFLOPS, BF16 vector 28.7 TFLOPS; f32 (vector) assumed = 28.7 TFLOPS / 2
peak_flops = { f32 = 14.3e12, bf16 = 1835e12, fp8 = 1835e12 }
# white paper: 3.67 TB/s HBM2e
mem_bandwidth = 3.67e12
# white paper: 128 GB
mem_bytes = 128e9
# assumed: no widely published on-demand list price; ~2/3 of an H100-hour
price_per_hour = 1.99
# assumed
launch_overhead_s = 20e-6
compute_eff = 0.6
memory_eff = 0.8
"#
        )
    };
}

// Links inside one GPU node: host <-> GPU over PCIe, GPU <-> GPU over the fabric.
macro_rules! links {
    ($host:literal, $gpu:literal, $pcie:literal, $pcie_src:literal, $fabric:literal, $fabric_src:literal) => {
        concat!(
            r#"
# host <-> GPU: "#,
            $pcie_src,
            r#"; latency assumed (one DMA + driver)
[[link]]
between = [""#,
            $host,
            r#"", ""#,
            $gpu,
            r#""]
bandwidth = "#,
            $pcie,
            r#"
latency = 5e-6

# GPU <-> GPU: "#,
            $fabric_src,
            r#"; latency assumed
[[link]]
between = [""#,
            $gpu,
            r#"", ""#,
            $gpu,
            r#""]
bandwidth = "#,
            $fabric,
            r#"
latency = 2e-6
"#
        )
    };
}

const HOST_TEMPLATE: &str = r#"# The machine running agentc, detected at start-up.
name = "host"
description = "the machine running agentc (cores and memory detected)"

[[device]]
name = "cpu"
kind = "cpu"
model = "host CPU ({cores} logical CPUs, detected)"
# f32: {cores} logical CPUs (std::thread::available_parallelism) x 3.0e9 Hz (assumed)
#      x 32 flop/cycle (assumed AVX2: 2 FMA ports x 8 f32 lanes x 2)
# (logical CPUs may be hyper-threads sharing FMA ports: an upper bound)
peak_flops = {{ f32 = {flops:e} }}
# assumed: 8 GB/s per logical CPU, at most 200 GB/s
mem_bandwidth = {bw:e}
# MemTotal from /proc/meminfo (16 GiB assumed when unreadable)
mem_bytes = {mem:e}
# {cores} vCPUs x $0.0504/vCPU-h (AWS m7i on-demand rate, us-east-1; as if rented)
price_per_hour = {price}
# assumed
launch_overhead_s = 1e-6
compute_eff = 0.5
memory_eff = 0.7
# assumed: what `agentc calibrate` measured for agentc's quantized decode kernels on a
# 2-vCPU AVX-512 Xeon (SmolLM2, 2026-12-06): 7.3e9 int8 and 7.6e9 int4 weights/s per logical CPU
dequant_weights_per_s = {{ int8 = {q8:e}, int4 = {q4:e} }}
# std::thread::available_parallelism (the runtime's default threads); how many of them one
# model call keeps busy is what `agentc calibrate` measures (busy_cores_per_call)
cores = {cores}
"#;

/// The built-in targets: (name, one-line description).
pub const PRESETS: &[(&str, &str)] = &[
    (
        "host",
        "the machine running agentc (cores and memory detected)",
    ),
    (
        "cpu-server",
        "a 2-socket Xeon 8488C server (AWS m7i.48xlarge)",
    ),
    ("h100", "one H100 SXM 80GB and its host CPU slice"),
    ("h200", "one H200 SXM 141GB and its host CPU slice"),
    ("b200", "one B200 180GB and its host CPU slice"),
    ("a100-80gb", "one A100 SXM 80GB and its host CPU slice"),
    ("l4", "one L4 24GB (AWS g6.xlarge)"),
    ("l40s", "one L40S 48GB (AWS g6e.xlarge)"),
    ("gaudi3", "one Intel Gaudi 3 and its host CPU slice"),
    ("mi300x", "one AMD Instinct MI300X and its host CPU slice"),
    ("h100x8", "one DGX-class node: 8x H100 SXM over NVLink"),
    (
        "h100+a100",
        "Splitwise-like: an 8x H100 node and an 8x A100 node over InfiniBand",
    ),
    (
        "b200+gaudi3",
        "an 8x B200 node and an 8x Gaudi 3 node over 400 Gb/s",
    ),
    ("gpu+cpu", "a 2-socket Xeon server with 2x L40S on PCIe"),
];

const CPU_SERVER: &str = r#"# A CPU-only server.
name = "cpu-server"
description = "a 2-socket Xeon 8488C server (AWS m7i.48xlarge)"

[[device]]
name = "cpu"
kind = "cpu"
model = "2x Xeon Platinum 8488C"
# AWS m7i.48xlarge: 192 vCPUs = 96 cores, 2.4 GHz base (Intel ARK, 8488C)
# f32: 96 x 2.4e9 x 64 flop/cycle (AVX-512) = 14.75e12; bf16: 96 x 2.4e9 x 1024 (AMX) = 235.9e12
peak_flops = { f32 = 14.75e12, bf16 = 235.9e12 }
# 2 sockets x 8 channels x DDR5-4800 (38.4 GB/s) = 614.4 GB/s
mem_bandwidth = 614.4e9
# m7i.48xlarge: 768 GiB
mem_bytes = 824.6e9
# AWS on-demand, us-east-1, Linux, m7i.48xlarge (2024-2025 list price)
price_per_hour = 9.6768
# assumed
launch_overhead_s = 1e-6
compute_eff = 0.5
memory_eff = 0.7
"#;

const H100: &str = concat!(
    "# One H100 SXM with a slice of its host.\nname = \"h100\"\ndescription = \"one H100 SXM 80GB and its host CPU slice\"\n",
    host_slice!(),
    h100!(1, "node0"),
    links!(
        "cpu",
        "h100",
        "64e9",
        "PCIe Gen5 x16, 64 GB/s per direction (PCI-SIG)",
        "450e9",
        "NVLink 4, 900 GB/s total = 450 GB/s per direction (H100 datasheet)"
    ),
);

const H200: &str = concat!(
    "# One H200 SXM with a slice of its host.\nname = \"h200\"\ndescription = \"one H200 SXM 141GB and its host CPU slice\"\n",
    host_slice!(),
    r#"
[[device]]
name = "h200"
kind = "gpu"
model = "H200 SXM 141GB"
count = 1
# NVIDIA H200 datasheet (SXM), dense: same Hopper compute as H100 SXM:
# FP32 67 TFLOPS, BF16/FP16 989.4 TFLOPS, FP8 1978.9 TFLOPS
peak_flops = { f32 = 67e12, f16 = 989.4e12, bf16 = 989.4e12, fp8 = 1978.9e12 }
# datasheet: 4.8 TB/s HBM3e
mem_bandwidth = 4.8e12
# datasheet: 141 GB
mem_bytes = 141e9
# assumed: typical 2025 neocloud on-demand H200 listing, per GPU-hour
price_per_hour = 3.79
# assumed
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8
"#,
    links!(
        "cpu",
        "h200",
        "64e9",
        "PCIe Gen5 x16, 64 GB/s per direction",
        "450e9",
        "NVLink 4, 450 GB/s per direction (H200 datasheet: 900 GB/s)"
    ),
);

const B200: &str = concat!(
    "# One B200 with a slice of its host.\nname = \"b200\"\ndescription = \"one B200 180GB and its host CPU slice\"\n",
    host_slice!(),
    b200!(1, "node0"),
    links!(
        "cpu",
        "b200",
        "64e9",
        "PCIe Gen5 x16, 64 GB/s per direction",
        "900e9",
        "NVLink 5, 1.8 TB/s total = 900 GB/s per direction (HGX B200 datasheet)"
    ),
);

const A100_80GB: &str = concat!(
    "# One A100 80GB SXM with a slice of its host.\nname = \"a100-80gb\"\ndescription = \"one A100 SXM 80GB and its host CPU slice\"\n",
    host_slice!(),
    a100!(1, "node0"),
    links!(
        "cpu",
        "a100",
        "32e9",
        "PCIe Gen4 x16, 32 GB/s per direction (PCI-SIG)",
        "300e9",
        "NVLink 3, 600 GB/s total = 300 GB/s per direction (A100 datasheet)"
    ),
);

const L4: &str = r#"# One NVIDIA L4 (AWS g6.xlarge: 1x L4, 4 vCPUs, 16 GiB).
name = "l4"
description = "one L4 24GB (AWS g6.xlarge)"

[[device]]
name = "cpu"
kind = "cpu"
model = "AMD EPYC 7R13 (4 vCPUs)"
# 4 vCPUs (2 cores) x 3.0e9 Hz (assumed) x 32 flop/cycle (AVX2, 2 FMA x 8 lanes x 2)
peak_flops = { f32 = 0.192e12 }
# assumed: 8 GB/s per vCPU
mem_bandwidth = 32e9
# g6.xlarge: 16 GiB
mem_bytes = 17.18e9
# the instance price is charged on the GPU; assumed $0.0504/vCPU-h x 4 for the host's share
price_per_hour = 0.2016
launch_overhead_s = 1e-6
compute_eff = 0.5
memory_eff = 0.7

[[device]]
name = "l4"
kind = "gpu"
model = "L4 24GB"
count = 1
# NVIDIA L4 datasheet, dense (sparse / 2): FP32 30.3 TFLOPS, BF16/FP16 121 TFLOPS,
# FP8 242.5 TFLOPS
peak_flops = { f32 = 30.3e12, f16 = 121e12, bf16 = 121e12, fp8 = 242.5e12 }
# datasheet: 300 GB/s GDDR6
mem_bandwidth = 300e9
# datasheet: 24 GB
mem_bytes = 24e9
# AWS on-demand us-east-1 g6.xlarge $0.8048/h (2024-2025 list) less the host share above
price_per_hour = 0.6032
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8

# host <-> GPU: PCIe Gen4 x16, 32 GB/s per direction; latency assumed
[[link]]
between = ["cpu", "l4"]
bandwidth = 32e9
latency = 5e-6
"#;

const L40S: &str = r#"# One NVIDIA L40S (AWS g6e.xlarge: 1x L40S, 4 vCPUs, 32 GiB).
name = "l40s"
description = "one L40S 48GB (AWS g6e.xlarge)"

[[device]]
name = "cpu"
kind = "cpu"
model = "AMD EPYC 7R13 (4 vCPUs)"
# 4 vCPUs (2 cores) x 3.0e9 Hz (assumed) x 32 flop/cycle (AVX2)
peak_flops = { f32 = 0.192e12 }
# assumed: 8 GB/s per vCPU
mem_bandwidth = 32e9
# g6e.xlarge: 32 GiB
mem_bytes = 34.36e9
# assumed $0.0504/vCPU-h x 4 for the host's share of the instance price
price_per_hour = 0.2016
launch_overhead_s = 1e-6
compute_eff = 0.5
memory_eff = 0.7

[[device]]
name = "l40s"
kind = "gpu"
model = "L40S 48GB"
count = 1
# NVIDIA L40S datasheet, dense (sparse / 2): FP32 91.6 TFLOPS, BF16/FP16 366 TFLOPS,
# FP8 733 TFLOPS
peak_flops = { f32 = 91.6e12, f16 = 366e12, bf16 = 366e12, fp8 = 733e12 }
# datasheet: 864 GB/s GDDR6
mem_bandwidth = 864e9
# datasheet: 48 GB
mem_bytes = 48e9
# AWS on-demand us-east-1 g6e.xlarge $1.861/h (2024-2025 list) less the host share above
price_per_hour = 1.6594
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8

# host <-> GPU: PCIe Gen4 x16, 32 GB/s per direction; latency assumed
[[link]]
between = ["cpu", "l40s"]
bandwidth = 32e9
latency = 5e-6
"#;

const GAUDI3: &str = concat!(
    "# One Intel Gaudi 3 with a slice of its host.\nname = \"gaudi3\"\ndescription = \"one Intel Gaudi 3 and its host CPU slice\"\n",
    host_slice!(),
    gaudi3!(1, "node0"),
    links!(
        "cpu",
        "gaudi3",
        "64e9",
        "PCIe Gen5 x16, 128 GB/s bidirectional = 64 GB/s per direction (Gaudi 3 white paper)",
        "75e9",
        "3 of 24 x 200 GbE RoCE ports per peer = 75 GB/s per direction (Gaudi 3 white paper, 8-card all-to-all)"
    ),
);

const MI300X: &str = concat!(
    "# One AMD Instinct MI300X with a slice of its host.\nname = \"mi300x\"\ndescription = \"one AMD Instinct MI300X and its host CPU slice\"\n",
    host_slice!(),
    r#"
[[device]]
name = "mi300x"
kind = "gpu"
model = "AMD Instinct MI300X"
count = 1
# AMD Instinct MI300X datasheet, dense: FP32 (matrix) 163.4 TFLOPS, BF16/FP16 1307.4 TFLOPS,
# FP8 2614.9 TFLOPS
peak_flops = { f32 = 163.4e12, f16 = 1307.4e12, bf16 = 1307.4e12, fp8 = 2614.9e12 }
# datasheet: 5.3 TB/s HBM3
mem_bandwidth = 5.3e12
# datasheet: 192 GB
mem_bytes = 192e9
# assumed: typical 2025 neocloud on-demand MI300X listing, per GPU-hour
price_per_hour = 2.49
# assumed
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8
"#,
    links!(
        "cpu",
        "mi300x",
        "64e9",
        "PCIe Gen5 x16, 64 GB/s per direction",
        "64e9",
        "Infinity Fabric, 128 GB/s bidirectional per peer link = 64 GB/s per direction (MI300X datasheet)"
    ),
);

const H100X8: &str = concat!(
    "# One DGX-class H100 node.\nname = \"h100x8\"\ndescription = \"one DGX-class node: 8x H100 SXM over NVLink\"\n",
    host_full!("cpu", "node0"),
    h100!(8, "node0"),
    links!(
        "cpu",
        "h100",
        "64e9",
        "PCIe Gen5 x16 per GPU, 64 GB/s per direction",
        "450e9",
        "NVLink 4 via NVSwitch, 450 GB/s per direction (H100 datasheet)"
    ),
);

const H100_A100: &str = concat!(
    "# Splitwise-like (Patel et al., ISCA 2024): an H100 node for prompts, an A100 node for tokens.\n",
    "name = \"h100+a100\"\ndescription = \"Splitwise-like: an 8x H100 node and an 8x A100 node over InfiniBand\"\n",
    r#"
# between the nodes: 400 Gb/s InfiniBand NDR per GPU (ConnectX-7) = 50 GB/s; latency assumed
[network]
bandwidth = 50e9
latency = 5e-6
"#,
    host_full!("cpu", "h100-node"),
    h100!(8, "h100-node"),
    links!(
        "cpu",
        "h100",
        "64e9",
        "PCIe Gen5 x16 per GPU, 64 GB/s per direction",
        "450e9",
        "NVLink 4 via NVSwitch, 450 GB/s per direction"
    ),
    host_full!("cpu_b", "a100-node"),
    a100!(8, "a100-node"),
    links!(
        "cpu_b",
        "a100",
        "32e9",
        "PCIe Gen4 x16 per GPU, 32 GB/s per direction",
        "300e9",
        "NVLink 3 via NVSwitch, 300 GB/s per direction"
    ),
);

const B200_GAUDI3: &str = concat!(
    "# A B200 node and a Gaudi 3 node.\nname = \"b200+gaudi3\"\n",
    "description = \"an 8x B200 node and an 8x Gaudi 3 node over 400 Gb/s\"\n",
    r#"
# between the nodes: 400 Gb/s per accelerator (ConnectX-7 / 2x200 GbE) = 50 GB/s; latency assumed
[network]
bandwidth = 50e9
latency = 5e-6
"#,
    host_full!("cpu", "b200-node"),
    b200!(8, "b200-node"),
    links!(
        "cpu",
        "b200",
        "64e9",
        "PCIe Gen5 x16 per GPU, 64 GB/s per direction",
        "900e9",
        "NVLink 5, 900 GB/s per direction"
    ),
    host_full!("cpu_b", "gaudi-node"),
    gaudi3!(8, "gaudi-node"),
    links!(
        "cpu_b",
        "gaudi3",
        "64e9",
        "PCIe Gen5 x16, 64 GB/s per direction",
        "75e9",
        "3 x 200 GbE RoCE per peer = 75 GB/s per direction"
    ),
);

const GPU_CPU: &str = concat!(
    "# A big CPU server with two L40S cards: CPU-heavy agent work next to modest GPUs.\n",
    "name = \"gpu+cpu\"\ndescription = \"a 2-socket Xeon server with 2x L40S on PCIe\"\n",
    host_full!("cpu", "node0"),
    r#"
[[device]]
name = "l40s"
kind = "gpu"
model = "L40S 48GB"
count = 2
# NVIDIA L40S datasheet, dense: FP32 91.6, BF16/FP16 366, FP8 733 TFLOPS
peak_flops = { f32 = 91.6e12, f16 = 366e12, bf16 = 366e12, fp8 = 733e12 }
# datasheet: 864 GB/s GDDR6, 48 GB
mem_bandwidth = 864e9
mem_bytes = 48e9
# AWS g6e on-demand, per GPU (g6e.xlarge $1.861/h less an assumed host share)
price_per_hour = 1.6594
launch_overhead_s = 10e-6
compute_eff = 0.6
memory_eff = 0.8
"#,
    links!(
        "cpu",
        "l40s",
        "32e9",
        "PCIe Gen4 x16, 32 GB/s per direction",
        "32e9",
        "no NVLink: peer-to-peer over PCIe Gen4, 32 GB/s per direction"
    ),
);

/// The host preset's TOML text, with this machine's cores and memory filled in.
pub fn host_toml() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|kb| kb.parse::<f64>().ok())
                })
        })
        .map_or(16.0 * 1024.0 * 1024.0 * 1024.0, |kb| kb * 1024.0);
    let flops = cores as f64 * 3.0e9 * 32.0;
    let bw = (cores as f64 * 8e9).min(200e9);
    let price = (cores as f64 * PRICE_PER_VCPU_HOUR * 1e4).round() / 1e4;
    let (q8, q4) = (cores as f64 * 7.3e9, cores as f64 * 7.6e9);
    HOST_TEMPLATE
        .replace("{cores}", &cores.to_string())
        .replace("{{", "{")
        .replace("}}", "}")
        .replace("{flops:e}", &format!("{flops:e}"))
        .replace("{bw:e}", &format!("{bw:e}"))
        .replace("{mem:e}", &format!("{mem:e}"))
        .replace("{price}", &format!("{price}"))
        .replace("{q8:e}", &format!("{q8:e}"))
        .replace("{q4:e}", &format!("{q4:e}"))
}

/// The TOML text of preset `name` (what `agentc targets --show NAME` prints).
pub fn preset_toml(name: &str) -> Option<Cow<'static, str>> {
    Some(match name {
        "host" => Cow::Owned(host_toml()),
        "cpu-server" => Cow::Borrowed(CPU_SERVER),
        "h100" => Cow::Borrowed(H100),
        "h200" => Cow::Borrowed(H200),
        "b200" => Cow::Borrowed(B200),
        "a100-80gb" => Cow::Borrowed(A100_80GB),
        "l4" => Cow::Borrowed(L4),
        "l40s" => Cow::Borrowed(L40S),
        "gaudi3" => Cow::Borrowed(GAUDI3),
        "mi300x" => Cow::Borrowed(MI300X),
        "h100x8" => Cow::Borrowed(H100X8),
        "h100+a100" => Cow::Borrowed(H100_A100),
        "b200+gaudi3" => Cow::Borrowed(B200_GAUDI3),
        "gpu+cpu" => Cow::Borrowed(GPU_CPU),
        _ => return None,
    })
}

/// The preset names, in listing order.
pub fn preset_names() -> Vec<&'static str> {
    PRESETS.iter().map(|(n, _)| *n).collect()
}

/// The built-in target `name`, parsed.
pub fn preset(name: &str) -> Option<Target> {
    let text = preset_toml(name)?;
    // Presets are tested to parse (see tests); a failure here would be a bug in this file.
    Target::from_toml_str(&text, &format!("preset `{name}`")).ok()
}

/// A preset name, or else a path to a TOML file.
pub fn load(path_or_name: &str) -> Result<Target, TargetError> {
    if let Some(text) = preset_toml(path_or_name) {
        return Target::from_toml_str(&text, &format!("preset `{path_or_name}`"));
    }
    let path = std::path::Path::new(path_or_name);
    if !path.exists() {
        return Err(TargetError::Unknown {
            name: path_or_name.to_string(),
            presets: preset_names().into_iter().map(String::from).collect(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| TargetError::Io {
        path: path_or_name.to_string(),
        message: e.to_string(),
    })?;
    Target::from_toml_str(&text, path_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_has_a_cpu() {
        for name in preset_names() {
            let text = preset_toml(name).unwrap();
            let t = Target::from_toml_str(&text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.name, name);
            assert!(
                t.devices
                    .iter()
                    .any(|d| d.kind == crate::target::DeviceKind::Cpu),
                "{name}"
            );
            assert!(t.description.len() > 5);
            assert!(preset(name).is_some());
        }
        assert_eq!(preset("h100x8").unwrap().devices.len(), 9);
        assert_eq!(preset("h100+a100").unwrap().devices.len(), 18);
    }

    #[test]
    fn every_number_line_has_a_comment_above_or_is_a_repeat() {
        // Each preset's device numbers come after a `#` comment naming a source.
        for name in preset_names() {
            let text = preset_toml(name).unwrap();
            assert!(
                text.matches('#').count() >= 5,
                "{name} lacks source comments"
            );
        }
    }

    #[test]
    fn load_reports_unknown_names() {
        let err = load("no-such-target").unwrap_err();
        assert!(err.to_string().contains("h100+a100"), "{err}");
        assert!(load("h100").is_ok());
    }

    #[test]
    fn nvlink_beats_pcie_in_h100x8() {
        let t = preset("h100x8").unwrap();
        assert_eq!(t.link(1, 2).bandwidth, 450e9);
        assert_eq!(t.link(0, 2).bandwidth, 64e9);
    }

    #[test]
    fn cross_node_pairs_use_the_network() {
        let t = preset("h100+a100").unwrap();
        let h = t.devices.iter().position(|d| d.name == "h100_0").unwrap();
        let a = t.devices.iter().position(|d| d.name == "a100_0").unwrap();
        assert_eq!(t.link(h, a).bandwidth, 50e9);
    }
}
