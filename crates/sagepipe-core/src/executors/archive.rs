//! Safe extraction of user-supplied `.tar.gz` archives (model artifacts, `sourcedir.tar.gz`).
//!
//! Every member is checked before anything is written, so a hostile archive fails whole and
//! names its first offending member instead of being half extracted. A member is refused when
//! its path is absolute or climbs with `..`, when it lies under a symlink of the same archive
//! (a link could point anywhere, so its children cannot be placed safely), when a symlink or
//! hard link points outside the extraction directory or through one of the archive's symlinks,
//! or when it is a device or FIFO.
//!
//! A tar bomb is refused the same way, before anything is written: an archive may unpack to at
//! most `max(1 GiB, 100 x its own size)` bytes of member data and hold at most 200,000 members
//! (`SAGEPIPE_MAX_UNPACK_BYTES` and `SAGEPIPE_MAX_UNPACK_MEMBERS` set other limits). Gzip packs
//! models and code 1-10 times; only padding (a bomb) packs 100 times and more.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

use crate::store::files;

/// Overrides the most bytes of member data one archive may unpack to.
pub const MAX_BYTES_ENV: &str = "SAGEPIPE_MAX_UNPACK_BYTES";
/// Overrides the most members one archive may hold.
pub const MAX_MEMBERS_ENV: &str = "SAGEPIPE_MAX_UNPACK_MEMBERS";
/// The default byte limit is this many times the archive's size...
const BYTES_PER_ARCHIVE_BYTE: u64 = 100;
/// ...and never less than this.
const MIN_MAX_BYTES: u64 = 1 << 30;
const DEFAULT_MAX_MEMBERS: u64 = 200_000;

/// How much one archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub bytes: u64,
    pub members: u64,
}

impl Limits {
    /// The limits for an archive of `size` bytes: the defaults, or what the environment says.
    pub fn for_archive(size: u64) -> io::Result<Limits> {
        Ok(Limits {
            bytes: env_limit(MAX_BYTES_ENV)?.unwrap_or(MIN_MAX_BYTES.max(size.saturating_mul(BYTES_PER_ARCHIVE_BYTE))),
            members: env_limit(MAX_MEMBERS_ENV)?.unwrap_or(DEFAULT_MAX_MEMBERS),
        })
    }
}

fn env_limit(var: &str) -> io::Result<Option<u64>> {
    match std::env::var(var) {
        Err(_) => Ok(None),
        Ok(text) => text.trim().parse::<u64>().map(Some).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{var}={text:?} is not a number: expected a whole number (bytes or members)"),
            )
        }),
    }
}

/// Unpack a gzipped tar into `dest` after checking that no member can land outside it and that
/// it stays within its `Limits`. The archive is opened without blocking and, unless `follow`,
/// without following a symlink (see `files::open_regular`).
pub fn unpack_tar_gz(archive: &Path, follow: bool, dest: &Path) -> io::Result<()> {
    let size = files::open_regular(archive, follow)?.metadata()?.len();
    unpack_within(archive, follow, dest, Limits::for_archive(size)?)
}

fn unpack_within(archive: &Path, follow: bool, dest: &Path, limits: Limits) -> io::Result<()> {
    check_members(archive, follow, limits)?;
    fs::create_dir_all(dest)?;
    let mut tar = open(archive, follow)?;
    tar.set_preserve_permissions(true);
    tar.unpack(dest)
}

fn open(archive: &Path, follow: bool) -> io::Result<tar::Archive<flate2::read::GzDecoder<File>>> {
    Ok(tar::Archive::new(flate2::read::GzDecoder::new(files::open_regular(
        archive, follow,
    )?)))
}

fn too_big(archive: &Path, what: String, var: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "archive {} {what}: a tar bomb? Nothing was unpacked; set {var} to allow more",
            archive.display()
        ),
    )
}

fn refused(member: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "archive member '{}' refused: {why}; members must be relative paths inside the \
             extraction directory",
            member.display()
        ),
    )
}

/// `path` made lexically normal (no `.`), or `None` when it is absolute or climbs above its root.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => normal.push(p),
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(normal)
}

/// Whether walking `target` component by component passes through one of `symlinks` before
/// its last component (a hard link may not even end on one): lexical checks assume real
/// directories, and `y -> .` then `x -> y/..` would otherwise leave the directory.
fn goes_through(target: &Path, symlinks: &HashSet<PathBuf>, including_last: bool) -> bool {
    let parts: Vec<Component> = target.components().collect();
    let mut walked = PathBuf::new();
    for (k, part) in parts.iter().enumerate() {
        match part {
            Component::Normal(p) => walked.push(p),
            Component::ParentDir => {
                walked.pop();
            }
            _ => {}
        }
        if (including_last || k + 1 < parts.len()) && symlinks.contains(&walked) {
            return true;
        }
    }
    false
}

