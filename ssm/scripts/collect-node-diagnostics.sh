#!/bin/sh
# collect-node-diagnostics.sh OUTDIR
#
# Collects an EKS worker node's diagnostic bundle into OUTDIR/<name>.tar.gz and prints the archive
# path on the last line of stdout. The layout is the one of eks-log-collector.sh (archive members
# start with "./", no wrapping folder): on EKS-optimized AMIs the node's own
# /etc/eks/log-collector-script/eks-log-collector.sh runs first and its bundle is merged in; this
# script then always adds what diagnosis needs beyond it (per-rule iptables counters, exact
# listings, routes and rules, link statistics, conntrack, nft, socket summary, sysctls, dmesg).
# Every tool is optional: a missing tool is noted in system/eksdiag-collector.txt, never fatal.
#
# Bounded: every command runs under `timeout`, every captured file is capped in size, optional log
# copies stop at a total size cap, and the run refuses to start without enough free disk.
# Never installs anything. POSIX sh; takes no input other than OUTDIR and the EKSDIAG_* variables
# below (numbers only, validated).
#
# Environment (all optional):
#   EKSDIAG_CMD_TIMEOUT      seconds per command (default 60)
#   EKSDIAG_TOTAL_SECONDS    time budget of the whole run; commands left when it is spent are
#                            skipped and noted (default 1200, inside run-collector's 2100)
#   EKSDIAG_ELC_TIMEOUT      seconds for eks-log-collector.sh (default 900)
#   EKSDIAG_MAX_FILE_MB      cap per captured file (default 100)
#   EKSDIAG_MAX_TOTAL_MB     cap for optional log copies (default 1024)
#   EKSDIAG_MIN_FREE_MB      required free space in OUTDIR (default 2048)
#   EKSDIAG_ELC              path of eks-log-collector.sh (default the EKS AMI location)
#   EKSDIAG_ELC_LOGDIR       where eks-log-collector.sh writes its archive (default /var/log)
#   EKSDIAG_SKIP_ELC=1       do not run eks-log-collector.sh even when present
#   EKSDIAG_SKIP_IMDS=1      do not query the instance metadata service
#   EKSDIAG_INSTANCE_ID      instance id to record when IMDS is skipped (i-...)
#   EKSDIAG_PATH             command search path (default: the system directories, then PATH)

set -u
umask 077
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}
PATH=${EKSDIAG_PATH:-$SYSTEM_PATH}
LANG=C
LC_ALL=C
export PATH LANG LC_ALL

COLLECTOR_VERSION=0.1.0

die() {
    printf 'collect-node-diagnostics: %s\n' "$*" >&2
    exit 1
}

# number VALUE DEFAULT: VALUE when it is a plain decimal number, else DEFAULT.
number() {
    case $1 in
    '' | *[!0-9]*) printf '%s' "$2" ;;
    *) printf '%s' "$1" ;;
    esac
}

[ "$#" -eq 1 ] || die "usage: collect-node-diagnostics.sh OUTDIR"
OUTDIR=$1
[ -d "$OUTDIR" ] || die "OUTDIR $OUTDIR is not a directory"
[ "$(id -u)" -eq 0 ] || printf 'collect-node-diagnostics: not root, some files will be missing\n' >&2

CMD_TIMEOUT=$(number "${EKSDIAG_CMD_TIMEOUT:-}" 60)
TOTAL_SECONDS=$(number "${EKSDIAG_TOTAL_SECONDS:-}" 1200)
DEADLINE=$(($(date +%s) + TOTAL_SECONDS))
ELC_TIMEOUT=$(number "${EKSDIAG_ELC_TIMEOUT:-}" 900)
MAX_FILE_MB=$(number "${EKSDIAG_MAX_FILE_MB:-}" 100)
MAX_TOTAL_MB=$(number "${EKSDIAG_MAX_TOTAL_MB:-}" 1024)
MIN_FREE_MB=$(number "${EKSDIAG_MIN_FREE_MB:-}" 2048)
MAX_FILE_BYTES=$((MAX_FILE_MB * 1048576))
ELC=${EKSDIAG_ELC:-/etc/eks/log-collector-script/eks-log-collector.sh}
ELC_LOGDIR=${EKSDIAG_ELC_LOGDIR:-/var/log}

