#include "container_cgroup.hpp"

#include <algorithm>
#include <vector>

#include "cgroup_path.hpp"

// How the layouts are recognised, component by component from the root; the
// first (outermost) component that names a container decides:
//
//   docker/<64hex>                      Docker, cgroupfs driver (at any depth,
//                                       for --cgroup-parent)
//   docker-<64hex>.scope                Docker, systemd driver (system.slice,
//                                       rootless under user@UID.service, or a
//                                       custom parent slice)
//   cri-containerd-<64hex>.scope        containerd's CRI plugin, systemd
//                                       driver; namespace k8s.io (the only one
//                                       the CRI plugin uses)
//   nerdctl-<64hex>.scope               containerd via nerdctl, systemd driver;
//                                       namespace unknown
//   crio-<64hex>[.scope]                CRI-O, systemd [cgroupfs] driver
//   crio-conmon-<64hex>[.scope]         CRI-O's conmon (conmon = true)
//   libpod-<64hex>[.scope]              podman, systemd [cgroupfs:
//                                       /libpod_parent/libpod-<id>] driver
//   libpod-conmon-<64hex>.scope         podman's conmon (conmon = true)
//   libpod-payload-<64hex>              podman --cgroups=split, below the
//                                       unit that runs podman
//   machine.slice/machine-<name>.scope  a machine registered with machined
//                                       (systemd-nspawn); name unescaped. The
//                                       libvirt names "qemu-<n>-<vm>" and
//                                       "lxc-<n>-<name>" are not nspawn and are
//                                       not reported.
//   machine.slice/systemd-nspawn@<name>.service
//                                       systemd-nspawn run by its template unit
//   kubepods[.slice] ...                a Kubernetes pod: QoS level, pod, then
//                                       the container (see parse_kube_pod)
//   /<namespace>/<id>                   containerd, cgroupfs driver ("ctr run"
//                                       uses /<namespace>/<id>); see
//                                       containerd_cgroupfs for the heuristic
//
// Where the layout wants 64 hex digits they must be exactly 64 and lowercase,
// as every runtime writes them.

