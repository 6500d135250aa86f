//! Audio analysis through the real server: the pipeline analyses each track after its loudness,
//! `GET /api/tracks/{id}/analysis` answers 202 with the job until then and the result after,
//! listings carry and filter and sort by BPM, key and energy, silent audio gets a stored
//! reason, and `tonearm analyze` re-runs analyses from the CLI.

use crate::common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use tonearm_media::synth;

const RATE: u32 = 44_100;

fn library(lib: &Path) {
    flac(
        lib,
        "Groove",
        "Groove",
        &synth::groove(synth::Groove::Rock, 123.0, 20.0, RATE, 11),
    );
    flac(
        lib,
        "Chords",
        "Chords",
        &synth::key_progression(9, true, 100.0, 15.0, RATE, 7),
    );
    flac(lib, "Hush", "Hush", &synth::sine(440.0, 5.0, RATE, 1, 0.0));
}

/// Polls a track's analysis until it is no longer pending; every answer on the way must be
/// a 202 naming the analysis job.
async fn analysis(s: &TestServer, id: &str) -> Value {
    s.until(120, "the analysis", || async {
        let r = s.get(&format!("/api/tracks/{id}/analysis")).await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.expect("json");
        match status {
            200 => Some(body),
            202 => {
                assert_eq!(body["job"]["kind"], "analysis", "{body}");
                assert_ne!(body["state"], "failed", "{body}");
                None
            }
            other => panic!("analysis answered {other}: {body}"),
        }
    })
    .await
}

