//! The program's privileges: none.
//!
//! Before the program starts, the sandbox's init drops every capability from every set (the
//! bounding set too, so no later `exec` of a set-user-ID-root or file-capability binary can
//! return one), sets `no_new_privs`, and, when `azlite run` runs as root under `sudo`,
//! becomes the user who ran `sudo` (`SUDO_UID`, `SUDO_GID` and `SUDO_USER`'s groups). So the
//! program can neither mount nor unmount, nor enter another namespace (the machine's network
//! namespace included), nor trace a process it does not own.

use std::ffi::CString;

use caps::{CapSet, Capability};
use nix::unistd::{Gid, Uid, setgroups, setresgid, setresuid};

use crate::SandboxError;

/// The user the program runs as instead of root.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct User {
    /// Its uid.
    pub(crate) uid: u32,
    /// Its primary gid.
    pub(crate) gid: u32,
    /// Its supplementary groups.
    pub(crate) groups: Vec<u32>,
}

/// The user who ran `sudo azlite run`, when `azlite run` is root and `sudo` named one other
/// than root.
pub(crate) fn invoking_user() -> Option<User> {
    if !Uid::effective().is_root() {
        return None;
    }
    let number = |name: &str| std::env::var(name).ok()?.parse::<u32>().ok();
    let (uid, gid) = (number("SUDO_UID")?, number("SUDO_GID")?);
    if uid == 0 {
        return None;
    }
    let groups = std::env::var("SUDO_USER")
        .ok()
        .and_then(|name| CString::new(name).ok())
        .and_then(|name| nix::unistd::getgrouplist(&name, Gid::from_raw(gid)).ok())
        .map(|groups| groups.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_else(|| vec![gid]);
    Some(User { uid, gid, groups })
}

/// The capabilities the sandbox's init needs to make the sandbox: a new mount namespace and
/// its mounts, and emptying the bounding set.
const INIT_NEEDS: [Capability; 2] = [Capability::CAP_SYS_ADMIN, Capability::CAP_SETPCAP];

/// Keeps, across the `exec` of the sandbox's init, the capabilities it needs (as ambient
/// capabilities). For an ordinary user only, in the user namespace it entered, where it
/// holds them: `exec` ends the capabilities of a process whose uid is not 0 there. (Root's
/// `exec` keeps them anyway.)
pub(crate) fn pass_to_init() -> Result<(), SandboxError> {
    for cap in INIT_NEEDS {
        caps::raise(None, CapSet::Inheritable, cap)
            .and_then(|()| caps::raise(None, CapSet::Ambient, cap))
            .map_err(|e| SandboxError::Privileges(format!("cannot keep {cap} for init: {e}")))?;
    }
    Ok(())
}

/// Drops every capability (bounding and ambient sets included), becomes `user` if given,
/// sets `no_new_privs` and makes the process undumpable; then checks that no capability is
/// left.
pub(crate) fn drop_all(user: Option<&User>) -> Result<(), SandboxError> {
    let failed =
        |what: &str, e: &dyn std::fmt::Display| SandboxError::Privileges(format!("{what}: {e}"));
    // The bounding set first: dropping from it takes CAP_SETPCAP, which goes below.
    caps::clear(None, CapSet::Bounding).map_err(|e| failed("cannot empty the bounding set", &e))?;
    caps::clear(None, CapSet::Ambient).map_err(|e| failed("cannot empty the ambient set", &e))?;
    caps::clear(None, CapSet::Inheritable)
        .map_err(|e| failed("cannot empty the inheritable set", &e))?;
    if let Some(user) = user {
        let groups: Vec<Gid> = user.groups.iter().copied().map(Gid::from_raw).collect();
        let (uid, gid) = (Uid::from_raw(user.uid), Gid::from_raw(user.gid));
        setgroups(&groups).map_err(|e| failed("cannot set the user's groups", &e))?;
        setresgid(gid, gid, gid).map_err(|e| failed("cannot become the user's group", &e))?;
        setresuid(uid, uid, uid).map_err(|e| failed("cannot become the user", &e))?;
    }
    caps::clear(None, CapSet::Permitted).map_err(|e| failed("cannot drop capabilities", &e))?;
    nix::sys::prctl::set_no_new_privs().map_err(|e| failed("cannot set no_new_privs", &e))?;
    nix::sys::prctl::set_dumpable(false).map_err(|e| failed("cannot make undumpable", &e))?;
    check_none_left()
}

/// Refuses to go on if the kernel still shows a capability (one this code does not know).
fn check_none_left() -> Result<(), SandboxError> {
    let status =
        std::fs::read_to_string("/proc/thread-self/status").map_err(|source| SandboxError::Io {
            what: "cannot read /proc/thread-self/status".to_owned(),
            source,
        })?;
    for line in status.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if matches!(name, "CapInh" | "CapPrm" | "CapEff" | "CapBnd" | "CapAmb")
            && u64::from_str_radix(value.trim(), 16) != Ok(0)
        {
            return Err(SandboxError::Privileges(format!(
                "capabilities are left ({name} {}): this kernel knows some this azlite does not",
                value.trim()
            )));
        }
    }
    Ok(())
}
