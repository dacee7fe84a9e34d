// The init stage: a busybox ash script that runs as PID 1, prepares the machine, removes every tool
// it used and then `exec`s the launcher, which becomes the app. Generated per image so that nothing
// is parsed at boot that could have been decided at build time.
//
// Two layouts: everything in the initramfs (the app starts from it), or a small initramfs that
// mounts the read-only root partition found by its GPT PARTUUID and switches to it.
import { shQuote, shWords } from './shell.js';

/** Where the init stage keeps its tools inside the image; all of it is gone once the app runs. */
export const INIT_DIR = '.mkimage';
export const BUSYBOX_PATH = `${INIT_DIR}/busybox`;
export const LAUNCHER_PATH = `${INIT_DIR}/launch`;
export const UDHCPC_SCRIPT_PATH = `${INIT_DIR}/udhcpc`;
export const DOTENV_AWK_PATH = `${INIT_DIR}/dotenv.awk`;
export const CMDLINE_AWK_PATH = `${INIT_DIR}/cmdline.awk`;
export const MODULES_DIR = `${INIT_DIR}/modules`;

/** QEMU's fw_cfg file the env arrives in (`-fw_cfg name=opt/mkimage/env,file=F`). */
export const FW_CFG_ENV = 'opt/mkimage/env';
/** How long to wait for the root disk (NVMe and virtio disks appear asynchronously). */
const ROOT_WAIT_TENTHS = 300;

export interface InitOptions {
  /** Kernel modules to load, in dependency order, as paths inside the image. */
  modules: string[];
  /** Baked environment (defaults; later layers may override them). */
  env: ReadonlyArray<[string, string]>;
  /** The app's command line: program path inside the image, then its arguments, verbatim. */
  command: string[];
  /** Working directory of the app. */
  workdir: string;
  /** Name used for the hostname when DHCP gives none (suffixed with the NIC's MAC). */
  hostnameBase: string;
  /** The unprivileged user, or undefined to run as root. */
  user?: { name: string; uid: number; gid: number; home: string };
  /** Mount this partition read-only as the root and switch to it; absent: run from the initramfs. */
  root?: { partuuid: string; /** The GUID as stored on disk (mixed-endian), hex. */ partuuidBytesHex: string; fstype: 'ext4' };
}

const BB = `/${BUSYBOX_PATH}`;

function mounts(): string[] {
  return [
    '# 1. Kernel file systems.',
    '$bb mkdir -p /proc /sys /dev /tmp /run',
    '$bb mount -t proc -o nosuid,nodev,noexec proc /proc',
    '$bb mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
    '$bb mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev',
    '$bb mkdir -p /dev/pts /dev/shm',
    '$bb mount -t devpts -o nosuid,noexec,gid=5,mode=0620 devpts /dev/pts',
    '$bb mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm',
    '$bb mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp',
    '$bb mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run',
    '$bb mkdir -p /run/mkimage',
    'exec 0</dev/console 1>/dev/console 2>/dev/console',
  ];
}

function loadModules(modules: string[]): string[] {
  return [
    "# 2. Drivers, in dependency order (computed at build time from each module's .modinfo).",
    ...modules.map((m) => `$bb insmod /${m} 2>/dev/null || [ -d /sys/module/$($bb basename ${shQuote(m)} .ko | $bb tr - _) ] || log "cannot load ${m}"`),
  ];
}

/** GPT (UEFI §5.3): entry array at LBA 2 of 512-byte sectors, 128-byte entries, unique GUID at +16. */
const GPT_ENTRIES_OFFSET = 2 * 512;
const GPT_ENTRY_SIZE = 128;
const GPT_ENTRY_UNIQUE_GUID = 16;

