#!/usr/bin/env python3
"""The librosa half of the analysis benchmark.

  bench.py features FILE [--repeat N] [--breakdown] [--check]
      Times librosa.load(FILE, sr=22050, mono=True) and then the whole reference.py feature set
      (mfcc, centroid, bandwidth, rolloff, flatness, contrast, zcr, rms, chroma_stft with its
      tuning estimate, onset_strength, beat_track, Krumhansl-Kessler key), one core, wall clock,
      best of N (default 3) after an untimed warm-up on a generated 5-second signal (numba JIT,
      imports, resampler). The STFT is computed once and passed as S= wherever librosa allows,
      giving results identical to the defaults (--check verifies that against reference.py).
      Prints one JSON line: {"load_s", "features_s", "total_s", "frames", "peak_rss_kb"}
      (--breakdown adds "steps_s", the best time of each step).
  bench.py estimate FILE...
      One JSON line per file: {"file", "bpm", "key"}: bpm from librosa.beat.beat_track(y=y, sr=sr)
      (which uses the *median*-aggregated onset envelope), key from the mean chroma_stft(y=y, sr=sr)
      against the Krumhansl-Kessler profiles (reference.estimate_key).
"""
import os
import sys

# One core: these must be set before numpy (and its BLAS) or numba are imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"
# librosa's joblib memoization would turn repeats into cache hits; make sure it is off.
os.environ.pop("LIBROSA_CACHE_DIR", None)

import json  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ left next to reference.py in the repo
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

SR = 22050
STFT_KW = reference.STFT_KW


class Steps:
    """Wall-clock time of each named step of one pass."""

    def __init__(self):
        self.times = {}
        self._t = time.perf_counter()

    def lap(self, name):
        now = time.perf_counter()
        self.times[name] = now - self._t
        self._t = now


def features(y, sr, steps=None):
    """The reference feature set the way a competent librosa user computes it: one STFT."""
    import librosa

    steps = steps or Steps()
    D = librosa.stft(y, **STFT_KW)
    S = np.abs(D)  # magnitude: centroid, bandwidth, rolloff, flatness, contrast
    P = S**2  # power: mel spectrogram, chroma and its tuning estimate
    steps.lap("stft")
    mel_db = librosa.power_to_db(librosa.feature.melspectrogram(S=P, sr=sr, n_mels=128))
    mfcc = librosa.feature.mfcc(S=mel_db, n_mfcc=20)
    steps.lap("mel+mfcc")
    centroid = librosa.feature.spectral_centroid(S=S, sr=sr)
    bandwidth = librosa.feature.spectral_bandwidth(S=S, sr=sr, centroid=centroid)
    rolloff = librosa.feature.spectral_rolloff(S=S, sr=sr, roll_percent=0.85)
    flatness = librosa.feature.spectral_flatness(S=S)
    steps.lap("centroid+bandwidth+rolloff+flatness")
    contrast = librosa.feature.spectral_contrast(S=S, sr=sr)
    steps.lap("contrast")
    zcr = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512, center=True)
    rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=512, center=True)
    steps.lap("zcr+rms")
    tuning = librosa.estimate_tuning(S=P, sr=sr, bins_per_octave=12)
    steps.lap("tuning")
    chroma = librosa.feature.chroma_stft(S=P, sr=sr, tuning=tuning)
    steps.lap("chroma")
    # onset_strength with S= takes the log-power mel spectrogram as is: the same mel_db as above
    onset = librosa.onset.onset_strength(S=mel_db, sr=sr)
    steps.lap("onset")
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset, sr=sr, hop_length=512)
    steps.lap("beat_track")
    chroma_mean = chroma.mean(axis=1)
    key = reference.estimate_key(chroma_mean)
    steps.lap("key")
    return {
        "features": {
            "mel_db": mel_db, "mfcc": mfcc, "spectral_centroid": centroid[0],
            "spectral_bandwidth": bandwidth[0], "spectral_rolloff": rolloff[0],
            "spectral_flatness": flatness[0], "spectral_contrast": contrast,
            "zero_crossing_rate": zcr[0], "rms": rms[0], "chroma_stft": chroma,
            "onset_strength": onset,
        },
        "tuning": float(tuning),
        "tempo": float(np.atleast_1d(tempo)[0]),
        "beats": [int(b) for b in beats],
        "key": key,
        "frames": int(D.shape[-1]),
    }


