//! The filesystem rules of artifacts and job outputs. Only regular files and directories are
//! stored, staged, packed or hashed: a symlink, FIFO, socket or device is refused, naming it.
//! A path inside the artifact area is never resolved through a symlink (`lstat` walks,
//! `O_NOFOLLOW` opens), nothing ever blocks opening a special file (`O_NONBLOCK`, then the
//! opened file's type is checked), and a merge into the store never deletes what it did not
//! write: a file where the store has a directory (or the reverse) fails the merge before
//! anything moves.
//!
//! Paths in messages are named by a label: an S3 URI for the store, the container path a job
//! knows (`/opt/ml/processing/evaluation/...`) for its outputs.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, ErrorKind};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What to say about an entry that is neither a regular file nor a directory (None for those).
pub fn special_kind(meta: &Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_symlink() {
        Some("a symlink")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

fn refused(name: &str, kind: &str) -> io::Error {
    io::Error::new(
        ErrorKind::InvalidData,
        format!("{name} is {kind}; artifacts and job outputs may hold only regular files and directories"),
    )
}

/// `rel` under `label` as messages show it (`s3://b/k` + `x/y` -> `s3://b/k/x/y`).
pub fn shown(label: &str, rel: &Path) -> String {
    if rel.as_os_str().is_empty() {
        label.to_string()
    } else if label.ends_with('/') {
        format!("{label}{}", rel.display())
    } else {
        format!("{label}/{}", rel.display())
    }
}

/// Open a regular file for reading. Never blocks: the type is checked before the open, the
/// open itself is `O_NONBLOCK` (a FIFO swapped in meanwhile opens at once), and the opened
/// file's type is checked again. Unless `follow`, a symlink is refused, never resolved.
pub fn open_regular(path: &Path, follow: bool) -> io::Result<File> {
    let name = path.display().to_string();
    let before = if follow {
        fs::metadata(path)?
    } else {
        fs::symlink_metadata(path)?
    };
    if !before.is_file() {
        return Err(refused(&name, special_kind(&before).unwrap_or("a directory")));
    }
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) if !follow => refused(&name, "a symlink"),
            _ => e,
        })?;
    let opened = file.metadata()?;
    if !opened.is_file() {
        return Err(refused(&name, special_kind(&opened).unwrap_or("a directory")));
    }
    Ok(file)
}

/// Check that reaching `path` from `base` passes no symlink and no file where a directory must
/// be, component by component with `lstat` (the last component may be a file; components that
/// do not exist yet end the check). `label` is how messages name `base`. Paths outside `base`
/// are not checked.
pub fn check_path_below(base: &Path, label: &str, path: &Path) -> io::Result<()> {
    check_path_below_seen(base, label, path, &mut Checked::default()).map(|_| ())
}

/// What the calls of one batch of `check_path_below_seen` found: directories that passed, and
/// paths that do not exist (so neither does anything under them: a batch that only deletes
/// never makes one). Keyed by the path's bytes: hashing a `Path` walks its components.
#[derive(Default)]
pub struct Checked {
    dirs: HashSet<OsString>,
    missing: HashSet<OsString>,
}

/// `check_path_below`, skipping what `checked` holds from earlier calls of the same batch and
/// adding what it finds. Whether all of `path` exists.
pub fn check_path_below_seen(base: &Path, label: &str, path: &Path, checked: &mut Checked) -> io::Result<bool> {
    let Ok(rest) = path.strip_prefix(base) else {
        return Ok(true);
    };
    let parts: Vec<_> = rest.components().collect();
    let mut at = base.to_path_buf();
    let mut rel = PathBuf::new();
    for (k, part) in parts.iter().enumerate() {
        at.push(part);
        rel.push(part);
        if checked.dirs.contains(at.as_os_str()) {
            continue;
        }
        if checked.missing.contains(at.as_os_str()) {
            return Ok(false);
        }
        let meta = match fs::symlink_metadata(&at) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                checked.missing.insert(at.into_os_string());
                return Ok(false);
            }
            Err(e) => return Err(e),
            Ok(m) => m,
        };
        if meta.file_type().is_symlink() {
            return Err(refused(&shown(label, &rel), "a symlink"));
        }
        if k + 1 < parts.len() && !meta.is_dir() {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "{} is a file, so nothing can be stored or read under it (on S3 a key and a prefix of the \
                     same name can coexist; a local store cannot hold both)",
                    shown(label, &rel)
                ),
            ));
        }
        if meta.is_dir() {
            checked.dirs.insert(at.as_os_str().to_owned());
        }
    }
    Ok(true)
}

/// Check that `path` (a file, or a directory tree) holds only regular files and directories,
/// without following anything. `label` is how messages name `path`.
pub fn check_tree(path: &Path, label: &str) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if let Some(kind) = special_kind(&meta) {
        return Err(refused(label, kind));
    }
    if meta.is_dir() {
        check_dir(path, label, Path::new(""))?;
    }
    Ok(())
}

