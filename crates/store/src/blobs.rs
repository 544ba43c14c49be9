//! Evidence files on the file system, content-addressed: `root/sha256/ab/cd/<64 hex>`. A file
//! is written to `root/tmp`, flushed to disk and renamed into place, so a reader never sees a
//! partial file and concurrent uploads of the same bytes end with the one, complete file.
//! Every read is checked against the key, so a file damaged on disk is refused, not served.

use async_trait::async_trait;
use opensesa_app::blob_port::{check_key, BlobError, BlobStore, StoredBlob};
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

const OCTET_STREAM: &str = "application/octet-stream";
const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html";
const XML: &str = "application/xml";
const SVG: &str = "image/svg+xml";
const JSON: &str = "application/json";

/// How far into a text file to look for the markup that decides its type.
const SNIFF_CHARS: usize = 4096;

#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    limit: u64,
}

impl FsBlobStore {
    /// A store under `root` (created on the first upload) accepting files up to `limit` bytes.
    pub fn new(root: PathBuf, limit: u64) -> Self {
        Self { root, limit }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes temporary files older than `age` that an interrupted upload left in `root/tmp`.
    /// Returns how many were removed. Give an age longer than any upload takes: a younger file
    /// may belong to an upload in progress (in this or another process).
    pub async fn remove_temp_files_older_than(&self, age: Duration) -> Result<usize, BlobError> {
        let tmp = self.root.join("tmp");
        blocking(move || {
            crate::old_files::remove_files_older_than(&tmp, age)
                .map_err(|e| io_err("cannot clean up", &tmp, &e))
        })
        .await
    }
}

/// `root/sha256/ab/cd/<key>`: two levels of 256 directories keep each directory small.
fn blob_path(root: &Path, key: &str) -> PathBuf {
    root.join("sha256")
        .join(&key[0..2])
        .join(&key[2..4])
        .join(key)
}

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn io_err(what: &str, path: &Path, e: &std::io::Error) -> BlobError {
    BlobError::Io(format!("{what} {}: {e}", path.display()))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BlobError::Io(format!("the file task failed: {e}")))?
}

#[async_trait]
impl BlobStore for FsBlobStore {
    fn limit(&self) -> u64 {
        self.limit
    }

    async fn remove_stale_uploads(&self, age: Duration) -> Result<usize, BlobError> {
        self.remove_temp_files_older_than(age).await
    }

    async fn put(&self, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
        let size = bytes.len() as u64;
        if size == 0 {
            return Err(BlobError::Empty);
        }
        if size > self.limit {
            return Err(BlobError::TooLarge {
                size,
                limit: self.limit,
            });
        }
        let root = self.root.clone();
        // A copy, because the blocking task outlives the borrow; hashing and writing
        // megabytes must not hold up the async workers.
        let bytes = bytes.to_vec();
        blocking(move || put_blocking(&root, &bytes)).await
    }

    async fn get(&self, sha256: &str) -> Result<Vec<u8>, BlobError> {
        check_key(sha256)?;
        let path = blob_path(&self.root, sha256);
        let key = sha256.to_owned();
        blocking(move || {
            let bytes = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Err(BlobError::NotFound { sha256: key })
                }
                Err(e) => return Err(io_err("cannot read", &path, &e)),
            };
            if hex(Sha256::digest(&bytes)) != key {
                tracing::error!(sha256 = %key, path = %path.display(), "an evidence file does not match its SHA-256");
                return Err(BlobError::Corrupt { sha256: key });
            }
            Ok(bytes)
        })
        .await
    }

    async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        check_key(sha256)?;
        let path = blob_path(&self.root, sha256);
        tokio::fs::try_exists(&path)
            .await
            .map_err(|e| io_err("cannot look for", &path, &e))
    }
}

