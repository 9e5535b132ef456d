; agentc's device math library (compiler/src/codegen/device_math.rs): definitions of the
; libdevice functions that upstream `convert-gpu-to-nvvm` calls, in LLVM IR over LLVM
; intrinsics the NVPTX back end selects to single PTX instructions (sqrt.rn, ex2.approx,
; lg2.approx, fma.rn, cvt.rni, copysign, abs). Linked into the device module before code
; generation; also compiled for x86-64 by lit-tests/codegen/device-math.mlir, which checks
; the accuracy of every function against the host libm.
;
; Accuracy (f32 results; measured by the lit test on the CPU, same IR):
;   __nv_sqrtf, __nv_rsqrtf     correctly rounded sqrt, then a correctly rounded division
;   __nv_expf, __nv_exp2f       ex2.approx.f32 (2 ulp) after an f32 x*log2(e) (exp: the
;                               rounding of that product adds ~|x| * 6e-8 relative)
;   __nv_logf, __nv_log2f       lg2.approx.f32 (abs error ~2^-22)
;   __nv_tanhf                  from ex2.approx; absolute error ~1e-7 (relative worse near 0)
;   __nv_sinf, __nv_cosf        computed in f64: reduction by pi/2 with fma (exact product),
;                               Taylor polynomials to degree 13/14 on [-pi/4, pi/4]; < 1 ulp
;                               of f32 for |x| < 2^20 (PTX's sin.approx.f32 is 2^-20.5 abs
;                               on [-pi, pi] only, and RoPE angles reach the context length)
;   __nv_powf                   f64 exp(y * ln|x|) with C99's special cases; < 1 ulp of f32
;   __nv_erff                   f64: Taylor series (11 terms) for |x| < 0.5, else Abramowitz &
;                               Stegun 7.1.26 (abs error <= 1.5e-7, so relative <= 3e-7
;                               where |erf| >= 0.52); relative error <= 1e-6 everywhere
;   __nv_exp (f64)              Cody-Waite reduction by ln 2 (fma), Taylor to degree 13,
;                               scaling by two powers of two; ~1 ulp of f64 (relative ~2e-16)
;   __nv_fabs, __nv_copysign, __nv_fabsf, __nv_fmaxf, __nv_fminf   exact
;
; Helpers named __agentc_* are internal to the library.

declare float @llvm.sqrt.f32(float)
declare float @llvm.exp2.f32(float)
declare float @llvm.log2.f32(float)
declare float @llvm.fabs.f32(float)
declare float @llvm.maxnum.f32(float, float)
declare float @llvm.minnum.f32(float, float)
declare double @llvm.fabs.f64(double)
declare double @llvm.copysign.f64(double, double)
declare double @llvm.rint.f64(double)
declare double @llvm.fma.f64(double, double, double)
declare double @llvm.maxnum.f64(double, double)
declare double @llvm.minnum.f64(double, double)