fn check_dir(dir: &Path, label: &str, rel: &Path) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let sub = rel.join(entry.file_name());
        let meta = entry.metadata()?; // lstat: a directory entry's own metadata
        if let Some(kind) = special_kind(&meta) {
            return Err(refused(&shown(label, &sub), kind));
        }
        if meta.is_dir() {
            check_dir(&entry.path(), label, &sub)?;
        }
    }
    Ok(())
}

/// Copy a regular file (see `open_regular`), keeping its permission bits.
pub fn copy_file(from: &Path, to: &Path, follow: bool) -> io::Result<()> {
    let mut src = open_regular(from, follow)?;
    let mode = src.metadata()?.permissions().mode();
    let mut dest = File::create(to)?;
    io::copy(&mut src, &mut dest)?;
    dest.set_permissions(fs::Permissions::from_mode(mode & 0o7777))
}

/// Copy a file, or a directory tree into `dest` (created). Unless `follow`, any symlink is
/// refused; special files always are. `label` is how messages name `src`.
pub fn copy_tree(src: &Path, dest: &Path, follow: bool, label: &str) -> io::Result<()> {
    let meta = if follow {
        fs::metadata(src)?
    } else {
        fs::symlink_metadata(src)?
    };
    if meta.is_dir() {
        fs::create_dir_all(dest)?;
        let mut entries: Vec<_> = fs::read_dir(src)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            copy_tree(
                &entry.path(),
                &dest.join(&name),
                follow,
                &shown(label, Path::new(&name)),
            )?;
        }
        Ok(())
    } else if meta.is_file() {
        copy_file(src, dest, follow).map_err(|e| relabel(e, src, label))
    } else {
        Err(refused(label, special_kind(&meta).unwrap_or("not a regular file")))
    }
}

/// An error about `path` named by its host path, renamed to `label`.
fn relabel(e: io::Error, path: &Path, label: &str) -> io::Error {
    let text = e.to_string();
    let host = path.display().to_string();
    if text.contains(&host) {
        io::Error::new(e.kind(), text.replace(&host, label))
    } else {
        e
    }
}

/// Move the job output `src` (a directory holding only regular files and directories) into
/// `dest`, merging with what is there as an S3 upload adds and replaces keys: a file replaces a
/// file; a directory merges into a directory. A file where `dest` has a directory, a directory
/// where it has a file, or a symlink or special file at `dest` fails the whole merge before
/// anything moves, so nothing is deleted that the output did not write. Labels name `src` and
/// `dest` in messages.
pub fn merge_move(src: &Path, src_label: &str, dest: &Path, dest_label: &str) -> io::Result<()> {
    check_tree(src, src_label)?;
    check_merge(src, dest, src_label, dest_label, Path::new(""))?;
    move_into(src, dest)
}

/// What is at `path`, without following it (None when nothing is).
fn entry_at(path: &Path) -> io::Result<Option<Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn check_merge(src: &Path, dest: &Path, src_label: &str, dest_label: &str, rel: &Path) -> io::Result<()> {
    let src_is_dir = fs::symlink_metadata(src)?.is_dir();
    let Some(there) = entry_at(dest)? else {
        return Ok(());
    };
    let (ours, theirs) = (shown(src_label, rel), shown(dest_label, rel));
    if let Some(kind) = special_kind(&there) {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("{theirs} is {kind}; nothing is written through or over it (writing {ours})"),
        ));
    }
    match (src_is_dir, there.is_dir()) {
        (false, true) | (true, false) => {
            let (what, other) = if src_is_dir {
                ("directory", "file")
            } else {
                ("file", "directory")
            };
            Err(io::Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "the {what} {ours} would replace the {other} {theirs}, which it did not write (on S3 a key and \
                     a prefix of the same name can coexist; a local store cannot hold both); nothing was stored: \
                     write to another S3Uri or rename the {what}"
                ),
            ))
        }
        (false, false) => Ok(()),
        (true, true) => {
            let mut entries: Vec<_> = fs::read_dir(src)?.collect::<Result<_, _>>()?;
            entries.sort_by_key(|e| e.file_name());
            for entry in entries {
                let name = entry.file_name();
                check_merge(
                    &entry.path(),
                    &dest.join(&name),
                    src_label,
                    dest_label,
                    &rel.join(&name),
                )?;
            }
            Ok(())
        }
    }
}

