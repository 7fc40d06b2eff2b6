# Sourced by a node container's main script (node.sh here, cluster/swarm/node.sh):
# the cgroup v1 hierarchies, which Docker mounts read-only, mounted read-write, so
# that the node's own engine (and kubelet) can make cgroups under them (inside
# the container's own, private cgroup namespace).
while read -r _ _ _ _ mountpoint _ rest; do
    fstype=${rest#*- }
    fstype=${fstype%% *}
    case $fstype in
        cgroup)
            options=${rest##* }
            options=${options#ro,}
            options=${options#rw,}
            umount "$mountpoint"
            mount -t cgroup -o "rw,nosuid,nodev,noexec,$options" cgroup "$mountpoint"
            ;;
        cgroup2)
            umount "$mountpoint"
            mount -t cgroup2 -o rw,nosuid,nodev,noexec cgroup2 "$mountpoint"
            ;;
    esac
done < <(grep ' /sys/fs/cgroup/' /proc/self/mountinfo)