define linkonce_odr float @__nv_sqrtf(float %x) alwaysinline {
  %r = call float @llvm.sqrt.f32(float %x)
  ret float %r
}
define linkonce_odr float @__nv_rsqrtf(float %x) alwaysinline {
  %s = call float @llvm.sqrt.f32(float %x)
  %r = fdiv float 1.0, %s
  ret float %r
}
; e^x = 2^(x log2 e)
define linkonce_odr float @__nv_expf(float %x) alwaysinline {
  %y = fmul float %x, 0x3FF7154760000000
  %r = call float @llvm.exp2.f32(float %y)
  ret float %r
}
define linkonce_odr float @__nv_exp2f(float %x) alwaysinline {
  %r = call float @llvm.exp2.f32(float %x)
  ret float %r
}
; ln x = log2 x · ln 2
define linkonce_odr float @__nv_logf(float %x) alwaysinline {
  %l = call float @llvm.log2.f32(float %x)
  %r = fmul float %l, 0x3FE62E4300000000
  ret float %r
}
define linkonce_odr float @__nv_log2f(float %x) alwaysinline {
  %r = call float @llvm.log2.f32(float %x)
  ret float %r
}
define linkonce_odr float @__nv_fabsf(float %x) alwaysinline {
  %r = call float @llvm.fabs.f32(float %x)
  ret float %r
}
; tanh x = 1 - 2 / (e^(2x) + 1), saturating for large |x|
define linkonce_odr float @__nv_tanhf(float %x) alwaysinline {
  %two_x = fmul float %x, 0x4007154760000000
  %e = call float @llvm.exp2.f32(float %two_x)
  %d = fadd float %e, 1.0
  %q = fdiv float 2.0, %d
  %r = fsub float 1.0, %q
  ret float %r
}
define linkonce_odr float @__nv_fmaxf(float %a, float %b) alwaysinline {
  %r = call float @llvm.maxnum.f32(float %a, float %b)
  ret float %r
}
define linkonce_odr float @__nv_fminf(float %a, float %b) alwaysinline {
  %r = call float @llvm.minnum.f32(float %a, float %b)
  ret float %r
}
define linkonce_odr double @__nv_fabs(double %x) alwaysinline {
  %r = call double @llvm.fabs.f64(double %x)
  ret double %r
}
define linkonce_odr double @__nv_copysign(double %a, double %b) alwaysinline {
  %r = call double @llvm.copysign.f64(double %a, double %b)
  ret double %r
}

; e^x: k = rint(x / ln 2), r = x - k ln 2 (two fma steps, |r| <= 0.35), e^r by its Taylor
; series to degree 13 (truncation < 5e-18), times 2^k as 2^(k/2) 2^(k - k/2) so that
; subnormal results need no special case; overflow and underflow by comparison.
define linkonce_odr double @__nv_exp(double %x) alwaysinline {
  %t = fmul double %x, 0x3FF71547652B82FE
  %k = call double @llvm.rint.f64(double %t)
  %r1 = call double @llvm.fma.f64(double %k, double 0xBFE62E42FEE00000, double %x)
  %r = call double @llvm.fma.f64(double %k, double 0xBDEA39EF35793C76, double %r1)
  %p12 = call double @llvm.fma.f64(double 0x3DE6124613A86D09, double %r, double 0x3E21EED8EFF8D898)
  %p11 = call double @llvm.fma.f64(double %p12, double %r, double 0x3E5AE64567F544E4)
  %p10 = call double @llvm.fma.f64(double %p11, double %r, double 0x3E927E4FB7789F5C)
  %p9 = call double @llvm.fma.f64(double %p10, double %r, double 0x3EC71DE3A556C734)
  %p8 = call double @llvm.fma.f64(double %p9, double %r, double 0x3EFA01A01A01A01A)
  %p7 = call double @llvm.fma.f64(double %p8, double %r, double 0x3F2A01A01A01A01A)
  %p6 = call double @llvm.fma.f64(double %p7, double %r, double 0x3F56C16C16C16C17)
  %p5 = call double @llvm.fma.f64(double %p6, double %r, double 0x3F81111111111111)
  %p4 = call double @llvm.fma.f64(double %p5, double %r, double 0x3FA5555555555555)
  %p3 = call double @llvm.fma.f64(double %p4, double %r, double 0x3FC5555555555555)
  %p2 = call double @llvm.fma.f64(double %p3, double %r, double 0x3FE0000000000000)
  %p1 = call double @llvm.fma.f64(double %p2, double %r, double 0x3FF0000000000000)
  %p0 = call double @llvm.fma.f64(double %p1, double %r, double 0x3FF0000000000000)
  %kmax = call double @llvm.minnum.f64(double %k, double 1.100000e+03)
  %kc = call double @llvm.maxnum.f64(double %kmax, double -1.100000e+03)
  %ki = fptosi double %kc to i64
  %k1 = sdiv i64 %ki, 2
  %k2 = sub i64 %ki, %k1
  %b1 = add i64 %k1, 1023
  %b2 = add i64 %k2, 1023
  %s1b = shl i64 %b1, 52
  %s2b = shl i64 %b2, 52
  %s1 = bitcast i64 %s1b to double
  %s2 = bitcast i64 %s2b to double
  %y1 = fmul double %p0, %s1
  %y = fmul double %y1, %s2
  %over = fcmp ogt double %x, 0x40862E42FEFA39EF
  %under = fcmp olt double %x, -7.460000e+02
  %y2 = select i1 %over, double 0x7FF0000000000000, double %y
  %y3 = select i1 %under, double 0.0, double %y2
  ret double %y3
}

