//! The job filesystem contract without Docker: each job sees `/opt/ml` as its own directory.
//!
//! On Linux a job's child process enters a new user + mount namespace between fork and exec;
//! there the real `/opt` is bound to a scratch path, a tmpfs is mounted on `/opt`, each original
//! child of `/opt` is bound back (so `/opt/conda` and friends stay visible), and the job's own
//! directory is bound onto `/opt/ml`. Nothing else changes, so the user's interpreter and packages
//! work. Where namespaces are not available (or `SAGEPIPE_SANDBOX=paths` asks so), jobs run with
//! their `/opt/ml` paths rewritten to the job's directory instead; see `Isolation`.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// Where jobs expect their files.
pub const CONTAINER_ML: &str = "/opt/ml";
/// Set to `paths` to run jobs without namespaces (as on a system that has none).
pub const SANDBOX_ENV: &str = "SAGEPIPE_SANDBOX";

/// How a job's `/opt/ml` is provided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// A private mount namespace: `/opt/ml` is the job's directory.
    Namespace,
    /// No namespaces: the job's paths are rewritten from `/opt/ml` to its directory; `why` says
    /// why namespaces are not used.
    Paths { why: String },
}

impl Isolation {
    pub fn is_namespace(&self) -> bool {
        matches!(self, Isolation::Namespace)
    }
}

/// The isolation jobs get: namespaces if this process can create them (probed once), unless
/// `SAGEPIPE_SANDBOX=paths` forces the fallback.
pub fn isolation() -> Isolation {
    if std::env::var(SANDBOX_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("paths")) {
        return Isolation::Paths {
            why: format!("{SANDBOX_ENV}=paths is set"),
        };
    }
    static PROBE: OnceLock<Isolation> = OnceLock::new();
    PROBE.get_or_init(probe).clone()
}

fn probe() -> Isolation {
    if !cfg!(target_os = "linux") {
        return Isolation::Paths {
            why: "mount namespaces are a Linux feature".into(),
        };
    }
    if !Path::new("/opt").is_dir() {
        return Isolation::Paths {
            why: "this system has no /opt directory to overlay".into(),
        };
    }
    let result = (|| -> io::Result<()> {
        let dir = tempdir_for_probe()?;
        let dirs = JobDirs::create(&dir.join("job"), &dir, None)?;
        let spec = Launch {
            program: PathBuf::from("/bin/sh"),
            args: vec!["-c".into(), "test -d /opt/ml".into()],
            env: vec![],
            cwd: dirs.work.clone(),
        };
        let status = spawn(&dirs, true, &spec, Stdio::null(), Stdio::null())
            .and_then(|mut c| {
                let status = c.wait();
                super::proc::forget_group(c.id() as i32);
                status
            })
            .map_err(|e| io::Error::new(e.kind(), format!("cannot enter a user + mount namespace: {e}")));
        let _ = fs::remove_dir_all(&dir);
        if status?.success() {
            Ok(())
        } else {
            Err(io::Error::other("/opt/ml was not visible inside the namespace"))
        }
    })();
    match result {
        Ok(()) => Isolation::Namespace,
        Err(e) => Isolation::Paths { why: e.to_string() },
    }
}

fn tempdir_for_probe() -> io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "sagepipe-probe-{}-{}",
        std::process::id(),
        super::util::new_id()
    ));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A job's directories on the host: `ml` (seen as `/opt/ml`) and `work` (its working
/// directory) under its own `root`; `bin` (`python`/`python3` for the current interpreter,
/// first on PATH) and the scratch mount point for the real `/opt` are shared by the jobs of one
/// store, so a job creates only what it writes to.
#[derive(Debug, Clone)]
pub struct JobDirs {
    pub root: PathBuf,
    pub ml: PathBuf,
    pub work: PathBuf,
    pub bin: PathBuf,
    opt_scratch: PathBuf,
}

