//! Checksums of migration files.

use sha2::{Digest, Sha256};

/// SHA-256 of a migration file with every CRLF turned into LF, so that a
/// checkout with Windows line endings does not look like tampering.
pub fn checksum(bytes: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    let mut rest = bytes;
    while let Some(pos) = find_crlf(rest) {
        hasher.update(&rest[..pos]);
        hasher.update(b"\n");
        rest = &rest[pos + 2..];
    }
    hasher.update(rest);
    hasher.finalize().into()
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    // `contains` on bytes is a word-at-a-time search even in the
    // unoptimised macro, where a byte-by-byte `windows` costs more than
    // the hash; most files have no `\r` at all.
    if !bytes.contains(&b'\r') {
        return None;
    }
    bytes.windows(2).position(|pair| pair == b"\r\n")
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of a checksum.
pub fn to_hex(checksum: &[u8; 32]) -> String {
    let mut out = String::with_capacity(64);
    for byte in checksum {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// Whether `hex` (either case) is the hex of `checksum`, without building
/// a string: the history check compares every applied row on every boot.
pub fn hex_matches(hex: &str, checksum: &[u8; 32]) -> bool {
    let hex = hex.as_bytes();
    hex.len() == 64
        && checksum.iter().enumerate().all(|(i, byte)| {
            hex[2 * i].eq_ignore_ascii_case(&DIGITS[usize::from(byte >> 4)])
                && hex[2 * i + 1].eq_ignore_ascii_case(&DIGITS[usize::from(byte & 0xf)])
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_files_have_the_same_checksum() {
        let lf = b"-- revision: a\n-- migrate:up\nSELECT 1;\n";
        let crlf = b"-- revision: a\r\n-- migrate:up\r\nSELECT 1;\r\n";
        assert_eq!(checksum(lf), checksum(crlf));
    }

    #[test]
    fn a_changed_byte_changes_the_checksum() {
        assert_ne!(checksum(b"SELECT 1;"), checksum(b"SELECT 2;"));
        // A lone CR is content, not a line ending.
        assert_ne!(checksum(b"a\rb"), checksum(b"ab"));
    }

    #[test]
    fn hex_matches_its_checksum_in_either_case_and_nothing_else() {
        let sum = checksum(b"abc");
        let hex = to_hex(&sum);
        assert!(hex_matches(&hex, &sum));
        assert!(hex_matches(&hex.to_uppercase(), &sum));
        assert!(!hex_matches(&hex[..63], &sum));
        assert!(!hex_matches(&to_hex(&checksum(b"abd")), &sum));
        let mut flipped = hex.into_bytes();
        flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
        assert!(!hex_matches(std::str::from_utf8(&flipped).unwrap(), &sum));
    }

    #[test]
    fn hex_is_the_sha256_of_the_normalised_bytes() {
        assert_eq!(
            to_hex(&checksum(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(to_hex(&checksum(b"abc\r\n")), to_hex(&checksum(b"abc\n")));
    }
}
