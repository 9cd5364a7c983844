/* SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause) */
/*
 * The one header shared by the kernel programs and user space: plain
 * fixed-width structs and constants, no kernel or libc types beyond the
 * __u* family, so both sides agree on every byte.
 */
#ifndef DNSVIS_EVENT_H
#define DNSVIS_EVENT_H

#include <linux/types.h>

/* Largest DNS payload one event carries. Bounded so the verifier can check
 * the copy; a UDP message is at most this large in practice (EDNS buffers
 * are 1232..4096), a TCP segment larger than this is marked as cut and the
 * reassembler resynchronises. */
#define DNSVIS_MAX_CAPTURE 8192

/* How many DNS ports the kernel filter matches. */
#define DNSVIS_MAX_PORTS 8

#define DNSVIS_COMM_LEN 16

enum dnsvis_direction {
	DNSVIS_EGRESS = 0,
	DNSVIS_INGRESS = 1,
};

/* Per-CPU counters kept by the kernel programs, summed by user space. */
enum dnsvis_counter {
	DNSVIS_COUNTER_CAPTURED = 0,     /* events written to the ring buffer */
	DNSVIS_COUNTER_RINGBUF_FULL = 1, /* events lost: ring buffer full */
	DNSVIS_COUNTER_CUT = 2,          /* events whose payload exceeded the snap length */
	DNSVIS_COUNTER_FILTERED = 3,     /* DNS packets skipped by the visibility scope */
	DNSVIS_COUNTER_UNREADABLE = 4,   /* events lost: the payload could not be copied */
	DNSVIS_COUNTER_MAX = 5,
};

/* Flags in dnsvis_event.flags. */
#define DNSVIS_EVENT_F_IPV6 0x01
#define DNSVIS_EVENT_F_TCP 0x02
#define DNSVIS_EVENT_F_OWNER_FROM_SOCKET 0x04 /* pid/comm came from the socket map */
#define DNSVIS_EVENT_F_OWNER_FROM_CURRENT 0x08 /* pid/comm came from the current task */

/*
 * One captured DNS packet (UDP datagram or TCP segment payload). Followed in
 * the ring buffer by capture_len bytes of payload. Addresses and ports are
 * in network byte order exactly as on the wire; IPv4 addresses use the first
 * four bytes of the 16-byte fields.
 */
struct dnsvis_event {
	__u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 socket_cookie;
	__u64 cgroup_id;    /* cgroup v2 id of the socket's cgroup, as recorded with its owner */
	__u32 pid;          /* thread group id of the socket owner, 0 if unknown */
	__u32 tid;
	__u32 uid;
	__u32 payload_len;  /* L4 payload length on the wire */
	__u32 tcp_seq;      /* host order; TCP only */
	__u16 capture_len;  /* bytes of payload that follow */
	__u16 source_port;  /* network order */
	__u16 dest_port;    /* network order */
	__u8 direction;     /* enum dnsvis_direction */
	__u8 flags;         /* DNSVIS_EVENT_F_* */
	__u8 tcp_flags;     /* FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 */
	__u8 reserved[7];
	__u8 source_addr[16];
	__u8 dest_addr[16];
	char comm[DNSVIS_COMM_LEN];
};

/* Value of the socket map: who owns a socket, recorded in process context. */
struct dnsvis_socket_owner {
	__u32 pid;
	__u32 tid;
	__u32 uid;
	__u32 reserved;
	__u64 cgroup_id;
	char comm[DNSVIS_COMM_LEN];
};

/*
 * The program a process runs, as of its last exec, in dnsvis_execs (tgid ->
 * record): written by the exec tracepoint, and copied to a child by the fork
 * tracepoint (a child runs its parent's program until it execs). A client
 * that exits before user space reads /proc/PID/exe (dig, getent, curl in a
 * script: most of them, with drains up to 100 ms apart) is named from this.
 */
#define DNSVIS_EXEC_PATH_LEN 256
#define DNSVIS_MAX_EXECS 8192