fn put_blocking(root: &Path, bytes: &[u8]) -> Result<StoredBlob, BlobError> {
    let sha256 = hex(Sha256::digest(bytes));
    let stored = StoredBlob {
        size: bytes.len() as u64,
        content_type: detect_content_type(bytes).to_owned(),
        sha256,
    };
    let dest = blob_path(root, &stored.sha256);
    // An intact copy is kept as it is; a damaged one is replaced by this upload.
    if holds(&dest, bytes)? {
        return Ok(stored);
    }
    let tmp_dir = root.join("tmp");
    std::fs::create_dir_all(&tmp_dir).map_err(|e| io_err("cannot create", &tmp_dir, &e))?;
    let dir = dest.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| io_err("cannot create", dir, &e))?;
    // A name of its own per upload: concurrent uploads never write into each other's file.
    let tmp = tmp_dir.join(format!("{}.part", uuid::Uuid::now_v7().simple()));
    let written = write_synced(&tmp, bytes)
        .map_err(|e| io_err("cannot write", &tmp, &e))
        .and_then(|()| {
            std::fs::rename(&tmp, &dest).map_err(|e| io_err("cannot move a file to", &dest, &e))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable only once its directory is.
    sync_dir(dir).map_err(|e| io_err("cannot flush", dir, &e))?;
    Ok(stored)
}

/// Whether `path` holds exactly `bytes` (the size first, to avoid reading a damaged file).
fn holds(path: &Path, bytes: &[u8]) -> Result<bool, BlobError> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() != bytes.len() as u64 => Ok(false),
        Ok(_) => match std::fs::read(path) {
            Ok(existing) => Ok(existing == bytes),
            Err(e) => Err(io_err("cannot read", path, &e)),
        },
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("cannot read", path, &e)),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Never executable; the group may read, for backup tools running as another user.
        options.mode(0o640);
    }
    let mut f = options.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Formats with a signature that is plain text: infer's answer holds for them even when the
/// bytes are valid UTF-8 (an all-ASCII PDF is still a PDF).
const TEXTUAL_FORMATS: &[&str] = &[
    "application/pdf",
    "application/rtf",
    "application/postscript",
    "application/x-x509-ca-cert",
];

/// The content type of `bytes`, from the bytes alone: magic numbers (the `infer` crate), then,
/// for UTF-8 text without NUL bytes, the markup it starts with (XML, HTML, SVG) or whether it
/// parses as JSON; anything unrecognised is `application/octet-stream`.
pub fn detect_content_type(bytes: &[u8]) -> &'static str {
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|s| !s.contains('\0'));
    if let Some(t) = infer::get(bytes) {
        // infer's text matchers are weaker than the checks below; and a two-letter signature
        // such as "MZ" (a Windows executable) must not turn a note into a program.
        let trusted = t.matcher_type() != infer::MatcherType::Text
            && (text.is_none() || TEXTUAL_FORMATS.contains(&t.mime_type()));
        if trusted {
            return t.mime_type();
        }
    }
    text.map_or(OCTET_STREAM, text_type)
}

/// Tags that make a browser treat text as HTML (the WHATWG MIME sniffing list), lowercase.
const HTML_TAGS: &[&str] = &[
    "<!doctype html",
    "<html",
    "<head",
    "<script",
    "<iframe",
    "<h1",
    "<div",
    "<font",
    "<table",
    "<a",
    "<style",
    "<title",
    "<b",
    "<body",
    "<br",
    "<p",
];

fn text_type(s: &str) -> &'static str {
    let s = s.trim_start_matches('\u{FEFF}');
    let head: String = s
        .trim_start()
        .chars()
        .take(SNIFF_CHARS)
        .collect::<String>()
        .to_ascii_lowercase();
    let starts_with_tag = |tag: &str| {
        head.strip_prefix(tag)
            .is_some_and(|rest| rest.starts_with(|c: char| c == '>' || c.is_ascii_whitespace()))
    };
    if head.starts_with("<?xml") {
        return if head.contains("<svg") { SVG } else { XML };
    }
    if HTML_TAGS.iter().any(|t| starts_with_tag(t)) {
        return HTML;
    }
    // `<svg`, `<!DOCTYPE svg`, or a comment before the root element.
    if head.starts_with('<') && head.contains("<svg") {
        return SVG;
    }
    if starts_with_tag("<!--") {
        return HTML;
    }
    if head.starts_with(['{', '[']) && serde_json::from_str::<serde::de::IgnoredAny>(s).is_ok() {
        return JSON;
    }
    TEXT
}

#[cfg(test)]
mod tests {
    use super::*;
    use opensesa_app::blob_port::served_content_type;

    /// A scratch directory, removed when dropped.
    struct Root(PathBuf);

