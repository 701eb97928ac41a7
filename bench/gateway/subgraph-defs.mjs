// The four classic federation subgraphs with static data: accounts, products,
// inventory, reviews. Shared by the subgraph servers and the composer.
import { parse } from "graphql";

const users = [
  { id: "1", name: "Ada Lovelace", username: "@ada" },
  { id: "2", name: "Alan Turing", username: "@complete" },
  { id: "3", name: "Grace Hopper", username: "@grace" },
];
const products = [
  { upc: "1", name: "Table", price: 899, weight: 100 },
  { upc: "2", name: "Couch", price: 1299, weight: 1000 },
  { upc: "3", name: "Chair", price: 54, weight: 50 },
  { upc: "4", name: "Lamp", price: 35, weight: 5 },
];
const inventory = { 1: true, 2: false, 3: true, 4: true };
const reviews = [
  { id: "1", authorID: "1", product: "1", body: "Love it!" },
  { id: "2", authorID: "1", product: "2", body: "Too expensive." },
  { id: "3", authorID: "2", product: "3", body: "Could be better." },
  { id: "4", authorID: "2", product: "1", body: "Prefer something else." },
  { id: "5", authorID: "3", product: "4", body: "Bright." },
  { id: "6", authorID: "3", product: "2", body: "Comfortable." },
];

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
