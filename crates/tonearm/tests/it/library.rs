//! Scanning a library of generated files in every supported format, through the real server.

use crate::common::*;
use serde_json::Value;
use std::path::Path;
use tonearm_media::synth::sine;

struct Fixture {
    file: &'static str,
    title: &'static str,
    codec: &'static str,
    rate: u32,
    channels: u64,
    args: &'static [&'static str],
}

const META: &[&str] = &[
    "-metadata",
    "artist=Ärtist One",
    "-metadata",
    "album=First Album",
    "-metadata",
    "album_artist=Various Artists",
    "-metadata",
    "track=3/10",
    "-metadata",
    "disc=1/2",
    "-metadata",
    "date=2019",
    "-metadata",
    "genre=Rock",
];

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "A/alpha.mp3",
        title: "Alpha",
        codec: "mp3",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
    },
    Fixture {
        file: "A/bravo.flac",
        title: "Bravo",
        codec: "flac",
        rate: 44_100,
        channels: 2,
        args: &[
            "-c:a",
            "flac",
            "-metadata",
            "MUSICBRAINZ_TRACKID=1b2c3d4e-0000-4000-8000-000000000001",
            "-metadata",
            "REPLAYGAIN_TRACK_GAIN=-6.54 dB",
            "-metadata",
            "REPLAYGAIN_TRACK_PEAK=0.988",
        ],
    },
    Fixture {
        file: "A/charlie.wav",
        title: "Charlie",
        codec: "pcm_s16le",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "pcm_s16le"],
    },
    Fixture {
        file: "B/delta.aiff",
        title: "Delta",
        codec: "pcm_s16be",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "pcm_s16be", "-write_id3v2", "1"],
    },
    Fixture {
        file: "B/echo.ogg",
        title: "Echo",
        codec: "vorbis",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "libvorbis", "-q:a", "4"],
    },
    Fixture {
        file: "B/foxtrot.opus",
        title: "Foxtrot",
        codec: "opus",
        rate: 48_000,
        channels: 2,
        args: &["-c:a", "libopus", "-b:a", "96k"],
    },
    Fixture {
        file: "C/golf.m4a",
        title: "Golf",
        codec: "aac",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "aac", "-b:a", "128k"],
    },
    Fixture {
        file: "C/hotel.m4a",
        title: "Hotel",
        codec: "alac",
        rate: 44_100,
        channels: 2,
        args: &["-c:a", "alac"],
    },
    Fixture {
        file: "C/india.mp3",
        title: "India",
        codec: "mp3",
        rate: 22_050,
        channels: 1,
        args: &[
            "-c:a",
            "libmp3lame",
            "-ac",
            "1",
            "-ar",
            "22050",
            "-b:a",
            "64k",
        ],
    },
];

fn make_fixture(lib: &Path, f: &Fixture) {
    let dst = lib.join(f.file);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    let src = lib.join(format!("{}.src.wavtmp", f.title));
    wav(&src, &sine(330.0, 3.0, 44_100, 2, 0.4));
    let title = format!("title={}", f.title);
    let mut args: Vec<&str> = f.args.to_vec();
    args.extend_from_slice(META);
    args.extend_from_slice(&["-metadata", &title]);
    encode(&src, &dst, &args);
    std::fs::remove_file(&src).unwrap();
}

fn good_library(lib: &Path) {
    for f in FIXTURES {
        make_fixture(lib, f);
    }
    // An accented title for search, and a folder image for covers.
    let src = lib.join("cafe.wavtmp");
    wav(&src, &sine(440.0, 1.0, 48_000, 1, 0.3));
    encode_with_tags(
        &src,
        "flac",
        &["title=Café Noir", "artist=Beyoncé"],
        &lib.join("D/cafe.flac"),
    );
}

