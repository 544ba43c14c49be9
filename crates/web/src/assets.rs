//! Static assets embedded in the binary and served under content-hashed names, so they can be
//! cached for a year and a new release never serves a stale file.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct Asset {
    pub logical: &'static str,
    pub hashed: String,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
    pub sha256: String,
}

/// Every embedded asset; `collectstatic` writes the same set.
const FILES: &[(&str, &[u8], &str)] = &[
    (
        "app.css",
        include_bytes!("../static/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_bytes!("../static/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "favicon.svg",
        include_bytes!("../static/favicon.svg"),
        "image/svg+xml",
    ),
];

pub struct Assets {
    by_logical: BTreeMap<&'static str, Asset>,
}

impl Default for Assets {
    fn default() -> Self {
        Self::embedded()
    }
}

impl Assets {
    pub fn embedded() -> Self {
        let by_logical = FILES
            .iter()
            .map(|(name, bytes, ct)| {
                let digest: String = Sha256::digest(bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
                let hashed = format!("{stem}.{}.{ext}", &digest[..12]);
                (
                    *name,
                    Asset {
                        logical: name,
                        hashed,
                        bytes,
                        content_type: ct,
                        sha256: digest,
                    },
                )
            })
            .collect();
        Self { by_logical }
    }

    /// The URL path of an asset by its logical name.
    pub fn url(&self, logical: &str) -> String {
        match self.by_logical.get(logical) {
            Some(a) => format!("/static/{}", a.hashed),
            None => format!("/static/{logical}"),
        }
    }

    /// Finds an asset by hashed name (immutable) or logical name (revalidated).
    pub fn find(&self, name: &str) -> Option<(&Asset, bool)> {
        if let Some(a) = self.by_logical.get(name) {
            return Some((a, false));
        }
        self.by_logical
            .values()
            .find(|a| a.hashed == name)
            .map(|a| (a, true))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Asset> {
        self.by_logical.values()
    }

    /// The manifest that `collectstatic` writes: logical name → hashed name and checksum.
    pub fn manifest(&self) -> serde_json::Value {
        let files: serde_json::Map<String, serde_json::Value> = self
            .iter()
            .map(|a| {
                (a.logical.to_owned(), serde_json::json!({ "hashed": a.hashed, "sha256": a.sha256, "size": a.bytes.len() }))
            })
            .collect();
        serde_json::json!({ "version": 1, "files": files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_resolve_and_change_with_content() {
        let a = Assets::embedded();
        let url = a.url("app.css");
        assert!(
            url.starts_with("/static/app.")
                && url.ends_with(".css")
                && url.len() > "/static/app.css".len()
        );
        let hashed = url.trim_start_matches("/static/");
        assert!(matches!(a.find(hashed), Some((_, true))));
        assert!(matches!(a.find("app.css"), Some((_, false))));
        assert!(a.find("../secret").is_none());
        assert_eq!(
            a.manifest()["files"]["app.js"]["hashed"]
                .as_str()
                .map(|s| s.starts_with("app.")),
            Some(true)
        );
    }
}