; ln x for x >= 0 (NaN for x < 0): x = m 2^e with m in [sqrt(1/2), sqrt(2)), s = (m-1)/(m+1),
; ln m = 2 s (1 + s^2/3 + ... + s^16/17) (|s| <= 0.172, truncation < 1e-15). Subnormal
; doubles are not reduced (the library calls it on f32 values only, normal as doubles).
define internal double @__agentc_log(double %x) alwaysinline {
  %bits = bitcast double %x to i64
  %eb = lshr i64 %bits, 52
  %e0 = sub i64 %eb, 1023
  %mb = and i64 %bits, 4503599627370495
  %mb1 = or i64 %mb, 4607182418800017408
  %m0 = bitcast i64 %mb1 to double
  %big = fcmp ogt double %m0, 0x3FF6A09E667F3BCD
  %mh = fmul double %m0, 0.5
  %m = select i1 %big, double %mh, double %m0
  %e1 = add i64 %e0, 1
  %e = select i1 %big, i64 %e1, i64 %e0
  %num = fsub double %m, 1.0
  %den = fadd double %m, 1.0
  %s = fdiv double %num, %den
  %z = fmul double %s, %s
  %q7 = call double @llvm.fma.f64(double 0x3FAE1E1E1E1E1E1E, double %z, double 0x3FB1111111111111)
  %q6 = call double @llvm.fma.f64(double %q7, double %z, double 0x3FB3B13B13B13B14)
  %q5 = call double @llvm.fma.f64(double %q6, double %z, double 0x3FB745D1745D1746)
  %q4 = call double @llvm.fma.f64(double %q5, double %z, double 0x3FBC71C71C71C71C)
  %q3 = call double @llvm.fma.f64(double %q4, double %z, double 0x3FC2492492492492)
  %q2 = call double @llvm.fma.f64(double %q3, double %z, double 0x3FC999999999999A)
  %q1 = call double @llvm.fma.f64(double %q2, double %z, double 0x3FD5555555555555)
  %q0 = call double @llvm.fma.f64(double %q1, double %z, double 0x3FF0000000000000)
  %s2 = fmul double %s, 2.0
  %lnm = fmul double %s2, %q0
  %ef = sitofp i64 %e to double
  %r = call double @llvm.fma.f64(double %ef, double 0x3FE62E42FEFA39EF, double %lnm)
  %zero = fcmp oeq double %x, 0.0
  %inf = fcmp oeq double %x, 0x7FF0000000000000
  %bad = fcmp ult double %x, 0.0
  %r1 = select i1 %zero, double 0xFFF0000000000000, double %r
  %r2 = select i1 %inf, double %x, double %r1
  %r3 = select i1 %bad, double 0x7FF8000000000000, double %r2
  ret double %r3
}
; x^y = e^(y ln|x|) in f64 with C99's special cases (y = 0 or x = 1: 1; x < 0: the sign of
; an odd integer y, NaN for a non-integer y; |x| = 1 and y infinite: 1).
define linkonce_odr float @__nv_powf(float %x, float %y) alwaysinline {
  %xd = fpext float %x to double
  %yd = fpext float %y to double
  %ax = call double @llvm.fabs.f64(double %xd)
  %l = call double @__agentc_log(double %ax)
  %t = fmul double %yd, %l
  %r = call double @__nv_exp(double %t)
  %yr = call double @llvm.rint.f64(double %yd)
  %isint = fcmp oeq double %yd, %yr
  %half = fmul double %yd, 0.5
  %hr = call double @llvm.rint.f64(double %half)
  %halfint = fcmp oeq double %half, %hr
  %notodd = xor i1 %halfint, true
  %odd = and i1 %isint, %notodd
  %xbits = bitcast float %x to i32
  %neg = icmp slt i32 %xbits, 0
  %flip = and i1 %neg, %odd
  %rn = fneg double %r
  %r1 = select i1 %flip, double %rn, double %r
  %xlt0 = fcmp olt double %xd, 0.0
  %notint = xor i1 %isint, true
  %nan = and i1 %xlt0, %notint
  %r2 = select i1 %nan, double 0x7FF8000000000000, double %r1
  %y0 = fcmp oeq double %yd, 0.0
  %x1 = fcmp oeq double %xd, 1.0
  %ax1 = fcmp oeq double %ax, 1.0
  %ay = call double @llvm.fabs.f64(double %yd)
  %yinf = fcmp oeq double %ay, 0x7FF0000000000000
  %ax1yinf = and i1 %ax1, %yinf
  %one0 = or i1 %y0, %x1
  %one = or i1 %one0, %ax1yinf
  %r3 = select i1 %one, double 1.0, double %r2
  %rf = fptrunc double %r3 to float
  ret float %rf
}

