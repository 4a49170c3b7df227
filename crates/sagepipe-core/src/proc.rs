//! What this process's children must neither keep nor outlive.
//!
//! Lock descriptors (and the watchdog's socket) are *guarded*: a child forked without exec (an
//! in-process step calling `os.fork()`) gets them replaced by `/dev/null`, so it never holds an
//! execution's lock after this process dies (a `flock` belongs to the open file description, which
//! a fork shares). `O_CLOEXEC` covers children that exec.
//!
//! Jobs and function-step workers lead their own process groups; a watchdog process (forked
//! once, holding one end of a socket whose other end only this process holds) kills every group
//! it was told about when that socket closes, that is when this process dies, however it dies.

use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Mutex, Once};

/// Most descriptors guarded at once; beyond it a descriptor is only `O_CLOEXEC` (never reached:
/// one per running execution or job, plus the watchdog's).
const MAX_GUARDED: usize = 1024;
static GUARDED: [AtomicI32; MAX_GUARDED] = [const { AtomicI32::new(-1) }; MAX_GUARDED];
/// `/dev/null`, opened once, put in place of guarded descriptors in a forked child.
static DEV_NULL: AtomicI32 = AtomicI32::new(-1);
/// Held from a guarded descriptor's open until it is registered, and by `fork` (atfork
/// `prepare`): a fork can never copy a guarded descriptor that is not registered yet.
static FORK_GATE: AtomicBool = AtomicBool::new(false);
static HANDLERS: Once = Once::new();

fn gate_close() {
    while FORK_GATE
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
}

fn gate_open() {
    FORK_GATE.store(false, Ordering::Release);
}

extern "C" fn before_fork() {
    gate_close();
}

extern "C" fn after_fork_in_parent() {
    gate_open();
}

extern "C" fn after_fork_in_child() {
    let null = DEV_NULL.load(Ordering::Relaxed);
    // The slots stay as they are: the numbers now name `/dev/null` until their owners drop them.
    for slot in &GUARDED {
        let fd = slot.load(Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: dup3/close are async-signal-safe; `fd` is a descriptor this process had.
            unsafe {
                if null < 0 || libc::dup3(null, fd, libc::O_CLOEXEC) < 0 {
                    libc::close(fd);
                }
            }
        }
    }
    gate_open();
}

fn install_handlers() {
    HANDLERS.call_once(|| {
        if let Ok(null) = File::open("/dev/null") {
            DEV_NULL.store(std::os::fd::IntoRawFd::into_raw_fd(null), Ordering::Relaxed);
        }
        // SAFETY: the handlers only touch atomics and make async-signal-safe calls.
        unsafe {
            libc::pthread_atfork(Some(before_fork), Some(after_fork_in_parent), Some(after_fork_in_child));
        }
    });
}

/// A descriptor no forked child keeps (see the module doc). Unregistered before it is closed.
#[derive(Debug)]
pub struct Guarded<T: AsRawFd> {
    /// Dropped by hand in `drop`, inside the fork gate (see there).
    inner: ManuallyDrop<T>,
    slot: Option<usize>,
}

impl<T: AsRawFd> Guarded<T> {
    /// Open something with `open` and guard its descriptor, with no fork in between.
    pub fn open(open: impl FnOnce() -> io::Result<T>) -> io::Result<Guarded<T>> {
        install_handlers();
        gate_close();
        let opened = open();
        let guarded = opened.map(|inner| {
            let fd = inner.as_raw_fd();
            let slot = GUARDED
                .iter()
                .position(|s| s.compare_exchange(-1, fd, Ordering::Relaxed, Ordering::Relaxed).is_ok());
            Guarded {
                inner: ManuallyDrop::new(inner),
                slot,
            }
        });
        gate_open();
        guarded
    }

    pub fn get(&self) -> &T {
        &self.inner
    }
}

impl<T: AsRawFd> Drop for Guarded<T> {
    fn drop(&mut self) {
        // Unregister and close with no fork in between: a child forked after the slot is cleared
        // but before the close would keep the real descriptor (and with it a lock).
        gate_close();
        if let Some(slot) = self.slot {
            // Before the descriptor closes: its number may be reused by an unrelated file.
            GUARDED[slot].store(-1, Ordering::Relaxed);
        }
        // SAFETY: `inner` is dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
        gate_open();
    }
}

// ---- the watchdog ----

/// Messages to the watchdog: one byte (`+` watch, `-` forget) and a process group id.
const WATCH: u8 = b'+';
const FORGET: u8 = b'-';
/// Most process groups the watchdog tracks at once.
const MAX_GROUPS: usize = 4096;

