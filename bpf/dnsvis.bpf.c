// SPDX-License-Identifier: (LGPL-2.1-or-later OR BSD-2-Clause)
/*
 * dnsvis kernel programs.
 *
 * cgroup_skb egress/ingress on the cgroup2 root see every packet of every
 * socket on the host. They keep DNS (UDP and TCP on the configured ports),
 * copy a fixed header and the DNS payload into a ring buffer, and always let
 * the packet pass: dnsvis observes, it never interferes.
 *
 * Responses arrive in softirq context, where "current" is whoever happened to
 * run, so the socket's owner is recorded in process context in a
 * socket-cookie map and looked up for every packet of that socket: by the
 * egress program for UDP, whose datagrams leave in the sender's own
 * context, and by the connect hooks for TCP, which transmits from timers and
 * softirqs too.
 *
 * Who sends a UDP datagram, the egress program asks the kernel directly
 * where it may (see enum dnsvis_sender_source). Where it may not, on
 * kernels like 6.1 loaded without kernel BTF or CAP_PERFMON, the "plain"
 * packet programs run instead, and sendmsg hooks record the sender: a
 * sendmsg program makes the kernel take the socket lock on every
 * unconnected UDP send on the host, DNS or not, which alone cost about 7%
 * of the queries per second a loopback DNS server managed (tests/bench).
 *
 * The plain programs are the same code compiled without anything the
 * kernel allows a privileged loader only: no helper that names the
 * current task, no read of kernel memory, no packet pointer moved by a
 * variable offset. A switch in read-only data would not do for them:
 * older verifiers (6.1), loading for a process without CAP_PERFMON, also
 * walk the branches a mispredicting CPU might take, whatever the data says.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "dnsvis_event.h"

#define SK_PASS 1

/* Tunables, set by the loader between open and load. */
const volatile __u16 dns_ports[DNSVIS_MAX_PORTS] = { 0 }; /* network order */
const volatile __u32 dns_port_count = 0;
const volatile __u32 capture_server_side = 0;
const volatile __u32 snap_length = 4096;
/* Read the process name from the thread group leader (needs kernel BTF and
 * CAP_PERFMON); otherwise user space reads /proc/PID/comm. The sending
 * thread's own comm is often a worker's ("isc-net-0000" for dig). */
const volatile __u32 read_leader_comm = 0;
/* DNSVIS_SENDER_HELPERS or DNSVIS_SENDER_TASK, for the full programs (the
 * plain ones take the socket map's word). The verifier knows this value,
 * so a privileged load never checks the other source's branch, whose
 * helpers this kernel may refuse in a cgroup_skb program. */
const volatile __u32 sender_source = DNSVIS_SENDER_HELPERS;
/* Whether headers may be read straight from the packet. The verifier
 * allows a variable offset into it (the IP header's length) only to a
 * loader with CAP_PERFMON; without, every header is copied by the helper. */
const volatile __u32 direct_header_reads = 1;
/* Whether bpf_get_current_comm() may be called, in cgroup_skb and in
 * sock_addr programs: recent kernels want CAP_PERFMON for it. Without, the
 * name is left empty, and user space reads /proc/PID/comm. */
const volatile __u32 comm_helper_in_skb = 1;
const volatile __u32 comm_helper_in_sock_addr = 1;
/* Wake user space only when this much data waits; a timer drains the rest.
 * One wake-up per event is what makes naive ring-buffer tracers slow. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* How often a CPU asks the ring how full it is: every this many events it
 * captures. The question is a helper call; asked for every event, it was a
 * share of each capturing run, and between two checks a CPU adds a few KiB
 * to a threshold of a quarter of the ring. A power of two. */
#define WAKE_CHECK_EVERY 32

/* Just the fields dnsvis reads; CO-RE finds their offsets in the running
 * kernel's BTF, so no vmlinux.h is needed. */
struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct dentry {
	struct inode *d_inode;
} __attribute__((preserve_access_index));

struct path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
} __attribute__((preserve_access_index));

typedef struct {
	__u32 val;
} kuid_t;

struct cred {
	kuid_t uid;
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	struct fs_struct *fs;
	const struct cred *cred;
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct linux_binprm {
	struct file *file;
	const char *interp;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* resized by the loader */
} dnsvis_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* socket cookie */
	__type(value, struct dnsvis_socket_owner);
} dnsvis_sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DNSVIS_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} dnsvis_counters SEC(".maps");

