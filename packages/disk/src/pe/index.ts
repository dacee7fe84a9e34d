export { planUki, emitUki, peSizeOfImage, UKI_SECTION_ORDER } from './uki.js';
export type { UkiOptions, UkiPlan, UkiSectionInput, PlannedSection } from './uki.js';
export { readPe } from './reader.js';
export type { PeImage, Section } from './reader.js';
export { PeChecksum, peChecksum } from './checksum.js';
export { ukiSections } from './sections.js';
export type { UkiParts } from './sections.js';
