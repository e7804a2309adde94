"""HTTP controllers: each handler makes one service call and returns its view."""