namespace dnsvis {

namespace {

constexpr size_t kHexIdLength = 64;
constexpr size_t kShortIdLength = 12;

bool is_lower_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// If `s` is prefix + middle + suffix, sets `middle` and returns true.
bool unwrap(std::string_view s, std::string_view prefix, std::string_view suffix, std::string_view& middle) {
    if (s.size() < prefix.size() + suffix.size() || !s.starts_with(prefix) || !s.ends_with(suffix))
        return false;
    middle = s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
    return true;
}

// "<prefix><64hex><suffix>"
bool unwrap_hex_id(std::string_view s, std::string_view prefix, std::string_view suffix, std::string_view& id) {
    return unwrap(s, prefix, suffix, id) && is_hex_id(id);
}

std::vector<std::string_view> split_components(std::string_view path) {
    std::vector<std::string_view> components;
    size_t i = 0;
    while (i < path.size()) {
        if (path[i] == '/') {
            ++i;
            continue;
        }
        size_t end = path.find('/', i);
        if (end == std::string_view::npos)
            end = path.size();
        components.push_back(path.substr(i, end - i));
        i = end;
    }
    return components;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// systemd's unit_name_unescape for the "\xNN" escapes unit_name_escape writes
// ('-' is "\x2d"); anything else is kept as it stands.
std::string unescape_unit_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
            int hi = hex_value(s[i + 2]);
            int lo = hex_value(s[i + 3]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

// containerd's identifiers.Validate, used for both namespaces and container
// ids: at most 76 characters, alphanumeric runs joined by single '.', '_' or
// '-'.
bool is_containerd_identifier(std::string_view s) {
    constexpr size_t kMaxLength = 76;
    if (s.empty() || s.size() > kMaxLength || !is_alnum(s.front()) || !is_alnum(s.back()))
        return false;
    for (size_t i = 1; i < s.size(); ++i) {
        char c = s[i];
        if (is_alnum(c))
            continue;
        if ((c != '.' && c != '_' && c != '-') || !is_alnum(s[i - 1]))
            return false;
    }
    return true;
}

// Top-level cgroups that other software makes and that would otherwise pass
// for a containerd namespace. Not exhaustive: the caller asks containerd.
constexpr std::string_view kNotContainerdNamespaces[] = {
    "actions_job",    // the GitHub Actions runner's docker --cgroup-parent
    "buildkit",       // a standalone buildkitd
    "docker",         // Docker, cgroupfs driver
    "ecs",            // Amazon ECS: /ecs/<task>/<container>
    "garden",         // Cloud Foundry
    "init",           // docker:dind moves its own processes to /init
    "kubelet",        // kubelet --cgroup-root
    "kubepods",       // the kubelet, cgroupfs driver
    "libpod_parent",  // podman, cgroupfs driver
    "lxc",            // old LXC layout: /lxc/<name>
    "machine",        // libvirt, cgroupfs: /machine/<name>.libvirt-qemu
    "system",         // generic names non-systemd cgroup managers use
    "user",           // (ditto)
};

// "/<namespace>/<id>", as containerd's cgroupfs driver makes it for a
// container whose spec names no other cgroup ("ctr run"). Any top-level
// cgroup could be one, so this is deliberately narrow: both components must be
// valid containerd identifiers, the namespace must not be a systemd unit or
// slice name, an LXC "lxc.*" cgroup or one of the names above, and the id must
// not be a systemd unit name either (a container id could be, but a cgroup
// under a non-unit top level with a unit name is far more likely systemd
// running in some other container manager's cgroup).
bool containerd_cgroupfs(std::string_view ns, std::string_view id) {
    if (!is_containerd_identifier(ns) || !is_containerd_identifier(id))
        return false;
    if (ns.starts_with("lxc.") || is_valid_unit_name(ns) || is_valid_unit_name(id))
        return false;
    return std::find(std::begin(kNotContainerdNamespaces), std::end(kNotContainerdNamespaces), ns) ==
           std::end(kNotContainerdNamespaces);
}

// libvirt registers its guests with machined as "qemu-<n>-<name>" and
// "lxc-<n>-<name>"; neither is systemd-nspawn.
bool is_libvirt_machine(std::string_view name) {
    for (std::string_view prefix : {std::string_view("qemu-"), std::string_view("lxc-")}) {
        if (!name.starts_with(prefix))
            continue;
        std::string_view rest = name.substr(prefix.size());
        size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
            ++digits;
        if (digits > 0 && digits < rest.size() && rest[digits] == '-')
            return true;
    }
    return false;
}

CgroupContainer make(ContainerRuntime runtime, std::string_view id, bool conmon = false) {
    CgroupContainer c;
    c.runtime = runtime;
    c.id = std::string(id);
    c.conmon = conmon;
    return c;
}

// The container the single component `c` names on its own, whatever its
// parents: the prefixed ids of the runtimes' systemd scopes and their
// cgroupfs counterparts.
bool match_prefixed(std::string_view c, CgroupContainer& out) {
    std::string_view id;
    if (unwrap_hex_id(c, "docker-", ".scope", id)) {
        out = make(ContainerRuntime::docker, id);
        return true;
    }
    if (unwrap_hex_id(c, "cri-containerd-", ".scope", id)) {
        out = make(ContainerRuntime::containerd, id);
        out.ns = "k8s.io";
        return true;
    }
    if (unwrap_hex_id(c, "nerdctl-", ".scope", id)) {
        out = make(ContainerRuntime::containerd, id);
        return true;
    }
    if (unwrap_hex_id(c, "crio-conmon-", ".scope", id) || unwrap_hex_id(c, "crio-conmon-", "", id)) {
        out = make(ContainerRuntime::cri_o, id, true);
        return true;
    }
    if (unwrap_hex_id(c, "crio-", ".scope", id) || unwrap_hex_id(c, "crio-", "", id)) {
        out = make(ContainerRuntime::cri_o, id);
        return true;
    }
    if (unwrap_hex_id(c, "libpod-conmon-", ".scope", id)) {
        out = make(ContainerRuntime::podman, id, true);
        return true;
    }
    if (unwrap_hex_id(c, "libpod-payload-", "", id) || unwrap_hex_id(c, "libpod-", ".scope", id) ||
        unwrap_hex_id(c, "libpod-", "", id)) {
        out = make(ContainerRuntime::podman, id);
        return true;
    }
    return false;
}

// A machined machine or an nspawn template instance, directly below
// machine.slice.
bool match_machine(std::string_view parent, std::string_view c, CgroupContainer& out) {
    if (parent != "machine.slice")
        return false;
    std::string_view escaped;
    if (!unwrap(c, "machine-", ".scope", escaped) && !unwrap(c, "systemd-nspawn@", ".service", escaped))
        return false;
    std::string name = unescape_unit_text(escaped);
    if (name.empty() || name.find('/') != std::string::npos || is_libvirt_machine(name))
        return false;
    out = CgroupContainer{};
    out.runtime = ContainerRuntime::systemd_nspawn;
    out.id = std::move(name);
    return true;
}

// A pod UID as the kubelet writes it into a cgroup name: a UUID (or, for
// static pods, a hex hash), with '-' escaped as '_' by the systemd driver.
bool parse_pod_uid(std::string_view text, std::string& uid) {
    constexpr size_t kMaxLength = 64;
    if (text.empty() || text.size() > kMaxLength)
        return false;
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '_' || c == '-')
            out += '-';
        else if (is_lower_hex(c))
            out += c;
        else
            return false;
    }
    uid = std::move(out);
    return true;
}

// The kubelet's pod hierarchy starting at components[i], which is "kubepods"
// (cgroupfs driver) or "kubepods.slice" / "<root>-kubepods.slice" (systemd
// driver, the latter for --cgroup-root, as kind has it):
//
//   cgroupfs: kubepods/[burstable|besteffort/]pod<uid>/<container>
//   systemd:  kubepods.slice/[kubepods-<qos>.slice/]kubepods[-<qos>]-pod<uid_>.slice/<container>.scope
//
// No QoS level means a guaranteed pod. On success fills uid and qos, and sets
// `next` to the index of the component below the pod.
bool parse_kube_pod(const std::vector<std::string_view>& components, size_t i, CgroupContainer& pod, size_t& next) {
    std::string_view c = components[i];
    size_t j = i + 1;
    PodQos qos = PodQos::guaranteed;
    std::string_view uid_text;
    if (c == "kubepods") {
        if (j < components.size() && components[j] == "burstable") {
            qos = PodQos::burstable;
            ++j;
        } else if (j < components.size() && components[j] == "besteffort") {
            qos = PodQos::besteffort;
            ++j;
        }
        if (j >= components.size() || !unwrap(components[j], "pod", "", uid_text))
            return false;
    } else {
        std::string_view root;
        if (!unwrap(c, "", ".slice", root) || (root != "kubepods" && !root.ends_with("-kubepods")))
            return false;
        std::string prefix = std::string(root) + "-";
        if (j < components.size() && components[j] == prefix + "burstable.slice") {
            qos = PodQos::burstable;
            prefix += "burstable-";
            ++j;
        } else if (j < components.size() && components[j] == prefix + "besteffort.slice") {
            qos = PodQos::besteffort;
            prefix += "besteffort-";
            ++j;
        }
        if (j >= components.size() || !unwrap(components[j], prefix + "pod", ".slice", uid_text))
            return false;
    }
    std::string uid;
    if (!parse_pod_uid(uid_text, uid))
        return false;
    pod = CgroupContainer{};
    pod.pod_uid = std::move(uid);
    pod.qos = qos;
    next = j + 1;
    return true;
}

}  // namespace

std::string_view to_string(ContainerRuntime runtime) {
    switch (runtime) {
        case ContainerRuntime::none:
            return "";
        case ContainerRuntime::docker:
            return "docker";
        case ContainerRuntime::containerd:
            return "containerd";
        case ContainerRuntime::cri_o:
            return "cri-o";
        case ContainerRuntime::podman:
            return "podman";
        case ContainerRuntime::systemd_nspawn:
            return "systemd-nspawn";
    }
    return "";
}

std::string_view to_string(PodQos qos) {
    switch (qos) {
        case PodQos::none:
            return "";
        case PodQos::guaranteed:
            return "guaranteed";
        case PodQos::burstable:
            return "burstable";
        case PodQos::besteffort:
            return "besteffort";
    }
    return "";
}

std::string CgroupContainer::short_id() const {
    if (is_hex_id(id))
        return id.substr(0, kShortIdLength);
    return id;
}

namespace {

CgroupContainer container_from_components(const std::vector<std::string_view>& components, size_t& at) {
    CgroupContainer out;
    for (size_t i = 0; i < components.size(); ++i) {
        at = i;
        std::string_view c = components[i];
        bool has_next = i + 1 < components.size();

        if (c == "docker" && has_next && is_hex_id(components[i + 1]))
            return make(ContainerRuntime::docker, components[i + 1]);
        if (match_prefixed(c, out))
            return out;
        if (i > 0 && match_machine(components[i - 1], c, out))
            return out;

        CgroupContainer pod;
        size_t next = 0;
        if (parse_kube_pod(components, i, pod, next)) {
            // The container below the pod: a runtime's own scope (systemd
            // driver, or CRI-O's cgroupfs "crio-<id>"), or a bare id whose
            // runtime the layout does not tell (cgroupfs driver).
            // A pod cgroup with no recognised container below it keeps
            // only the pod.
            CgroupContainer found;
            if (next < components.size()) {
                std::string_view container = components[next];
                if (!match_prefixed(container, found) && c == "kubepods" && is_hex_id(container))
                    found = make(ContainerRuntime::none, container);
            }
            found.pod_uid = std::move(pod.pod_uid);
            found.qos = pod.qos;
            return found;
        }

        if (i == 0 && has_next && containerd_cgroupfs(c, components[1])) {
            out = make(ContainerRuntime::containerd, components[1]);
            out.ns = std::string(c);
            return out;
        }
    }
    return CgroupContainer{};
}

}  // namespace

bool is_hex_id(std::string_view s) {
    return s.size() == kHexIdLength && std::all_of(s.begin(), s.end(), is_lower_hex);
}

CgroupContainer container_from_cgroup_path(std::string_view path) {
    const std::vector<std::string_view> components = split_components(path);
    size_t at = 0;  // the component where the container was recognised
    CgroupContainer container = container_from_components(components, at);
    if (!container.id.empty() || !container.pod_uid.empty())
        container.made_by_user = std::any_of(components.begin(), components.begin() + static_cast<ptrdiff_t>(at),
                                             [](std::string_view c) { return is_user_manager_unit(c); });
    return container;
}

bool is_container_root_cgroup(std::string_view path) {
    const CgroupContainer container = container_from_cgroup_path(path);
    if (container.id.empty() || container.conmon)
        return false;
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos)
        return false;
    const std::string_view parent = slash == 0 ? std::string_view("/") : path.substr(0, slash);
    return container_from_cgroup_path(parent).id != container.id;
}

}  // namespace dnsvis
