//! Calibration statistics: for every decoder layer and input slot
//! ([`crate::forward::input_slot`]), the Hessian of the layer-wise reconstruction error,
//! `H = 2·XᵀX` summed over the calibration tokens, in f64. Optionally the inputs `X`
//! themselves are kept (tests measure ‖WXᵀ − ŴXᵀ‖ on them).

use candle_core::{DType, Tensor};

use crate::forward::Observer;

/// `H` per layer and slot (`n × n`, row-major) and, when kept, the inputs.
pub struct Hessians {
    /// `h[layer][slot]`: the matrix and its order.
    pub h: Vec<[(Vec<f64>, usize); 4]>,
    /// Calibration tokens seen.
    pub tokens: usize,
    /// `x[layer][slot]`: the input rows, row-major, when [`Hessians::keeping_inputs`].
    pub x: Option<Vec<[Vec<f32>; 4]>>,
}

impl Hessians {
    /// Empty statistics for `layers` layers.
    pub fn new(layers: usize) -> Hessians {
        Hessians { h: (0..layers).map(|_| Default::default()).collect(), tokens: 0, x: None }
    }

    /// The same, also keeping the inputs.
    pub fn keeping_inputs(layers: usize) -> Hessians {
        let mut h = Hessians::new(layers);
        h.x = Some((0..layers).map(|_| Default::default()).collect());
        h
    }
}

impl Observer for Hessians {
    fn observe(&mut self, layer: usize, slot: usize, x: &Tensor) -> candle_core::Result<()> {
        let n = x.dims()[1];
        if layer == 0 && slot == 0 {
            self.tokens += x.dims()[0];
        }
        let x64 = x.to_dtype(DType::F64)?;
        let xtx = x64.t()?.matmul(&x64)?.flatten_all()?.to_vec1::<f64>()?;
        let (h, order) = &mut self.h[layer][slot];
        if h.is_empty() {
            *h = vec![0.0; n * n];
            *order = n;
        }
        for (a, b) in h.iter_mut().zip(xtx) {
            *a += 2.0 * b;
        }
        if let Some(keep) = &mut self.x {
            keep[layer][slot].extend(x.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(())
    }
}
