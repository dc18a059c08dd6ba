// Preload (node --require) for the "TCP_NODELAY" Node-RED variant of bench/mqtt_e2e:
// turns Nagle's algorithm off on every TCP socket the process opens (MQTT.js connects with
// net.connect and leaves it on). Node applies a setNoDelay made before the connection
// exists once the socket connects; the 'connect' listener makes sure of it.
'use strict';
const net = require('net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  this.setNoDelay(true);
  this.once('connect', () => this.setNoDelay(true));
  return connect.apply(this, args);
};
