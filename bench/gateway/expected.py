"""The benchmark query and the answer it must get, computed straight from the static data.

Comparing the two gateways with each other would not catch a bug they share; comparing both
with this answer does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data.json"

# Two root fields; every level selects all of its type's scalar fields, which makes
# @apollo/gateway plan 16 subgraph fetches.
QUERY = """
query Bench {
  users {
    id name username
    reviews {
      id body
      product {
        upc name price weight inStock shippingEstimate
        reviews {
          id body
          author {
            id name username
            reviews { id body product { upc name price weight inStock shippingEstimate } }
          }
        }
      }
    }
  }
  topProducts {
    upc name price weight inStock shippingEstimate
    reviews {
      id body
      author {
        id name username
        reviews { id body product { upc name price weight inStock shippingEstimate } }
      }
    }
  }
}
"""

TOP_PRODUCTS_DEFAULT_FIRST = 5  # topProducts(first: Int = 5) in the products subgraph


def expected_response() -> dict[str, Any]:
    """The response both gateways must return for ``QUERY``."""
    data = json.loads(DATA.read_text())
    users = {user["id"]: user for user in data["users"]}
    products = {product["upc"]: product for product in data["products"]}
    reviews: list[dict[str, str]] = data["reviews"]

    def product(upc: str) -> dict[str, Any]:
        p = products[upc]
        # the inventory subgraph's rule for shippingEstimate
        estimate = 0 if p["price"] > 1000 else p["weight"] // 2
        return {
            "upc": p["upc"],
            "name": p["name"],
            "price": p["price"],
            "weight": p["weight"],
            "inStock": data["inStock"][upc],
            "shippingEstimate": estimate,
        }

    def user(user_id: str) -> dict[str, Any]:
        u = users[user_id]
        return {"id": u["id"], "name": u["name"], "username": u["username"]}

    def review(r: dict[str, str]) -> dict[str, Any]:
        return {"id": r["id"], "body": r["body"]}

    def reviews_by(user_id: str) -> list[dict[str, Any]]:
        return [
            {**review(r), "product": product(r["product"])}
            for r in reviews
            if r["authorID"] == user_id
        ]

    def reviews_of(upc: str) -> list[dict[str, Any]]:
        return [
            {**review(r), "author": {**user(r["authorID"]), "reviews": reviews_by(r["authorID"])}}
            for r in reviews
            if r["product"] == upc
        ]

    return {
        "data": {
            "users": [
                {
                    **user(user_id),
                    "reviews": [
                        {
                            **review(r),
                            "product": {
                                **product(r["product"]),
                                "reviews": reviews_of(r["product"]),
                            },
                        }
                        for r in reviews
                        if r["authorID"] == user_id
                    ],
                }
                for user_id in users
            ],
            "topProducts": [
                {**product(upc), "reviews": reviews_of(upc)}
                for upc in list(products)[:TOP_PRODUCTS_DEFAULT_FIRST]
            ],
        }
    }