impl JobDirs {
    /// Create the layout under `root`, with the shared parts under `shared`; with an
    /// interpreter, its `python`/`python3` wrappers (written once per interpreter).
    pub fn create(root: &Path, shared: &Path, interpreter: Option<&Path>) -> io::Result<JobDirs> {
        let bin = match interpreter {
            Some(python) => shared.join(format!(
                "bin-{}",
                &super::util::sha256_hex(python.as_os_str().as_bytes())[..16]
            )),
            None => shared.join("bin"),
        };
        let dirs = JobDirs {
            root: root.to_path_buf(),
            ml: root.join("ml"),
            work: root.join("work"),
            bin,
            opt_scratch: shared.join("host-opt"),
        };
        for d in [&dirs.ml, &dirs.work, &dirs.bin, &dirs.opt_scratch] {
            fs::create_dir_all(d)?;
        }
        if let Some(python) = interpreter {
            // Wrapper scripts, not symlinks: a symlinked venv interpreter would lose its venv.
            let text = format!("#!/bin/sh\nexec {} \"$@\"\n", shell_quote(&python.to_string_lossy()));
            for name in ["python", "python3"] {
                write_wrapper(&dirs.bin.join(name), &text)?;
            }
        }
        Ok(dirs)
    }

    /// The host path of a container path under `/opt/ml` (None for paths outside it).
    pub fn host_path(&self, container_path: &str) -> Option<PathBuf> {
        let rest = container_path.strip_prefix(CONTAINER_ML)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let mut p = self.ml.clone();
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            if part == ".." || part == "." {
                return None;
            }
            p.push(part);
        }
        Some(p)
    }

    /// A container path as the job sees it: unchanged in a namespace, rewritten otherwise.
    pub fn job_path(&self, container_path: &str, isolation: &Isolation) -> String {
        if isolation.is_namespace() {
            container_path.to_string()
        } else {
            rewrite_ml_paths(container_path, &self.ml)
        }
    }
}

/// Replace every `/opt/ml` path prefix in `text` by `ml` (the path-rewriting fallback).
pub fn rewrite_ml_paths(text: &str, ml: &Path) -> String {
    let target = ml.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(CONTAINER_ML) {
        let after = &rest[i + CONTAINER_ML.len()..];
        let boundary_after = after.is_empty() || after.starts_with(['/', ' ', '"', '\'', ':', ',']);
        let boundary_before = i == 0 || rest[..i].ends_with([' ', '=', '"', '\'', ':', ',']);
        out.push_str(&rest[..i]);
        if boundary_after && boundary_before {
            out.push_str(&target);
        } else {
            out.push_str(CONTAINER_ML);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Write an executable wrapper unless it is already there as written (concurrent jobs may race
/// here: each writes a private temporary file and renames it into place).
fn write_wrapper(path: &Path, text: &str) -> io::Result<()> {
    if fs::read(path).is_ok_and(|b| b == text.as_bytes())
        && fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    {
        return Ok(());
    }
    let tmp = path.with_extension(format!("tmp.{}.{}", std::process::id(), super::util::new_id()));
    fs::write(&tmp, text)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
    fs::rename(&tmp, path)
}

pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// What to run: an absolute program, its arguments, extra environment and working directory
/// (a container path in a namespace).
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub cwd: PathBuf,
}

/// Start a job in its own process group, inside the namespace recipe when `namespace`. The job
/// dies with this process: its group is watched (`proc::watch_group`; the caller forgets it once
/// the job is reaped), and the job itself gets SIGKILL when the thread that started it ends.
pub fn spawn(dirs: &JobDirs, namespace: bool, launch: &Launch, stdout: Stdio, stderr: Stdio) -> io::Result<Child> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    let parent = std::process::id() as libc::pid_t;
    if namespace {
        let recipe = Recipe::prepare(dirs, &launch.cwd)?;
        // SAFETY: `apply` makes only async-signal-safe system calls (prctl, getppid, unshare,
        // open, write, close, mount, umount2, mkdir, symlink, chdir) on data prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                die_with_parent(parent)?;
                recipe.apply()
            });
        }
    } else {
        cmd.current_dir(&launch.cwd);
        // SAFETY: `die_with_parent` makes only async-signal-safe calls (prctl, getppid).
        unsafe {
            cmd.pre_exec(move || die_with_parent(parent));
        }
    }
    super::proc::spawn_watched(&mut cmd)
}