    impl Root {
        fn new() -> Self {
            Self(
                std::env::temp_dir()
                    .join(format!("opensesa-blobs-{}", uuid::Uuid::now_v7().simple())),
            )
        }

        fn store(&self, limit: u64) -> FsBlobStore {
            FsBlobStore::new(self.0.clone(), limit)
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(dir) else {
            return out;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
        out
    }

    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[tokio::test]
    async fn a_stored_file_comes_back_unchanged() {
        let root = Root::new();
        let store = root.store(1024);
        let stored = store.put(b"abc").await.unwrap();
        assert_eq!(
            stored,
            StoredBlob {
                sha256: ABC_SHA256.into(),
                size: 3,
                content_type: TEXT.into()
            }
        );
        assert_eq!(store.get(ABC_SHA256).await.unwrap(), b"abc");
        assert!(store.exists(ABC_SHA256).await.unwrap());
        let other = "0".repeat(64);
        assert!(!store.exists(&other).await.unwrap());
        assert_eq!(
            store.get(&other).await.unwrap_err(),
            BlobError::NotFound { sha256: other }
        );
        let path = root.0.join("sha256/ba/78").join(ABC_SHA256);
        assert_eq!(std::fs::read(&path).unwrap(), b"abc");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o111, 0, "executable: {mode:o}");
        }
    }

