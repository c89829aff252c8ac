// The Node.js reference for `cargo xtask bench` (xtask/src/bench/): what a Node 20 Lambda
// function with the AWS SDK for JavaScript v3 spends on a warm read, measured under the same
// Runtime API emulator, against the same moto, in the same run as the Rust functions.
//
// It does less than `task-get` on purpose (no token check, no member check, the item
// returned as DynamoDB sent it): one strongly consistent GetItem of the task the event names,
// with a client built once per cold start, as the SDK's guide recommends. The loop below is
// what the managed runtime does between invocations (next → handler → response), over one
// keep-alive connection.
import http from "node:http";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({});
const table = process.env.TABLE_NAME;

/** @param {any} event */
async function handler(event) {
  const { list_id: list, task_id: task } = event.pathParameters;
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { PK: { S: `LIST#${list}` }, SK: { S: `TASK#${task}` } },
      ConsistentRead: true,
    }),
  );
  if (!Item) return { statusCode: 404, body: "" };
  return { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(Item) };
}

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API ?? "").split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/**
 * @param {string} method
 * @param {string} path
 * @param {string} [body]
 * @returns {Promise<{ headers: http.IncomingHttpHeaders, body: string }>}
 */
function runtimeApi(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const request = http.request({ host, port, method, path: `/2018-06-01/runtime/${path}`, agent, headers }, (response) => {
      const chunks = /** @type {Buffer[]} */ ([]);
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString() }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

for (;;) {
  const next = await runtimeApi("GET", "invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const result = await handler(JSON.parse(next.body));
    await runtimeApi("POST", `invocation/${id}/response`, JSON.stringify(result));
  } catch (error) {
    const failure = { errorType: "Error", errorMessage: String(error) };
    await runtimeApi("POST", `invocation/${id}/error`, JSON.stringify(failure));
  }
}
