"""Whether a path lives on a memory filesystem, where a durable commit waits for no device."""

from __future__ import annotations

from pathlib import Path

MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})
MOUNTINFO = Path("/proc/self/mountinfo")


def filesystem_of(path: Path, mountinfo: Path = MOUNTINFO) -> str | None:
    """The type of the filesystem holding `path` (the longest mount point above it), or
    None where the mount table cannot be read (not Linux)."""
    try:
        target = path.resolve()
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return None
    best, kind = -1, None
    for line in lines:
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        # Mount points escape spaces and the like as octal (\040).
        mount = Path(fields[4].encode().decode("unicode_escape"))
        fstype = fields[fields.index("-", 6) + 1]
        depth = len(mount.parts)
        if (target == mount or mount in target.parents) and depth > best:
            best, kind = depth, fstype
    return kind


def on_memory_fs(path: Path, mountinfo: Path = MOUNTINFO) -> bool:
    return filesystem_of(path, mountinfo) in MEMORY_FILESYSTEMS
