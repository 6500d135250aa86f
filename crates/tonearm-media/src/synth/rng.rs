//! SplitMix64: a tiny, well-mixed PRNG, so the generators are pure functions of their seed
//! without a dependency. Not for anything but test material.

/// A SplitMix64 generator (a 64-bit counter through a bijective mixer).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// An independent generator for one purpose (noise, timing, harmony) under one seed, so how
    /// many draws one purpose takes does not shift what the others get.
    pub fn stream(seed: u64, stream: u64) -> Self {
        Rng(Rng(seed).next_u64() ^ Rng(!stream).next_u64())
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-1, 1).
    pub fn bipolar(&mut self) -> f64 {
        2.0 * self.unit() - 1.0
    }

    /// Uniform in `0..n` (`n > 0`); the bias is nil for the handful of choices made here.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_splitmix64() {
        // The first outputs of the reference implementation for seed 0.
        let mut r = Rng::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn ranges_and_streams() {
        let mut r = Rng::new(42);
        for _ in 0..10_000 {
            let (u, b, k) = (r.unit(), r.bipolar(), r.below(3));
            assert!((0.0..1.0).contains(&u) && (-1.0..1.0).contains(&b) && k < 3);
        }
        let a: Vec<u64> = (0..4).map(|s| Rng::stream(7, s).next_u64()).collect();
        assert!(a.iter().enumerate().all(|(i, x)| !a[i + 1..].contains(x)));
        assert_eq!(Rng::stream(7, 1).next_u64(), Rng::stream(7, 1).next_u64());
    }
}
