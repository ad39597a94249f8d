// The configuration of the Linux kernel kioku models, as a .config file: what it has (=y) and what
// it leaves out ("is not set"), so that a program that asks how its kernel was built (the Linux
// Test Project's needs_kconfigs, a distribution's scripts) gets the truth about kioku. The guest
// reads it where distributions install it, /boot/config-RELEASE, a read-only file the kernel
// serves whatever the root holds. There is no /proc/config.gz (IKCONFIG_PROC is not set): its
// readers decompress it with zcat, and a guest has no shell to run one.
#pragma once

#include <string>

namespace kioku {

// "/boot/config-" and uname's release.
const std::string& kernel_config_path();
// The file's text, one option per line, grouped under comment headings.
std::string kernel_config_text();

} // namespace kioku
