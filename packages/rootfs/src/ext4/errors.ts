// Errors the ext4 writer reports: one line naming the entry and what to do, a stable `code`, a `data` payload.

export type Ext4ErrorCode =
  | 'E_EXT4_NO_SPACE'
  | 'E_NAME_TOO_LONG'
  | 'E_EXT4_BAD_OPTION'
  | 'E_EXT4_UNSUPPORTED'
  | 'E_EXT4_SOURCE'
  | 'E_INTERNAL';

export class Ext4Error extends Error {
  constructor(readonly code: Ext4ErrorCode, message: string, readonly data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'Ext4Error';
  }
  toJSON(): { code: string; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** An invariant of the writer itself broke: not the user's fault. */
export function bug(message: string): Ext4Error {
  return new Ext4Error('E_INTERNAL', `BUG: ${message} (please report this with the input tree)`);
}
