//! Input files and the dataset's own files: the lock, listing the inputs, hashing them,
//! and what the manifest says was already ingested.

use super::{IngestError, Result, datastage, text};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An exclusive lock on a dataset directory, held for the whole ingest.
///
/// `<dataset>/.lock` is locked with the operating system's advisory file lock
/// (`flock` on Unix, `LockFileEx` on Windows) and holds `pid N` of the holder for the
/// error message. The OS releases the lock when the process ends, however it ends
/// (`kill -9`, abort, power loss), so a `.lock` file left behind by a dead ingest is
/// not a stale lock: the next ingest locks it again and proceeds. The file itself is
/// never deleted (deleting a lock file while another process has it open lets two
/// processes lock two different files).
pub struct Lock {
    _file: fs::File,
}

impl Lock {
    pub fn acquire(root: &Path) -> Result<Lock> {
        fs::create_dir_all(root).map_err(|e| IngestError::Read {
            path: root.into(),
            source: e,
        })?;
        let p = root.join(".lock");
        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(|e| IngestError::Read {
                path: p.clone(),
                source: e,
            })?;
        match f.try_lock() {
            Ok(()) => {
                let _ = f.set_len(0);
                let _ = writeln!(f, "pid {}", std::process::id());
                let _ = f.sync_all();
                Ok(Lock { _file: f })
            }
            Err(fs::TryLockError::WouldBlock) => {
                let who = fs::read_to_string(&p).unwrap_or_default();
                Err(IngestError::Locked(root.into(), who.trim().to_string()))
            }
            Err(fs::TryLockError::Error(e)) => Err(IngestError::Read { path: p, source: e }),
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(super) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lists input files: a file as is, a directory recursively (sorted, hidden skipped).
pub fn list_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    list_inputs_skipping(inputs).map(|(files, _)| files)
}

/// An entry of an input folder that is not listed as an input, and why.
pub type Unlisted = (PathBuf, String);

/// [`list_inputs`], with the entries that cannot be inputs and why: a symbolic link
/// that points to a folder it is in (a loop, not followed: it would list the same files
/// forever), a dangling link, an entry that cannot be read. They are reported as
/// skipped inputs; the rest of the run goes on.
pub fn list_inputs_skipping(inputs: &[PathBuf]) -> Result<(Vec<PathBuf>, Vec<Unlisted>)> {
    let mut out = vec![];
    let mut skipped = vec![];
    for p in inputs {
        if p.is_dir() {
            let walk = walkdir::WalkDir::new(p)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for e in walk {
                match e {
                    Ok(e) if e.file_type().is_dir() => {}
                    Ok(e) => out.push(e.into_path()),
                    Err(e) => {
                        let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone());
                        let reason = if let Some(a) = e.loop_ancestor() {
                            format!(
                                "symbolic link loop: points to {}, a folder it is in: not followed",
                                a.display()
                            )
                        } else if fs::symlink_metadata(&path)
                            .is_ok_and(|m| m.file_type().is_symlink())
                            && fs::metadata(&path).is_err()
                        {
                            format!(
                                "dangling symbolic link (to {}): nothing to read",
                                fs::read_link(&path)
                                    .map(|t| t.display().to_string())
                                    .unwrap_or_default()
                            )
                        } else {
                            format!("cannot read: {e}")
                        };
                        skipped.push((path, reason));
                    }
                }
            }
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(IngestError::Read {
                path: p.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    out.sort();
    out.dedup();
    skipped.sort();
    skipped.dedup();
    Ok((out, skipped))
}

pub(super) fn manifest_dir(root: &Path) -> PathBuf {
    root.join("_manifest")
}

/// What the manifest knows: the hashes of the files already ingested and, when every
/// record has one (its 4th column, written since the manifest had it), their sizes.
pub(super) struct Known {
    pub(super) hashes: HashSet<String>,
    pub(super) sizes: Option<HashSet<u64>>,
}

impl Known {
    /// Nothing known (a new dataset, or `--force`).
    pub(super) fn none() -> Known {
        Known {
            hashes: HashSet::new(),
            sizes: Some(HashSet::new()),
        }
    }
}

pub(super) fn known_files(root: &Path) -> Known {
    let text = fs::read_to_string(manifest_dir(root).join("files.tsv")).unwrap_or_default();
    let mut k = Known::none();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut cols = l.split('\t');
        if let Some(h) = cols.next() {
            k.hashes.insert(h.to_string());
        }
        match cols.nth(2).and_then(|b| b.trim().parse::<u64>().ok()) {
            Some(b) => {
                if let Some(sizes) = k.sizes.as_mut() {
                    sizes.insert(b);
                }
            }
            None => k.sizes = None,
        }
    }
    k
}

/// Whether a file's first 4 KiB are UTF-16 text ([`text::utf16_of`]).
pub(super) fn head_is_utf16(path: &Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let n = fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    text::utf16_of(&head[..n]).is_some()
}

/// SHA-256 and length of a file, read as a stream.
pub(super) fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        len += n as u64;
    }
    Ok((len, hex(&h.finalize())))
}

/// The Data Stage request a file belongs to: (folder, folio), from `<folio>_<tipo>.asc`.
pub(super) fn request_of(p: &Path) -> Option<(PathBuf, String)> {
    datastage::record_type_of(p)?;
    let stem = p.file_stem()?.to_str()?;
    let folio = stem.rsplit_once('_').map(|x| x.0).unwrap_or("");
    Some((
        p.parent().map(Path::to_path_buf).unwrap_or_default(),
        folio.to_string(),
    ))
}
