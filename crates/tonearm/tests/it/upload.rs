//! Uploads through the real server: judged by content, size-limited, atomic, catalogued and
//! playable; client file names and symlinks cannot place or read files outside the library.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use std::path::Path;
use tonearm_media::synth::sine;

fn audio_bytes(dir: &Path, codec_args: &[&str], ext: &str) -> Vec<u8> {
    let src = dir.join("src.wav");
    wav(&src, &sine(440.0, 3.0, 44_100, 2, 0.3));
    let out = dir.join(format!("out.{ext}"));
    encode(&src, &out, codec_args);
    std::fs::read(out).unwrap()
}

fn uploads(s: &TestServer) -> Vec<String> {
    let dir = s.dir.path().join("data/media/uploads");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn post_files(s: &TestServer, files: Vec<(&str, Vec<u8>)>) -> reqwest::Response {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part("file", Part::bytes(bytes).file_name(name.to_string()));
    }
    s.client
        .post(s.url("/api/tracks"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_judged_by_content_and_become_playable_tracks() {
    let s = TestServer::start(|_| {}).await;
    let tmp = tempfile::tempdir().unwrap();
    let mp3 = audio_bytes(
        tmp.path(),
        &["-c:a", "libmp3lame", "-metadata", "title=Uploaded MP3"],
        "mp3",
    );
    let flac = audio_bytes(
        tmp.path(),
        &["-c:a", "flac", "-metadata", "title=Disguised FLAC"],
        "flac",
    );
    let r = post_files(
        &s,
        vec![("../../../etc/evil.mp3", mp3), ("notes.txt", flac)],
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1]["codec"], "flac",
        "the FLAC named .txt is stored as what it is"
    );
    let names = uploads(&s);
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.ends_with("-evil.mp3")), "{names:?}");
    assert!(
        names.iter().any(|n| n.ends_with("-notes.flac")),
        "{names:?}"
    );
    assert!(!s.dir.path().join("etc").exists());
    // Catalogued and playable at once.
    let id = items[0]["id"].as_str().unwrap();
    let bytes = s
        .get(&format!("/api/tracks/{id}/stream?quality=low"))
        .await
        .bytes()
        .await
        .unwrap();
    let (samples, ch, _) = decode_strict(&to_file(tmp.path(), "t.mp3", &bytes));
    assert_eq!(samples.len() / ch, 3 * 48_000);
    // A rescan keeps them (the uploads folder is in the library) and reads nothing again.
    let again = s.rescan().await;
    assert_eq!(again["unchanged"], 2);
    assert_eq!(s.json("/api/tracks").await["total"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_upload_leaves_nothing_behind() {
    let s = TestServer::start_with(|_| {}, &[("TONEARM_LIMITS__UPLOAD_MAX_BYTES", "400000")]).await;
    let tmp = tempfile::tempdir().unwrap();
    let good = audio_bytes(tmp.path(), &["-c:a", "libmp3lame"], "mp3");
    // Not audio, whatever the name says.
    let r = post_files(
        &s,
        vec![("song.mp3", b"ID3 but not really audio at all".repeat(100))],
    )
    .await;
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "not_audio"
    );
    // One good file and one bad in the same request: all or nothing.
    let r = post_files(
        &s,
        vec![("good.mp3", good.clone()), ("bad.flac", vec![0u8; 5000])],
    )
    .await;
    assert_eq!(r.status(), 415);
    // Over the size limit (a 3 s WAV is 529 kB): refused while streaming in.
    let big = std::fs::read({
        let p = tmp.path().join("big.wav");
        wav(&p, &sine(440.0, 3.0, 44_100, 2, 0.3));
        p
    })
    .unwrap();
    let r = post_files(&s, vec![("big.wav", big)]).await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        uploads(&s),
        Vec::<String>::new(),
        "no file and no partial file remains"
    );
    assert_eq!(s.json("/api/tracks").await["total"], 0);
    // Nothing to upload is a clear error too.
    let r = s
        .client
        .post(s.url("/api/tracks"))
        .multipart(Form::new().text("note", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // And a good file alone is accepted.
    assert_eq!(post_files(&s, vec![("good.mp3", good)]).await.status(), 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn symlinks_never_lead_the_scanner_out_of_the_library() {
    let outside = tempfile::tempdir().unwrap();
    wav(
        &outside.path().join("secret.wav"),
        &sine(440.0, 1.0, 44_100, 1, 0.3),
    );
    let target = outside.path().to_path_buf();
    let s = TestServer::start(move |lib| {
        wav(&lib.join("inside.wav"), &sine(440.0, 1.0, 44_100, 1, 0.3));
        std::os::unix::fs::symlink(target.join("secret.wav"), lib.join("link.wav")).unwrap();
        std::os::unix::fs::symlink(&target, lib.join("linked-dir")).unwrap();
    })
    .await;
    let titles: Vec<String> = s.tracks_by_title().await.into_keys().collect();
    assert_eq!(titles, ["inside"]);
}
