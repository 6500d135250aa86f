#!/usr/bin/env python3
"""The librosa 0.11.0 judge for tonearm-analysis.

Usage: reference.py IN.wav OUT.json

IN.wav must be mono at 22050 Hz (the Rust tests write 22050 Hz mono float32 WAVs); anything else
fails loudly rather than being silently converted. Every feature is computed from the samples
with librosa's own code path (y=...), with every default that matters spelled out, so the JSON
is what a plain `librosa.feature.X(y=y, sr=sr)` user gets. See NOTES.md next to this file for
the algorithms behind each number.

Output JSON:
  librosa_version, sr, n_frames (N = 1 + len(y) // 512), params (the settings used),
  features: {name: list of N floats, or a list of rows (feature-major: mfcc is 20 lists of N)}
    mfcc 20xN, mel_db 128xN, spectral_centroid/bandwidth/rolloff/flatness N, spectral_contrast 7xN,
    zero_crossing_rate N, rms N, chroma_stft 12xN, onset_strength N (mean over mel bands),
    onset_strength_median N (median over mel bands: what beat_track(y=...) uses internally)
  tuning: the estimate chroma_stft used (asserted: chroma with this tuning == chroma with None)
  tempo, beats: beat_track(onset_envelope=onset_strength, sr, hop_length=512); beats are frames
  beat_track_y: {tempo, beats} from beat_track(y=y, sr=sr), i.e. the median onset envelope,
    which is what `bench.py estimate` reports as bpm
  chroma_mean, key: mean of chroma_stft over frames and the Krumhansl-Kessler key from it
    (same as `bench.py estimate`)
Values keep their numpy precision (float32 features become the exact float32 value as a double).
"""
import json
import sys

import numpy as np

SR = 22050
N_FFT = 2048
HOP = 512
STFT_KW = dict(n_fft=N_FFT, hop_length=HOP, window="hann", center=True, pad_mode="constant")

PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(chroma_mean):
    """Krumhansl-Kessler key from a 12-vector (index 0 = C, as chroma_stft's base_c=True).

    Pearson correlation against each profile rotated to each tonic (the profile value for pitch
    class p with tonic t is profile[(p - t) % 12], i.e. np.roll(profile, t)). Candidates are tried
    in the order C major .. B major, C minor .. B minor; the first maximum wins. Returns None when
    the chroma is constant (e.g. silence), where the correlation is undefined.
    """
    chroma_mean = np.asarray(chroma_mean, dtype=np.float64)
    if not np.all(np.isfinite(chroma_mean)) or np.ptp(chroma_mean) == 0:
        return None
    best, best_r = None, -np.inf
    for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        for tonic in range(12):
            r = np.corrcoef(chroma_mean, np.roll(profile, tonic))[0, 1]
            if r > best_r:
                best, best_r = f"{PITCH_CLASSES[tonic]} {mode}", r
    return best


def read_mono_22050(path):
    import soundfile

    y, sr = soundfile.read(path, dtype="float32")
    if y.ndim != 1:
        sys.exit(f"reference.py: {path} has {y.shape[1]} channels; the judge takes mono only")
    if sr != SR:
        sys.exit(f"reference.py: {path} is {sr} Hz; the judge takes {SR} Hz only")
    return np.ascontiguousarray(y), sr


