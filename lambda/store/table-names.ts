/**
 * Moved to lambda/tables/table-names.ts, so the stacks can name the tables without the store.
 * Kept only so code written against the old path still compiles; import lambda/tables instead.
 */
export * from '../tables/table-names';
