// Well-known partition type GUIDs.

/** EFI System Partition (UEFI spec §5.3.3, Table 5-7). */
export const ESP_TYPE_GUID = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B';
/** BIOS boot partition (GRUB's core.img on GPT; not needed for syslinux). */
export const BIOS_BOOT_TYPE_GUID = '21686148-6449-6E6F-744E-656564454649';
/** Root partition, x86-64 (UAPI Discoverable Partitions Specification). */
export const LINUX_ROOT_X86_64_TYPE_GUID = '4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709';
/** Generic Linux filesystem data (Discoverable Partitions Specification). */
export const LINUX_FILESYSTEM_TYPE_GUID = '0FC63DAF-8483-4772-8E79-3D69D8477DE4';
/** Unused entry (UEFI spec §5.3.3, Table 5-7). */
export const UNUSED_ENTRY_GUID = '00000000-0000-0000-0000-000000000000';

// Partition attribute bits (UEFI spec §5.3.3, Table 5-8).
/** Bit 0: required for the platform to function. */
export const GPT_ATTR_REQUIRED_PARTITION = 1n << 0n;
/** Bit 1: firmware must not produce an EFI_BLOCK_IO_PROTOCOL for it. */
export const GPT_ATTR_NO_BLOCK_IO_PROTOCOL = 1n << 1n;
/** Bit 2: Legacy BIOS Bootable (what syslinux's gptmbr.bin looks for). */
export const GPT_ATTR_LEGACY_BIOS_BOOTABLE = 1n << 2n;
/** Bit 60: read-only (Discoverable Partitions Specification, type-specific bits 48-63). */
export const GPT_ATTR_READ_ONLY = 1n << 60n;
/** Bit 63: do not automount (Discoverable Partitions Specification). */
export const GPT_ATTR_NO_AUTO = 1n << 63n;
