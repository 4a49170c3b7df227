//! Artifact fingerprints: what a file or directory tree held when a step produced or reused it
//! (size, newest mtime, content hash), so a later run can tell cheaply whether it changed.

use std::path::{Path, PathBuf};

use super::{files, ArtifactRecord};
use crate::util;

/// The record of the artifact at `path` (named `uri`), or None if it has no fingerprint.
pub fn artifact_at(path: &Path, uri: &str) -> Option<ArtifactRecord> {
    fingerprint(path).map(|(size, mtime_ns, sha256)| ArtifactRecord {
        uri: uri.to_string(),
        size,
        mtime_ns,
        sha256,
        inline: false,
    })
}

/// `(total size, newest mtime in ns, sha256)` of a file or a directory tree. Nothing is
/// followed: a symlink or special file inside a tree is hashed as what it is (so adding one
/// changes the hash) and its target is never read; a path that is itself one has no fingerprint.
pub fn fingerprint(path: &Path) -> Option<(u64, i128, String)> {
    let tree = tree_stat(path)?;
    let Some(entries) = tree.entries else {
        let file = files::open_regular(path, false).ok()?;
        return Some((tree.size, tree.newest, util::sha256_reader(file).ok()?));
    };
    let mut listing = String::new();
    for (rel, special) in &entries {
        let content = match special {
            Some(kind) => format!("({kind})"),
            None => util::sha256_reader(files::open_regular(&path.join(rel), false).ok()?).ok()?,
        };
        listing.push_str(&format!("{}\0{content}\n", rel.display()));
    }
    Some((tree.size, tree.newest, util::sha256_hex(listing.as_bytes())))
}

/// `(total size, newest mtime in ns)` of a file or a directory tree, from metadata only: the
/// cheap half of `fingerprint`, enough to tell that nothing changed since it was taken.
pub fn quick_stat(path: &Path) -> Option<(u64, i128)> {
    tree_stat(path).map(|t| (t.size, t.newest))
}

/// The first entry of an artifact that is neither a regular file nor a directory, as
/// `(path relative to the artifact, what it is)`; the artifact itself is one when the path is empty.
pub fn special_entry(path: &Path) -> Option<(PathBuf, &'static str)> {
    let Some(tree) = tree_stat(path) else {
        let meta = std::fs::symlink_metadata(path).ok()?;
        return files::special_kind(&meta).map(|kind| (PathBuf::new(), kind));
    };
    tree.entries?
        .into_iter()
        .find_map(|(rel, special)| special.map(|kind| (rel, kind)))
}

/// What one metadata walk (`lstat`, nothing followed) of a file or directory tree finds.
struct TreeStat {
    size: u64,
    /// The newest mtime of the tree's entries: a rename or removal inside a subdirectory moves
    /// only that directory's mtime.
    newest: i128,
    /// The entries of a directory other than directories, relative to it, in path order, with
    /// what each is when it is not a regular file (None for a plain file).
    entries: Option<Vec<(PathBuf, Option<&'static str>)>>,
}

/// None for a path that is missing or is neither a regular file nor a directory.
fn tree_stat(path: &Path) -> Option<TreeStat> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut tree = TreeStat {
        size: 0,
        newest: mtime_ns(&meta),
        entries: None,
    };
    if meta.is_file() {
        tree.size = meta.len();
        return Some(tree);
    }
    if !meta.is_dir() {
        return None;
    }
    let mut entries = Vec::new();
    walk_tree(path, path, &mut tree, &mut entries)?;
    entries.sort();
    tree.entries = Some(entries);
    Some(tree)
}

fn walk_tree(
    base: &Path,
    dir: &Path,
    tree: &mut TreeStat,
    entries: &mut Vec<(PathBuf, Option<&'static str>)>,
) -> Option<()> {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        let meta = entry.metadata().ok()?; // lstat: the entry itself
        tree.newest = tree.newest.max(mtime_ns(&meta));
        if meta.is_dir() {
            walk_tree(base, &p, tree, entries)?;
            continue;
        }
        if meta.is_file() {
            tree.size += meta.len();
        }
        if let Ok(rel) = p.strip_prefix(base) {
            entries.push((rel.to_path_buf(), files::special_kind(&meta)));
        }
    }
    Some(())
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i128 {
    use std::os::unix::fs::MetadataExt;
    i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
}
