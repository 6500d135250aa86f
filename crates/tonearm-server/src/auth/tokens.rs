//! Access tokens (HS256 JWTs, short-lived), refresh tokens and API keys (random, stored hashed).

use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Issuer and audience every token carries and every check demands.
pub const ISSUER: &str = "tonearm";
pub const AUDIENCE: &str = "tonearm-api";
/// Audience of listening-room guest sessions: never accepted as API tokens, nor the reverse.
pub const GUEST_AUDIENCE: &str = "tonearm-room";
/// Prefix of API keys, so they are recognisable (and never mistaken for a JWT).
pub const API_KEY_PREFIX: &str = "tnm_";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    pub name: String,
    pub role: String,
    /// Session (refresh-token family): logout revokes it, and with it this token.
    pub fam: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// Claims of a listening-room guest session (no account: a name and a stable id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GuestClaims {
    pub sub: String,
    pub name: String,
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// The HS256 signing key.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// A key derived from the same secret for signed URLs (HLS key links), so they survive
    /// restarts and are valid on every node that shares the secret.
    url_key: [u8; 32],
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Random bytes as unpadded base64url.
pub fn random_token(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// How refresh tokens and API keys are stored: BLAKE3 of the (high-entropy) secret.
pub fn secret_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

impl JwtKeys {
    /// Uses `secret` from the config, or the key file in the data dir, creating it (atomically,
    /// mode 0600) on first start so tokens survive restarts.
    pub fn load(secret: Option<&str>, key_file: &Path) -> std::io::Result<JwtKeys> {
        let bytes = match secret {
            Some(s) if s.len() >= 32 => s.as_bytes().to_vec(),
            Some(_) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "auth.jwt_secret must have at least 32 bytes",
                ))
            }
            None => match std::fs::read(key_file) {
                Ok(b) if b.len() >= 32 => b,
                _ => {
                    let key: Vec<u8> = (0..64).map(|_| rand::random::<u8>()).collect();
                    let tmp = key_file.with_extension("tmp");
                    {
                        use std::io::Write;
                        let mut opts = std::fs::OpenOptions::new();
                        opts.write(true).create(true).truncate(true);
                        #[cfg(unix)]
                        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                        let mut f = opts.open(&tmp)?;
                        f.write_all(&key)?;
                        f.sync_all()?;
                    }
                    std::fs::rename(&tmp, key_file)?;
                    key
                }
            },
        };
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(&bytes),
            decoding: DecodingKey::from_secret(&bytes),
            url_key: blake3::derive_key("tonearm signed urls v1", &bytes),
        })
    }

    /// A signature of `message` for a URL (hex, 32 chars).
    pub fn sign_url(&self, message: &str) -> String {
        let h = blake3::keyed_hash(&self.url_key, message.as_bytes());
        h.to_hex()[..32].to_string()
    }

    /// Whether `sig` is [`sign_url`](Self::sign_url)'s signature of `message` (compared in
    /// constant time).
    pub fn verify_url(&self, message: &str, sig: &str) -> bool {
        let want = self.sign_url(message);
        want.len() == sig.len()
            && want
                .bytes()
                .zip(sig.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Signs an access token valid for `ttl_secs`.
    pub fn issue(
        &self,
        user_id: &str,
        name: &str,
        role: &str,
        family: &str,
        ttl_secs: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now_secs();
        let claims = Claims {
            sub: user_id.into(),
            name: name.into(),
            role: role.into(),
            fam: family.into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat,
            exp: iat + ttl_secs,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Signs a guest session for a listening room.
    pub fn issue_guest(
        &self,
        guest_id: &str,
        name: &str,
        ttl_secs: u64,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now_secs();
        let claims = GuestClaims {
            sub: guest_id.into(),
            name: name.into(),
            iss: ISSUER.into(),
            aud: GUEST_AUDIENCE.into(),
            iat,
            exp: iat + ttl_secs,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// Verifies a guest session as strictly as an access token.
    pub fn verify_guest(&self, token: &str) -> Option<GuestClaims> {
        decode::<GuestClaims>(token, &self.decoding, &validation(GUEST_AUDIENCE))
            .ok()
            .map(|d| d.claims)
    }

    /// Verifies signature, algorithm (HS256 only: `alg: none` and others are refused), issuer,
    /// audience and expiry (no leeway).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &validation(AUDIENCE))
            .ok()
            .map(|d| d.claims)
    }
}

/// HS256 only (`alg: none` and others are refused), our issuer, `audience`, expiry without leeway.
fn validation(audience: &str) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[ISSUER]);
    v.set_audience(&[audience]);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(dir: &Path) -> JwtKeys {
        JwtKeys::load(None, &dir.join("jwt.key")).unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_tampering_fails() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys(dir.path());
        let t = k.issue("u1", "ann", "user", "f1", 60).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!(
            (c.sub.as_str(), c.role.as_str(), c.fam.as_str()),
            ("u1", "user", "f1")
        );
        // Flip one character of the payload.
        let mut parts: Vec<String> = t.split('.').map(String::from).collect();
        let mut p = parts[1].clone().into_bytes();
        p[5] = if p[5] == b'A' { b'B' } else { b'A' };
        parts[1] = String::from_utf8(p).unwrap();
        assert!(k.verify(&parts.join(".")).is_none());
        // Another key: refused.
        let other = tempfile::tempdir().unwrap();
        assert!(keys(other.path()).verify(&t).is_none());
        // The same key file again (a restart): accepted.
        assert!(keys(dir.path()).verify(&t).is_some());
        // Guest sessions and access tokens are not interchangeable.
        let g = k.issue_guest("g1", "Guest_1", 60).unwrap();
        assert_eq!(k.verify_guest(&g).unwrap().name, "Guest_1");
        assert!(k.verify(&g).is_none());
        assert!(k.verify_guest(&t).is_none());
    }

    #[test]
    fn alg_none_and_expired_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = keys(dir.path());
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let payload = format!(
            r#"{{"sub":"u1","name":"a","role":"admin","fam":"f","iss":"{ISSUER}","aud":"{AUDIENCE}","iat":1,"exp":{}}}"#,
            now_secs() + 600
        );
        let none = format!(
            "{}.{}.",
            b64(r#"{"alg":"none","typ":"JWT"}"#),
            b64(&payload)
        );
        assert!(k.verify(&none).is_none());
        let mut claims = k
            .verify(&k.issue("u1", "a", "user", "f", 60).unwrap())
            .unwrap();
        claims.exp = now_secs() - 1;
        let expired = encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert!(k.verify(&expired).is_none());
        claims.exp = now_secs() + 60;
        claims.iss = "someone-else".into();
        let foreign = encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert!(k.verify(&foreign).is_none(), "wrong issuer");
        claims.iss = ISSUER.into();
        claims.aud = "other-app".into();
        let foreign = encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert!(k.verify(&foreign).is_none(), "wrong audience");
    }
}
