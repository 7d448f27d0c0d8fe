//! Fixed-point formatting of `f64` without `core::fmt`'s float code.
//!
//! `format!("{x:.2}")` links the standard library's float printer (Grisu and Dragon4 with their
//! tables, about 14 KB of wasm before `wasm-opt`). The app prints only a few floats with a fixed
//! number of decimals, so [`fixed`] does that exactly, with plain integer arithmetic: the
//! output is the same string as `format!("{x:.digits$}")` for every `f64` (tested below).

/// `format!("{x:.digits$}")` (`digits` at most 3): the exact binary value rounded half to
/// even; `NaN`, `inf` and `-inf` as Rust prints them, and the sign of `-0.0` kept.
pub fn fixed(x: f64, digits: u32) -> String {
    assert!(digits <= 3, "fixed: at most 3 decimals");
    if x.is_nan() {
        return "NaN".to_owned();
    }
    let mut out = String::new();
    if x.is_sign_negative() {
        out.push('-');
    }
    if x.is_infinite() {
        out.push_str("inf");
        return out;
    }
    // |x| = m * 2^e exactly.
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let scale = 10u64.pow(digits);
    if e >= 0 {
        // An integer (|x| >= 2^52): its digits, then zeros.
        push_integer(&mut out, m, e as u32);
        if digits > 0 {
            out.push('.');
            out.extend(std::iter::repeat_n('0', digits as usize));
        }
        return out;
    }
    // Round m * scale / 2^s half to even; m * scale < 2^53 * 1000 < 2^63.
    let s = (-e) as u32;
    let n = m as u128 * scale as u128;
    let q = if s >= 64 {
        0 // below a half: n < 2^63 <= 2^(s-1)
    } else {
        let q = n >> s;
        let r = n - (q << s);
        let half = 1u128 << (s - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    } as u64;
    out.push_str(&(q / scale).to_string());
    if digits > 0 {
        out.push('.');
        let frac = (q % scale).to_string();
        out.extend(std::iter::repeat_n('0', digits as usize - frac.len()));
        out.push_str(&frac);
    }
    out
}

/// Appends the decimal digits of `m * 2^e`.
fn push_integer(out: &mut String, m: u64, e: u32) {
    if e <= 11 {
        out.push_str(&(m << e).to_string()); // m < 2^53
        return;
    }
    // Base 10^9 limbs, least significant first.
    const BASE: u64 = 1_000_000_000;
    let mut limbs = vec![
        (m % BASE) as u32,
        ((m / BASE) % BASE) as u32,
        (m / BASE / BASE) as u32,
    ];
    for _ in 0..e {
        let mut carry = 0u64;
        for limb in &mut limbs {
            let v = u64::from(*limb) * 2 + carry;
            *limb = (v % BASE) as u32;
            carry = v / BASE;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut limbs = limbs.into_iter().rev();
    if let Some(top) = limbs.next() {
        out.push_str(&top.to_string());
    }
    for limb in limbs {
        let s = limb.to_string();
        out.extend(std::iter::repeat_n('0', 9 - s.len()));
        out.push_str(&s);
    }
}

#[cfg(test)]
mod tests {
    use super::fixed;

    fn check(x: f64) {
        for d in 0..=3u32 {
            assert_eq!(
                fixed(x, d),
                format!("{x:.prec$}", prec = d as usize),
                "{x:e} with {d} decimals"
            );
        }
    }

    #[test]
    fn matches_format_on_edge_cases() {
        for x in [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.125,
            0.375,
            0.25,
            1.05,
            12.125,
            99.995,
            f64::from_bits(99.995f64.to_bits() - 1),
            100.0,
            -0.001,
            -2.5,
            9.95,
            f64::from_bits(9.95f64.to_bits() - 1),
            f64::MIN_POSITIVE,
            5e-324,
            f64::EPSILON,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e16,
            1.8e19,
            1e300,
            f64::MAX,
            -f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            check(x);
        }
    }

    #[test]
    fn matches_format_on_many_values() {
        // Every 1/1000 up to 120 (the ranges the app prints), and pseudo-random bit patterns.
        for i in 0..=120_000 {
            check(i as f64 / 1000.0);
            check(100.0 - (i as f64 / 120_000.0).clamp(0.0, 1.0) * 100.0);
        }
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..50_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            check(f64::from_bits(state));
            // Moderate magnitudes too (random bits are mostly huge or tiny).
            check((state >> 11) as f64 / (1u64 << (state % 60)) as f64);
        }
    }
}
