//! Does a filter's text denote a given `f64`? Exactly what `text.parse::<f64>() == Ok(a)`
//! decides, without `f64::from_str`.
//!
//! The standard parser carries a 10 KB table of powers of five (and its own big-decimal code),
//! which is a noticeable share of the browser app's WebAssembly for one comparison. Here the
//! decimal value is compared, exactly, with the interval of reals that round to `a`.

use std::cmp::Ordering;

/// `Some(text.parse::<f64>().unwrap() == a)` when `text` is a Rust float literal as
/// `f64::from_str` accepts it (sign, digits, `.`, exponent; `inf`, `infinity`, `nan` in any
/// case), `None` when `text.parse::<f64>()` would fail.
pub fn denotes(text: &str, a: f64) -> Option<bool> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest.eq_ignore_ascii_case("nan") {
        return Some(false); // NaN equals nothing
    }
    if rest.eq_ignore_ascii_case("inf") || rest.eq_ignore_ascii_case("infinity") {
        return Some(a.is_infinite() && a.is_sign_negative() == negative);
    }
    let (digits, exponent) = parse_decimal(rest.as_bytes())?;
    Some(rounds_to(negative, &digits, exponent, a))
}

/// `digits` (most significant first, without leading or trailing zeros; empty for zero) and
/// the power of ten they are scaled by. `None` unless the whole input is a decimal literal.
fn parse_decimal(b: &[u8]) -> Option<(Vec<u8>, i64)> {
    let mut digits = Vec::new();
    let mut exponent: i64 = 0;
    let mut any = false;
    let mut i = 0;
    while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
        digits.push(c - b'0');
        any = true;
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            digits.push(c - b'0');
            exponent -= 1;
            any = true;
            i += 1;
        }
    }
    if !any {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i64 = 0;
        while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            e = (e * 10 + i64::from(c - b'0')).min(1 << 40); // far past any f64
            i += 1;
        }
        if i == start {
            return None;
        }
        exponent += if negative { -e } else { e };
    }
    if i != b.len() {
        return None;
    }
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    digits.drain(..leading);
    while digits.last() == Some(&0) {
        digits.pop();
        exponent += 1;
    }
    Some((digits, exponent))
}

/// Whether `±digits × 10^exponent` rounds (to nearest, ties to even) to `a`.
fn rounds_to(negative: bool, digits: &[u8], exponent: i64, a: f64) -> bool {
    if a.is_nan() {
        return false;
    }
    if digits.is_empty() {
        return a == 0.0; // ±0
    }
    // The value lies in [10^(magnitude-1), 10^magnitude).
    let magnitude = digits.len() as i64 + exponent;
    if a == 0.0 {
        // Rounds to zero iff at most half the smallest subnormal, 2^-1075.
        return magnitude < -330 || (magnitude <= -320 && cmp(digits, exponent, 1, -1075).is_le());
    }
    if a.is_sign_negative() != negative {
        return false;
    }
    if a.is_infinite() {
        // Overflows iff at least halfway from f64::MAX to 2^1024.
        return magnitude > 310
            || (magnitude >= 305 && cmp(digits, exponent, (1 << 54) - 1, 970).is_ge());
    }
    if !(-330..=310).contains(&magnitude) {
        return false;
    }
    // |a| = m × 2^e; the reals rounding to it lie between the midpoints to its neighbours.
    let bits = a.abs().to_bits();
    let biased = (bits >> 52) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    let even = m % 2 == 0;
    let (below, below_exp) = if fraction == 0 && biased > 1 {
        (4 * m - 1, e - 2) // the lower neighbour is twice as close
    } else {
        (2 * m - 1, e - 1)
    };
    let low = cmp(digits, exponent, below, below_exp);
    let high = cmp(digits, exponent, 2 * m + 1, e - 1);
    let above_low = low.is_gt() || (low.is_eq() && even);
    let below_high = high.is_lt() || (high.is_eq() && even);
    above_low && below_high
}

/// Compares `digits × 10^exponent` with `c × 2^power`, exactly.
fn cmp(digits: &[u8], exponent: i64, c: u64, power: i64) -> Ordering {
    let mut left = Big::from_digits(digits);
    let mut right = Big::from_u64(c);
    if exponent >= 0 {
        left.mul_pow10(exponent as u64);
    } else {
        right.mul_pow10(exponent.unsigned_abs());
    }
    if power >= 0 {
        right.shl(power as u64);
    } else {
        left.shl(power.unsigned_abs());
    }
    left.cmp(&right)
}

