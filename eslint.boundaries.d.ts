/** Types of eslint.boundaries.js for the TypeScript that reads it (test/lint-boundaries.test.ts). */
export declare const CAPABILITIES: readonly string[];
export declare const TABLE_OWNERS: readonly { table: string; sql: string; owner: string }[];
export declare function boundaryConfigs(options: { importX: unknown; createNodeResolver: unknown; root: string }): unknown[];
