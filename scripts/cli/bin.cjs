#!/usr/bin/env node
// `order-webhooks` command (package.json "bin"): registers tsx so the TypeScript CLI runs as is.
require('tsx/cjs');
require('./main.ts');