struct dnsvis_exec_record {
	/* bpf_ktime_get_ns() when the pid took this record: its exec, or the
	 * fork that copied its parent's. A packet seen earlier was someone
	 * else's, from before the pid was reused. */
	__u64 since_ns;
	__u64 file_ino;      /* inode number of the file the kernel loaded */
	/* The process's root directory: whose file tree the path is in. */
	__u64 root_ino;
	__u32 root_dev;      /* the kernel's dev_t: major << 20 | minor */
	__u32 path_len;      /* bytes of path, NUL included; DNSVIS_EXEC_PATH_LEN: cut */
	char comm[DNSVIS_COMM_LEN]; /* the program's name, as exec set it */
	/* The file the kernel loaded: for a script, its interpreter (as
	 * /proc/PID/exe says), named as the shebang or caller named it. */
	char path[DNSVIS_EXEC_PATH_LEN];
};

/*
 * How the packet programs learn who sends a UDP datagram: chosen by user
 * space when it loads them (rodata sender_source), from what the kernel
 * allows. A datagram leaves in its sender's own context, but only recent
 * kernels let a cgroup_skb program ask who that is (Linux 6.1, Debian 12's
 * kernel, does not).
 */
enum dnsvis_sender_source {
	DNSVIS_SENDER_HELPERS = 0,    /* bpf_get_current_pid_tgid() and friends */
	DNSVIS_SENDER_TASK = 1,       /* the current task_struct, read with CO-RE:
				       * kernel BTF and CAP_PERFMON */
	DNSVIS_SENDER_SOCKET_MAP = 2, /* neither: sendmsg4/6 programs record the
				       * owner in process context, at the cost of
				       * the socket lock on unconnected UDP sends */
};

/* Runtime switches, one entry of an array map, changed without reloading. */
struct dnsvis_settings {
	__u32 global_enabled;
	/* Set by user space before it goes idle: the next event wakes it at
	 * once. Otherwise events wait for a batch or the drain timer. */
	__u32 wake_on_next;
	/* Set by user space after each drain; the first event that finds the
	 * ring past the batch threshold wakes user space once and clears it,
	 * so a filling ring costs one wake-up, not one per event. */
	__u32 batch_wake_armed;
	/* DNSVIS_SCOPE_F_*: which scope maps hold rules. With none, the
	 * programs look at global_enabled alone and never at the maps. */
	__u32 scope_rules;
};

/*
 * Visibility scopes. The most specific rule wins: the socket owner's process
 * (dnsvis_scope_processes, tgid -> DNSVIS_SCOPE_*), then its container, then
 * its unit, both in dnsvis_scope_cgroups (cgroup id -> struct
 * dnsvis_scope_verdict) and matched against every ancestor of the socket's
 * cgroup, the deepest one deciding. A cgroup can be a unit and a container
 * at once (docker-<id>.scope), hence one field per kind.
 */
#define DNSVIS_SCOPE_F_CGROUPS 0x1   /* dnsvis_scope_cgroups is not empty */
#define DNSVIS_SCOPE_F_PROCESSES 0x2 /* dnsvis_scope_processes is not empty */

#define DNSVIS_SCOPE_NONE 0     /* no rule of this kind here */
#define DNSVIS_SCOPE_DISABLED 1
#define DNSVIS_SCOPE_ENABLED 2

/* Ancestors of a cgroup looked at, root included; deeper ones are not. */
#define DNSVIS_SCOPE_MAX_DEPTH 32
#define DNSVIS_SCOPE_MAX_CGROUPS 16384
#define DNSVIS_SCOPE_MAX_PROCESSES 4096

struct dnsvis_scope_verdict {
	__u8 unit;      /* DNSVIS_SCOPE_* of a unit rule naming this cgroup */
	__u8 container; /* DNSVIS_SCOPE_* of a container rule naming it */
	__u8 reserved[6];
};

#endif