/// In a job between fork and exec: SIGKILL when the spawning thread (which waits for the job)
/// ends, so a job does not outlive its owner even before the watchdog acts. Fails if the owner
/// is already gone.
fn die_with_parent(parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: prctl and getppid are async-signal-safe and take no pointers.
    unsafe {
        check(libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGKILL as libc::c_ulong,
            0,
            0,
            0,
        ))?;
        if libc::getppid() != parent {
            // The owner already died (ESRCH: no such parent). No allocation between fork and exec.
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
    }
    Ok(())
}

enum EntryKind {
    Dir,
    File,
    Symlink(CString),
}

/// Everything the namespace recipe needs, as C strings made before the fork.
struct Recipe {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    opt: CString,
    scratch: CString,
    job_ml: CString,
    opt_ml: CString,
    cwd: CString,
    /// (path under the new /opt, path under the scratch bind, kind)
    entries: Vec<(CString, CString, EntryKind)>,
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| io::Error::other(format!("{} holds a NUL byte", p.display())))
}

impl Recipe {
    fn prepare(dirs: &JobDirs, cwd: &Path) -> io::Result<Recipe> {
        // SAFETY: getuid/getgid cannot fail and have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let opt = Path::new("/opt");
        let mut entries = Vec::new();
        for entry in fs::read_dir(opt)?.flatten() {
            let name = entry.file_name();
            if name == "ml" {
                continue; // replaced by the job's own directory
            }
            let kind = match entry.file_type() {
                Ok(t) if t.is_symlink() => EntryKind::Symlink(cstr(&fs::read_link(entry.path())?)?),
                Ok(t) if t.is_dir() => EntryKind::Dir,
                Ok(t) if t.is_file() => EntryKind::File,
                _ => continue,
            };
            entries.push((cstr(&opt.join(&name))?, cstr(&dirs.opt_scratch.join(&name))?, kind));
        }
        Ok(Recipe {
            uid_map: format!("{uid} {uid} 1").into_bytes(),
            gid_map: format!("{gid} {gid} 1").into_bytes(),
            opt: cstr(opt)?,
            scratch: cstr(&dirs.opt_scratch)?,
            job_ml: cstr(&dirs.ml)?,
            opt_ml: cstr(&opt.join("ml"))?,
            cwd: cstr(cwd)?,
            entries,
        })
    }

    /// Runs in the child between fork and exec.
    fn apply(&self) -> io::Result<()> {
        // SAFETY: plain system calls on valid NUL-terminated strings owned by `self`.
        unsafe {
            check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS))?;
            write_file(c"/proc/self/setgroups", b"deny")?;
            write_file(c"/proc/self/uid_map", &self.uid_map)?;
            write_file(c"/proc/self/gid_map", &self.gid_map)?;
            let none = std::ptr::null();
            check(libc::mount(
                c"none".as_ptr(),
                c"/".as_ptr(),
                none,
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                self.opt.as_ptr(),
                self.scratch.as_ptr(),
                none,
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            ))?;
            check(libc::mount(
                c"tmpfs".as_ptr(),
                self.opt.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                c"mode=0755".as_ptr().cast(),
            ))?;
            for (target, source, kind) in &self.entries {
                match kind {
                    EntryKind::Dir => {
                        check(libc::mkdir(target.as_ptr(), 0o755))?;
                        bind(source, target)?;
                    }
                    EntryKind::File => {
                        let fd = libc::open(target.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o644);
                        check(fd)?;
                        libc::close(fd);
                        bind(source, target)?;
                    }
                    EntryKind::Symlink(to) => check(libc::symlink(to.as_ptr(), target.as_ptr()))?,
                }
            }
            check(libc::mkdir(self.opt_ml.as_ptr(), 0o755))?;
            bind(&self.job_ml, &self.opt_ml)?;
            // The scratch view of the real /opt is no longer needed inside the job.
            libc::umount2(self.scratch.as_ptr(), libc::MNT_DETACH);
            check(libc::chdir(self.cwd.as_ptr()))?;
        }
        Ok(())
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// # Safety
/// `source` and `target` are valid C strings; async-signal-safe.
unsafe fn bind(source: &CString, target: &CString) -> io::Result<()> {
    check(libc::mount(
        source.as_ptr(),
        target.as_ptr(),
        std::ptr::null(),
        libc::MS_BIND | libc::MS_REC,
        std::ptr::null(),
    ))
}

