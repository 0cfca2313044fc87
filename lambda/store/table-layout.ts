/**
 * Moved to lambda/tables/table-layout.ts, so the stacks can name the table's items without the store.
 * Kept only so code written against the old path still compiles; import lambda/tables instead.
 */
export * from '../tables/table-layout';
