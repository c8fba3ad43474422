//! [`Images`]: the CRIU images of one checkpoint, decoded on demand, with the file table
//! (`files.img`, or the per-type images of CRIU before 3.x) built once.

use std::cell::OnceCell;
use std::collections::HashMap;

use super::Error;
use crate::archive::Checkpoint;
use crate::criu::messages::{
    CoreEntry, FdTypes, FdinfoEntry, FileEntry, FsEntry, InetSkEntry, MmEntry, PipeEntry,
    PstreeEntry, RegFileEntry, TaskKobjIdsEntry, UnixSkEntry,
};
use crate::criu::{self, CriuMessage};

/// Task states of `task_core_entry.task_state` (compel's `__compel_task_state`).
pub(crate) const TASK_ALIVE: u32 = 0x01;
const TASK_DEAD: u32 = 0x02;
const TASK_STOPPED: u32 = 0x03;
const TASK_ZOMBIE: u32 = 0x06;

/// The name of a task state, as checkpointctl and go-criu spell it.
pub(crate) fn task_state_name(state: u32) -> &'static str {
    match state {
        TASK_ALIVE => "Alive",
        TASK_DEAD => "Dead",
        TASK_STOPPED => "Stopped",
        TASK_ZOMBIE => "Zombie",
        _ => "Unknown",
    }
}

/// Whether a task in this state has memory, files and the rest dumped (alive or stopped).
pub(crate) fn has_resources(state: u32) -> bool {
    matches!(state, TASK_ALIVE | TASK_STOPPED)
}

/// The images of one checkpoint.
pub(crate) struct Images<'a> {
    checkpoint: &'a Checkpoint,
    files: OnceCell<HashMap<u32, FileEntry>>,
}

impl<'a> Images<'a> {
    /// Wraps an opened checkpoint.
    pub(crate) fn new(checkpoint: &'a Checkpoint) -> Images<'a> {
        Images {
            checkpoint,
            files: OnceCell::new(),
        }
    }

    /// The checkpoint.
    pub(crate) fn checkpoint(&self) -> &'a Checkpoint {
        self.checkpoint
    }

    /// The label of an image in messages: `ARCHIVE: checkpoint/NAME`.
    pub(crate) fn label(&self, name: &str) -> String {
        format!("{}: {name}", self.checkpoint.display_name())
    }

    /// Every entry of image `name`.
    pub(crate) fn decode<M: CriuMessage>(&self, name: &str) -> Result<Vec<M>, Error> {
        let bytes = self.checkpoint.read_image(name)?;
        Ok(criu::read_entries::<M>(&self.label(name), &bytes)?)
    }

    /// Every entry of image `name`, or none if the checkpoint has no such image.
    pub(crate) fn decode_optional<M: CriuMessage>(&self, name: &str) -> Result<Vec<M>, Error> {
        if self.checkpoint.has_image(name) {
            self.decode(name)
        } else {
            Ok(Vec::new())
        }
    }

    /// The first entry of image `name`; an image without entries is an error.
    pub(crate) fn decode_first<M: CriuMessage>(&self, name: &str) -> Result<M, Error> {
        self.decode::<M>(name)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::EmptyImage {
                image: self.label(name),
            })
    }

    /// `pstree.img`: the processes, root first.
    pub(crate) fn pstree(&self) -> Result<Vec<PstreeEntry>, Error> {
        let entries = self.decode::<PstreeEntry>("pstree.img")?;
        if entries.is_empty() {
            return Err(Error::EmptyImage {
                image: self.label("pstree.img"),
            });
        }
        Ok(entries)
    }

    /// `core-PID.img` of a process (its main thread).
    pub(crate) fn core(&self, pid: u32) -> Result<CoreEntry, Error> {
        self.decode_first(&format!("core-{pid}.img"))
    }

    /// The kernel object ids of a process: `ids-PID.img`, or the copy inside `core-PID.img`
    /// that old CRIU wrote.
    pub(crate) fn ids(&self, pid: u32) -> Result<TaskKobjIdsEntry, Error> {
        let name = format!("ids-{pid}.img");
        if self.checkpoint.has_image(&name) {
            return self.decode_first(&name);
        }
        match self.core(pid)?.ids {
            Some(ids) => Ok(ids),
            None => Err(Error::MissingImage {
                image: self.label(&name),
            }),
        }
    }

    /// `fdinfo-ID.img`: the descriptors of a file table.
    pub(crate) fn fdinfo(&self, files_id: u32) -> Result<Vec<FdinfoEntry>, Error> {
        self.decode(&format!("fdinfo-{files_id}.img"))
    }

    /// `fs-PID.img`: cwd and root.
    pub(crate) fn fs(&self, pid: u32) -> Result<FsEntry, Error> {
        self.decode_first(&format!("fs-{pid}.img"))
    }

    /// `mm-PID.img`: the memory layout.
    pub(crate) fn mm(&self, pid: u32) -> Result<MmEntry, Error> {
        self.decode_first(&format!("mm-{pid}.img"))
    }

    /// Every file of the dump by id: `files.img`, completed by the per-type images
    /// (`reg-files.img`, `pipes.img`, `unixsk.img`, `inetsk.img`) of older CRIU.
    pub(crate) fn files(&self) -> Result<&HashMap<u32, FileEntry>, Error> {
        if let Some(files) = self.files.get() {
            return Ok(files);
        }
        let mut files: HashMap<u32, FileEntry> = self
            .decode_optional::<FileEntry>("files.img")?
            .into_iter()
            .map(|file| (file.id, file))
            .collect();
        for reg in self.decode_optional::<RegFileEntry>("reg-files.img")? {
            files.entry(reg.id).or_insert_with(|| FileEntry {
                r#type: FdTypes::REG as i32,
                id: reg.id,
                reg: Some(reg),
                ..FileEntry::default()
            });
        }
        for pipe in self.decode_optional::<PipeEntry>("pipes.img")? {
            files.entry(pipe.id).or_insert_with(|| FileEntry {
                r#type: FdTypes::PIPE as i32,
                id: pipe.id,
                pipe: Some(pipe),
                ..FileEntry::default()
            });
        }
        for usk in self.decode_optional::<UnixSkEntry>("unixsk.img")? {
            files.entry(usk.id).or_insert_with(|| FileEntry {
                r#type: FdTypes::UNIXSK as i32,
                id: usk.id,
                usk: Some(usk),
                ..FileEntry::default()
            });
        }
        for isk in self.decode_optional::<InetSkEntry>("inetsk.img")? {
            files.entry(isk.id).or_insert_with(|| FileEntry {
                r#type: FdTypes::INETSK as i32,
                id: isk.id,
                isk: Some(isk),
                ..FileEntry::default()
            });
        }
        Ok(self.files.get_or_init(|| files))
    }
}

/// The name of a file type (`REG`, `PIPE`, ...) or its number when unknown.
pub(crate) fn file_type_name(value: i32) -> String {
    FdTypes::proto_name(value).map_or_else(|| value.to_string(), str::to_owned)
}