function findRoot(root: NonNullable<InitOptions['root']>): string[] {
  return [
    "# 3. The root partition, by PARTUUID. Mainline kernels do not put it in a partition's uevent, so",
    "#    read each partition's GPT entry (its number from sysfs) and compare the on-disk GUID bytes.",
    `want=${shQuote(root.partuuidBytesHex)}`,
    'find_root() {',
    '  for p in /sys/class/block/*; do',
    '    [ -r "$p/partition" ] || continue',
    '    n=$($bb cat "$p/partition"); disk=$($bb basename "$($bb dirname "$($bb readlink -f "$p")")")',
    `    got=$($bb dd if="/dev/$disk" bs=1 skip=$((${GPT_ENTRIES_OFFSET} + (n - 1) * ${GPT_ENTRY_SIZE} + ${GPT_ENTRY_UNIQUE_GUID})) count=16 2>/dev/null | $bb hexdump -v -e '16/1 "%02x"')`,
    '    [ "$got" = "$want" ] && { echo "/dev/${p##*/}"; return 0; }',
    '  done',
    '  return 1',
    '}',
    '# NVMe and virtio disks appear asynchronously: poll.',
    'n=0; until rootdev=$(find_root); do',
    `  n=$((n+1)); [ $n -gt ${ROOT_WAIT_TENTHS} ] && { log "root partition PARTUUID=${root.partuuid.toLowerCase()} not found"; exit 1; }`,
    '  $bb usleep 100000',
    'done',
    '$bb mkdir -p /newroot',
    `$bb mount -t ${root.fstype} -o ro,noatime "$rootdev" /newroot || { log "cannot mount $rootdev"; exit 1; }`,
  ];
}

function network(): string[] {
  return [
    '# 4. Network: loopback, then DHCP on every NIC; static fallback from ip= on the kernel command line.',
    '$bb ip link set lo up',
    'ipconf=""',
    'for arg in $($bb cat /proc/cmdline); do case "$arg" in ip=*) ipconf="${arg#ip=}";; esac; done',
    'nics() { for d in /sys/class/net/*; do i=${d##*/}; [ "$i" != lo ] && echo "$i"; done; }',
    '# NICs appear asynchronously after their driver loads: wait up to 5 s for the first.',
    'n=0; while [ -z "$(nics)" ] && [ $n -lt 50 ]; do $bb usleep 100000; n=$((n+1)); done',
    'static_ip() { # ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>',
    '  local IFS=:; set -- $ipconf; [ -n "$1" ] || return 1',
    '  local dev=${6:-$(nics | $bb head -n1)}',
    '  $bb ip link set "$dev" up',
    '  $bb ip addr add "$1/$(mask_bits "${4:-255.255.255.0}")" dev "$dev" || return 1',
    '  [ -n "$3" ] && $bb ip route add default via "$3" dev "$dev"',
    '  [ -n "$5" ] && echo "$5" > /run/mkimage/hostname',
    '  for d in $8 $9; do echo "nameserver $d" >> /run/mkimage/resolv.conf; done',
    '  echo "$1" > /run/mkimage/address',
    '  log "static address $1 on $dev"',
    '}',
    'mask_bits() { local IFS=.; set -- $1; local bits=0 o; for o in "$@"; do while [ "$o" -gt 0 ]; do bits=$((bits + (o & 1))); o=$((o >> 1)); done; done; echo $bits; }',
    ': > /run/mkimage/resolv.conf',
    'autoconf=$(echo "$ipconf" | $bb cut -d: -f7)',
    'leased=0',
    'case "$autoconf" in off|none|static) ;; *)',
    `  for i in $(nics); do $bb ip link set "$i" up; $bb udhcpc -i "$i" -f -q -n -t 5 -T 1 -A 1 -s /${UDHCPC_SCRIPT_PATH} >/dev/null 2>&1 && leased=1; done;;`,
    'esac',
    '[ $leased = 1 ] || static_ip || log "no network: DHCP got no lease and ip= gives no address"',
    '',
    '# 5. Identity: a real hostname and /etc/hosts (the JVM resolves its own name), resolv.conf.',
    'mac=$($bb cat /sys/class/net/$(nics | $bb head -n1)/address 2>/dev/null | $bb tr -d : | $bb tail -c 7)',
    'host=$($bb cat /run/mkimage/hostname 2>/dev/null)',
  ];
}