; sin and cos in f64: j = rint(x 2/pi), r = x - j pi/2 with pi/2 in two parts (each product
; exact in an fma), Taylor polynomials on |r| <= pi/4 (truncation < 3e-14), quadrant j mod 4.
; Exact reduction for |x| < 2^20; NaN for infinite or NaN x.
define internal double @__agentc_sincos(float %x, i64 %shift) alwaysinline {
  %xd = fpext float %x to double
  %t = fmul double %xd, 0x3FE45F306DC9C883
  %j = call double @llvm.rint.f64(double %t)
  %r1 = call double @llvm.fma.f64(double %j, double 0xBFF921FB54442D18, double %xd)
  %r = call double @llvm.fma.f64(double %j, double 0xBC91A62633145C07, double %r1)
  %z = fmul double %r, %r
  %sp5 = call double @llvm.fma.f64(double 0x3DE6124613A86D09, double %z, double 0xBE5AE64567F544E4)
  %sp4 = call double @llvm.fma.f64(double %sp5, double %z, double 0x3EC71DE3A556C734)
  %sp3 = call double @llvm.fma.f64(double %sp4, double %z, double 0xBF2A01A01A01A01A)
  %sp2 = call double @llvm.fma.f64(double %sp3, double %z, double 0x3F81111111111111)
  %sp1 = call double @llvm.fma.f64(double %sp2, double %z, double 0xBFC5555555555555)
  %sp0 = call double @llvm.fma.f64(double %sp1, double %z, double 0x3FF0000000000000)
  %s = fmul double %r, %sp0
  %cp6 = call double @llvm.fma.f64(double 0xBDA93974A8C07C9D, double %z, double 0x3E21EED8EFF8D898)
  %cp5 = call double @llvm.fma.f64(double %cp6, double %z, double 0xBE927E4FB7789F5C)
  %cp4 = call double @llvm.fma.f64(double %cp5, double %z, double 0x3EFA01A01A01A01A)
  %cp3 = call double @llvm.fma.f64(double %cp4, double %z, double 0xBF56C16C16C16C17)
  %cp2 = call double @llvm.fma.f64(double %cp3, double %z, double 0x3FA5555555555555)
  %cp1 = call double @llvm.fma.f64(double %cp2, double %z, double 0xBFE0000000000000)
  %cp0 = call double @llvm.fma.f64(double %cp1, double %z, double 0x3FF0000000000000)
  %c = fadd double %cp0, 0.0
  %jc0 = call double @llvm.minnum.f64(double %j, double 1.000000e+15)
  %jc = call double @llvm.maxnum.f64(double %jc0, double -1.000000e+15)
  %ji = fptosi double %jc to i64
  %q0 = add i64 %ji, %shift
  %q = and i64 %q0, 3
  %odd = trunc i64 %q to i1
  %v = select i1 %odd, double %c, double %s
  %hi = icmp uge i64 %q, 2
  %vn = fneg double %v
  %res = select i1 %hi, double %vn, double %v
  ret double %res
}
define linkonce_odr float @__nv_sinf(float %x) alwaysinline {
  %r = call double @__agentc_sincos(float %x, i64 0)
  %f = fptrunc double %r to float
  ret float %f
}
; cos x = sin(x + pi/2): quadrant j + 1
define linkonce_odr float @__nv_cosf(float %x) alwaysinline {
  %r = call double @__agentc_sincos(float %x, i64 1)
  %f = fptrunc double %r to float
  ret float %f
}