/* Memory-mapped: user space re-arms the batch wake-up after every drain,
 * a thousand times a second at full load, with a store instead of a
 * system call. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct dnsvis_settings);
} dnsvis_settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DNSVIS_SCOPE_MAX_CGROUPS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct dnsvis_scope_verdict);
} dnsvis_scope_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DNSVIS_SCOPE_MAX_PROCESSES);
	__type(key, __u32); /* tgid */
	__type(value, __u32); /* DNSVIS_SCOPE_ENABLED or DNSVIS_SCOPE_DISABLED */
} dnsvis_scope_processes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DNSVIS_MAX_EXECS);
	__type(key, __u32); /* tgid */
	__type(value, struct dnsvis_exec_record);
} dnsvis_execs SEC(".maps");

/* The plain programs' record, assembled here and then copied into the ring
 * (see record()). */
struct plain_record {
	struct dnsvis_event event;
	__u8 payload[DNSVIS_MAX_CAPTURE];
};

/* Two per CPU: a run in process context (a UDP send) may be interrupted on
 * its CPU by a softirq that runs the programs for another packet, and each
 * needs a record of its own; softirqs do not interrupt each other. */
#define PLAIN_SLOTS 2

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PLAIN_SLOTS);
	__type(key, __u32);
	__type(value, struct plain_record);
} dnsvis_scratch SEC(".maps");

/* How many runs on this CPU hold a scratch slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dnsvis_scratch_depth SEC(".maps");

/* Map keys on the stack are written whole 8-byte slots (the maps read the
 * first 4 bytes, little-endian): an older verifier loading for a process
 * without CAP_PERFMON refuses a 4-byte store into a slot where the compiler
 * earlier kept a pointer. */
typedef __u64 stack_key;

/* Returns the counter's value on this CPU after the increment. */
static __always_inline __u64 count(__u32 counter)
{
	stack_key key = counter;
	__u64 *value = bpf_map_lookup_elem(&dnsvis_counters, &key);

	if (!value)
		return 0;
	/* Atomic although the slot is this CPU's own: an egress run in process
	 * context can be interrupted by an ingress run in softirq on the same
	 * CPU, and a plain load-add-store would then lose one of the two
	 * counts, most likely when the ring is full and losses are counted.
	 * The value read back only paces the wake-up check, where a nested
	 * run's increment does no harm. */
	__sync_fetch_and_add(value, 1);
	return *value;
}

static __always_inline int is_dns_port(__u16 port)
{
#pragma unroll
	for (int i = 0; i < DNSVIS_MAX_PORTS; i++) {
		if (i >= dns_port_count)
			break;
		if (dns_ports[i] == port)
			return 1;
	}
	return 0;
}

/* Client side: queries leave towards a DNS port, answers come back from one.
 * Server side: the mirror image. */
static __always_inline int wanted(int direction, __u16 source_port, __u16 dest_port)
{
	__u16 server_port = direction == DNSVIS_EGRESS ? dest_port : source_port;
	__u16 local_port = direction == DNSVIS_EGRESS ? source_port : dest_port;

	if (is_dns_port(server_port))
		return 1;
	return capture_server_side && is_dns_port(local_port);
}

static __always_inline struct dnsvis_settings *settings(void)
{
	stack_key zero = 0;

	return bpf_map_lookup_elem(&dnsvis_settings, &zero);
}

/* Whether a program of this kind reads the current task instead of asking
 * the helpers: cgroup_skb programs do where the kernel refuses them the
 * helpers; sock_addr programs have had them all along. */
static __always_inline int reads_task(int in_skb)
{
	return in_skb && sender_source == DNSVIS_SENDER_TASK;
}

/* What bpf_get_current_pid_tgid() returns, read from the task. */
static __always_inline __u64 task_pid_tgid(struct task_struct *task)
{
	return (__u64)BPF_CORE_READ(task, tgid) << 32 | (__u32)BPF_CORE_READ(task, pid);
}

static __always_inline __u64 current_pid_tgid(int in_skb)
{
	if (reads_task(in_skb))
		return task_pid_tgid((struct task_struct *)bpf_get_current_task());
	return bpf_get_current_pid_tgid();
}

/* The process in whose context this runs. In a cgroup_skb program, only
 * for a UDP send, and only in the full programs. */
