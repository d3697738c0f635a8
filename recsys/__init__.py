"""The recommender: candidates from Qdrant, ranked with live features from Redis, explained."""
