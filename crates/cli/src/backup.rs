//! `opensesa backup` and `opensesa restore`: one `.tar.gz` archive with a manifest (format,
//! version, backend, schema level, rows and SHA-256 per table, files), the durable tables as
//! canonical JSON lines (the same bytes whichever backend wrote them, so a SQLite backup
//! restores into PostgreSQL and back), and the uploaded files. Secrets are not in it: the
//! secret key and passwords of services live in the environment (see docs/operations.md).

use anyhow::{bail, Context};
use opensesa_store::dump::{self, TABLES};
use opensesa_store::{migrate, Db, DbOptions};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

pub const FORMAT: &str = "opensesa-backup/1";

fn hex(d: impl AsRef<[u8]>) -> String {
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn scratch_dir(tag: &str) -> anyhow::Result<PathBuf> {
    let d = std::env::temp_dir().join(format!("opensesa-{tag}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    Ok(d)
}

/// Dumps the tables to `dir/db/<table>.jsonl`; returns rows and SHA-256 per table.
async fn dump_tables(db: &Db, dir: &Path) -> anyhow::Result<BTreeMap<String, (u64, String)>> {
    std::fs::create_dir_all(dir.join("db"))?;
    let mut writers: BTreeMap<&'static str, (BufWriter<std::fs::File>, Sha256, u64)> =
        BTreeMap::new();
    let counts = dump::export_all(db, |table, row| {
        let entry = match writers.get_mut(table.name) {
            Some(e) => e,
            None => {
                let f = std::fs::File::create(dir.join("db").join(format!("{}.jsonl", table.name)))
                    .map_err(|e| e.to_string())?;
                writers
                    .entry(table.name)
                    .or_insert((BufWriter::new(f), Sha256::new(), 0))
            }
        };
        let mut line = serde_json::to_vec(row).map_err(|e| e.to_string())?;
        line.push(b'\n');
        entry.0.write_all(&line).map_err(|e| e.to_string())?;
        entry.1.update(&line);
        entry.2 += 1;
        Ok(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("export: {e}"))?;
    let mut out = BTreeMap::new();
    for (name, _) in counts {
        match writers.remove(name) {
            Some((mut w, h, n)) => {
                w.flush()?;
                out.insert(name.to_owned(), (n, hex(h.finalize())));
            }
            None => {
                // An empty table: an empty file.
                std::fs::File::create(dir.join("db").join(format!("{name}.jsonl")))?;
                out.insert(name.to_owned(), (0, hex(Sha256::digest(b""))));
            }
        }
    }
    Ok(out)
}

/// Directories under `files` that hold only transient files: the evidence store's uploads in
/// progress, which may vanish (renamed into place) between listing and reading, and of which a
/// leftover is not evidence.
const TRANSIENT_DIRS: &[&str] = &["evidence/tmp"];

fn list_files(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    let skip: Vec<PathBuf> = TRANSIENT_DIRS.iter().map(|d| root.join(d)).collect();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir)? {
            let e = e?;
            let t = e.file_type()?;
            if t.is_dir() {
                if !skip.contains(&e.path()) {
                    stack.push(e.path());
                }
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

pub struct BackupResult {
    pub path: PathBuf,
    pub manifest: Value,
}

/// Writes a backup of `db` (and `data_dir/files`) to `out`.
pub async fn backup(db: &Db, data_dir: &Path, out: &Path) -> anyhow::Result<BackupResult> {
    let work = scratch_dir("backup")?;
    let result = async {
        let schema = migrate::status(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let tables = dump_tables(db, &work).await?;
        let files_root = data_dir.join("files");
        let mut files = BTreeMap::new();
        for f in list_files(&files_root)? {
            let rel = f.strip_prefix(&files_root)?.to_string_lossy().replace('\\', "/");
            files.insert(rel, hex(Sha256::digest(std::fs::read(&f)?)));
        }
        let manifest = json!({
            "format": FORMAT,
            "created_at": chrono::Utc::now().to_rfc3339(),
            "opensesa_version": env!("CARGO_PKG_VERSION"),
            "backend": if db.is_sqlite() { "sqlite" } else { "postgresql" },
            "schema": { "applied": schema.applied, "latest": schema.applied.iter().max().copied().unwrap_or(0) },
            "tables": tables.iter().map(|(k, (n, h))| (k.clone(), json!({ "rows": n, "sha256": h }))).collect::<serde_json::Map<_, _>>(),
            "files": files,
            "secrets": "not included: OPENSESA_SECRET_KEY and service passwords live in the environment; keep them with the backup, separately",
        });
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = out.with_extension("partial");
        {
            let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
            let gz = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            let body = serde_json::to_vec_pretty(&manifest)?;
            let mut header = tar::Header::new_gnu();
            header.set_size(body.len() as u64);
            header.set_mode(0o600);
            header.set_cksum();
            tar.append_data(&mut header, "manifest.json", body.as_slice())?;
            for name in tables.keys() {
                tar.append_path_with_name(work.join("db").join(format!("{name}.jsonl")), format!("db/{name}.jsonl"))?;
            }
            for rel in files.keys() {
                tar.append_path_with_name(files_root.join(rel), format!("files/{rel}"))?;
            }
            tar.into_inner()?.finish()?.flush()?;
        }
        std::fs::rename(&tmp, out).with_context(|| format!("cannot move the backup into {}", out.display()))?;
        Ok(BackupResult { path: out.to_path_buf(), manifest })
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Unpacks an archive into a scratch directory, refusing links, devices and paths that climb
/// out (`..`, absolute), and checks every table and file against the manifest's checksums.
fn unpack(archive: &Path) -> anyhow::Result<(PathBuf, Value)> {
    let dir = scratch_dir("restore")?;
    let file = std::fs::File::open(archive)
        .with_context(|| format!("cannot read {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    for entry in tar
        .entries()
        .with_context(|| format!("{} is not a .tar.gz archive", archive.display()))?
    {
        let mut entry = entry.with_context(|| format!("{} is damaged", archive.display()))?;
        let kind = entry.header().entry_type();
        let path = entry.path()?.to_path_buf();
        if !(kind.is_file() || kind.is_dir()) {
            bail!(
                "{} holds {} which is not a regular file; refusing it",
                archive.display(),
                path.display()
            );
        }
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            bail!(
                "{} holds the path {} which leaves the archive; refusing it",
                archive.display(),
                path.display()
            );
        }
        entry.unpack_in(&dir)?;
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).with_context(|| {
            format!(
                "{} has no manifest.json: not an OpenSESA backup",
                archive.display()
            )
        })?)
        .context("manifest.json is not valid JSON")?;
    if manifest["format"] != FORMAT {
        bail!(
            "{} is not an OpenSESA backup of a known format (found {})",
            archive.display(),
            manifest["format"]
        );
    }
    for (name, meta) in manifest["tables"].as_object().cloned().unwrap_or_default() {
        let bytes = std::fs::read(dir.join("db").join(format!("{name}.jsonl")))
            .with_context(|| format!("the archive lacks db/{name}.jsonl"))?;
        if meta["sha256"].as_str() != Some(hex(Sha256::digest(&bytes)).as_str()) {
            bail!("db/{name}.jsonl does not match its checksum in the manifest: the archive is damaged");
        }
    }
    for (rel, sum) in manifest["files"].as_object().cloned().unwrap_or_default() {
        let bytes = std::fs::read(dir.join("files").join(&rel))
            .with_context(|| format!("the archive lacks files/{rel}"))?;
        if sum.as_str() != Some(hex(Sha256::digest(&bytes)).as_str()) {
            bail!(
                "files/{rel} does not match its checksum in the manifest: the archive is damaged"
            );
        }
    }
    Ok((dir, manifest))
}

/// Restores an archive into `db` (migrated to the archive's schema level first, then to this
/// binary's), all tables in one transaction. Refuses a newer archive, and a non-empty target
/// unless `force`.
pub async fn restore(
    db: &Db,
    data_dir: &Path,
    archive: &Path,
    force: bool,
) -> anyhow::Result<Value> {
    let (dir, manifest) = unpack(archive)?;
    let result = async {
        let level = manifest["schema"]["latest"].as_i64().unwrap_or(0);
        if level > migrate::latest_version() {
            bail!(
                "the backup is at schema level {level}, newer than this binary's {}: restore it with the release that made it",
                migrate::latest_version()
            );
        }
        let status = migrate::status(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if status.applied.iter().any(|v| *v > level) && dump::total_rows(db).await.unwrap_or(0) > 0 && !force {
            bail!("the target database is at a newer schema level than the backup and holds data; use an empty database");
        }
        let upto: Vec<migrate::Migration> = migrate::MIGRATIONS
            .iter()
            .filter(|m| m.version <= level || status.applied.contains(&m.version))
            .map(|m| migrate::Migration { version: m.version, name: m.name, sqlite: m.sqlite, postgres: m.postgres })
            .collect();
        migrate::run_list(db, &upto).await?;
        let existing = dump::total_rows(db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        if existing > 0 {
            if !force {
                bail!("the target database is not empty ({existing} rows); restore into an empty database, or pass --force to replace its content");
            }
            dump::wipe(db).await.map_err(|e| anyhow::anyhow!("cannot empty the target: {e}"))?;
        }
        let files: Vec<(&dump::Table, PathBuf)> = TABLES
            .iter()
            .filter(|t| manifest["tables"].get(t.name).is_some())
            .map(|t| (t, dir.join("db").join(format!("{}.jsonl", t.name))))
            .collect();
        dump::import_files(db, &files).await.map_err(|e| anyhow::anyhow!("restore failed and was rolled back: {e}"))?;
        migrate::run(db).await?;
        for rel in manifest["files"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
            let to = data_dir.join("files").join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(dir.join("files").join(&rel), &to).with_context(|| format!("cannot restore files/{rel}"))?;
        }
        Ok(manifest.clone())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// `backup --verify`: restores the archive into a scratch SQLite database and compares rows and
/// checksums table by table with the manifest.
pub async fn verify(archive: &Path) -> anyhow::Result<()> {
    let dir = scratch_dir("verify")?;
    let result = async {
        let url = format!("sqlite://{}", dir.join("scratch.sqlite3").display());
        let scratch = Db::connect(&DbOptions { url, max_connections: 2, pg_schema: None }).await?;
        let manifest = restore(&scratch, &dir, archive, false).await?;
        let again = dump_tables(&scratch, &dir.join("redump")).await?;
        scratch.close().await;
        for (name, meta) in manifest["tables"].as_object().cloned().unwrap_or_default() {
            let (rows, sum) = again.get(&name).cloned().unwrap_or_default();
            if meta["rows"].as_u64() != Some(rows) || meta["sha256"].as_str() != Some(sum.as_str()) {
                bail!("verification failed for {name}: the backup has {} rows ({}), the restored copy {rows} ({sum})", meta["rows"], meta["sha256"]);
            }
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The default path of a new backup: `<data dir>/backups/opensesa-<UTC time>.tar.gz`.
pub fn default_path(data_dir: &Path) -> PathBuf {
    data_dir.join("backups").join(format!(
        "opensesa-{}.tar.gz",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    ))
}
