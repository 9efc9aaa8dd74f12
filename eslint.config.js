// The lint tools live in the dev-tools package (test/package.json, `npm run setup:test`), not in the root install:
// the configuration sits beside them so its imports resolve from test/node_modules. It is test/lint.config.js, not
// test/eslint.config.js: ESLint would take that name as test/'s own configuration, with test/ as its base path.
export { default } from './test/lint.config.js';
