// Kernel package helpers: .modinfo parsing, module dependency closure, locating vmlinuz.
export { readModinfo, moduleElfBytes, normalizeModuleName, type ModInfo } from './modinfo.js';
export { moduleClosure, ModuleSet, indexModules, builtinModules, type ModuleInfo } from './closure.js';
export { kernelFiles, type KernelFiles } from './files.js';
export { elfSections, type ElfSection } from './elf.js';
export { UnknownModuleError, ModinfoError, ModuleCycleError, KernelNotFoundError } from './errors.js';
