export * from './condition.ts';
export * from './hashing.ts';
export { compileSafeRegex, MAX_REGEX_LENGTH } from './safe-regex.ts';