/** Baked values first, then boot-time layers, weakest first: EC2 user data, fw_cfg, kernel command line. */
function environment(o: InitOptions): string[] {
  return [
    '# 6. Environment: baked defaults, then what the machine is given at boot (later layers win).',
    ...(o.user
      ? [`export HOME=${shQuote(o.user.home)} USER=${shQuote(o.user.name)} LOGNAME=${shQuote(o.user.name)}`]
      : ['export HOME=/root USER=root LOGNAME=root']),
    'export PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8',
    ...o.env.map(([k, v]) => `export ${k}=${shQuote(v)}`),
    '# Values may be secrets: they are eval-ed from memory, never echoed or left in a file.',
    `layer() { envsh=$($bb awk -v src="$1" -f /${DOTENV_AWK_PATH} "$2" 2>/dev/null); echo "$envsh" | $bb grep '^# ' ; eval "$envsh"; }`,
    'http_body() { # HTTP/1.0 response on stdin -> body on stdout; status in $http_status',
    '  $bb awk -v out="$1" \'NR==1 { print $2 > out; next } !body && /^\\r?$/ { body=1; next } body { print }\'',
    '}',
    'ec2_user_data() {',
    '  case "$($bb cat /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/board_vendor 2>/dev/null)" in *"Amazon EC2"*) ;; *) return 0;; esac',
    '  # busybox nc stops reading when its stdin ends, so the request is written by the -e program,',
    '  # which then keeps reading the response into a file. $1: printf format of the request, $2: its argument.',
    `  imds() { : > /run/mkimage/imds; $bb timeout 5 $bb nc -w 2 169.254.169.254 80 -e $bb sh -c 'printf "$0" "$1"; exec ${BB} cat > /run/mkimage/imds' "$1" "$2" 2>/dev/null; }`,
    '  imds "PUT /latest/api/token HTTP/1.0\\r\\nHost: 169.254.169.254\\r\\nX-aws-ec2-metadata-token-ttl-seconds: 60\\r\\n\\r\\n" ""',
    '  token=$(http_body /run/mkimage/status < /run/mkimage/imds)',
    '  if [ "$($bb cat /run/mkimage/status 2>/dev/null)" != 200 ] || [ -z "$token" ]; then log "EC2: the metadata service gave no IMDSv2 token; booting without user data"; $bb rm -f /run/mkimage/imds /run/mkimage/status; return 0; fi',
    '  imds "GET /latest/user-data HTTP/1.0\\r\\nHost: 169.254.169.254\\r\\nX-aws-ec2-metadata-token: %s\\r\\n\\r\\n" "$token"',
    '  http_body /run/mkimage/status < /run/mkimage/imds > /run/mkimage/user-data',
    '  case "$($bb cat /run/mkimage/status 2>/dev/null)" in',
    '    200) layer "EC2 user data" /run/mkimage/user-data; log "EC2: environment from user data";;',
    '    404) ;;',
    '    *) log "EC2: user data request failed (status $($bb cat /run/mkimage/status 2>/dev/null || echo none)); booting without it";;',
    '  esac',
    '  $bb rm -f /run/mkimage/user-data /run/mkimage/status /run/mkimage/imds',
    '}',
    'ec2_user_data',
    `fwcfg=/sys/firmware/qemu_fw_cfg/by_name/${FW_CFG_ENV}/raw`,
    '[ -r "$fwcfg" ] && layer fw_cfg "$fwcfg"',
    `envsh=$($bb awk -v src="kernel command line" -f /${CMDLINE_AWK_PATH} /proc/cmdline); echo "$envsh" | $bb grep '^# '; eval "$envsh"`,
    'unset envsh token',
  ];
}

