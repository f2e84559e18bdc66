// Layer rules for host/ (`npm run check:layers`). Layers, lowest first; a module may import its own
// layer and the layers below it, never one above:
//   base < core < runtime < watch < native < io < index-db < store < history < term < remote < daemon < cli
// `native/` (host/native/**) is imported only by `io/`, which chooses a backend; the entry points
// (host/node/*.ts) sit above every layer. No cycles anywhere.
const LAYERS = ['base', 'core', 'runtime', 'watch', 'native', 'io', 'index-db', 'store', 'history', 'term', 'remote', 'daemon', 'cli'];
const dir = (layer) => (layer === 'native' ? '^host/native/' : `^host/node/${layer}/`);

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `${layer}/ imports only from ${LAYERS.slice(0, i + 1).join(', ')} (the layer order)`,
  severity: 'error',
  from: { path: dir(layer) },
  to: { path: LAYERS.slice(i + 1).map(dir) },
}));

module.exports = {
  forbidden: [
    { name: 'no-cycles', comment: 'import cycles hide the layer order', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'native-only-from-io',
      comment: 'host/native/** is reached only through io/ (the backend selector and the public watch())',
      severity: 'error',
      from: { path: '^host/', pathNot: ['^host/native/', '^host/node/io/'] },
      to: { path: '^host/native/' },
    },
    {
      name: 'daemon-not-cli',
      comment: 'the daemon never imports the CLI; shared code lives below both (term/, history/)',
      severity: 'error',
      from: { path: '^host/node/daemon/' },
      to: { path: '^host/node/cli/' },
    },
    ...upward,
    {
      name: 'not-to-unresolvable',
      comment: 'every import resolves',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-dev-deps-in-host',
      comment: 'host/ ships: it may use dependencies only, not devDependencies',
      severity: 'error',
      from: { path: '^host/' },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^host/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
