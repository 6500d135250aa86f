//! Abuse limits: per-client rate limits by route class, and exponential lockout of repeated
//! failed logins. In process (governor's keyed GCRA limiters), or shared by all nodes through
//! Redis when configured (`shared`); answers are 429 + `Retry-After`.

use crate::shared::Shared;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed before lockouts start.
pub const FREE_FAILURES: u32 = 5;
/// Longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(3600);

/// A keyed limit of `n` requests per minute (0 = no limit): in process, or on the shared
/// Redis when one is configured (falling back to the process's own count if Redis fails, so
/// an outage degrades limits to per-node rather than taking the API down).
pub struct Limiter {
    class: &'static str,
    n: u32,
    local: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    shared: Option<Shared>,
}

impl Limiter {
    pub fn per_minute(class: &'static str, n: u32, shared: Option<Shared>) -> Limiter {
        Limiter {
            class,
            n,
            local: NonZeroU32::new(n).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            shared,
        }
    }

    /// `Err(wait)` when `key` is over its limit.
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        let Some(local) = &self.local else {
            return Ok(());
        };
        if let Some(shared) = &self.shared {
            match shared.rate_check(self.class, key, self.n).await {
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => return Err(wait),
                Err(e) => tracing::warn!(
                    class = self.class,
                    "shared rate limit unavailable, counting locally: {e}"
                ),
            }
        }
        local
            .check_key(&key.to_string())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets keys whose limit has fully recovered (bounds memory).
    pub fn prune(&self) {
        if let Some(l) = &self.local {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// Consecutive failed logins per (client, name), and the lockout they earned: after
/// [`FREE_FAILURES`], each failure doubles the wait, from one minute up to [`MAX_LOCKOUT`].
/// Kept on the shared Redis when configured (a lockout earned on one node holds on all).
#[derive(Default)]
pub struct Lockouts {
    map: Mutex<HashMap<String, (u32, Option<Instant>)>>,
    shared: Option<Shared>,
}

impl Lockouts {
    pub fn new(shared: Option<Shared>) -> Lockouts {
        Lockouts {
            map: Mutex::default(),
            shared,
        }
    }

    /// Time left on `key`'s lockout, if it is locked.
    pub async fn locked(&self, key: &str) -> Option<Duration> {
        if let Some(shared) = &self.shared {
            match shared.lockout_left(key).await {
                Ok(left) => return left,
                Err(e) => tracing::warn!("shared lockouts unavailable, using local: {e}"),
            }
        }
        let map = self.map.lock().ok()?;
        let until = map.get(key)?.1?;
        until.checked_duration_since(Instant::now())
    }

    pub async fn failed(&self, key: &str) {
        if let Some(shared) = &self.shared {
            match shared.lockout_failed(key, FREE_FAILURES, MAX_LOCKOUT).await {
                Ok(()) => return,
                Err(e) => tracing::warn!("shared lockouts unavailable, using local: {e}"),
            }
        }
        let Ok(mut map) = self.map.lock() else { return };
        let e = map.entry(key.to_string()).or_insert((0, None));
        e.0 += 1;
        if e.0 >= FREE_FAILURES {
            let doublings = (e.0 - FREE_FAILURES).min(16);
            let wait = Duration::from_secs(60u64 << doublings).min(MAX_LOCKOUT);
            e.1 = Some(Instant::now() + wait);
        }
    }

    pub async fn succeeded(&self, key: &str) {
        if let Some(shared) = &self.shared {
            if let Err(e) = shared.lockout_clear(key).await {
                tracing::warn!("shared lockouts unavailable: {e}");
            }
        }
        if let Ok(mut map) = self.map.lock() {
            map.remove(key);
        }
    }

    /// Drops entries whose lockout ended over an hour ago.
    pub fn prune(&self) {
        if let Ok(mut map) = self.map.lock() {
            let now = Instant::now();
            map.retain(|_, (_, until)| until.is_none_or(|u| now < u + MAX_LOCKOUT));
        }
    }
}

/// All limits of the server.
pub struct Limits {
    pub login: Limiter,
    pub token: Limiter,
    pub api: Limiter,
    pub per_user: Limiter,
    /// HLS key requests (per address).
    pub hls_key: Limiter,
    pub lockouts: Lockouts,
}

impl Limits {
    /// The configured limits, shared through `shared` (Redis) when given.
    pub fn new(
        c: &crate::config::LimitsConfig,
        hls_key_per_minute: u32,
        shared: Option<Shared>,
    ) -> Limits {
        Limits {
            login: Limiter::per_minute("login", c.login_per_minute, shared.clone()),
            token: Limiter::per_minute("token", c.token_per_minute, shared.clone()),
            api: Limiter::per_minute("api", c.api_per_minute, shared.clone()),
            per_user: Limiter::per_minute("user", c.api_per_user_per_minute, shared.clone()),
            hls_key: Limiter::per_minute("hls_key", hls_key_per_minute, shared.clone()),
            lockouts: Lockouts::new(shared),
        }
    }

    pub fn prune(&self) {
        self.login.prune();
        self.token.prune();
        self.api.prune();
        self.per_user.prune();
        self.hls_key.prune();
        self.lockouts.prune();
    }
}

/// 429 with `Retry-After` in whole seconds (at least 1).
pub fn too_many(wait: Duration) -> Response {
    crate::error::ApiError::rate_limited(wait).into_response()
}

/// The client's address (the TCP peer).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(peer(
            parts.extensions.get::<ConnectInfo<SocketAddr>>(),
        )))
    }
}

pub(crate) fn peer(ci: Option<&ConnectInfo<SocketAddr>>) -> String {
    ci.map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Which per-address limit a class of routes counts against.
#[derive(Debug, Clone, Copy)]
pub enum Class {
    /// The general API limit (every request).
    Api,
    /// Token and key endpoints (refresh, setup, API keys, logout, room creation).
    Token,
    /// HLS decryption keys.
    HlsKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_allows_the_quota_then_says_when_to_retry() {
        let l = Limiter::per_minute("t", 3, None);
        for _ in 0..3 {
            assert!(l.check("a").await.is_ok());
        }
        let wait = l.check("a").await.unwrap_err();
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(l.check("b").await.is_ok(), "keys are independent");
        let unlimited = Limiter::per_minute("t", 0, None);
        assert!(unlimited.check("a").await.is_ok(), "0 is unlimited");
    }

    #[tokio::test]
    async fn lockouts_start_after_free_failures_and_double() {
        let l = Lockouts::default();
        for _ in 0..FREE_FAILURES - 1 {
            l.failed("k").await;
        }
        assert!(l.locked("k").await.is_none());
        l.failed("k").await;
        let first = l.locked("k").await.unwrap();
        assert!(first > Duration::from_secs(55) && first <= Duration::from_secs(60));
        l.failed("k").await;
        assert!(l.locked("k").await.unwrap() > Duration::from_secs(115));
        for _ in 0..20 {
            l.failed("k").await;
        }
        assert!(l.locked("k").await.unwrap() <= MAX_LOCKOUT);
        l.succeeded("k").await;
        assert!(l.locked("k").await.is_none());
    }
}
