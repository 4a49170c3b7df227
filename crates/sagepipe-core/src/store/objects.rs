//! Inline objects: small S3 objects a step wrote (a `@step` function's pickled result and its
//! `results.json`), kept as rows of the store's database instead of files. A step's result then
//! costs no file, no directory and no unlink when gc deletes it, and it is written in the same
//! transaction as the step record that names it.
//!
//! An inline object is an S3 object like any other for every reader: `inline_object` answers
//! its bytes (Python's `_s3_objects.open_object` falls back to the file), and whatever needs the
//! file (job staging, the local S3 service, `Store::read_path`) first calls `materialize`, which
//! writes the objects at or under a URI as files and then drops their rows. From then on they are plain files, overwritten and deleted as such.

use std::fs;
use std::path::PathBuf;

use super::{db, util, write_atomic, ArtifactRecord, Store};
use crate::error::{CoreError, CoreResult};

/// The largest object kept inline; larger results are written as files by the runtime.
pub const INLINE_LIMIT: usize = 64 * 1024;

/// An object to keep inline: the path its file would have under the store root, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineObject {
    pub path: String,
    pub body: Vec<u8>,
}

/// Where a recorded artifact is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Kept in the store's database.
    Inline,
    /// At this path (which may or may not exist).
    File(PathBuf),
}

impl Store {
    /// The path, relative to the store root, that the file of the `s3://` object `uri` has (no
    /// trailing slash); an error for URIs outside the store's artifact area.
    pub fn object_key(&self, uri: &str) -> CoreResult<String> {
        let path = self.uri_to_path(uri)?;
        let outside = || CoreError::Validation(format!("'{uri}' is not an s3:// object of this store"));
        if !self.in_artifacts(&path) {
            return Err(outside());
        }
        let rel = path.strip_prefix(&self.root).map_err(|_| outside())?;
        let key = rel.to_str().ok_or_else(outside)?;
        Ok(key.trim_end_matches('/').to_string())
    }

    /// The bytes of the inline object `uri`, if it is one.
    pub fn inline_object(&self, uri: &str) -> CoreResult<Option<Vec<u8>>> {
        let Ok(key) = self.object_key(uri) else {
            return Ok(None);
        };
        self.reading(&key, None, |c| db::object(c, &key))
    }

    /// Write the inline objects at or under `uri` as files, then drop their rows: for readers
    /// that need files. A URI outside the artifact area has none.
    pub fn materialize(&self, uri: &str) -> CoreResult<()> {
        let Ok(key) = self.object_key(uri) else {
            return Ok(());
        };
        let objects = self.reading(&key, Vec::new(), |c| db::objects_under(c, &key))?;
        if objects.is_empty() {
            return Ok(());
        }
        for (path, body) in &objects {
            let file = self.root.join(path);
            // Through real directories only, as every write into the artifact area: checked
            // before the missing ones are made (none is made through a symlink) and after.
            let refused = |e: std::io::Error| CoreError::Validation(format!("'{path}' cannot be written: {e}"));
            self.check_artifact_path(&file).map_err(refused)?;
            if let Some(dir) = file.parent() {
                fs::create_dir_all(dir).map_err(|e| CoreError::store(dir, e))?;
            }
            self.check_artifact_path(&file).map_err(refused)?;
            write_atomic(&file, body)?;
        }
        // Rows written since (none: a step writes its objects once) would be dropped unseen, so
        // only the rows just written out go.
        self.writing(&key, |c| {
            for (path, _) in &objects {
                db::delete_objects_exact(c, path)?;
            }
            Ok(())
        })
    }

    /// Where the artifact `a` is now: inline (an inline artifact whose row is there), else the
    /// file its URI maps to (`None`: the URI maps to no place of this store).
    pub fn locate_artifact(&self, a: &ArtifactRecord) -> Option<Located> {
        if a.inline {
            if let Ok(key) = self.object_key(&a.uri) {
                if self.reading(&key, false, |c| db::has_object(c, &key)).unwrap_or(false) {
                    return Some(Located::Inline);
                }
            }
        }
        self.uri_to_path(&a.uri).ok().map(Located::File)
    }

    /// Delete the inline objects at or under each of `uris` (gc, with the artifacts' files), a
    /// few thousand URIs per transaction.
    pub(super) fn delete_inline_objects(&self, uris: &[String]) -> CoreResult<()> {
        let keys: Vec<String> = uris.iter().filter_map(|u| self.object_key(u).ok()).collect();
        if keys.is_empty() || self.db_for_read()?.is_none() {
            return Ok(());
        }
        self.bulk_deleting(|| {
            keys.chunks(4096).try_for_each(|chunk| {
                self.writing(&chunk[0], |c| {
                    chunk
                        .iter()
                        .try_for_each(|key| db::delete_objects_under(c, key).map(|_| ()))
                })
            })
        })
    }

