// A real OTLP/HTTP receiver for meshloop's integration tests: @elastic/mockotlpserver started through its library
// API on 127.0.0.1 and a port the test chose. Every request it decodes (http/protobuf or http/json) is appended to
// the output file as one JSON line: {"contentType": ..., "trace": <normalized ExportTraceServiceRequest>}.
// Prints "listening <url>" once ready; SIGTERM/SIGINT close the server and exit 0.
//
// Usage: node otlp_peer.js PORT OUTPUT_FILE
'use strict';

const fs = require('fs');
const {MockOtlpServer, normalizeTrace} = require('@elastic/mockotlpserver');

const port = Number(process.argv[2]);
const outPath = process.argv[3];
if (!Number.isInteger(port) || port <= 0 || !outPath) {
    console.error('usage: node otlp_peer.js PORT OUTPUT_FILE');
    process.exit(2);
}

const contentTypes = [];
const server = new MockOtlpServer({
    logLevel: 'warn',
    services: ['http'],
    httpHostname: '127.0.0.1',
    httpPort: port,
    onRequest: (req) => {
        if (req.path && req.path.startsWith('/v1/traces')) {
            contentTypes.push(req.headers['content-type']);
        }
    },
    onTrace: (trace) => {
        const line = JSON.stringify({contentType: contentTypes.shift() || null, trace: normalizeTrace(trace)});
        fs.appendFileSync(outPath, line + '\n');
    },
});

server.start().then(
    () => {
        console.log(`listening ${server.httpUrl}`);
    },
    (err) => {
        console.error(`otlp_peer: cannot start: ${err.message}`);
        process.exit(1);
    }
);

const stop = () => {
    server.close().then(() => process.exit(0), () => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
