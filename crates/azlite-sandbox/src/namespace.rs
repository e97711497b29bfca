//! Entering the sandbox's namespaces and changing its view of the file system.
//!
//! The forwarder (`azlite run`) leaves the machine's network namespace for a new one that
//! holds only a loopback interface, and makes a new PID namespace for its children: the
//! sandbox's init is its process 1, the program its child, and neither sees a process of
//! the machine. As an ordinary user the forwarder first enters a new user namespace in
//! which it keeps its own uid and gid and holds the capabilities these steps need. The
//! forwarder stays in the machine's mount namespace (it reaches the server's socket in the
//! data directory); init makes the sandbox's own, where the bind mounts below are seen by it
//! and the program only.

use std::fs;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::unistd::{Gid, Uid};

use crate::SandboxError;

/// Enters new network and PID namespaces (and a user namespace when not root). Must run
/// while the process has one thread: the kernel refuses a user namespace to a process with
/// several. Afterwards the process may not start threads (its children are in another PID
/// namespace than itself).
pub(crate) fn enter() -> Result<(), SandboxError> {
    let uid = Uid::current();
    let gid = Gid::current();
    let as_root = Uid::effective().is_root();
    let mut flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWPID;
    if !as_root {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|errno| SandboxError::Unshare {
        as_root,
        errno,
        advice: advice(as_root, errno),
    })?;
    if !as_root {
        // Map the user to itself; `setgroups` must be denied before an unprivileged process
        // may write its gid map.
        let write = |path: &str, text: String| {
            fs::write(path, text).map_err(|source| SandboxError::Io {
                what: format!("cannot write {path}"),
                source,
            })
        };
        write("/proc/self/setgroups", "deny".to_owned())?;
        write("/proc/self/uid_map", format!("{uid} {uid} 1\n"))?;
        write("/proc/self/gid_map", format!("{gid} {gid} 1\n"))?;
    }
    Ok(())
}

/// Makes every mount of this (new) mount namespace private: nothing mounted from here on
/// reaches the machine's mount namespace.
pub(crate) fn make_private() -> Result<(), SandboxError> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|errno| mount_error("make / private", errno))
}

/// Mounts a `/proc` of the caller's PID namespace over the machine's, and `/proc/sys`
/// read-only over it.
pub(crate) fn mount_proc() -> Result<(), SandboxError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
        .map_err(|errno| mount_error("mount /proc", errno))?;
    mount(
        Some("/proc/sys"),
        "/proc/sys",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|errno| mount_error("bind /proc/sys", errno))?;
    mount(
        None::<&str>,
        "/proc/sys",
        None::<&str>,
        flags | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(|errno| mount_error("make /proc/sys read-only", errno))
}

/// What to do when `unshare` fails.
fn advice(as_root: bool, errno: Errno) -> String {
    match (as_root, errno) {
        (false, Errno::EPERM | Errno::ENOSPC | Errno::EINVAL) => {
            "this kernel does not let ordinary users create user namespaces \
             (see `sysctl user.max_user_namespaces`, `kernel.unprivileged_userns_clone`, \
             or AppArmor's `kernel.apparmor_restrict_unprivileged_userns`): allow them, or \
             run `azlite run` as root (for example with sudo)"
                .to_owned()
        }
        (true, Errno::EPERM) => "root without CAP_SYS_ADMIN (a restricted container?): \
             run azlite where it may create namespaces, or give the container \
             CAP_SYS_ADMIN and CAP_NET_ADMIN"
            .to_owned(),
        _ => String::new(),
    }
}

fn mount_error(what: &str, errno: Errno) -> SandboxError {
    SandboxError::Mount {
        what: what.to_owned(),
        errno,
    }
}

/// Mounts the file `source` over `target` (which must exist).
pub(crate) fn bind_file(source: &Path, target: &Path) -> Result<(), SandboxError> {
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|errno| mount_error(&format!("mount over {}", target.display()), errno))
}

/// Makes `target` show the directory `source`, creating `target` in the sandbox's view
/// only when it does not exist.
///
/// A missing mount point is made without touching the machine's file system: the nearest
/// existing ancestor is covered by a tmpfs that holds the missing directories and, bound
/// back in, each entry the ancestor had (`scratch` is an empty directory of ours for the
/// tmpfs while it is filled).
pub(crate) fn bind_directory(
    source: &Path,
    target: &Path,
    scratch: &Path,
) -> Result<(), SandboxError> {
    if !target.is_dir() {
        let ancestor = target
            .ancestors()
            .skip(1)
            .find(|a| a.is_dir())
            .unwrap_or(Path::new("/"))
            .to_owned();
        let missing = target.strip_prefix(&ancestor).unwrap_or(target).to_owned();
        cover_with_copy(&ancestor, &missing, scratch)?;
    }
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|errno| mount_error(&format!("mount over {}", target.display()), errno))
}

/// Covers `ancestor` with a tmpfs holding `missing` and every entry of `ancestor`, each bound
/// back to the original.
fn cover_with_copy(ancestor: &Path, missing: &Path, scratch: &Path) -> Result<(), SandboxError> {
    let io = |what: String| move |source| SandboxError::Io { what, source };
    mount(
        Some("tmpfs"),
        scratch,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|errno| mount_error("mount a tmpfs", errno))?;
    let entries =
        fs::read_dir(ancestor).map_err(io(format!("cannot list {}", ancestor.display())))?;
    let mut binds: Vec<(PathBuf, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(format!("cannot list {}", ancestor.display())))?;
        let original = entry.path();
        let copy = scratch.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(io(format!("cannot stat {}", original.display())))?;
        if kind.is_symlink() {
            let link = fs::read_link(&original)
                .map_err(io(format!("cannot read {}", original.display())))?;
            std::os::unix::fs::symlink(link, &copy)
                .map_err(io(format!("cannot link {}", copy.display())))?;
            continue;
        }
        if kind.is_dir() {
            fs::create_dir(&copy).map_err(io(format!("cannot create {}", copy.display())))?;
        } else {
            fs::File::create(&copy).map_err(io(format!("cannot create {}", copy.display())))?;
        }
        binds.push((original, copy));
    }
    for (original, copy) in &binds {
        mount(
            Some(original.as_path()),
            copy.as_path(),
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|errno| mount_error(&format!("bind {}", original.display()), errno))?;
    }
    let made = scratch.join(missing);
    fs::create_dir_all(&made).map_err(io(format!("cannot create {}", made.display())))?;
    mount(
        Some(scratch),
        ancestor,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|errno| mount_error(&format!("mount over {}", ancestor.display()), errno))?;
    // The tmpfs stays alive under `ancestor`; its first mount point can go.
    umount2(scratch, MntFlags::MNT_DETACH).map_err(|errno| mount_error("unmount", errno))
}
