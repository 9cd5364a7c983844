// Long tabular output goes through a pager on a terminal, as systemctl does:
// $SYSTEMD_PAGER, else $PAGER, else less (with LESS=FRSXMK, so output that
// fits on one screen is just printed), else more. "cat" or an empty value
// means no pager.
#pragma once

namespace dnsvisctl {

// Does nothing unless stdout is a terminal. Afterwards stdout is the pager's
// input until close_pager().
void open_pager();
// Flushes stdout and waits for the pager to exit. Safe to call without one.
void close_pager();

}  // namespace dnsvisctl