#[tokio::test]
async fn tracks_are_analysed_after_loudness_and_listed_by_tempo_and_key() {
    let s = TestServer::start_with(library, &[("TONEARM_JOBS__ANALYSIS_ALL", "true")]).await;
    let mut ids = HashMap::new();
    for title in ["Groove", "Chords", "Hush"] {
        ids.insert(title, s.track_id(title).await);
    }
    let groove = analysis(&s, &ids["Groove"]).await;
    let chords = analysis(&s, &ids["Chords"]).await;
    let hush = analysis(&s, &ids["Hush"]).await;

    // The groove's tempo and beats.
    assert_eq!(groove["state"], "ready", "{groove}");
    let bpm = groove["tempo"]["bpm"].as_f64().unwrap();
    assert!((bpm / 123.0 - 1.0).abs() < 0.04, "groove at {bpm} BPM");
    let beats: Vec<f64> = groove["beats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_f64().unwrap())
        .collect();
    assert!(
        beats.len() >= 30,
        "{} beats in 20 s at 123 BPM",
        beats.len()
    );
    let gaps: Vec<f64> = beats.windows(2).map(|w| w[1] - w[0]).collect();
    let median_gap = {
        let mut g = gaps.clone();
        g.sort_by(f64::total_cmp);
        g[g.len() / 2]
    };
    assert!(
        (median_gap - 60.0 / 123.0).abs() < 0.03,
        "beat gap {median_gap}"
    );
    // Summaries, scores, the timeline and the embedding are all there.
    assert_eq!(
        groove["features"]["mfcc"]["mean"].as_array().unwrap().len(),
        20
    );
    assert_eq!(
        groove["features"]["chroma"]["std"]
            .as_array()
            .unwrap()
            .len(),
        12
    );
    assert_eq!(
        groove["features"]["spectral_contrast"]["mean"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    for score in ["energy", "danceability", "acousticness"] {
        let v = groove["scores"][score].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{score} {v}");
    }
    assert!(groove["timeline"]["energy"].as_array().unwrap().len() > 10);
    assert_eq!(groove["embedding"]["values"].as_array().unwrap().len(), 73);
    assert!(
        groove["loudness_lufs"].as_f64().is_some(),
        "loudness was measured first"
    );

    // The progression's key.
    assert_eq!(chords["key"]["name"], "A minor", "{}", chords["key"]);
    assert_eq!(chords["key"]["camelot"], "8A");

    // Silence has a reason, not numbers.
    assert_eq!(hush["state"], "not_analysable", "{hush}");
    assert!(
        hush["reason"].as_str().unwrap().contains("silent"),
        "{hush}"
    );

    // Listings carry what the analyses say.
    let list = s.json("/api/tracks?sort=bpm&order=desc").await;
    let items = list["items"].as_array().unwrap();
    let by_title: HashMap<&str, &Value> = items
        .iter()
        .map(|t| (t["title"].as_str().unwrap(), t))
        .collect();
    assert_eq!(by_title["Groove"]["bpm"].as_f64(), Some(bpm));
    assert_eq!(by_title["Chords"]["key"], "A minor");
    assert!(by_title["Hush"]["bpm"].is_null() && by_title["Hush"]["key"].is_null());
    assert_eq!(by_title["Groove"]["energy"], groove["scores"]["energy"]);
    // Sorted by tempo, fastest first, tracks without one last.
    let tempos: Vec<Option<f64>> = items.iter().map(|t| t["bpm"].as_f64()).collect();
    let mut sorted = tempos.clone();
    sorted.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    assert_eq!(tempos, sorted);

    // Filters: a tempo range and a key, in any of its spellings.
    let titles = |v: Value| -> Vec<String> {
        let mut t: Vec<String> = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    let lo = bpm - 1.0;
    let hi = bpm + 1.0;
    let expect_in_range: Vec<String> = {
        let mut t: Vec<String> = items
            .iter()
            .filter(|t| t["bpm"].as_f64().is_some_and(|b| b >= lo && b <= hi))
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        t
    };
    assert!(expect_in_range.contains(&"Groove".to_string()));
    assert_eq!(
        titles(
            s.json(&format!("/api/tracks?bpm_min={lo}&bpm_max={hi}"))
                .await
        ),
        expect_in_range
    );
    for spelling in ["A%20minor", "Am", "8A", "a%20min"] {
        let got = titles(s.json(&format!("/api/tracks?key={spelling}")).await);
        assert!(got.contains(&"Chords".to_string()), "{spelling}: {got:?}");
        assert!(!got.contains(&"Hush".to_string()));
    }
    for bad in [
        "key=H%20minor",
        "key=13A",
        "bpm_min=-5",
        "bpm_max=nope",
        "sort=tempo",
    ] {
        let r = s.get(&format!("/api/tracks?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["message"].is_string(), "{bad}: {body}");
    }

    // The jobs are listed; an unknown track is a 404.
    let jobs = s.json("/api/jobs?kind=analysis").await;
    let done = jobs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "analysis" && j["state"] == "ready")
        .count();
    assert_eq!(done, 3, "{jobs}");
    assert_eq!(s.get("/api/tracks/nope/analysis").await.status(), 404);

    // The CLI re-analyses a named track and reports it.
    let out = s
        .cli()
        .args(["analyze", ids["Groove"].as_str()])
        .output()
        .expect("tonearm analyze");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 tracks analysed, 0 failed"), "{stdout}");
    assert!(stdout.contains(&format!("{bpm:.1} BPM")), "{stdout}");
    let again = analysis(&s, &ids["Groove"]).await;
    assert_eq!(
        again["tempo"], groove["tempo"],
        "the same file analyses the same"
    );
    // With everything current, --all has nothing to do.
    let out = s.cli().args(["analyze", "--all"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 tracks analysed"));
}

/// With background analysis off, asking for a track's analysis queues it ahead of the backlog.
#[tokio::test]
async fn asking_queues_the_analysis() {
    let s = TestServer::start(|lib| {
        flac(
            lib,
            "Groove",
            "Groove",
            &synth::groove(synth::Groove::FourOnTheFloor, 128.0, 12.0, RATE, 3),
        )
    })
    .await;
    let id = s.track_id("Groove").await;
    let first = s.get(&format!("/api/tracks/{id}/analysis")).await;
    assert_eq!(first.status(), 202);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["state"], "pending");
    assert_eq!(body["job"]["priority"], 10, "{body}");
    let a = analysis(&s, &id).await;
    let bpm = a["tempo"]["bpm"].as_f64().unwrap();
    assert!((bpm / 128.0 - 1.0).abs() < 0.04, "{bpm}");
}
