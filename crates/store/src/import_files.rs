//! The import file area on disk (`data_dir/uploads/imports`): `<import id>` files, and
//! `staging/` for uploads in progress. Not part of backups: an import waits at most a day
//! for its confirmation (the worker's housekeeping prunes older files).

use crate::old_files::remove_files_older_than;
use async_trait::async_trait;
use opensesa_app::import_file_port::{ImportFileStore, StagedUpload};
use opensesa_domain::ids::ImportId;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::Duration;

pub struct FsImportFiles {
    root: PathBuf,
}

impl FsImportFiles {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }
}

fn missing_is_ok(r: std::io::Result<()>) -> std::io::Result<()> {
    match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[async_trait]
impl ImportFileStore for FsImportFiles {
    async fn stage(&self) -> std::io::Result<StagedUpload> {
        let dir = self.staging();
        tokio::fs::create_dir_all(&dir).await?;
        let path = dir.join(format!("{}.part", uuid::Uuid::now_v7().simple()));
        tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(StagedUpload::at(path))
    }

    async fn keep(&self, staged: StagedUpload, id: ImportId) -> std::io::Result<()> {
        tokio::fs::rename(staged.path(), self.path(id)).await
    }

    async fn put(&self, id: ImportId, bytes: &[u8]) -> std::io::Result<()> {
        let staged = self.stage().await?;
        if let Err(e) = tokio::fs::write(staged.path(), bytes).await {
            let _ = self.discard(staged).await;
            return Err(e);
        }
        self.keep(staged, id).await
    }

    async fn rename(&self, from: ImportId, to: ImportId) -> std::io::Result<()> {
        tokio::fs::rename(self.path(from), self.path(to)).await
    }

    fn path(&self, id: ImportId) -> PathBuf {
        // An ImportId is a UUID: its text is a safe file name.
        self.root.join(id.to_string())
    }

    async fn remove(&self, id: ImportId) -> std::io::Result<()> {
        missing_is_ok(tokio::fs::remove_file(self.path(id)).await)
    }

    async fn discard(&self, staged: StagedUpload) -> std::io::Result<()> {
        missing_is_ok(tokio::fs::remove_file(staged.path()).await)
    }

    async fn prune(&self, age: Duration) -> std::io::Result<usize> {
        let (root, staging) = (self.root.clone(), self.staging());
        tokio::task::spawn_blocking(move || {
            Ok(remove_files_older_than(&root, age)? + remove_files_older_than(&staging, age)?)
        })
        .await
        .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> (FsImportFiles, PathBuf) {
        let root = std::env::temp_dir().join(format!(
            "opensesa-imports-{}",
            uuid::Uuid::now_v7().simple()
        ));
        (FsImportFiles::new(root.clone()), root)
    }

    #[tokio::test]
    async fn staged_files_become_import_files_and_go() {
        let (files, root) = area();
        let staged = files.stage().await.unwrap();
        assert!(staged.path().starts_with(root.join("staging")));
        tokio::fs::write(staged.path(), b"id,title\n")
            .await
            .unwrap();
        let id = ImportId::new();
        files.keep(staged, id).await.unwrap();
        assert_eq!(std::fs::read(files.path(id)).unwrap(), b"id,title\n");
        let other = ImportId::new();
        files.rename(id, other).await.unwrap();
        assert!(!files.path(id).exists());
        assert_eq!(std::fs::read(files.path(other)).unwrap(), b"id,title\n");
        files.remove(other).await.unwrap();
        files.remove(other).await.unwrap();
        assert!(!files.path(other).exists());
        let third = ImportId::new();
        files.put(third, b"abc").await.unwrap();
        assert_eq!(std::fs::read(files.path(third)).unwrap(), b"abc");
        let staged = files.stage().await.unwrap();
        let left = staged.path().to_owned();
        files.discard(staged).await.unwrap();
        assert!(!left.exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    #[tokio::test]
    async fn pruning_removes_old_files_and_keeps_new_ones() {
        let (files, root) = area();
        let id = ImportId::new();
        files.put(id, b"x").await.unwrap();
        let staged = files.stage().await.unwrap();
        assert_eq!(files.prune(Duration::from_secs(3600)).await.unwrap(), 0);
        assert!(files.path(id).exists() && staged.path().exists());
        assert_eq!(files.prune(Duration::ZERO).await.unwrap(), 2);
        assert!(!files.path(id).exists() && !staged.path().exists());
        // The staging directory itself stays.
        assert!(root.join("staging").is_dir());
        std::fs::remove_dir_all(root).unwrap();
    }
}