/// Every member, checked with the whole archive's symlinks known (so member order does not matter).
/// Reading stops at the first member past the limits, so a bomb is never decompressed whole.
fn check_members(archive: &Path, follow: bool, limits: Limits) -> io::Result<()> {
    let mut members = Vec::new();
    let mut bytes: u64 = 0;
    for entry in open(archive, follow)?.entries()? {
        let entry = entry?;
        let raw = entry.path()?.into_owned();
        let kind = entry.header().entry_type();
        let link = entry.link_name()?.map(|l| l.into_owned());
        // A sparse member unpacks to its real size, more than the data it carries.
        let real_size = match (kind, entry.header().as_gnu()) {
            (EntryType::GNUSparse, Some(gnu)) => gnu.real_size()?,
            _ => 0,
        };
        bytes = bytes.saturating_add(entry.size().max(real_size));
        if bytes > limits.bytes {
            let what = format!(
                "unpacks to more than {} bytes (at member '{}')",
                limits.bytes,
                raw.display()
            );
            return Err(too_big(archive, what, MAX_BYTES_ENV));
        }
        members.push((raw, kind, link));
        if members.len() as u64 > limits.members {
            let what = format!("holds more than {} members", limits.members);
            return Err(too_big(archive, what, MAX_MEMBERS_ENV));
        }
    }
    let symlinks: HashSet<PathBuf> = members
        .iter()
        .filter(|(_, kind, _)| *kind == EntryType::Symlink)
        .filter_map(|(raw, _, _)| inside(raw))
        .collect();
    for (raw, kind, link) in &members {
        if raw.components().any(|c| c == Component::ParentDir) {
            return Err(refused(raw, "its path contains '..'"));
        }
        let path = inside(raw).ok_or_else(|| refused(raw, "its path is absolute"))?;
        if path.ancestors().skip(1).any(|a| symlinks.contains(a)) {
            return Err(refused(raw, "it lies under a symlink of the same archive"));
        }
        match kind {
            EntryType::Symlink | EntryType::Link => {
                let target = link.as_ref().ok_or_else(|| refused(raw, "a link without a target"))?;
                // A symlink's target is relative to its own directory; a hard link's to the root.
                let symlink = *kind == EntryType::Symlink;
                let joined = if symlink {
                    path.parent().unwrap_or(Path::new("")).join(target)
                } else {
                    target.clone()
                };
                if target.is_absolute() || inside(&joined).is_none() {
                    return Err(refused(
                        raw,
                        &format!("it links to '{}', outside the extraction directory", target.display()),
                    ));
                }
                if goes_through(&joined, &symlinks, !symlink) {
                    return Err(refused(raw, "its target goes through a symlink of the same archive"));
                }
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(refused(raw, "device and FIFO members are not extracted"));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Member<'a> {
        File(&'a str),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
        HardLink(&'a str, &'a str),
        Fifo(&'a str),
    }

    /// Headers are written raw (`set_path` would refuse the hostile names we need).
    fn archive(dir: &Path, members: &[Member]) -> PathBuf {
        let path = dir.join("model.tar.gz");
        let gz = flate2::write::GzEncoder::new(File::create(&path).expect("create"), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for member in members {
            let mut header = tar::Header::new_gnu();
            let (name, kind, link, data): (&str, EntryType, Option<&str>, &[u8]) = match member {
                Member::File(n) => (n, EntryType::Regular, None, b"payload"),
                Member::Dir(n) => (n, EntryType::Directory, None, b""),
                Member::Symlink(n, t) => (n, EntryType::Symlink, Some(t), b""),
                Member::HardLink(n, t) => (n, EntryType::Link, Some(t), b""),
                Member::Fifo(n) => (n, EntryType::Fifo, None, b""),
            };
            let gnu = header.as_gnu_mut().expect("gnu header");
            gnu.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(t) = link {
                gnu.linkname[..t.len()].copy_from_slice(t.as_bytes());
            }
            header.set_entry_type(kind);
            header.set_mode(0o644);
            header.set_size(data.len() as u64);
            header.set_cksum();
            tar.append(&header, data).expect("append");
        }
        tar.into_inner().expect("finish").finish().expect("gz");
        path
    }

    fn files_under(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).expect("read_dir") {
                let p = e.expect("entry").path();
                out.push(p.strip_prefix(root).expect("prefix").display().to_string());
                if p.is_dir() && !p.is_symlink() {
                    stack.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn escaping_members_are_refused_before_anything_is_written() {
        use Member::*;
        let cases: Vec<(&str, Vec<Member>, &str)> = vec![
            ("dotdot", vec![File("ok.txt"), File("../escape.txt")], "'../escape.txt'"),
            (
                "nested dotdot",
                vec![File("a/../../escape.txt")],
                "'a/../../escape.txt'",
            ),
            ("absolute", vec![File("/tmp/sagepipe-escape.txt")], "absolute"),
            ("symlink out", vec![Symlink("link", "../../etc")], "'../../etc'"),
            ("absolute symlink", vec![Symlink("link", "/etc")], "'/etc'"),
            (
                "through symlink",
                vec![Symlink("a", "."), Symlink("a/b", ".."), File("a/b/x")],
                "under a symlink",
            ),
            (
                "file under symlink",
                vec![Symlink("d", "sub"), File("d/x")],
                "under a symlink",
            ),
            ("hard link out", vec![HardLink("h", "../outside")], "'../outside'"),
            (
                "hard link via symlink",
                vec![Symlink("s", "sub"), HardLink("h", "s/x")],
                "through a symlink",
            ),
            ("fifo", vec![Fifo("pipe")], "FIFO"),
        ];
        for (label, members, culprit) in cases {
            let tmp = tempfile::tempdir().expect("tmp");
            let tar = archive(tmp.path(), &members);
            let dest = tmp.path().join("box/dest");
            let err = unpack_tar_gz(&tar, false, &dest).expect_err(label);
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{label}");
            assert!(err.to_string().contains(culprit), "{label}: {err}");
            assert!(!dest.exists(), "{label}: nothing may be written");
            assert_eq!(files_under(tmp.path()), vec!["model.tar.gz"], "{label}");
        }
    }

    #[test]
    fn links_and_dirs_that_stay_inside_are_extracted() {
        use Member::*;
        let tmp = tempfile::tempdir().expect("tmp");
        let tar = archive(
            tmp.path(),
            &[
                Dir("sub/"),
                File("sub/model.bin"),
                File("./top.txt"),
                Symlink("sub/alias", "../top.txt"),
                HardLink("copy.bin", "sub/model.bin"),
            ],
        );
        let dest = tmp.path().join("dest");
        unpack_tar_gz(&tar, false, &dest).expect("unpack");
        assert_eq!(fs::read(dest.join("sub/alias")).expect("via link"), b"payload");
        assert_eq!(fs::read(dest.join("copy.bin")).expect("hard link"), b"payload");
        assert_eq!(
            files_under(&dest),
            vec!["copy.bin", "sub", "sub/alias", "sub/model.bin", "top.txt"]
        );
    }

    #[test]
    fn a_corrupt_archive_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("model.tar.gz");
        fs::write(&path, b"\x1f\x8bnot really gzip").expect("write");
        assert!(unpack_tar_gz(&path, false, &tmp.path().join("dest")).is_err());
    }

    /// A gzipped tar of `count` members of `size` zero bytes each.
    fn zeros(dir: &Path, count: usize, size: usize) -> PathBuf {
        let path = dir.join("sourcedir.tar.gz");
        let gz = flate2::write::GzEncoder::new(File::create(&path).expect("create"), flate2::Compression::best());
        let mut tar = tar::Builder::new(gz);
        let data = vec![0u8; size];
        for i in 0..count {
            let mut header = tar::Header::new_gnu();
            header.set_size(size as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, format!("f{i}"), &data[..])
                .expect("append");
        }
        tar.into_inner().expect("finish").finish().expect("gz");
        path
    }

    #[test]
    fn archives_past_their_limits_are_refused_before_anything_is_written() {
        let tmp = tempfile::tempdir().expect("tmp");
        let bomb = zeros(tmp.path(), 4, 1 << 20);
        let small = fs::metadata(&bomb).expect("meta").len();
        assert!(small < (1 << 16), "4 MiB of zeros pack small: {small}");
        let dest = tmp.path().join("dest");
        let limits = Limits {
            bytes: 3 << 20,
            members: 100,
        };
        let err = unpack_within(&bomb, false, &dest, limits).expect_err("bytes");
        let text = err.to_string();
        assert!(
            text.contains("sourcedir.tar.gz unpacks to more than 3145728 bytes (at member 'f3')"),
            "{text}"
        );
        assert!(text.contains(MAX_BYTES_ENV), "{text}");
        assert!(!dest.exists());
        let many = Limits {
            bytes: 8 << 20,
            members: 3,
        };
        let err = unpack_within(&bomb, false, &dest, many).expect_err("members");
        assert!(err.to_string().contains("holds more than 3 members"), "{err}");
        assert!(err.to_string().contains(MAX_MEMBERS_ENV), "{err}");
        assert!(!dest.exists());
        unpack_within(
            &bomb,
            false,
            &dest,
            Limits {
                bytes: 4 << 20,
                members: 4,
            },
        )
        .expect("at the limits");
        assert_eq!(fs::metadata(dest.join("f3")).expect("f3").len(), 1 << 20);
    }

    #[test]
    fn default_limits_grow_with_the_archive_and_have_a_floor() {
        // Read without the environment overrides (tests do not set them).
        assert_eq!(Limits::for_archive(1000).expect("limits").bytes, MIN_MAX_BYTES);
        let big = 50 * MIN_MAX_BYTES;
        assert_eq!(
            Limits::for_archive(big).expect("limits").bytes,
            big * BYTES_PER_ARCHIVE_BYTE
        );
        assert_eq!(Limits::for_archive(u64::MAX).expect("limits").bytes, u64::MAX);
        assert_eq!(Limits::for_archive(0).expect("limits").members, DEFAULT_MAX_MEMBERS);
    }
}