static __always_inline void owner_from_current(struct dnsvis_socket_owner *owner, __u64 cgroup_id, int in_skb,
						const int plain)
{
	const int task_reads = reads_task(in_skb);
	struct task_struct *task = 0;
	__u64 pid_tgid;

	/* Asked once for all the reads below. The plain programs never ask. */
	if (task_reads || (!plain && read_leader_comm))
		task = (struct task_struct *)bpf_get_current_task();
	pid_tgid = task_reads ? task_pid_tgid(task) : bpf_get_current_pid_tgid();
	owner->pid = pid_tgid >> 32;
	owner->tid = (__u32)pid_tgid;
	if (task_reads)
		owner->uid = BPF_CORE_READ(task, cred, uid.val);
	else
		owner->uid = (__u32)bpf_get_current_uid_gid();
	owner->reserved = 0;
	owner->cgroup_id = cgroup_id;
	if (!plain && read_leader_comm) {
		struct task_struct *leader = BPF_CORE_READ(task, group_leader);

		if (bpf_probe_read_kernel_str(owner->comm, sizeof(owner->comm), &leader->comm) > 0)
			return;
	}
	if (task_reads) {
		if (bpf_probe_read_kernel_str(owner->comm, sizeof(owner->comm), &task->comm) <= 0)
			__builtin_memset(owner->comm, 0, sizeof(owner->comm));
		return;
	}
	if (in_skb ? comm_helper_in_skb : comm_helper_in_sock_addr)
		bpf_get_current_comm(owner->comm, sizeof(owner->comm));
	else
		__builtin_memset(owner->comm, 0, sizeof(owner->comm));
}

/* Whether the egress program knows a UDP datagram's sender by itself: the
 * full one does, the plain one asks the socket map. */
static __always_inline int sender_is_current(int direction, __u8 protocol, const int plain)
{
	return !plain && direction == DNSVIS_EGRESS && protocol == IPPROTO_UDP;
}

/* Reserves a record with room for capture_len payload bytes. A reservation
 * must have a size known to the verifier, so records come in a few fixed
 * sizes; in exchange the payload is copied from the packet straight into the
 * ring, once, instead of through a scratch buffer and a second copy. The
 * slack at the end of a record is never read: capture_len says what counts. */
#define RESERVE_FOR(size)                                                                  \
	if (capture_len <= (size))                                                         \
		return bpf_ringbuf_reserve(&dnsvis_events, sizeof(struct dnsvis_event) + (size), 0)

static __always_inline struct dnsvis_event *reserve_record(__u64 capture_len)
{
	RESERVE_FOR(64);
	RESERVE_FOR(128);
	RESERVE_FOR(256);
	RESERVE_FOR(512);
	RESERVE_FOR(1536);
	RESERVE_FOR(4096);
	RESERVE_FOR(DNSVIS_MAX_CAPTURE);
	return NULL;
}

/* The process a packet belongs to, for process rules: the sender of a UDP
 * datagram, or else the socket's owner as recorded in process context. */
static __always_inline __u32 scope_tgid(struct __sk_buff *skb, int direction, __u8 protocol, const int plain)
{
	struct dnsvis_socket_owner *owner;
	__u64 cookie;

	if (sender_is_current(direction, protocol, plain))
		return current_pid_tgid(1) >> 32;
	cookie = bpf_get_socket_cookie(skb);
	owner = bpf_map_lookup_elem(&dnsvis_sockets, &cookie);
	return owner ? owner->pid : 0;
}

/* Whether the visibility scope covers this packet: the most specific rule
 * wins (see dnsvis_event.h). */
static __always_inline int scope_verdict(struct __sk_buff *skb, int direction, __u8 protocol, __u32 rules,
					 const int plain)
{
	struct dnsvis_scope_verdict *verdict;
	__u8 unit = DNSVIS_SCOPE_NONE, container = DNSVIS_SCOPE_NONE;
	__u32 tgid, *process;

	if (rules & DNSVIS_SCOPE_F_PROCESSES) {
		tgid = scope_tgid(skb, direction, protocol, plain);
		process = tgid ? bpf_map_lookup_elem(&dnsvis_scope_processes, &tgid) : NULL;
		if (process)
			return *process == DNSVIS_SCOPE_ENABLED;
	}
	if (!(rules & DNSVIS_SCOPE_F_CGROUPS))
		return -1;

	/* From the root down to the socket's own cgroup, where the ancestor
	 * id becomes 0: what a deeper rule says replaces a shallower one.
	 * Unrolled: an older verifier loading for a process without
	 * CAP_PERFMON also walks the loop's mispredicted exit, where the
	 * compiler's "level != 32" never comes true again. */
#pragma unroll
	for (int level = 0; level < DNSVIS_SCOPE_MAX_DEPTH; level++) {
		__u64 id = bpf_skb_ancestor_cgroup_id(skb, level);

		if (!id)
			break;
		verdict = bpf_map_lookup_elem(&dnsvis_scope_cgroups, &id);
		if (!verdict)
			continue;
		if (verdict->unit)
			unit = verdict->unit;
		if (verdict->container)
			container = verdict->container;
	}
	if (container)
		return container == DNSVIS_SCOPE_ENABLED;
	if (unit)
		return unit == DNSVIS_SCOPE_ENABLED;
	return -1; /* no rule: global decides */
}

