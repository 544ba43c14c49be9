//! The port of the evidence-file store: content-addressed files (the key is the SHA-256 of the
//! bytes), and the rules for serving them back to a browser without letting an uploaded file
//! act as a page of this site.

use async_trait::async_trait;

/// The variable that sets the size limit, named in refusals so that an admin knows what to change.
pub const MAX_BYTES_VARIABLE: &str = "OPENSESA_EVIDENCE_MAX_BYTES";

/// A stored file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// The key: the SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// Detected from the content, never from a name or a header the uploader chose.
    pub content_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error(
        "the file is {}; the limit is {} ({MAX_BYTES_VARIABLE})",
        size_pair(*size, *limit).0,
        size_pair(*size, *limit).1
    )]
    TooLarge { size: u64, limit: u64 },
    #[error("the file is empty")]
    Empty,
    #[error("the stored file {sha256} does not match its SHA-256: it is damaged and is not served (restore it from a backup)")]
    Corrupt { sha256: String },
    #[error("no stored file has the SHA-256 {sha256}")]
    NotFound { sha256: String },
    #[error("a file key is a SHA-256: exactly 64 lowercase hexadecimal characters")]
    InvalidKey,
    #[error("file storage: {0}")]
    Io(String),
}

/// Sizes for people: one decimal in MB (MiB), or exact bytes when rounding would make the file
/// and the limit look equal.
fn size_pair(size: u64, limit: u64) -> (String, String) {
    let (a, b) = (human_size(size), human_size(limit));
    if a == b {
        (format!("{size} bytes"), format!("{limit} bytes"))
    } else {
        (a, b)
    }
}

fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    // Display only: the precision lost converting to f64 does not matter at one decimal.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// Refuses anything but 64 lowercase hex digits, before a key comes near a file path.
pub fn check_key(sha256: &str) -> Result<(), BlobError> {
    if sha256.len() == 64
        && sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(BlobError::InvalidKey)
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The largest file accepted, in bytes.
    fn limit(&self) -> u64;
    /// Content-addressed: storing the same bytes twice stores one file. Refuses empty and
    /// oversize input.
    async fn put(&self, bytes: &[u8]) -> Result<StoredBlob, BlobError>;
    /// Reads and verifies the SHA-256 against the key: a damaged file is `Corrupt`, never served.
    async fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError>;
    async fn exists(&self, sha256: &str) -> Result<bool, BlobError>;
    /// Removes what interrupted uploads left behind, older than `age`; returns how many.
    async fn remove_stale_uploads(&self, age: std::time::Duration) -> Result<usize, BlobError>;
}

/// Types a browser shows or saves without running script in this site's origin: only these
/// are served as themselves.
const SERVED_AS_ITSELF: &[&str] = &[
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/json",
    "application/zip",
    "application/gzip",
    "application/x-tar",
    "application/x-7z-compressed",
    "video/mp4",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
];

/// The Content-Type to serve a stored file with: only an allow-list of inert types is served
/// as itself; anything else (HTML, SVG, XML, scripts, unknown) is `application/octet-stream`,
/// because a type that can carry script would run with this site's origin.
pub fn served_content_type(detected: &str) -> &'static str {
    let essence = detected
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "text/plain" {
        // Text is stored only when it is valid UTF-8; saying so stops a browser guessing.
        return "text/plain; charset=utf-8";
    }
    SERVED_AS_ITSELF
        .iter()
        .find(|t| **t == essence)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// The longest file name offered, in characters: longer names break some file systems.
const MAX_NAME_CHARS: usize = 150;

