#!/usr/bin/env node
// The `keyroll` command. Runs the TypeScript sources directly through tsx, so a fresh clone needs
// no build step before `npx keyroll`.
require('tsx/cjs');
require('./main.ts');
