"""The serving process: FastAPI + Strawberry GraphQL, `POST /events`, health, metrics and H5 pages."""
