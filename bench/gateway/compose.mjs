// Composes the four subgraphs with Apollo's own composition; prints the supergraph.
import { composeServices } from "@apollo/composition";
import { subgraphs } from "./subgraph-defs.mjs";

const ports = JSON.parse(process.argv[2]);
const result = composeServices(
  Object.entries(subgraphs).map(([name, def]) => ({
    name,
    url: `http://127.0.0.1:${ports[name]}/graphql`,
    typeDefs: def.typeDefs,
  })),
);
if (result.errors) {
  console.error(result.errors.map((e) => e.message).join("\n"));
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);
