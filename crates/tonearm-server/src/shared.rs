//! What several nodes share through Redis: rate-limit counters, login lockouts and token
//! revocations. Without Redis each of these lives in the process (see `limits` and `auth`);
//! with it, two nodes enforce one limit and a logout on one node ends the session on all.
//!
//! Every operation is one round trip (a Lua script or a single command), keyed under
//! `tonearm:`. Keys derived from client input (addresses, user names) are hashed, so a hostile
//! string never becomes part of a Redis key and key length is bounded.

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use std::sync::Arc;
use std::time::Duration;

/// Why a Redis operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("redis failed moments ago; not asking again until {0:?} have passed")]
    Resting(Duration),
}

/// How long one Redis call may take before callers fall back or fail.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// After a failed call, Redis is not asked again for this long: callers fall back at once
/// instead of each waiting out [`CALL_TIMEOUT`].
const REST_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// GCRA (the algorithm governor uses in process) on the Redis server's clock, in microseconds
/// so that `60 s / n` is exact. KEYS[1]: the limit's key. ARGV: emission interval (µs),
/// burst (requests). Returns 0 when allowed, else the microseconds to wait.
/// Numbers are written with `%.0f`: Lua's `tostring` would print large values in exponent form.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - burst * emission
if allow_at > now then return allow_at - now end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return 0
";

/// One more failed login: counts it and, from ARGV[1] failures on, sets the lockout to
/// 60 s doubled per further failure, at most ARGV[2] ms. KEYS[1]: a hash {n, until}.
const LOCKOUT_FAILED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n >= free then
  local d = math.min(n - free, 16)
  local wait = math.min(60000 * (2 ^ d), max)
  redis.call('HSET', KEYS[1], 'until', string.format('%.0f', now + wait))
end
redis.call('PEXPIRE', KEYS[1], 2 * max)
return n
";

/// Milliseconds left on a lockout (0: not locked). KEYS[1]: the lockout hash.
const LOCKOUT_LEFT: &str = r"
local u = redis.call('HGET', KEYS[1], 'until')
if not u then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local left = tonumber(u) - now
if left > 0 then return left end
return 0
";

/// A connection to the Redis all nodes share. Cheap to clone (one multiplexed connection,
/// reconnected by the connection manager when it drops).
#[derive(Clone)]
pub struct Shared {
    conn: ConnectionManager,
    scripts: Arc<Scripts>,
    /// Until when Redis is considered down (after a failed call).
    resting_until: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

struct Scripts {
    gcra: Script,
    lockout_failed: Script,
    lockout_left: Script,
}

/// A bounded Redis key for client-derived input.
fn key(kind: &str, input: &str) -> String {
    let h = blake3::hash(input.as_bytes()).to_hex();
    format!("tonearm:{kind}:{}", &h[..32])
}

async fn timed<T>(
    f: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, SharedError> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(r) => Ok(r?),
        Err(_) => Err(SharedError::Timeout(CALL_TIMEOUT)),
    }
}

