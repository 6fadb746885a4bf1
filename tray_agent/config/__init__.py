"""Configuration: the user's settings, IT policy sources, how they layer, the endpoints, the folders."""