/* Kept out of line: they run only while a rule exists, and then walk the
 * socket's cgroup ancestry. */
static __noinline int scope_covers(struct __sk_buff *skb, int direction, __u8 protocol, __u32 rules)
{
	return scope_verdict(skb, direction, protocol, rules, 0);
}

static __noinline int scope_covers_plain(struct __sk_buff *skb, int direction, __u8 protocol, __u32 rules)
{
	return scope_verdict(skb, direction, protocol, rules, 1);
}

static __always_inline int in_scope(struct __sk_buff *skb, struct dnsvis_settings *config, int direction,
				    __u8 protocol, const int plain)
{
	int covered;

	if (!config->scope_rules)
		return config->global_enabled;
	covered = plain ? scope_covers_plain(skb, direction, protocol, config->scope_rules)
			: scope_covers(skb, direction, protocol, config->scope_rules);
	return covered < 0 ? config->global_enabled : covered;
}

static __always_inline void set_owner(struct dnsvis_event *event, const struct dnsvis_socket_owner *owner,
				      __u8 source_flag)
{
	event->pid = owner->pid;
	event->tid = owner->tid;
	event->uid = owner->uid;
	__builtin_memcpy(event->comm, owner->comm, sizeof(event->comm));
	event->flags |= source_flag;
}

/* Copies a header from the packet. Headers nearly always sit in the linear
 * part of the buffer, where reading them directly costs no helper call: on
 * these hosts a helper call is a measurable share of a program run, and the
 * headers are read for every packet on the host, DNS or not. The helper
 * remains the fallback. The offset bound lets the verifier check the access. */
static __always_inline int read_header(struct __sk_buff *skb, __u32 offset, void *to, const __u32 len,
				       const int plain)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!plain && direct_header_reads && offset <= 64 && data + offset + len <= data_end) {
		__builtin_memcpy(to, data + offset, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, offset, to, len);
}

/* IPv6 extension headers that may stand between the fixed header and UDP
 * or TCP (RFC 8200 4.1): hop-by-hop and destination options (a host with
 * CALIPSO labels puts them on every packet), a routing header, and a
 * fragment header around a whole datagram (an "atomic" fragment, which
 * ingress can still carry). At most this many are walked. */
#define IPV6_HOP_BY_HOP 0
#define IPV6_ROUTING 43
#define IPV6_FRAGMENT 44
#define IPV6_DESTINATION_OPTIONS 60
#define MAX_IPV6_EXTENSIONS 4

/* Moves `protocol` and `offset` past the extension headers to UDP or TCP.
 * Returns non-zero when the packet holds neither within the limit, or is
 * a fragment of a larger datagram (which holds no whole DNS message). */
static __always_inline int skip_ipv6_extensions(struct __sk_buff *skb, __u8 *protocol, __u32 *offset,
						const int plain)
{
	__u8 header[8];

#pragma unroll
	for (int i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
		if (*protocol == IPPROTO_UDP || *protocol == IPPROTO_TCP)
			return 0;
		if (*protocol == IPV6_HOP_BY_HOP || *protocol == IPV6_ROUTING ||
		    *protocol == IPV6_DESTINATION_OPTIONS) {
			/* Next header, then the length in 8-byte units beyond the first. */
			if (read_header(skb, *offset, header, 2, plain))
				return -1;
			*protocol = header[0];
			*offset += ((__u32)header[1] + 1) * 8;
		} else if (*protocol == IPV6_FRAGMENT) {
			if (read_header(skb, *offset, header, 8, plain))
				return -1;
			/* The fragment offset (13 bits) and the more-fragments flag. */
			if (((header[2] << 8) | header[3]) & 0xfff9)
				return -1;
			*protocol = header[0];
			*offset += 8;
		} else {
			return -1;
		}
	}
	return *protocol == IPPROTO_UDP || *protocol == IPPROTO_TCP ? 0 : -1;
}