/// The moves of a checked merge: whole subtrees are renamed where `dest` has nothing.
fn move_into(src: &Path, dest: &Path) -> io::Result<()> {
    let src_meta = fs::symlink_metadata(src)?;
    match entry_at(dest)? {
        None => {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            rename_or_copy(src, dest)
        }
        Some(there) if there.is_dir() && src_meta.is_dir() => {
            for entry in fs::read_dir(src)? {
                let entry = entry?;
                move_into(&entry.path(), &dest.join(entry.file_name()))?;
            }
            Ok(())
        }
        Some(there) if there.is_file() && src_meta.is_file() => rename_or_copy(src, dest),
        Some(_) => Err(io::Error::new(
            ErrorKind::AlreadyExists,
            format!("{} changed while it was being stored", dest.display()),
        )),
    }
}

/// Rename, or copy where `dest` is on another filesystem (a `file://` output elsewhere): a
/// file is copied next to `dest` and renamed over it, so `dest` is never seen half written.
fn rename_or_copy(src: &Path, dest: &Path) -> io::Result<()> {
    match fs::rename(src, dest) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            if fs::symlink_metadata(src)?.is_dir() {
                copy_tree(src, dest, false, &src.display().to_string())
            } else {
                let name = dest.file_name().unwrap_or_default().to_string_lossy();
                let tmp = dest.with_file_name(format!(".{name}.sagepipe-partial.{}", std::process::id()));
                let copied = copy_file(src, &tmp, false).and_then(|_| fs::rename(&tmp, dest));
                if copied.is_err() {
                    let _ = fs::remove_file(&tmp);
                }
                copied
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_batch_remembers_what_is_missing_and_what_passed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let base = dir.path();
        fs::create_dir_all(base.join("b/run")).expect("dirs");
        let mut checked = Checked::default();
        assert!(check_path_below_seen(base, "s3://", &base.join("b/run"), &mut checked).expect("passes"));
        assert!(!check_path_below_seen(base, "s3://", &base.join("b/gone/x"), &mut checked).expect("passes"));
        assert!(checked.missing.contains(base.join("b/gone").as_os_str()));
        // Within the batch, what was missing stays so and what passed is not looked at again
        // (a batch only deletes): neither a new directory nor a new symlink is seen.
        fs::create_dir_all(base.join("b/gone/x")).expect("dirs");
        assert!(!check_path_below_seen(base, "s3://", &base.join("b/gone/x/y"), &mut checked).expect("passes"));
        // A new batch looks again, and refuses a symlink on the way.
        fs::remove_dir(base.join("b/run")).expect("rmdir");
        symlink(base.join("b/gone"), base.join("b/run")).expect("a symlink");
        assert!(check_path_below_seen(base, "s3://", &base.join("b/run/x"), &mut checked).expect("remembered"));
        let err = check_path_below_seen(base, "s3://", &base.join("b/run/x"), &mut Checked::default());
        assert!(err.expect_err("a symlink").to_string().contains("symlink"));
    }

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    }

    #[test]
    fn opening_a_fifo_or_symlink_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let fifo = dir.path().join("evaluation.json");
        mkfifo(&fifo);
        let err = open_regular(&fifo, true).expect_err("fifo");
        assert!(err.to_string().contains("is a FIFO"), "{err}");
        let host = dir.path().join("host.txt");
        fs::write(&host, b"secret").expect("write");
        let link = dir.path().join("link");
        symlink(&host, &link).expect("symlink");
        assert!(open_regular(&link, false)
            .expect_err("symlink")
            .to_string()
            .contains("is a symlink"));
        assert!(open_regular(&link, true).is_ok());
        assert!(open_regular(dir.path(), true).is_err());
    }

    #[test]
    fn paths_through_symlinks_or_files_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let base = dir.path().join("s3");
        fs::create_dir_all(base.join("b/real")).expect("mkdir");
        fs::write(base.join("b/file"), b"x").expect("write");
        symlink(dir.path(), base.join("b/link")).expect("symlink");
        assert!(check_path_below(&base, "s3://", &base.join("b/real/new/x")).is_ok());
        let err = check_path_below(&base, "s3://", &base.join("b/link/x")).expect_err("link");
        assert!(err.to_string().starts_with("s3://b/link is a symlink"), "{err}");
        assert!(check_path_below(&base, "s3://", &base.join("b/link")).is_err());
        let err = check_path_below(&base, "s3://", &base.join("b/file/x")).expect_err("file");
        assert!(err.to_string().starts_with("s3://b/file is a file"), "{err}");
        assert!(check_path_below(&base, "s3://", &base.join("b/file")).is_ok());
    }

    #[test]
    fn trees_with_special_entries_are_refused_naming_them() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("out");
        fs::create_dir_all(out.join("sub")).expect("mkdir");
        fs::write(out.join("sub/a.txt"), b"a").expect("write");
        assert!(check_tree(&out, "/opt/ml/processing/out").is_ok());
        mkfifo(&out.join("sub/pipe"));
        let err = check_tree(&out, "/opt/ml/processing/out").expect_err("fifo");
        assert_eq!(
            err.to_string(),
            "/opt/ml/processing/out/sub/pipe is a FIFO; artifacts and job outputs may hold only regular files and \
             directories"
        );
        let err = copy_tree(&out, &dir.path().join("copy"), true, "s3://b/out").expect_err("copy");
        assert!(err.to_string().starts_with("s3://b/out/sub/pipe is a FIFO"), "{err}");
    }

    #[test]
    fn copies_keep_permissions_and_never_follow_unless_asked() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = dir.path().join("src");
        fs::create_dir_all(&src).expect("mkdir");
        fs::write(src.join("run.sh"), b"#!/bin/sh\n").expect("write");
        fs::set_permissions(src.join("run.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::write(dir.path().join("host.txt"), b"host").expect("write");
        copy_tree(&src, &dir.path().join("a"), false, "s3://b/src").expect("copy");
        let mode = fs::metadata(dir.path().join("a/run.sh"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        symlink(dir.path().join("host.txt"), src.join("link")).expect("symlink");
        let err = copy_tree(&src, &dir.path().join("b"), false, "s3://b/src").expect_err("link");
        assert!(err.to_string().starts_with("s3://b/src/link is a symlink"), "{err}");
        copy_tree(&src, &dir.path().join("c"), true, "/data/src").expect("follow");
        assert_eq!(fs::read(dir.path().join("c/link")).expect("read"), b"host");
    }

    #[test]
    fn merges_replace_files_and_refuse_clashes_before_moving_anything() {
        let dir = tempfile::tempdir().expect("tmp");
        let dest = dir.path().join("dest");
        fs::create_dir_all(dest.join("x")).expect("mkdir");
        fs::write(dest.join("x/keep.txt"), b"kept").expect("write");
        fs::write(dest.join("a.txt"), b"old").expect("write");
        // An output with a new file, a replaced file and a file named like the directory x.
        let out = dir.path().join("out");
        fs::create_dir_all(&out).expect("mkdir");
        fs::write(out.join("a.txt"), b"new").expect("write");
        fs::write(out.join("b.txt"), b"b").expect("write");
        fs::write(out.join("x"), b"clash").expect("write");
        let err = merge_move(&out, "/opt/ml/processing/out", &dest, "s3://b/dest").expect_err("clash");
        assert!(
            err.to_string()
                .starts_with("the file /opt/ml/processing/out/x would replace the directory s3://b/dest/x"),
            "{err}"
        );
        assert_eq!(fs::read(dest.join("x/keep.txt")).expect("kept"), b"kept");
        assert_eq!(fs::read(dest.join("a.txt")).expect("old"), b"old");
        assert!(!dest.join("b.txt").exists());
        // The reverse clash: a directory where the store has a file.
        fs::remove_file(out.join("x")).expect("rm");
        fs::create_dir_all(out.join("a.txt.d")).expect("mkdir");
        fs::write(dest.join("a.txt.d"), b"file").expect("write");
        let err = merge_move(&out, "/opt/ml/processing/out", &dest, "s3://b/dest").expect_err("clash");
        assert!(err.to_string().starts_with("the directory"), "{err}");
        fs::remove_file(dest.join("a.txt.d")).expect("rm");
        merge_move(&out, "/opt/ml/processing/out", &dest, "s3://b/dest").expect("merge");
        assert_eq!(fs::read(dest.join("a.txt")).expect("new"), b"new");
        assert_eq!(fs::read(dest.join("x/keep.txt")).expect("kept"), b"kept");
        assert!(dest.join("b.txt").is_file() && dest.join("a.txt.d").is_dir());
    }

    #[test]
    fn merges_never_write_through_a_symlink_in_the_store() {
        let dir = tempfile::tempdir().expect("tmp");
        let host = dir.path().join("host");
        fs::create_dir_all(&host).expect("mkdir");
        let dest = dir.path().join("dest");
        fs::create_dir_all(&dest).expect("mkdir");
        symlink(&host, dest.join("sub")).expect("symlink");
        let out = dir.path().join("out");
        fs::create_dir_all(out.join("sub")).expect("mkdir");
        fs::write(out.join("sub/f.txt"), b"f").expect("write");
        let err = merge_move(&out, "/opt/ml/out", &dest, "s3://b/dest").expect_err("link");
        assert!(err.to_string().starts_with("s3://b/dest/sub is a symlink"), "{err}");
        assert_eq!(fs::read_dir(&host).expect("host").count(), 0);
        // A symlink in the output itself is refused too, and nothing moves.
        fs::remove_file(dest.join("sub")).expect("rm");
        symlink(&host, out.join("escape")).expect("symlink");
        let err = merge_move(&out, "/opt/ml/out", &dest, "s3://b/dest").expect_err("link");
        assert!(err.to_string().starts_with("/opt/ml/out/escape is a symlink"), "{err}");
        assert!(!dest.join("sub").exists());
    }
}
