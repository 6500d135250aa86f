//! Drums, bass and a chord pad together: the closest thing here to a track off an album, with
//! both its tempo and its key known exactly.

use super::drums::{drum_mix, step_beats, Feel, Groove};
use super::harmony::{bar_count, chord_plan, BASS, PAD};
use super::rng::Rng;
use super::{fade_out, frames_for, mix_into, mono_normalized, peak, Pcm, PEAK};

/// A mono song: [`groove`](super::groove) `style` at `bpm`, a pad holding one chord a bar of a
/// progression in `tonic` major or minor (as in [`key_progression`](super::key_progression),
/// opening and closing on the tonic), and a bass on the chord roots in the style's rhythm:
/// eighths for rock, off-beat eighths for four-on-the-floor, quarters for swing and sixteenths,
/// the kick's rhythm for syncopated, and none for the sparse styles, which keep their space.
/// Peak normalized to 0.8.
pub fn song(
    style: Groove,
    tonic: u8,
    minor: bool,
    bpm: f64,
    seconds: f64,
    sample_rate: u32,
    seed: u64,
) -> Pcm {
    let frames = frames_for(seconds, sample_rate);
    let sr = sample_rate as f64;
    let beat = 60.0 / bpm * sr;
    let drums = drum_mix(style, bpm, frames, sample_rate, seed, Feel::HUMAN);
    let bars = bar_count(frames, beat);
    let plan = chord_plan(tonic, minor, bars, &mut Rng::stream(seed, 2));
    let swing = style.pattern().swing;
    let frame = |beats: f64| (beats * beat).round() as usize;
    let bass_steps: &[usize] = match style {
        Groove::Rock => &[0, 2, 4, 6, 8, 10, 12, 14],
        Groove::FourOnTheFloor => &[2, 6, 10, 14],
        Groove::Swing | Groove::Sixteenths => &[0, 4, 8, 12],
        Groove::Syncopated => &[0, 6, 11],
        Groove::Sparse | Groove::Sparse2 => &[],
    };

    let (mut pad, mut bass) = (vec![0.0; frames], vec![0.0; frames]);
    for bar in (0..).take_while(|&bar| frame((bar * 4) as f64) < frames) {
        let chord = &plan[bar.min(bars - 1)];
        let (start, end) = (frame((bar * 4) as f64), frame((bar * 4 + 4) as f64));
        for &note in &chord.voicing {
            PAD.play(&mut pad, start, end - start, note, 1.0, sr);
        }
        let ons: Vec<usize> = bass_steps
            .iter()
            .map(|&s| frame(step_beats(bar, s, swing)))
            .chain([end])
            .collect();
        for on in ons.windows(2) {
            // Detached notes, 80 % of the way to the next.
            let hold = (on[1] - on[0]) * 4 / 5;
            BASS.play(&mut bass, on[0], hold, chord.bass, 1.0, sr);
        }
    }

    let mut mix = vec![0.0; frames];
    for (layer, level) in [(&drums, 1.0), (&bass, 0.55), (&pad, 0.3)] {
        let p = peak(layer);
        if p > 0.0 {
            mix_into(&mut mix, 0, layer, level / p);
        }
    }
    fade_out(&mut mix, (0.05 * sr) as usize);
    mono_normalized(&mix, sample_rate, PEAK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn songs_are_seeded_exact_length_and_normalized() {
        for style in Groove::ALL {
            let a = song(style, 7, false, 118.0, 4.0, 16_000, 3);
            assert_eq!((a.frames(), a.channels), (64_000, 1), "{style:?}");
            assert_eq!(a, song(style, 7, false, 118.0, 4.0, 16_000, 3), "{style:?}");
            assert_ne!(a, song(style, 7, false, 118.0, 4.0, 16_000, 4), "{style:?}");
            assert!(a.samples.iter().all(|s| s.is_finite()), "{style:?}");
            let peak = a.samples.iter().fold(0f32, |m, s| m.max(s.abs()));
            assert!((peak - 0.8).abs() < 1e-4, "{style:?}: peak {peak}");
        }
    }
}