free_mb=$(df -Pk "$OUTDIR" 2>/dev/null | awk 'NR == 2 { print int($4 / 1024) }')
free_mb=$(number "$free_mb" 0)
[ "$free_mb" -ge "$MIN_FREE_MB" ] || die "only ${free_mb} MB free in $OUTDIR, need $MIN_FREE_MB MB"

WORK=$(mktemp -d -p "$OUTDIR") || die "cannot create a work directory in $OUTDIR"
SCRATCH=$(mktemp -d -p "$OUTDIR") || die "cannot create a scratch directory in $OUTDIR"
cleanup() {
    rm -rf "$WORK" "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for d in kernel modinfo system docker containerd storage var_log networking sandbox-image ipamd \
    sysctls kubelet nodeadm cni gpu; do
    mkdir -p "$WORK/$d"
done
NOTES=$WORK/system/eksdiag-collector.txt
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

note() {
    printf '%s\n' "$*" >>"$NOTES"
}

have() {
    command -v "$1" >/dev/null 2>&1
}

HAVE_TIMEOUT=
have timeout && HAVE_TIMEOUT=1

# seconds_left: what remains of the run's time budget (0 when spent).
seconds_left() {
    left=$((DEADLINE - $(date +%s)))
    [ "$left" -gt 0 ] || left=0
    printf '%s' "$left"
}

# bounded CMD [ARGS...]: run CMD under the per-command limit, never past the run's deadline.
bounded() {
    left=$(seconds_left)
    if [ "$left" -le 0 ]; then
        note "time budget spent: skipped $*"
        return 124
    fi
    limit=$CMD_TIMEOUT
    [ "$left" -lt "$limit" ] && limit=$left
    if [ -n "$HAVE_TIMEOUT" ]; then
        timeout -k 5 "$limit" "$@"
    else
        "$@"
    fi
}

# capture REL CMD [ARGS...]: stdout of CMD into $WORK/REL (bounded in time and size).
capture() {
    rel=$1
    shift
    if ! have "$1"; then
        note "missing: $1 (for $rel)"
        return 0
    fi
    mkdir -p "$WORK/${rel%/*}"
    bounded "$@" 2>>"$SCRATCH/stderr.txt" | head -c "$MAX_FILE_BYTES" >"$WORK/$rel"
}

# append REL HEADER CMD [ARGS...]: HEADER line then stdout of CMD, appended to $WORK/REL.
append() {
    rel=$1
    header=$2
    shift 2
    if ! have "$1"; then
        note "missing: $1 (for $rel)"
        return 0
    fi
    printf '%s\n' "$header" >>"$WORK/$rel"
    bounded "$@" 2>>"$SCRATCH/stderr.txt" | head -c "$MAX_FILE_BYTES" >>"$WORK/$rel"
}

# copy_file SRC REL: copy a regular file (the last MAX_FILE_MB of it) into the bundle.
copy_file() {
    [ -f "$1" ] && [ -r "$1" ] || return 0
    mkdir -p "$WORK/${2%/*}"
    tail -c "$MAX_FILE_BYTES" "$1" >"$WORK/$2" 2>>"$SCRATCH/stderr.txt"
}

total_mb() {
    du -sk "$WORK" 2>/dev/null | awk '{ print int($1 / 1024) }'
}

# room: true while optional copies still fit under MAX_TOTAL_MB.
room() {
    used=$(number "$(total_mb)" 0)
    if [ "$used" -ge "$MAX_TOTAL_MB" ]; then
        note "size cap: bundle at ${used} MB, optional copies skipped"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------------------------------------
# 1. The node's own eks-log-collector.sh, when present: run it and merge its bundle.
ELC_STATUS=absent
run_upstream_collector() {
    [ -z "${EKSDIAG_SKIP_ELC:-}" ] || {
        ELC_STATUS=skipped
        return 0
    }
    [ -f "$ELC" ] || return 0
    if ! have bash; then
        ELC_STATUS="not run (no bash)"
        return 0
    fi
    marker=$SCRATCH/elc-marker
    : >"$marker"
    sleep 1
    # eks-log-collector.sh writes a stray file into its working directory when iptables is
    # missing: run it from the scratch directory.
    limit=$ELC_TIMEOUT
    left=$(seconds_left)
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -le 0 ]; then
        ELC_STATUS="not run (time budget spent)"
        return 0
    fi
    if [ -n "$HAVE_TIMEOUT" ]; then
        (cd "$SCRATCH" && timeout -k 10 "$limit" bash "$ELC") >"$SCRATCH/elc.log" 2>&1
    else
        (cd "$SCRATCH" && bash "$ELC") >"$SCRATCH/elc.log" 2>&1
    fi
    rc=$?
    archive=$(find "$ELC_LOGDIR" -maxdepth 1 -type f -name 'eks_*.tar.gz' -newer "$marker" 2>/dev/null | head -n 1)
    if [ -z "$archive" ]; then
        ELC_STATUS="failed (exit $rc, no archive)"
        tail -n 20 "$SCRATCH/elc.log" >>"$NOTES" 2>/dev/null
        return 0
    fi
    if tar --extract --gzip --no-same-owner --no-same-permissions --file "$archive" --directory "$WORK" \
        2>>"$SCRATCH/stderr.txt"; then
        ELC_STATUS="merged $(basename "$archive") (exit $rc)"
    else
        ELC_STATUS="archive unreadable (exit $rc)"
    fi
    # The archive is ours (created by this run, newer than the marker): do not leave a copy of
    # the node's logs behind in /var/log.
    rm -f "$archive"
}

# ---------------------------------------------------------------------------------------------
# 2. Identity (IMDSv2, bounded; skipped when unreachable).
INSTANCE_ID=
imds_get() {
    curl --silent --fail --max-time 3 --connect-timeout 2 --noproxy '*' \
        -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" "http://169.254.169.254/latest/meta-data/$1" 2>/dev/null
}
identity() {
    if [ -n "${EKSDIAG_INSTANCE_ID:-}" ]; then
        case $EKSDIAG_INSTANCE_ID in
        i-[0-9a-f]*) INSTANCE_ID=$EKSDIAG_INSTANCE_ID ;;
        esac
    fi
    if [ -z "$INSTANCE_ID" ] && [ -f /var/lib/cloud/data/instance-id ]; then
        candidate=$(head -c 64 /var/lib/cloud/data/instance-id)
        case $candidate in
        i-[0-9a-f]*) INSTANCE_ID=$candidate ;;
        esac
    fi
    if [ -z "${EKSDIAG_SKIP_IMDS:-}" ] && have curl; then
        IMDS_TOKEN=$(curl --silent --fail --max-time 3 --connect-timeout 2 --noproxy '*' -X PUT \
            -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token 2>/dev/null)
        if [ -n "$IMDS_TOKEN" ]; then
            [ -n "$INSTANCE_ID" ] || INSTANCE_ID=$(imds_get instance-id)
            imds_get placement/region >"$SCRATCH/region" && cp "$SCRATCH/region" "$WORK/system/region.txt"
            imds_get placement/availability-zone >"$SCRATCH/az" &&
                cp "$SCRATCH/az" "$WORK/system/availability-zone.txt"
        fi
    fi
    case $INSTANCE_ID in
    i-[0-9a-f]*[0-9a-f]) printf '%s\n' "$INSTANCE_ID" >"$WORK/system/instance-id.txt" ;;
    *) INSTANCE_ID= ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# 3. What eks-log-collector.sh collects, for nodes without it (existing files are kept).
