/** Configuration: schema (zod), loading (file + FORGE_* env + flags) and validation. */
export * from './schema.js';
export * from './validate.js';
export * from './load.js';
