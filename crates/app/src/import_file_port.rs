//! The port of the import file area: the files of requirement imports (CSV, XLSX, ReqIF) wait
//! here, under the import's id, between the upload's dry run and its confirmation. They are
//! kept on disk rather than in the database so that a 50 MB upload is never held in memory
//! whole, nor written into (and read back out of) a database row: the web layer streams the
//! upload into a staged file and the ReqIF reader parses it from disk.

use async_trait::async_trait;
use opensesa_domain::ids::ImportId;
use std::path::{Path, PathBuf};

/// A file being uploaded, not yet an import's: only the store makes one, so a path that
/// reaches the application as an upload is always inside the staging area.
#[derive(Debug)]
pub struct StagedUpload {
    path: PathBuf,
}

impl StagedUpload {
    /// For implementations of [`ImportFileStore`] only.
    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
pub trait ImportFileStore: Send + Sync {
    /// A new, empty staged file for an upload to be written into.
    async fn stage(&self) -> std::io::Result<StagedUpload>;
    /// Makes a staged file the import's file (a rename: no copy).
    async fn keep(&self, staged: StagedUpload, id: ImportId) -> std::io::Result<()>;
    /// Writes `bytes` as the import's file (callers that hold the content already).
    async fn put(&self, id: ImportId, bytes: &[u8]) -> std::io::Result<()>;
    /// Moves an import's file to another import (a re-planned import takes over the file).
    async fn rename(&self, from: ImportId, to: ImportId) -> std::io::Result<()>;
    /// Where the import's file is.
    fn path(&self, id: ImportId) -> PathBuf;
    /// Removes the import's file; a missing file is not an error.
    async fn remove(&self, id: ImportId) -> std::io::Result<()>;
    /// Removes a staged file that did not become an import's (a refused upload).
    async fn discard(&self, staged: StagedUpload) -> std::io::Result<()>;
    /// Removes files and staged uploads older than `age`; returns how many.
    async fn prune(&self, age: std::time::Duration) -> std::io::Result<usize>;
}
