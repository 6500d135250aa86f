//! HLS `METHOD=AES-128`: each segment file is AES-128-CBC encrypted whole, PKCS#7 padded
//! (RFC 8216 §4.3.2.4), with the track's key and the IV its playlists declare.

use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};

type Enc = cbc::Encryptor<aes::Aes128>;
type Dec = cbc::Decryptor<aes::Aes128>;

/// Encrypts one segment.
pub fn encrypt(key: &[u8; 16], iv: &[u8; 16], plain: &[u8]) -> Vec<u8> {
    Enc::new(key.into(), iv.into()).encrypt_padded_vec::<Pkcs7>(plain)
}

/// Decrypts one segment; `None` if the padding is wrong (wrong key, or not our ciphertext).
pub fn decrypt(key: &[u8; 16], iv: &[u8; 16], cipher: &[u8]) -> Option<Vec<u8>> {
    Dec::new(key.into(), iv.into())
        .decrypt_padded_vec::<Pkcs7>(cipher)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_pads_to_whole_blocks() {
        let (key, iv) = ([7u8; 16], [9u8; 16]);
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let c = encrypt(&key, &iv, &plain);
            assert_eq!(
                c.len(),
                (len / 16 + 1) * 16,
                "PKCS#7 always adds 1..=16 bytes"
            );
            if len > 0 {
                assert_ne!(&c[..len], &plain[..], "ciphertext differs from plaintext");
            }
            assert_eq!(decrypt(&key, &iv, &c).as_deref(), Some(&plain[..]));
            assert_ne!(decrypt(&[8u8; 16], &iv, &c).as_deref(), Some(&plain[..]));
        }
    }
}