unless_present() {
    [ -s "$WORK/$1" ]
}

baseline_layout() {
    unless_present kernel/uname.txt || capture kernel/uname.txt uname -a
    unless_present system/ps.txt || capture system/ps.txt ps fauxwww --headers
    unless_present system/top.txt || capture system/top.txt top -b -n 1
    unless_present system/procstat.txt || copy_file /proc/stat system/procstat.txt
    unless_present system/services.txt || capture system/services.txt systemctl list-units --no-pager
    if ! unless_present storage/mounts.txt; then
        capture storage/mounts.txt mount
        printf '\n' >>"$WORK/storage/mounts.txt"
        bounded df --human-readable 2>>"$SCRATCH/stderr.txt" >>"$WORK/storage/mounts.txt"
    fi
    unless_present storage/inodes.txt || capture storage/inodes.txt df --inodes
    unless_present storage/lsblk.txt || capture storage/lsblk.txt lsblk
    unless_present networking/iptables-save.txt || capture networking/iptables-save.txt iptables-save
    unless_present networking/ip6tables-save.txt || capture networking/ip6tables-save.txt ip6tables-save
    unless_present networking/ip6route.txt || capture networking/ip6route.txt ip -6 route show table all
    unless_present networking/ip6rule.txt || capture networking/ip6rule.txt ip -6 rule show
    if ! unless_present networking/ipset.txt && have ipset; then
        capture networking/ipset.txt ipset --list
    fi
    if ! unless_present networking/ipvsadm.txt && have ipvsadm; then
        capture networking/ipvsadm.txt ipvsadm --list --numeric --stats --exact
    fi
    if ! unless_present networking/ethtool.txt && have ethtool; then
        for path in /sys/class/net/*; do
            ifname=${path##*/}
            [ "$ifname" = lo ] && continue
            [ -e "$path" ] || continue
            append networking/ethtool.txt "Interface $ifname" ethtool -S "$ifname"
            printf '\n' >>"$WORK/networking/ethtool.txt"
        done
    fi
    if have journalctl; then
        since=$(date -u -d '-10 days' '+%Y-%m-%d %H:%M' 2>/dev/null)
        if [ -n "$since" ]; then
            unless_present kubelet/kubelet.log ||
                capture kubelet/kubelet.log journalctl --no-pager --unit=kubelet --since "$since"
            unless_present containerd/containerd-log.txt ||
                capture containerd/containerd-log.txt journalctl --no-pager --unit=containerd --since "$since"
        fi
    fi
    unless_present kubelet/kubelet_service.txt ||
        { have systemctl && capture kubelet/kubelet_service.txt systemctl cat kubelet; }
    if [ -d /etc/cni/net.d ]; then
        for f in /etc/cni/net.d/*; do
            [ -f "$f" ] || continue
            unless_present "cni/${f##*/}" || copy_file "$f" "cni/${f##*/}"
        done
    fi
    if [ -d /var/log/aws-routed-eni ] && ! [ -d "$WORK/var_log/aws-routed-eni" ]; then
        for f in /var/log/aws-routed-eni/*.log; do
            [ -f "$f" ] || continue
            room || break
            copy_file "$f" "var_log/aws-routed-eni/${f##*/}"
        done
    fi
    if [ -d /var/run/aws-node ]; then
        for f in /var/run/aws-node/*; do
            [ -f "$f" ] || continue
            unless_present "ipamd/${f##*/}" || copy_file "$f" "ipamd/${f##*/}"
        done
    fi
}