    /// Write a step's record and its inline objects in one transaction.
    pub fn write_step_with_objects(
        &self,
        pipeline: &str,
        id: &str,
        step: &super::StepRecord,
        objects: &[InlineObject],
    ) -> CoreResult<()> {
        let path = super::logical::step(pipeline, id, &step.step_name);
        let bytes = self.encode(&path, step)?;
        let t = util::now();
        self.writing(&path, |c| {
            for o in objects {
                db::put_object(c, &o.path, &o.body, t)?;
            }
            db::put(c, &path, &bytes, t, None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("store");
        (dir, store)
    }

    fn step(name: &str) -> super::super::StepRecord {
        super::super::StepRecord {
            step_name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_inline_object_reads_as_an_object_until_it_becomes_a_file() {
        let (dir, store) = store();
        let key = store.object_key("s3://b/p/e/S/results/payload.pkl").expect("key");
        assert_eq!(key, "s3/b/p/e/S/results/payload.pkl");
        let objects = [InlineObject {
            path: key.clone(),
            body: b"pickled".to_vec(),
        }];
        store
            .write_step_with_objects("p", "e", &step("S"), &objects)
            .expect("write");
        assert_eq!(
            store.inline_object("s3://b/p/e/S/results/payload.pkl").expect("read"),
            Some(b"pickled".to_vec())
        );
        assert!(!dir.path().join(&key).exists(), "kept inline, no file");
        assert_eq!(store.inline_object("s3://b/p/e/S/results/other").expect("read"), None);
        // A reader that needs files gets them, for the object or any prefix above it.
        store.materialize("s3://b/p/e/").expect("materialize");
        assert_eq!(fs::read(dir.path().join(&key)).expect("file"), b"pickled");
        assert_eq!(
            store.inline_object("s3://b/p/e/S/results/payload.pkl").expect("read"),
            None
        );
    }

    #[test]
    fn an_inline_object_is_never_made_a_file_through_a_symlink() {
        let (dir, store) = store();
        let uri = "s3://b/e/S/results/payload.pkl";
        let objects = [InlineObject {
            path: store.object_key(uri).expect("key"),
            body: b"pickled".to_vec(),
        }];
        store
            .write_step_with_objects("p", "e", &step("S"), &objects)
            .expect("write");
        let elsewhere = tempfile::tempdir().expect("tmp");
        fs::create_dir_all(dir.path().join("s3/b")).expect("bucket");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("s3/b/e")).expect("symlink");
        let err = store.materialize(uri).expect_err("refused");
        assert!(err.to_string().contains("symlink"), "{err}");
        assert_eq!(
            fs::read_dir(elsewhere.path()).expect("dir").count(),
            0,
            "nothing written there"
        );
        assert!(store.inline_object(uri).expect("read").is_some(), "still kept inline");
    }

    #[test]
    fn a_prefix_takes_only_whole_path_segments() {
        let (_dir, store) = store();
        let objects = [
            InlineObject {
                path: store.object_key("s3://b/run-1/x").expect("key"),
                body: b"1".to_vec(),
            },
            InlineObject {
                path: store.object_key("s3://b/run-10/x").expect("key"),
                body: b"10".to_vec(),
            },
        ];
        store
            .write_step_with_objects("p", "e", &step("S"), &objects)
            .expect("write");
        store.delete_artifacts(&["s3://b/run-1".to_string()]).expect("delete");
        assert_eq!(store.inline_object("s3://b/run-1/x").expect("read"), None);
        assert_eq!(
            store.inline_object("s3://b/run-10/x").expect("read"),
            Some(b"10".to_vec())
        );
    }

    #[test]
    fn an_inline_artifact_is_located_in_the_database_then_as_its_file() {
        let (dir, store) = store();
        let uri = "s3://b/p/e/S/results/results.json";
        let key = store.object_key(uri).expect("key");
        store
            .write_step_with_objects(
                "p",
                "e",
                &step("S"),
                &[InlineObject {
                    path: key.clone(),
                    body: b"{}".to_vec(),
                }],
            )
            .expect("write");
        let a = ArtifactRecord {
            uri: uri.into(),
            size: 2,
            mtime_ns: 0,
            sha256: String::new(),
            inline: true,
        };
        assert_eq!(store.locate_artifact(&a), Some(Located::Inline));
        store.materialize(uri).expect("materialize");
        assert_eq!(store.locate_artifact(&a), Some(Located::File(dir.path().join(key))));
    }
}
