"""Process plumbing: configuration, database and Redis connections, the Flask app factory."""