/// A file name safe for `Content-Disposition: attachment` (no path separators, control
/// characters, quotes or bidirectional overrides; non-ASCII via RFC 5987 `filename*`);
/// returns the full header value `attachment; filename="..."; filename*=UTF-8''...`.
pub fn attachment_disposition(file_name: &str) -> String {
    let name = safe_file_name(file_name);
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // RFC 5987 attr-char; everything else percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The uploader's name made harmless: separators and quotes become `_`, control and
/// bidirectional-formatting characters go (they can disguise `exe.pdf` as `fdp.exe`), leading
/// dots and surrounding spaces go (hidden files; Windows drops trailing dots), and the result
/// is at most `MAX_NAME_CHARS` characters, keeping a short extension.
fn safe_file_name(raw: &str) -> String {
    let cleaned: String = raw
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .map(|c| match c {
            '/' | '\\' | '"' => '_',
            other => other,
        })
        .collect();
    let trimmed = cleaned
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_owned();
    let name = if trimmed.chars().count() > MAX_NAME_CHARS {
        let ext = trimmed
            .rsplit_once('.')
            .map(|(_, e)| e)
            .filter(|e| !e.is_empty() && e.chars().count() <= 16)
            .map(|e| format!(".{e}"))
            .unwrap_or_default();
        let stem: String = trimmed
            .chars()
            .take(MAX_NAME_CHARS - ext.chars().count())
            .collect();
        format!("{}{ext}", stem.trim_end())
    } else {
        trimmed
    };
    if name.is_empty() {
        "evidence".to_owned()
    } else {
        name
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_64_lowercase_hex() {
        assert!(check_key(&"a".repeat(64)).is_ok());
        assert!(check_key(&"0123456789abcdef".repeat(4)).is_ok());
        for bad in [
            "../etc/passwd".to_owned(),
            "A".repeat(64),
            "a".repeat(63),
            "a".repeat(65),
            "g".repeat(64),
            format!("{}/", "a".repeat(63)),
            String::new(),
        ] {
            assert_eq!(check_key(&bad), Err(BlobError::InvalidKey), "{bad}");
        }
    }

    #[test]
    fn too_large_names_sizes_and_variable() {
        let e = BlobError::TooLarge {
            size: 12_897_485,
            limit: 10 * 1024 * 1024,
        };
        assert_eq!(
            e.to_string(),
            "the file is 12.3 MB; the limit is 10.0 MB (OPENSESA_EVIDENCE_MAX_BYTES)"
        );
        let e = BlobError::TooLarge {
            size: 26_214_401,
            limit: 26_214_400,
        };
        assert_eq!(
            e.to_string(),
            "the file is 26214401 bytes; the limit is 26214400 bytes (OPENSESA_EVIDENCE_MAX_BYTES)"
        );
    }

    #[test]
    fn only_inert_types_are_served_as_themselves() {
        for t in [
            "application/pdf",
            "image/png",
            "image/jpeg",
            "application/zip",
        ] {
            assert_eq!(served_content_type(t), t);
        }
        assert_eq!(
            served_content_type("text/plain; charset=utf-8"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(served_content_type("Application/JSON"), "application/json");
        for t in [
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/xml",
            "application/xhtml+xml",
            "application/javascript",
            "text/javascript",
            "application/x-shellscript",
            "application/vnd.microsoft.portable-executable",
            "application/x-unknown",
            "",
        ] {
            assert_eq!(served_content_type(t), "application/octet-stream", "{t}");
        }
    }

    #[test]
    fn dispositions_are_safe() {
        assert_eq!(
            attachment_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            attachment_disposition("say \"hi\".txt"),
            "attachment; filename=\"say _hi_.txt\"; filename*=UTF-8''say%20_hi_.txt"
        );
        assert_eq!(
            attachment_disposition("../../etc/passwd"),
            "attachment; filename=\"_.._etc_passwd\"; filename*=UTF-8''_.._etc_passwd"
        );
        assert_eq!(
            attachment_disposition("C:\\temp\\x.log"),
            "attachment; filename=\"C:_temp_x.log\"; filename*=UTF-8''C%3A_temp_x.log"
        );
        let split = attachment_disposition("a.txt\r\nSet-Cookie: x=1");
        assert!(!split.contains('\r') && !split.contains('\n'), "{split}");
        assert!(split.starts_with("attachment; filename=\"a.txtSet-Cookie: x=1\""));
        assert_eq!(
            attachment_disposition("Prüfbericht Ω.pdf"),
            "attachment; filename=\"Pr_fbericht _.pdf\"; filename*=UTF-8''Pr%C3%BCfbericht%20%CE%A9.pdf"
        );
        // A right-to-left override cannot turn "gpj.exe" into an apparent "exe.jpg".
        assert!(
            attachment_disposition("photo\u{202E}gpj.exe").contains("filename=\"photogpj.exe\"")
        );
        for empty in ["", "...", " / ", "\u{0}\u{7}"] {
            let d = attachment_disposition(empty);
            assert!(
                d.contains("filename=\"evidence\"") || d.contains("filename=\"_\""),
                "{empty:?}: {d}"
            );
        }
        let long = format!("{}.pdf", "x".repeat(400));
        let d = attachment_disposition(&long);
        assert!(
            d.contains(&format!("filename=\"{}.pdf\"", "x".repeat(146))),
            "{d}"
        );
    }
}