# ---------------------------------------------------------------------------------------------
# 4. Always added (exact counters and the state eks-log-collector.sh does not capture).

# iptables_listing TABLE: exact per-rule counters plus eks-log-collector's footer.
iptables_listing() {
    rel=networking/iptables-$1.txt
    if ! have iptables; then
        note "missing: iptables (for $rel)"
        return 0
    fi
    bounded iptables --wait 1 --numeric --verbose --exact --list --table "$1" \
        2>>"$SCRATCH/stderr.txt" | head -c "$MAX_FILE_BYTES" >"$WORK/$rel"
    rules=$(grep -c -v -e '^$' -e '^Chain' -e '^num' -e '^ *pkts  *bytes  *target' "$WORK/$rel")
    printf '=======\nTotal Number of Rules: %s\n' "$(number "$rules" 0)" >>"$WORK/$rel"
}

diagnosis_extras() {
    capture networking/iptables-save-counters.txt iptables-save -c
    for table in filter nat mangle; do
        iptables_listing "$table"
    done
    if have iptables-legacy-save; then
        capture networking/iptables-legacy-save-counters.txt iptables-legacy-save -c
    fi
    capture networking/ip6tables-save-counters.txt ip6tables-save -c
    capture networking/iproute.txt ip route show table all
    capture networking/iprule.txt ip rule show
    capture networking/ip-s-link.txt ip -s link
    capture networking/ip-addr.txt ip addr show
    capture networking/ip-neigh.txt ip neigh show
    if have conntrack; then
        : >"$WORK/networking/conntrack.txt"
        append networking/conntrack.txt '*** Output of conntrack -S *** ' conntrack -S
        append networking/conntrack.txt '*** Output of conntrack -L ***' conntrack -L
        capture networking/conntrack-count.txt conntrack -C
    else
        note "missing: conntrack (for networking/conntrack.txt)"
    fi
    if have nft; then
        capture networking/nft-ruleset.txt nft list ruleset
    fi
    capture networking/ss-summary.txt ss -s
    copy_file /etc/resolv.conf networking/resolv.conf
    capture sysctls/sysctl_all.txt sysctl --all
    capture kernel/dmesg.current dmesg
    capture kernel/dmesg.human.current dmesg --ctime
    copy_file /var/log/dmesg kernel/dmesg.boot
}

