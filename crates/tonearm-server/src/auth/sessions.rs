//! Ending sessions everywhere. The database is the record (it survives restarts and is what
//! refresh checks); with Redis configured, revocations are also published there, because
//! that is what every node's request path checks (one round trip instead of a query).

use crate::config::AuthConfig;
use crate::shared::Shared;
use std::time::Duration;

/// How long a revocation must be remembered on the hot path: as long as an access token
/// naming it can live (plus clock slack).
fn hot_ttl(auth: &AuthConfig) -> Duration {
    Duration::from_secs(auth.access_ttl_secs + 60)
}

/// Tells every node that these sessions and users are revoked (already recorded in the
/// database by the caller). Without Redis there is nothing to tell: each request reads the DB.
pub async fn announce(
    shared: Option<&Shared>,
    auth: &AuthConfig,
    families: &[String],
    users: &[String],
) {
    let Some(shared) = shared else { return };
    if let Err(e) = shared.revoke(families, users, hot_ttl(auth)).await {
        // Nodes whose Redis works will not see this revocation until the access tokens
        // expire; loud, because it is a security event.
        tracing::error!(
            ?families,
            ?users,
            "could not publish revocation to redis: {e}"
        );
    }
}

/// On start: re-publishes recent revocations (ended sessions and deleted users), in case
/// Redis lost them (restarted without persistence) while access tokens naming them can still
/// be alive.
pub async fn republish(
    shared: Option<&Shared>,
    auth: &AuthConfig,
    store: &tonearm_store::Store,
) -> Result<(), tonearm_store::StoreError> {
    let Some(shared) = shared else { return Ok(()) };
    let since = tonearm_store::now_ms() - hot_ttl(auth).as_millis() as i64;
    let families = store.families_revoked_since(since).await?;
    let users = store.users_deleted_since(since).await?;
    announce(Some(shared), auth, &families, &users).await;
    Ok(())
}