/// A non-negative big integer: base-2^32 limbs, least significant first, no leading zeros.
#[derive(PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn from_digits(digits: &[u8]) -> Big {
        let mut b = Big(Vec::new());
        for chunk in digits.chunks(9) {
            let mut v = 0u32;
            for &d in chunk {
                v = v * 10 + u32::from(d);
            }
            b.mul_add(10u32.pow(chunk.len() as u32), v);
        }
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn mul_add(&mut self, factor: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(factor) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn mul_pow10(&mut self, mut n: u64) {
        while n > 0 {
            let step = n.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            n -= step;
        }
    }

    fn shl(&mut self, bits: u64) {
        if self.0.is_empty() {
            return;
        }
        let (limbs, bits) = ((bits / 32) as usize, (bits % 32) as u32);
        if bits > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let v = (u64::from(*limb) << bits) | u64::from(carry);
                *limb = v as u32;
                carry = (v >> 32) as u32;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        self.0.splice(0..0, std::iter::repeat_n(0, limbs));
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Big) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::denotes;

    fn check(text: &str, a: f64) {
        let expected = text.parse::<f64>().ok().map(|b| a == b);
        assert_eq!(denotes(text, a), expected, "{text:?} against {a:e}");
    }

    /// Checks `text` against the value it parses to and that value's neighbours.
    fn check_around(text: &str) {
        let parsed = text.parse::<f64>();
        for a in [0.0, -0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            check(text, a);
        }
        if let Ok(b) = parsed
            && b.is_finite()
        {
            let up = f64::from_bits(b.to_bits() + 1);
            let down = f64::from_bits(b.to_bits().wrapping_sub(1));
            for a in [b, -b, up, down] {
                check(text, a);
            }
        }
    }

    #[test]
    fn syntax_as_from_str() {
        for text in [
            "",
            "+",
            "-",
            ".",
            "e5",
            "1e",
            "1e+",
            "1.e3",
            ".5",
            "5.",
            "+.5",
            "-.5e-3",
            "1_0",
            " 1",
            "1 ",
            "0x10",
            "inf",
            "-inf",
            "+Infinity",
            "INFINITY",
            "infinit",
            "nan",
            "-NaN",
            "NAN",
            "1e400",
            "-1e400",
            "1e-400",
            "0e999999999999999999999",
            "00000.000",
            "1E5",
            "12e-2",
            "3",
            "3.0",
            "3.00000000000000000000001",
            "١",
        ] {
            check_around(text);
        }
    }

    #[test]
    fn halfway_cases_round_to_even() {
        for text in [
            "9007199254740993", // 2^53 + 1: halfway, to 2^53
            "9007199254740995", // to 2^53 + 4
            "9007199254740994",
            "1.00000000000000011102230246251565404236316680908203125", // 1 + 2^-53
            "1.00000000000000033306690738754696212708950042724609375", // 1 + 3 × 2^-53
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792",
            "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791",
            "2.4703282292062327208828439643411068618252990130716238221279284125033775363510437593264991818081799618989828234772285886546332835517796989819938739800539093906315035659515570226392290858392449105184435931802849936536152500319370457678249219365623669863658480757001585769269903706311928279558551332927834338409351978015531246597263579574622766465272827220056374006485499977096599470454020828166226237857393450736339007967761930577506740176324673600968951340535537458516661134223766678604162159680461914467291840300530057530849048765391711386591646239524912623653881879636239373280423891018672348497668235089863388587925628302755995657524455507255189313690836254779186948667994968324049705821028513185451396213837722826145437693412532098591327667236328125e-324",
            "4.9406564584124654e-324",
            "2.2250738585072011e-308",
            "2.2250738585072012e-308",
        ] {
            check_around(text);
        }
    }

    #[test]
    fn matches_from_str_on_many_texts() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let bits = next();
            let x = f64::from_bits(bits);
            let small = (bits >> 11) as f64 / (1u64 << (bits % 64)) as f64;
            for v in [
                x,
                small,
                (bits % 100_000) as f64,
                (bits % 1000) as f64 / 8.0,
            ] {
                check_around(&v.to_string());
                check_around(&format!("{v:e}"));
                check_around(&format!("{v:.3e}"));
                check_around(&format!("{v:.25e}"));
            }
            check_around(&(bits % 10_000_000_000_000_000).to_string());
        }
    }
}
