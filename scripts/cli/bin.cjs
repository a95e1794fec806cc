#!/usr/bin/env node
// `order-webhooks` command (package.json "bin"): the CLI from its cached bundle (see run.cjs), or through
// tsx with the repo's tsconfig (the #shared/* alias) when it cannot be built.
require('./run.cjs').run();
