//! The container's mounts: the root task's mount namespace as CRIU dumped it
//! (`mountpoints-NSID.img`), else the mounts of the OCI runtime spec (`spec.dump`).

use serde::Deserialize;

use checkpoint_images::messages::{Fstype, MntEntry};

/// One mount point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub destination: String,
    /// The file system type (`overlay`, `proc`, `ext4`; `other` where CRIU handled it
    /// generically).
    pub fs_type: String,
    /// What is mounted.
    pub source: String,
    /// The directory of the source file system that is mounted (bind mounts); empty for `/`.
    pub root: String,
    /// Mount options, as the kernel showed them (comma-separated).
    pub options: String,
}

impl Mount {
    /// A mount of CRIU's mountpoints image.
    pub(crate) fn from_entry(entry: MntEntry) -> Mount {
        Mount {
            fs_type: fs_type_name(&entry),
            destination: entry.mountpoint,
            source: entry.source,
            options: entry.options,
            root: if entry.root == "/" {
                String::new()
            } else {
                entry.root
            },
        }
    }
}

/// The file system type of a mount: `fsname` when CRIU kept it, else the `fstype` name;
/// `other` for file systems CRIU handles generically (its `UNSUPPORTED`, e.g. ext4 binds).
fn fs_type_name(mount: &MntEntry) -> String {
    if let Some(name) = mount.fsname.as_ref().filter(|name| !name.is_empty()) {
        return name.clone();
    }
    let fstype = i32::try_from(mount.fstype).unwrap_or(-1);
    match Fstype::try_from(fstype) {
        Ok(Fstype::OVERLAYFS) => "overlay".to_owned(),
        Ok(Fstype::UNSUPPORTED) => "other".to_owned(),
        Ok(_) => Fstype::proto_name(fstype)
            .map_or_else(|| mount.fstype.to_string(), str::to_ascii_lowercase),
        Err(_) => mount.fstype.to_string(),
    }
}

/// The mounts of `spec.dump` (OCI runtime spec), for checkpoints without mountpoints images.
#[derive(Debug, Deserialize)]
pub(crate) struct SpecMounts {
    #[serde(default)]
    mounts: Vec<SpecMount>,
}

#[derive(Debug, Deserialize)]
struct SpecMount {
    #[serde(default)]
    destination: String,
    #[serde(default, rename = "type")]
    fs_type: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    options: Vec<String>,
}

impl SpecMounts {
    /// The spec's mounts, in its order.
    pub(crate) fn into_mounts(self) -> Vec<Mount> {
        self.mounts
            .into_iter()
            .map(|mount| Mount {
                destination: mount.destination,
                fs_type: mount.fs_type,
                source: mount.source,
                options: mount.options.join(","),
                root: String::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_types() {
        let mount = |fstype: u32, fsname: Option<&str>| MntEntry {
            fstype,
            fsname: fsname.map(str::to_owned),
            ..MntEntry::default()
        };
        assert_eq!(fs_type_name(&mount(1, None)), "proc");
        assert_eq!(fs_type_name(&mount(17, None)), "overlay");
        assert_eq!(fs_type_name(&mount(0, None)), "other");
        assert_eq!(fs_type_name(&mount(16, Some("ext4"))), "ext4");
        assert_eq!(fs_type_name(&mount(99, None)), "99");
    }
}
