// The gateway's import rules, checked in CI (npm run lint:deps): no import circles, and no import
// from a lower layer to a higher one. The layers, low to high (CONTRIBUTING.md):
//   core      src/<concern>/ (mor, cache, paging, auth, legacy, net, http, ...): no Fastify plugins
//   lanes     src/lanes/: answers before the framework, built from core functions
//   plugins   src/plugins/: one Fastify plugin per service, wiring core (and lanes) into the app
//   routes    src/routes/: the HTTP operations
//   app       src/app.ts, then src/server.ts and src/demo/ (the processes)
/** @type {import('dependency-cruiser').IConfiguration} */
const CORE = '^src/(?!lanes/|plugins/|routes/|demo/|app\\.ts$|server\\.ts$)'
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: the modules cannot be read (or loaded) one after the other.', from: { path: '^src/' }, to: { circular: true } },
    { name: 'core-stays-core', severity: 'error', comment: 'A core module imports a lane, plugin, route or process: move the shared piece down instead.', from: { path: CORE }, to: { path: '^src/(lanes|plugins|routes|demo)/|^src/(app|server)\\.ts$' } },
    { name: 'lanes-below-plugins', severity: 'error', comment: 'A lane imports a plugin, route or process.', from: { path: '^src/lanes/' }, to: { path: '^src/(plugins|routes|demo)/|^src/(app|server)\\.ts$' } },
    { name: 'plugins-below-routes', severity: 'error', comment: 'A plugin imports a route or process.', from: { path: '^src/plugins/' }, to: { path: '^src/(routes|demo)/|^src/(app|server)\\.ts$' } },
    { name: 'routes-below-app', severity: 'error', comment: 'A route imports a lane or process.', from: { path: '^src/routes/' }, to: { path: '^src/(lanes|demo)/|^src/(app|server)\\.ts$' } },
    { name: 'nothing-imports-the-process', severity: 'error', comment: 'server.ts is the process: the demo and others build the app with app.ts.', from: { path: '^src/', pathNot: '^src/server\\.ts$' }, to: { path: '^src/server\\.ts$' } }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' }
  }
}
