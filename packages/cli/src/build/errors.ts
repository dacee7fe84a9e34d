// Errors a build reports to its caller. Each has a stable `code` and a one-line message naming the
// thing that is wrong and what to do about it.
import { CodeError } from '../errors.js';
export class BuildError extends CodeError {}
