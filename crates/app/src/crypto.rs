//! Credentials: Argon2id password hashes, random tokens, TOTP (RFC 6238) and the sealing of
//! TOTP secrets at rest.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use data_encoding::{BASE32_NOPAD, BASE64};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm as TotpAlgorithm, TOTP};

/// OWASP's Argon2id baseline: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("password hashing failed: {e}"))
}

/// Verifies against a PHC string; a malformed stored hash verifies as false.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// `verify_password` on the blocking pool: Argon2 takes tens of milliseconds of CPU, which
/// must not stall the async workers that serve other requests.
pub async fn verify_password_off_thread(password: &str, phc: &str) -> bool {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false)
}

/// `hash_password` on the blocking pool (see `verify_password_off_thread`).
pub async fn hash_password_off_thread(password: &str) -> Result<String, String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| format!("password hashing did not complete: {e}"))?
}

/// `bytes` random bytes from the OS CSPRNG, base32 lower case.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    BASE32_NOPAD.encode(&buf).to_lowercase()
}

pub fn sha256_hex(input: &str) -> String {
    Sha256::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Encrypts small secrets (TOTP seeds) with ChaCha20-Poly1305 under a key derived from the
/// site secret key, so a database dump alone does not yield second factors.
pub struct SecretBox {
    cipher: ChaCha20Poly1305,
}

impl SecretBox {
    pub fn new(secret_key: &str) -> Self {
        let key = Sha256::digest(format!("opensesa/totp-seal/v1/{secret_key}").as_bytes());
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    pub fn seal(&self, plain: &[u8]) -> Result<String, String> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain)
            .map_err(|_| "sealing failed".to_owned())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(BASE64.encode(&out))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let raw = BASE64
            .decode(sealed.as_bytes())
            .map_err(|_| "sealed value is not base64".to_owned())?;
        if raw.len() < 12 {
            return Err("sealed value is too short".into());
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| {
                "sealed value does not open with this secret key (was the key rotated?)".to_owned()
            })
    }
}

pub const TOTP_STEP_SECS: u64 = 30;

pub fn new_totp_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8]) -> TOTP {
    TOTP::new_unchecked(TotpAlgorithm::SHA1, 6, 0, TOTP_STEP_SECS, secret.to_vec())
}

pub fn totp_code(secret: &[u8], unix_secs: u64) -> String {
    totp(secret).generate(unix_secs)
}

/// The time step whose code equals `code`, looking one step back and one ahead for clock
/// drift; `None` when no step matches.
pub fn totp_match(secret: &[u8], code: &str, unix_secs: u64) -> Option<i64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret);
    let step = (unix_secs / TOTP_STEP_SECS) as i64;
    [step, step - 1, step + 1].into_iter().find(|s| {
        *s >= 0 && {
            let expected = t.generate(*s as u64 * TOTP_STEP_SECS);
            subtle_eq(expected.as_bytes(), code.as_bytes())
        }
    })
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn totp_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={}",
        enc(issuer),
        enc(account),
        BASE32_NOPAD.encode(secret),
        enc(issuer),
        TOTP_STEP_SECS
    )
}

/// A recovery code as shown to the user: 10 base32 characters in two groups.
pub fn new_recovery_code() -> String {
    let raw = random_token(7);
    format!("{}-{}", &raw[..5], &raw[5..10])
}

/// Recovery codes are compared without dashes, spaces or case.
pub fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let h = hash_password("tide-lantern-orbit").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("tide-lantern-orbit", &h));
        assert!(!verify_password("tide-lantern-orbiT", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn totp_matches_rfc6238_vector_and_drift() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(totp_code(secret, 59), "287082");
        assert_eq!(totp_match(secret, "287082", 59), Some(1));
        assert_eq!(totp_match(secret, "287082", 59 + 30), Some(1));
        assert_eq!(totp_match(secret, "287082", 59 + 90), None);
        assert_eq!(totp_match(secret, "28708", 59), None);
    }

    #[test]
    fn secret_box_round_trip_and_wrong_key() {
        let b = SecretBox::new("k1");
        let sealed = b.seal(b"seed").unwrap_or_default();
        assert_eq!(b.open(&sealed).ok(), Some(b"seed".to_vec()));
        assert!(SecretBox::new("k2").open(&sealed).is_err());
        assert!(b.open("!!").is_err());
    }

    #[test]
    fn recovery_codes_normalise() {
        let c = new_recovery_code();
        assert_eq!(c.len(), 11);
        assert_eq!(
            normalise_recovery_code(&c.to_uppercase()),
            c.replace('-', "")
        );
    }
}
