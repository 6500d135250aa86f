//! Cover art: the embedded picture or the folder image, resized on demand.

use lofty::prelude::*;
use lofty::probe::Probe;
use std::io::Cursor;
use std::path::Path;

/// Why a cover could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    #[error("track has no cover art")]
    Missing,
    #[error("cover image is unreadable: {0}")]
    BadImage(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// The original cover bytes of a track: `cover` is what the scanner stored (`"embedded"` or the
/// folder image path).
pub fn original_cover(track_path: &Path, cover: &str) -> Result<Vec<u8>, CoverError> {
    if cover != "embedded" {
        return Ok(std::fs::read(cover)?);
    }
    let tagged = Probe::open(track_path)
        .and_then(|p| Ok(p.guess_file_type()?))
        .and_then(|p| p.read())
        .map_err(|e| CoverError::BadImage(e.to_string()))?;
    let front = front_picture(&tagged).ok_or(CoverError::Missing)?;
    Ok(front.data().to_vec())
}

/// The picture a track's cover is: the front cover of any of its tags, else the first picture.
pub fn front_picture(tagged: &lofty::file::TaggedFile) -> Option<&lofty::picture::Picture> {
    let mut pictures = tagged.tags().iter().flat_map(|t| t.pictures());
    let first = pictures.clone().next();
    pictures
        .find(|p| p.pic_type() == lofty::picture::PictureType::CoverFront)
        .or(first)
}

/// Whether `bytes` decode as an image within the limits covers are served under. The scanner
/// asks before it records a cover, so a picture that cannot be shown (random bytes behind a
/// JPEG header, a truncated file) counts as absent: listings say "no cover" and the app never
/// asks for one in vain. A full decode, because a header can be fine over garbage.
pub fn is_decodable(bytes: &[u8]) -> bool {
    decode(bytes).is_ok()
}

/// Decodes an image (bounded: no decompression bombs).
fn decode(bytes: &[u8]) -> Result<image::DynamicImage, CoverError> {
    let mut reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| CoverError::BadImage(e.to_string()))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(10_000);
    limits.max_image_height = Some(10_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| CoverError::BadImage(e.to_string()))
}

/// Decodes an image (bounded), fits it in `size`×`size` and encodes JPEG.
pub fn resize_to_jpeg(bytes: &[u8], size: u32) -> Result<Vec<u8>, CoverError> {
    let img = decode(bytes)?;
    let img = if img.width() > size || img.height() > size {
        img.thumbnail(size, size)
    } else {
        img
    };
    let mut out = Vec::new();
    img.to_rgb8()
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
        .map_err(|e| CoverError::BadImage(e.to_string()))?;
    Ok(out)
}

/// A simple generated cover (diagonal gradient) for the demo library and tests.
pub fn gradient_png(size: u32, from: [u8; 3], to: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(size, size, |x, y| {
        let t = (x + y) as f32 / (2 * size.max(1)) as f32;
        let mix = |a: u8, b: u8| (a as f32 + (b as f32 - a as f32) * t) as u8;
        image::Rgb([
            mix(from[0], to[0]),
            mix(from[1], to[1]),
            mix(from[2], to[2]),
        ])
    });
    let mut out = Vec::new();
    // Encoding an in-memory RGB image to PNG cannot fail short of allocation failure.
    let _ = img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png);
    out
}

/// Embeds `png` as the front cover of the file at `path`.
pub fn embed_cover(path: &Path, png: Vec<u8>) -> Result<(), CoverError> {
    let mut tagged = Probe::open(path)
        .and_then(|p| Ok(p.guess_file_type()?))
        .and_then(|p| p.read())
        .map_err(|e| CoverError::BadImage(e.to_string()))?;
    let tt = tagged.primary_tag_type();
    if tagged.tag(tt).is_none() {
        tagged.insert_tag(lofty::tag::Tag::new(tt));
    }
    if let Some(tag) = tagged.tag_mut(tt) {
        tag.push_picture(
            lofty::picture::Picture::unchecked(png)
                .pic_type(lofty::picture::PictureType::CoverFront)
                .mime_type(lofty::picture::MimeType::Png)
                .build(),
        );
    }
    tagged
        .save_to_path(path, lofty::config::WriteOptions::default())
        .map_err(|e| CoverError::BadImage(e.to_string()))
}
