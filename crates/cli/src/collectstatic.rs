//! `opensesa collectstatic`: writes the embedded static assets under their content-hashed
//! names, plus a manifest, to `OPENSESA_STATIC_ROOT`, for the reverse proxy to serve. The app
//! links the same hashed names (they are computed from the same embedded bytes), so what the
//! proxy serves and what pages ask for always agree for one binary.

use anyhow::{bail, Context};
use opensesa_web::assets::Assets;
use std::path::Path;

pub const MANIFEST: &str = "staticfiles.json";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub written: usize,
    pub unchanged: usize,
    pub removed: usize,
}

/// Collects into `root`, which must exist and be writable. With `clear`, files that are not
/// part of this binary's set are removed first (old hashed names of earlier releases are
/// otherwise kept, so pages of a previous version still find their assets during a rollout).
pub fn collect(root: &Path, clear: bool) -> anyhow::Result<Collected> {
    let meta = std::fs::metadata(root).with_context(|| {
        format!("OPENSESA_STATIC_ROOT {} does not exist; create it (or mount the static volume) and run again", root.display())
    })?;
    if !meta.is_dir() {
        bail!("OPENSESA_STATIC_ROOT {} is not a directory", root.display());
    }
    let probe = root.join(".opensesa-write-test");
    std::fs::write(&probe, b"").with_context(|| {
        format!(
            "OPENSESA_STATIC_ROOT {} is not writable by this user",
            root.display()
        )
    })?;
    let _ = std::fs::remove_file(&probe);

    let assets = Assets::embedded();
    let mut out = Collected::default();
    let keep: std::collections::BTreeSet<String> = assets
        .iter()
        .flat_map(|a| [a.hashed.clone(), a.logical.to_owned()])
        .chain([MANIFEST.to_owned()])
        .collect();
    if clear {
        for entry in
            std::fs::read_dir(root).with_context(|| format!("cannot list {}", root.display()))?
        {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_file() && !keep.contains(&name) {
                std::fs::remove_file(entry.path())
                    .with_context(|| format!("cannot remove {}", entry.path().display()))?;
                out.removed += 1;
            }
        }
    }
    for a in assets.iter() {
        // Hashed names are immutable; logical names always carry the current bytes.
        for name in [a.hashed.as_str(), a.logical] {
            let path = root.join(name);
            if std::fs::read(&path).is_ok_and(|existing| existing == a.bytes) {
                out.unchanged += 1;
                continue;
            }
            write_atomically(&path, a.bytes)?;
            out.written += 1;
        }
    }
    let manifest = serde_json::to_vec_pretty(&assets.manifest())?;
    write_atomically(&root.join(MANIFEST), &manifest)?;
    Ok(out)
}

/// Writes via a temporary file and a rename, so a reader never sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("opensesa-tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}

/// Compares a static root with this binary's assets: missing manifest, missing files, stale
/// manifest (from another release). Empty when everything matches.
pub fn verify(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let raw = match std::fs::read(root.join(MANIFEST)) {
        Ok(raw) => raw,
        Err(_) => {
            return vec![format!(
                "{} has no {MANIFEST}: run `opensesa collectstatic --noinput`",
                root.display()
            )]
        }
    };
    let on_disk: serde_json::Value = serde_json::from_slice(&raw).unwrap_or_default();
    let assets = Assets::embedded();
    for a in assets.iter() {
        if on_disk["files"][a.logical]["hashed"].as_str() != Some(a.hashed.as_str()) {
            problems.push(format!("{MANIFEST} is stale for {} (another release collected it): run `opensesa collectstatic --noinput`", a.logical));
        }
        if std::fs::read(root.join(&a.hashed)).map_or(true, |b| b != a.bytes) {
            problems.push(format!(
                "{} is missing or differs in {}: run `opensesa collectstatic --noinput`",
                a.hashed,
                root.display()
            ));
        }
    }
    problems
}