/// # Safety
/// `path` is a valid C string; async-signal-safe.
unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    check(fd)?;
    let n = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    libc::close(fd);
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_whole_ml_paths() {
        let ml = Path::new("/j/ml");
        assert_eq!(
            rewrite_ml_paths("/opt/ml/processing/input", ml),
            "/j/ml/processing/input"
        );
        assert_eq!(rewrite_ml_paths("--out=/opt/ml/model", ml), "--out=/j/ml/model");
        assert_eq!(rewrite_ml_paths("/opt/mlflow/x", ml), "/opt/mlflow/x");
        assert_eq!(rewrite_ml_paths("/x/opt/ml", ml), "/x/opt/ml");
    }

    #[test]
    fn maps_container_paths_into_the_job() {
        let dir = tempfile::tempdir().expect("tmp");
        let dirs = JobDirs::create(&dir.path().join("job"), dir.path(), None).expect("dirs");
        assert_eq!(
            dirs.host_path("/opt/ml/processing/train"),
            Some(dir.path().join("job/ml/processing/train"))
        );
        assert_eq!(dirs.host_path("/opt/mlx"), None);
        assert_eq!(dirs.host_path("/opt/ml/../x"), None);
    }

    #[test]
    fn jobs_share_one_interpreter_wrapper_and_repair_a_damaged_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let shared = dir.path().join("shared");
        let python = Path::new("/usr/bin/python3");
        let a = JobDirs::create(&dir.path().join("a"), &shared, Some(python)).expect("a");
        let b = JobDirs::create(&dir.path().join("b"), &shared, Some(python)).expect("b");
        assert_eq!(a.bin, b.bin);
        assert!(a.bin.starts_with(&shared) && !a.bin.starts_with(&a.root));
        let wrapper = a.bin.join("python3");
        let text = fs::read_to_string(&wrapper).expect("wrapper");
        assert!(text.contains("exec '/usr/bin/python3'"));
        fs::write(&wrapper, "#!/bin/sh\nexit 1\n").expect("damage");
        JobDirs::create(&dir.path().join("c"), &shared, Some(python)).expect("c");
        assert_eq!(fs::read_to_string(&wrapper).expect("wrapper"), text);
        assert!(fs::metadata(&wrapper).expect("meta").permissions().mode() & 0o111 != 0);
        let other = JobDirs::create(&dir.path().join("d"), &shared, Some(Path::new("/opt/py/bin/python"))).expect("d");
        assert_ne!(other.bin, a.bin, "each interpreter has its own wrappers");
        let leftovers: Vec<_> = fs::read_dir(&a.bin)
            .expect("bin")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// Two jobs at once each write `/opt/ml/out.txt` and find only their own file.
    #[test]
    fn parallel_jobs_see_their_own_opt_ml() {
        if !isolation().is_namespace() {
            eprintln!("namespaces unavailable here; covered by the fallback tests");
            return;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let jobs: Vec<(JobDirs, Child)> = (0..2)
            .map(|i| {
                let dirs = JobDirs::create(&dir.path().join(format!("j{i}")), dir.path(), None).expect("dirs");
                let launch = Launch {
                    program: PathBuf::from("/bin/sh"),
                    args: vec![
                        "-c".into(),
                        format!(
                            "echo {i} > /opt/ml/out.txt && sleep 0.2 && ls /opt/ml && test -d /opt/{}",
                            first_opt_child()
                        ),
                    ],
                    env: vec![],
                    cwd: PathBuf::from("/opt/ml"),
                };
                let child = spawn(&dirs, true, &launch, Stdio::null(), Stdio::null()).expect("spawn");
                (dirs, child)
            })
            .collect();
        for (i, (dirs, mut child)) in jobs.into_iter().enumerate() {
            assert!(child.wait().expect("wait").success());
            assert_eq!(
                fs::read_to_string(dirs.ml.join("out.txt")).expect("out"),
                format!("{i}\n")
            );
        }
        assert!(!Path::new("/opt/ml/out.txt").exists());
    }

    fn first_opt_child() -> String {
        fs::read_dir("/opt")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != "ml")
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .next()
            .unwrap_or_else(|| ".".into())
    }
}