    #[tokio::test]
    async fn the_same_content_is_stored_once() {
        let root = Root::new();
        let store = root.store(1024);
        let first = store.put(b"same bytes").await.unwrap();
        let second = store.put(b"same bytes").await.unwrap();
        assert_eq!(first, second);
        // Concurrent uploads of one content: all succeed, one file, no temporary file left.
        let store = std::sync::Arc::new(store);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.put(b"raced bytes").await })
            })
            .collect();
        let mut keys = Vec::new();
        for t in tasks {
            keys.push(t.await.unwrap().unwrap().sha256);
        }
        keys.dedup();
        assert_eq!(keys.len(), 1);
        assert_eq!(files_under(&root.0.join("sha256")).len(), 2);
        assert!(files_under(&root.0.join("tmp")).is_empty());
    }

    #[tokio::test]
    async fn empty_and_oversize_files_are_refused() {
        let root = Root::new();
        let store = root.store(10);
        assert_eq!(store.limit(), 10);
        assert_eq!(store.put(b"").await.unwrap_err(), BlobError::Empty);
        let e = store.put(b"eleven byte").await.unwrap_err();
        assert_eq!(
            e,
            BlobError::TooLarge {
                size: 11,
                limit: 10
            }
        );
        assert_eq!(
            e.to_string(),
            "the file is 11 bytes; the limit is 10 bytes (OPENSESA_EVIDENCE_MAX_BYTES)"
        );
        assert!(!root.0.exists(), "a refusal writes nothing");
        assert_eq!(store.put(b"ten bytes!").await.unwrap().size, 10);

        let big = Root::new();
        let e = big
            .store(10 * 1024 * 1024)
            .put(&vec![7u8; 12_897_485])
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the file is 12.3 MB; the limit is 10.0 MB (OPENSESA_EVIDENCE_MAX_BYTES)"
        );
    }

    #[tokio::test]
    async fn invalid_keys_never_reach_the_file_system() {
        let root = Root::new();
        let store = root.store(1024);
        store.put(b"abc").await.unwrap();
        for bad in [
            "../etc/passwd".to_owned(),
            "../../../../../../etc/passwd".to_owned(),
            ABC_SHA256.to_uppercase(),
            ABC_SHA256[..63].to_owned(),
            "ba78".to_owned(),
            format!("{ABC_SHA256}/"),
            format!("ba/78/{}", &ABC_SHA256[6..]),
        ] {
            assert_eq!(
                store.get(&bad).await.unwrap_err(),
                BlobError::InvalidKey,
                "{bad}"
            );
            assert_eq!(
                store.exists(&bad).await.unwrap_err(),
                BlobError::InvalidKey,
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn a_damaged_file_is_refused_and_a_new_upload_repairs_it() {
        let root = Root::new();
        let store = root.store(1024);
        let stored = store.put(b"original evidence").await.unwrap();
        let path = root
            .0
            .join("sha256/")
            .join(&stored.sha256[..2])
            .join(&stored.sha256[2..4])
            .join(&stored.sha256);
        for damage in [&b"tampered evidence"[..], b"original", b""] {
            std::fs::write(&path, damage).unwrap();
            let e = store.get(&stored.sha256).await.unwrap_err();
            assert_eq!(
                e,
                BlobError::Corrupt {
                    sha256: stored.sha256.clone()
                }
            );
            assert!(e.to_string().contains("damaged"), "{e}");
        }
        assert!(store.exists(&stored.sha256).await.unwrap());
        store.put(b"original evidence").await.unwrap();
        assert_eq!(
            store.get(&stored.sha256).await.unwrap(),
            b"original evidence"
        );
    }

    #[tokio::test]
    async fn leftover_temporary_files_are_removed() {
        let root = Root::new();
        let store = root.store(1024);
        store.put(b"abc").await.unwrap();
        std::fs::write(root.0.join("tmp/interrupted.part"), b"half").unwrap();
        assert_eq!(
            store
                .remove_temp_files_older_than(Duration::from_secs(3600))
                .await
                .unwrap(),
            0,
            "a young file may be an upload in progress"
        );
        assert_eq!(
            store
                .remove_temp_files_older_than(Duration::ZERO)
                .await
                .unwrap(),
            1
        );
        assert!(files_under(&root.0.join("tmp")).is_empty());
        assert_eq!(store.get(ABC_SHA256).await.unwrap(), b"abc");
        assert_eq!(
            Root::new()
                .store(1)
                .remove_temp_files_older_than(Duration::ZERO)
                .await
                .unwrap(),
            0
        );
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
    const PDF: &[u8] =
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n";
    const ZIP: &[u8] = b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00a.txt";

    #[test]
    fn content_types_come_from_the_bytes() {
        let cases: &[(&[u8], &str)] = &[
            (PNG, "image/png"),
            (PDF, "application/pdf"),
            (b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n", "application/pdf"),
            (ZIP, "application/zip"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
            (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", "image/gif"),
            (b"test passed at 12:00\n", TEXT),
            ("Prüfung bestanden ✓\n".as_bytes(), TEXT),
            (b"MZ notes on the test bench\n", TEXT),
            (b"{not json", TEXT),
            (b"hello <script>alert(1)</script>", TEXT),
            (b"<!DOCTYPE html><html><body>x</body></html>", HTML),
            (b"\n  <HTML lang=\"en\">", HTML),
            (b"<script>alert(1)</script>", HTML),
            (b"\xef\xbb\xbf<html>", HTML),
            (b"<!-- note --><p>x</p>", HTML),
            (b"<?xml version=\"1.0\"?><results/>", XML),
            (b"<?xml version=\"1.0\"?>\n<!-- Inkscape -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>", SVG),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>", SVG),
            (b"<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\"><svg/>", SVG),
            (b"<!-- drawn --><svg/>", SVG),
            (b"{\"verdict\": \"pass\", \"steps\": [1, 2]}", JSON),
            (b" [1, 2, 3]\n", JSON),
            (b"\x00\x9f\x92\x96junk\xfe\xfe\x01", OCTET_STREAM),
            (b"text with a \x00 NUL", OCTET_STREAM),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                detect_content_type(bytes),
                *expected,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[tokio::test]
    async fn active_content_is_served_as_a_download() {
        let root = Root::new();
        let store = root.store(1024);
        let cases: &[(&[u8], &str)] = &[
            (PNG, "image/png"),
            (PDF, "application/pdf"),
            (ZIP, "application/zip"),
            (&b"plain"[..], TEXT),
            (b"{\"a\": 1}", JSON),
            (b"<html><script>alert(1)</script></html>", OCTET_STREAM),
            (b"<svg onload=\"alert(1)\"/>", OCTET_STREAM),
            (b"<?xml version=\"1.0\"?><x/>", OCTET_STREAM),
            (b"\x00\x9f\x92\x96junk", OCTET_STREAM),
        ];
        for (bytes, served) in cases {
            let stored = store.put(bytes).await.unwrap();
            assert_eq!(
                served_content_type(&stored.content_type),
                *served,
                "{}",
                stored.content_type
            );
        }
    }
}
