// One autocannon run against a GraphQL endpoint; prints the figures as JSON.
import autocannon from "autocannon";

const [url, connections, duration, bodyPath, extraHeaders] = process.argv.slice(2);
const { readFileSync } = await import("node:fs");
const result = await autocannon({
  url,
  method: "POST",
  connections: Number(connections),
  duration: Number(duration),
  headers: { "content-type": "application/json", ...JSON.parse(extraHeaders || "{}") },
  body: readFileSync(bodyPath, "utf8"),
});
console.log(
  JSON.stringify({
    rps: result.requests.average,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