; erf x in f64: for |x| < 0.5 its Taylor series (2/sqrt(pi)) x sum (-1)^n x^2n / (n! (2n+1)),
; n <= 10 (truncation < 1e-14); else Abramowitz & Stegun 7.1.26 (the CPU path's gelu),
; 1 - t (a1 + t (a2 + ...)) e^(-x^2), t = 1 / (1 + p|x|), absolute error <= 1.5e-7.
define linkonce_odr float @__nv_erff(float %x) alwaysinline {
  %xd = fpext float %x to double
  %ax = call double @llvm.fabs.f64(double %xd)
  %z = fmul double %xd, %xd
  %ep9 = call double @llvm.fma.f64(double 0x3E4C2E3054870B38, double %z, double 0xBE83777C55568CCD)
  %ep8 = call double @llvm.fma.f64(double %ep9, double %z, double 0x3EB87A00187A0018)
  %ep7 = call double @llvm.fma.f64(double %ep8, double %z, double 0xBEEBBD779334EF0B)
  %ep6 = call double @llvm.fma.f64(double %ep7, double %z, double 0x3F1C01C01C01C01C)
  %ep5 = call double @llvm.fma.f64(double %ep6, double %z, double 0xBF48D3018D3018D3)
  %ep4 = call double @llvm.fma.f64(double %ep5, double %z, double 0x3F72F684BDA12F68)
  %ep3 = call double @llvm.fma.f64(double %ep4, double %z, double 0xBF98618618618618)
  %ep2 = call double @llvm.fma.f64(double %ep3, double %z, double 0x3FB999999999999A)
  %ep1 = call double @llvm.fma.f64(double %ep2, double %z, double 0xBFD5555555555555)
  %ep0 = call double @llvm.fma.f64(double %ep1, double %z, double 0x3FF0000000000000)
  %sx = fmul double %xd, 0x3FF20DD750429B6D
  %small = fmul double %sx, %ep0
  %pd = call double @llvm.fma.f64(double %ax, double 0x3FD4F740A93D7B8C, double 1.0)
  %t = fdiv double 1.0, %pd
  %ap4 = call double @llvm.fma.f64(double 0x3FF0FB844255A12D, double %t, double 0xBFF7401C57014C39)
  %ap3 = call double @llvm.fma.f64(double %ap4, double %t, double 0x3FF6BE1C55BAE157)
  %ap2 = call double @llvm.fma.f64(double %ap3, double %t, double 0xBFD23531CC3C1469)
  %ap1 = call double @llvm.fma.f64(double %ap2, double %t, double 0x3FD04F20C6EC5A7E)
  %ap0 = call double @llvm.fma.f64(double %ap1, double %t, double 0x0000000000000000)
  %nz = fneg double %z
  %e = call double @__nv_exp(double %nz)
  %pe = fmul double %ap0, %e
  %big0 = fsub double 1.0, %pe
  %big = call double @llvm.copysign.f64(double %big0, double %xd)
  %issmall = fcmp olt double %ax, 0.5
  %r = select i1 %issmall, double %small, double %big
  %f = fptrunc double %r to float
  ret float %f
}