function identity(): string[] {
  return [
    `[ -n "$host" ] || host=\${hostbase}\${mac:+-$mac}`,
    '$bb hostname "$host"; echo "$host" > /run/mkimage/hostname',
    'addr=$($bb cat /run/mkimage/address 2>/dev/null); [ -n "$addr" ] || addr=127.0.1.1',
    'printf "127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n%s\\t%s\\n" "$addr" "$host" > /run/mkimage/hosts',
  ];
}

/** The init script (`/init` of the initramfs). */
export function initScript(o: InitOptions): string {
  const prefix = o.root ? '/newroot' : '';
  const home = o.user
    ? [`$bb mount -t tmpfs -o nosuid,nodev,mode=0700,uid=${o.user.uid},gid=${o.user.gid} tmpfs ${shQuote(prefix + o.user.home)}`]
    : [];
  const finish = o.root
    ? [
        '# 8. Hand the kernel file systems to the root partition, then switch to it: switch_root empties',
        '#    the initramfs (busybox and this script included) and runs the launcher from /run.',
        ...home,
        `$bb cp /${LAUNCHER_PATH} /run/mkimage/launch`,
        'for m in dev proc sys run tmp; do $bb mount --move /$m /newroot/$m || log "cannot move /$m"; done',
        'cd /',
        `exec $bb switch_root /newroot /run/mkimage/launch ${shWords(o.command)}`,
      ]
    : [
        '# 8. Remove every tool, then become the app (the launcher unlinks itself, switches user, execs).',
        ...home,
        'cd /',
        `$bb rm -rf /${MODULES_DIR} /${UDHCPC_SCRIPT_PATH} /${DOTENV_AWK_PATH} /${CMDLINE_AWK_PATH} /init`,
        `$bb rm -f ${BB}`,
        `exec /${LAUNCHER_PATH} ${shWords(o.command)}`,
      ];
  return [
    `#!${BB} sh`,
    '# mkimage init stage (generated). Runs once as PID 1; ends by exec-ing the app.',
    `bb=${BB}`,
    `hostbase=${shQuote(o.hostnameBase)}`,
    'log() { echo "mkimage-init: $*"; }',
    'uptime_s() { $bb cut -d" " -f1 /proc/uptime; }',
    '',
    ...mounts(), '',
    ...loadModules(o.modules), '',
    ...(o.root ? [...findRoot(o.root), ''] : []),
    ...network(), '',
    ...environment(o), '',
    ...identity(),
    'log "up in $(uptime_s)s as $host ($addr)"',
    '',
    ...finish,
    '',
  ].join('\n');
}

/** The script udhcpc runs on each DHCP event (busybox's examples/udhcp/simple.script, trimmed). */
export function udhcpcScript(): string {
  return [
    `#!${BB} sh`,
    '# mkimage: applies a DHCP lease (called by udhcpc with $1 = deconfig|bound|renew|...).',
    `bb=${BB}`,
    'case "$1" in',
    '  deconfig) $bb ip addr flush dev "$interface"; $bb ip link set "$interface" up;;',
    '  bound|renew)',
    '    $bb ip addr flush dev "$interface"',
    '    $bb ip addr add "$ip/${mask:-24}" dev "$interface"',
    '    for r in $router; do $bb ip route add default via "$r" dev "$interface" && break; done',
    '    [ -s /run/mkimage/address ] || echo "$ip" > /run/mkimage/address',
    '    [ -n "$hostname" ] && [ ! -s /run/mkimage/hostname ] && echo "$hostname" > /run/mkimage/hostname',
    '    [ -n "$domain" ] && echo "search $domain" >> /run/mkimage/resolv.conf',
    '    for d in $dns; do echo "nameserver $d" >> /run/mkimage/resolv.conf; done;;',
    'esac',
    'exit 0',
    '',
  ].join('\n');
}
