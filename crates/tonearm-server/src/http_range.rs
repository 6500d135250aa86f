//! HTTP conditional and range request evaluation (RFC 9110 §13–14), shared by original files and
//! transcodes. tower-http's `ServeFile` covers most of this but not `If-Range`, and transcodes
//! are not files, so the rules live here once, as pure functions over headers.

use axum::http::{header, HeaderMap, StatusCode};
use std::time::SystemTime;

/// Validators of a representation.
#[derive(Debug, Clone)]
pub struct Validators {
    /// Strong entity tag including quotes, e.g. `"1f-5a"`.
    pub etag: String,
    pub last_modified: Option<SystemTime>,
}

/// What to send in response to a request for a representation of `len` bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 304: the client's copy is current.
    NotModified,
    /// 200 with the whole body.
    Full,
    /// 206 with bytes `start..end` (end exclusive).
    Partial { start: u64, end: u64 },
    /// 416: the range lies outside the representation.
    Unsatisfiable,
}

/// A range that lies outside the representation (answered with 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single byte range against a length. `Ok(None)` means "ignore the header" (a syntax
/// the server may ignore, e.g. multiple ranges or another unit).
pub fn parse_range(value: &str, len: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix range: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || len == 0 {
            return Err(Unsatisfiable);
        }
        return Ok(Some((len - n.min(len), len)));
    }
    let Ok(start) = a.parse::<u64>() else {
        return Ok(None);
    };
    let end_incl = if b.is_empty() {
        len.saturating_sub(1)
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(len.saturating_sub(1)),
            _ => return Ok(None),
        }
    };
    if start >= len {
        return Err(Unsatisfiable);
    }
    Ok(Some((start, end_incl + 1)))
}

fn etag_list_matches(list: &str, etag: &str, weak: bool) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    list.split(',').any(|t| {
        let t = t.trim();
        t == "*"
            || if weak {
                strip(t) == strip(etag)
            } else {
                t == etag
            }
    })
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 §13.1.2 requires).
pub fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|x| x.to_str().ok())
        .is_some_and(|inm| etag_list_matches(inm, etag, true))
}

/// Trims sub-second precision: HTTP dates have whole seconds.
fn whole_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Evaluates `If-None-Match`, `If-Modified-Since`, `Range` and `If-Range` for a GET/HEAD.
pub fn decide(headers: &HeaderMap, v: &Validators, len: u64) -> Decision {
    let get = |h: header::HeaderName| headers.get(h).and_then(|x| x.to_str().ok());
    if headers.contains_key(header::IF_NONE_MATCH) {
        if if_none_match(headers, &v.etag) {
            return Decision::NotModified;
        }
    } else if let (Some(ims), Some(lm)) = (get(header::IF_MODIFIED_SINCE), v.last_modified) {
        if let Ok(ims) = httpdate::parse_http_date(ims) {
            if whole_seconds(lm) <= whole_seconds(ims) {
                return Decision::NotModified;
            }
        }
    }
    let Some(range) = get(header::RANGE) else {
        return Decision::Full;
    };
    if let Some(if_range) = get(header::IF_RANGE) {
        let current =
            if if_range.trim_start().starts_with('"') || if_range.trim_start().starts_with("W/") {
                // If-Range needs a strong comparison: a weak tag never matches.
                !if_range.trim_start().starts_with("W/") && if_range.trim() == v.etag
            } else {
                match (httpdate::parse_http_date(if_range), v.last_modified) {
                    (Ok(d), Some(lm)) => whole_seconds(d) == whole_seconds(lm),
                    _ => false,
                }
            };
        if !current {
            return Decision::Full;
        }
    }
    match parse_range(range, len) {
        Ok(Some((start, end))) => Decision::Partial { start, end },
        Ok(None) => Decision::Full,
        Err(Unsatisfiable) => Decision::Unsatisfiable,
    }
}

/// The status code a decision answers with.
pub fn status_of(d: &Decision) -> StatusCode {
    match d {
        Decision::NotModified => StatusCode::NOT_MODIFIED,
        Decision::Full => StatusCode::OK,
        Decision::Partial { .. } => StatusCode::PARTIAL_CONTENT,
        Decision::Unsatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn v() -> Validators {
        Validators {
            etag: "\"abc\"".into(),
            last_modified: Some(
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
            ),
        }
    }

    fn h(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, val) in pairs {
            m.insert(k.clone(), HeaderValue::from_str(val).unwrap());
        }
        m
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("bytes=0-99", 1000), Ok(Some((0, 100))));
        assert_eq!(parse_range("bytes=900-", 1000), Ok(Some((900, 1000))));
        assert_eq!(parse_range("bytes=-100", 1000), Ok(Some((900, 1000))));
        assert_eq!(parse_range("bytes=-5000", 1000), Ok(Some((0, 1000))));
        assert_eq!(parse_range("bytes=990-5000", 1000), Ok(Some((990, 1000))));
        assert_eq!(parse_range("bytes=1000-", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=-0", 1000), Err(Unsatisfiable));
        assert_eq!(parse_range("bytes=5-1", 1000), Ok(None));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ok(None));
        assert_eq!(parse_range("items=0-1", 1000), Ok(None));
        assert_eq!(parse_range("bytes=x-y", 1000), Ok(None));
        assert_eq!(parse_range("bytes=99999999999999999999-", 1000), Ok(None));
    }

    #[test]
    fn if_range_with_current_etag_honours_range() {
        let d = decide(
            &h(&[
                (header::RANGE, "bytes=10-19"),
                (header::IF_RANGE, "\"abc\""),
            ]),
            &v(),
            100,
        );
        assert_eq!(d, Decision::Partial { start: 10, end: 20 });
    }

    #[test]
    fn if_range_with_stale_etag_or_weak_tag_sends_everything() {
        let d = decide(
            &h(&[
                (header::RANGE, "bytes=10-19"),
                (header::IF_RANGE, "\"old\""),
            ]),
            &v(),
            100,
        );
        assert_eq!(d, Decision::Full);
        let d = decide(
            &h(&[
                (header::RANGE, "bytes=10-19"),
                (header::IF_RANGE, "W/\"abc\""),
            ]),
            &v(),
            100,
        );
        assert_eq!(d, Decision::Full);
    }

    #[test]
    fn if_range_with_dates() {
        let lm = httpdate::fmt_http_date(v().last_modified.unwrap());
        let d = decide(
            &h(&[(header::RANGE, "bytes=0-0"), (header::IF_RANGE, &lm)]),
            &v(),
            100,
        );
        assert_eq!(d, Decision::Partial { start: 0, end: 1 });
        let d = decide(
            &h(&[
                (header::RANGE, "bytes=0-0"),
                (header::IF_RANGE, "Mon, 01 Jan 2001 00:00:00 GMT"),
            ]),
            &v(),
            100,
        );
        assert_eq!(d, Decision::Full);
    }

    #[test]
    fn conditional_get() {
        assert_eq!(
            decide(&h(&[(header::IF_NONE_MATCH, "\"x\", \"abc\"")]), &v(), 100),
            Decision::NotModified
        );
        assert_eq!(
            decide(&h(&[(header::IF_NONE_MATCH, "\"x\"")]), &v(), 100),
            Decision::Full
        );
        let lm = httpdate::fmt_http_date(v().last_modified.unwrap());
        assert_eq!(
            decide(&h(&[(header::IF_MODIFIED_SINCE, &lm)]), &v(), 100),
            Decision::NotModified
        );
        assert_eq!(
            decide(&h(&[(header::RANGE, "bytes=100-")]), &v(), 100),
            Decision::Unsatisfiable
        );
    }
}
