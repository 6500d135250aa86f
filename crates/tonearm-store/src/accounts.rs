//! Accounts persistence: users, API keys, refresh-token families. Secrets are never stored:
//! password hashes come from the caller (argon2id), tokens and keys are stored as hashes.

use crate::{begin_write, now_ms, Result, Store};
use serde::Serialize;
use sqlx::AssertSqlSafe;

/// A user as listed to admins (no hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at_ms: i64,
}

/// How stale an API key's `last_used_ms` may be.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// A user with the password hash, for verifying a login.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserCredentials {
    pub id: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

/// An API key as listed to its owner (the key itself is shown once, at creation).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub created_at_ms: i64,
    pub last_used_ms: Option<i64>,
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was current: it is now used, and `new_hash` replaces it in the family.
    Rotated { user_id: String, family_id: String },
    /// The token was already used: someone replayed it. The family is now revoked.
    Reused { user_id: String, family_id: String },
    /// Unknown, expired, or of a revoked family.
    Invalid,
}

/// A refresh token joined with its family.
#[derive(sqlx::FromRow)]
struct RefreshRow {
    family_id: String,
    user_id: String,
    expires_at: i64,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl Store {
    /// Number of users (0 means the server needs its first admin).
    pub async fn user_count(&self) -> Result<i64> {
        with_db!(self, pool => {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?)
        })
    }