def warm_up():
    """Untimed: JIT-compile librosa's numba kernels, import everything, run the resampler."""
    import librosa
    import soundfile

    rng = np.random.default_rng(1)
    t = np.arange(5 * 44100) / 44100
    clicks = (np.sin(2 * np.pi * 1000 * t) * (np.mod(t, 0.5) < 0.02)).astype(np.float32)
    y = 0.3 * np.sin(2 * np.pi * 261.63 * t) + 0.05 * rng.standard_normal(t.size) + 0.5 * clicks
    y = np.stack([y, y * 0.9], axis=1).astype(np.float32)
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        soundfile.write(f.name, y, 44100, subtype="PCM_16")
        y22, sr = librosa.load(f.name, sr=SR, mono=True)
    features(y22, sr)
    librosa.beat.beat_track(y=y22, sr=sr)


def cmd_features(args):
    import librosa

    repeat, breakdown, check, path = 3, False, False, None
    i = 0
    while i < len(args):
        if args[i] == "--repeat":
            repeat = int(args[i + 1])
            i += 2
            continue
        if args[i] == "--breakdown":
            breakdown = True
        elif args[i] == "--check":
            check = True
        elif path is None:
            path = args[i]
        else:
            sys.exit("usage: bench.py features FILE [--repeat N] [--breakdown] [--check]")
        i += 1
    if path is None or repeat < 1:
        sys.exit("usage: bench.py features FILE [--repeat N] [--breakdown] [--check]")

    warm_up()
    best_load = best_feat = best_total = float("inf")
    best_steps = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        y, sr = librosa.load(path, sr=SR, mono=True)
        t1 = time.perf_counter()
        steps = Steps()
        out = features(y, sr, steps)
        t2 = time.perf_counter()
        best_load = min(best_load, t1 - t0)
        best_feat = min(best_feat, t2 - t1)
        best_total = min(best_total, t2 - t0)
        for k, v in steps.times.items():
            best_steps[k] = min(best_steps.get(k, float("inf")), v)
    result = {
        "load_s": round(best_load, 4),
        "features_s": round(best_feat, 4),
        "total_s": round(best_total, 4),
        "frames": out["frames"],
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if breakdown:
        result["steps_s"] = {k: round(v, 4) for k, v in best_steps.items()}
    if check:
        result["check"] = check_against_reference(y, sr, out)
    print(json.dumps(result), flush=True)


def check_against_reference(y, sr, out):
    """Compares the one-STFT results with reference.compute (librosa's defaults from y)."""
    ref = reference.compute(y, sr)
    bad = []
    for name, value in out["features"].items():
        want = np.asarray(ref["features"][name])
        got = np.asarray(value.tolist())
        if want.shape != got.shape or not np.array_equal(want, got):
            bad.append(f"{name}: max |diff| {np.max(np.abs(want - got)) if want.shape == got.shape else 'shape'}")
    for name in ("tuning", "tempo", "beats", "key"):
        if out[name] != ref[name]:
            bad.append(f"{name}: {out[name]!r} != {ref[name]!r}")
    return "identical to reference.py" if not bad else bad


def cmd_estimate(paths):
    import librosa

    if not paths:
        sys.exit("usage: bench.py estimate FILE...")
    for path in paths:
        y, sr = librosa.load(path, sr=SR, mono=True)
        tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
        chroma = librosa.feature.chroma_stft(y=y, sr=sr)
        key = reference.estimate_key(chroma.mean(axis=1))
        print(json.dumps({"file": path, "bpm": float(np.atleast_1d(tempo)[0]), "key": key}), flush=True)


def main(argv):
    if len(argv) >= 2 and argv[1] == "features":
        cmd_features(argv[2:])
    elif len(argv) >= 2 and argv[1] == "estimate":
        cmd_estimate(argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
