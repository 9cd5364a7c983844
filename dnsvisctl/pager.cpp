#include "pager.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace dnsvisctl {

namespace {

pid_t pager_pid = 0;

std::string pager_command() {
    for (const char* variable : {"SYSTEMD_PAGER", "PAGER"})
        if (const char* value = std::getenv(variable))
            return value;
    return "command -v less >/dev/null && exec less || exec more";
}

}  // namespace

void open_pager() {
    if (pager_pid > 0 || !isatty(STDOUT_FILENO))
        return;
    const std::string command = pager_command();
    if (command.empty() || command == "cat")
        return;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return;
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        setenv("LESS", "FRSXMK", 0);
        execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    // The pager owns the terminal until it quits: q must not kill us
    // mid-write, and a write to a pager that has gone just fails.
    std::signal(SIGPIPE, SIG_IGN);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    pager_pid = pid;
}

void close_pager() {
    if (pager_pid <= 0)
        return;
    std::fflush(stdout);
    close(STDOUT_FILENO);
    int status;
    while (waitpid(pager_pid, &status, 0) < 0 && errno == EINTR) {
    }
    pager_pid = 0;
}

}  // namespace dnsvisctl
