# The memory-pressure cases, sourced by compare.sh (kioku against the recordings) and by
# scripts/host-check.sh (the host kernel in a memory cgroup, informative).
# CASE|program|arguments|cgroup limit|swap (0: none, the cgroup may not swap)|kioku options
PRESSURE_CASES=(
    "oom_largest|oom_victim||64M|0|--mem 64M"
    "oom_protected|oom_victim|protect|64M|0|--mem 64M"
    "swap_survives|swap_survives||32M|128M|--mem 32M --swap 128M"
)
