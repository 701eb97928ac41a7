// The four classic federation subgraphs with static data: accounts, products,
// inventory, reviews. Shared by the subgraph servers and the composer.
import { readFileSync } from "node:fs";
import { parse } from "graphql";

// The static data lives in data.json, which bench/gateway/expected.py reads too.
const data = JSON.parse(readFileSync(new URL("./data.json", import.meta.url), "utf8"));
const { users, products, reviews } = data;
const inventory = data.inStock;

const link = (imports) =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: [${imports
    .map((i) => `"${i}"`)
    .join(", ")}])`;

export const subgraphs = {
  accounts: {
    typeDefs: parse(`${link(["@key", "@shareable"])}
      type Query { me: User users: [User!]! }
      type User @key(fields: "id") { id: ID! name: String username: String @shareable }`),
    resolvers: {
      Query: { me: () => users[0], users: () => users },
      User: { __resolveReference: (ref) => users.find((u) => u.id === ref.id) },
    },
  },
  products: {
    typeDefs: parse(`${link(["@key"])}
      type Query { topProducts(first: Int = 5): [Product!]! }
      type Product @key(fields: "upc") { upc: String! name: String price: Int weight: Int }`),
    resolvers: {
      Query: { topProducts: (_, args) => products.slice(0, args.first) },
      Product: { __resolveReference: (ref) => products.find((p) => p.upc === ref.upc) },
    },
  },
  inventory: {
    typeDefs: parse(`${link(["@key", "@external", "@requires"])}
      type Product @key(fields: "upc") {
        upc: String!
        weight: Int @external
        price: Int @external
        inStock: Boolean
        shippingEstimate: Int @requires(fields: "price weight")
      }`),
    resolvers: {
      Product: {
        __resolveReference: (ref) => ({ ...ref, inStock: inventory[ref.upc] }),
        shippingEstimate: (p) => (p.price > 1000 ? 0 : Math.floor(p.weight / 2)),
      },
    },
  },
  reviews: {
    typeDefs: parse(`${link(["@key", "@external", "@provides"])}
      type Review @key(fields: "id") {
        id: ID!
        body: String
        author: User @provides(fields: "username")
        product: Product
      }
      type User @key(fields: "id") { id: ID! username: String @external reviews: [Review] }
      type Product @key(fields: "upc") { upc: String! reviews: [Review] }`),
    resolvers: {
      Review: {
        __resolveReference: (ref) => reviews.find((r) => r.id === ref.id),
        author: (r) => {
          const user = users.find((u) => u.id === r.authorID);
          return { __typename: "User", id: r.authorID, username: user && user.username };
        },
        product: (r) => ({ __typename: "Product", upc: r.product }),
      },
      User: {
        __resolveReference: (ref) => ({ id: ref.id }),
        reviews: (u) => reviews.filter((r) => r.authorID === u.id),
      },
      Product: {
        __resolveReference: (ref) => ({ upc: ref.upc }),
        reviews: (p) => reviews.filter((r) => r.product === p.upc),
      },
    },
  },
};
