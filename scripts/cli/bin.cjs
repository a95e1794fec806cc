#!/usr/bin/env node
// `order-webhooks` command (package.json "bin"): registers tsx so the TypeScript CLI runs as is,
// with the repo's tsconfig (the #shared/* alias) wherever it is started from.
const path = require('node:path');
process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', '..', 'tsconfig.json');
require('tsx/cjs');
require('./main.ts');
