// Errors about kernel packages and modules; one stable code each.

export class UnknownModuleError extends Error {
  static readonly code = 'E_UNKNOWN_MODULE';
  readonly code = UnknownModuleError.code;
  constructor(readonly data: { module: string; requiredBy?: string; modulesRoot: string }) {
    super(
      `kernel module ${data.module}${data.requiredBy ? ` (needed by ${data.requiredBy})` : ''} is neither in ${data.modulesRoot} nor built in; ` +
        'check the name (see modules.builtin and the kernel/ tree) or use a kernel that has it',
    );
    this.name = 'UnknownModuleError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export class ModinfoError extends Error {
  static readonly code = 'E_MODINFO';
  readonly code = ModinfoError.code;
  constructor(readonly data: { file: string; reason: string }) {
    super(`${data.file}: cannot read module info: ${data.reason}`);
    this.name = 'ModinfoError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export class ModuleCycleError extends Error {
  static readonly code = 'E_MODULE_CYCLE';
  readonly code = ModuleCycleError.code;
  constructor(readonly data: { cycle: string[] }) {
    super(`kernel modules depend on each other in a loop: ${data.cycle.join(' -> ')}; the module tree is inconsistent`);
    this.name = 'ModuleCycleError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export class KernelNotFoundError extends Error {
  static readonly code = 'E_KERNEL_NOT_FOUND';
  readonly code = KernelNotFoundError.code;
  constructor(readonly data: { root: string; reason: string }) {
    super(`${data.root}: ${data.reason}; extract a linux-image-* package there first`);
    this.name = 'KernelNotFoundError';
  }
  toJSON(): object {
    return { code: this.code, message: this.message, data: this.data };
  }
}
