"""The GraphQL API, one module per domain; `api.schema` assembles them."""
