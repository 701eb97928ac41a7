// Serves the four subgraphs on the ports given as JSON in argv[2]. Answers are
// cached by request body (static data: same body, same answer), so a subgraph
// costs microseconds and the gateways are what the benchmark measures.
// GET /count gives the requests served; POST /reset zeroes it and empties the cache,
// so that the next answers are computed by graphql-js again.
import http from "node:http";
import { execute, parse } from "graphql";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { subgraphs } from "./subgraph-defs.mjs";

const ports = JSON.parse(process.argv[2]);
let listening = 0;

for (const [name, def] of Object.entries(subgraphs)) {
  const schema = buildSubgraphSchema([{ typeDefs: def.typeDefs, resolvers: def.resolvers }]);
  const cache = new Map();
  let count = 0;
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url === "/count") {
      res.end(JSON.stringify({ count }));
      return;
    }
    if (req.method === "POST" && req.url === "/reset") {
      count = 0;
      cache.clear();
      res.end("{}");
      return;
    }
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      count += 1;
      const body = Buffer.concat(chunks).toString();
      let answer = cache.get(body);
      if (answer === undefined) {
        const { query, variables, operationName } = JSON.parse(body);
        const result = await execute({
          schema,
          document: parse(query),
          variableValues: variables,
          operationName,
        });
        answer = JSON.stringify(result);
        cache.set(body, answer);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(ports[name], "127.0.0.1", () => {
    listening += 1;
    if (listening === Object.keys(subgraphs).length) console.log("ready");
  });
}