    /// Creates a user; `Ok(false)` when the name is taken.
    pub async fn create_user(
        &self,
        id: &str,
        name: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<bool> {
        with_db!(self, pool => {
            let r = sqlx::query(
                "INSERT INTO users (id, name, password_hash, role, created_at_ms) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(name)
            .bind(password_hash)
            .bind(role)
            .bind(now_ms())
            .execute(pool)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Creates the first admin only if there is no user yet (one transaction: two setup requests
    /// racing cannot both succeed).
    pub async fn create_first_admin(
        &self,
        id: &str,
        name: &str,
        password_hash: &str,
    ) -> Result<bool> {
        with_db!(self, pool => {
            // One writer at a time: SQLite's write lock, or on PostgreSQL (where two nodes may
            // each offer a setup token) an exclusive lock on the table for the transaction.
            let mut tx = begin_write(pool, PG).await?;
            if PG {
                sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let r = sqlx::query(
                "INSERT INTO users (id, name, password_hash, role, created_at_ms) \
                 SELECT $1, $2, $3, 'admin', $4 WHERE NOT EXISTS (SELECT 1 FROM users)",
            )
            .bind(id)
            .bind(name)
            .bind(password_hash)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(r.rows_affected() == 1)
        })
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        with_db!(self, pool => {
            Ok(
                sqlx::query_as("SELECT id, name, role, created_at_ms FROM users ORDER BY lower(name), name")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        with_db!(self, pool => {
            Ok(
                sqlx::query_as("SELECT id, name, role, created_at_ms FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Credentials by (case-insensitive) name.
    pub async fn credentials(&self, name: &str) -> Result<Option<UserCredentials>> {
        with_db!(self, pool => {
            Ok(
                sqlx::query_as("SELECT id, name, role, password_hash FROM users WHERE lower(name) = lower($1)")
                    .bind(name)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Replaces a password hash and revokes every session of the user, returning the revoked
    /// sessions (so other nodes can be told). `Ok(None)`: no such user.
    pub async fn set_password(
        &self,
        user_id: &str,
        password_hash: &str,
    ) -> Result<Option<Vec<String>>> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let revoked: Vec<(String,)> = sqlx::query_as("UPDATE token_families SET revoked_at_ms = $1, revoked_reason = 'password changed' WHERE user_id = $2 AND revoked_at_ms IS NULL RETURNING id")
                .bind(now_ms())
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok((n == 1).then(|| revoked.into_iter().map(|(id,)| id).collect()))
        })
    }

    /// Sessions revoked at or after `since_ms` (to re-publish revocations to a fresh Redis).
    pub async fn families_revoked_since(&self, since_ms: i64) -> Result<Vec<String>> {
        with_db!(self, pool => {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT id FROM token_families WHERE revoked_at_ms >= $1")
                    .bind(since_ms)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Deletes a user with their keys and sessions. `Ok(false)`: no such user.
    pub async fn delete_user(&self, user_id: &str) -> Result<bool> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if deleted {
                let now = now_ms();
                sqlx::query("INSERT INTO deleted_users (id, deleted_at_ms) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET deleted_at_ms = excluded.deleted_at_ms")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // Only recent deletions matter (tokens naming older ones have expired).
                sqlx::query("DELETE FROM deleted_users WHERE deleted_at_ms < $1")
                    .bind(now - 30 * 24 * 3600 * 1000)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(deleted)
        })
    }

    /// Users deleted at or after `since_ms` (to re-publish to a fresh Redis).
    pub async fn users_deleted_since(&self, since_ms: i64) -> Result<Vec<String>> {
        with_db!(self, pool => {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT id FROM deleted_users WHERE deleted_at_ms >= $1")
                    .bind(since_ms)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|(id,)| id).collect())
        })
    }

    /// Starts a session: a new token family holding its first refresh token.
    pub async fn start_family(
        &self,
        family_id: &str,
        user_id: &str,
        token_hash: &str,
        expires_at_ms: i64,
    ) -> Result<()> {
        with_db!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO token_families (id, user_id, created_at_ms) VALUES ($1,$2,$3)")
                .bind(family_id)
                .bind(user_id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, expires_at_ms) VALUES ($1,$2,$3)",
            )
            .bind(token_hash)
            .bind(family_id)
            .bind(expires_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Presents a refresh token. A current one is marked used and `new_hash` joins its family;
    /// a used one revokes the family. Runs as one immediate transaction, so two concurrent
    /// presentations of the same token cannot both rotate.
    pub async fn rotate_refresh(
        &self,
        token_hash: &str,
        new_hash: &str,
        new_expires_at_ms: i64,
    ) -> Result<RefreshOutcome> {
        with_db!(self, pool => {
            let now = now_ms();
            let mut tx = begin_write(pool, PG).await?;
            let sql = format!(
                "SELECT f.id AS family_id, f.user_id, t.expires_at_ms AS expires_at, t.used_at_ms AS used_at, \
                 f.revoked_at_ms AS revoked_at \
                 FROM refresh_tokens t JOIN token_families f ON f.id = t.family_id WHERE t.token_hash = $1{}",
                crate::for_update(PG)
            );
            let row: Option<RefreshRow> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(RefreshRow {
                family_id,
                user_id,
                expires_at,
                used_at,
                revoked_at,
            }) = row
            else {
                return Ok(RefreshOutcome::Invalid);
            };
            if revoked_at.is_some() || expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            if used_at.is_some() {
                sqlx::query("UPDATE token_families SET revoked_at_ms = $1, revoked_reason = 'refresh token reused' WHERE id = $2")
                    .bind(now)
                    .bind(&family_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(RefreshOutcome::Reused { user_id, family_id });
            }
            sqlx::query("UPDATE refresh_tokens SET used_at_ms = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(token_hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO refresh_tokens (token_hash, family_id, expires_at_ms) VALUES ($1,$2,$3)",
            )
            .bind(new_hash)
            .bind(&family_id)
            .bind(new_expires_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(RefreshOutcome::Rotated { user_id, family_id })
        })
    }

    /// Revokes a session (logout). Returns whether it was live.
    pub async fn revoke_family(&self, family_id: &str, reason: &str) -> Result<bool> {
        with_db!(self, pool => {
            Ok(sqlx::query("UPDATE token_families SET revoked_at_ms = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at_ms IS NULL")
                .bind(now_ms())
                .bind(reason)
                .bind(family_id)
                .execute(pool)
                .await?
                .rows_affected()
                == 1)
        })
    }

    /// Whether a session is live: its family exists, is not revoked, and its user exists.
    pub async fn family_is_live(&self, family_id: &str, user_id: &str) -> Result<bool> {
        with_db!(self, pool => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM token_families f JOIN users u ON u.id = f.user_id \
                 WHERE f.id = $1 AND f.user_id = $2 AND f.revoked_at_ms IS NULL",
            )
            .bind(family_id)
            .bind(user_id)
            .fetch_one(pool)
            .await?;
            Ok(n == 1)
        })
    }

    pub async fn create_api_key(
        &self,
        id: &str,
        user_id: &str,
        name: &str,
        key_hash: &str,
    ) -> Result<()> {
        with_db!(self, pool => {
            sqlx::query(
                "INSERT INTO api_keys (id, user_id, name, key_hash, created_at_ms) VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(id)
            .bind(user_id)
            .bind(name)
            .bind(key_hash)
            .bind(now_ms())
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    pub async fn api_keys(&self, user_id: &str) -> Result<Vec<ApiKey>> {
        with_db!(self, pool => {
            Ok(sqlx::query_as("SELECT id, name, created_at_ms, last_used_ms FROM api_keys WHERE user_id = $1 ORDER BY created_at_ms")
                .bind(user_id)
                .fetch_all(pool)
                .await?)
        })
    }

    /// Revokes one of a user's keys. `Ok(false)`: no such key for that user.
    pub async fn revoke_api_key(&self, user_id: &str, key_id: &str) -> Result<bool> {
        with_db!(self, pool => {
            Ok(
                sqlx::query("DELETE FROM api_keys WHERE id = $1 AND user_id = $2")
                    .bind(key_id)
                    .bind(user_id)
                    .execute(pool)
                    .await?
                    .rows_affected()
                    == 1,
            )
        })
    }

    /// The user a key hash belongs to (and records its use).
    pub async fn user_by_api_key(&self, key_hash: &str) -> Result<Option<User>> {
        with_db!(self, pool => {
            let row: Option<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT u.id, u.name, u.role, u.created_at_ms, k.last_used_ms FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1",
            )
            .bind(key_hash)
            .fetch_optional(pool)
            .await?;
            let Some((id, name, role, created_at_ms, last_used)) = row else {
                return Ok(None);
            };
            // "Last used" to the minute: a key streaming a track must not take the database's one
            // write lock on every range request.
            let now = now_ms();
            if last_used.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS) {
                sqlx::query("UPDATE api_keys SET last_used_ms = $1 WHERE key_hash = $2")
                    .bind(now)
                    .bind(key_hash)
                    .execute(pool)
                    .await?;
            }
            Ok(Some(User {
                id,
                name,
                role,
                created_at_ms,
            }))
        })
    }
}
