// Drives the OIP v2 gRPC service with @grpc/grpc-js and @grpc/proto-loader, which load the .proto
// at run time: no code generated here, no code shared with the server.
// Usage: node oip-client.js PROTO HOST:PORT CALLS.json
//   CALLS.json: {"concurrent": false, "calls": [{"method": "ModelInfer", "request": {...}}, ...]}
//   a call may also have "delayMs" (start that much later, with "concurrent") and "stall": true
//   (send the message as a client stream that never ends: a client stuck mid-request).
//   bytes fields are base64 strings and int64 fields decimal strings, in and out.
// Prints a JSON array: per call {"code": 0, "response": {...}} or {"code": N, "details": "..."}.
'use strict';
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [proto, address, callsFile] = process.argv.slice(2);
const definition = protoLoader.loadSync(proto, {
  keepCase: true, longs: String, enums: String, bytes: String, defaults: true, oneofs: true,
});
const Service = grpc.loadPackageDefinition(definition).inference.GRPCInferenceService;
const client = new Service(address, grpc.credentials.createInsecure(), {
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': 64 << 20,
});
const plan = JSON.parse(fs.readFileSync(callsFile, 'utf8'));

function call({ method, request, stall, delayMs }) {
  const lower = method.charAt(0).toLowerCase() + method.slice(1);
  return new Promise((resolve) => setTimeout(resolve, delayMs || 0)).then(() => new Promise((resolve) => {
    const deadline = new Date(Date.now() + 60000);
    const done = (error, response) =>
      resolve(error ? { code: error.code, details: error.details } : { code: 0, response });
    if (stall) {
      const path = Service.service[method];
      const stream = client.makeClientStreamRequest(path.path, path.requestSerialize,
        path.responseDeserialize, new grpc.Metadata(), { deadline }, done);
      stream.write(request);
    } else {
      client[lower](request, { deadline }, done);
    }
  }));
}

(async () => {
  let results;
  if (plan.concurrent) {
    results = await Promise.all(plan.calls.map(call));
  } else {
    results = [];
    for (const c of plan.calls) {
      results.push(await call(c));
    }
  }
  process.stdout.write(JSON.stringify(results));
  client.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
