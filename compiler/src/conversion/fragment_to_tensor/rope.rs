//! RoPE's inverse frequencies under a scaling (`rope_type` linear / llama3), computed at
//! compile time in f32 as transformers computes them (`modeling_rope_utils.py`), for the
//! `inv_freq` table of `tgraph.rope`.

use agentc_runtime::model_config::RopeScaling;

/// The D/2 inverse frequencies of a head of size `head_dim` with base `theta`:
/// inv_freq[j] = 1 / θ^(2j / D), then scaled. `None` for [`RopeScaling::Default`], which
/// the rope kernel computes from `theta` itself.
pub fn inv_freq(theta: f64, head_dim: i64, scaling: &RopeScaling) -> Option<Vec<f32>> {
    let d = head_dim as f32;
    let base: Vec<f32> = (0..head_dim / 2).map(|j| 1.0 / (theta as f32).powf((2 * j) as f32 / d)).collect();
    match *scaling {
        RopeScaling::Default => None,
        RopeScaling::Linear { factor } => Some(base.iter().map(|f| f / factor as f32).collect()),
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_positions } => {
            let (factor, low, high, old) = (factor as f32, low_freq_factor as f32, high_freq_factor as f32, original_max_positions as f32);
            let low_freq_wavelen = old / low;
            let high_freq_wavelen = old / high;
            Some(
                base.iter()
                    .map(|&f| {
                        let wavelen = 2.0 * std::f32::consts::PI / f;
                        // Long wavelengths: divided by factor; short ones: kept; between,
                        // a ramp from the divided to the kept frequency.
                        let scaled = if wavelen > low_freq_wavelen { f / factor } else { f };
                        let medium = wavelen >= high_freq_wavelen && wavelen <= low_freq_wavelen;
                        if medium {
                            let smooth = (old / wavelen - low) / (high - low);
                            (1.0 - smooth) * scaled / factor + smooth * scaled
                        } else {
                            scaled
                        }
                    })
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_divides_every_frequency() {
        let table = inv_freq(10000.0, 4, &RopeScaling::Linear { factor: 2.0 }).unwrap();
        assert_eq!(table, vec![0.5, 0.005]);
        assert_eq!(inv_freq(10000.0, 4, &RopeScaling::Default), None);
    }

    #[test]
    fn llama3_keeps_high_divides_low_and_ramps_between() {
        // D = 16, θ = 10⁴: wavelengths 2π·10^(j/2) = 6.3, 19.9, 62.8, 199, ...; with
        // original 64, low 1, high 4 the bands are < 16 (kept), 16..64 (ramp), > 64.
        let scaling = RopeScaling::Llama3 { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_positions: 64.0 };
        let table = inv_freq(10000.0, 16, &scaling).unwrap();
        let plain = inv_freq(10000.0, 16, &RopeScaling::Linear { factor: 1.0 }).unwrap();
        assert_eq!(table[0], plain[0]);
        for j in 3..8 {
            assert_eq!(table[j], plain[j] / 8.0);
        }
        for j in 1..3 {
            assert!(table[j] < plain[j] && table[j] > plain[j] / 8.0, "{j}: {} vs {}", table[j], plain[j]);
        }
    }
}