fn bad_files(lib: &Path) {
    let bad = lib.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("empty.mp3"), b"").unwrap();
    std::fs::write(
        bad.join("notes.flac"),
        b"these are my notes, not audio\n".repeat(50),
    )
    .unwrap();
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(bad.join("noise.ogg"), noise).unwrap();
    // A valid 10 s FLAC cut in half.
    let src = bad.join("t.wavtmp");
    wav(&src, &sine(500.0, 10.0, 44_100, 2, 0.4));
    let full = bad.join("full.flactmp");
    encode(&src, &full, &["-f", "flac", "-c:a", "flac"]);
    let bytes = std::fs::read(&full).unwrap();
    std::fs::write(bad.join("truncated.flac"), &bytes[..bytes.len() / 2]).unwrap();
    // A WAV header declaring an absurd sample rate (a prime near u32::MAX).
    let mut hostile = Vec::new();
    tonearm_media::synth::write_wav(&mut hostile, &sine(440.0, 0.5, 8_000, 1, 0.3)).unwrap();
    hostile[24..28].copy_from_slice(&4_294_967_291u32.to_le_bytes());
    std::fs::write(bad.join("hugerate.wav"), hostile).unwrap();
    // A good FLAC with the wrong extension must still be read, by content.
    std::fs::write(bad.join("really-flac.mp3"), &bytes).unwrap();
    std::fs::remove_file(&src).unwrap();
    std::fs::remove_file(&full).unwrap();
}