def compute(y, sr):
    """Every reference feature of a mono float32 signal at 22050 Hz, librosa's way."""
    import librosa

    assert librosa.__version__ == "0.11.0", librosa.__version__
    assert sr == SR
    feats = {}

    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, **STFT_KW, power=2.0, n_mels=128, fmin=0.0, fmax=sr / 2, htk=False,
        norm="slaney",
    )
    feats["mel_db"] = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
    feats["mfcc"] = librosa.feature.mfcc(
        y=y, sr=sr, n_mfcc=20, dct_type=2, norm="ortho", lifter=0, mel_norm="slaney",
        **STFT_KW, power=2.0, n_mels=128, fmin=0.0, fmax=sr / 2, htk=False,
    )
    feats["spectral_centroid"] = librosa.feature.spectral_centroid(y=y, sr=sr, **STFT_KW)[0]
    feats["spectral_bandwidth"] = librosa.feature.spectral_bandwidth(
        y=y, sr=sr, **STFT_KW, norm=True, p=2
    )[0]
    feats["spectral_rolloff"] = librosa.feature.spectral_rolloff(
        y=y, sr=sr, **STFT_KW, roll_percent=0.85
    )[0]
    feats["spectral_flatness"] = librosa.feature.spectral_flatness(
        y=y, **STFT_KW, amin=1e-10, power=2.0
    )[0]
    feats["spectral_contrast"] = librosa.feature.spectral_contrast(
        y=y, sr=sr, **STFT_KW, fmin=200.0, n_bands=6, quantile=0.02, linear=False
    )
    feats["zero_crossing_rate"] = librosa.feature.zero_crossing_rate(
        y, frame_length=N_FFT, hop_length=HOP, center=True
    )[0]
    feats["rms"] = librosa.feature.rms(
        y=y, frame_length=N_FFT, hop_length=HOP, center=True, pad_mode="constant"
    )[0]

    # What chroma_stft does internally when tuning=None (feature/spectral.py, chroma_stft):
    #   S, n_fft = _spectrogram(y=y, ..., power=2, ...)   # |stft|**2
    #   tuning = estimate_tuning(S=S, sr=sr, bins_per_octave=n_chroma)
    power = np.abs(librosa.stft(y, **STFT_KW)) ** 2
    tuning = librosa.estimate_tuning(S=power, sr=sr, bins_per_octave=12)
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, **STFT_KW, norm=np.inf, tuning=None, n_chroma=12)
    chroma_t = librosa.feature.chroma_stft(
        y=y, sr=sr, **STFT_KW, norm=np.inf, tuning=tuning, n_chroma=12
    )
    assert np.array_equal(chroma, chroma_t), "tuning estimate differs from chroma_stft's own"
    feats["chroma_stft"] = chroma

    onset = librosa.onset.onset_strength(
        y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, lag=1, max_size=1, detrend=False, center=True,
        aggregate=np.mean,
    )
    feats["onset_strength"] = onset
    feats["onset_strength_median"] = librosa.onset.onset_strength(
        y=y, sr=sr, n_fft=N_FFT, hop_length=HOP, aggregate=np.median
    )

    tempo, beats = librosa.beat.beat_track(
        onset_envelope=onset, sr=sr, hop_length=HOP, start_bpm=120.0, tightness=100, trim=True,
        units="frames",
    )
    tempo_y, beats_y = librosa.beat.beat_track(y=y, sr=sr)

    n_frames = 1 + len(y) // HOP
    for name, value in feats.items():
        assert value.shape[-1] == n_frames, (name, value.shape, n_frames)
    chroma_mean = chroma.mean(axis=1)
    return {
        "librosa_version": librosa.__version__,
        "sr": int(sr),
        "n_frames": int(n_frames),
        "n_samples": int(len(y)),
        "params": {
            "n_fft": N_FFT, "hop_length": HOP, "window": "hann", "center": True,
            "pad_mode": "constant", "n_mfcc": 20, "n_mels": 128, "htk": False,
            "mel_norm": "slaney", "top_db": 80.0, "amin": 1e-10, "roll_percent": 0.85,
            "contrast": {"n_bands": 6, "fmin": 200.0, "quantile": 0.02, "linear": False},
            "n_chroma": 12, "chroma_norm": "inf", "start_bpm": 120.0, "tightness": 100,
        },
        "features": {k: v.tolist() for k, v in feats.items()},
        "tuning": float(tuning),
        "tempo": float(np.atleast_1d(tempo)[0]),
        "beats": [int(b) for b in beats],
        "beat_track_y": {
            "tempo": float(np.atleast_1d(tempo_y)[0]),
            "beats": [int(b) for b in beats_y],
        },
        "chroma_mean": chroma_mean.tolist(),
        "key": estimate_key(chroma_mean),
    }


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: reference.py IN.wav OUT.json")
    y, sr = read_mono_22050(argv[1])
    out = compute(y, sr)
    with open(argv[2], "w") as f:
        # allow_nan=False: a NaN or infinity anywhere is a bug to see, not to write
        json.dump(out, f, allow_nan=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
