#!/usr/bin/env node
// Entry point of the `eni-cni` CNI plugin executable (package.json "bin"). The
// runtime execs it for every CNI call, so it imports only src/cni/ and node
// built-ins: never cli.ts or anything that loads the operator's dependencies.
import { main } from '../cni/main.js';

await main();