fn setup(lib: &Path) {
    std::fs::create_dir_all(lib.join("D")).unwrap();
    good_library(lib);
    bad_files(lib);
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_reads_every_format_tags_and_properties() {
    let s = TestServer::start(setup).await;
    let tracks = s.tracks_by_title().await;
    for f in FIXTURES {
        let t: &Value = tracks
            .get(f.title)
            .unwrap_or_else(|| panic!("{} missing; have {:?}", f.title, tracks.keys()));
        let ctx = f.file;
        assert_eq!(t["artist"], "Ärtist One", "{ctx}");
        assert_eq!(t["album"], "First Album", "{ctx}");
        if f.file.ends_with(".wav") {
            // RIFF INFO has no album artist: the track artist stands in.
            assert_eq!(t["album_artist"], "Ärtist One", "{ctx}");
        } else {
            assert_eq!(t["album_artist"], "Various Artists", "{ctx}");
        }
        assert_eq!(t["genre"], "Rock", "{ctx}");
        assert_eq!(t["year"], 2019, "{ctx}");
        assert_eq!(t["track_no"], 3, "{ctx}");
        if !f.file.ends_with(".wav") {
            // RIFF INFO has no disc number field.
            assert_eq!(t["disc_no"], 1, "{ctx}");
        }
        assert_eq!(t["codec"], f.codec, "{ctx}");
        assert_eq!(t["sample_rate"], f.rate, "{ctx}");
        assert_eq!(t["channels"], f.channels, "{ctx}");
        let dur = t["duration_ms"].as_i64().unwrap();
        // AAC in MP4 keeps its 1024 priming samples (no gapless info in symphonia's MP4 reader).
        assert!((dur - 3000).abs() <= 50, "{ctx}: duration {dur} ms");
        let size = std::fs::metadata(s.lib().join(f.file)).unwrap().len();
        assert_eq!(t["size_bytes"], size, "{ctx}");
        assert!(t["bitrate"].as_i64().unwrap() > 0, "{ctx}");
    }
    let bravo = &tracks["Bravo"];
    assert_eq!(
        bravo["mb_recording_id"],
        "1b2c3d4e-0000-4000-8000-000000000001"
    );
    assert_eq!(bravo["rg_track_gain"], -6.54);
    assert_eq!(bravo["rg_track_peak"], 0.988);
    assert_eq!(bravo["bit_depth"], 16);
    // The FLAC named .mp3 is read by content.
    let wrong = tracks
        .values()
        .find(|t| t["title"] == "really-flac")
        .expect("wrong-extension file scanned");
    assert_eq!(wrong["codec"], "flac");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_recorded_with_reasons_and_skipped() {
    let s = TestServer::start(setup).await;
    let issues = s.json("/api/library/issues").await;
    let items = issues["items"].as_array().unwrap();
    let by_name: std::collections::HashMap<String, String> = items
        .iter()
        .map(|i| {
            let p = i["path"].as_str().unwrap();
            (
                Path::new(p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .to_string(),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut names: Vec<_> = by_name.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "empty.mp3",
            "hugerate.wav",
            "noise.ogg",
            "notes.flac",
            "truncated.flac"
        ],
        "reasons: {by_name:?}"
    );
    assert_eq!(by_name["empty.mp3"], "empty file");
    assert!(
        by_name["notes.flac"].contains("not an audio file"),
        "{by_name:?}"
    );
    assert!(
        by_name["truncated.flac"].contains("truncated"),
        "{by_name:?}"
    );
    // Everything good is there despite the bad files.
    let total = s.json("/api/tracks?limit=1").await["total"]
        .as_u64()
        .unwrap();
    assert_eq!(total, FIXTURES.len() as u64 + 2);
    let status = s.json("/api/library/scan").await;
    assert_eq!(status["failed"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn rescan_is_incremental_and_removes_deleted_files() {
    let s = TestServer::start(setup).await;
    // The fixtures, the café track and the six files in bad/ (one of them good).
    let found = FIXTURES.len() as u64 + 1 + 6;
    let again = s.rescan().await;
    assert_eq!(again["found"], found);
    assert_eq!(
        again["unchanged"], found,
        "nothing changed: nothing re-read"
    );
    assert_eq!(again["probed"], 0);

    // Change one file, delete another.
    let alpha = s.lib().join("A/alpha.mp3");
    let src = s.lib().join("new.wavtmp");
    wav(&src, &sine(220.0, 2.0, 44_100, 2, 0.4));
    encode_with_tags(&src, "libmp3lame", &["title=Alpha Remix"], &alpha);
    std::fs::remove_file(&src).unwrap();
    std::fs::remove_file(s.lib().join("A/bravo.flac")).unwrap();
    let third = s.rescan().await;
    assert_eq!(third["probed"], 1);
    assert_eq!(third["removed"], 1);
    let tracks = s.tracks_by_title().await;
    assert!(tracks.contains_key("Alpha Remix"));
    assert!(!tracks.contains_key("Alpha") && !tracks.contains_key("Bravo"));
    assert_eq!(tracks["Alpha Remix"]["duration_ms"].as_i64().unwrap(), 2000);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_is_case_and_accent_insensitive_and_filters_page() {
    let s = TestServer::start(setup).await;
    for q in ["cafe", "CAFÉ", "noir%20caf%C3%A9", "beyonce", "BEYONCÉ"] {
        let v = s.json(&format!("/api/tracks?q={q}")).await;
        assert_eq!(v["total"], 1, "q={q}");
        assert_eq!(v["items"][0]["title"], "Café Noir");
    }
    assert_eq!(s.json("/api/tracks?q=zzzz").await["total"], 0);
    // LIKE wildcards in user text match literally.
    assert_eq!(s.json("/api/tracks?q=%25").await["total"], 0);
    assert_eq!(s.json("/api/tracks?q=_").await["total"], 0);
    let artist = s.json("/api/tracks?artist=%C3%84rtist%20One").await;
    assert_eq!(artist["total"], FIXTURES.len() as u64);
    let page = s
        .json("/api/tracks?artist=%C3%84rtist%20One&limit=4&offset=4")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 4);
    assert_eq!(page["total"], FIXTURES.len() as u64);
    let r = s.get("/api/tracks?limit=100000").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request");
    assert_eq!(s.get("/api/tracks?limit=abc").await.status(), 400);
}

/// The titles of `/api/tracks?{query}`, fetched `page` at a time.
async fn titles_paged(s: &TestServer, query: &str, page: usize) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    loop {
        let v = s
            .json(&format!(
                "/api/tracks?{query}&limit={page}&offset={}",
                out.len()
            ))
            .await;
        let items = v["items"].as_array().unwrap();
        out.extend(items.iter().map(|t| {
            (
                t["title"].as_str().unwrap().to_lowercase(),
                t["year"].clone(),
            )
        }));
        if items.is_empty() || out.len() as u64 >= v["total"].as_u64().unwrap() {
            return out;
        }
    }
}

/// Titles in mixed case, some years missing.
const SORTABLE: &[(&str, Option<u32>)] = &[
    ("bravo", Some(2001)),
    ("Alpha", Some(1999)),
    ("charlie", None),
    ("Delta", Some(2010)),
    ("echo", None),
    ("Foxtrot", Some(1999)),
];

fn sortable_library(lib: &Path) {
    for (i, (title, year)) in SORTABLE.iter().enumerate() {
        let file = lib.join(format!("{i}.flac"));
        let title = format!("title={title}");
        let date = year.map(|y| format!("date={y}"));
        let mut args = vec![
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-metadata",
            &title,
            "-metadata",
            "artist=Sorter",
            "-metadata",
            "album=Orders",
        ];
        if let Some(date) = &date {
            args.extend(["-metadata", date.as_str()]);
        }
        args.push(file.to_str().unwrap());
        ffmpeg(&args);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_sort_by_a_column_across_pages() {
    let s = TestServer::start(sortable_library).await;
    // Pages of two, concatenated, are the whole listing in order (the sort is the server's,
    // not a page's).
    let asc = titles_paged(&s, "sort=title&order=asc", 2).await;
    assert_eq!(asc.len(), SORTABLE.len());
    let titles: Vec<&String> = asc.iter().map(|(t, _)| t).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted);
    let desc = titles_paged(&s, "sort=title&order=desc", 3).await;
    let mut reversed: Vec<&String> = desc.iter().map(|(t, _)| t).collect();
    reversed.reverse();
    assert_eq!(reversed, sorted);
    assert_eq!(
        titles_paged(&s, "sort=title", 100).await,
        asc,
        "ascending by default"
    );
    // Unknown values (no year) come last in both directions; known years are in order.
    for order in ["asc", "desc"] {
        let by_year = titles_paged(&s, &format!("sort=year&order={order}"), 2).await;
        let years: Vec<Option<i64>> = by_year.iter().map(|(_, y)| y.as_i64()).collect();
        let known: Vec<i64> = years.iter().flatten().copied().collect();
        let first_unknown = years
            .iter()
            .position(Option::is_none)
            .unwrap_or(years.len());
        assert_eq!(first_unknown, 4, "{order}: {years:?}");
        assert!(
            years[first_unknown..].iter().all(Option::is_none),
            "{order}: {years:?}"
        );
        let mut in_order = known.clone();
        in_order.sort();
        if order == "desc" {
            in_order.reverse();
        }
        assert_eq!(known, in_order, "{order}");
    }
    // Column names come from a fixed list; anything else is a 400, never SQL.
    for bad in ["sort=id;drop", "sort=title&order=sideways", "sort=path"] {
        let r = s.get(&format!("/api/tracks?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(s.json("/api/tracks").await["total"], SORTABLE.len() as u64);
}

#[tokio::test(flavor = "multi_thread")]
async fn albums_and_artists_group_tracks() {
    let s = TestServer::start(setup).await;
    let albums = s.json("/api/albums").await;
    let albums_named_first: Vec<&Value> = albums["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["name"] == "First Album")
        .collect();
    // The WAV's RIFF INFO carries no album artist, so it forms "First Album" by Ärtist One.
    assert_eq!(albums_named_first.len(), 2);
    let first = albums_named_first
        .iter()
        .find(|a| a["album_artist"] == "Various Artists")
        .expect("VA album");
    assert_eq!(first["track_count"], FIXTURES.len() as u64 - 1);
    let album = s
        .json(&format!("/api/albums/{}", first["id"].as_str().unwrap()))
        .await;
    let tracks = album["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), FIXTURES.len() - 1);
    assert!(tracks.iter().all(|t| t["album"] == "First Album"));
    let artists = s.json("/api/artists").await;
    let a = artists["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Ärtist One")
        .expect("artist")
        .clone();
    assert_eq!(a["track_count"], FIXTURES.len() as u64);
    let detail = s
        .json(&format!("/api/artists/{}", a["id"].as_str().unwrap()))
        .await;
    let artist_albums = detail["albums"].as_array().unwrap();
    assert!(!artist_albums.is_empty(), "{detail}");
    assert!(
        artist_albums.iter().all(|a| a["name"] == "First Album"),
        "{detail}"
    );
    assert_eq!(s.get("/api/albums/nope").await.status(), 404);
    assert_eq!(s.get("/api/artists/nope").await.status(), 404);
    assert_eq!(s.get("/api/tracks/nope").await.status(), 404);
}

fn covers(lib: &Path) {
    let png = tonearm_library::cover::gradient_png(400, [255, 0, 0], [0, 0, 255]);
    let png_path = lib.join("art.pngtmp");
    std::fs::write(&png_path, &png).unwrap();
    let src = lib.join("c.wavtmp");
    wav(&src, &sine(330.0, 1.0, 44_100, 2, 0.4));
    std::fs::create_dir_all(lib.join("E")).unwrap();
    std::fs::create_dir_all(lib.join("F")).unwrap();
    std::fs::create_dir_all(lib.join("G")).unwrap();
    ffmpeg(&[
        "-f",
        "wav",
        "-i",
        src.to_str().unwrap(),
        "-f",
        "png_pipe",
        "-i",
        png_path.to_str().unwrap(),
        "-map",
        "0:a",
        "-map",
        "1:v",
        "-c:a",
        "libmp3lame",
        "-c:v",
        "png",
        "-disposition:v",
        "attached_pic",
        "-id3v2_version",
        "3",
        "-metadata",
        "title=Embedded",
        lib.join("E/embedded.mp3").to_str().unwrap(),
    ]);
    encode_with_tags(&src, "flac", &["title=Folder"], &lib.join("F/folder.flac"));
    std::fs::write(lib.join("F/Folder.PNG"), &png).unwrap();
    encode_with_tags(&src, "flac", &["title=Bare"], &lib.join("G/bare.flac"));
    std::fs::remove_file(&src).unwrap();
    std::fs::remove_file(&png_path).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn covers_are_resized_cached_and_etagged() {
    let s = TestServer::start(covers).await;
    let tracks = s.tracks_by_title().await;
    assert_eq!(tracks["Embedded"]["has_cover"], true);
    assert_eq!(tracks["Folder"]["has_cover"], true);
    assert_eq!(tracks["Bare"]["has_cover"], false);
    for title in ["Embedded", "Folder"] {
        let id = tracks[title]["id"].as_str().unwrap();
        let r = s.get(&format!("/api/tracks/{id}/cover?size=64")).await;
        assert_eq!(r.status(), 200, "{title}");
        assert_eq!(r.headers()["content-type"], "image/jpeg");
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let bytes = r.bytes().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = to_file(dir.path(), "c.jpg", &bytes);
        assert_eq!(
            ffprobe_fields(&f, &["-show_entries", "stream=width,height,codec_name"]),
            ["mjpeg", "64", "64"],
            "{title}"
        );
        let again = s
            .client
            .get(s.url(&format!("/api/tracks/{id}/cover?size=64")))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        // Kept in object storage (here the data dir's folder), served from there next time.
        let stored: Vec<_> = std::fs::read_dir(s.dir.path().join("data/objects/covers"))
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{id}-64-"))
            })
            .collect();
        assert_eq!(stored.len(), 1, "{title}");
        assert_eq!(std::fs::read(stored[0].path()).unwrap(), bytes);
        let second = s.get(&format!("/api/tracks/{id}/cover?size=64")).await;
        assert_eq!(second.bytes().await.unwrap(), bytes);
    }
    let bare = tracks["Bare"]["id"].as_str().unwrap();
    let r = s.get(&format!("/api/tracks/{bare}/cover")).await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let id = tracks["Embedded"]["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/api/tracks/{id}/cover?size=99999"))
            .await
            .status(),
        400
    );
}

/// An ID3v2.3 tag holding a title and one front-cover picture declared as `mime`, built by
/// hand so the picture can be anything (ffmpeg refuses to attach bytes it cannot decode).
fn id3_with_picture(title: &str, mime: &str, picture: &[u8]) -> Vec<u8> {
    let frame = |id: &[u8; 4], body: &[u8]| {
        let mut f = id.to_vec();
        f.extend_from_slice(&(body.len() as u32).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(body);
        f
    };
    let mut tit2 = vec![0u8]; // ISO-8859-1
    tit2.extend_from_slice(title.as_bytes());
    let mut apic = vec![0u8];
    apic.extend_from_slice(mime.as_bytes());
    apic.extend_from_slice(&[0, 3, 0]); // end of MIME, front cover, empty description
    apic.extend_from_slice(picture);
    let mut frames = frame(b"TIT2", &tit2);
    frames.extend(frame(b"APIC", &apic));
    let n = frames.len() as u32;
    let syncsafe = [
        (n >> 21) as u8 & 0x7f,
        (n >> 14) as u8 & 0x7f,
        (n >> 7) as u8 & 0x7f,
        n as u8 & 0x7f,
    ];
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe);
    tag.extend(frames);
    tag
}

fn broken_pictures(lib: &Path) {
    use rand::{Rng, SeedableRng};
    let src = lib.join("c.wavtmp");
    wav(&src, &sine(330.0, 1.0, 44_100, 2, 0.4));
    let mp3 = lib.join("c.mp3tmp");
    encode(
        &src,
        &mp3,
        &["-c:a", "libmp3lame", "-write_id3v2", "0", "-f", "mp3"],
    );
    let audio = std::fs::read(&mp3).unwrap();
    // Random bytes behind a JPEG header: the SOI and APP0 markers, then noise.
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut garbage = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    garbage.extend((0..20_000).map(|_| rng.random::<u8>()));
    let good = tonearm_library::cover::gradient_png(300, [0, 255, 0], [0, 0, 255]);
    let track = |dir: &str, title: &str| {
        std::fs::create_dir_all(lib.join(dir)).unwrap();
        let mut bytes = id3_with_picture(title, "image/jpeg", &garbage);
        bytes.extend_from_slice(&audio);
        std::fs::write(lib.join(dir).join("track.mp3"), bytes).unwrap();
    };
    // Garbage embedded, and a garbage cover.jpg ranked above a good folder.png.
    track("WithFolder", "Broken With Folder");
    std::fs::write(lib.join("WithFolder/cover.jpg"), &garbage).unwrap();
    std::fs::write(lib.join("WithFolder/folder.png"), &good).unwrap();
    // Garbage embedded and nothing else.
    track("Alone", "Broken Alone");
    std::fs::remove_file(&src).unwrap();
    std::fs::remove_file(&mp3).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_picture_that_does_not_decode_counts_as_no_cover() {
    let s = TestServer::start(broken_pictures).await;
    let tracks = s.tracks_by_title().await;
    // The garbage picture is found at scan: folder art stands in, else there is no cover.
    assert_eq!(tracks["Broken With Folder"]["has_cover"], true);
    assert_eq!(tracks["Broken Alone"]["has_cover"], false);
    let with_folder = tracks["Broken With Folder"]["id"].as_str().unwrap();
    let r = s
        .get(&format!("/api/tracks/{with_folder}/cover?size=64"))
        .await;
    assert_eq!(r.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let f = to_file(dir.path(), "c.jpg", &r.bytes().await.unwrap());
    assert_eq!(
        ffprobe_fields(&f, &["-show_entries", "stream=width,height,codec_name"]),
        ["mjpeg", "64", "64"]
    );
    let alone = tracks["Broken Alone"]["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/api/tracks/{alone}/cover")).await.status(),
        404
    );
    // Both are on one (untagged) album: its cover is the track that has one, so the app
    // never asks for the other's.
    let albums: Value = s.get("/api/albums").await.json().await.unwrap();
    assert_eq!(albums["items"].as_array().unwrap().len(), 1, "{albums}");
    assert_eq!(
        albums["items"][0]["cover_track_id"], with_folder,
        "{albums}"
    );
}
