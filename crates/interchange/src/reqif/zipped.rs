//! `.reqifz`: a zip archive holding a `.reqif` file and its attachments.

use std::io::{self, Read, Seek};

use super::error::ReqifError;
use super::model::ReqifDocument;
use super::read;

pub(crate) fn read_reqifz(
    reader: impl Read + Seek,
    max_bytes: u64,
) -> Result<ReqifDocument, ReqifError> {
    let mut archive = zip::ZipArchive::new(reader)
        .map_err(|e| ReqifError::new(format!("not a readable .reqifz (zip) archive: {e}")))?;
    let index = (0..archive.len())
        .find(|&i| {
            let name = archive.name_for_index(i).and_then(|name| name.ok());
            name.is_some_and(|name| is_reqif_entry(&name))
        })
        .ok_or_else(|| ReqifError::new("the .reqifz archive contains no .reqif file"))?;
    let entry = archive
        .by_index(index)
        .map_err(|e| ReqifError::new(format!("cannot open the .reqif file in the archive: {e}")))?;
    let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
    let context = format!("{name} (in the .reqifz archive)");
    // The declared size can lie; it is checked here to fail fast and counted below for real.
    if entry.size() > max_bytes {
        return Err(too_large(max_bytes).context(&context));
    }
    let capped = Capped {
        inner: entry,
        read: 0,
        max_bytes,
    };
    read::parse(capped).map_err(|e| e.context(&context))
}

/// A `.reqif` entry, not a directory and not macOS resource-fork debris (`__MACOSX/`, `._*`).
fn is_reqif_entry(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    name.to_ascii_lowercase().ends_with(".reqif")
        && !name.starts_with("__MACOSX/")
        && !base.starts_with("._")
}

fn too_large(max_bytes: u64) -> ReqifError {
    ReqifError::new(format!(
        "the .reqif file is larger than {} MiB uncompressed; refusing to read it",
        max_bytes / (1024 * 1024)
    ))
}

/// Fails once more than `max_bytes` came out of the decompressor: a zip bomb stops here
/// instead of filling memory.
struct Capped<R> {
    inner: R,
    read: u64,
    max_bytes: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max_bytes {
            return Err(io::Error::other(too_large(self.max_bytes).message));
        }
        Ok(n)
    }
}
