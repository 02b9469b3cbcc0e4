"""Linux primitives for shutting code in: namespaces, mounts, a filesystem view, dropping privileges.

Standard library only, and free of lambdalab imports: the worker (a script run with `python -I`, which
cannot import lambdalab) loads this file by path, and the grader imports it as a module. Every function
fails with OSError naming the call, so a caller can fall back to a weaker confinement and say so.
(man 2 unshare, man 2 mount, man 2 pivot_root, man 7 user_namespaces, man 2 prctl, man 7 capabilities)
"""

import ctypes
import ctypes.util
import os
import platform
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC = 1, 2, 4, 32, 4096, 8192, 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "armv7l": 218, "i686": 217, "ppc64le": 203, "s390x": 217, "riscv64": 41}
_CAPABILITY_VERSION_3 = 0x20080522
CONFINEMENT_FAILED = "lambdalab.ConfinementFailed"  # the worker's Init error when it could not shut itself in

_libc: ctypes.CDLL | None = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def available() -> bool:
    return platform.system() == "Linux"


def unshare(flags: int) -> None:
    _check(_c().unshare(flags), "unshare")


def map_user(uid: int, gid: int) -> None:
    """Inside a new user namespace, be the same user as outside (the only mapping an unprivileged user may make)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as proc_file:
            proc_file.write(text)


def enter_namespaces(flags: int) -> None:
    """unshare() the namespaces in `flags`, adding a user namespace when not root (so an ordinary user may too)."""
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        flags |= CLONE_NEWUSER
    unshare(flags)
    if uid != 0:
        map_user(uid, gid)


def mount(source: str, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    def encode(value: str | None) -> bytes | None:  # bytes for libc; None stays a NULL pointer
        return None if value is None else os.fsencode(value)

    _check(
        _c().mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
        f"mount {target}",
    )


def make_private() -> None:
    """Mounts made from here on stay in this namespace, and the host's never come in."""
    mount("none", "/", None, MS_REC | MS_PRIVATE)


def mount_proc() -> None:
    """A /proc that shows this PID namespace's processes only."""
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)


def prctl(option: int, value: int) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def set_dumpable(dumpable: bool) -> None:
    """A process that is not dumpable cannot be traced, nor its /proc/PID/fd, mem or environ opened, by
    processes of the same user without CAP_SYS_PTRACE."""
    prctl(PR_SET_DUMPABLE, 1 if dumpable else 0)


def become_subreaper() -> None:
    """Orphaned descendants (a daemon that double-forked away) become this process's children, so it can
    find them and end them."""
    prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent() -> None:
    """SIGKILL this process when the thread that started it ends (its parent, seen from a PID namespace it
    cannot see out of, is always 0, so it cannot watch for that itself)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def no_new_privileges() -> None:
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def drop_capabilities() -> None:
    """Clear every capability (the effective, permitted and inheritable sets): for root that cannot change
    user, and for the creator of a user namespace, who holds them all inside it."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _check(_c().capset(header, data), "capset")


def kill_group(group: int) -> None:
    """SIGKILL a process group, if it is still there."""
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def drop_to_user(uid: int, gid: int) -> None:
    """Become uid/gid with no supplementary groups; a root process loses its capabilities on the way."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def pivot_root(new_root: str, put_old: str) -> None:
    number = _PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(38, f"pivot_root: no system call number known for {platform.machine()}")
    _check(_c().syscall(ctypes.c_long(number), os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def build_view(scratch: str, binds: list[tuple[str, str, bool]], hidden: list[str], links: dict[str, str]) -> None:
    """Make the root filesystem a view holding only `binds` ((host path, path in the view, writable)), the
    symbolic links in `links` (path -> target) and /proc, with an empty read-only folder over each `hidden`
    path; nothing else of the host stays reachable. `scratch` is an empty folder to build the view in. Call
    it in a new mount namespace, before any thread starts. (bubblewrap's technique: a tmpfs root, bind
    mounts, pivot_root.)"""
    make_private()
    mount("lambdalab-view", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    for source, target, writable in binds:
        inside = scratch + target
        if os.path.isdir(source):
            os.makedirs(inside, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            open(inside, "a").close()
        mount(source, inside, None, MS_BIND | MS_REC)
        if not writable:
            _read_only(inside)
    for path in hidden:
        if os.path.isdir(scratch + path):
            mount("lambdalab-hidden", scratch + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "mode=0555")
    for path, target in links.items():
        os.makedirs(os.path.dirname(scratch + path), exist_ok=True)
        if not os.path.lexists(scratch + path):
            os.symlink(target, scratch + path)
    os.makedirs(scratch + "/proc", exist_ok=True)
    # A fresh /proc shows this PID namespace only, and, where the kernel takes hidepid (Linux 5.8), no process of
    # another user: code run as a user of its own lists its own processes alone. A user namespace that does not
    # own the PID namespace may mount no /proc at all: then the host's, bound.
    for options in ("hidepid=invisible", None):
        try:
            mount("proc", scratch + "/proc", "proc", MS_NOSUID | MS_NODEV, options)
            break
        except OSError:
            continue
    else:
        mount("/proc", scratch + "/proc", None, MS_BIND | MS_REC)
    old = scratch + "/.old-root"
    os.makedirs(old, exist_ok=True)
    pivot_root(scratch, old)
    os.chdir("/")
    _check(_c().umount2(b"/.old-root", MNT_DETACH), "umount the old root")
    os.rmdir("/.old-root")
    _read_only("/")


_KEPT = {
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: 8,
    os.ST_NOATIME: 1024,
    os.ST_NODIRATIME: 2048,
    os.ST_RELATIME: 1 << 21,
}


def _read_only(path: str) -> None:
    """Remount a bind read-only, keeping the flags it has (a user namespace may not clear them)."""
    kept = os.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
    for statvfs_flag, mount_flag in _KEPT.items():
        if kept & statvfs_flag:
            flags |= mount_flag
    mount("none", path, None, flags)
