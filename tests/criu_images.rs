//! Typed decoding of the real CRIU fixtures through `criu::read_entries` and `criu::PageMap`.

use std::path::Path;

use kubectl_checkpoint::criu::messages::{
    CoreEntry, FdinfoEntry, FileEntry, FsEntry, InventoryEntry, MmEntry, PipeDataEntry,
    PstreeEntry, TaskKobjIdsEntry,
};
use kubectl_checkpoint::criu::{read_entries, CriuMessage, Error, PageMap};

fn fixture(rel: &str) -> (String, Vec<u8>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (rel.to_owned(), bytes)
}

fn read<M: CriuMessage>(rel: &str) -> Vec<M> {
    let (name, bytes) = fixture(rel);
    read_entries::<M>(&name, &bytes).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn pstree_of_the_python_dump() {
    let tree = read::<PstreeEntry>("criu-4.2/py/pstree.img");
    assert_eq!(tree.len(), 1);
    assert_eq!(tree[0].pid, 24390);
    assert_eq!(tree[0].threads, vec![24390]);
}

#[test]
fn pstree_of_the_process_tree() {
    for dir in ["criu-4.2/tree", "criu-4.1/tree"] {
        let tree = read::<PstreeEntry>(&format!("{dir}/pstree.img"));
        let pids: Vec<_> = tree.iter().map(|p| (p.pid, p.ppid)).collect();
        assert_eq!(
            pids,
            [(24391, 0), (24393, 24391), (24394, 24391), (24395, 24391)],
            "{dir}"
        );
    }
}

#[test]
fn core_has_comm_and_x86_registers() {
    let core = read::<CoreEntry>("criu-4.2/py/core-24390.img");
    assert_eq!(core.len(), 1);
    let tc = core[0].tc.as_ref().expect("tc");
    assert_eq!(tc.comm, "python3");
    let ti = core[0].thread_info.as_ref().expect("x86 thread_info");
    assert!(ti.gpregs.ip > 0x1000);
    assert!(ti.gpregs.sp > 0x7f00_0000_0000);
    assert_eq!(core[0].mtype, 1); // X86_64
}

#[test]
fn mm_bounds_argv_and_environ() {
    let mm = read::<MmEntry>("criu-4.2/py/mm-24390.img");
    assert_eq!(mm.len(), 1);
    assert!(mm[0].mm_arg_start < mm[0].mm_arg_end);
    assert!(mm[0].mm_arg_end <= mm[0].mm_env_start);
    assert!(mm[0].vmas.len() > 10);
}

#[test]
fn files_and_fdinfo_name_the_open_files() {
    let files = read::<FileEntry>("criu-4.2/py/files.img");
    let names: Vec<_> = files
        .iter()
        .filter_map(|f| f.reg.as_ref())
        .map(|r| r.name.as_str())
        .collect();
    assert!(names.contains(&"/srv/app/state.txt"), "{names:?}");
    assert!(names.contains(&"/etc/hostname"), "{names:?}");
    let isk = files
        .iter()
        .find_map(|f| f.isk.as_ref())
        .expect("inet socket");
    assert_eq!(isk.src_port, 18765);
    let fds = read::<FdinfoEntry>("criu-4.2/py/fdinfo-2.img");
    assert!(fds.iter().any(|f| f.fd == 5));
    assert_eq!(read::<FsEntry>("criu-4.2/py/fs-24390.img").len(), 1);
    assert_eq!(
        read::<TaskKobjIdsEntry>("criu-4.2/py/ids-24390.img").len(),
        1
    );
    assert_eq!(read::<InventoryEntry>("criu-4.2/py/inventory.img").len(), 1);
}

#[test]
fn pipes_data_has_its_payload() {
    let data = read::<PipeDataEntry>("criu-4.2/tree/pipes-data.img");
    assert_eq!(data.len(), 1);
    assert_eq!(data[0].size, Some(65536));
}

#[test]
fn pagemap_page_counts_in_both_versions() {
    for (dir, pid) in [("criu-4.2/tree", 24393), ("criu-4.1/tree", 24393)] {
        let (name, bytes) = fixture(&format!("{dir}/pagemap-{pid}.img"));
        let map = PageMap::decode(&name, &bytes).unwrap();
        let (_, pages) = fixture(&format!("{dir}/pages-{}.img", map.pages_id));
        assert_eq!(map.present_bytes(), pages.len() as u64, "{dir}");
        assert!(map.runs.iter().all(|r| r.nr_pages > 0), "{dir}");
    }
}

#[test]
fn wrong_magic_is_named() {
    let (name, bytes) = fixture("criu-4.2/py/core-24390.img");
    let err = read_entries::<PstreeEntry>(&name, &bytes).unwrap_err();
    assert!(matches!(err, Error::WrongMagic { .. }));
    assert_eq!(
        err.to_string(),
        "criu-4.2/py/core-24390.img: is a CORE image, expected PSTREE"
    );
}