struct Watchdog {
    /// The process that started it: a forked child of ours must start its own.
    owner: u32,
    pid: libc::pid_t,
    socket: Guarded<OwnedFd>,
}

/// The process groups a watchdog kills when this process dies, and that watchdog.
struct Watched {
    dog: Option<Watchdog>,
    groups: Vec<i32>,
}

impl Watched {
    const fn new() -> Watched {
        Watched {
            dog: None,
            groups: Vec::new(),
        }
    }

    fn watch(&mut self, pgid: i32) {
        if !self.groups.contains(&pgid) {
            self.groups.push(pgid);
        }
        if self.send(WATCH, pgid) {
            return;
        }
        // No watchdog yet, or it died, or it is our parent's: start one and tell it every group.
        if let Some(old) = self.dog.take() {
            reap(old.pid);
        }
        self.dog = start_watchdog();
        for g in self.groups.clone() {
            if !self.send(WATCH, g) {
                break;
            }
        }
    }

    fn forget(&mut self, pgid: i32) {
        if let Some(i) = self.groups.iter().position(|g| *g == pgid) {
            self.groups.swap_remove(i);
            self.send(FORGET, pgid);
        }
    }

    fn send(&mut self, op: u8, pgid: i32) -> bool {
        let Some(dog) = &self.dog else { return false };
        if dog.owner != std::process::id() {
            self.dog = None;
            return false;
        }
        let mut msg = [0u8; 5];
        msg[0] = op;
        msg[1..].copy_from_slice(&pgid.to_le_bytes());
        loop {
            // SAFETY: sends a 5-byte buffer on a socket we own; MSG_NOSIGNAL: no SIGPIPE.
            let n = unsafe {
                libc::send(
                    dog.socket.get().as_raw_fd(),
                    msg.as_ptr().cast(),
                    msg.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n == msg.len() as isize {
                return true;
            }
            if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
    }
}

static WATCHED: Mutex<Watched> = Mutex::new(Watched::new());

/// Held across each fork of ours (job and worker spawns, the watchdog's start). glibc (2.34+) runs
/// concurrent forks' `pthread_atfork` prepare handlers concurrently, and a library's handler may
/// not survive that: OpenBLAS's joins its worker threads, and two at once join the same thread
/// twice and hang for ever (seen with numpy/scipy loaded and parallel jobs). `FORK_GATE` does not
/// serialize them: handlers run in reverse order of registration, so a library loaded after ours
/// runs its handler before ours closes the gate.
static FORKING: Mutex<()> = Mutex::new(());

/// Start `cmd` as the leader of its own process group (the caller sets `process_group(0)`), one
/// fork of ours at a time, and have that group watched (see `watch_group`).
pub fn spawn_watched(cmd: &mut Command) -> io::Result<Child> {
    let child = {
        let _one_fork_at_a_time = FORKING.lock().unwrap_or_else(|p| p.into_inner());
        cmd.spawn()?
    };
    watch_group(child.id() as i32);
    Ok(child)
}

/// Have the process group `pgid` killed if this process dies before `forget_group(pgid)`.
/// Best effort: if no watchdog can be started, the group is killed only by the usual means.
pub fn watch_group(pgid: i32) {
    WATCHED.lock().unwrap_or_else(|p| p.into_inner()).watch(pgid);
}

/// The group `pgid` ended (its leader was reaped): the watchdog must not kill it any more.
pub fn forget_group(pgid: i32) {
    WATCHED.lock().unwrap_or_else(|p| p.into_inner()).forget(pgid);
}

fn reap(pid: libc::pid_t) {
    // SAFETY: waitpid on our own child, without blocking.
    unsafe {
        libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
    }
}

fn start_watchdog() -> Option<Watchdog> {
    let mut fds = [-1 as RawFd; 2];
    let socket = Guarded::open(|| {
        // SAFETY: socketpair writes two descriptors into `fds`.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fds[0] was just created and is owned by nothing else.
        Ok(unsafe { OwnedFd::from_raw_fd(fds[0]) })
    })
    .ok()?;
    // SAFETY: fds[1] was just created; the parent closes its copy below.
    let theirs = unsafe { OwnedFd::from_raw_fd(fds[1]) };
    let null = DEV_NULL.load(Ordering::Relaxed);
    let one_fork_at_a_time = FORKING.lock().unwrap_or_else(|p| p.into_inner());
    // SAFETY: the child only makes async-signal-safe calls and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    drop(one_fork_at_a_time);
    if pid < 0 {
        return None;
    }
    if pid == 0 {
        // SAFETY: in the child of fork: async-signal-safe calls only.
        unsafe { watchdog_main(theirs.as_raw_fd(), null) }
    }
    drop(theirs);
    Some(Watchdog {
        owner: std::process::id(),
        pid,
        socket,
    })
}

/// The watchdog's life: learn groups until the socket closes, then kill them all.
///
/// # Safety
/// Called only in a freshly forked child: async-signal-safe calls, no allocation, no return.
unsafe fn watchdog_main(socket: RawFd, null: RawFd) -> ! {
    // Its own group, so a signal to the owner's group (Ctrl-C) does not take it along.
    libc::setpgid(0, 0);
    libc::prctl(libc::PR_SET_NAME, c"sagepipe-watch".as_ptr() as libc::c_ulong, 0, 0, 0);
    // Nothing of the owner's stays open here: no lock, no pipe a reader waits on. The socket
    // first moves above stdio: an owner started with 0-2 closed may have it there.
    let socket = libc::fcntl(socket, libc::F_DUPFD, 3);
    if null >= 0 {
        for fd in 0..3 {
            libc::dup2(null, fd);
        }
    }
    libc::dup2(socket, 3);
    if libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32) != 0 {
        let max = libc::sysconf(libc::_SC_OPEN_MAX).clamp(256, 65536) as i32;
        for fd in 4..max {
            libc::close(fd);
        }
    }
    let mut groups = [0i32; MAX_GROUPS];
    let mut count = 0usize;
    let mut msg = [0u8; 8];
    loop {
        let n = libc::recv(3, msg.as_mut_ptr().cast(), msg.len(), 0);
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        if n != 5 {
            break; // 0: the owner is gone (or a broken message: treat it the same)
        }
        let pgid = i32::from_le_bytes([msg[1], msg[2], msg[3], msg[4]]);
        let at = groups[..count].iter().position(|g| *g == pgid);
        match (msg[0], at) {
            (WATCH, None) if count < MAX_GROUPS && pgid > 1 => {
                groups[count] = pgid;
                count += 1;
            }
            (FORGET, Some(i)) => {
                count -= 1;
                groups[i] = groups[count];
            }
            _ => {}
        }
    }
    for g in &groups[..count] {
        libc::kill(-*g, libc::SIGKILL);
    }
    libc::_exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    #[test]
    fn a_forked_child_does_not_keep_a_guarded_descriptor() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("lock");
        let guarded = Guarded::open(|| File::create(&path)).expect("open");
        let fd = guarded.get().as_raw_fd();
        // SAFETY: the child only calls fcntl/readlink-free checks and _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // In the child: the descriptor number is still valid, but no longer our file.
            // SAFETY: fstat on a descriptor number; _exit.
            unsafe {
                let mut st: libc::stat = std::mem::zeroed();
                let ok = libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFCHR;
                libc::_exit(if ok { 0 } else { 1 });
            }
        }
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "status {status}"
        );
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on our open descriptor.
        assert_eq!(unsafe { libc::fstat(fd, &mut st) }, 0);
        assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFREG, "the parent keeps its file");
        drop(guarded);
    }

    fn sleeper() -> std::process::Child {
        Command::new("/bin/sh")
            .args(["-c", "sleep 60"])
            .process_group(0)
            .spawn()
            .expect("sh")
    }

    #[test]
    fn watched_groups_die_with_the_owner_and_forgotten_ones_do_not() {
        use std::os::unix::process::ExitStatusExt;
        // A private registry, so the process-wide watchdog of other tests is left alone.
        let mut watched = Watched::new();
        let (mut doomed, mut spared) = (sleeper(), sleeper());
        watched.watch(doomed.id() as i32);
        watched.watch(spared.id() as i32);
        watched.forget(spared.id() as i32);
        let dog = watched.dog.take().expect("a watchdog started");
        // The owner's death, as the watchdog sees it: its end of the socket closes.
        drop(dog.socket);
        assert_eq!(doomed.wait().expect("wait").signal(), Some(libc::SIGKILL));
        let mut status = 0;
        // SAFETY: reaping our own child.
        unsafe { libc::waitpid(dog.pid, &mut status, 0) };
        assert!(matches!(spared.try_wait(), Ok(None)), "a forgotten group is not killed");
        let _ = spared.kill();
        let _ = spared.wait();
    }
}
