// The daemon's own diagnostics on stderr. Under systemd, stderr is a journal
// stream and each line carries its syslog priority as a "<N>" prefix; on a
// terminal the prefix is left out. (DNS transactions do not go through here:
// they are structured entries written by a sink.)
#pragma once

namespace dnsvis {

enum class LogLevel : int { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void log_set_max_level(LogLevel level);
bool log_enabled(LogLevel level);

void log_message(LogLevel level, const char* format, ...) __attribute__((format(printf, 2, 3)));

// While held, log lines are not written but counted, and the count is said
// with the next line that is. The JSON sink holds the log while a line of
// its own is half out on the file stderr shares with stdout (`2>&1`).
void log_hold(bool held);

#define log_error(...) ::dnsvis::log_message(::dnsvis::LogLevel::error, __VA_ARGS__)
#define log_warning(...) ::dnsvis::log_message(::dnsvis::LogLevel::warning, __VA_ARGS__)
#define log_notice(...) ::dnsvis::log_message(::dnsvis::LogLevel::notice, __VA_ARGS__)
#define log_info(...) ::dnsvis::log_message(::dnsvis::LogLevel::info, __VA_ARGS__)
#define log_debug(...) ::dnsvis::log_message(::dnsvis::LogLevel::debug, __VA_ARGS__)

}  // namespace dnsvis
