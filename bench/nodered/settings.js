// Node-RED settings for the instance bench/mqtt_e2e starts (see bench/README.md,
// "Live monitoring over MQTT"). The harness runs
//   node [--require bench/nodered/nodelay.js] bench/nodered/node_modules/node-red/red.js \
//        -u <temp dir> -s bench/nodered/settings.js
// with the flow copied to <temp dir>/flows.json and WG_MQTT_PORT naming the broker's
// port (the flow's broker node reads it as ${WG_MQTT_PORT}). No editor and no HTTP
// server: the flow reports its processed-reading count over MQTT.
module.exports = {
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: false,
  uiHost: '127.0.0.1',
  uiPort: 0,
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  logging: { console: { level: 'warn', metrics: false, audit: false } },
  diagnostics: { enabled: false, ui: false },
  runtimeState: { enabled: false, ui: false },
  telemetry: { enabled: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  functionExternalModules: false,
  functionTimeout: 0,
  exportGlobalContextKeys: false,
  mqttReconnectTime: 1000,
};