finish_notes() {
    {
        printf 'collector: collect-node-diagnostics.sh %s\n' "$COLLECTOR_VERSION"
        printf 'started: %s\n' "$STARTED"
        printf 'finished: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        printf 'eks-log-collector: %s\n' "$ELC_STATUS"
        printf 'instance-id: %s\n' "${INSTANCE_ID:-unknown}"
        printf 'command-timeout-seconds: %s\n' "$CMD_TIMEOUT"
        printf 'time-budget-seconds: %s\n' "$TOTAL_SECONDS"
        printf 'file-cap-mb: %s\n' "$MAX_FILE_MB"
    } >"$SCRATCH/header"
    cat "$SCRATCH/header" "$NOTES" >"$SCRATCH/notes" 2>/dev/null
    if [ -s "$SCRATCH/stderr.txt" ]; then
        printf 'stderr (last 50 lines):\n' >>"$SCRATCH/notes"
        tail -n 50 "$SCRATCH/stderr.txt" >>"$SCRATCH/notes"
    fi
    cp "$SCRATCH/notes" "$NOTES"
}

: >"$NOTES"
run_upstream_collector
identity
diagnosis_extras
baseline_layout
finish_notes

NAME="eks_${INSTANCE_ID}_$(date -u +%Y-%m-%d_%H%M-%Z)_eksdiag-${COLLECTOR_VERSION}.tar.gz"
ARCHIVE=$OUTDIR/$NAME
tar --create --gzip --file "$ARCHIVE" --directory="$WORK" . 2>>"$SCRATCH/stderr.txt" ||
    die "tar failed: $(tail -n 3 "$SCRATCH/stderr.txt")"
printf '%s\n' "$ARCHIVE"