/* What capture() read from a packet's headers. */
struct packet {
	__u8 source_addr[16];
	__u8 dest_addr[16];
	__u32 payload_offset;
	__u32 payload_len;
	__u32 tcp_seq;
	__u16 source_port; /* network order */
	__u16 dest_port;
	__u8 protocol;
	__u8 tcp_flags;
	__u8 family_flags;
};

/* How bpf_ringbuf_submit() or _output() should wake user space: at once
 * when it is about to go idle, once when the ring has filled past the batch
 * threshold since the last drain (asked only when `check_fill`: the
 * question is a helper call), else not at all. */
static __always_inline __u64 wake_flags(struct dnsvis_settings *config, int check_fill)
{
	if (config->wake_on_next)
		return BPF_RB_FORCE_WAKEUP;
	if (config->batch_wake_armed && check_fill &&
	    bpf_ringbuf_query(&dnsvis_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes) {
		config->batch_wake_armed = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* The length of a plain record's payload, for a capture_len of 1 to
 * DNSVIS_MAX_CAPTURE: that value, computed without a branch. The plain
 * programs' verifier also walks paths where a branch went the wrong way,
 * and there a length bounded by a test would be unbounded. */
static __always_inline __u64 plain_length(__u64 capture_len)
{
	return ((capture_len - 1) & (DNSVIS_MAX_CAPTURE - 1)) + 1;
}

/* Copies a plain record, assembled in dnsvis_scratch, into the ring: a
 * second copy, where the full programs fill their reservation in place,
 * because a reservation's size must be bounded as a plain_length() cannot
 * make it for the size classes. Without the every-32nd pacing of the wake-up
 * check either: plain is the fallback, not the fast path. */
static __always_inline int submit_plain(struct dnsvis_event *event, struct dnsvis_settings *config, __u64 payload,
					int cut)
{
	if (bpf_ringbuf_output(&dnsvis_events, event, sizeof(*event) + payload, wake_flags(config, 1))) {
		count(DNSVIS_COUNTER_RINGBUF_FULL);
		return SK_PASS;
	}
	count(DNSVIS_COUNTER_CAPTURED);
	if (cut)
		count(DNSVIS_COUNTER_CUT);
	return SK_PASS;
}

/* A UDP send runs in the sender's context, so "current" is the owner of
 * the socket `cookie`, and it is remembered for the answer, which arrives
 * in softirq. Returns non-zero, with the sender in `fresh`, when the map
 * did not name it yet: it is written only when the socket is new or
 * another process now sends on it (a socket passed on or inherited). */
static __always_inline int remember_sender(struct __sk_buff *skb, __u64 cookie,
					   const struct dnsvis_socket_owner *owner,
					   struct dnsvis_socket_owner *fresh, const int plain)
{
	if (owner && owner->pid == current_pid_tgid(1) >> 32)
		return 0;
	owner_from_current(fresh, bpf_skb_cgroup_id(skb), 1, plain);
	if (fresh->pid)
		bpf_map_update_elem(&dnsvis_sockets, &cookie, fresh, BPF_ANY);
	return 1;
}

/* Writes a packet's record into the ring. Inlined twice, for packets with
 * a payload and for those without (a TCP SYN, FIN or RST, an empty UDP
 * datagram), so the second holds no copy at all. Older verifiers (Linux
 * 6.1), loading for a process without CAP_PERFMON, also walk the branch a
 * CPU might mispredict, with the compared value unknown: a copy guarded by
 * "capture_len > 0" where capture_len is 0 would be walked with a length
 * they cannot bound, and the programs refused. */
static __always_inline int record(struct __sk_buff *skb, int direction, const struct packet *p,
				  const int has_payload, const int plain)
{
	struct dnsvis_socket_owner *owner;
	struct dnsvis_settings *config;
	struct dnsvis_event *event;
	__u32 *depth = NULL; /* plain: this CPU's scratch slots in use */
	__u64 capture_len = 0;
	int cut = 0;
	__u64 cookie, event_cgroup_id, captured;

	config = settings();
	if (!config)
		return SK_PASS;
	if (!in_scope(skb, config, direction, p->protocol, plain)) {
		/* The answer to a filtered datagram arrives in softirq, where
		 * only the socket's recorded owner tells a process rule whose
		 * it is: without it a disabled process's answers, on a socket
		 * no connect() named, would be captured. */
		if (sender_is_current(direction, p->protocol, plain)) {
			struct dnsvis_socket_owner fresh;

			cookie = bpf_get_socket_cookie(skb);
			remember_sender(skb, cookie, bpf_map_lookup_elem(&dnsvis_sockets, &cookie), &fresh, plain);
		}
		count(DNSVIS_COUNTER_FILTERED);
		return SK_PASS;
	}

	if (has_payload) {
		capture_len = p->payload_len;
		/* Counted as cut once the record is in the ring: a lost one
		 * is counted as lost alone. */
		if (capture_len > snap_length) {
			capture_len = snap_length;
			cut = 1;
		}
		/* Keep the compiler from folding the bound into signed
		 * arithmetic the verifier cannot follow; the copy below must
		 * be provably in range. */
		asm volatile("" : "+r"(capture_len));
		if (capture_len > DNSVIS_MAX_CAPTURE)
			capture_len = DNSVIS_MAX_CAPTURE;
	}

	if (plain) {
		stack_key zero = 0, slot;

		depth = bpf_map_lookup_elem(&dnsvis_scratch_depth, &zero);
		if (!depth)
			return SK_PASS; /* cannot happen: the one entry is always there */
		if (*depth >= PLAIN_SLOTS) {
			count(DNSVIS_COUNTER_RINGBUF_FULL); /* no record to assemble it in */
			return SK_PASS;
		}
		slot = *depth;
		event = bpf_map_lookup_elem(&dnsvis_scratch, &slot);
		if (!event)
			return SK_PASS; /* cannot happen: both entries are always there */
		*depth += 1;
	} else {
		event = reserve_record(capture_len);
		if (!event) {
			count(DNSVIS_COUNTER_RINGBUF_FULL);
			return SK_PASS;
		}
	}
	event->flags = p->family_flags;
	__builtin_memcpy(event->source_addr, p->source_addr, sizeof(p->source_addr));
	__builtin_memcpy(event->dest_addr, p->dest_addr, sizeof(p->dest_addr));

	cookie = bpf_get_socket_cookie(skb);
	owner = bpf_map_lookup_elem(&dnsvis_sockets, &cookie);
	if (sender_is_current(direction, p->protocol, plain)) {
		struct dnsvis_socket_owner fresh;

		if (remember_sender(skb, cookie, owner, &fresh, plain)) {
			event_cgroup_id = fresh.cgroup_id;
			set_owner(event, &fresh, DNSVIS_EVENT_F_OWNER_FROM_CURRENT);
		} else {
			event_cgroup_id = owner->cgroup_id;
			set_owner(event, owner, DNSVIS_EVENT_F_OWNER_FROM_CURRENT);
		}
	} else if (owner) {
		/* A socket keeps the cgroup it was made in, and its owner was
		 * recorded with it: asking the packet again is a helper call
		 * per event for the same answer. */
		event_cgroup_id = owner->cgroup_id;
		set_owner(event, owner, DNSVIS_EVENT_F_OWNER_FROM_SOCKET);
	} else {
		event_cgroup_id = bpf_skb_cgroup_id(skb);
		event->pid = 0;
		event->tid = 0;
		event->uid = 0;
		__builtin_memset(event->comm, 0, sizeof(event->comm));
	}

	event->timestamp_ns = bpf_ktime_get_ns();
	event->socket_cookie = cookie;
	event->cgroup_id = event_cgroup_id;
	event->payload_len = p->payload_len;
	event->tcp_seq = p->tcp_seq;
	event->capture_len = capture_len;
	event->source_port = p->source_port;
	event->dest_port = p->dest_port;
	event->direction = direction;
	event->tcp_flags = p->tcp_flags;

	/* capture_len never exceeds what the packet holds, so this should not
	 * fail; if it does, the loss is counted like any other. The test is
	 * signed on purpose: an unsigned "> 0" compiles to "!= 0", from which
	 * older verifiers (Linux 6.1) learn no lower bound, and they refuse a
	 * copy that might be empty. The barrier keeps the compiler, which
	 * knows the value is small, from turning it back. */
	asm volatile("" : "+r"(capture_len));
	if (has_payload && (__s64)capture_len > 0 &&
	    bpf_skb_load_bytes(skb, p->payload_offset, event + 1, plain ? plain_length(capture_len) : capture_len)) {
		if (plain)
			*depth -= 1;
		else
			bpf_ringbuf_discard(event, BPF_RB_NO_WAKEUP);
		count(DNSVIS_COUNTER_UNREADABLE);
		return SK_PASS;
	}
	if (plain) {
		submit_plain(event, config, has_payload ? plain_length(capture_len) : 0, cut);
		*depth -= 1;
		return SK_PASS;
	}

	captured = count(DNSVIS_COUNTER_CAPTURED);
	bpf_ringbuf_submit(event, wake_flags(config, (captured & (WAKE_CHECK_EVERY - 1)) == 0));
	if (cut)
		count(DNSVIS_COUNTER_CUT);
	return SK_PASS;
}


static __always_inline int capture(struct __sk_buff *skb, int direction, const int plain)
{
	struct packet p;
	__u32 payload_offset;
	__u8 protocol;

	p.tcp_flags = 0;
	p.tcp_seq = 0;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (read_header(skb, 0, &ip, sizeof(ip), plain))
			return SK_PASS;
		/* These hooks see whole datagrams: egress runs before the IP
		 * layer fragments, ingress after it reassembles (tested with a
		 * 1280-byte MTU). A fragment here would be someone else's
		 * doing and holds no complete DNS message. */
		if (ip.frag_off & bpf_htons(0x3fff))
			return SK_PASS;
		protocol = ip.protocol;
		payload_offset = ip.ihl * 4;
		__builtin_memset(p.source_addr, 0, sizeof(p.source_addr));
		__builtin_memset(p.dest_addr, 0, sizeof(p.dest_addr));
		__builtin_memcpy(p.source_addr, &ip.saddr, 4);
		__builtin_memcpy(p.dest_addr, &ip.daddr, 4);
		p.family_flags = 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (read_header(skb, 0, &ip6, sizeof(ip6), plain))
			return SK_PASS;
		protocol = ip6.nexthdr;
		payload_offset = sizeof(ip6);
		if (skip_ipv6_extensions(skb, &protocol, &payload_offset, plain))
			return SK_PASS;
		__builtin_memcpy(p.source_addr, &ip6.saddr, 16);
		__builtin_memcpy(p.dest_addr, &ip6.daddr, 16);
		p.family_flags = DNSVIS_EVENT_F_IPV6;
	} else {
		return SK_PASS;
	}

	if (protocol == IPPROTO_UDP) {
		struct udphdr udp;

		if (read_header(skb, payload_offset, &udp, sizeof(udp), plain))
			return SK_PASS;
		p.source_port = udp.source;
		p.dest_port = udp.dest;
		payload_offset += sizeof(udp);
	} else if (protocol == IPPROTO_TCP) {
		struct tcphdr tcp;

		if (read_header(skb, payload_offset, &tcp, sizeof(tcp), plain))
			return SK_PASS;
		p.source_port = tcp.source;
		p.dest_port = tcp.dest;
		payload_offset += tcp.doff * 4;
		p.tcp_seq = bpf_ntohl(tcp.seq);
		p.tcp_flags = ((__u8 *)&tcp)[13];
		p.family_flags |= DNSVIS_EVENT_F_TCP;
	} else {
		return SK_PASS;
	}

	if (!wanted(direction, p.source_port, p.dest_port))
		return SK_PASS;

	p.protocol = protocol;
	p.payload_offset = payload_offset;
	if (skb->len <= payload_offset) {
		/* A TCP segment without payload matters only when it opens or
		 * closes the stream; pure ACKs are skipped. An empty UDP
		 * datagram is an empty DNS message: recorded like any other,
		 * after the scope check, user space counts it as malformed. */
		if (protocol == IPPROTO_TCP && !(p.tcp_flags & 0x07))
			return SK_PASS;
		p.payload_len = 0;
		return record(skb, direction, &p, 0, plain);
	}
	p.payload_len = skb->len - payload_offset;
	return record(skb, direction, &p, 1, plain);
}

/* One program per direction and variant; each only says which. */
#define PACKET_PROGRAM(section, name, direction, plain) \
	SEC(section)                                    \
	int name(struct __sk_buff *skb)                 \
	{                                               \
		return capture(skb, direction, plain);  \
	}

PACKET_PROGRAM("cgroup_skb/egress", dnsvis_egress, DNSVIS_EGRESS, 0)
PACKET_PROGRAM("cgroup_skb/ingress", dnsvis_ingress, DNSVIS_INGRESS, 0)
/* The plain programs (see the top of this file), loaded instead of the two
 * above where those are refused, hence the "?". */
PACKET_PROGRAM("?cgroup_skb/egress", dnsvis_eg_plain, DNSVIS_EGRESS, 1)
PACKET_PROGRAM("?cgroup_skb/ingress", dnsvis_in_plain, DNSVIS_INGRESS, 1)

/* Records the owner of a socket that connects or, with the plain
 * programs, sends to a DNS port. Runs in process context on
 * connect() and on each unconnected send; a TCP stream's segments may later
 * leave from softirq, where "current" is not the owner. */
static __always_inline int remember_owner(struct bpf_sock_addr *ctx, const int plain)
{
	struct dnsvis_socket_owner fresh, *known;
	__u64 cookie;

	if (!is_dns_port((__u16)ctx->user_port))
		return SK_PASS;

	cookie = bpf_get_socket_cookie(ctx);
	known = bpf_map_lookup_elem(&dnsvis_sockets, &cookie);
	if (known && known->pid == bpf_get_current_pid_tgid() >> 32)
		return SK_PASS;

	/* The connecting process's cgroup: the one the socket was made in,
	 * unless the process moved in between. Every event of the socket
	 * reports it (see capture()). */
	owner_from_current(&fresh, bpf_get_current_cgroup_id(), 0, plain);
	bpf_map_update_elem(&dnsvis_sockets, &cookie, &fresh, BPF_ANY);
	return SK_PASS;
}

/* One program per hook and variant; each only says which. */
#define OWNER_PROGRAM(section, name, plain)            \
	SEC(section)                                   \
	int name(struct bpf_sock_addr *ctx)            \
	{                                              \
		return remember_owner(ctx, plain);     \
	}

OWNER_PROGRAM("cgroup/connect4", dnsvis_connect4, 0)
OWNER_PROGRAM("cgroup/connect6", dnsvis_connect6, 0)
/* The rest come with the plain programs, hence the "?". A connected
 * socket's sends do not run the sendmsg ones: connect named its owner. */
OWNER_PROGRAM("?cgroup/connect4", dnsvis_co4_plain, 1)
OWNER_PROGRAM("?cgroup/connect6", dnsvis_co6_plain, 1)
OWNER_PROGRAM("?cgroup/sendmsg4", dnsvis_sendmsg4, 1)
OWNER_PROGRAM("?cgroup/sendmsg6", dnsvis_sendmsg6, 1)

/* Every exec on the host: what the process now runs, for user space to
 * name a client that has exited by the time its query is handled. Loaded
 * only with kernel BTF (CO-RE reads the binprm), hence the "?". Raw
 * tracepoints need no tracefs mount. */
SEC("?raw_tp/sched_process_exec")
int dnsvis_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *root = BPF_CORE_READ(task, fs, root.dentry, d_inode);
	struct dnsvis_exec_record record = {};
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	long len;

	record.since_ns = bpf_ktime_get_ns();
	/* After exec_binprm(), bprm->file is what was loaded: a script's
	 * interpreter, like bprm->interp. */
	record.file_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	record.root_ino = BPF_CORE_READ(root, i_ino);
	record.root_dev = BPF_CORE_READ(root, i_sb, s_dev);
	bpf_get_current_comm(record.comm, sizeof(record.comm));
	len = bpf_probe_read_kernel_str(record.path, sizeof(record.path), BPF_CORE_READ(bprm, interp));
	if (len <= 0) {
		bpf_map_delete_elem(&dnsvis_execs, &tgid); /* what it held is stale now */
		return 0;
	}
	record.path_len = len;
	bpf_map_update_elem(&dnsvis_execs, &tgid, &record, BPF_ANY);
	return 0;
}

/* A new process runs its parent's program: it gets the parent's record, so
 * a forked worker that exits at once is named too, and a pid reused by a
 * child loses whatever an earlier holder of the pid left there. New threads
 * (same thread group) change nothing. */
SEC("?raw_tp/sched_process_fork")
int dnsvis_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	struct dnsvis_exec_record *inherited;
	struct dnsvis_exec_record record;

	if (child_tgid == parent_tgid)
		return 0;
	inherited = bpf_map_lookup_elem(&dnsvis_execs, &parent_tgid);
	if (!inherited) {
		bpf_map_delete_elem(&dnsvis_execs, &child_tgid);
		return 0;
	}
	/* Copied out first: an LRU entry may be recycled under us. */
	__builtin_memcpy(&record, inherited, sizeof(record));
	record.since_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&dnsvis_execs, &child_tgid, &record, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
