// The init stage: a busybox ash script that runs as PID 1, prepares the machine, removes every tool
// it used and then `exec`s the launcher, which becomes the app. Generated per image so that nothing
// is parsed at boot that could have been decided at build time.
import { shQuote, shWords } from './shell.js';

/** Where the init stage keeps its tools inside the image; all of it is gone once the app runs. */
export const INIT_DIR = '.mkimage';
export const BUSYBOX_PATH = `${INIT_DIR}/busybox`;
export const LAUNCHER_PATH = `${INIT_DIR}/launch`;
export const UDHCPC_SCRIPT_PATH = `${INIT_DIR}/udhcpc`;
export const MODULES_DIR = `${INIT_DIR}/modules`;

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
}

/** /init for an initramfs image. */
export function initScript(o: InitOptions): string {
  const bb = `/${BUSYBOX_PATH}`;
  const lines: string[] = [
    `#!${bb} sh`,
    '# mkimage init stage (generated). Runs once as PID 1; ends by exec-ing the app.',
    `bb=${bb}`,
    'log() { echo "mkimage-init: $*"; }',
    'uptime_s() { $bb cut -d" " -f1 /proc/uptime; }',
    '',
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
    'exec 0</dev/console 1>/dev/console 2>/dev/console',
    '',
    '# 2. Drivers, in dependency order (computed at build time from each module\'s .modinfo).',
    ...o.modules.map((m) => `$bb insmod /${m} 2>/dev/null || [ -d /sys/module/$($bb basename ${shQuote(m)} .ko | $bb tr - _) ] || log "cannot load ${m}"`),
    '',
    '# 3. Network: loopback, then DHCP on every NIC; static fallback from ip= on the kernel command line.',
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
    '$bb mkdir -p /run/mkimage',
    ': > /run/mkimage/resolv.conf',
    'autoconf=$(echo "$ipconf" | $bb cut -d: -f7)',
    'leased=0',
    'case "$autoconf" in off|none|static) ;; *)',
    `  for i in $(nics); do $bb ip link set "$i" up; $bb udhcpc -i "$i" -f -q -n -t 5 -T 1 -A 1 -s /${UDHCPC_SCRIPT_PATH} >/dev/null 2>&1 && leased=1; done;;`,
    'esac',
    '[ $leased = 1 ] || static_ip || log "no network: DHCP got no lease and ip= gives no address"',
    '',
    '# 4. Identity: a real hostname and /etc/hosts (the JVM resolves its own name), resolv.conf.',
    'mac=$($bb cat /sys/class/net/$(nics | $bb head -n1)/address 2>/dev/null | $bb tr -d : | $bb tail -c 7)',
    `host=$($bb cat /run/mkimage/hostname 2>/dev/null); [ -n "$host" ] || host=${shQuote(o.hostnameBase)}\${mac:+-$mac}`,
    '$bb hostname "$host"; echo "$host" > /run/mkimage/hostname',
    'addr=$($bb cat /run/mkimage/address 2>/dev/null); [ -n "$addr" ] || addr=127.0.1.1',
    'printf "127.0.0.1\\tlocalhost\\n::1\\tlocalhost ip6-localhost ip6-loopback\\n%s\\t%s\\n" "$addr" "$host" > /run/mkimage/hosts',
    '',
    '# 5. The app\'s user and environment.',
    ...(o.user
      ? [`$bb mount -t tmpfs -o nosuid,nodev,mode=0700,uid=${o.user.uid},gid=${o.user.gid} tmpfs ${shQuote(o.user.home)}`,
        `export HOME=${shQuote(o.user.home)} USER=${shQuote(o.user.name)} LOGNAME=${shQuote(o.user.name)}`]
      : ['export HOME=/root USER=root LOGNAME=root']),
    'export PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8',
    ...o.env.map(([k, v]) => `export ${k}=${shQuote(v)}`),
    'log "up in $(uptime_s)s as $host ($addr)"',
    '',
    '# 6. Remove every tool, then become the app (the launcher unlinks itself, switches user, execs).',
    `cd ${shQuote(o.workdir)} || cd /`,
    `$bb rm -rf /${MODULES_DIR} /${UDHCPC_SCRIPT_PATH} /init`,
    `$bb rm -f ${bb}`,
    `exec /${LAUNCHER_PATH} ${shWords(o.command)}`,
    '',
  ];
  return lines.join('\n');
}

/** The script udhcpc runs on each DHCP event (busybox's examples/udhcp/simple.script, trimmed). */
export function udhcpcScript(): string {
  const bb = `/${BUSYBOX_PATH}`;
  return [
    `#!${bb} sh`,
    '# mkimage: applies a DHCP lease (called by udhcpc with $1 = deconfig|bound|renew|...).',
    `bb=${bb}`,
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
