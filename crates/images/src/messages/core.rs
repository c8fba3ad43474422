//! Messages of CRIU's `core.proto`.

#[allow(unused_imports)]
use super::*;

criu_enum! {
    /// `seccomp_mode` (core.proto).
    SeccompMode = "seccomp_mode" {
        disabled = 0,
        strict = 1,
        filter = 2,
    }
}

criu_message! {
    /// `task_core_entry` (core.proto).
    TaskCoreEntry = "task_core_entry" {
        task_state(1, "task_state"): required uint32 [dict = "gen"];
        exit_code(2, "exit_code"): required uint32 [];
        personality(3, "personality"): required uint32 [];
        flags(4, "flags"): required uint32 [];
        blk_sigset(5, "blk_sigset"): required uint64 [hex];
        comm(6, "comm"): required string [];
        timers(7, "timers"): optional message TaskTimersEntry [];
        rlimits(8, "rlimits"): optional message TaskRlimitsEntry [];
        cg_set(9, "cg_set"): optional uint32 [];
        signals_s(10, "signals_s"): optional message SignalQueueEntry [];
        old_seccomp_mode(11, "old_seccomp_mode"): optional enumeration SeccompMode [];
        old_seccomp_filter(12, "old_seccomp_filter"): optional uint32 [];
        loginuid(13, "loginuid"): optional uint32 [];
        oom_score_adj(14, "oom_score_adj"): optional int32 [];
        sigactions(15, "sigactions"): repeated message SaEntry [];
        child_subreaper(18, "child_subreaper"): optional bool [];
        blk_sigset_extended(20, "blk_sigset_extended"): optional uint64 [hex];
        stop_signo(21, "stop_signo"): optional uint32 [];
        membarrier_registration_mask(22, "membarrier_registration_mask"): optional uint32 [hex];
    }
}

criu_message! {
    /// `task_kobj_ids_entry` (core.proto).
    TaskKobjIdsEntry = "task_kobj_ids_entry" {
        vm_id(1, "vm_id"): required uint32 [];
        files_id(2, "files_id"): required uint32 [];
        fs_id(3, "fs_id"): required uint32 [];
        sighand_id(4, "sighand_id"): required uint32 [];
        pid_ns_id(5, "pid_ns_id"): optional uint32 [];
        net_ns_id(6, "net_ns_id"): optional uint32 [];
        ipc_ns_id(7, "ipc_ns_id"): optional uint32 [];
        uts_ns_id(8, "uts_ns_id"): optional uint32 [];
        mnt_ns_id(9, "mnt_ns_id"): optional uint32 [];
        user_ns_id(10, "user_ns_id"): optional uint32 [];
        cgroup_ns_id(11, "cgroup_ns_id"): optional uint32 [];
        time_ns_id(12, "time_ns_id"): optional uint32 [];
    }
}

criu_message! {
    /// `thread_sas_entry` (core.proto).
    ThreadSasEntry = "thread_sas_entry" {
        ss_sp(1, "ss_sp"): required uint64 [];
        ss_size(2, "ss_size"): required uint64 [];
        ss_flags(3, "ss_flags"): required uint32 [];
    }
}

criu_message! {
    /// `thread_core_entry` (core.proto).
    ThreadCoreEntry = "thread_core_entry" {
        futex_rla(1, "futex_rla"): required uint64 [];
        futex_rla_len(2, "futex_rla_len"): required uint32 [];
        sched_nice(3, "sched_nice"): optional sint32 [];
        sched_policy(4, "sched_policy"): optional uint32 [];
        sched_prio(5, "sched_prio"): optional uint32 [];
        blk_sigset(6, "blk_sigset"): optional uint64 [];
        sas(7, "sas"): optional message ThreadSasEntry [];
        pdeath_sig(8, "pdeath_sig"): optional uint32 [];
        signals_p(9, "signals_p"): optional message SignalQueueEntry [];
        creds(10, "creds"): optional message CredsEntry [];
        seccomp_mode(11, "seccomp_mode"): optional enumeration SeccompMode [];
        seccomp_filter(12, "seccomp_filter"): optional uint32 [];
        comm(13, "comm"): optional string [];
        blk_sigset_extended(14, "blk_sigset_extended"): optional uint64 [];
        rseq_entry(15, "rseq_entry"): optional message RseqEntry [];
        cg_set(16, "cg_set"): optional uint32 [];
    }
}

criu_message! {
    /// `task_rlimits_entry` (core.proto).
    TaskRlimitsEntry = "task_rlimits_entry" {
        rlimits(1, "rlimits"): repeated message RlimitEntry [];
    }
}

criu_message! {
    /// `core_entry` (core.proto).
    CoreEntry = "core_entry" {
        mtype(1, "mtype"): required enumeration CoreEntryMarch [];
        thread_info(2, "thread_info"): optional message ThreadInfoX86 [];
        ti_arm(6, "ti_arm"): optional message ThreadInfoArm [];
        ti_aarch64(8, "ti_aarch64"): optional message ThreadInfoAarch64 [];
        ti_ppc64(9, "ti_ppc64"): optional message ThreadInfoPpc64 [];
        ti_s390(10, "ti_s390"): optional message ThreadInfoS390 [];
        ti_mips(11, "ti_mips"): optional message ThreadInfoMips [];
        ti_loongarch64(12, "ti_loongarch64"): optional message ThreadInfoLoongarch64 [];
        ti_riscv64(13, "ti_riscv64"): optional message ThreadInfoRiscv64 [];
        tc(3, "tc"): optional message TaskCoreEntry [];
        ids(4, "ids"): optional message TaskKobjIdsEntry [];
        thread_core(5, "thread_core"): optional message ThreadCoreEntry [];
    }
}

criu_enum! {
    /// `core_entry.march` (core.proto).
    CoreEntryMarch = "march" {
        UNKNOWN = 0,
        X86_64 = 1,
        ARM = 2,
        AARCH64 = 3,
        PPC64 = 4,
        S390 = 5,
        MIPS = 6,
        LOONGARCH64 = 7,
        RISCV64 = 8,
    }
}