impl Shared {
    /// Connects (and pings) once, so a wrong URL fails at start rather than at the first request.
    pub async fn connect(url: &str) -> Result<Shared, SharedError> {
        let client = redis::Client::open(url)?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CALL_TIMEOUT))
            .set_response_timeout(Some(CALL_TIMEOUT));
        let mut conn = timed(client.get_connection_manager_with_config(cfg)).await?;
        let _: String = timed(redis::cmd("PING").query_async(&mut conn)).await?;
        Ok(Shared {
            conn,
            resting_until: Arc::default(),
            scripts: Arc::new(Scripts {
                gcra: Script::new(GCRA),
                lockout_failed: Script::new(LOCKOUT_FAILED),
                lockout_left: Script::new(LOCKOUT_LEFT),
            }),
        })
    }

    /// The connection, for other Redis users of this process (rooms across nodes).
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    fn resting(&self) -> std::sync::MutexGuard<'_, Option<std::time::Instant>> {
        self.resting_until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One Redis call with the time limit, skipped while Redis rests after a failure.
    async fn call<T>(
        &self,
        f: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, SharedError> {
        if let Some(until) = *self.resting() {
            if let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
                return Err(SharedError::Resting(left));
            }
        }
        let r = timed(f).await;
        let down = match &r {
            Err(SharedError::Timeout(_)) => true,
            Err(SharedError::Redis(e)) => e.is_io_error() || e.is_connection_dropped(),
            _ => false,
        };
        *self.resting() = down.then(|| std::time::Instant::now() + REST_AFTER_FAILURE);
        r
    }

    /// GCRA check of `n` requests per minute for `input` under the limit `class`:
    /// `Ok(None)` allowed, `Ok(Some(wait))` over the limit.
    pub async fn rate_check(
        &self,
        class: &str,
        input: &str,
        n: u32,
    ) -> Result<Option<Duration>, SharedError> {
        let emission_us = 60_000_000u64 / u64::from(n.max(1));
        let mut conn = self.conn.clone();
        let wait_us: i64 = self
            .call(
                self.scripts
                    .gcra
                    .key(key(&format!("rl:{class}"), input))
                    .arg(emission_us)
                    .arg(n)
                    .invoke_async(&mut conn),
            )
            .await?;
        Ok((wait_us > 0).then(|| Duration::from_micros(wait_us.unsigned_abs())))
    }

    /// Time left on `input`'s login lockout.
    pub async fn lockout_left(&self, input: &str) -> Result<Option<Duration>, SharedError> {
        let mut conn = self.conn.clone();
        let ms: i64 = self
            .call(
                self.scripts
                    .lockout_left
                    .key(key("lock", input))
                    .invoke_async(&mut conn),
            )
            .await?;
        Ok((ms > 0).then(|| Duration::from_millis(ms.unsigned_abs())))
    }

    /// Records a failed login for `input`.
    pub async fn lockout_failed(
        &self,
        input: &str,
        free: u32,
        max: Duration,
    ) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let _: i64 = self
            .call(
                self.scripts
                    .lockout_failed
                    .key(key("lock", input))
                    .arg(free)
                    .arg(max.as_millis() as u64)
                    .invoke_async(&mut conn),
            )
            .await?;
        Ok(())
    }

    /// Clears `input`'s failures after a successful login.
    pub async fn lockout_clear(&self, input: &str) -> Result<(), SharedError> {
        let mut conn = self.conn.clone();
        let _: i64 = self.call(conn.del(key("lock", input))).await?;
        Ok(())
    }

    /// Marks sessions (token families) and users revoked for `ttl` (the longest an access
    /// token that could name them lives).
    pub async fn revoke(
        &self,
        families: &[String],
        users: &[String],
        ttl: Duration,
    ) -> Result<(), SharedError> {
        if families.is_empty() && users.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        let secs = ttl.as_secs().max(1);
        for f in families {
            pipe.set_ex(key("rev:fam", f), 1, secs).ignore();
        }
        for u in users {
            pipe.set_ex(key("rev:user", u), 1, secs).ignore();
        }
        let mut conn = self.conn.clone();
        self.call(pipe.query_async::<()>(&mut conn)).await
    }

    /// Whether the session `family` or the user `user` has been revoked.
    pub async fn is_revoked(&self, family: &str, user: &str) -> Result<bool, SharedError> {
        let mut conn = self.conn.clone();
        let n: u32 = self
            .call(
                redis::cmd("EXISTS")
                    .arg(key("rev:fam", family))
                    .arg(key("rev:user", user))
                    .query_async(&mut conn),
            )
            .await?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_bounded_and_hide_the_input() {
        let k = super::key("rl:login", &"x".repeat(10_000));
        assert_eq!(k.len(), "tonearm:rl:login:".len() + 32);
        let hostile = super::key("lock", "a\r\n*3\r\n$3\r\nDEL");
        assert!(hostile.bytes().all(|b| b.is_ascii_graphic()), "{hostile}");
    }
}
